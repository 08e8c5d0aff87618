"""The design the runs had: ratios paired by round within a boot, independent where rounds are
incomplete, two-stage across boots, and Holm's correction over a comparison; on synthetic result
directories (tests/analysis/synthetic_results.py) whose answers are known by construction."""
import pytest

from analysis import stats
from analysis.compare import compare, pool
from analysis.loader import load_result
from synthetic_results import interleaved, write_result

# Rounds that drift together (the guest slowing over the boot): cfs and fifo move by the same
# factor in each round, fifo is 10% faster within every round, plus a little noise of its own.
DRIFT = [1.00, 0.90, 1.08, 0.95, 1.12, 0.88, 1.05, 0.97]
NOISE = [1.000, 1.002, 0.998, 1.001, 0.999, 1.003, 0.997, 1.000]
CFS = [1400 * d for d in DRIFT]
FIFO = [1540 * d * e for d, e in zip(DRIFT, NOISE)]


def _row(cmp, policy, metric="requests_per_sec"):
    return next(r for r in cmp.metric(metric).rows if r.policy == policy)


def test_pairing_by_round_narrows_the_interval_when_rounds_drift_together(results):
    ds = pool([load_result(write_result(results, "20260101-000000-nginx-cfs+fifo", interleaved(CFS, FIFO)))])
    r = _row(compare(ds, metrics=["requests_per_sec"]), "fifo").ratio
    assert r.design == "paired by round" and r.n_rounds == len(DRIFT)
    unpaired = stats.ratio(FIFO, CFS, stats.RATE)
    assert r.ratio == pytest.approx(unpaired.ratio)
    # paired: the drift cancels round by round; unpaired it is most of the spread
    assert (r.ci_high - r.ci_low) < 0.25 * (unpaired.ci_high - unpaired.ci_low)
    assert r.ci_low <= 1.10 <= r.ci_high and r.significant


def test_an_invalid_run_makes_the_rounds_incomplete_and_the_pair_independent(results):
    runs = interleaved(CFS, FIFO)
    runs[4]["valid"] = False  # cfs of round 3
    ds = pool([load_result(write_result(results, "20260101-000000-nginx-cfs+fifo", runs))])
    r = _row(compare(ds, metrics=["requests_per_sec"]), "fifo").ratio
    assert r.design == "independent: rounds incomplete" and r.n_rounds == 0
    cfs_valid = [v for k, v in enumerate(CFS) if k != 2]
    assert r.ci_low == pytest.approx(stats.ratio(FIFO, cfs_valid, stats.RATE).ci_low)
    assert any("pairing by round is impossible" in n for n in compare(ds, metrics=["requests_per_sec"]).notes)


def test_pairing_needs_the_same_rounds_on_both_sides():
    a = [stats.Obs("b", k, 1.0 + k) for k in (1, 2, 3)]
    assert stats.paired_rounds(a, [stats.Obs("b", k, 2.0) for k in (1, 2, 3)]) == [1, 2, 3]
    assert stats.paired_rounds(a, [stats.Obs("b", k, 2.0) for k in (1, 2, 4)]) is None
    assert stats.paired_rounds(a, [stats.Obs("b", k, 2.0) for k in (1, 1, 2, 3)]) is None
    assert stats.paired_rounds(a[:1], [stats.Obs("b", 1, 2.0)]) is None  # one round: no interval
    assert stats.paired_rounds([stats.Obs("b", 0, 1.0), stats.Obs("b", 0, 2.0)],
                               [stats.Obs("b", 0, 1.0), stats.Obs("b", 0, 2.0)]) is None  # no round recorded


def test_two_boots_with_a_shift_widen_the_pooled_interval(results):
    steady = [1400.0, 1403.0, 1398.0, 1401.0, 1399.0, 1402.0]
    one = write_result(results, "20260101-000000-nginx-cfs+fifo", interleaved(steady, [v * 1.10 for v in steady]))
    two = write_result(results, "20260102-000000-nginx-cfs+fifo", interleaved(steady, [v * 1.20 for v in steady]))
    ds = pool([load_result(one), load_result(two)])
    cmp = compare(ds, metrics=["requests_per_sec"])
    r = _row(cmp, "fifo").ratio
    assert r.design == "two-stage over 2 boots" and r.n_boots == 2
    naive = stats.ratio([v * 1.10 for v in steady] + [v * 1.20 for v in steady], steady + steady, stats.RATE)
    assert r.ratio == pytest.approx(naive.ratio)
    # each boot alone is +10% or +20% to within 0.2%: the pooled interval must reach towards both
    assert (r.ci_high - r.ci_low) > 1.5 * (naive.ci_high - naive.ci_low)
    assert r.ci_low < 1.12 and r.ci_high > 1.18
    assert any("2 boots" in n for n in cmp.notes)
    # the absolute value's interval carries the between-boot term too
    s = _row(cmp, "fifo").summary
    assert "two-stage over 2 boots" in s.ci_method and s.ci_low < 1400 * 1.12 and s.ci_high > 1400 * 1.18


def test_a_boot_without_the_policy_is_left_out_of_its_ratio(results):
    steady = [1400.0, 1403.0, 1398.0, 1401.0]
    one = write_result(results, "20260101-000000-nginx-cfs+fifo", interleaved(steady, [v * 1.10 for v in steady]))
    two = write_result(results, "20260102-000000-nginx-cfs+cgfifo",
                       interleaved([v * 2 for v in steady], steady, policy="cgfifo"))
    r = _row(compare(pool([load_result(one), load_result(two)]), metrics=["requests_per_sec"]), "fifo").ratio
    # within its own boot fifo is +10%; the second boot's (doubled) cfs runs must not enter
    assert r.design == "paired by round" and r.ratio == pytest.approx(1.10)


def test_holm_adjusts_known_p_values():
    adjusted = stats.holm([0.01, 0.04, None, 0.03, 0.005])
    assert adjusted[2] is None
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, made monotone
    assert adjusted == pytest.approx([0.03, 0.06, None, 0.06, 0.02])


def _ratio(p, lo=1.01, hi=1.05):
    return stats.Ratio(1.03, lo, hi, "BCa", lo > 1 or hi < 1, False, p_value=p)


def test_holm_ratios_withdraws_calls_the_family_does_not_support():
    family = [_ratio(0.001), _ratio(0.02), _ratio(0.04), None, _ratio(0.5, 0.98, 1.05)]
    stats.holm_ratios(family)
    assert [r.significant for r in family if r] == [True, False, False, False]
    assert [r.uncorrected_significant for r in family if r] == [True, True, True, False]
    assert all(r.family == 4 for r in family if r)
    assert family[0].p_adjusted == pytest.approx(0.004)


def test_the_bootstrap_p_value_counts_both_sides():
    assert stats.p_value([0.9, 1.1, 1.2, 1.3]) == pytest.approx(0.5)
    assert stats.p_value([1.1] * 100) == pytest.approx(1 / 101)  # never below 1/(B+1)
    assert stats.p_value([1.0] * 10) == 1.0
    assert stats.p_value([1.0, float("nan")]) is None


def test_compare_applies_holm_over_every_ratio_row(results):
    ds = pool([load_result(write_result(results, "20260101-000000-nginx-cfs+fifo", interleaved(CFS, FIFO)))])
    cmp = compare(ds)
    ratios = [r.ratio for m in cmp.metrics for r in m.rows if r.ratio is not None and r.ratio.p_value is not None]
    assert len(ratios) > 1 and all(r.family == len(ratios) for r in ratios)
    assert any("Holm-corrected over this comparison's" in n for n in cmp.notes)
