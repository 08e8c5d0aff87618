"""matplotlib figures from comparisons. Each figure carries a stamp naming the result
directories and runs it came from and saying that they were measured in an emulated guest.

Per dataset (one result, or a pool of results whose factors match), when it has something to
compare (two policies or more):

    throughput-<id>   the headline rate per policy: every run as a dot, the harmonic mean with its
                      95% bootstrap interval; beside it each policy's ratio to cfs with its interval
    latency-<id>      request latency distributions: the percentiles a workload reports (metrics
                      named <family>_p<N>_<unit> and <family>_max_<unit>, as wrk's are; not the
                      sched.* per-task scheduling percentiles, which are not request latencies),
                      one thin line per run and the median over runs thick, per policy, on a tail axis
    shares-<id>       per-cgroup CPU share achieved against entitled, for a result with cgroups
                      that is not part of a larger design (see shares below)
and, over all datasets given together:
    overhead          every policy's scheduling cost (monitor:* perf stat costs per unit of work,
                      bpf_* run times) relative to cfs, one row per result and policy, one panel
                      per cost, with 95% bootstrap intervals
    shares-<design>   results of one design (same workload, policies and kind of cgroup tree,
                      e.g. the points of a weight sweep): achieved vs entitled share, one panel
                      per cgroup depth
    weight-sweep      the cgroup weight sweep's points as heat maps over depth x ratio: per
                      policy, achieved minus entitled share of the higher-weighted cgroup; per
                      policy but cfs, throughput vs cfs (analysis/weights.py computes the cells)
    share-error       the share-accuracy sweep's valid points: the higher-weighted instance's share
                      error against the weight ratio, a line per policy and depth (weights.py)
    clocks-<id>       results that differ only in their clock (virtual icount vs real), side by side
and, for the paper, claims (drawn by claims_figure from what analysis/paperdoc.py measured).

Every policy has one colour everywhere (POLICY_COLORS, then a colour fixed by the name's hash),
so a reader can follow a policy from figure to figure. Time axes are shown in the unit that suits
the data (time_scale). A figure that cannot be drawn from the data (no rate headline, one
policy only, no percentiles, no baseline) is skipped with a note saying why, never drawn empty.
SVG output is byte-for-byte reproducible (fixed hash salt, no date), so regenerated figures do
not churn in git.
"""
import hashlib
import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from . import AnalysisError, stats  # noqa: E402
from . import weights as weightsmod  # noqa: E402
from .compare import BASELINE, compare, factor_values, params_mismatch  # noqa: E402
from .loader import MONITOR_PREFIX  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "scxlab", "svg.fonttype": "none", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False})

# Request latency percentiles. sched.* metrics (e.g. sched.task_rq_wait_per_slice_p90_us: a
# percentile across the workload's tasks of their run-queue wait per timeslice) share the
# naming but are not request latencies: they are compared in the tables, not drawn here.
_PERCENTILE = re.compile(r"^(?!sched\.)(?P<family>.+)_(?:p(?P<pct>\d+(?:\.\d+)?)|(?P<max>max))_(?P<unit>ns|us|ms|s)$")
FORMATS = ("svg", "png", "pdf")
EMULATED = "emulated (QEMU TCG)"

# One colour per policy in every figure. Related policies (an idea and its ablations) get
# shades of one hue; cfs, the baseline, is dark grey.
POLICY_COLORS = {
    "cfs": "#4d4d4d",
    "fifo": "#1f77b4", "fifo-sysrq": "#aec7e8",
    "cgfifo": "#ff7f0e",
    "mlyield": "#2ca02c", "mlyield-always-migrate": "#98df8a", "mlyield-never-migrate": "#17becf",
    "mltrace": "#bcbd22",
    "qmap": "#d62728", "central": "#9467bd", "atropos": "#8c564b", "userland": "#e377c2", "pair": "#c49c94",
    "faulty": "#ff9896", "faulty-stall": "#f7b6d2", "faulty-bad-cpu": "#c5b0d5", "faulty-hang": "#dbdb8d",
    "scx_simple": "#393b79", "scx_flatcg": "#e6550d", "scx_qmap": "#843c39", "scx_central": "#7b4173",
    "scx_pair": "#8c6d31", "scx_userland": "#d6616b", "scx_sdt": "#637939", "scx_cpu0": "#5254a3",
}
_FALLBACK = plt.get_cmap("tab20b").colors


@dataclass
class Figure:
    path: Path
    kind: str
    caption: str
    ids: list = field(default_factory=list)  # the results it was drawn from


