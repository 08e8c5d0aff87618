"""The time model as a factor (analysis/timemodel.py): claim x time model verdicts from synthetic
results with known answers, the "emulation-sensitive" label, "not measured" for a missing time
model, claims.ini's time_model key, and make time-model's plan and record (with a stand-in runner:
nothing boots)."""
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from analysis import AnalysisError, compare, paper, timemodel
from analysis.loader import load_result
from synthetic_results import FINGERPRINT, interleaved, write_result

CFS = [100, 101, 99, 100, 102, 98]
GAIN = [110, 111, 109, 110, 112, 108]  # +10%, tight: "held" for a claimed +10%
SAME = [100, 102, 98, 101, 99, 100]  # no change: "did not hold" for a claimed +10%

# the factors each time model's runner records; the shift-3 one is a legacy result (before
# ICOUNT_SHIFT=: no icount_shift, only clock_qemu.icount), as every kept result so far
MODELS = {
    "virtual shift=3": {},
    "virtual shift=2": {"icount_shift": 2, "clock_qemu": {"icount": "shift=2,sleep=off"}},
    "real": {"clock": "real", "clock_qemu": {"accel": "tcg,thread=multi", "icount": ""}, "icount_shift": None},
}

CLAIM = """
[claim {cid}]
title = {cid} title
claim = fifo beats cfs by 10%
source = test
kind = ratio
policy = fifo
expected = 1.10
results = {results}
time_model = {time_model}
"""


def _kept(results, pdir, name, model, other, host=None):
    d = write_result(results, name, interleaved(CFS, other), factors=MODELS[model], host=host)
    return paper.add_result(d, pdir).name


@pytest.fixture
def pdir(tmp_path, results):
    """Three claims: 'moves' gains under the virtual clock at shift 3 and under the real clock but
    not at shift 2; 'steady' gains under all three; 'partial' was never run under the real clock."""
    p = tmp_path / "paper"
    text = ""
    plans = {"moves": {"virtual shift=3": GAIN, "virtual shift=2": SAME, "real": GAIN},
             "steady": {"virtual shift=3": GAIN, "virtual shift=2": GAIN, "real": GAIN},
             "partial": {"virtual shift=3": GAIN, "virtual shift=2": GAIN}}
    for k, (cid, runs) in enumerate(plans.items()):
        ids = [_kept(results, p, f"2026010{k}-00000{j}-nginx-cfs+fifo", model, other)
               for j, (model, other) in enumerate(runs.items())]
        text += CLAIM.format(cid=cid, results=ids[0], time_model=" ".join(ids))
    (p / "claims.ini").write_text(text)
    return p


def rows_by_claim(pdir):
    return {r.claim: r for r in timemodel.table(paper.load_claims(pdir), pdir)}


def test_a_verdict_that_changes_with_the_time_model_is_labelled(pdir):
    rows = rows_by_claim(pdir)
    moves = rows["moves"]
    assert [c.time_model for c in moves.cells] == ["virtual shift=3", "virtual shift=2", "real"]
    assert [c.verdict for c in moves.cells] == ["held", "did not hold", "held"]
    assert moves.label == timemodel.SENSITIVE
    assert timemodel.labels(rows.values()) == {"moves": timemodel.SENSITIVE}
    # the number is the ratio evaluate() gives on that time model's results alone
    assert moves.cells[0].ratio == pytest.approx(1.10, abs=0.005)
    assert moves.cells[1].ratio == pytest.approx(1.0, abs=0.01)
    assert moves.cells[0].ci_low < 1.10 < moves.cells[0].ci_high


def test_a_verdict_that_holds_under_every_time_model_is_not_labelled(pdir):
    steady = rows_by_claim(pdir)["steady"]
    assert [c.verdict for c in steady.cells] == ["held"] * 3
    assert steady.label == "" and steady.note == ""


