"""tools/mltrain on kept traces (no guest): a trace kept gzip-compressed trains the same model, byte
for byte, as the plain one; a model names its traces by result and file, never by where they lay;
and the models kept under paper/models come back byte for byte from the traces under
paper/results (`make check-models`). Training the small trace takes about a second, each kept
model a few."""
import gzip
import json
import shutil
import subprocess
import sys

import pytest

from conftest_paths import REPO

SMALL_TRACE = REPO / "tests/data/mltrace-small.csv"
TRAINER = [str(REPO / "kernel/tools-exec"), str(REPO / "build/tools/mltrain")]
TRACE = "runs/001-mltrace/raw/mlyield-trace.csv"


@pytest.fixture(scope="module")
def trainer():
    proc = subprocess.run(["make", "--no-print-directory", "build/tools/mltrain"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return TRAINER


def train(trainer, out, *traces, seed=3):
    return subprocess.run(trainer + ["-o", str(out), "--seed", str(seed), "--repo", str(REPO)]
                          + [str(t) for t in traces], capture_output=True, text=True, timeout=300)


def result_with_trace(root, name, gz):
    """A result directory holding the small trace as one run's, plain or as `make paper-add` keeps it."""
    raw = root / name / "runs/001-mltrace/raw"
    raw.mkdir(parents=True)
    data = SMALL_TRACE.read_bytes()
    if gz:
        (raw / "mlyield-trace.csv.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    else:
        (raw / "mlyield-trace.csv").write_bytes(data)
    return root / name


def test_a_gzipped_trace_trains_the_same_model_as_the_plain_one(trainer, tmp_path):
    plain = result_with_trace(tmp_path / "a", "20260101-000000-nginx-mltrace", gz=False)
    packed = result_with_trace(tmp_path / "b", "20260101-000000-nginx-mltrace", gz=True)
    runs = {}
    for name, source in [("plain", plain), ("gz", packed), ("gz-file", packed / (TRACE + ".gz"))]:
        proc = train(trainer, tmp_path / f"{name}.json", source)
        assert proc.returncode == 0, proc.stderr
        runs[name] = (tmp_path / f"{name}.json").read_bytes()
    # the same model byte for byte, from a result directory or the trace file itself
    assert runs["plain"] == runs["gz"] == runs["gz-file"]
    traces = json.loads(runs["gz"])["provenance"]["traces"]
    assert [(t["result"], t["file"]) for t in traces] == [("20260101-000000-nginx-mltrace", TRACE)]
    # the sha256 of the content, as the kept result's ORIGINAL-SHA256SUMS lists the original file
    assert traces[0]["sha256"] == subprocess.run(["sha256sum", str(SMALL_TRACE)], capture_output=True,
                                                 text=True).stdout.split()[0]
    assert str(tmp_path) not in runs["gz"].decode()
    # the seed still matters: the equality above is not that of a constant output
    assert train(trainer, tmp_path / "other.json", packed, seed=4).returncode == 0
    assert (tmp_path / "other.json").read_bytes() != runs["gz"]


def test_trace_input_errors_name_the_file(trainer, tmp_path):
    both = result_with_trace(tmp_path, "20260101-000000-nginx-mltrace", gz=True)
    shutil.copy(SMALL_TRACE, both / TRACE)
    proc = train(trainer, tmp_path / "m.json", both)
    assert proc.returncode == 2 and f"holds both {TRACE} and {TRACE}.gz" in proc.stderr
    bad = tmp_path / "broken.csv.gz"
    bad.write_bytes(gzip.compress(SMALL_TRACE.read_bytes(), mtime=0)[:5000])  # cut short
    proc = train(trainer, tmp_path / "m.json", bad)
    assert proc.returncode == 2 and "broken.csv.gz" in proc.stderr
    assert not (tmp_path / "m.json").exists()


def check_models(*args):
    return subprocess.run([sys.executable, str(REPO / "tools/mltrain/check_models.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_the_kept_models_come_back_byte_for_byte_from_the_kept_traces(trainer):
    proc = check_models()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    kept = sorted((REPO / "paper/models").glob("*.json"))
    assert len(kept) >= 2 and proc.stdout.count("byte for byte") == len(kept)


def test_check_models_names_what_differs(trainer, tmp_path):
    model = tmp_path / "mlyield-run-split.json"
    doc = json.loads((REPO / "paper/models/mlyield-run-split.json").read_text())
    doc["training"]["metrics"]["held_out_float"]["accuracy"] = 0.99  # a number typed in
    model.write_text(json.dumps(doc, indent=1) + "\n")
    proc = check_models(model)
    assert proc.returncode == 1 and "differs in: training" in proc.stderr
    doc["provenance"]["traces"][0]["result"] = "20990101-000000-nowhere"
    model.write_text(json.dumps(doc))
    proc = check_models(model)
    assert proc.returncode == 2 and "20990101-000000-nowhere, which is not under" in proc.stderr
