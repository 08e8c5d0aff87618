"""Pooling runs and comparing each policy with the cfs baseline.

compare() gives each run's value with its boot (result) and round (run.json repeat) to
stats.ratio_by_design(), so ratios are paired by round within a boot and resampled in two
stages across pooled boots, and applies Holm's correction over every ratio row of the
comparison (stats.py says why); design_notes() says once which designs were used.

Runs are compared only when everything that could move their numbers is the same. Within one
result directory that holds by construction (one boot, interleaved runs). Across results,
pool() checks every factor in the manifests and refuses, naming the factor and both values,
when one differs. The factors compared are all of manifest["factors"] (so a factor a later
runner adds is compared without a change here) except those that legitimately differ between
results one may pool:

    policies, run_order, repeats   which policies ran and how often
    policy_configs                 compared per policy instead: a policy that appears in two
                                   results must have been run with the same loader and arguments
                                   (its description may differ)
    vm.image                       a cache path; the kernel it boots is pinned by the factors
                                   kernel_release, kconfig_sha256 and guest.kernel_version
    vm.initrd                      how the boot reached the root filesystem (scxlab's initramfs or
                                   the image's); nothing of it runs once the job starts

plus guest.kernel_version (the kernel's build string), the icount shift (factors.icount_shift, derived
from the recorded -icount for results from before ICOUNT_SHIFT=), the accelerator (factors.accel: kvm or tcg,
derived from the QEMU -accel for results from before ACCEL=, so that those compare as tcg; like the
clock, runs under KVM and under TCG are never pooled) and, under CLOCK=real only, the host's CPU
model and core count (wall-clock time makes results depend on the host; the virtual clock does
not). A factor recorded as null matches one that is absent (a runner that did not record it yet).
A workload parameter that one result records and the other does not (one a later scxlab added to the
workload's [params]) matches when its value is the default the workload's config declares in this
checkout: a parameter is added at the default that keeps what the workload did before it existed
(ARCHITECTURE.md, Contracts), so a result from before it ran at that default.

Then the host's fingerprint (manifest "host", runners/common/fingerprint.h), under either clock:
pool() refuses results whose hosts differ in any of HOST_FINGERPRINT (CPU model and flags,
microcode, governor, SMT, THP, kernel command line, isolated CPUs, host kernel release), naming
the field and both values, unless told to (allow_host_mismatch, `--allow-host-mismatch`; the
report then says so). How busy the host was (load_start, load_end) and the scheduler sysctls are
recorded, not compared. Results from before the fingerprint pool as before, with a note.
"""
import functools
from dataclasses import dataclass, field
from pathlib import Path

from . import AnalysisError
from . import stats
from .contract import read_ini

BASELINE = "cfs"
_POOLABLE = {"policies", "run_order", "repeats", "policy_configs", "vm.image", "vm.initrd"}
# manifest "host" fields that must match for results to be pooled (when both record a fingerprint)
WORKLOAD_CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "workloads"
HOST_FINGERPRINT = ("kernel", "cpu_model", "cpu_flags_sha256", "microcode", "governor", "smt_active",
                    "smt_control", "thp", "cmdline", "isolated_cpus")


def _flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def accel(result):
    """The accelerator that ran result's guest: factors.accel (kvm, tcg, none), or for results
    from before ACCEL= the first word of the QEMU -accel they record (all of them tcg)."""
    f = result.factors
    if f.get("accel"):
        return f["accel"]
    qemu = (f.get("clock_qemu") or {}).get("accel") or ""
    return qemu.split(",")[0] or None


def icount_shift(result):
    """The virtual clock's time model: factors.icount_shift (each guest instruction lasts 2^shift ns),
    or for results from before ICOUNT_SHIFT= the shift in the -icount they record (all of them 3);
    None under the real clock, KVM or TARGET=host, and for an adaptive shift (shift=auto)."""
    f = result.factors
    if "icount_shift" in f:
        return f["icount_shift"]
    if result.clock != "virtual":
        return None
    for opt in ((f.get("clock_qemu") or {}).get("icount") or "").split(","):
        value = opt[len("shift="):] if opt.startswith("shift=") else opt if "=" not in opt else None
        if value is not None:
            return int(value) if value.isdigit() else None
    return None


