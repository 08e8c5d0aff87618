"""The cgroup weight sweep (issue 4, configs/sweeps/cgroup-weights.ini): for every point of the
sweep (two workload instances whose cgroups are siblings DEPTH levels down, weighted RATIO:1),
each policy's throughput with its ratio to cfs, and the CPU share the higher-weighted instance
got next to the share its weights entitle it to, each with a 95% bootstrap interval over the
point's runs. A policy that does not honour weights shows up as an achieved share far from the
entitled one. Written next to the sweep's results as weights.md and weights.json. Everything was
measured in an emulated guest (QEMU TCG)."""
import re

from . import stats
from .compare import BASELINE, pool, ratio_cis
from .loader import AnalysisError
from .report import fmt_ratio, markdown_table, write_sweep_report
from .sweep import missing_markdown, read_sweep

_TREE = re.compile(r"^pair:(\d+):(\d+)$")


def tree_point(result):
    """(depth, ratio) from a generated pair:DEPTH:RATIO tree, else (None, None)."""
    name = (result.factors.get("cgroups") or {}).get("name") or ""
    m = _TREE.match(name)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def _high_cgroup(result):
    """The instance cgroup with the largest entitled share (the first one on a tie), as the runs
    recorded it (run.json's cgroups record)."""
    for run in result.runs:
        inst = [i for i in ((run.info.get("cgroups") or {}).get("instances") or []) if isinstance(i, dict)]
        if inst:
            best = max(inst, key=lambda i: (i.get("entitled_share") or 0, -inst.index(i)))
            return best["cgroup"], best.get("entitled_share")
    raise AnalysisError(f"{result.path}: no run recorded cgroup instances; not a cgroup sweep point")


def _summary(values):
    if not values:
        return None
    s = stats.summarize(values, stats.OTHER)
    return {"mean": s.center, "ci_low": s.ci_low, "ci_high": s.ci_high, "runs": s.n}


def point_rows(result):
    depth, ratio = tree_point(result)
    cg, entitled = _high_cgroup(result)
    ds = pool([result])
    head = result.headline
    ratios = {p: (r, n) for p, r, n, _ in ratio_cis(ds)} if BASELINE in ds.policies else {}
    rows = []
    for policy in ds.policies:
        runs = ds.runs_of(policy, valid=True)
        vals = [r.metrics[head].value for r in runs if head in r.metrics]
        unit = next((r.metrics[head].unit for r in runs if head in r.metrics), "")
        achieved = [r.metrics[f"cpu_share_achieved[{cg}]"].value for r in runs
                    if f"cpu_share_achieved[{cg}]" in r.metrics]
        thr = stats.summarize(vals, stats.metric_kind(unit)) if vals else None
        rat, _ = ratios.get(policy, (None, None))
        rows.append({
            "depth": depth, "ratio": ratio, "policy": policy, "runs": len(runs),
            "invalid_runs": len(ds.runs_of(policy, valid=False)),
            "metric": head, "unit": unit, "throughput": thr.center if thr else None,
            "vs_cfs": rat.ratio if rat else None, "vs_cfs_ci_low": rat.ci_low if rat else None,
            "vs_cfs_ci_high": rat.ci_high if rat else None,
            "high_cgroup": cg, "entitled_share": entitled, "achieved_share": _summary(achieved),
            "share_error": _share_error(_summary(achieved), entitled),
            "result": result.id})
    return rows


# The goal of issue 13's share-accuracy sweep for cgfifo: the achieved share within 2% (of the
# entitled share, relative) of what the weights entitle the instance to, at every point.
SHARE_GOAL = 0.02


def _share_error(achieved, entitled):
    """achieved / entitled - 1 (relative share error) with the interval the achieved share's
    interval gives it (the entitled share is exact), and whether the goal holds: the whole
    interval within +-SHARE_GOAL. None without an achieved share."""
    if not achieved or not entitled:
        return None
    lo = None if achieved["ci_low"] is None else achieved["ci_low"] / entitled - 1
    hi = None if achieved["ci_high"] is None else achieved["ci_high"] / entitled - 1
    return {"error": achieved["mean"] / entitled - 1, "ci_low": lo, "ci_high": hi,
            "within_goal": lo is not None and -SHARE_GOAL <= lo and hi <= SHARE_GOAL}


# The sweep a point came from, as its command records it (the user's command line: `make sweep
# SWEEP=NAME (point ...)`, or `./scxlab sweep ...` run directly; older results quoted NAME).
_SWEEP_CMD = re.compile(r'^(?:make|\./scxlab) sweep SWEEP="?([A-Za-z0-9_.-]+)"?(\s|$)')
WEIGHT_SWEEP = "cgroup-weights"
SHARE_SWEEP = "share-accuracy"


