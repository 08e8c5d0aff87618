"""The one reader of a sweep's record (results/sweeps/<NAME>-<hash>/sweep.json, written by
runners/host/sweep.c, whose header comment documents the format).

A sweep's points are read from its record, never by listing its folder: the folder also holds
the INVALID results of earlier attempts (an interrupted or failed point is retried, and every
attempt is kept), and a point must count once. A point contributes the result of its latest
attempt, and only when that attempt is valid (in sweep.json and in the result's own manifest);
every other point is reported as missing, with the reason. Superseded attempts are never read.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import AnalysisError
from .loader import load_result

# What `[sweep] analysis =` may name (the runner checks the same names: the [sweep] analysis
# choice in runners/common/schema.c).
SWEEP_ANALYSES = ("weights", "overhead", "suite", "twins")


@dataclass
class Sweep:
    path: Path
    name: str
    analysis: object  # one of SWEEP_ANALYSES, or None
    results: list = field(default_factory=list)  # (label, Result) of every valid point, in matrix order
    missing: list = field(default_factory=list)  # {"point", "reason", "result"} of every point not valid


def _result_path(sweep_dir, result):
    """A point's result folder: its name under the sweep's folder (older records hold a path
    to the same folder; its last component is the name)."""
    return sweep_dir / Path(result).name


def _why_not(entry):
    attempts = entry.get("attempts") or [entry]
    last = attempts[-1]
    what = "interrupted" if last.get("interrupted") else "not valid"
    res = last.get("result")
    rc = last.get("exit_code")
    bits = [what, f"result {Path(res).name}" if res else "no result"]
    if rc is not None:
        bits.append(f"runner exit code {rc}")
    if len(attempts) > 1:
        bits.append(f"{len(attempts)} attempts")
    return ", ".join(bits) + "; rerun the sweep to try it again"


def read_sweep(sweep_dir):
    """The sweep's record and the valid result of each of its points (see the module comment).
    Raises AnalysisError naming the file and the problem."""
    sweep_dir = Path(sweep_dir)
    spath = sweep_dir / "sweep.json"
    try:
        doc = json.loads(spath.read_text())
    except FileNotFoundError:
        raise AnalysisError(f"{spath}: missing: {sweep_dir} is not a sweep's folder "
                            f"(made by `make sweep SWEEP=NAME`, under results/sweeps/)") from None
    except (OSError, json.JSONDecodeError) as e:
        raise AnalysisError(f"{spath}: cannot read the sweep's record: {e}") from None
    points = doc.get("points") if isinstance(doc, dict) else None
    if not isinstance(points, dict):
        raise AnalysisError(f"{spath}: no \"points\" object")
    labels = doc.get("point_labels")
    if not isinstance(labels, list):  # records from before the point list was kept
        labels = list(points)
    analysis = doc.get("analysis") or None
    sw = Sweep(path=sweep_dir, name=doc.get("sweep") or sweep_dir.name, analysis=analysis)
    for label in labels:
        entry = points.get(label)
        if not isinstance(entry, dict):
            sw.missing.append({"point": label, "reason": "not run yet", "result": None})
            continue
        if entry.get("valid") is not True or not isinstance(entry.get("result"), str):
            sw.missing.append({"point": label, "reason": _why_not(entry), "result": entry.get("result")})
            continue
        res = load_result(_result_path(sweep_dir, entry["result"]))
        if not res.valid:
            sw.missing.append({"point": label, "result": entry["result"],
                               "reason": "sweep.json calls it valid but its manifest does not"})
            continue
        sw.results.append((label, res))
    return sw


def missing_markdown(missing):
    """The lines a sweep table ends with when some point has no valid result (Sweep.missing)."""
    if not missing:
        return []
    return ["", f"**Missing points** ({len(missing)}: no valid result, so not in the tables above):", ""] + \
        [f"- {m['point']}: {m['reason']}" for m in missing]


def run_declared(sweep_dir):
    """Runs the analysis the sweep declares (`[sweep] analysis =`, recorded in sweep.json);
    returns (markdown or None, note)."""
    sw = read_sweep(sweep_dir)
    if sw.analysis is None:
        return None, f"sweep {sw.name} declares no analysis ([sweep] analysis = one of {', '.join(SWEEP_ANALYSES)})"
    if sw.analysis not in SWEEP_ANALYSES:
        raise AnalysisError(f"{Path(sweep_dir) / 'sweep.json'}: analysis {sw.analysis!r} is not one of "
                            f"{', '.join(SWEEP_ANALYSES)}")
    from importlib import import_module
    mod = import_module(f".{sw.analysis}", __package__)
    md = mod.write(sweep_dir)
    return md, f"wrote {sw.analysis}.md and {sw.analysis}.json in {sweep_dir}"