def time_model(result):
    """How result's guest kept time, one label per time model: "virtual shift=N" (icount), "real"
    (multi-threaded TCG on the wall clock), "kvm" or "host" (both on the wall clock, not emulated)."""
    if result.factors.get("target") == "host":
        return "host"
    if accel(result) == "kvm":
        return "kvm"
    if result.clock == "virtual":
        shift = icount_shift(result)
        return f"virtual shift={shift if shift is not None else '?'}"
    return result.clock


def factor_values(result):
    """The factors that must match for result's runs to be compared with another result's."""
    # workload_params: compared by params_mismatch(), where a parameter one side lacks has a default
    flat = {k: v for k, v in _flatten(result.factors).items()
            if k not in _POOLABLE and not any(k.startswith(p + ".") for p in _POOLABLE)
            and k != "workload_params" and not k.startswith("workload_params.")}
    flat["guest.kernel_version"] = result.manifest.get("guest", {}).get("kernel_version")
    flat["accel"] = accel(result)
    # as derived for older results too, so that a result from before ICOUNT_SHIFT= pools with a
    # newer one at the same shift (clock_qemu.icount, compared as well, says the same)
    flat["icount_shift"] = icount_shift(result)
    if result.clock == "real":
        host = result.manifest.get("host", {})
        flat["host.cpu_model"] = host.get("cpu_model")
        flat["host.nproc"] = host.get("nproc")
    return flat


@functools.lru_cache(maxsize=None)
def declared_params(workload, configs=WORKLOAD_CONFIGS):
    """The [params] defaults that configs/workloads/<workload>.ini declares in this checkout, as
    strings (as manifests record them); {} when there is no such config."""
    path = Path(configs) / f"{workload}.ini"
    return read_ini(path, "workload config").get("params", {}) if path.exists() else {}


def params_mismatch(workload, pa, pb, configs=WORKLOAD_CONFIGS):
    """None when two results' workload_params agree, else (key, value in a, value in b) of the first
    that differs. A key only one of them records matches at the workload's declared default."""
    pa, pb = pa or {}, pb or {}
    for key in sorted(set(pa) | set(pb)):
        va, vb = pa.get(key), pb.get(key)
        if va == vb:
            continue
        if (va is None or vb is None) and (va if vb is None else vb) == declared_params(workload, configs).get(key):
            continue
        return key, va, vb
    return None


def factor_mismatch(a, b):
    """None when a's and b's runs may be compared, else a sentence naming the first factor
    that differs and both values."""
    fa, fb = factor_values(a), factor_values(b)
    show = lambda v: "(absent)" if v is None else repr(v)  # noqa: E731
    for key in sorted(set(fa) | set(fb)):
        # A factor recorded as null (not used) matches one an older runner did not record.
        va, vb = fa.get(key), fb.get(key)
        if va != vb:
            return f"factor {key} differs: {show(va)} in {a.id} vs {show(vb)} in {b.id}"
    # the workload is the same by now
    differs = params_mismatch(a.factors.get("workload"), a.factors.get("workload_params"),
                              b.factors.get("workload_params"))
    if differs:
        key, va, vb = differs
        return f"factor workload_params.{key} differs: {show(va)} in {a.id} vs {show(vb)} in {b.id}"
    ca, cb = a.factors.get("policy_configs") or {}, b.factors.get("policy_configs") or {}
    for policy in sorted(set(ca) & set(cb)):
        # What runs is the loader and its arguments; the description is prose.
        pa = {k: v for k, v in (ca[policy] or {}).items() if k != "description"}
        pb = {k: v for k, v in (cb[policy] or {}).items() if k != "description"}
        if pa != pb:
            return f"factor policy_configs.{policy} differs between {a.id} and {b.id}: {pa!r} vs {pb!r}"
    return None


def has_fingerprint(result):
    """Whether result's manifest records the host's fingerprint (runners since the fingerprint)."""
    return "cpu_flags_sha256" in result.manifest.get("host", {})


