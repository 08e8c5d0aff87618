"""analysis.stats: summaries by unit, bootstrap intervals, ratios and significance, with known answers."""
import math

import numpy as np
import pytest

from analysis import stats


@pytest.mark.parametrize("unit,kind", [("req/s", stats.RATE), ("B/s", stats.RATE), ("us", stats.TIME),
                                       ("ms", stats.TIME), ("s", stats.TIME), ("count", stats.OTHER),
                                       ("fraction", stats.OTHER), ("switches/req", stats.OTHER)])
def test_metric_kind_follows_the_unit(unit, kind):
    assert stats.metric_kind(unit) == kind


def test_rates_get_the_harmonic_mean():
    s = stats.summarize([1.0, 2.0, 4.0], stats.RATE)
    assert s.stat == "hmean"
    assert s.center == pytest.approx(3 / (1 + 1 / 2 + 1 / 4))


def test_times_get_the_median_and_others_the_mean():
    assert stats.summarize([1.0, 2.0, 100.0], stats.TIME).center == 2.0
    assert stats.summarize([1.0, 2.0, 100.0], stats.OTHER).center == pytest.approx(103 / 3)


def test_a_zero_rate_makes_the_harmonic_mean_zero():
    assert stats.summarize([0.0, 5.0], stats.RATE).center == 0.0


def test_single_value_has_no_interval():
    s = stats.summarize([42.0], stats.RATE)
    assert s.center == 42.0 and s.n == 1
    assert s.ci_low is None and s.ci_high is None and s.ci_method == "single run"


def test_interval_is_reproducible_and_contains_the_estimate():
    x = [100.0, 103.0, 98.0, 101.0, 99.5, 102.0]
    a, b = stats.summarize(x, stats.RATE), stats.summarize(x, stats.RATE)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert min(x) <= a.ci_low <= a.center <= a.ci_high <= max(x)


def test_identical_values_fall_back_to_the_percentile_interval():
    s = stats.summarize([7.0, 7.0, 7.0], stats.OTHER)
    assert s.ci_method == "percentile" and s.ci_low == 7.0 and s.ci_high == 7.0


def test_bootstrap_interval_has_its_nominal_coverage_on_skewed_data():
    # Non-normal (exponential, mean 10) samples of 30: about 95% of the intervals cover the mean.
    # A method that assumed too much, or a bug in the interval, lands far outside 88..99%.
    rng = np.random.default_rng(7)
    trials = 200
    covered = 0
    for i in range(trials):
        s = stats.summarize(rng.exponential(10.0, size=30), stats.OTHER, seed=i, n_resamples=1000)
        covered += s.ci_low < 10.0 < s.ci_high
    assert 0.88 <= covered / trials <= 0.99


def test_clear_difference_is_significant_with_the_right_ratio():
    base = [100.0, 101.0, 99.0, 100.0, 102.0, 98.0]
    better = [120.0, 121.0, 119.0, 120.0, 122.0, 118.0]
    r = stats.ratio(better, base, stats.RATE)
    expect = stats.summarize(better, stats.RATE).center / stats.summarize(base, stats.RATE).center
    assert r.ratio == pytest.approx(expect)
    assert r.significant and r.ci_low > 1.0 and r.ci_low <= r.ratio <= r.ci_high
    assert not r.few_runs
    assert r.halfwidth_pct == pytest.approx(100 * (r.ci_high - r.ci_low) / 2)


def test_same_distribution_is_not_significant():
    a = [100.0, 104.0, 97.0, 101.0, 99.0]
    b = [101.0, 98.0, 103.0, 100.0, 99.5]
    r = stats.ratio(a, b, stats.RATE)
    assert r.ci_low < 1.0 < r.ci_high and not r.significant


def test_ratio_with_a_single_run_has_no_interval_and_infinite_halfwidth():
    r = stats.ratio([120.0], [100.0, 101.0], stats.RATE)
    assert r.ratio == pytest.approx(120 / stats.summarize([100.0, 101.0], stats.RATE).center)
    assert r.ci_low is None and not r.significant
    assert math.isinf(r.halfwidth_pct)


def test_few_runs_are_flagged():
    r = stats.ratio([120.0, 121.0, 119.0], [100.0, 101.0, 99.0], stats.RATE)
    assert r.few_runs and r.significant


def test_ratio_against_a_zero_baseline_is_undefined():
    r = stats.ratio([1.0, 2.0], [0.0, 0.0], stats.OTHER)
    assert r.ratio is None and not r.significant


def test_a_resampled_ratio_over_a_zero_baseline_has_no_interval():
    """Some resamples dividing by zero (a counter cfs never moves) make the interval undefined,
    not a NaN or infinite bound."""
    from analysis import stats
    assert stats._percentile([1.0, 2.0, np.inf], 0.95) == (None, None)
    assert stats._percentile([1.0, np.nan], 0.95) == (None, None)
    lo, hi = stats._percentile([1.0, 2.0, 3.0], 0.95)
    assert lo < hi
