"""`make bench-suite`: where the wall time of an experiment goes, per clock, over repeats.

The suite is a sweep (configs/sweeps/bench-suite.ini): the same one-run experiment (fifo on
nginx) repeated under each clock. Every point's manifest records where its wall time went
(manifest "times", written by runners/host: job_s, boot_s, target_s, phases_s per phase of the
runs as the agent announced them, assemble_s, wall_s, measured_s = DURATION x runs). From them,
per point:

    boot_s            host seconds from the runner's start until the guest reported ready
    per_run_s         per run, the phases that are neither warm-up nor measurement: policy
                      (load and in-charge check), server (workload start) and teardown
    assemble_s        from the target's end until the manifest is written (unpacking results,
                      merging metrics, the manifest itself)
    overhead_s        wall_s - measured_s: everything beyond DURATION x runs (warm-up included)

Each point also says how its guest started (manifest times.boot_path: "cold", or "snapshot":
restored from a saved booted guest, runners/host/snapshot.c) and how much of its boot went into
making that snapshot (snapshot_made_s: the first point of a clock whose snapshot was not cached
yet); points made before snapshots existed record neither and are shown as "not recorded"
(they all booted cold, but the suite does not invent the field).

And, measured by ./scxlab bench-suite before the sweep (host-steps.json in the sweep's folder),
a cached `make setup` and a no-op `make build`, each repeated. Each quantity is summarized per
clock by its median with a 95% bootstrap interval (stats.summarize, kind "time"), over the
repeats; the points' result folders are named so that every figure can be traced to its run.
Written next to the sweep's results as suite.md and suite.json. Emulated: the times are those
of QEMU TCG on this host, which is what they are meant to measure.
"""
import collections
import json
from pathlib import Path

from . import AnalysisError
from . import stats
from .report import markdown_table, write_sweep_report
from .sweep import missing_markdown, read_sweep

QUANTITIES = ("boot_s", "per_run_s", "assemble_s", "overhead_s", "wall_s")
PER_RUN_PHASES = ("policy", "server", "teardown")
HOST_STEPS = ("setup_s", "build_s")


def point_times(result):
    """The quantities of one point (see the module comment) from its manifest's times."""
    t = result.manifest.get("times") or {}
    phases = t.get("phases_s")
    if not phases or "measured_s" not in t:
        raise AnalysisError(f"{result.path}: its manifest records no phases_s/measured_s (made before "
                            "make bench-suite existed); rerun the suite")
    nruns = len(result.runs)
    if not nruns:
        raise AnalysisError(f"{result.path}: no runs")
    return {
        "boot_s": t["boot_s"],
        "per_run_s": sum(phases[p] for p in PER_RUN_PHASES) / nruns,
        "assemble_s": t.get("assemble_s"),
        "overhead_s": t["wall_s"] - t["measured_s"],
        "wall_s": t["wall_s"],
    }


def _summary(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    s = stats.summarize(vals, stats.TIME)
    return {"n": s.n, "median": s.center, "ci_low": s.ci_low, "ci_high": s.ci_high, "values": list(s.values)}


def read_host_steps(sweep_dir):
    """host-steps.json (./scxlab bench-suite): {"setup_s": [...], "build_s": [...]}, or None."""
    path = Path(sweep_dir) / "host-steps.json"
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise AnalysisError(f"{path}: cannot read: {e}") from None
    if not isinstance(doc, dict) or any(not isinstance(doc.get(k), list) for k in HOST_STEPS):
        raise AnalysisError(f"{path}: expected lists {', '.join(HOST_STEPS)}")
    return doc


def suite(sweep_dir):
    sw = read_sweep(sweep_dir)
    points, by_clock = [], {}
    for label, res in sw.results:
        q = point_times(res)
        clock = res.clock
        t = res.manifest.get("times") or {}
        points.append({"point": label, "clock": clock, "result": res.id,
                       "duration_s": res.factors.get("duration_s"), "runs": len(res.runs),
                       "boot_path": t.get("boot_path"), "snapshot_made_s": t.get("snapshot_made_s"), **q})
        for k in QUANTITIES:
            by_clock.setdefault(clock, {}).setdefault(k, []).append(q[k])
    clocks = {c: {k: _summary(v) for k, v in qs.items()} for c, qs in sorted(by_clock.items())}
    host = read_host_steps(sweep_dir)
    return {"sweep": str(sweep_dir),
            "emulated": "QEMU TCG guest on this host: these are the suite's own costs here",
            "clocks": clocks, "points": points,
            "host_steps": {k: _summary(host[k]) for k in HOST_STEPS} if host else None,
            "missing": sw.missing}


def _fmt(s):
    if s is None:
        return "-"
    if s["ci_low"] is None:
        return f"{s['median']:.1f} (n={s['n']})"
    return f"{s['median']:.1f} [{s['ci_low']:.1f}, {s['ci_high']:.1f}] (n={s['n']})"


def _boot_path(point):
    return point.get("boot_path") or "not recorded"


def to_markdown(doc):
    lines = ["# Where an experiment's time goes (make bench-suite)", "",
             "Wall seconds on this host, median over repeats with a 95% bootstrap interval. One run of",
             "fifo on nginx per point; the guest is emulated (QEMU TCG), so these are the suite's costs",
             "here, not a property of sched_ext. overhead = wall time beyond DURATION x runs (warm-up",
             "included); per run = policy load + server start + teardown.", ""]
    by_clock = []
    for clock, q in doc["clocks"].items():
        paths = collections.Counter(_boot_path(p) for p in doc["points"] if p["clock"] == clock)
        by_clock.append([clock] + [_fmt(q.get(k)) for k in QUANTITIES]
                        + [", ".join(f"{k} {n}" for k, n in sorted(paths.items()))])
    lines += markdown_table(["clock", "boot", "per run", "assembly", "overhead", "wall", "boot paths"], by_clock)
    if doc.get("host_steps"):
        h = doc["host_steps"]
        lines += ["", f"Cached `make setup`: {_fmt(h['setup_s'])} s; no-op `make build`: {_fmt(h['build_s'])} s."]
    lines += ["", "Boot path: cold, or snapshot (restored from a saved booted guest); \"+ made N s\": N s of",
              "that boot went into making the snapshot, once per clock and VM shape.", ""]
    points = []
    for p in doc["points"]:
        path = _boot_path(p)
        if p.get("snapshot_made_s"):
            path += f" + made {p['snapshot_made_s']:.1f} s"
        points.append([p["point"], p["clock"]] + ["-" if p[k] is None else f"{p[k]:.1f}" for k in QUANTITIES]
                      + [path, f"`{p['result']}`"])
    lines += markdown_table(["point", "clock", "boot", "per run", "assembly", "overhead", "wall", "boot path",
                             "result"], points)
    lines += missing_markdown(doc.get("missing"))
    return "\n".join(lines) + "\n"


def write(sweep_dir):
    doc = suite(sweep_dir)
    return write_sweep_report(sweep_dir, "suite", doc, to_markdown(doc))
