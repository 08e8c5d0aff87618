"""What a claim's verdict rests on (analysis/claimfacts.py, analysis/mlmodel.py, paper.evaluate()):
tentative verdicts below PRECISION's run count, the weight tree's kept share beside its ablation,
an ablation that beats the claimed policy, Holm over the claims, and every kept model judged with
an interval over traces; on synthetic results and traces with known answers."""
import hashlib
import json
import pathlib
import re
from types import SimpleNamespace

import pytest

from analysis import claimfacts, mlmodel, paper, stats
from synthetic_results import write_result

REPO = pathlib.Path(__file__).resolve().parents[2]

CLAIM = """
[claim c]
title = a claim
claim = {policy} is {pct}% faster.
source = a test
kind = ratio
policy = {policy}
expected = {expected}
results = {rid}
ablations = {ablations}
"""


def _claim(tmp_path, results, runs, policy="cgfifo", expected=1.03, ablations="fifo", rid="20260101-000000-nginx-x",
           extra=""):
    src = write_result(results, rid, runs)
    pdir = tmp_path / "paper"
    pdir.mkdir(exist_ok=True)
    kept = paper.add_result(src, pdir)
    (pdir / "claims.ini").write_text(CLAIM.format(policy=policy, pct=round((expected - 1) * 100), expected=expected,
                                                  rid=kept.name, ablations=ablations) + extra)
    (c,) = paper.load_claims(pdir)
    return paper.evaluate(c, pdir), pdir


def _rounds(values, n, jitter=(1.0, 1.002, 0.998, 1.001, 0.999, 1.003, 0.997, 1.0)):
    """n rounds, each policy once, values {policy: base value}, a little per-round jitter."""
    runs = []
    for k in range(n):
        for p, v in values.items():
            runs.append({"policy": p, "metrics": v * jitter[k % len(jitter)] * (1 + 0.001 * len(runs) % 3)})
    return runs


def test_min_rounds_is_the_one_precision_uses():
    src = (REPO / "runners/common/experiment.c").read_text()
    assert re.search(r"x->min_repeats = (\d+);", src).group(1) == str(claimfacts.MIN_ROUNDS)
    assert claimfacts.MIN_ROUNDS <= stats.FEW_RUNS


@pytest.mark.parametrize("n,tentative", [(2, True), (3, True), (4, True), (5, False)])
def test_a_verdict_below_the_run_count_is_tentative(tmp_path, results, n, tentative):
    c, _ = _claim(tmp_path, results, _rounds({"cfs": 1000, "cgfifo": 1200}, n), ablations="")
    assert c.tentative is tentative
    assert c.verdict.endswith("(tentative)") is tentative
    assert c.verdict.startswith("held")
    if n < claimfacts.MIN_ROUNDS:
        assert "rounds PRECISION= runs at least" in c.tentative_why[0]
    elif tentative:
        assert f"fewer than {stats.FEW_RUNS} a side" in c.tentative_why[0]


def test_a_precision_target_not_reached_makes_it_tentative():
    def dataset(precision):
        res = SimpleNamespace(id="r", manifest={"precision": precision} if precision else {})
        return SimpleNamespace(results=[res])
    assert claimfacts.tentative_reasons(dataset(None), 6, 6) == []
    assert claimfacts.tentative_reasons(dataset({"reached": True}), 6, 6) == []
    why = claimfacts.tentative_reasons(dataset({"reached": False}), 6, 6)
    assert why == ["r stopped at MAX_REPEATS before its PRECISION= target was reached"]


