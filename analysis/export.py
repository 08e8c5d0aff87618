"""`make export`: every measured value of some results as one long-format CSV, one row per
(result, run, metric), so that pandas reads it in one line (`pandas.read_csv(path)`) and no user
has to learn the result directories' JSON shapes.

Columns (COLUMNS, in this order):
  result, result_valid      the result directory's id (one boot of the guest) and its verdict
  run, round, policy        the run's index in the result, its round (interleaved runs: round k
                            holds every policy's k-th run, the block a paired comparison uses),
                            and its policy
  run_valid                 the run's own verdict (an invalid run's values are still listed: filter)
  metric, base, cgroup      the metric's full name, its name without the cgroup part, the cgroup
  source                    workload | monitor | cgroup (analysis/loader.py says what each is)
  unit, value, direction    the value in its unit; direction higher | lower | "" (no better/worse)
  workload, clock, accel, target, duration_s
                            the factors most analyses split by
  git_commit, git_dirty     the checkout the result was made from
  factors                   every factor of the result, as compact JSON (manifest.json "factors")
Values are written with repr() precision (no rounding). The rows are in result, run, metric order.
"""
import csv
import json
import os
from pathlib import Path

from . import AnalysisError, compare
from .loader import load_result

COLUMNS = ["result", "result_valid", "run", "round", "policy", "run_valid", "metric", "base", "cgroup",
           "source", "unit", "value", "direction", "workload", "clock", "accel", "target", "duration_s",
           "git_commit", "git_dirty", "factors"]


def _direction(hib):
    return "higher" if hib is True else "lower" if hib is False else ""


def rows(result):
    """The CSV rows (dicts keyed by COLUMNS) of one loaded Result."""
    f = result.factors
    software = result.manifest.get("software", {})
    common = {
        "result": result.id, "result_valid": result.valid, "workload": result.workload, "clock": result.clock,
        "accel": compare.accel(result) or "", "target": f.get("target", "vm"), "duration_s": f.get("duration_s", ""),
        "git_commit": software.get("git_commit", ""), "git_dirty": bool(software.get("git_dirty")),
        "factors": json.dumps(f, sort_keys=True, separators=(",", ":")),
    }
    for run in result.runs:
        for m in run.metrics.values():
            yield dict(common, run=run.index, round=run.repeat, policy=run.policy, run_valid=run.valid,
                       metric=m.name, base=m.base, cgroup=m.cgroup or "", source=m.source, unit=m.unit,
                       value=repr(float(m.value)), direction=_direction(m.higher_is_better))


def export(result_dirs, out):
    """Writes the rows of every result in result_dirs to out (replaced atomically); returns the
    number of rows. Refuses an empty list or a directory that is not a result."""
    if not result_dirs:
        raise AnalysisError("export: no result to export (RESULT=\"dir ...\")")
    results = [load_result(d) for d in result_dirs]
    out = Path(out)
    if out.is_dir():
        raise AnalysisError(f"{out}: is a directory; name the CSV file to write")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    n = 0
    try:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            for r in results:
                for row in rows(r):
                    w.writerow(row)
                    n += 1
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return n