def policy_color(policy):
    """The policy's colour, the same in every figure: from POLICY_COLORS, else one picked by a
    hash of the name (stable across runs and figures, unlike Python's hash())."""
    if policy in POLICY_COLORS:
        return POLICY_COLORS[policy]
    digest = hashlib.sha256(policy.encode()).digest()
    return matplotlib.colors.to_hex(_FALLBACK[int.from_bytes(digest[:4], "big") % len(_FALLBACK)])


_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
UNIT_LABEL = {"us": "µs"}


def time_scale(values, unit):
    """(factor, unit) to show `values` (given in `unit`) in: the largest of ns, µs, ms, s in
    which the largest magnitude is still at least 10 (1e4..1e7 µs read as ms). Units that
    are not times are left as they are (factor 1)."""
    if unit not in _SECONDS:
        return 1.0, unit
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    ref = max(finite) if finite else 0.0
    best = unit
    for name, sec in _SECONDS.items():  # smallest first: the last that fits is the largest
        if ref * _SECONDS[unit] / sec >= 10:
            best = name
    return _SECONDS[unit] / _SECONDS[best], best


def unit_label(unit):
    return UNIT_LABEL.get(unit, unit)


def policy_ticks(ax, labels, axis="x"):
    """Tick labels that do not overlap: slanted when there are more than three or any is long."""
    n = len(labels)
    if axis == "x":
        ax.set_xticks(range(n))
        if n > 3 or any(len(line) > 12 for lab in labels for line in lab.split("\n")):
            # slanted labels on one line each: stacked lines of neighbours would cross
            ax.set_xticklabels([lab.replace("\n", " ") for lab in labels], rotation=35, ha="right",
                               rotation_mode="anchor", fontsize=7.5)
        else:
            ax.set_xticklabels(labels)
    else:
        ax.set_yticks(range(n))
        ax.set_yticklabels(labels, fontsize=7)


def slug(dataset):
    ids = dataset.ids
    return ids[0] if len(ids) == 1 else f"{ids[0]}+{len(ids) - 1}more"


def caption(text):
    """A figure's caption, saying where it was measured (every figure in the paper does)."""
    return f"{text.rstrip('.')}. Measured {EMULATED}: absolute numbers are not those of real hardware."


def _run_counts(datasets):
    counts = {}
    for ds in datasets:
        for p in ds.policies:
            v, i = counts.get(p, (0, 0))
            counts[p] = (v + len(ds.runs_of(p, valid=True)), i + len(ds.runs_of(p, valid=False)))
    return ", ".join(f"{p} {v}" + (f" (+{i} invalid excluded)" if i else "") for p, (v, i) in counts.items())


def stamp_text(datasets, full=False):
    """Which runs a figure came from, and that they were emulated. Beyond three results the
    figure names the first and last and counts the rest (full=True lists all, for metadata)."""
    clocks = sorted({res.clock for ds in datasets for res in ds.results})
    head = (f"Measured in an emulated guest (QEMU TCG, clock={'/'.join(clocks)}); "
            f"absolute numbers are not those of real hardware.")
    if len(datasets) <= 3 or full:
        parts = [f"{' + '.join(ds.ids)}: runs {_run_counts([ds])}" for ds in datasets]
        return head + "\nFrom " + "; ".join(parts)
    ids = [i for ds in datasets for i in ds.ids]
    return head + f"\nFrom {len(ids)} results, {ids[0]} ... {ids[-1]}: runs {_run_counts(datasets)}"


def _finish(fig, datasets, path, formats):
    width_chars = int(fig.get_figwidth() * 17)  # about what fits at 6.5 pt
    lines = [w for line in stamp_text(datasets).split("\n") for w in textwrap.wrap(line, width_chars)]
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=6.5, color="0.3", ha="left", va="bottom")
    # leave room below the axes' labels for the stamp
    fig.tight_layout(rect=(0, min(0.4, (0.2 + 0.11 * len(lines)) / fig.get_figheight()), 1, 1))
    written = []
    description = stamp_text(datasets, full=True)
    for fmt in formats:
        out = path.with_suffix("." + fmt)
        # Each backend names its metadata differently; no dates, so output is reproducible.
        meta = {"svg": {"Title": path.stem, "Description": description, "Creator": "scxlab analysis", "Date": None},
                "png": {"Title": path.stem, "Description": description, "Software": "scxlab analysis"},
                "pdf": {"Title": path.stem, "Subject": description, "Creator": "scxlab analysis",
                        "CreationDate": None}}[fmt]
        fig.savefig(out, metadata=meta, dpi=150)
        written.append(out)
    plt.close(fig)
    return written[0]


def _err(center, lo, hi):
    if lo is None:
        return [[0], [0]]
    return [[max(center - lo, 0)], [max(hi - center, 0)]]


