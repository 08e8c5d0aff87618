"""What each policy costs (issue 3's overhead benchmark): from the points of an overhead sweep
(configs/sweeps/overhead.ini), the ratio of each policy's throughput to cfs on each benchmark,
with its 95% bootstrap interval, and, from the points run with the bpf-stats monitor, the BPF run
time per call of each policy callback. Written next to the sweep's results as overhead.md and
overhead.json. Everything was measured in an emulated guest (QEMU TCG)."""

from . import stats
from .compare import BASELINE, pool, ratio_cis
from .report import fmt_ratio, markdown_table, write_sweep_report
from .sweep import missing_markdown, read_sweep


def _has_bpf_stats(result):
    return any("bpf-stats" in m for m in result.factors.get("monitors", []))


def callback_costs(result):
    """{policy: {callback: {"ns_per_run", "run_cnt"}}} summed over the valid runs of a result."""
    out = {}
    for run in result.runs:
        if not run.valid:
            continue
        progs = (run.info.get("monitors") or {}).get("bpf_prog_stats") or {}
        for name, s in progs.items():
            acc = out.setdefault(run.policy, {}).setdefault(name, {"run_time_ns": 0, "run_cnt": 0})
            acc["run_time_ns"] += s.get("run_time_ns", 0)
            acc["run_cnt"] += s.get("run_cnt", 0)
    for per in out.values():
        for acc in per.values():
            acc["ns_per_run"] = acc["run_time_ns"] / acc["run_cnt"] if acc["run_cnt"] else None
    return out


def callback_rows(costs, what="workload"):
    """(head, rows): one row per workload, policy and callback of costs ({workload: callback_costs()})."""
    rows = []
    for wl, per in sorted(costs.items()):
        for policy, cbs in sorted(per.items()):
            for cb, s in sorted(cbs.items()):
                rows.append([wl, policy, cb, str(s["run_cnt"]),
                             "-" if s["ns_per_run"] is None else f"{s['ns_per_run']:.0f}"])
    return [what, "policy", "callback", "calls", "ns per call"], rows


def callback_table(costs, what="workload"):
    """Markdown lines of callback_rows()."""
    return markdown_table(*callback_rows(costs, what))


def overhead(sweep_dir):
    """Ratios and callback costs from the sweep's valid points (read from its sweep.json), and
    the points that have no valid result as "missing"."""
    sw = read_sweep(sweep_dir)
    ratios, costs = [], {}
    for _, res in sw.results:
        workload = res.factors.get("workload", "?")
        if _has_bpf_stats(res):
            costs[workload] = callback_costs(res)
            continue
        ds = pool([res])
        head = res.headline
        base_vals = [r.metrics[head].value for r in ds.runs_of(BASELINE, valid=True) if head in r.metrics]
        unit = next((r.metrics[head].unit for r in ds.runs_of(BASELINE, valid=True) if head in r.metrics), "")
        kind = stats.metric_kind(unit)
        for policy, ratio, n, nb in ratio_cis(ds):
            ratios.append({"workload": workload, "metric": head, "policy": policy, "runs": n, "baseline_runs": nb,
                           "baseline": stats.summarize(base_vals, kind).center if base_vals else None,
                           "unit": unit, "ratio": ratio.ratio if ratio else None,
                           "ci_low": ratio.ci_low if ratio else None, "ci_high": ratio.ci_high if ratio else None,
                           "result": res.id})
    return {"sweep": str(sweep_dir), "emulated": "QEMU TCG guest: absolute numbers are not those of real hardware",
            "ratios": ratios, "callback_ns": costs, "missing": sw.missing}



def to_markdown(doc):
    lines = ["# Policy overhead (emulated guest, QEMU TCG)", "",
             "Throughput of each policy relative to cfs, measured in one boot per benchmark with",
             "interleaved runs; 95% bootstrap intervals. Per-callback BPF time comes from separate",
             "runs with kernel.bpf_stats_enabled (it slows every BPF program).", ""]
    ratios = [[r["workload"], r["metric"], r["policy"], f"{r['runs']} vs {r['baseline_runs']}",
               fmt_ratio(r["ratio"]) + ("" if r["ci_low"] is None else f" [{fmt_ratio(r['ci_low'])}, {fmt_ratio(r['ci_high'])}]"),
               f"`{r['result']}`"] for r in doc["ratios"]]
    lines += markdown_table(["benchmark", "metric", "policy", "runs", "vs cfs [95% CI]", "result"], ratios)
    lines += [""] + callback_table(doc["callback_ns"], "benchmark")
    lines += missing_markdown(doc.get("missing"))
    return "\n".join(lines) + "\n"


def write(sweep_dir):
    doc = overhead(sweep_dir)
    return write_sweep_report(sweep_dir, "overhead", doc, to_markdown(doc))