def test_the_verdict_names_what_it_tested_and_the_share_kept_is_shown(tmp_path, results):
    shares = {"cfs": 0.61, "cgfifo": 0.60, "fifo": 0.49}
    runs = []
    for k in range(5):
        for p, v in {"cfs": 1000, "fifo": 1140, "cgfifo": 1143}.items():
            wobble = 1 + 0.004 * ((k + len(runs)) % 3 - 1)
            runs.append({"policy": p, "metrics": v * wobble,
                         "cgroups": [("l1/high", 2 / 3, shares[p] * wobble), ("l1/low", 1 / 3, 1 - shares[p] * wobble)]})
    c, _ = _claim(tmp_path, results, runs, expected=1.10)
    assert c.tested.startswith("`requests_per_sec` of cgfifo relative to cfs")
    assert c.explanation.startswith("judged on `requests_per_sec` of cgfifo relative to cfs")
    assert [m.policy for m in c.mechanism] == ["cgfifo", "fifo", "cfs"]
    assert [m.role for m in c.mechanism] == ["claimed", "ablation", "baseline"]
    mine, ablation, _ = c.mechanism
    assert mine.entitled == pytest.approx(2 / 3) and "l1/high" in mine.what
    assert mine.measured.center == pytest.approx(0.60, abs=0.005)
    assert ablation.measured.center == pytest.approx(0.49, abs=0.005)
    # the claimed policy keeps about 0.60/0.49 = 1.22 times the ablation's share, significantly
    assert ablation.vs_claimed.ratio == pytest.approx(0.60 / 0.49, rel=0.01) and ablation.vs_claimed.ci_low > 1
    assert ablation.vs_claimed.design == "paired by round"
    assert any("keeping the CPU shares the weights entitle" in n for n in c.notes)


def test_a_claim_is_judged_again_with_its_kernel_twin(tmp_path, results):
    """twins = scx_flatcg: the claim judged with the twin in the claimed policy's place, the claimed
    policy against the twin, and the twin's share in the mechanism table; Holm counts both ratios."""
    shares = {"cfs": 0.61, "cgfifo": 0.60, "fifo": 0.49, "scx_flatcg": 0.65}
    runs = []
    for k in range(5):
        for p, v in {"cfs": 1000, "fifo": 1140, "cgfifo": 1100, "scx_flatcg": 1000}.items():
            wobble = 1 + 0.004 * ((k + len(runs)) % 3 - 1)
            runs.append({"policy": p, "metrics": v * wobble,
                         "cgroups": [("l1/high", 2 / 3, shares[p] * wobble), ("l1/low", 1 / 3, 1 - shares[p] * wobble)]})
    c, pdir = _claim(tmp_path, results, runs, expected=1.10, extra="twins = scx_flatcg\n")
    assert c.verdict.startswith("held")
    (j,) = c.twin_judgements
    assert j.twin == "scx_flatcg" and j.n == 5
    # scx_flatcg is no faster than cfs: the claimed 10% does not hold with the kernel's version
    assert j.ratio.ratio == pytest.approx(1.0, abs=0.01) and j.verdict.startswith("did not hold")
    assert "of scx_flatcg relative to cfs" in j.explanation
    assert j.versus.ratio == pytest.approx(1.10, rel=0.01) and j.versus.ci_low > 1
    assert [(m.policy, m.role) for m in c.mechanism] == [("cgfifo", "claimed"), ("scx_flatcg", "kernel twin"),
                                                          ("fifo", "ablation"), ("cfs", "baseline")]
    assert c.mechanism[1].vs_claimed.ratio == pytest.approx(0.60 / 0.65, rel=0.01)
    # scx_flatcg against the ablation fifo: significantly worse, said in its verdict
    (ab, r), = j.ablation_ratios
    assert ab == "fifo" and r.ratio == pytest.approx(1000 / 1140, rel=0.01) and r.ci_high < 1
    assert j.verdict == "did not hold; fifo significantly better"
    paper.correct_claims([c])
    assert j.ratio.family == j.versus.family == c.measured.family == r.family == 5
    from analysis import paperdoc
    text = paperdoc._twin_text(c, j)
    assert text.startswith("**Judged with the kernel's `scx_flatcg`**") and "did not hold" in text