def _pct(r):
    """A ratio as % change: (center, low, high), the interval None without one."""
    c = (r.ratio - 1) * 100
    if r.ci_low is None:
        return c, None, None
    return c, (r.ci_low - 1) * 100, (r.ci_high - 1) * 100


def _rate_panel(ax, m, rng, title):
    """Every run as a dot and the summary with its interval, per policy, on ax."""
    for i, r in enumerate(m.rows):
        color = policy_color(r.policy)
        if not r.summary:
            ax.text(i, 0, "no valid run", ha="center", va="bottom", fontsize=7, rotation=90)
            continue
        s = r.summary
        xs = i + rng.uniform(-0.12, 0.12, size=len(s.values))
        ax.scatter(xs, s.values, s=10, color=color, alpha=0.5, linewidths=0, zorder=2)
        ax.errorbar([i + 0.28], [s.center], yerr=_err(s.center, s.ci_low, s.ci_high), fmt="D", color=color,
                    capsize=3, markersize=5, zorder=3)
    policy_ticks(ax, [f"{r.policy}\n(n={r.n_valid})" for r in m.rows])
    ax.set_ylabel(f"{m.name} ({m.unit})")
    ax.set_title(title, fontsize=9)
    ax.set_xlim(-0.5, len(m.rows) - 0.3)
    values = [v for r in m.rows if r.summary for v in r.summary.values]
    if values:
        ax.set_ylim(bottom=min(0, min(values)))


