"""Twins (issue 13, configs/sweeps/twins*.ini): each scxlab policy beside the kernel's own example
scheduler it re-implements, measured in the same boot. For every valid point of the sweep (one
workload per boot, every policy interleaved and repeated), each policy's headline against cfs,
and each scxlab policy against its kernel twin, with 95% bootstrap intervals; from points run
with the bpf-stats monitor, the BPF run time per call of each callback (overhead.callback_costs).
A twin pair whose interval excludes no change is marked: the verdict there is about scxlab's
version, not about the idea both implement. Written next to the sweep's results as twins.md and
twins.json. Everything was measured in an emulated guest (QEMU TCG)."""

from . import stats
from .compare import BASELINE, compare, pool
from .overhead import _has_bpf_stats, callback_costs, callback_table
from .report import fmt_ratio, fmt_ratio_ci, markdown_table, write_sweep_report
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


# Why a pair's throughput may differ, from the code of both (scxlab's schedulers/, the kernel's
# tools/sched_ext of 7.3.4 with the arguments configs/policies/ gives them: none). Shown where the
# paper's twin table marks the pair as differing; design facts only, no measured numbers.
WHY_THEY_DIFFER = {
    ("fifo", "scx_simple"): (
        "Both send a waking task straight to an idle CPU and otherwise share one queue with the default "
        "slice, but fifo keeps that queue in arrival order while scx_simple (run without -f) orders it by "
        "weighted virtual time, lets a task back from sleep run up to one slice ahead of those that used "
        "theirs, and runs two more callbacks per context switch (running, stopping) to keep that time."),
    ("qmap", "scx_qmap"): (
        "Both put nice-0 tasks in the same one of five weighted FIFO levels, so on these workloads they "
        "differ in the work done per event: qmap picks an idle CPU with the kernel's default picker and "
        "kicks an idle CPU after each queue push, while the 7.3 scx_qmap tracks idle CPUs itself "
        "(update_idle), routes every wakeup through enqueue, scans its shared queues on every dispatch "
        "and runs a callback on every tick."),
    ("central", "scx_central"): (
        "scx_central sends every wakeup to the central CPU and preempts that CPU's task each time (the "
        "preempted task goes to the tail of the queue); its timer finds an overdue worker, which must then "
        "ask the central CPU for work (two hops). scxlab's central keeps a waking task on its previous "
        "CPU, kicks the central CPU only when it is idle or a worker waits, and its timer puts the next task "
        "straight onto the overdue worker (one hop)."),
    ("cgfifo", "scx_flatcg"): (
        "scx_flatcg keeps a CPU on one cgroup for a 20 ms cgroup slice, charges that slice up front and "
        "takes its tree lock only when a cgroup becomes active or idle, and orders tasks within a cgroup by "
        "virtual time. cgfifo picks the cgroup again on every dispatch, takes its tree lock on every "
        "runnable and quiescent edge, charges each run's measured time, keeps tasks in a cgroup in FIFO "
        "order, and queues pinned kernel threads in their cgroup like any task (scx_flatcg keeps them "
        "out of the tree)."),
    ("pair", "scx_pair"): (
        "scx_pair pairs CPU i with i + nr_cpus/2 rather than reading the SMT siblings, has no select_cpu (so "
        "the kernel's default puts a waking task on any idle CPU, outside the pairing), dispatches through the "
        "global queue, uses 20 ms task slices and takes no lock on most switches; scxlab's pair reads the "
        "siblings, places nothing at wakeup, moves tasks only from the owning cgroup's queue, uses 10 ms "
        "slices and takes the pair's lock on every task start and stop."),
    ("userland", "scx_userland"): (
        "scxlab's userland sends every waking user task up to its scheduler through a ring buffer that wakes "
        "the scheduler's thread, which then preempts the running task; scx_userland keeps tasks with "
        "restricted affinity in BPF, lets its scheduler loop (drain, dispatch a batch of 8, yield) without "
        "sleeping, and runs it only after the global queue drains."),
}


def _point_name(result):
    wl = result.factors.get("workload", "?")
    tree = (result.factors.get("cgroups") or {}).get("name")
    return f"{wl} ({tree})" if tree else wl