def host_mismatch(a, b):
    """None when a's and b's hosts match in every HOST_FINGERPRINT field (or one of them records
    no fingerprint), else a sentence naming the first field that differs and both values."""
    if not (has_fingerprint(a) and has_fingerprint(b)):
        return None
    ha, hb = a.manifest["host"], b.manifest["host"]
    for key in HOST_FINGERPRINT:
        if ha.get(key) != hb.get(key):
            return f"host fingerprint host.{key} differs: {ha.get(key)!r} in {a.id} vs {hb.get(key)!r} in {b.id}"
    return None


@dataclass
class Dataset:
    """Runs that may be compared with each other: one result, or several whose factors match."""
    results: list

    @property
    def runs(self):
        return [r for res in self.results for r in res.runs]

    @property
    def ids(self):
        return [r.id for r in self.results]

    @property
    def first(self):
        return self.results[0]

    @property
    def policies(self):
        """cfs first, then in the order the results list them."""
        seen = []
        for res in self.results:
            for p in res.policies:
                if p not in seen:
                    seen.append(p)
        return sorted(seen, key=lambda p: p != BASELINE)

    def runs_of(self, policy, valid=None):
        return [r for r in self.runs if r.policy == policy and (valid is None or r.valid == valid)]

    def metric_names(self):
        """Every metric of a valid run: the headline first, then the workload's in the order it
        reports them, then per-cgroup shares, then monitors."""
        names, source = [], {}
        for r in self.runs:
            if r.valid:
                for n, m in r.metrics.items():
                    if n not in source:
                        names.append(n)
                        source[n] = m.source
        head = self.first.headline
        order = {"workload": 0, "cgroup": 1, "monitor": 2}
        return sorted(names, key=lambda n: (n != head, order.get(source[n], 0)))

    def describe(self):
        f = self.first.factors
        vm = f.get("vm", {})
        parts = [f"workload {f.get('workload', '?')}", f"clock={f.get('clock', '?')}", f"accel={accel(self.first) or '?'}",
                 f"{vm.get('vcpus', '?')} vCPU" + (f" ({vm.get('threads_per_core')} threads/core)"
                                                   if vm.get("threads_per_core", 1) != 1 else ""),
                 f"{f.get('duration_s', '?')} s runs", f"kernel {f.get('kernel_release', '?')}"]
        return ", ".join(parts)


def pool(results, allow_host_mismatch=False):
    """results as one Dataset; refused when a factor differs, or the hosts' fingerprints differ
    and allow_host_mismatch is not set."""
    if not results:
        raise AnalysisError("no result to analyse")
    for other in results[1:]:
        why = factor_mismatch(results[0], other)
        if why:
            raise AnalysisError(f"refusing to compare {results[0].path} with {other.path}: {why}. "
                                f"Compare only results whose factors match (report each one separately).")
    if not allow_host_mismatch:
        why = _first_host_mismatch(results)
        if why:
            a, b, text = why
            raise AnalysisError(f"refusing to compare {a.path} with {b.path}: {text}. Compare only results "
                                f"made on matching hosts, or pass --allow-host-mismatch "
                                f"(make report ALLOW_HOST_MISMATCH=1) to pool them anyway.")
    return Dataset(list(results))


def _first_host_mismatch(results):
    """(a, b, sentence) for the first fingerprinted result that differs from the first one, else None."""
    with_fp = [r for r in results if has_fingerprint(r)]
    for other in with_fp[1:]:
        why = host_mismatch(with_fp[0], other)
        if why:
            return with_fp[0], other, why
    return None


def host_notes(dataset):
    """What the report says about the pooled results' hosts: results without a fingerprint (not
    compared) and, when pooled anyway, fingerprints that differ."""
    if len(dataset.results) < 2:
        return []
    notes = []
    missing = [r.id for r in dataset.results if not has_fingerprint(r)]
    if missing:
        notes.append(f"{len(missing)} of {len(dataset.results)} pooled results record no host fingerprint "
                     f"(made before it was recorded: {', '.join(missing)}); their hosts were not compared")
    why = _first_host_mismatch(dataset.results)
    if why:
        notes.append(f"pooled despite different hosts (--allow-host-mismatch): {why[2]}")
    return notes