def _ratio_panel(ax, rows, labels):
    """Each row's ratio to cfs as % change with its interval; * marks a significant one."""
    for j, r in enumerate(rows):
        c, lo, hi = _pct(r.ratio)
        ax.errorbar([j], [c], yerr=_err(c, lo, hi), fmt="o", color=policy_color(r.policy), capsize=4, markersize=6)
        # above the interval, so neighbours' labels do not run into each other
        ax.annotate(f"{c:+.1f}%" + ("*" if r.ratio.significant else ""), (j, c if hi is None else hi),
                    xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", fontsize=7)
    ax.axhline(0, color="0.5", lw=0.8, ls="--")
    policy_ticks(ax, labels)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_ylabel(f"change vs {BASELINE} (%)")
    ax.set_title(f"ratio to {BASELINE}, 95% bootstrap CI\n* significant", fontsize=9)


def _with_ratio(m):
    return [r for r in m.rows if r.ratio is not None and r.ratio.ratio is not None]


def throughput(dataset, out_dir, formats, notes, comparison=None):
    head = dataset.first.headline
    if not head:
        notes.append(f"throughput figure for {slug(dataset)} skipped: the manifest names no headline metric")
        return None
    if len(dataset.policies) < 2:
        notes.append(f"throughput figure for {slug(dataset)} skipped: one policy only, nothing to compare "
                     f"(its numbers are in its table)")
        return None
    cmp = comparison or compare(dataset, metrics=[head])
    m = cmp.metric(head)
    if m.kind != stats.RATE:
        notes.append(f"throughput figure for {slug(dataset)} skipped: headline {head} ({m.unit}) is not a rate")
        return None
    rows = _with_ratio(m)
    width = max(4.5, 0.55 * len(m.rows) + 2.2)
    fig, axes = plt.subplots(1, 2 if rows else 1, figsize=(2 * width if rows else width, 3.8), squeeze=False)
    _rate_panel(axes[0][0], m, np.random.default_rng(stats.SEED),
                f"{dataset.first.workload}: {head}\nharmonic mean, 95% bootstrap CI")
    if rows:
        base_n = next((r.n_valid for r in m.rows if r.policy == BASELINE), 0)
        _ratio_panel(axes[0][1], rows, [f"{r.policy}\n(n={r.n_valid} vs {base_n})" for r in rows])
    path = _finish(fig, [dataset], out_dir / f"throughput-{slug(dataset)}", formats)
    sig = [f"{r.policy} {(r.ratio.ratio - 1) * 100:+.1f}%" for r in rows]
    return Figure(path, "throughput",
                  caption(f"{dataset.first.workload}: {head} per policy (dots: runs; diamonds: harmonic mean with "
                          f"95% bootstrap CI)" + (f"; change vs {BASELINE}: {', '.join(sig)}" if sig else "")),
                  list(dataset.ids))


def _percentile_families(dataset):
    """{(family, unit): [(position, metric name, label)]} for the percentile metrics reported."""
    fams = {}
    for name in dataset.metric_names():
        mm = _PERCENTILE.match(name)
        if not mm:
            continue
        if mm.group("max"):
            pos, label = None, "max"
        else:
            pct = float(mm.group("pct"))
            if not 0 < pct < 100:
                continue
            pos, label = -math.log10(1 - pct / 100), f"p{mm.group('pct')}"
        fams.setdefault((mm.group("family"), mm.group("unit")), []).append((pos, name, label))
    out = {}
    for key, pts in fams.items():
        finite = [p for p, _, _ in pts if p is not None]
        if len(pts) < 2 or not finite:
            continue
        # max has no percentile: draw it one decade past the highest one reported.
        top = max(finite) + 1
        out[key] = sorted(((top if p is None else p), n, lab) for p, n, lab in pts)
    return out


def latency(dataset, out_dir, formats, notes):
    fams = _percentile_families(dataset)
    if not fams:
        notes.append(f"latency figure for {slug(dataset)} skipped: no latency percentile metrics "
                     f"(<family>_p<N>_<unit>) in its runs")
        return None
    if len(dataset.policies) < 2:
        notes.append(f"latency figure for {slug(dataset)} skipped: one policy only, nothing to compare")
        return None
    policies = dataset.policies
    fig, axes = plt.subplots(1, len(fams), figsize=(4.8 * len(fams), 3.8), squeeze=False)
    for ax, ((family, unit), pts) in zip(axes[0], sorted(fams.items())):
        xs = [p for p, _, _ in pts]
        per_policy = []
        for policy in policies:
            runs = [r for r in dataset.runs_of(policy, valid=True) if all(n in r.metrics for _, n, _ in pts)]
            if runs:
                per_policy.append((policy, np.array([[r.metrics[n].value for _, n, _ in pts] for r in runs])))
        factor, shown = time_scale([v for _, ys in per_policy for v in ys.ravel()], unit)
        for policy, ys in per_policy:
            color = policy_color(policy)
            for row in ys * factor:
                ax.plot(xs, row, color=color, lw=0.6, alpha=0.35)
            ax.plot(xs, np.median(ys, axis=0) * factor, color=color, lw=2, marker="o", markersize=3.5,
                    label=f"{policy} (n={len(ys)}, median of runs)")
        ax.set_xticks(xs)
        ax.set_xticklabels([lab for _, _, lab in pts])
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("percentile (tail axis)")
        ax.set_ylabel(f"{family} ({unit_label(shown)})")
        ax.set_title(f"{dataset.first.workload}: {family} distribution\nthin: one run; thick: median over runs",
                     fontsize=9)
        if per_policy:
            ax.legend(fontsize=7, frameon=False)
    path = _finish(fig, [dataset], out_dir / f"latency-{slug(dataset)}", formats)
    return Figure(path, "latency", caption(f"{dataset.first.workload}: latency percentiles per policy "
                                           f"({', '.join(f for f, _ in sorted(fams))}; thin lines: runs, thick: "
                                           f"median over runs)"), list(dataset.ids))


def _overhead_metrics(dataset):
    return [n for n in dataset.metric_names() if n.startswith(MONITOR_PREFIX) or n.startswith("bpf_")]


def _cost_name(metric):
    """The cost a metric measures, without the unit of work it is divided by:
    monitor:context_switches_per_req -> context_switches."""
    name = metric[len(MONITOR_PREFIX):] if metric.startswith(MONITOR_PREFIX) else metric
    return name.split("_per_", 1)[0]


def overhead(datasets, out_dir, formats, notes, comparisons=None):
    """Every policy's scheduling cost relative to cfs, over all datasets: one panel per cost,
    one row per (result, policy), ratio on a log axis with its 95% interval."""
    rows, panels, used = [], [], []
    for ds in datasets:
        names = _overhead_metrics(ds)
        if not names:
            notes.append(f"overhead of {slug(ds)} not drawn: its runs recorded no perf stat monitors and no bpf_* metrics")
            continue
        if BASELINE not in ds.policies or len(ds.policies) < 2:
            notes.append(f"overhead of {slug(ds)} not drawn: it needs {BASELINE} and at least one other policy")
            continue
        cmp = (comparisons or {}).get(tuple(ds.ids)) or compare(ds, metrics=names)
        used.append(ds)
        for policy in [p for p in ds.policies if p != BASELINE]:
            cells = {}
            for name in names:
                m = cmp.metric(name)
                r = next((r for r in m.rows if r.policy == policy), None)
                if r and r.ratio and r.ratio.ratio:
                    cost = _cost_name(name)
                    cells[cost] = r.ratio
                    if cost not in panels:
                        panels.append(cost)
            if cells:
                rows.append((f"{ds.first.workload}: {policy} ({ds.first.id[2:15]})", policy, cells))
    if not rows:
        notes.append("overhead figure skipped: no result has cfs, another policy and cost metrics")
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(2.9 * len(panels) + 2.4, 0.19 * len(rows) + 1.9),
                             squeeze=False, sharey=True)
    for ax, cost in zip(axes[0], panels):
        extremes = [1.0]
        for y, (_, policy, cells) in enumerate(rows):
            r = cells.get(cost)
            if r is None:
                continue
            has_ci = r.ci_low is not None and r.ci_low > 0
            ax.errorbar([r.ratio], [y], xerr=_err(r.ratio, r.ci_low, r.ci_high) if has_ci else None, fmt="o",
                        color=policy_color(policy), ecolor=policy_color(policy), markersize=4, capsize=2, lw=1)
            extremes += [r.ci_low, r.ci_high] if has_ci else [r.ratio]
        ax.set_xscale("log")
        ax.set_xlim(min(extremes) / 1.3, max(extremes) * 1.3)
        # 1-2-5 ticks: a panel spanning less than a decade still reads
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.axvline(1, color="0.4", lw=0.8)
        ax.set_title(f"{cost.replace('_', ' ')}\nper unit of work", fontsize=8.5)
        ax.set_xlabel(f"ratio to {BASELINE} (log), 95% CI", fontsize=8)
        ax.grid(axis="y", color="0.92", lw=0.5)
    policy_ticks(axes[0][0], [label for label, _, _ in rows], axis="y")
    axes[0][0].set_ylim(len(rows) - 0.5, -0.5)
    path = _finish(fig, used, out_dir / "overhead", formats)
    return Figure(path, "overhead", caption(
        f"Scheduling cost of every policy relative to {BASELINE} in the same result ({', '.join(panels)}; "
        f"perf stat software events over all CPUs, divided by the work done), {len(rows)} policy-result pairs "
        f"from {len(used)} results; a dot right of 1x costs more than {BASELINE}"), [i for ds in used for i in ds.ids])


