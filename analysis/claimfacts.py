"""What a claim's verdict rests on besides its headline interval: whether there were enough runs
to call it, the claimed idea's own mechanism next to its ablation, ablations that beat the
claimed policy, and the baseline the claims were measured against. analysis/paper.py's
evaluate() fills a Claim's fields from these; they are computed here so that the paper's layout
and its statistics can change independently.

Enough runs. `make compare PRECISION=` never stops before MIN_ROUNDS rounds (runners/common/
experiment.c sets min_repeats, the guest's stopping rule reads it), and analysis flags fewer than
FEW_RUNS runs a side as giving too narrow a bootstrap interval. A verdict from fewer runs than
either, or from a PRECISION= result whose target was not reached, is tentative.

What the scheduler did. Beside the verdict, the scheduler's own counters from the same runs
(issue 13: runqueue wait per timeslice, per-task wait, context switches and migrations per unit
of work, remote wakeups, idle time, sched_ext's fallback events), each policy against cfs with
95% intervals, Holm-corrected over the table (one compare of these metrics): they say how a
policy got its margin, e.g. shorter waits or fewer switches.

Mechanism. Where the results ran the workload in weighted cgroups (run.json's cgroup record),
the weight tree's job is to keep each instance's CPU share at what its weights entitle it to:
the share the highest-entitled instance got is shown per policy, claimed policy, ablations and
baseline, with its interval and the claimed policy's ratio to each ablation (by the runs' design).
"""
from dataclasses import dataclass

from . import stats
from .compare import compare, observations

MIN_ROUNDS = 3  # runners/common/experiment.c: PRECISION='s minimum (x->min_repeats)


@dataclass
class Mechanism:
    """One row of a claim's mechanism table: what was measured for one policy."""
    what: str  # e.g. "CPU share of l1/l2/l3/high (weight entitles it to 0.667)"
    policy: str
    role: str  # "claimed", "ablation" or "baseline"
    measured: object  # stats.Summary
    entitled: object  # what the weights entitle it to, or None
    vs_claimed: object = None  # stats.Ratio of the claimed policy's value to this one's (ablations)


def tentative_reasons(dataset, n_policy, n_baseline):
    """Why a verdict from these runs is tentative ([] when it is not)."""
    why = []
    n = min(n_policy, n_baseline)
    if n < MIN_ROUNDS:
        why.append(f"fewer runs ({n_policy} vs {n_baseline}) than the {MIN_ROUNDS} rounds PRECISION= runs at least")
    elif n < stats.FEW_RUNS:
        why.append(f"{n_policy} vs {n_baseline} runs: fewer than {stats.FEW_RUNS} a side, so the bootstrap "
                   "interval is likely too narrow")
    for res in dataset.results:
        prec = res.manifest.get("precision")
        if isinstance(prec, dict) and prec.get("reached") is False:
            why.append(f"{res.id} stopped at MAX_REPEATS before its PRECISION= target was reached")
    return why


def _high_instance(dataset):
    """(cgroup, entitled share) of the instance with the largest entitled share, from the first run
    that recorded cgroup instances with different entitlements; None when no run did."""
    for run in dataset.runs:
        inst = [i for i in ((run.info.get("cgroups") or {}).get("instances") or [])
                if isinstance(i, dict) and isinstance(i.get("entitled_share"), (int, float))]
        if len({i["entitled_share"] for i in inst}) > 1:
            best = max(inst, key=lambda i: (i["entitled_share"], -inst.index(i)))
            return best["cgroup"], float(best["entitled_share"])
    return None


def share_mechanism(dataset, policy, ablations, baseline, twins=()):
    """Mechanism rows for the CPU share the weight tree should keep ([] without weighted cgroups);
    twins (the kernel's own implementations of the idea) are compared with the claimed policy like
    ablations, under their own role."""
    high = _high_instance(dataset)
    if high is None:
        return []
    cgroup, entitled = high
    metric = f"cpu_share_achieved[{cgroup}]"
    what = f"CPU share of the highest-weighted instance ({cgroup}; its weights entitle it to {entitled:.3f})"
    mine = observations(dataset, policy, metric)
    rows = []
    for p, role in ([(policy, "claimed")] + [(t, "kernel twin") for t in twins]
                    + [(a, "ablation") for a in ablations] + [(baseline, "baseline")]):
        obs = mine if p == policy else observations(dataset, p, metric)
        if not obs:
            continue
        rows.append(Mechanism(what=what, policy=p, role=role,
                              measured=stats.summarize_by_design(obs, stats.OTHER), entitled=entitled,
                              vs_claimed=(stats.ratio_by_design(mine, obs, stats.OTHER)
                                          if role in ("ablation", "kernel twin") and mine else None)))
    return rows


