"""A synthetic sweep record (sweep.json, as runners/host/sweep.c writes it; its header comment
documents the format) over result directories made with synthetic_results.write_result."""
import json
import pathlib


def write_sweep(sweep_dir, points, analysis=None, labels=None, name="synthetic"):
    """points: {label: [attempt, ...]} oldest first, each attempt a result directory (Path, named
    -INVALID when invalid, as the runner names it) or None (the runner left no result). The last
    attempt is the point's own; the earlier ones are superseded by the next. labels: every point
    of the matrix (default: those given). Returns the path of sweep.json."""
    doc = {"sweep": name, "config": f"configs/sweeps/{name}.ini", "config_text": "", "common_args": [],
           "analysis": analysis, "point_labels": list(labels or points), "points": {}}
    for label, attempts in points.items():
        recs = []
        for k, res in enumerate(attempts, 1):
            valid = res is not None and not pathlib.Path(res).name.endswith("-INVALID")
            recs.append({"attempt": k, "result": pathlib.Path(res).name if res else None, "valid": valid,
                         "exit_code": 0 if valid else 1, "finished": f"2026-01-01T00:0{k}:00Z",
                         "interrupted": False, "superseded_by": k + 1 if k < len(attempts) else None})
        last = recs[-1]
        doc["points"][label] = {"result": last["result"], "valid": last["valid"], "exit_code": last["exit_code"],
                                "finished": last["finished"], "attempts": recs}
    path = pathlib.Path(sweep_dir) / "sweep.json"
    path.write_text(json.dumps(doc, indent=2))
    return path