def _cgroup_depth(cgroup):
    return len([c for c in cgroup.strip("/").split("/") if c])


def _share_points(dataset):
    """[(policy, cgroup, entitled, achieved values over runs)] from per-cgroup metrics."""
    pts = []
    for policy in dataset.policies:
        per_cg = {}
        for r in dataset.runs_of(policy, valid=True):
            for m in r.metrics.values():
                if m.cgroup and m.base in ("cpu_share_achieved", "cpu_share_entitled"):
                    per_cg.setdefault(m.cgroup, {"cpu_share_achieved": [], "cpu_share_entitled": []})[m.base].append(m.value)
        for cg, d in sorted(per_cg.items()):
            if d["cpu_share_achieved"] and d["cpu_share_entitled"]:
                pts.append((policy, cg, float(np.median(d["cpu_share_entitled"])), d["cpu_share_achieved"]))
    return pts


def _design(dataset):
    """What results must share to be drawn together: workload, policies and kind of cgroup tree
    (a generated pair:DEPTH:RATIO tree's depth and ratio are the design's variables)."""
    res = dataset.first
    tree = (res.factors.get("cgroups") or {}).get("name") or ""
    sweep = weightsmod.sweep_of(res)
    kind = "weight-sweep" if sweep == weightsmod.WEIGHT_SWEEP else (sweep or tree.split(":", 1)[0])
    return res.workload, tuple(dataset.policies), kind


def _depth(dataset, pts):
    depth, _ = weightsmod.tree_point(dataset.first)
    return depth if depth is not None else max(_cgroup_depth(cg) for _, cg, _, _ in pts)


def shares(datasets, out_dir, formats, notes):
    """One figure per design (see _design), one panel per cgroup depth: CPU share achieved
    against entitled, per policy. Returns a list of figures."""
    designs = {}
    for ds in datasets:
        if weightsmod.is_share_sweep_point(ds.first):
            continue  # drawn as the share error against the ratio (share_error())
        pts = _share_points(ds)
        if pts:
            designs.setdefault(_design(ds), []).append((ds, pts))
    if not designs:
        notes.append("cgroup shares figure skipped: no result has per-cgroup metrics "
                     "(cpu_share_achieved[<cgroup>] and cpu_share_entitled[<cgroup>])")
        return []
    figs = []
    for (workload, policies, kind), found in sorted(designs.items()):
        by_depth = {}
        for ds, pts in found:
            by_depth.setdefault(_depth(ds, pts), []).append(pts)
        depths = sorted(by_depth)
        fig, axes = plt.subplots(1, len(depths), figsize=(3.3 * len(depths) + 0.6, 3.9), squeeze=False,
                                 sharey=True)
        for ax, depth in zip(axes[0], depths):
            labelled = set()
            for pts in by_depth[depth]:
                for policy, cg, entitled, achieved in pts:
                    s = stats.summarize(achieved, stats.OTHER)
                    ax.errorbar([entitled], [s.center], yerr=_err(s.center, s.ci_low, s.ci_high), fmt="o",
                                markersize=4, color=policy_color(policy), capsize=2, alpha=0.85,
                                label=None if policy in labelled else policy)
                    labelled.add(policy)
            ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", label="achieved = entitled")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
            ax.set_xlabel("CPU share entitled by the weights")
            ax.set_title(f"{workload}: cgroups {depth} level{'s' if depth != 1 else ''} deep", fontsize=9)
        axes[0][0].set_ylabel("CPU share achieved\n(mean over runs, 95% CI)")
        axes[0][-1].legend(fontsize=7, frameon=False, loc="upper left")
        dss = [ds for ds, _ in found]
        name = (f"shares-{slug(dss[0])}" if len(dss) == 1
                else f"shares-{workload}-{'+'.join(policies)}" + (f"-{kind}" if kind else ""))
        path = _finish(fig, dss, out_dir / name, formats)
        figs.append(Figure(path, "shares", caption(
            f"{workload}: per-cgroup CPU share achieved vs entitled, {', '.join(policies)}, over {len(dss)} "
            f"result(s), one panel per cgroup depth; points on the dashed line mean the weights were honoured"),
            [i for ds in dss for i in ds.ids]))
    return figs