def _ratio_doc(r):
    if r is None or r.ratio is None:
        return {"ratio": None, "ci_low": None, "ci_high": None, "significant": False}
    return {"ratio": r.ratio, "ci_low": r.ci_low, "ci_high": r.ci_high, "significant": bool(r.significant),
            "p_adjusted": r.p_adjusted, "family": r.family,
            "uncorrected_significant": bool(r.uncorrected_significant), "few_runs": bool(r.few_runs)}


def _one_family(raw):
    """The rows of (row, scxlab-vs-kernel Ratio) pairs, the calls of those ratios corrected (Holm)
    over all of them: a twin table asks one question per row ("do the two versions differ?"), so
    its rows are one family, whatever boots they come from. The vs-cfs cells show intervals only."""
    stats.holm_ratios([ratio for _, ratio in raw])
    for row, ratio in raw:
        row["ours_vs_kernel"] = _ratio_doc(ratio)
    return [row for row, _ in raw]


def _rows(result):
    """(row, scxlab-vs-kernel Ratio) of one point: for every pair with runs of both, each side's
    ratio to cfs (when the point has cfs runs); _one_family() turns the Ratio into the row's call."""
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
        rows.append(({
            "workload": _point_name(result), "metric": head, "unit": m.unit,
            "higher_is_better": m.higher_is_better, "ours": ours, "kernel": theirs,
            "runs": row.n_valid, "kernel_runs": next(r.n_valid for r in m.rows if r.policy == theirs),
            "invalid_runs": row.n_invalid, "kernel_invalid_runs": next(r.n_invalid for r in m.rows if r.policy == theirs),
            "ours_vs_cfs": _ratio_doc(to_cfs[ours].ratio) if ours in to_cfs else None,
            "kernel_vs_cfs": _ratio_doc(to_cfs[theirs].ratio) if theirs in to_cfs else None,
            "result": result.id,
        }, row.ratio))
    return rows


# The callbacks the twin cost table shows by name (the calls of every scheduling event); the
# rest (ticks, idle updates, runnable/quiescent, task setup) count in its "all" column. The
# kernel's 7.3 scx_qmap picks a CPU in select_cid, its "select" column.
COST_ROLES = (("select", ("select_cpu", "select_cid")), ("enqueue", ("enqueue",)), ("dispatch", ("dispatch",)),
              ("running", ("running",)), ("stopping", ("stopping",)))


def _role(callback):
    """"fcg_select_cpu" -> "select_cpu": a BPF program's name is the policy's prefix, then the op."""
    return callback.split("_", 1)[1] if "_" in callback else callback


def _ns(total_ns, calls):
    return f"{total_ns / calls:.0f} ({calls})" if calls else "-"


def cost_table(costs):
    """(head, rows) for {point: callback_costs()}: one row per point and policy, twins side by side,
    the BPF ns per call of each COST_ROLES callback (and how many calls), and over all callbacks."""
    order = [p for pair in TWINS for p in pair]
    rows = []
    for point, per in sorted(costs.items()):
        for policy in sorted(per, key=lambda p: (order.index(p) if p in order else len(order), p)):
            cbs = per[policy]
            cells = [point, policy]
            for _, ops in COST_ROLES:
                picked = [s for cb, s in cbs.items() if _role(cb) in ops]
                cells.append(_ns(sum(s["run_time_ns"] for s in picked), sum(s["run_cnt"] for s in picked)))
            cells.append(_ns(sum(s["run_time_ns"] for s in cbs.values()), sum(s["run_cnt"] for s in cbs.values())))
            rows.append(cells)
    return ["workload", "policy"] + [name for name, _ in COST_ROLES] + ["all callbacks"], rows


def _has_pair(result):
    return any(ours in result.policies and theirs in result.policies for ours, theirs in TWINS)


def _add_costs(costs, name, result_id, per_policy):
    """Adds one result's {policy: callback costs} under its workload's name: beside another
    result's of the same workload when their policies differ (pair and scx_pair need the smt
    shape, so their costs come from a boot of their own), under "name (`id`)" when a policy would
    appear twice."""
    if name not in costs:
        costs[name] = dict(per_policy)
    elif costs[name].keys().isdisjoint(per_policy):
        costs[name].update(per_policy)
    else:
        costs[f"{name} (`{result_id}`)"] = dict(per_policy)


