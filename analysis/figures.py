"""matplotlib figures from comparisons. Each figure carries a stamp naming the result
directories and runs it came from and saying that they were measured in an emulated guest.

Figures (one set per dataset, i.e. per result or per pool of results whose factors match):

    throughput-<id>   the headline rate per policy: every run as a dot, the harmonic mean with its
                      95% bootstrap interval; beside it each policy's ratio to cfs with its interval
    latency-<id>      latency distributions: the percentiles a workload reports (metrics named
                      <family>_p<N>_<unit> and <family>_max_<unit>, as wrk's are), one thin line
                      per run and the median over runs thick, per policy, on a tail axis
    overhead-<id>     per policy, the ratio to cfs of what scheduling cost: context switches, CPU
                      migrations and CPU time per unit of work (perf stat monitors), and any
                      per-callback BPF run time a result reports (metrics named bpf_*)
and, over all datasets given together:
    shares            per cgroup, the CPU share achieved (y) against the share its weights entitle
                      it to (x), per policy, across a weight sweep; needs per-cgroup metrics
                      cpu_share_achieved and cpu_share_entitled (loader.py), skipped with a note
                      otherwise

A figure that cannot be drawn from the data (no rate headline, no percentiles, no baseline) is
skipped with a note saying why, never drawn empty. SVG output is byte-for-byte reproducible
(fixed hash salt, no date), so regenerated figures do not churn in git.
"""
import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from . import AnalysisError, stats  # noqa: E402
from .compare import BASELINE, compare  # noqa: E402
from .loader import MONITOR_PREFIX  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "scxlab", "svg.fonttype": "none", "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False})

_PERCENTILE = re.compile(r"^(?P<family>.+)_(?:p(?P<pct>\d+(?:\.\d+)?)|(?P<max>max))_(?P<unit>ns|us|ms|s)$")
_PALETTE = plt.get_cmap("tab10").colors
FORMATS = ("svg", "png", "pdf")


@dataclass
class Figure:
    path: Path
    kind: str
    caption: str


def policy_color(policy, policies):
    if policy == BASELINE:
        return "0.35"
    others = sorted(p for p in policies if p != BASELINE)
    return _PALETTE[others.index(policy) % len(_PALETTE)]


def slug(dataset):
    ids = dataset.ids
    return ids[0] if len(ids) == 1 else f"{ids[0]}+{len(ids) - 1}more"


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
    fig.tight_layout(rect=(0, min(0.4, (0.12 + 0.11 * len(lines)) / fig.get_figheight()), 1, 1))
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