def _heat_panel(ax, grid, depths, ratios, title, fmt, limit, cmap):
    masked = np.ma.masked_invalid(grid)
    img = ax.imshow(masked, cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    img.cmap.set_bad("0.9")
    for i in range(len(depths)):
        for j in range(len(ratios)):
            v = grid[i, j]
            ax.text(j, i, "n/a" if np.isnan(v) else fmt(v), ha="center", va="center", fontsize=7,
                    color="black" if np.isnan(v) or abs(v) < 0.6 * limit else "white")
    ax.set_xticks(range(len(ratios)))
    ax.set_xticklabels([f"{r}:1" for r in ratios])
    ax.set_yticks(range(len(depths)))
    ax.set_yticklabels([str(d) for d in depths])
    ax.set_xlabel("weight ratio")
    ax.set_ylabel("cgroup depth")
    ax.set_title(title, fontsize=8.5)
    ax.spines[:].set_visible(False)
    return img


def share_error(datasets, out_dir, formats, notes):
    """The share-accuracy sweep's points (issue 13 item 3) as one figure: each policy's share error
    against the weight ratio, a line per depth (weights.share_error_figure)."""
    points, _ = weightsmod.share_points(datasets)
    if not points:
        notes.append("share error figure skipped: no valid result is a point of the share-accuracy sweep "
                     f"(make sweep SWEEP={weightsmod.SHARE_SWEEP})")
        return None
    doc = weightsmod.grid_doc(points)
    path = weightsmod.share_error_figure(doc, points, out_dir, formats)
    if path is None:
        notes.append("share error figure skipped: no share-accuracy point has an achieved share")
        return None
    return Figure(path, "share-error", caption(
        f"Share accuracy with CPU-bound instances ({len(points)} points, {', '.join(sorted({r['policy'] for r in doc['rows']}))}): "
        f"the higher-weighted instance's achieved share relative to its entitled share, minus 1, against the "
        f"weight ratio, a line per policy and cgroup depth, 95% intervals; grey band: the +-"
        f"{doc['share_goal'] * 100:g}% goal"), [i for ds in points for i in ds.ids])


def weight_sweep(datasets, out_dir, formats, notes, rows=None):
    """The weight sweep's points as heat maps over depth x ratio (cells from weights.point_rows):
    per policy, the higher-weighted cgroup's achieved minus entitled share; per policy but cfs,
    its throughput change vs cfs."""
    points = [ds for ds in datasets if weightsmod.is_weight_sweep_point(ds.first)]
    if not points:
        notes.append("weight sweep heat map skipped: no result is a point of a cgroup weight sweep "
                     "(make sweep SWEEP=cgroup-weights)")
        return None
    if rows is None:
        rows = [r for ds in points for r in weightsmod.point_rows(ds.first)]
    depths = sorted({r["depth"] for r in rows})
    ratios = sorted({r["ratio"] for r in rows})
    policies = sorted({r["policy"] for r in rows}, key=lambda p: (p != BASELINE, p))
    panels = []
    for policy in policies:
        grid = np.full((len(depths), len(ratios)), np.nan)
        for r in rows:
            if r["policy"] == policy and r["achieved_share"] and r["entitled_share"] is not None:
                grid[depths.index(r["depth"]), ratios.index(r["ratio"])] = \
                    r["achieved_share"]["mean"] - r["entitled_share"]
        panels.append((f"{policy}: achieved - entitled share\n(higher-weighted cgroup)", grid,
                       lambda v: f"{v:+.2f}", "share"))
    for policy in policies:
        if policy == BASELINE:
            continue
        grid = np.full((len(depths), len(ratios)), np.nan)
        for r in rows:
            if r["policy"] == policy and r["vs_cfs"] is not None:
                grid[depths.index(r["depth"]), ratios.index(r["ratio"])] = (r["vs_cfs"] - 1) * 100
        panels.append((f"{policy}: throughput vs {BASELINE} (%)", grid, lambda v: f"{v:+.1f}", "thr"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 0.4, 0.42 * len(depths) + 2.6),
                             squeeze=False)
    for ax, (title, grid, fmt, what) in zip(axes[0], panels):
        same = [g for _, g, _, w in panels if w == what]
        finite = np.concatenate([g[~np.isnan(g)] for g in same]) if same else np.array([])
        # one scale for the panels of one quantity, symmetric about "as entitled" / "as cfs"
        limit = float(np.max(np.abs(finite))) if finite.size and np.max(np.abs(finite)) > 0 else 1.0
        img = _heat_panel(ax, grid, depths, ratios, title, fmt, limit, "RdBu_r" if what == "share" else "PuOr")
        fig.colorbar(img, ax=ax, shrink=0.8)
    path = _finish(fig, points, out_dir / "weight-sweep", formats)
    return Figure(path, "weight-sweep", caption(
        f"The cgroup weight sweep ({len(points)} points, {', '.join(policies)}): over cgroup depth and weight ratio, "
        f"how far the higher-weighted cgroup's CPU share was from what its weights entitle it to (0: honoured), "
        f"and each policy's throughput change vs {BASELINE}; grey: no valid runs"), [i for ds in points for i in ds.ids])


# The factors a result's clock decides (compare.factor_values): results of the same policies
# differing in these only measured the same thing on the two clocks.
_CLOCK_FACTORS = ("clock", "clock_qemu.", "icount_shift", "host.cpu_model", "host.nproc")


def _differs_in_clock_only(a, b):
    fa, fb = factor_values(a), factor_values(b)
    diff = [k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k)]
    if params_mismatch(a.factors.get("workload"), a.factors.get("workload_params"),
                       b.factors.get("workload_params")):
        return False
    return a.clock != b.clock and sorted(a.policies) == sorted(b.policies) and all(any(k == c or (c.endswith(".") and k.startswith(c)) for c in _CLOCK_FACTORS)
                                      for k in diff)