# The counters the "what the scheduler did" table shows, in order: (metric name, or its prefix
# for a per-unit-of-work metric whose unit varies by workload, and what it is).
SCHED_EXPLAIN = (
    ("sched.rq_wait_per_slice_us", "runqueue wait per timeslice, all CPUs"),
    ("sched.task_rq_wait_per_slice_p90_us", "runqueue wait per timeslice, p90 over the workload's tasks"),
    ("monitor:context_switches_per_", "context switches per unit of work"),
    ("monitor:cpu_migrations_per_", "CPU migrations per unit of work"),
    ("sched.wakeups_remote_fraction", "wakeups placed on another CPU than the waker's"),
    ("sched.idle_fraction", "idle CPU time"),
    ("sched.scx_events.select_cpu_fallback", "sched_ext: select_cpu fallbacks"),
    ("sched.scx_events.dispatch_keep_last", "sched_ext: keep-last dispatches"),
)


@dataclass
class SchedRow:
    """One row of the table: a counter, each shown policy's value and its ratio to the baseline."""
    what: str
    metric: str
    unit: str
    cells: list  # [(policy, stats.Summary or None, stats.Ratio or None)] in the order asked for


def scheduler_rows(dataset, policies, baseline):
    """SchedRow per SCHED_EXPLAIN counter the dataset's valid runs report, for policies (the claimed
    one first, then its twins and ablations) and the baseline; [] when none is reported."""
    present = dataset.metric_names()
    names = []
    for key, what in SCHED_EXPLAIN:
        found = sorted(n for n in present if n == key or (key.endswith("_") and n.startswith(key)))
        names += [(n, what) for n in found[:1]]
    if not names or baseline not in dataset.policies:
        return []
    cmp = compare(dataset, baseline=baseline, metrics=[n for n, _ in names])
    order = [p for p in [baseline] + list(policies) if p in dataset.policies]
    rows = []
    for (name, what), m in zip(names, cmp.metrics):
        by = {r.policy: r for r in m.rows}
        rows.append(SchedRow(what=what, metric=name, unit=m.unit,
                             cells=[(p, by[p].summary, by[p].ratio) for p in order if p in by]))
    return rows


def ablation_shares(ablation_ratios):
    """Ablations whose ratio to the judged policy includes no change (a gain over cfs they share is
    not the idea's), from (ablation, Ratio of judged / ablation, ...) tuples."""
    return [ab for ab, r, *_ in ablation_ratios if r is not None and r.ci_low is not None and r.ci_low <= 1 <= r.ci_high]


def ablation_beats(ablation_ratios, higher_is_better):
    """Ablations significantly better than the judged policy: [(ablation, Ratio)], from
    (ablation, Ratio of judged / ablation, ...) tuples."""
    out = []
    for ab, r, *_ in ablation_ratios:
        if r is None or r.ratio is None or r.ci_low is None or not r.significant:
            continue
        if (r.ratio < 1) == bool(higher_is_better):
            out.append((ab, r))
    return out


def baseline_statement(datasets):
    """The sentence the paper says once: what `cfs` is in the kernels measured."""
    kernels = sorted({ds.first.factors.get("kernel_release") for ds in datasets
                      if ds.first.factors.get("kernel_release")})
    where = f"kernel {', '.join(kernels)}" if kernels else "the guest kernel"
    return (f"The baseline called `cfs` is the kernel's fair class as it is in {where}: the EEVDF scheduler "
            "that replaced CFS in Linux 6.6. The proposal's claims (2022) were measured against CFS itself, so a "
            "margin here is a margin over EEVDF, not a repetition of the original comparison.")
