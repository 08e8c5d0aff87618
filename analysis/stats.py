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
- A ratio to the baseline (policy / cfs) resamples both groups independently (the runs are
  interleaved in one boot but not paired), recomputing each group's summary per resample.
- Significant means the ratio's confidence interval excludes 1. With fewer than 2 runs on
  either side there is no interval and nothing is significant. With fewer than FEW_RUNS the
  bootstrap interval is known to be too narrow (it cannot see variation the few runs did not
  show); such rows are flagged so that nobody reads much into them.
- ratio_halfwidth_pct: half the width of the ratio's interval in percentage points of the ratio
  (ratio 1.03 [1.01, 1.05] -> 2.0). This is the statistic `make compare PRECISION=` stops on.

One estimator in two languages: the guest decides between rounds of PRECISION= without Python,
with runners/common/stats.c (stat_ratio_ci), which implements ratio() above choice by choice:
the same metric_kind and summaries, independent resampling of both groups, scipy's BCa formulas
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
    significant: bool
    few_runs: bool

    @property
    def halfwidth_pct(self):
        """Half the interval's width in percentage points of the ratio; inf without an interval."""
        if self.ci_low is None or self.ci_high is None:
            return math.inf
        return 100.0 * (self.ci_high - self.ci_low) / 2.0


def _bootstrap(samples, statistic, seed, n_resamples, confidence):
    """(low, high, method) of a bootstrap interval; BCa, else percentile when BCa is undefined."""
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            # Degenerate data (identical values) makes BCa warn and return NaN; handled below.
            warnings.simplefilter("ignore")
            res = sps.bootstrap(samples, statistic, vectorized=True, paired=False,
                                confidence_level=confidence, n_resamples=n_resamples,
                                method=method, random_state=np.random.default_rng(seed))
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo, hi, method
    return None, None, "undefined"


def summarize(values, kind, seed=SEED, n_resamples=N_RESAMPLES, confidence=CONFIDENCE):
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("summarize: no values")
    fn = summary_function(kind)
    center = float(fn(x, axis=-1))
    if x.size >= 2:
        lo, hi, method = _bootstrap((x,), lambda a, axis=-1: fn(a, axis=axis), seed, n_resamples, confidence)
    else:
        lo, hi, method = None, None, "single run"
    return Summary(kind=kind, stat=STAT_NAME[kind], n=int(x.size), center=center, ci_low=lo, ci_high=hi,
                   ci_method=method, minimum=float(x.min()), maximum=float(x.max()),
                   p10=float(np.percentile(x, 10)), p90=float(np.percentile(x, 90)),
                   values=tuple(float(v) for v in x))


def ratio(values, baseline, kind, seed=SEED, n_resamples=N_RESAMPLES, confidence=CONFIDENCE):
    """The ratio of values' summary to baseline's, with its bootstrap interval."""
    a = np.asarray(values, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("ratio: no values")
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

    lo, hi, method = _bootstrap((a, b), stat, seed, n_resamples, confidence)
    significant = lo is not None and (lo > 1.0 or hi < 1.0)
    return Ratio(point, lo, hi, method, significant, few)