def throughput(dataset, out_dir, formats, notes, comparison=None):
    head = dataset.first.headline
    if not head:
        notes.append(f"throughput figure for {slug(dataset)} skipped: the manifest names no headline metric")
        return None
    cmp = comparison or compare(dataset, metrics=[head])
    m = cmp.metric(head)
    if m.kind != stats.RATE:
        notes.append(f"throughput figure for {slug(dataset)} skipped: headline {head} ({m.unit}) is not a rate")
        return None
    policies = [r.policy for r in m.rows]
    has_ratio = any(r.ratio is not None for r in m.rows)
    fig, axes = plt.subplots(1, 2 if has_ratio else 1, figsize=(7.5 if has_ratio else 4.5, 3.4), squeeze=False)
    ax = axes[0][0]
    rng = np.random.default_rng(stats.SEED)
    for i, r in enumerate(m.rows):
        color = policy_color(r.policy, policies)
        if not r.summary:
            ax.text(i, 0, "no valid run", ha="center", va="bottom", fontsize=7, rotation=90)
            continue
        s = r.summary
        xs = i + rng.uniform(-0.12, 0.12, size=len(s.values))
        ax.scatter(xs, s.values, s=10, color=color, alpha=0.5, linewidths=0, zorder=2)
        ax.errorbar([i + 0.28], [s.center], yerr=_err(s.center, s.ci_low, s.ci_high), fmt="D", color=color,
                    capsize=3, markersize=5, zorder=3)
    ax.set_xticks(range(len(policies)))
    ax.set_xticklabels([f"{r.policy}\n(n={r.n_valid})" for r in m.rows])
    ax.set_ylabel(f"{head} ({m.unit})")
    ax.set_title(f"{dataset.first.workload}: {head}\nharmonic mean, 95% bootstrap CI", fontsize=9)
    ax.set_xlim(-0.5, len(policies) - 0.3)
    lo = min(v for r in m.rows if r.summary for v in r.summary.values)
    ax.set_ylim(bottom=min(0, lo))
    if has_ratio:
        bx = axes[0][1]
        rows = [r for r in m.rows if r.ratio is not None and r.ratio.ratio is not None]
        for j, r in enumerate(rows):
            c = (r.ratio.ratio - 1) * 100
            lo_, hi_ = ((r.ratio.ci_low - 1) * 100, (r.ratio.ci_high - 1) * 100) if r.ratio.ci_low is not None \
                else (None, None)
            bx.errorbar([j], [c], yerr=_err(c, lo_, hi_), fmt="o", color=policy_color(r.policy, policies),
                        capsize=4, markersize=6)
            label = f"{c:+.1f}%" + ("*" if r.ratio.significant else "")
            bx.annotate(label, (j, c), xytext=(8, 0), textcoords="offset points", va="center", fontsize=8)
        bx.axhline(0, color="0.5", lw=0.8, ls="--")
        bx.set_xticks(range(len(rows)))
        bx.set_xticklabels([f"{r.policy}\n(n={r.n_valid} vs {len(m.rows[0].summary.values) if m.rows[0].summary else 0})"
                            for r in rows])
        bx.set_xlim(-0.6, len(rows) - 0.4)
        bx.set_ylabel(f"change vs {BASELINE} (%)")
        bx.set_title(f"ratio to {BASELINE}, 95% bootstrap CI\n* significant", fontsize=9)
    path = _finish(fig, [dataset], out_dir / f"throughput-{slug(dataset)}", formats)
    sig = [f"{r.policy} {(r.ratio.ratio - 1) * 100:+.1f}%" for r in m.rows if r.ratio and r.ratio.ratio]
    return Figure(path, "throughput",
                  f"{dataset.first.workload}: {head} per policy (dots: runs; diamonds: harmonic mean with 95% "
                  f"bootstrap CI)" + (f"; change vs {BASELINE}: {', '.join(sig)}" if sig else "") + ".")


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
    policies = dataset.policies
    fig, axes = plt.subplots(1, len(fams), figsize=(4.8 * len(fams), 3.6), squeeze=False)
    for ax, ((family, unit), pts) in zip(axes[0], sorted(fams.items())):
        xs = [p for p, _, _ in pts]
        for policy in policies:
            color = policy_color(policy, policies)
            runs = [r for r in dataset.runs_of(policy, valid=True) if all(n in r.metrics for _, n, _ in pts)]
            if not runs:
                continue
            ys = np.array([[r.metrics[n].value for _, n, _ in pts] for r in runs])
            for row in ys:
                ax.plot(xs, row, color=color, lw=0.6, alpha=0.35)
            ax.plot(xs, np.median(ys, axis=0), color=color, lw=2, marker="o", markersize=3.5,
                    label=f"{policy} (n={len(runs)}, median of runs)")
        ax.set_xticks(xs)
        ax.set_xticklabels([lab for _, _, lab in pts])
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("percentile (tail axis)")
        ax.set_ylabel(f"{family} ({unit})")
        ax.set_title(f"{dataset.first.workload}: {family} distribution\nthin: one run; thick: median over runs",
                     fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    path = _finish(fig, [dataset], out_dir / f"latency-{slug(dataset)}", formats)
    return Figure(path, "latency", f"{dataset.first.workload}: latency percentiles per policy "
                                   f"({', '.join(f for f, _ in sorted(fams))}; thin lines: runs, thick: median over runs).")


def _overhead_metrics(dataset):
    return [n for n in dataset.metric_names() if n.startswith(MONITOR_PREFIX) or n.startswith("bpf_")]


def overhead(dataset, out_dir, formats, notes):
    names = _overhead_metrics(dataset)
    if not names:
        notes.append(f"overhead figure for {slug(dataset)} skipped: its runs recorded no perf stat monitors "
                     f"and no bpf_* metrics")
        return None
    if BASELINE not in dataset.policies or len(dataset.policies) < 2:
        notes.append(f"overhead figure for {slug(dataset)} skipped: it needs {BASELINE} and at least one other policy")
        return None
    cmp = compare(dataset, metrics=names)
    policies = dataset.policies
    others = [p for p in policies if p != BASELINE]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) * len(others) + 1.6))
    height = 0.8 / len(others)
    # Costs can change many-fold (a global queue migrates tasks far more often): ratios on a
    # log axis keep a halving and a doubling the same size.
    extremes = [1.0]
    for k, policy in enumerate(others):
        for i, m in enumerate(cmp.metrics):
            r = next(r for r in m.rows if r.policy == policy)
            if not r.ratio or not r.ratio.ratio:
                continue
            c = r.ratio.ratio
            y = i + k * height
            ax.barh([y], [c - 1], left=1, height=height * 0.9, color=policy_color(policy, policies), alpha=0.85,
                    label=policy if i == 0 else None)
            if r.ratio.ci_low is not None and r.ratio.ci_low > 0:
                ax.errorbar([c], [y], xerr=_err(c, r.ratio.ci_low, r.ratio.ci_high), fmt="none", ecolor="0.15",
                            capsize=2, lw=0.8)
                extremes += [r.ratio.ci_low, r.ratio.ci_high]
            extremes.append(c)
            right = max(c, 1, r.ratio.ci_high if r.ratio.ci_low is not None and r.ratio.ci_low > 0 else 0)
            ax.annotate(f"{(c - 1) * 100:+.0f}%" + ("*" if r.ratio.significant else ""), (right, y),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_xscale("log")
    lo, hi = min(extremes), max(extremes)
    ax.set_xlim(lo / 1.6, hi * 2.2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.axvline(1, color="0.4", lw=0.8)
    ax.set_yticks([i + height * (len(others) - 1) / 2 for i in range(len(names))])
    ax.set_yticklabels([f"{m.name[len(MONITOR_PREFIX):] if m.name.startswith(MONITOR_PREFIX) else m.name} ({m.unit})"
                        for m in cmp.metrics], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"ratio to {BASELINE} (log scale), 95% bootstrap CI; * significant")
    ax.set_title(f"{dataset.first.workload}: scheduling cost per policy relative to {BASELINE}\n"
                 f"(perf stat software events, all CPUs, over the measured run)", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    path = _finish(fig, [dataset], out_dir / f"overhead-{slug(dataset)}", formats)
    return Figure(path, "overhead", f"{dataset.first.workload}: scheduling cost of each policy relative to "
                                    f"{BASELINE} ({', '.join(m.name for m in cmp.metrics)}).")


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


def shares(datasets, out_dir, formats, notes):
    found = [(ds, _share_points(ds)) for ds in datasets]
    found = [(ds, pts) for ds, pts in found if pts]
    if not found:
        notes.append("cgroup shares figure skipped: no result has per-cgroup metrics "
                     "(cpu_share_achieved[<cgroup>] and cpu_share_entitled[<cgroup>])")
        return None
    policies = sorted({p for _, pts in found for p, *_ in pts}, key=lambda p: p != BASELINE)
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    labelled = set()
    for ds, pts in found:
        for policy, cg, entitled, achieved in pts:
            s = stats.summarize(achieved, stats.OTHER)
            ax.errorbar([entitled], [s.center], yerr=_err(s.center, s.ci_low, s.ci_high), fmt="o", markersize=4,
                        color=policy_color(policy, policies), capsize=2, alpha=0.85,
                        label=None if policy in labelled else policy)
            labelled.add(policy)
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", label="achieved = entitled")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("CPU share entitled by the weights")
    ax.set_ylabel("CPU share achieved (mean over runs, 95% CI)")
    ax.set_title("cgroups: achieved vs entitled CPU share\nacross the weight sweep", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    path = _finish(fig, [ds for ds, _ in found], out_dir / "shares", formats)
    return Figure(path, "shares", f"Per-cgroup CPU share achieved vs entitled, over {len(found)} result(s); "
                                  f"points on the dashed line mean the weights were honoured.")


def make_all(datasets, out_dir, formats=("svg",)):
    """Every figure for the datasets; returns (figures, notes about the ones skipped)."""
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise AnalysisError(f"figure format {', '.join(bad) or '(none)'}: choose from {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figs, notes = [], []
    for ds in datasets:
        for fn in (throughput, latency, overhead):
            f = fn(ds, out_dir, formats, notes)
            if f:
                figs.append(f)
    f = shares(datasets, out_dir, formats, notes)
    if f:
        figs.append(f)
    return figs, notes
