"""Statistics for scxlab's comparisons: numbers in, numbers out; no result format here.

Choices (after Hoefler & Belli, "Scientific Benchmarking of Parallel Computing Systems", SC15):

- Which summary a metric gets depends on its unit:
    rate  (unit ends in "/s": req/s, B/s)   harmonic mean, the mean that fits rates of equal work
    time  (ns, us, ms, s)                   median, robust to the long tails latencies have
    other (counts, fractions, costs per op) arithmetic mean
- Confidence intervals come from the bootstrap (scipy.stats.bootstrap): resampling runs, not
  assuming a normal distribution. BCa (bias-corrected and accelerated) where it is defined; when
  every resample gives the same value (identical runs, common under the virtual clock) BCa is
  undefined and the percentile interval is used; the method used is reported. The generator is
  seeded (SEED) so the same input always prints the same interval.
- A ratio to the baseline (policy / cfs) uses the design the runs had (ratio_by_design()):
    paired by round   runs are interleaved in rounds within one boot (every policy once per
                      round; run.json `repeat` is the round). When both policies have exactly one
                      valid run in the same rounds, whole rounds are resampled (scipy's
                      paired=True: the indices of the rounds), so what a round shares (the guest
                      and host drifting over the boot) cancels in the ratio instead of widening it.
                      BCa's jackknife then leaves one round out.
    independent       a round lacks a run of either policy (an invalid run): both groups are
                      resampled independently, as if unpaired, and the design says so.
    two-stage         results of several boots pooled: boots are resampled with replacement, then
                      rounds (or, where a boot's rounds are incomplete, runs) within each drawn
                      boot, so the interval carries the between-boot variation; percentile
                      interval (BCa is not defined for a two-stage resample), reported with the
                      number of boots. With few boots the bootstrap still underestimates the
                      between-boot variance (by about (k-1)/k for k boots), so pooled verdicts
                      from two or three boots stay cautious.
  Summaries of several boots (summarize_by_design()) get the same two-stage interval.
- Multiple comparisons: a comparison tests every policy against the baseline on every metric.
  Its significance calls are corrected with Holm's step-down method (holm()) over that family:
  every ratio row of one comparison (one `make report` table, one table of the paper). Holm, not
  Benjamini-Hochberg: a significance mark is read as a statement about that one row (the paper
  quotes rows), so the family-wise error is what must be bounded, and Holm bounds it without
  assuming independence between the metrics (which are correlated: one run gives them all).
  Each row's p-value comes from its bootstrap distribution (p_value()); a row is significant
  after Holm when its adjusted p-value is at most 1 - CONFIDENCE and its interval excludes 1.
  The intervals stay per-row 95% intervals.
- Significant means the ratio's confidence interval excludes 1 (ratio()), and, once compare()
  has applied holm_ratios() over the comparison, also that the row survives Holm (above). With
  fewer than 2 runs on
  either side there is no interval and nothing is significant. With fewer than FEW_RUNS the
  bootstrap interval is known to be too narrow (it cannot see variation the few runs did not
  show); such rows are flagged so that nobody reads much into them.
- ratio_halfwidth_pct: half the width of the ratio's interval in percentage points of the ratio
  (ratio 1.03 [1.01, 1.05] -> 2.0). This is the statistic `make compare PRECISION=` stops on.

One estimator in two languages: the guest decides between rounds of PRECISION= without Python,
with runners/common/stats.c (stat_ratio_ci), which implements ratio() above choice by choice:
the same metric_kind and summaries, independent resampling of both groups or, paired by round
(stat_ratio_ci_paired), resampling of whole rounds, scipy's BCa formulas
(z0 from the "mean" percentile of the point, acceleration from each group's jackknife, endpoints
by np.percentile's linear interpolation), the percentile fallback, CONFIDENCE, N_RESAMPLES and
SEED, and this half-width. stats.h lists the correspondence. Only the random generator differs
(splitmix64 there, PCG64 here), so the two intervals on the same runs differ by Monte-Carlo
error only; tests/data/stats-agreement.json fixes cases and tolerances that both sides are
tested against (tests/unit/test_stats.c, tests/analysis/test_stats_agreement.py). A change to
any choice here must be made there too, and that test fails until it is.
"""
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

SEED = 20221130  # fixed: the same result directory always gives the same intervals
CONFIDENCE = 0.95
N_RESAMPLES = 10000
FEW_RUNS = 5