def test_a_twin_without_runs_is_not_measured_and_a_twin_needs_a_ratio_claim(tmp_path, results):
    runs = _rounds({"cfs": 1000, "fifo": 1140, "cgfifo": 1143}, 5) + [
        {"policy": "scx_flatcg", "metrics": 1000, "valid": False}]
    c, pdir = _claim(tmp_path, results, runs, extra="twins = scx_flatcg\n")
    (j,) = c.twin_judgements
    assert j.ratio is None and j.verdict == "not measured" and "no valid runs of scx_flatcg" in j.explanation
    # the twin's invalid run (here ejected) is named where the paper judges with it
    assert j.invalid == ["20260101-000000-nginx-x run 16: policy was ejected by the kernel"]
    from analysis import paperdoc
    assert "1 run(s) of `scx_flatcg` were invalid and are left out" in paperdoc._twin_text(c, j)
    text = (pdir / "claims.ini").read_text().replace("kind = ratio", "kind = value")
    (pdir / "claims.ini").write_text(text)
    with pytest.raises(paper.AnalysisError, match="twins = is for kind = ratio claims"):
        paper.load_claims(pdir)


def test_no_weighted_cgroups_no_mechanism_rows(tmp_path, results):
    c, _ = _claim(tmp_path, results, _rounds({"cfs": 1000, "fifo": 1140, "cgfifo": 1143}, 5))
    assert c.mechanism == []


def test_an_ablation_significantly_better_is_said_in_the_verdict(tmp_path, results):
    c, _ = _claim(tmp_path, results, _rounds({"cfs": 1000, "fifo": 1200, "mlyield": 1150}, 6), policy="mlyield",
                  expected=1.15)
    assert "fifo significantly better" in c.verdict
    # a gain over cfs that the idea-less ablation betters is not credited to the idea either
    assert c.verdict == "held, but not due to the idea; fifo significantly better"
    assert "did significantly better than mlyield itself" in c.explanation
    assert any("mlyield is significantly worse than fifo" in n for n in c.notes)


def test_an_ablation_that_is_not_better_is_not_named(tmp_path, results):
    c, _ = _claim(tmp_path, results, _rounds({"cfs": 1000, "fifo": 1100, "cgfifo": 1150}, 6), expected=1.15)
    assert "significantly better" not in c.verdict


def _significant_ratio(p):
    return stats.Ratio(1.05, 1.01, 1.09, "BCa", True, False, p_value=p)


def test_holm_over_the_claims_withdraws_a_verdict_that_rested_on_significance():
    held = paper.Claim(id="a", title="a", claim="", source="", kind="ratio", policy="x", metric="m", expected=1.03,
                       results=["r"], verdict="held", explanation="a significant change")
    other = paper.Claim(id="b", title="b", claim="", source="", kind="ratio", policy="y", metric="m", expected=1.03,
                        results=["r"], verdict="held", explanation="a significant change")
    held.measured, other.measured = _significant_ratio(0.03), _significant_ratio(0.001)
    paper.correct_claims([held, other])
    # a family of two: 0.001 * 2 and 0.03 * 1 both stay at most 0.05
    assert held.verdict == "held" and held.measured.family == 2
    # a family of three: 0.001 * 3, then 0.03 * 2 = 0.06 and 0.04 * 1, made monotone to 0.06
    third = paper.Claim(id="c", title="c", claim="", source="", kind="ratio", policy="z", metric="m", expected=1.03,
                        results=["r"], verdict="partly held", explanation="a significant change")
    a, b = (paper.Claim(id=i, title=i, claim="", source="", kind="ratio", policy="x", metric="m", expected=1.03,
                        results=["r"], verdict="held", explanation="") for i in "de")
    third.measured, a.measured, b.measured = _significant_ratio(0.03), _significant_ratio(0.04), _significant_ratio(0.001)
    paper.correct_claims([third, a, b])
    assert third.verdict == "inconclusive after Holm" and a.verdict == "inconclusive after Holm"
    assert any("not significant after Holm over the paper's 3 claim comparisons" in n for n in third.notes)
    assert b.verdict == "held"