def clock_groups(datasets):
    """[[virtual-clock dataset, real-clock datasets...]]: results that differ only in their clock,
    weight sweep points left out (their figure is the heat map)."""
    plain = [ds for ds in datasets if not weightsmod.is_grid_point(ds.first)]
    groups = []
    for v in (ds for ds in plain if ds.first.clock == "virtual"):
        real = [ds for ds in plain if ds.first.clock != "virtual" and _differs_in_clock_only(v.first, ds.first)]
        if real:
            groups.append([v] + real)
    return groups


def clocks(group, out_dir, formats, notes, comparisons=None):
    """The same experiment on both clocks: each result's headline per policy, then every
    policy's ratio to cfs under each clock side by side."""
    cmps = []
    for ds in group:
        head = ds.first.headline
        cmp = (comparisons or {}).get(tuple(ds.ids)) or compare(ds, metrics=[head])
        cmps.append((ds, cmp.metric(head)))
    fig, axes = plt.subplots(1, len(group) + 1, figsize=(3.4 * (len(group) + 1), 3.9), squeeze=False)
    rng = np.random.default_rng(stats.SEED)
    for ax, (ds, m) in zip(axes[0], cmps):
        _rate_panel(ax, m, rng, f"clock={ds.first.clock}: {m.name}\n{ds.first.id[:15]}")
    bx = axes[0][-1]
    labels, k = [], 0
    for ds, m in cmps:
        for r in _with_ratio(m):
            c, lo, hi = _pct(r.ratio)
            bx.errorbar([k], [c], yerr=_err(c, lo, hi), fmt="o" if ds.first.clock == "virtual" else "s",
                        color=policy_color(r.policy), capsize=4, markersize=6)
            labels.append(f"{r.policy}\nclock={ds.first.clock}\n{ds.first.id[4:15]}")
            k += 1
    bx.axhline(0, color="0.5", lw=0.8, ls="--")
    policy_ticks(bx, labels)
    bx.set_xlim(-0.6, k - 0.4)
    bx.set_ylabel(f"change vs {BASELINE} (%)")
    bx.set_title(f"ratio to {BASELINE} under each clock\n95% bootstrap CI", fontsize=9)
    path = _finish(fig, group, out_dir / f"clocks-{slug(group[0])}", formats)
    return Figure(path, "clocks", caption(
        f"{group[0].first.workload}: the same experiment on the virtual clock (icount: guest time counts instructions) "
        f"and on the real clock (wall time), {', '.join(i for ds in group for i in ds.ids)}"),
        [i for ds in group for i in ds.ids])