RATE, TIME, OTHER = "rate", "time", "other"
_TIME_UNITS = {"ns", "us", "µs", "usec", "ms", "msec", "s", "sec"}
STAT_NAME = {RATE: "hmean", TIME: "median", OTHER: "mean"}


def metric_kind(unit):
    unit = (unit or "").strip()
    if unit.endswith("/s"):
        return RATE
    if unit in _TIME_UNITS:
        return TIME
    return OTHER


def _hmean(x, axis=-1):
    x = np.asarray(x, dtype=float)
    # The harmonic mean is only defined for positive values; a run that moved nothing (a rate
    # of 0) makes the whole summary 0, which is what a harmonic mean of rates means.
    with np.errstate(divide="ignore"):
        return np.where(np.any(x <= 0, axis=axis), 0.0, sps.hmean(np.where(x <= 0, 1.0, x), axis=axis))


def summary_function(kind):
    return {RATE: _hmean, TIME: lambda x, axis=-1: np.median(x, axis=axis),
            OTHER: lambda x, axis=-1: np.mean(x, axis=axis)}[kind]


@dataclass
class Summary:
    kind: str
    stat: str  # "hmean", "median" or "mean"
    n: int
    center: float
    ci_low: object  # float, or None with fewer than 2 values
    ci_high: object
    ci_method: str
    minimum: float
    maximum: float
    p10: float
    p90: float
    values: tuple


@dataclass
class Ratio:
    ratio: object  # float, or None if undefined (baseline summary 0)
    ci_low: object
    ci_high: object
    ci_method: str
    significant: bool  # the interval excludes 1; after holm(), also the family-wise call
    few_runs: bool
    design: str = "independent"  # "paired by round", "independent", "independent: rounds incomplete",
    #                              "two-stage over N boots"
    n_boots: int = 1
    n_rounds: int = 0  # rounds resampled when paired, else 0
    p_value: object = None  # two-sided bootstrap p-value of "no change", None without an interval
    p_adjusted: object = None  # Holm-adjusted p-value, set by holm_ratios()
    uncorrected_significant: object = None  # the interval's call before the correction
    family: int = 0  # size of the Holm family, 0 when no correction was applied

    @property
    def halfwidth_pct(self):
        """Half the interval's width in percentage points of the ratio; inf without an interval."""
        if self.ci_low is None or self.ci_high is None:
            return math.inf
        return 100.0 * (self.ci_high - self.ci_low) / 2.0


def p_value(distribution, null=1.0):
    """Two-sided bootstrap p-value of the statistic being `null`: twice the smaller share of
    resamples on either side of it (ties count half), at least 1/(B+1) (a test on B resamples
    cannot say less). None when the distribution has a NaN."""
    d = np.asarray(distribution, dtype=float)
    if d.size == 0 or np.isnan(d).any():
        return None
    below = np.count_nonzero(d < null) + 0.5 * np.count_nonzero(d == null)
    above = d.size - below
    return float(min(1.0, max(2.0 * min(below, above) / d.size, 1.0 / (d.size + 1))))


def _bootstrap(samples, statistic, seed, n_resamples, confidence, paired=False):
    """(low, high, method, resamples) of a bootstrap interval; BCa, else percentile when BCa is
    undefined. paired: the samples are resampled together (their i-th values belong together)."""
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            # Degenerate data (identical values) makes BCa warn and return NaN; handled below.
            warnings.simplefilter("ignore")
            res = sps.bootstrap(samples, statistic, vectorized=True, paired=paired,
                                confidence_level=confidence, n_resamples=n_resamples,
                                method=method, random_state=np.random.default_rng(seed))
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo, hi, method, res.bootstrap_distribution
    return None, None, "undefined", res.bootstrap_distribution


def summarize(values, kind, seed=SEED, n_resamples=N_RESAMPLES, confidence=CONFIDENCE):
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("summarize: no values")
    fn = summary_function(kind)
    center = float(fn(x, axis=-1))
    if x.size >= 2:
        lo, hi, method, _ = _bootstrap((x,), lambda a, axis=-1: fn(a, axis=axis), seed, n_resamples, confidence)
    else:
        lo, hi, method = None, None, "single run"
    return Summary(kind=kind, stat=STAT_NAME[kind], n=int(x.size), center=center, ci_low=lo, ci_high=hi,
                   ci_method=method, minimum=float(x.min()), maximum=float(x.max()),
                   p10=float(np.percentile(x, 10)), p90=float(np.percentile(x, 90)),
                   values=tuple(float(v) for v in x))