def test_the_paper_says_once_that_the_baseline_is_eevdf(tmp_path, results):
    _, pdir = _claim(tmp_path, results, _rounds({"cfs": 1000, "fifo": 1140, "cgfifo": 1143}, 5))
    paper.build(pdir)
    md = (pdir / "paper.md").read_text()
    assert md.count("measured against CFS itself") == 1
    (line,) = [ln for ln in md.splitlines() if "EEVDF" in ln]
    assert "kernel 7.3.4+deb13-cloud-amd64" in line


# ---------------------------------------------------------------- models judged over traces

HEADER = ("t_ns,idle_available,inc_pid,inc_comm,logit,pred,outcome,stop_after_ns,voluntary,"
          + ",".join(f"x_f{i}" if i else "x_read" for i in range(64)))


def _trace(yields):
    """A trace of 20 labelled rows (all yield within the horizon, or none does), after one lost
    row and one censored within the horizon (which carry no label), and every 5th labelled row a
    decision point (another CPU idle)."""
    rows = ["# scxlab mlyield trace v1", HEADER,
            "100,0,1,a,0,0,lost,0,," + ",".join("0" * 64),
            "200,0,1,a,0,0,censored,1000,," + ",".join("0" * 64)]
    for i in range(20):
        rows.append(f"{1000 + i},{int(i % 5 == 0)},1,a,0,0,stop,{1000 if yields else 9000},{int(yields)},"
                    + ",".join(["3"] + ["0"] * 63))
    return ("\n".join(rows) + "\n").encode()


# result/run -> every labelled row yields? T3 is the one trace where none does.
TRACES = {("20260101-000000-nginx-mltrace", "001"): True, ("20260101-000000-nginx-mltrace", "002"): True,
          ("20260102-000000-nginx-mltrace", "001"): False, ("20260102-000000-nginx-mltrace", "002"): True}


def _counts(rows, yes):
    return {"rows": rows, "tp": yes, "fp": rows - yes, "tn": 0, "fn": 0, "accuracy": yes / rows}


def _always_yields_model(split, held_out, dp, majority_tn):
    """A network that always says "yields" (all weights 0, output bias 1), with the held-out
    counts mltrain would record for these traces, worked out by hand in the test."""
    traces = []
    for (rid, run), y in TRACES.items():
        data = _trace(y)
        traces.append({"path": f"/tmp/made/{rid}/runs/{run}-mltrace/raw/mlyield-trace.csv",
                       "sha256": hashlib.sha256(data).hexdigest()})
    training = {"split": split, "metrics": {
        "held_out_float": _counts(*held_out), "held_out_float_decision_points": _counts(*dp),
        "held_out_majority_baseline": {"rows": held_out[0], "tp": 0, "fp": 0, "tn": majority_tn,
                                       "fn": held_out[0] - majority_tn, "always": "does not yield"}}}
    if split == "time":
        training["test_fraction"] = 0.5
    return {"label": {"horizon_us": 5.0}, "training": training, "provenance": {"traces": traces},
            "float": {"w1": [[0.0] * 16 for _ in range(64)], "b1": [0.0] * 16, "w2": [0.0] * 16, "b2": 1.0}}