def provenance_notes(dataset):
    """What pooled results may differ in without being refused: the code and the guest image.
    Either can shift absolute numbers while ratios to cfs within each boot hold (seen when a
    kept nginx result was rerun after other changes to the tree), so the report says so."""
    if len(dataset.results) < 2:
        return []
    notes = []
    commits = {r.git_commit or "?" for r in dataset.results}
    if len(commits) > 1:
        notes.append(f"pooled results were made by {len(commits)} scxlab commits ({', '.join(sorted(c[:12] for c in commits))})")
    if any(r.manifest.get("software", {}).get("git_dirty") for r in dataset.results):
        notes.append("some pooled results were made from a modified work tree")
    images = {r.factors.get("vm", {}).get("image") for r in dataset.results}
    if len(images) > 1:
        notes.append(f"pooled results booted {len(images)} different guest images")
    if notes:
        notes.append("absolute values may shift between them; ratios to cfs within each boot are more robust")
    return notes


@dataclass
class PolicyRow:
    policy: str
    n_valid: int  # valid runs that reported this metric
    n_invalid: int  # runs of this policy excluded as invalid
    summary: object  # stats.Summary, None when no valid run reported the metric
    ratio: object  # stats.Ratio against the baseline, None for the baseline itself or without one
    direction: str = ""  # 'better', 'worse', 'different' (metric has no direction), '' if not significant


@dataclass
class MetricComparison:
    name: str
    unit: str
    kind: str
    stat: str
    higher_is_better: object
    cgroup: object
    rows: list


@dataclass
class Comparison:
    dataset: Dataset
    baseline: str
    metrics: list
    notes: list = field(default_factory=list)

    def metric(self, name):
        for m in self.metrics:
            if m.name == name:
                return m
        raise AnalysisError(f"metric {name!r} is not in {', '.join(self.dataset.ids)} "
                            f"(it has: {', '.join(m.name for m in self.metrics)})")


def _direction(ratio, higher_is_better):
    if ratio is None or not ratio.significant:
        return ""
    if higher_is_better is None:
        return "different"
    return "better" if (ratio.ratio > 1.0) == bool(higher_is_better) else "worse"


def window_notes(dataset):
    """What the valid runs' costs (monitor:*, sched.* per unit) and cgroup shares are measured
    over, when it is not the client's own window, and which runs' windows are flagged
    (schemas/README.md, measure_s and window)."""
    runs = [r for r in dataset.runs if r.valid]
    notes = []
    legacy = [r.label for r in runs if r.window_source == "legacy"]
    lifetime = [r.label for r in runs if r.window_source == "lifetime"]
    flagged = [r for r in runs if r.window_agrees is False]
    if legacy:
        notes.append(f"legacy: {len(legacy)} of {len(runs)} valid runs predate the measured window; their per-unit "
                     "costs and cgroup shares are over the clients' whole lifetime (start-up and exit included: "
                     "apache's was 34-45 s for wrk's 30 s), not over the client's own measurement")
    if lifetime:
        notes.append(f"{len(lifetime)} of {len(runs)} valid runs are of a workload that does not mark its window: "
                     "their costs and shares are over the clients' lifetime")
    if flagged:
        w = flagged[0].info["window"]
        notes.append("measured window off from the client's own duration by more than its tolerance "
                     f"(max({w.get('tolerance_rel', 0) * 100:g} %, {w.get('tolerance_min_s', 0):g} s)) in "
                     f"{', '.join(r.label for r in flagged)} (run.json window.disagreements): their costs and "
                     "shares are less exact")
    return notes