def ratio(values, baseline, kind, seed=SEED, n_resamples=N_RESAMPLES, confidence=CONFIDENCE, paired=False):
    """The ratio of values' summary to baseline's, with its bootstrap interval. paired: values[i]
    and baseline[i] come from the same round, and whole rounds are resampled."""
    a = np.asarray(values, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("ratio: no values")
    if paired and a.size != b.size:
        raise ValueError("ratio: paired samples of different lengths")
    fn = summary_function(kind)
    base_center = float(fn(b, axis=-1))
    few = min(a.size, b.size) < FEW_RUNS
    if base_center == 0:
        return Ratio(None, None, None, "baseline is 0", False, few)
    point = float(fn(a, axis=-1)) / base_center
    if min(a.size, b.size) < 2:
        return Ratio(point, None, None, "single run", False, few)

    def stat(x, y, axis=-1):
        with np.errstate(divide="ignore", invalid="ignore"):
            return fn(x, axis=axis) / fn(y, axis=axis)

    lo, hi, method, dist = _bootstrap((a, b), stat, seed, n_resamples, confidence, paired=paired)
    significant = lo is not None and (lo > 1.0 or hi < 1.0)
    return Ratio(point, lo, hi, method, significant, few, design="paired by round" if paired else "independent",
                 n_rounds=int(a.size) if paired else 0, p_value=p_value(dist) if lo is not None else None)


# ---------------------------------------------------------------- the design the runs had

@dataclass(frozen=True)
class Obs:
    """One run's value with where it ran: its boot (result directory) and its round (run.json
    `repeat`) within that boot."""
    boot: str
    round: int
    value: float


def _rounds(obs):
    """{round: value} when obs has exactly one value per round, else None."""
    out = {}
    for o in obs:
        if o.round in out or not o.round:
            return None
        out[o.round] = o.value
    return out


def paired_rounds(a, b):
    """The common rounds (sorted) when a and b (Obs of one boot) each have exactly one value in
    the same rounds, at least two of them, else None (the runner's own rule, runners/guest
    main.c: pair when every round so far has a valid run of both)."""
    ra, rb = _rounds(a), _rounds(b)
    if ra is None or rb is None or set(ra) != set(rb) or len(ra) < 2:
        return None
    return sorted(ra)


def _nan_summary(kind):
    """The kind's summary over the last axis ignoring NaN (the padding of the two-stage resample)."""
    if kind == TIME:
        return lambda x: np.nanmedian(x, axis=-1)
    if kind == OTHER:
        return lambda x: np.nanmean(x, axis=-1)

    def hmean(x):
        ok = ~np.isnan(x)
        with np.errstate(divide="ignore"):
            inv = np.where(ok, 1.0 / np.where(ok & (x > 0), x, 1.0), 0.0)
        return np.where(np.any(ok & (x <= 0), axis=-1), 0.0, ok.sum(axis=-1) / inv.sum(axis=-1))
    return hmean


def _two_stage_draws(groups, rng, n_resamples):
    """Resamples of several groups' values over boots, then rounds within boots. groups: list of
    Obs lists (one per group, e.g. policy and baseline). Returns one NaN-padded array per group,
    shape (n_resamples, slots), whose rows are the resampled runs."""
    boots = sorted({o.boot for g in groups for o in g})
    per_boot = []
    for boot in boots:
        mine = [[o for o in g if o.boot == boot] for g in groups]
        rounds = None
        if len(groups) == 2:
            rounds = paired_rounds(*mine)
        elif len(groups) == 1 and _rounds(mine[0]) is not None and len(mine[0]) >= 2:
            rounds = sorted(_rounds(mine[0]))
        draws = []
        if rounds is not None:
            idx = rng.integers(0, len(rounds), (n_resamples, len(rounds)))
            for g in mine:
                byr = {o.round: o.value for o in g}
                draws.append(np.array([byr[r] for r in rounds])[idx])
        else:
            for g in mine:
                v = np.array([o.value for o in g], dtype=float)
                draws.append(v[rng.integers(0, len(v), (n_resamples, len(v)))] if len(v)
                             else np.full((n_resamples, 0), np.nan))
        per_boot.append(draws)
    width = [max(d[j].shape[1] for d in per_boot) for j in range(len(groups))]
    padded = [np.stack([np.pad(d[j], ((0, 0), (0, width[j] - d[j].shape[1])), constant_values=np.nan)
                        for d in per_boot]) for j in range(len(groups))]
    pick = rng.integers(0, len(boots), (n_resamples, len(boots)))
    rows = np.arange(n_resamples)
    return [np.concatenate([p[pick[:, s], rows] for s in range(len(boots))], axis=1) for p in padded]


def _percentile(dist, confidence):
    d = np.asarray(dist, dtype=float)
    if not np.isfinite(d).all():    # a resample with no such boot (NaN) or a zero baseline (inf): undefined
        return None, None
    alpha = (1 - confidence) / 2
    return float(np.percentile(d, 100 * alpha)), float(np.percentile(d, 100 * (1 - alpha)))


def ratio_by_design(values, baseline, kind, seed=SEED, n_resamples=N_RESAMPLES, confidence=CONFIDENCE):
    """ratio() for runs with their boot and round (lists of Obs): paired by round within one boot
    when both policies ran in the same rounds, independent (saying why) when not, two-stage when
    the runs come from several boots. The design used is in the Ratio."""
    # A boot says something about the ratio only when both policies ran in it: the comparison
    # stays within boots, and a boot that ran only one of them is left out of the ratio.
    boots = sorted({o.boot for o in values} & {o.boot for o in baseline})
    if len(boots) < len({o.boot for o in values} | {o.boot for o in baseline}) and boots:
        values = [o for o in values if o.boot in boots]
        baseline = [o for o in baseline if o.boot in boots]
    if len(boots) <= 1:
        rounds = paired_rounds(values, baseline)
        if rounds is not None:
            va, vb = {o.round: o.value for o in values}, {o.round: o.value for o in baseline}
            return ratio([va[r] for r in rounds], [vb[r] for r in rounds], kind, seed, n_resamples, confidence,
                         paired=True)
        r = ratio([o.value for o in values], [o.value for o in baseline], kind, seed, n_resamples, confidence)
        if min(len(values), len(baseline)) >= 2:
            r.design = "independent: rounds incomplete"
        return r
    a = np.array([o.value for o in values], dtype=float)
    b = np.array([o.value for o in baseline], dtype=float)
    r = ratio(a, b, kind, seed, n_resamples, confidence)
    r.design, r.n_boots = f"two-stage over {len(boots)} boots", len(boots)
    if r.ci_low is None:
        return r
    fa = _nan_summary(kind)
    da, db = _two_stage_draws([list(values), list(baseline)], np.random.default_rng(seed), n_resamples)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a resample's all-NaN row (no such boot) gives NaN, handled
        dist = fa(da) / fa(db)
    lo, hi = _percentile(dist, confidence)
    r.ci_low, r.ci_high, r.ci_method = lo, hi, "percentile" if lo is not None else "undefined"
    r.significant = lo is not None and (lo > 1.0 or hi < 1.0)
    r.p_value = p_value(dist) if lo is not None else None
    return r


def summarize_by_design(obs, kind, seed=SEED, n_resamples=N_RESAMPLES, confidence=CONFIDENCE):
    """summarize() of Obs; from several boots the interval is the two-stage one (percentile)."""
    s = summarize([o.value for o in obs], kind, seed, n_resamples, confidence)
    boots = {o.boot for o in obs}
    if len(boots) > 1 and s.ci_low is not None:
        (d,) = _two_stage_draws([list(obs)], np.random.default_rng(seed), n_resamples)
        lo, hi = _percentile(_nan_summary(kind)(d), confidence)
        s.ci_low, s.ci_high = lo, hi
        s.ci_method = f"percentile, two-stage over {len(boots)} boots"
    return s


# ---------------------------------------------------------------- multiple comparisons

def holm(p_values, alpha=1 - CONFIDENCE):
    """Holm's step-down adjusted p-values (same order as given; None stays None and is not in
    the family): the k-th smallest of m is multiplied by m - k + 1, then made monotone."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(tested)
    out = [None] * len(p_values)
    running = 0.0
    for k, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (m - k) * p))
        out[i] = running
    return out


def holm_ratios(ratios, alpha=1 - CONFIDENCE):
    """Applies holm() to a family of Ratio (None entries skipped): each keeps its interval's call
    as uncorrected_significant, and significant becomes the family-wise call (adjusted p-value
    at most alpha and the interval excluding 1)."""
    family = [r for r in ratios if r is not None and r.p_value is not None]
    adjusted = holm([r.p_value for r in family], alpha)
    for r in ratios:
        if r is not None and r.uncorrected_significant is None:
            r.uncorrected_significant = r.significant
    for r, p in zip(family, adjusted):
        r.p_adjusted, r.family = p, len(family)
        r.significant = bool(r.uncorrected_significant) and p <= alpha
    for r in ratios:
        if r is not None and r.p_value is None:
            r.significant = False
    return ratios
