"""PRECISION=: interleaved rounds are added until every ratio to cfs is known to the asked
precision (or the cap is hit, which the manifest says), by the interval the report gives."""
import statistics
import sys

from conftest import REPO, load, make, result_dir

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from analysis import compare, loader  # noqa: E402


def check_same_interval_as_the_report(d, p):
    """The guest's last evaluation is the report's interval on the same runs: the same statistic
    (the headline is req/s: hmean), ratio and method, and a half-width within Monte-Carlo error.
    The two sides use different generators, so their half-widths differ by that error, and on 3
    runs a side the bootstrap distribution has few distinct values: an endpoint can jump between
    two of them from one seed to the next (0.53 points apart in one CI run). So the bound is
    measured, not assumed: the report's estimator is rerun on the same runs with 30 other seeds,
    and the guest's half-width must lie within the spread those seeds show (their range or 4
    standard deviations, whichever is wider, plus 0.1 points) of their median."""
    est = p["estimator"]
    assert (est["statistic"], est["unit"], est["interval"], est["fallback"]) == ("hmean", "req/s", "BCa", "percentile")
    assert est["confidence"] == 0.95 and est["resamples"] == 10000
    dataset = compare.pool([loader.load_result(d)])
    other_seeds = [{pol: r.halfwidth_pct for pol, r, _, _ in compare.ratio_cis(dataset, seed=s)} for s in range(1, 31)]
    for policy, ratio, n, nb in compare.ratio_cis(dataset):
        guest = p["ratios"][policy]
        assert (guest["runs"], guest["baseline_runs"]) == (n, nb)
        assert abs(guest["ratio"] - ratio.ratio) < 1e-9 * ratio.ratio
        assert guest["method"] == ratio.ci_method
        # both pair by round when both ran validly in the same rounds (stats.ratio_by_design)
        assert guest["design"] == ("paired by round" if ratio.design == "paired by round" else "independent")
        widths = [w[policy] for w in other_seeds]
        spread = max(max(widths) - min(widths), 4 * statistics.pstdev(widths)) + 0.1
        assert abs(guest["halfwidth_pct"] - statistics.median(widths)) <= spread, (policy, guest, ratio, widths)


def test_precision_reached_stops_early(results_root):
    # short nginx runs vary by several percent; +-25% is reached as soon as rounds are counted
    proc = make("compare", "POLICIES=cfs fifo", "WORKLOAD=nginx", "DURATION=2", "PRECISION=25", "MAX_REPEATS=6",
                results=results_root)
    assert proc.returncode == 0, proc.stderr
    m = load(result_dir(proc) / "manifest.json")
    p = m["precision"]
    assert p["reached"] is True and p["stopped_because"] == "precision reached"
    assert p["runs_done"] == 6 and len(m["runs"]) == 6          # 3 rounds of 2 policies
    assert p["halfwidth_pct"]["fifo"] <= 25
    assert p["ratios"]["fifo"]["halfwidth_pct"] == p["halfwidth_pct"]["fifo"]
    check_same_interval_as_the_report(result_dir(proc), p)
    assert m["summary"]["fifo"]["valid_runs"] == 3
    assert m["summary"]["fifo"]["statistic"] == "hmean" and m["summary"]["fifo"]["unit"] == "req/s"
    assert "precision reached after 6 runs" in proc.stderr


def test_precision_cap_is_reported(results_root):
    proc = make("compare", "POLICIES=cfs fifo", "WORKLOAD=nginx", "DURATION=2", "PRECISION=0.1", "MAX_REPEATS=3",
                results=results_root)
    m = load(result_dir(proc) / "manifest.json")
    p = m["precision"]
    assert p["reached"] is False and p["stopped_because"].startswith("cap reached")
    assert p["runs_done"] == 6 and p["max_repeats"] == 3
    # the last round is evaluated too: the manifest says how far from the target it was
    assert p["ratios"]["fifo"]["halfwidth_pct"] > 0.1
    check_same_interval_as_the_report(result_dir(proc), p)
    assert "NOT reached" in proc.stderr


def test_precision_needs_a_baseline(results_root):
    proc = make("compare", "POLICIES=fifo faulty", "WORKLOAD=nginx", "PRECISION=2", results=results_root, timeout=300)
    assert proc.returncode != 0 and "PRECISION needs cfs" in proc.stderr
    proc = make("compare", "POLICIES=cfs fifo", "WORKLOAD=nginx", "PRECISION=2", "REPEATS=4", results=results_root,
                timeout=300)
    assert proc.returncode != 0 and "REPEATS and PRECISION exclude each other" in proc.stderr