def rows_of_results(results):
    """(twin rows, {point: callback costs}, the ids of the costs' results) of loaded results that
    ran a twin pair (the paper's kept ones), as twins() reads them from a sweep: bpf-stats results
    give costs only."""
    rows, costs, cost_ids = [], {}, []
    for res in results:
        if not _has_pair(res):
            continue
        if _has_bpf_stats(res):
            _add_costs(costs, _point_name(res), res.id, callback_costs(res))
            cost_ids.append(res.id)
        else:
            rows += _rows(res)
    return _one_family(rows), costs, cost_ids


def _runs_cell(r):
    """Valid runs a side, and the invalid ones (a policy ejected, a client that failed) where any."""
    bad = [f"{n} {who} invalid" for n, who in ((r.get("invalid_runs", 0), r["ours"]),
                                               (r.get("kernel_invalid_runs", 0), r["kernel"])) if n]
    return f"{r['runs']} vs {r['kernel_runs']}" + (f" ({', '.join(bad)})" if bad else "")


def _metric_cell(r):
    better = {True: "higher is better", False: "lower is better"}.get(r.get("higher_is_better"))
    return f"{r['metric']} ({better})" if better else r["metric"]


def _differs_mark(vs):
    """" **differs**" for a pair that differs after the table's correction, " (not after Holm)" for
    one whose interval alone excludes 1; " (few runs)" beside either with under stats.FEW_RUNS runs."""
    mark = " **differs**" if vs["significant"] else (" (not after Holm)" if vs.get("uncorrected_significant") else "")
    return mark + (" (few runs)" if mark and vs.get("few_runs") else "")


def table(rows, with_metric=False):
    """(head, body) of the twin table, one line per pair and result (with_metric: a metric column
    after the workload, for a sweep whose points measure different metrics)."""
    head = ["workload"] + (["metric"] if with_metric else []) + [
        "scxlab", "kernel", "runs", "scxlab vs cfs", "kernel vs cfs", "scxlab vs kernel", "result"]
    body = [[r["workload"]] + ([_metric_cell(r)] if with_metric else []) + [
             r["ours"], r["kernel"], _runs_cell(r), _cell(r["ours_vs_cfs"]), _cell(r["kernel_vs_cfs"]),
             _cell(r["ours_vs_kernel"]) + _differs_mark(r["ours_vs_kernel"]),
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
            "twins": [list(t) for t in TWINS], "rows": _one_family(rows), "callback_ns": costs, "missing": sw.missing}


def _cell(r):
    if r is None:
        return "-"
    return f"{fmt_ratio(r['ratio'])} {fmt_ratio_ci(r['ci_low'], r['ci_high'])}".strip()


def marks_legend():
    """What the twin table's marks mean (the sweep's twins.md and the paper say it alike)."""
    return ("**differs** marks a pair whose interval excludes no change and whose change stays significant "
            "after Holm's correction over every row of the table (one family): the two versions of the idea do "
            "not perform alike there; (not after Holm): the interval alone excludes no change; (few runs): "
            f"fewer than {stats.FEW_RUNS} runs a side, so the call is tentative.")


def to_markdown(doc):
    lines = ["# scxlab's policies beside the kernel's twins (emulated guest, QEMU TCG)", "",
             "Each workload was measured in one boot, every policy interleaved and repeated. Ratios",
             "to cfs and of scxlab's policy to its kernel twin with 95% bootstrap intervals. " + marks_legend(), ""]
    if doc["rows"]:
        lines += markdown_table(*table(doc["rows"], with_metric=True))
    else:
        lines.append("No point has runs of a twin pair.")
    if doc["callback_ns"]:
        lines += ["", "BPF run time per call in ns (and calls) of each policy's callbacks, over its runs "
                  "(runs with kernel.bpf_stats_enabled, which slows every BPF program):", ""]
        lines += markdown_table(*cost_table(doc["callback_ns"]))
        lines += ["", "Per callback:", ""] + callback_table(doc["callback_ns"])
    lines += missing_markdown(doc.get("missing"))
    return "\n".join(lines) + "\n"


def write(sweep_dir):
    doc = twins(sweep_dir)
    return write_sweep_report(sweep_dir, "twins", doc, to_markdown(doc))
