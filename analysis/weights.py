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
from .report import fmt_ratio, write_sweep_report
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
            "result": result.id})
    return rows


def is_weight_sweep_point(result):
    """A result made by `make sweep SWEEP=cgroup-weights` (one point of it)."""
    return (result.command or "").startswith('make sweep SWEEP="cgroup-weights"') and tree_point(result)[0] is not None


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
    sw = read_sweep(sweep_dir)
    rows = sorted((row for _, res in sw.results for row in point_rows(res)), key=row_order)
    return {"sweep": str(sweep_dir), "emulated": "QEMU TCG guest: absolute numbers are not those of real hardware",
            "rows": rows, "missing": sw.missing}



def _share(s):
    if not s:
        return "-"
    ci = "" if s["ci_low"] is None else f" [{s['ci_low']:.3f}, {s['ci_high']:.3f}]"
    return f"{s['mean']:.3f}{ci}"


HEADER = ["depth", "ratio", "policy", "runs", "throughput", f"vs {BASELINE} [95% CI]", "entitled", "achieved [95% CI]",
          "result"]


def row_cells(r):
    """One table row: the cells under HEADER."""
    ci = "" if r["vs_cfs_ci_low"] is None else f" [{fmt_ratio(r['vs_cfs_ci_low'])}, {fmt_ratio(r['vs_cfs_ci_high'])}]"
    vs = "(baseline)" if r["policy"] == BASELINE else f"{fmt_ratio(r['vs_cfs'])}{ci}"
    thr = "-" if r["throughput"] is None else f"{r['throughput']:.3g} {r['unit']}"
    ent = "-" if r["entitled_share"] is None else f"{r['entitled_share']:.3f}"
    runs = f"{r['runs']}" + (f" (+{r['invalid_runs']} invalid)" if r["invalid_runs"] else "")
    return [str(r["depth"]), f"{r['ratio']}:1", r["policy"], runs, thr, vs, ent, _share(r["achieved_share"]),
            f"`{r['result']}`"]


def to_markdown(doc):
    lines = ["# cgroup weight sweep (emulated guest, QEMU TCG)", "",
             "Two workload instances in sibling cgroups DEPTH levels down, weighted RATIO:1; the policies",
             "interleaved and repeated in one boot per point. Share: the CPU share (cgroup cpu.stat",
             "usage_usec over both instances) of the higher-weighted instance, mean over runs with its",
             "95% bootstrap interval, next to the share its weights entitle it to.", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row_cells(r)) + " |" for r in doc["rows"]]
    lines += missing_markdown(doc.get("missing"))
    return "\n".join(lines) + "\n"


def write(sweep_dir):
    doc = weights(sweep_dir)
    return write_sweep_report(sweep_dir, "weights", doc, to_markdown(doc))
