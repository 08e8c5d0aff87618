"""The stopping rule (C, runners/common/stats.c) and the report (analysis/stats.py) compute the
same interval: on the fixed cases of tests/data/stats-agreement.json both give the same ratio
(to 1e-9), the same statistic and method, and endpoints and half-width within the case's
stated Monte-Carlo tolerance (`tolerance_pp`, percentage points of the ratio). A case with
`"paired": true` holds one round's runs at the same position on both sides and is computed
paired by round (stats.ratio(paired=True), stat_ratio_ci_paired) on both.

Why a tolerance: both sides draw 10000 resamples with the same seed but different generators
(numpy's PCG64, splitmix64), so they differ by Monte-Carlo error only. The tolerance of each
case is checked here to be at least 4 standard deviations of that error, measured with
analysis/stats.py itself over 20 seeds (so an honest C side fails this test by chance less than
about once in 10^4 per endpoint), and the cases are checked to tell a wrong estimator or method
apart (a mean instead of the harmonic mean moves the ratio; the percentile interval instead of
BCa moves an endpoint by more than the tolerance).

`/usr/bin/python3 tests/analysis/test_stats_agreement.py --write` recomputes the "analysis"
blocks of the data file (after a deliberate change to analysis/stats.py).
"""
import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from analysis import stats  # noqa: E402

DATA = REPO / "tests/data/stats-agreement.json"
C_CLI = REPO / "build/tests/test_stats"


def analysis_interval(case, seed=stats.SEED):
    kind = stats.metric_kind(case["unit"])
    r = stats.ratio(case["values"], case["baseline"], kind, seed=seed, paired=case.get("paired", False))
    return {"statistic": stats.STAT_NAME[kind], "ratio": r.ratio, "ci_low": r.ci_low, "ci_high": r.ci_high,
            "method": r.ci_method, "halfwidth_pct": r.halfwidth_pct}


def percentile_interval(case):
    """The interval a percentile bootstrap (the wrong method) would give on the same resamples."""
    from scipy import stats as sps
    fn = stats.summary_function(stats.metric_kind(case["unit"]))
    res = sps.bootstrap((np.asarray(case["values"], float), np.asarray(case["baseline"], float)),
                        lambda x, y, axis=-1: fn(x, axis=axis) / fn(y, axis=axis), vectorized=True,
                        paired=case.get("paired", False),
                        confidence_level=stats.CONFIDENCE, n_resamples=stats.N_RESAMPLES, method="percentile",
                        random_state=np.random.default_rng(stats.SEED))
    return {"ci_low": float(res.confidence_interval.low), "ci_high": float(res.confidence_interval.high)}


@pytest.fixture(scope="module")
def data():
    return json.loads(DATA.read_text())


@pytest.fixture(scope="module")
def c_side(data):
    if not C_CLI.exists():
        pytest.fail(f"{C_CLI} is missing: run `make build` first")
    proc = subprocess.run([str(REPO / "kernel/tools-exec"), str(C_CLI), "--json", str(DATA)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["seed"] == stats.SEED and out["confidence"] == stats.CONFIDENCE
    assert out["resamples"] == stats.N_RESAMPLES
    return {c["name"]: c for c in out["cases"]}


def test_the_recorded_reference_is_what_analysis_computes_now(data):
    """The cmocka test compares against the recorded blocks: they must not be stale."""
    for case in data["cases"]:
        assert case["analysis"] == pytest.approx(analysis_interval(case), rel=1e-12), case["name"]


def test_the_c_interval_agrees_with_analysis(data, c_side):
    for case in data["cases"]:
        ref, got, tol = analysis_interval(case), c_side[case["name"]], case["tolerance_pp"]
        assert got["statistic"] == ref["statistic"], case["name"]
        assert got["ratio"] == pytest.approx(ref["ratio"], abs=1e-9), case["name"]
        for key, scale in (("ci_low", 100), ("ci_high", 100), ("halfwidth_pct", 1)):
            assert abs(got[key] - ref[key]) * scale <= tol, (case["name"], key, got[key], ref[key], tol)
        if ref["halfwidth_pct"] > 0:
            assert got["method"] == ref["method"], case["name"]


def test_each_tolerance_covers_four_sigma_of_monte_carlo_error(data):
    for case in data["cases"]:
        runs = [analysis_interval(case, seed=1000 + s) for s in range(20)]
        for key in ("ci_low", "ci_high"):
            sd = float(np.std([100 * r[key] for r in runs], ddof=1))
            # the difference of two independent draws has sqrt(2) times one draw's deviation
            assert 4 * math.sqrt(2) * sd <= case["tolerance_pp"], (case["name"], key, sd)


def test_the_cases_tell_a_wrong_estimator_or_method_apart(data):
    kinds = {stats.metric_kind(c["unit"]) for c in data["cases"]}
    assert kinds == {stats.RATE, stats.TIME, stats.OTHER}
    sizes = {(len(c["values"]), len(c["baseline"])) for c in data["cases"]}
    assert (8, 8) in sizes and (3, 3) in sizes
    wrong_center = wrong_method = 0
    for case in data["cases"]:
        kind = stats.metric_kind(case["unit"])
        right = analysis_interval(case)
        for other in {stats.RATE, stats.TIME, stats.OTHER} - {kind}:
            wrong = stats.ratio(case["values"], case["baseline"], other)
            wrong_center += wrong.ratio is not None and abs(wrong.ratio - right["ratio"]) > 1e-6
        if right["method"] == "BCa":
            pct = percentile_interval(case)
            moved = max(abs(pct["ci_low"] - right["ci_low"]), abs(pct["ci_high"] - right["ci_high"])) * 100
            wrong_method += moved > case["tolerance_pp"]
    assert wrong_center >= 2 * len(data["cases"]) - 2  # identical runs give one ratio whatever the center
    assert wrong_method >= 3


def test_the_paired_cases_tell_pairing_apart(data):
    """A side that ignored "paired" (or paired where it should not) must fail the agreement: on
    each paired case the unpaired interval's endpoints differ by more than the tolerance."""
    paired = [c for c in data["cases"] if c.get("paired")]
    assert {stats.metric_kind(c["unit"]) for c in paired} >= {stats.RATE, stats.TIME}
    for case in paired:
        right = analysis_interval(case)
        wrong = analysis_interval({**case, "paired": False})
        moved = max(abs(wrong["ci_low"] - right["ci_low"]), abs(wrong["ci_high"] - right["ci_high"])) * 100
        assert moved > case["tolerance_pp"], (case["name"], moved)


def write_reference():
    doc = json.loads(DATA.read_text())
    for case in doc["cases"]:
        case["analysis"] = analysis_interval(case)
    DATA.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_reference()
    else:
        sys.exit("usage: test_stats_agreement.py --write")