def test_a_missing_time_model_says_not_measured_never_a_number(pdir):
    partial = rows_by_claim(pdir)["partial"]
    real = partial.cells[2]
    assert real.time_model == "real" and real.verdict == timemodel.NOT_MEASURED
    assert real.ratio is None and real.ci_low is None and real.results == []
    assert partial.label == ""  # the two measured agree
    md = timemodel.render_markdown(list(rows_by_claim(pdir).values()))
    line = next(ln for ln in md.splitlines() if ln.startswith("| partial title"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[4] == "not measured"
    assert "%" in cells[2] and "held" in cells[2]
    moves = next(ln for ln in md.splitlines() if ln.startswith("| moves title"))
    assert moves.rstrip().endswith(f"| {timemodel.SENSITIVE} |")


def test_one_time_model_measured_is_too_few_to_tell(tmp_path, results):
    p = tmp_path / "paper"
    rid = _kept(results, p, "20260105-000000-nginx-cfs+fifo", "virtual shift=3", GAIN)
    (p / "claims.ini").write_text(CLAIM.format(cid="one", results=rid, time_model=rid))
    (row,) = timemodel.table(paper.load_claims(p), p)
    assert row.label == "" and "too few" in row.note
    assert [c.verdict for c in row.cells] == ["held", "not measured", "not measured"]


def test_a_real_clock_result_from_a_busy_host_is_marked(tmp_path, results):
    # FINGERPRINT's host: 1 other runnable process at the start, 2 at the end; the same means
    # nothing under the virtual clock
    p = tmp_path / "paper"
    ids = [_kept(results, p, f"20260106-00000{j}-nginx-cfs+fifo", m, GAIN, host=FINGERPRINT)
           for j, m in enumerate(("virtual shift=3", "real"))]
    (p / "claims.ini").write_text(CLAIM.format(cid="busy", results=ids[0], time_model=" ".join(ids)))
    (row,) = timemodel.table(paper.load_claims(p), p)
    virtual, _, real = row.cells
    assert virtual.busy_host == "" and "host not quiet" not in timemodel.cell_text(virtual)
    assert real.busy_host == (f"{ids[1]}: 1 other runnable process at the start; "
                              f"{ids[1]}: 2 other runnable processes at the end")
    assert timemodel.cell_text(real).endswith("held (host not quiet)")


def test_the_guests_own_load_does_not_make_the_host_busy(tmp_path, results):
    """A real-clock guest keeps both cores busy, so the load average is high at the end of its
    own run (and at the start of a study's next compare): with no other process runnable at
    either moment the host was quiet. A result without busy_processes falls back to the load
    average at the start."""
    p = tmp_path / "paper"
    own = dict(FINGERPRINT, load_start={"loadavg": [1.9, 1.9, 2.0], "busy_processes": 0},
               load_end={"loadavg": [1.8, 1.8, 1.9], "busy_processes": 0})
    old = dict(FINGERPRINT, load_start={"loadavg": [1.9, 1.9, 2.0], "busy_processes": None},
               load_end={"loadavg": [0.1, 0.1, 0.1], "busy_processes": None})
    a = _kept(results, p, "20260107-000000-nginx-cfs+fifo", "real", GAIN, host=own)
    b = _kept(results, p, "20260107-000001-nginx-cfs+fifo", "real", GAIN, host=old)
    assert timemodel.busy_host(p, [a]) == ""
    assert timemodel.busy_host(p, [b]) == f"{b}: load 1.9 on 2 CPUs at the start"


def test_the_time_model_comes_from_the_manifest_and_splits_pools(tmp_path, results):
    legacy = load_result(write_result(results, "20260101-000000-nginx-cfs+fifo", interleaved(CFS, GAIN)))
    new3 = load_result(write_result(results, "20260101-000001-nginx-cfs+fifo", interleaved(CFS, GAIN),
                                    factors={"icount_shift": 3}))
    two = load_result(write_result(results, "20260101-000002-nginx-cfs+fifo", interleaved(CFS, GAIN),
                                   factors=MODELS["virtual shift=2"]))
    real = load_result(write_result(results, "20260101-000003-nginx-cfs+fifo", interleaved(CFS, GAIN),
                                    factors=MODELS["real"]))
    assert [compare.time_model(r) for r in (legacy, new3, two, real)] == \
        ["virtual shift=3", "virtual shift=3", "virtual shift=2", "real"]
    assert compare.icount_shift(legacy) == 3 and compare.icount_shift(real) is None
    # a legacy result pools with a new one at its shift, never with another shift
    assert compare.factor_mismatch(legacy, new3) is None
    assert "icount" in compare.factor_mismatch(new3, two)


def test_claims_ini_keys_are_checked(pdir):
    text = (pdir / "claims.ini").read_text()
    (pdir / "claims.ini").write_text(text.replace("time_model =", "time_modle =", 1))
    with pytest.raises(AnalysisError, match="unknown key 'time_modle' \\(did you mean time_model\\?\\)"):
        paper.load_claims(pdir)
    (pdir / "claims.ini").write_text(text.replace("kind = ratio", "kind = value", 1))
    with pytest.raises(AnalysisError, match="time_model = is for kind = ratio claims"):
        paper.load_claims(pdir)
    (pdir / "claims.ini").write_text(text)
    assert [len(c.time_model) for c in paper.load_claims(pdir)] == [3, 3, 2]


def test_a_time_model_result_not_kept_is_an_error(pdir):
    text = (pdir / "claims.ini").read_text()
    (pdir / "claims.ini").write_text(text.replace("time_model = ", "time_model = 20990101-000000-nowhere ", 1))
    with pytest.raises(AnalysisError, match="time_model result 20990101-000000-nowhere is not kept"):
        timemodel.table(paper.load_claims(pdir), pdir)


# ------------------------------------------------------------------------------- make time-model

def test_the_study_plans_each_claim_under_each_time_model(pdir):
    runs = timemodel.plan(pdir, ["steady"], repeats="2", duration="4")
    assert [(cid, label) for cid, label, _, _ in runs] == [
        ("steady", "virtual shift=3"), ("steady", "virtual shift=2"), ("steady", "real")]
    for (_, label, argv, est), (want_clock, want_shift) in zip(runs, [("virtual", "3"), ("virtual", "2"),
                                                                      ("real", "")]):
        args = dict(a.split("=", 1) for a in argv[2:])
        assert argv[:2] == ["./scxlab", "compare"]
        assert args["CLOCK"] == want_clock and args["ICOUNT_SHIFT"] == want_shift and args["ACCEL"] == "tcg"
        # the kept result's workload, the claim's policies; REPEATS and DURATION as asked
        assert args["WORKLOAD"] == "nginx" and args["POLICIES"] == "cfs fifo"
        assert args["REPEATS"] == "2" and args["DURATION"] == "4"
        assert est > 0
    # a faster virtual CPU (a smaller shift) costs more wall time per guest second
    assert runs[1][3] > runs[0][3]


def test_a_time_model_of_the_claims_own_results_is_judged_on_them_and_not_run_again(tmp_path, results):
    p = tmp_path / "paper"
    own = _kept(results, p, "20260107-000000-nginx-cfs+fifo", "virtual shift=3", GAIN)
    ids = [_kept(results, p, f"20260107-00000{j}-nginx-cfs+fifo", m, GAIN)
           for j, m in ((1, "virtual shift=2"), (2, "real"))]
    (p / "claims.ini").write_text(CLAIM.format(cid="own", results=own, time_model=" ".join(ids)))
    (row,) = timemodel.table(paper.load_claims(p), p)
    assert [(c.verdict, c.results) for c in row.cells] == [("held", [own]), ("held", ids[:1]), ("held", ids[1:])]
    # the study leaves out the model the claim's own results cover, unless asked for another design
    assert [label for _, label, _, _ in timemodel.plan(p, ["own"])] == ["virtual shift=2", "real"]
    assert [label for _, label, _, _ in timemodel.plan(p, ["own"], repeats="3")] == \
        ["virtual shift=3", "virtual shift=2", "real"]


def test_the_study_runs_only_the_time_models_asked_for(pdir):
    assert [label for _, label, _, _ in timemodel.plan(pdir, ["steady"], repeats="2", models=["real"])] == ["real"]
    assert [label for _, label, _, _ in timemodel.plan(pdir, ["steady"], repeats="2", models=["shift=2", "shift=3"])] \
        == ["virtual shift=3", "virtual shift=2"]
    with pytest.raises(AnalysisError, match="MODELS: no time model 'shift=4'; the study's are shift=3, shift=2, real"):
        timemodel.plan(pdir, ["steady"], models=["shift=4"])


@pytest.mark.parametrize("claims,says", [(["nosuch"], "no claim 'nosuch'"), (["steady", "x'; touch y"], "no claim")])
def test_the_study_refuses_unknown_claims(pdir, claims, says):
    with pytest.raises(AnalysisError, match=says):
        timemodel.plan(pdir, claims)


def test_the_study_refuses_what_it_sets_itself(pdir, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOCK", "real")
    with pytest.raises(AnalysisError, match="sets CLOCK itself"):
        timemodel.study(pdir, tmp_path / "out", dry_run=True)


def test_the_study_records_each_result_and_runs_the_real_clock_alone(pdir, tmp_path, monkeypatch, capsys):
    for v in timemodel._STUDY_SETS:
        monkeypatch.delenv(v, raising=False)
    running, overlaps, lock = [], [], threading.Lock()

    def fake(argv, env, cwd, label=None, **kw):
        args = dict(a.split("=", 1) for a in argv[2:])
        with lock:
            if running and (args["CLOCK"] == "real" or "real" in running):
                overlaps.append((list(running), args["CLOCK"]))
            running.append(args["CLOCK"])
        time.sleep(0.05)
        out = Path(env["RESULTS"]) / f"r-{args['CLOCK']}-{args['ICOUNT_SHIFT'] or 'none'}-{len(list(Path(env['RESULTS']).iterdir()))}"
        out.mkdir()
        with lock:
            running.remove(args["CLOCK"])
        return subprocess.CompletedProcess(argv, 0, stdout=f"progress\n{out}\n")

    rc = timemodel.study(pdir, tmp_path / "out", claim_ids=["moves", "steady"], jobs=3, runner=fake)
    assert rc == 0 and overlaps == []
    (folder,) = (tmp_path / "out").iterdir()
    record = json.loads((folder / "study.json").read_text())
    # at the kept results' own repeats and duration, their time model (shift 3) is not run again
    assert [(r["claim"], r["time_model"]) for r in record["runs"]] == [
        (c, m) for c in ("moves", "steady") for m in ("virtual shift=2", "real")]
    captured = capsys.readouterr()
    assert "moves, virtual shift=3: judged on the claim's own results" in captured.err
    assert all(r["result"] and (folder / r["result"]).is_dir() and r["exit_code"] == 0 for r in record["runs"])
    out = captured.out
    assert "time_model = " in out and "make paper-add RESULT=" in out and "quiet host" in out
    assert "no valid result" not in out
    # a second study never reuses the first one's folder; an invalid real-clock result (exit 1) is
    # recorded, but not offered for the paper
    time.sleep(1.1)

    def invalid_real(argv, env, cwd, label=None, **kw):
        proc = fake(argv, env, cwd)
        return subprocess.CompletedProcess(argv, 1 if "CLOCK=real" in argv else 0, stdout=proc.stdout)

    assert timemodel.study(pdir, tmp_path / "out", claim_ids=["steady"], runner=invalid_real) == 1
    second = max((tmp_path / "out").iterdir())
    assert second != folder and len(list((tmp_path / "out").iterdir())) == 2
    record = json.loads((second / "study.json").read_text())
    real = record["runs"][1]
    assert real["time_model"] == "real" and real["exit_code"] == 1 and real["result"]
    out = capsys.readouterr().out
    assert f"RESULT={second / real['result']}" not in out
    line = next(ln for ln in out.splitlines() if "time_model = " in ln)
    assert real["result"] not in line and record["runs"][0]["result"] in line
    assert "steady under real: no valid result" in out and "on a quiet host" in out