@pytest.fixture
def model_paper(tmp_path):
    pdir = tmp_path / "paper"
    for (rid, run), y in TRACES.items():
        d = pdir / "results" / rid / "runs" / f"{run}-mltrace" / "raw"
        d.mkdir(parents=True)
        (d / "mlyield-trace.csv").write_bytes(_trace(y))
    (pdir / "models").mkdir()
    # time split, half held out: the last 10 labelled rows of each trace, right in 3 traces of 4
    # (30 of 40); decision points among them: rows 10 and 15 of each, 6 of 8 right
    (pdir / "models/time.json").write_text(json.dumps(_always_yields_model("time", (40, 30), (8, 6), 10)))
    # run split: the last trace of each result held out whole, both all-yield: 40 of 40 (dp 8 of 8)
    (pdir / "models/run.json").write_text(json.dumps(_always_yields_model("run", (40, 40), (8, 8), 0)))
    (pdir / "claims.ini").write_text("[claim acc]\ntitle = accuracy\nclaim = 87%.\nsource = a test\nkind = model\n"
                                     "expected = 0.87\nmodel = models/time.json models/run.json\n")
    return pdir


def test_every_kept_model_is_judged_with_an_interval_over_traces(model_paper):
    (c,) = paper.load_claims(model_paper)
    c = paper.evaluate(c, model_paper)
    time, run = c.models
    assert time.missing == "" and run.missing == ""
    assert (time.held_out.rows, time.held_out.correct, time.held_out.clusters) == (40, 30, 4)
    assert (run.held_out.rows, run.held_out.correct, run.held_out.clusters) == (40, 40, 2)
    assert (time.decision_points.rows, time.decision_points.correct) == (8, 6)
    # per trace 1, 1, 0, 1: resampling traces reaches far below what rows as independent allow
    assert time.held_out.ci_low < time.exact_ci[0] - 0.2 and time.held_out.ci_high == 1.0
    assert time.verdict == "inconclusive" and run.verdict == "held"
    assert c.verdict == "mixed (time split: inconclusive; run split: held) (tentative)"
    assert "only 4 traces" in " ".join(c.tentative_why) and "only 2 traces" in " ".join(c.tentative_why)
    assert any("decision points the policy acts on" in n and "6 of 8" in n for n in c.notes)
    assert c.tested.startswith("held-out accuracy of 2 kept model(s)")


def test_a_model_whose_counts_the_traces_do_not_reproduce_gets_no_trace_interval(model_paper):
    doc = json.loads((model_paper / "models/time.json").read_text())
    doc["training"]["metrics"]["held_out_float"] = _counts(40, 31)
    m = mlmodel.evaluate(doc, model_paper, "models/time.json")
    assert m.held_out.ci_low is None and "not the model file's 31/40" in m.missing


def test_a_trace_that_is_not_kept_is_named(model_paper):
    doc = json.loads((model_paper / "models/run.json").read_text())
    doc["provenance"]["traces"][0]["path"] = "/tmp/made/20260109-000000-x/runs/001-mltrace/raw/mlyield-trace.csv"
    m = mlmodel.evaluate(doc, model_paper, "models/run.json")
    assert "traces not kept under" in m.missing and "20260109-000000-x" in m.missing


@pytest.mark.parametrize("name", ["mlyield-time-split.json", "mlyield-run-split.json"])
def test_the_kept_models_counts_are_reproduced_from_the_kept_traces(name):
    """Against tools/mltrain itself: the paper's kept models and traces."""
    doc = json.loads((REPO / "paper/models" / name).read_text())
    m = mlmodel.evaluate(doc, REPO / "paper", name)
    assert m.missing == "" and m.held_out.ci_low is not None


def test_a_twin_whose_gain_the_ablation_shares_is_not_credited_to_the_idea(tmp_path, results):
    runs = []
    for k in range(6):  # scx_flatcg as fast as fifo, one round above it, the next below
        for p, v in {"cfs": 1000, "fifo": 1050, "cgfifo": 1052, "scx_flatcg": 1050 * (1 + 0.01 * (-1) ** k)}.items():
            runs.append({"policy": p, "metrics": v})
    c, _ = _claim(tmp_path, results, runs, extra="twins = scx_flatcg\n")
    (j,) = c.twin_judgements
    assert j.verdict == "held, but not due to the idea"
    assert "yet scx_flatcg is no better than the ablation(s) fifo" in j.explanation
