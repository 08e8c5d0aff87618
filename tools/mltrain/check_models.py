#!/usr/bin/python3
"""`make check-models`: retrains every model kept under paper/models from the traces kept under
paper/results, with the parameters its own provenance records, and compares the new file with
the kept one byte for byte.

A model file written by tools/mltrain names its traces by result directory and file (never by
where they lay), the sha256 of each trace's content, every training parameter and the sha256 of
the trainer's sources; training is deterministic. So a kept model that does not come back byte
for byte was not made from those traces with this code, and this says which part differs.

    check_models.py [--models DIR] [--results DIR] [--trainer CMD...] [MODEL.json...]

The trainer command defaults to `kernel/tools-exec build/tools/mltrain` (the Makefile builds it
first). Exit 0 when every model comes back byte for byte, 1 when one does not, 2 on bad input.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class BadInput(Exception):
    pass


def trainer_args(model, results):
    """The trainer's arguments (without -o) that recreate model (a parsed model file) from the
    result directories under results, in the order its provenance lists their traces."""
    try:
        training, label = model["training"], model["label"]
        traces = model["provenance"]["traces"]
    except (KeyError, TypeError):
        raise BadInput("not a model file written by tools/mltrain (no training, label or provenance.traces)")
    dirs = []
    for t in traces:
        if "result" not in t:
            raise BadInput(f"trace {t.get('path', '?')} is named by a path, not by result and file: a model "
                           "from before stable provenance; train it again with the current trainer")
        if t["result"] is None:
            raise BadInput(f"trace {t.get('file')} lay outside a result directory: it cannot be found under {results}")
        if t["result"] not in dirs:
            dirs.append(t["result"])
    for d in dirs:
        if not (results / d).is_dir():
            raise BadInput(f"its traces come from {d}, which is not under {results}")
    args = ["--seed", str(training["seed"]), "--epochs", str(training["epochs"]), "--split", training["split"],
            "--lr", repr(training["lr"]), "--batch", str(training["batch"]), "--l2", repr(training["l2"]),
            "--horizon-us", repr(label["horizon_us"])]
    if training["split"] == "time":
        args += ["--test-fraction", repr(training["test_fraction"])]
    return args + ["--repo", str(REPO)] + [str(results / d) for d in dirs]


def differences(kept, new):
    """The top-level parts (and provenance's parts) in which two model files differ."""
    out = []
    for key in sorted(set(kept) | set(new)):
        if kept.get(key) == new.get(key):
            continue
        if key == "provenance" and isinstance(kept.get(key), dict) and isinstance(new.get(key), dict):
            out += [f"provenance.{k}" for k in sorted(set(kept[key]) | set(new[key]))
                    if kept[key].get(k) != new[key].get(k)]
        else:
            out.append(key)
    return out or ["formatting only"]


def check(path, results, trainer, tmp):
    try:
        kept_bytes = path.read_bytes()
        kept = json.loads(kept_bytes)
    except (OSError, ValueError) as e:
        raise BadInput(f"cannot read it: {e}") from None
    args = trainer_args(kept, results)
    out = Path(tmp) / path.name
    proc = subprocess.run(trainer + ["-o", str(out)] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BadInput(f"the trainer failed (exit {proc.returncode}): {proc.stderr.strip()}")
    new_bytes = out.read_bytes()
    if new_bytes == kept_bytes:
        return None
    return ", ".join(differences(kept, json.loads(new_bytes)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="*", help="model files (default: every *.json under --models)")
    p.add_argument("--models", dest="models_dir", default=str(REPO / "paper" / "models"))
    p.add_argument("--results", default=str(REPO / "paper" / "results"))
    p.add_argument("--trainer", nargs="+", default=[str(REPO / "kernel/tools-exec"), str(REPO / "build/tools/mltrain")],
                   help="the trainer's command line before its arguments")
    a = p.parse_args(argv)
    models = [Path(m) for m in a.models] or sorted(Path(a.models_dir).glob("*.json"))
    if not models:
        print(f"check-models: no model file under {a.models_dir}", file=sys.stderr)
        return 2
    results, failed, bad = Path(a.results), 0, 0
    with tempfile.TemporaryDirectory(prefix="scxlab-check-models-") as tmp:
        for m in models:
            try:
                diff = check(m, results, a.trainer, tmp)
            except BadInput as e:
                print(f"check-models: {m}: {e}", file=sys.stderr)
                bad += 1
                continue
            if diff is None:
                print(f"check-models: {m}: retrained from {results} byte for byte")
            else:
                print(f"check-models: {m}: retrained from {results}, but it differs in: {diff}", file=sys.stderr)
                failed += 1
    return 2 if bad else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