def compare(dataset, baseline=BASELINE, metrics=None, seed=stats.SEED, n_resamples=stats.N_RESAMPLES,
            confidence=stats.CONFIDENCE):
    """Every metric (or those named), every policy, against baseline's runs of the same dataset."""
    names = metrics or dataset.metric_names()
    notes = []
    policies = dataset.policies
    if baseline not in policies:
        notes.append(f"no {baseline} runs: absolute values only, no ratios")
    elif not dataset.runs_of(baseline, valid=True):
        notes.append(f"every {baseline} run is invalid: absolute values only, no ratios")
    notes += provenance_notes(dataset)
    notes += host_notes(dataset)
    notes += window_notes(dataset)
    invalid = {p: len(dataset.runs_of(p, valid=False)) for p in policies}
    if any(invalid.values()):
        notes.append("invalid runs excluded: " + ", ".join(f"{p} {n}" for p, n in invalid.items() if n))
    out = []
    for name in names:
        proto = next((r.metrics[name] for r in dataset.runs if r.valid and name in r.metrics), None)
        if proto is None:
            raise AnalysisError(f"metric {name!r} is not reported by any valid run of {', '.join(dataset.ids)}")
        kind = stats.metric_kind(proto.unit)
        values = {p: observations(dataset, p, name) for p in policies}
        base = values.get(baseline) or []
        rows = []
        for p in policies:
            v = values[p]
            summary = stats.summarize_by_design(v, kind, seed, n_resamples, confidence) if v else None
            ratio = None
            if v and base and p != baseline:
                ratio = stats.ratio_by_design(v, base, kind, seed, n_resamples, confidence)
            rows.append(PolicyRow(policy=p, n_valid=len(v), n_invalid=invalid[p], summary=summary, ratio=ratio,
                                  direction=_direction(ratio, proto.higher_is_better)))
        out.append(MetricComparison(name=name, unit=proto.unit, kind=kind, stat=stats.STAT_NAME[kind],
                                    higher_is_better=proto.higher_is_better, cgroup=proto.cgroup, rows=rows))
    # One family per comparison: every ratio row of every metric (stats.py, multiple comparisons).
    family = [r for m in out for r in m.rows if r.ratio is not None]
    stats.holm_ratios([r.ratio for r in family])
    for m in out:
        for r in m.rows:
            r.direction = _direction(r.ratio, m.higher_is_better)
    notes += design_notes(out)
    return Comparison(dataset=dataset, baseline=baseline, metrics=out, notes=notes)


def observations(dataset, policy, metric):
    """stats.Obs of metric in policy's valid runs: its boot (the result) and round (run.json repeat)."""
    return [stats.Obs(r.result_id, r.repeat, r.metrics[metric].value)
            for r in dataset.runs_of(policy, valid=True) if metric in r.metrics]


def design_notes(metrics):
    """What the report says, once, about how its ratios were resampled and corrected."""
    ratios = [r.ratio for m in metrics for r in m.rows if r.ratio is not None and r.ratio.ci_low is not None]
    if not ratios:
        return []
    designs = sorted({r.design for r in ratios})
    notes = ["ratio intervals by design: " + "; ".join(
        f"{d} ({sum(r.design == d for r in ratios)} rows)" for d in designs)]
    if any(d.startswith("independent: rounds incomplete") for d in designs):
        notes.append("where a round lacks a valid run of either policy, pairing by round is impossible and "
                     "both policies' runs are resampled independently")
    if any(d.startswith("two-stage") for d in designs):
        notes.append(f"pooled from {ratios[0].n_boots} boots: boots resampled, then rounds within each, so the "
                     "intervals include the between-boot variation (with few boots still underestimated)")
    family = max((r.family for r in ratios), default=0)
    if family:
        called = sum(bool(r.significant) for r in ratios)
        raw = sum(bool(r.uncorrected_significant) for r in ratios)
        notes.append(f"significance: Holm-corrected over this comparison's {family} ratio rows (every metric, "
                     f"every policy vs the baseline); {called} significant after Holm ({raw} before)")
    return notes


def ratio_cis(dataset, metric=None, baseline=BASELINE, seed=stats.SEED, n_resamples=stats.N_RESAMPLES,
              confidence=stats.CONFIDENCE):
    """Per policy other than the baseline: (policy, Ratio, n_policy, n_baseline) for metric (the
    headline by default). What `python3 -m analysis ci` prints and `make compare PRECISION=` uses."""
    metric = metric or dataset.first.headline
    if not metric:
        raise AnalysisError(f"{dataset.first.path}: the manifest names no headline metric; pass --metric")
    if baseline not in dataset.policies:
        raise AnalysisError(f"{', '.join(dataset.ids)}: no {baseline} runs to compare with")
    cmp = compare(dataset, baseline, [metric], seed, n_resamples, confidence)
    m = cmp.metric(metric)
    base_row = next(r for r in m.rows if r.policy == baseline)
    return [(r.policy, r.ratio, r.n_valid, base_row.n_valid) for r in m.rows if r.policy != baseline]