def sweep_of(result):
    """The name of the sweep whose pair:DEPTH:RATIO point the result is, else None."""
    m = _SWEEP_CMD.match(result.command or "")
    return m.group(1) if m and tree_point(result)[0] is not None else None


def is_weight_sweep_point(result):
    """A result made by `make sweep SWEEP=cgroup-weights` (one point of it)."""
    return sweep_of(result) == WEIGHT_SWEEP


def is_share_sweep_point(result):
    """A point of `make sweep SWEEP=share-accuracy` (CPU-bound instances, issue 13 item 3)."""
    return sweep_of(result) == SHARE_SWEEP


def is_grid_point(result):
    """A point of either weight grid: drawn with its sweep (a heat map, the share-error figure),
    not figure by figure per result."""
    return sweep_of(result) in (WEIGHT_SWEEP, SHARE_SWEEP)


def share_points(datasets):
    """(valid points, invalid results) of the share-accuracy sweep among datasets: the figure and
    tables read the valid ones; an invalid one (a policy ejected) is named, not drawn."""
    pts = [ds for ds in datasets if is_share_sweep_point(ds.first)]
    return [ds for ds in pts if ds.first.valid], [ds for ds in pts if not ds.first.valid]


def repeats_of(result):
    """Runs per policy the point asked for (the most any policy has)."""
    counts = {}
    for run in result.runs:
        counts[run.policy] = counts.get(run.policy, 0) + 1
    return max(counts.values()) if counts else 0


def row_order(r):
    return (r["depth"] is None, r["depth"] or 0, r["ratio"] or 0, r["policy"] != BASELINE, r["policy"])


def weights(sweep_dir):
    """The table's rows from the sweep's valid points (read from its sweep.json), and the
    points that have no valid result as "missing"."""
    return _doc(read_sweep(sweep_dir))


def _doc(sw):
    return {"sweep": str(sw.path), **grid_doc([res for _, res in sw.results]), "missing": sw.missing}


def grid_doc(points):
    """The rows, worst points and goal of a weight grid's points (results, or datasets of one)."""
    rows = sorted((row for p in points for row in point_rows(getattr(p, "first", p))), key=row_order)
    return {"emulated": "QEMU TCG guest: absolute numbers are not those of real hardware",
            "rows": rows, "worst": worst_points(rows), "share_goal": SHARE_GOAL}


def worst_points(rows):
    """Per policy, the point whose achieved share is furthest from the entitled one (relative),
    and how many of its points meet the goal (interval within +-SHARE_GOAL)."""
    out = {}
    for r in rows:
        e = r.get("share_error")
        if e is None:
            continue
        w = out.setdefault(r["policy"], {"points": 0, "within_goal": 0, "worst": None})
        w["points"] += 1
        w["within_goal"] += e["within_goal"]
        if w["worst"] is None or abs(e["error"]) > abs(w["worst"]["error"]):
            w["worst"] = {"depth": r["depth"], "ratio": r["ratio"], "error": e["error"], "ci_low": e["ci_low"],
                          "ci_high": e["ci_high"], "entitled_share": r["entitled_share"], "result": r["result"]}
    return out



def worst_table(doc):
    """(head, rows): per policy, how many points meet the goal and its worst point."""
    goal = _pct(doc["share_goal"]).lstrip("+")
    rows = [[policy, f"{w['within_goal']} of {w['points']}", f"depth {w['worst']['depth']}, {w['worst']['ratio']}:1",
             error_cell(dict(w["worst"], within_goal=True)), f"`{w['worst']['result']}`"]
            for policy, w in sorted(doc["worst"].items())]
    return ["policy", f"points within +-{goal}", "worst point", "its share error [95% CI]", "result"], rows


def _share(s):
    if not s:
        return "-"
    ci = "" if s["ci_low"] is None else f" [{s['ci_low']:.3f}, {s['ci_high']:.3f}]"
    return f"{s['mean']:.3f}{ci}"


HEADER = ["depth", "ratio", "policy", "runs", "throughput", f"vs {BASELINE} [95% CI]", "entitled", "achieved [95% CI]",
          "share error [95% CI]", "result"]