@dataclass
class ClaimPoint:
    """What the claims figure draws for one claim (analysis/paperdoc.py fills it from a Claim)."""
    title: str
    kind: str  # "ratio": values are % change vs cfs; otherwise the claimed quantity itself
    claimed: float
    measured: tuple  # (center, low, high); low/high None without an interval
    policy: str
    references: list = field(default_factory=list)  # (label, policy or None, (center, low, high))


def claims_figure(points, datasets, out_dir, formats, notes):
    """Measured vs claimed, with each ablation (or a model's majority baseline) beside it: one
    panel for the claims judged as a change vs cfs, one for those judged on a value."""
    groups = [(k, [p for p in points if (p.kind == "ratio") == (k == "ratio")]) for k in ("ratio", "value")]
    groups = [(k, g) for k, g in groups if g]
    if not groups:
        notes.append("claims figure skipped: no claim has a measurement yet")
        return None
    height = max(len(g) for _, g in groups)
    fig, axes = plt.subplots(1, len(groups), figsize=(5.2 * len(groups) + 1.2, 0.9 * height + 2.1), squeeze=False)
    for ax, (kind, group) in zip(axes[0], groups):
        for y, p in enumerate(group):
            marks = [("measured", p.policy, p.measured, 0.0)] + [
                (label, pol, v, 0.22 * (k + 1)) for k, (label, pol, v) in enumerate(p.references)]
            for label, pol, (c, lo, hi), dy in marks:
                color = policy_color(pol) if pol else "0.55"
                ax.errorbar([c], [y + dy], xerr=_err(c, lo, hi), fmt="o" if label == "measured" else "s",
                            color=color, capsize=3, markersize=6 if label == "measured" else 4.5, lw=1.2)
                text = f"{label} ({p.policy if label == 'measured' else pol})" if pol else label
                ax.annotate(text, (c, y + dy), xytext=(6, 3), textcoords="offset points", fontsize=6.5, color="0.25")
            ax.scatter([p.claimed], [y], marker="X", s=70, color="black", zorder=4)
            ax.annotate("claimed", (p.claimed, y), xytext=(0, -12), textcoords="offset points", ha="center",
                        fontsize=6.5, color="black")
        ax.set_yticks(range(len(group)))
        ax.set_yticklabels([textwrap.fill(p.title, 24) for p in group], fontsize=7.5)
        ax.set_ylim(len(group) - 0.4, -0.6)
        if kind == "ratio":
            ax.axvline(0, color="0.5", lw=0.8, ls="--")
            ax.set_xlabel(f"change vs {BASELINE} (%), 95% CI")
            ax.set_title(f"claims judged against {BASELINE}", fontsize=9)
        else:
            ax.set_xlabel("value (e.g. held-out accuracy), 95% CI")
            ax.set_title("claims judged on a value", fontsize=9)
        ax.margins(x=0.25)
    path = _finish(fig, datasets, out_dir / "claims", formats) if datasets else None
    if path is None:
        notes.append("claims figure skipped: no claim is measured from a kept result")
        plt.close(fig)
        return None
    return Figure(path, "claims", caption(
        "Each claim: what was claimed (X), what was measured (circle, 95% CI), and beside it what its ablations "
        "measured against the same baseline (squares; a gain they share is not the idea's), or for a model the "
        "majority-class baseline"), [i for ds in datasets for i in ds.ids])


def make_all(datasets, out_dir, formats=("svg",), comparisons=None):
    """Every figure for the datasets; returns (figures, notes about the ones skipped).
    comparisons: {tuple(dataset.ids): compare(dataset)} already computed, reused (and filled)."""
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise AnalysisError(f"figure format {', '.join(bad) or '(none)'}: choose from {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    comparisons = {} if comparisons is None else comparisons
    figs, notes = [], []
    # a weight grid's points are drawn together: the heat map and its shares figure, the share error
    plain = [ds for ds in datasets if not weightsmod.is_grid_point(ds.first)]
    for ds in plain:
        key = tuple(ds.ids)
        if key not in comparisons:
            comparisons[key] = compare(ds)
        for f in (throughput(ds, out_dir, formats, notes, comparisons[key]), latency(ds, out_dir, formats, notes)):
            if f:
                figs.append(f)
    for f in [overhead(plain, out_dir, formats, notes, comparisons), weight_sweep(datasets, out_dir, formats, notes),
              share_error(datasets, out_dir, formats, notes)]:
        if f:
            figs.append(f)
    figs += shares(datasets, out_dir, formats, notes)
    figs += [clocks(g, out_dir, formats, notes, comparisons) for g in clock_groups(datasets)]
    return figs, notes
