"""Twins (issue 13, configs/sweeps/twins*.ini): each scxlab policy beside the kernel's own example
scheduler it re-implements, measured in the same boot. For every valid point of the sweep (one
workload per boot, every policy interleaved and repeated), each policy's headline against cfs,
and each scxlab policy against its kernel twin, with 95% bootstrap intervals; from points run
with the bpf-stats monitor, the BPF run time per call of each callback (overhead.callback_costs).
A twin pair whose interval excludes no change is marked: the verdict there is about scxlab's
version, not about the idea both implement. Written next to the sweep's results as twins.md and
twins.json. Everything was measured in an emulated guest (QEMU TCG)."""

from .compare import BASELINE, compare, pool
from .overhead import _has_bpf_stats, callback_costs, callback_table
from .report import fmt_ratio, fmt_ratio_ci, write_sweep_report
from .sweep import missing_markdown, read_sweep

# (scxlab's policy, the kernel's example scheduler it re-implements): the one place that pairs
# them. Names are those of configs/policies/.
TWINS = (
    ("fifo", "scx_simple"),
    ("qmap", "scx_qmap"),
    ("central", "scx_central"),
    ("cgfifo", "scx_flatcg"),
    ("pair", "scx_pair"),
    ("userland", "scx_userland"),
)


# Why a pair's throughput differs, from the code of both (shown where the paper's twin table marks
# the pair as differing). Design descriptions, no measured numbers.
WHY_THEY_DIFFER = {}


def _point_name(result):
    wl = result.factors.get("workload", "?")
    tree = (result.factors.get("cgroups") or {}).get("name")
    return f"{wl} ({tree})" if tree else wl


def _ratio_doc(r):
    if r is None or r.ratio is None:
        return {"ratio": None, "ci_low": None, "ci_high": None, "significant": False}
    return {"ratio": r.ratio, "ci_low": r.ci_low, "ci_high": r.ci_high, "significant": bool(r.significant)}


def _rows(result):
    """The twin rows of one point: for every pair with runs of both, each side's ratio to cfs
    (when the point has cfs runs) and scxlab's against the kernel's."""
    ds = pool([result])
    head = result.headline
    to_cfs = {}
    if BASELINE in ds.policies and ds.runs_of(BASELINE, valid=True):
        to_cfs = {r.policy: r for r in compare(ds, metrics=[head]).metric(head).rows}
    rows = []
    for ours, theirs in TWINS:
        if ours not in ds.policies or theirs not in ds.policies:
            continue
        m = compare(ds, baseline=theirs, metrics=[head]).metric(head)
        row = next(r for r in m.rows if r.policy == ours)
        rows.append({
            "workload": _point_name(result), "metric": head, "unit": m.unit,
            "higher_is_better": m.higher_is_better, "ours": ours, "kernel": theirs,
            "runs": row.n_valid, "kernel_runs": next(r.n_valid for r in m.rows if r.policy == theirs),
            "ours_vs_cfs": _ratio_doc(to_cfs[ours].ratio) if ours in to_cfs else None,
            "kernel_vs_cfs": _ratio_doc(to_cfs[theirs].ratio) if theirs in to_cfs else None,
            "ours_vs_kernel": _ratio_doc(row.ratio),
            "result": result.id,
        })
    return rows


def _has_pair(result):
    return any(ours in result.policies and theirs in result.policies for ours, theirs in TWINS)


def rows_of_results(results):
    """(twin rows, {point: callback costs}) of loaded results that ran a twin pair (the paper's
    kept ones), as twins() reads them from a sweep: bpf-stats results give costs only."""
    rows, costs = [], {}
    for res in results:
        if not _has_pair(res):
            continue
        if _has_bpf_stats(res):
            costs[f"{_point_name(res)} (`{res.id}`)"] = callback_costs(res)
        else:
            rows += _rows(res)
    return rows, costs


def table(rows):
    """(head, body) of the twin table, one line per pair and result."""
    head = ["workload", "scxlab", "kernel", "runs", "scxlab vs cfs", "kernel vs cfs", "scxlab vs kernel", "result"]
    body = [[r["workload"], r["ours"], r["kernel"], f"{r['runs']} vs {r['kernel_runs']}", _cell(r["ours_vs_cfs"]),
             _cell(r["kernel_vs_cfs"]),
             _cell(r["ours_vs_kernel"]) + (" **differs**" if r["ours_vs_kernel"]["significant"] else ""),
             f"`{r['result']}`"] for r in rows]
    return head, body


def twins(sweep_dir):
    """Twin rows and callback costs from the sweep's valid points (read from its sweep.json),
    and the points that have no valid result as "missing"."""
    sw = read_sweep(sweep_dir)
    rows, costs = [], {}
    for _, res in sw.results:
        if _has_bpf_stats(res):
            costs[_point_name(res)] = callback_costs(res)
        else:
            rows += _rows(res)
    return {"sweep": str(sweep_dir), "emulated": "QEMU TCG guest: absolute numbers are not those of real hardware",
            "twins": [list(t) for t in TWINS], "rows": rows, "callback_ns": costs, "missing": sw.missing}


def _cell(r):
    if r is None:
        return "-"
    return f"{fmt_ratio(r['ratio'])} {fmt_ratio_ci(r['ci_low'], r['ci_high'])}".strip()


def to_markdown(doc):
    lines = ["# scxlab's policies beside the kernel's twins (emulated guest, QEMU TCG)", "",
             "Each workload was measured in one boot, every policy interleaved and repeated. Ratios",
             "to cfs and of scxlab's policy to its kernel twin with 95% bootstrap intervals; **differs**",
             "marks a twin pair whose interval excludes no change (the two versions of the idea do not",
             "perform alike there).", ""]
    if doc["rows"]:
        head, body = table(doc["rows"])
        head.insert(1, "metric")
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r, cells in zip(doc["rows"], body):
            cells.insert(1, r["metric"])
            lines.append("| " + " | ".join(cells) + " |")
    else:
        lines.append("No point has runs of a twin pair.")
    if doc["callback_ns"]:
        lines += ["", "BPF run time per call (runs with kernel.bpf_stats_enabled, which slows every BPF "
                  "program):", ""] + callback_table(doc["callback_ns"])
    lines += missing_markdown(doc.get("missing"))
    return "\n".join(lines) + "\n"


def write(sweep_dir):
    doc = twins(sweep_dir)
    return write_sweep_report(sweep_dir, "twins", doc, to_markdown(doc))