def row_cells(r):
    """One table row: the cells under HEADER."""
    ci = "" if r["vs_cfs_ci_low"] is None else f" [{fmt_ratio(r['vs_cfs_ci_low'])}, {fmt_ratio(r['vs_cfs_ci_high'])}]"
    vs = "(baseline)" if r["policy"] == BASELINE else f"{fmt_ratio(r['vs_cfs'])}{ci}"
    thr = "-" if r["throughput"] is None else f"{r['throughput']:.3g} {r['unit']}"
    ent = "-" if r["entitled_share"] is None else f"{r['entitled_share']:.3f}"
    runs = f"{r['runs']}" + (f" (+{r['invalid_runs']} invalid)" if r["invalid_runs"] else "")
    return [str(r["depth"]), f"{r['ratio']}:1", r["policy"], runs, thr, vs, ent, _share(r["achieved_share"]),
            error_cell(r.get("share_error")), f"`{r['result']}`"]


def _pct(x):
    return f"{x * 100:+.1f}%"


def error_cell(e):
    if e is None:
        return "-"
    ci = "" if e["ci_low"] is None else f" [{_pct(e['ci_low'])}, {_pct(e['ci_high'])}]"
    return _pct(e["error"]) + ci + ("" if e["within_goal"] else " *")


def to_markdown(doc):
    lines = ["# cgroup weight sweep (emulated guest, QEMU TCG)", "",
             "Two workload instances in sibling cgroups DEPTH levels down, weighted RATIO:1; the policies",
             "interleaved and repeated in one boot per point. Share: the CPU share (cgroup cpu.stat",
             "usage_usec over both instances) of the higher-weighted instance, mean over runs with its",
             "95% bootstrap interval, next to the share its weights entitle it to.", ""]
    lines += markdown_table(HEADER, [row_cells(r) for r in doc["rows"]])
    goal = _pct(doc["share_goal"]).lstrip("+")
    lines += ["", f"Share error: achieved / entitled - 1; * marks a point whose interval is not within +-{goal}.", ""]
    if doc["worst"]:
        lines += markdown_table(*worst_table(doc))
    lines += missing_markdown(doc.get("missing"))
    return "\n".join(lines) + "\n"


def share_error_figure(doc, datasets, out_dir, formats=("svg",)):
    """share-error.<fmt>: the relative share error (y) against the weight ratio (x), one line per
    policy and depth (colour by policy, line style by depth), with the intervals and the goal's
    band, stamped like every figure with the results (datasets) it came from; None (nothing
    written) when no row has a share error."""
    rows = [r for r in doc["rows"] if r.get("share_error") and r["depth"] is not None]
    if not rows:
        return None
    from pathlib import Path

    from .figures import _finish, plt, policy_color
    policies = sorted({r["policy"] for r in rows})
    depths = sorted({r["depth"] for r in rows})
    styles = ["-", "--", ":", "-."]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.axhspan(-doc["share_goal"] * 100, doc["share_goal"] * 100, color="0.9", zorder=0,
               label=f"goal +-{doc['share_goal'] * 100:g}%")
    ax.axhline(0, color="0.5", lw=0.8)
    for p in policies:
        for k, d in enumerate(depths):
            pts = sorted((r["ratio"], r["share_error"]) for r in rows if r["policy"] == p and r["depth"] == d)
            if not pts:
                continue
            x = [a for a, _ in pts]
            y = [e["error"] * 100 for _, e in pts]
            lo = [(e["error"] - e["ci_low"]) * 100 if e["ci_low"] is not None else 0 for _, e in pts]
            hi = [(e["ci_high"] - e["error"]) * 100 if e["ci_high"] is not None else 0 for _, e in pts]
            ax.errorbar(x, y, yerr=[lo, hi], color=policy_color(p), ls=styles[k % len(styles)],
                        marker="o", ms=3, capsize=2, label=f"{p}, depth {d}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({r["ratio"] for r in rows}))
    ax.get_xaxis().set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}:1"))
    ax.set_xlabel("cpu.weight ratio of the two instances")
    ax.set_ylabel("achieved / entitled share - 1 (%)")
    ax.set_title("Share error of the higher-weighted instance (emulated guest, QEMU TCG)", fontsize=9)
    ax.legend(fontsize=6.5, ncol=2, loc="best")
    return _finish(fig, datasets, Path(out_dir) / "share-error", formats)


def write(sweep_dir):
    sw = read_sweep(sweep_dir)
    doc = _doc(sw)
    fig = share_error_figure(doc, [pool([res]) for _, res in sw.results], sweep_dir)
    md = to_markdown(doc) + (f"\n![share error](share-error.svg)\n" if fig else "")
    return write_sweep_report(sweep_dir, "weights", doc, md)
