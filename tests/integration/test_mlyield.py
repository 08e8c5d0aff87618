"""The ML yield predictor end to end.

Training (no guest): `make train` on the trace committed in tests/data (a real mltrace run) is
deterministic for a seed (same model file byte for byte, a different seed gives another
model), beats the majority-class baseline on held-out rows, records its provenance, and
refuses bad input. In the guest: every mlyield mode loads (passing its BPF-vs-C self-test),
runs nginx without ejection and scores its predictions online; trace mode writes a labelled
trace that `make train` turns into a model, finding it by itself as the newest mltrace result.
"""
import csv
import hashlib
import json

import pytest

from conftest import REPO, load, make, result_dir

SMALL_TRACE = REPO / "tests/data/mltrace-small.csv"
MODES = {"mlyield": "predict", "mlyield-always-migrate": "always-migrate",
         "mlyield-never-migrate": "never-migrate", "mltrace": "trace"}


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(results, model, *args):
    return make("train", f"MODEL={model}", *args, results=results, timeout=600)


def last_line(proc):
    return [l for l in proc.stdout.splitlines() if l.strip()][-1]


def report(proc, model):
    """mltrain's report, without make's echo of the compile (only the first run builds it)."""
    return [l.replace(str(model), "MODEL") for l in proc.stdout.splitlines() if "tools-exec gcc" not in l]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mltrain")
    runs = {}
    for name, seed in [("a", 7), ("b", 7), ("c", 8)]:
        model = tmp / f"{name}.json"
        runs[name] = (train(tmp, model, f"TRACES={SMALL_TRACE}", f"SEED={seed}"), model)
    return runs


def test_training_is_deterministic_for_a_seed(trained):
    for name, (proc, model) in trained.items():
        assert proc.returncode == 0, proc.stderr
        assert last_line(proc) == str(model)
    (pa, ma), (pb, mb), (pc, mc) = trained["a"], trained["b"], trained["c"]
    assert sha256(ma) == sha256(mb)
    assert report(pa, ma) == report(pb, mb)
    # the seed matters, so the equality above is not that of a constant output
    assert load(mc)["fixed"]["fingerprint"] != load(ma)["fixed"]["fingerprint"]


def test_model_beats_the_majority_baseline(trained):
    proc, model = trained["a"]
    m = load(model)
    metrics = m["training"]["metrics"]
    held, base = metrics["held_out_float"], metrics["held_out_majority_baseline"]
    assert held["rows"] == base["rows"] > 100
    assert held["accuracy"] > base["accuracy"]
    assert metrics["held_out_fixed"]["accuracy"] > base["accuracy"]
    assert metrics["held_out_fixed_equals_float"] >= 0.99 * held["rows"]
    # the printed report says the same as the file
    assert f"accuracy {held['accuracy']:.4f}" in proc.stdout
    assert f"accuracy {base['accuracy']:.4f}" in proc.stdout
    assert m["label"]["horizon_us"] == 5000 and m["training"]["seed"] == 7
    assert m["training"]["split"] == "time"


def test_model_records_its_provenance(trained):
    m = load(trained["a"][1])
    traces = m["provenance"]["traces"]
    # named by stable names, never by where the file lay (tests/data is no result directory)
    assert [(t["result"], t["file"]) for t in traces] == [(None, "mltrace-small.csv")]
    assert traces[0]["sha256"] == sha256(SMALL_TRACE)
    assert traces[0]["rows"] > 1000
    assert traces[0]["recorded_with_model"] == load(REPO / "tests/data/mltrace-small.model.json")["fixed"]["fingerprint"]
    code = m["provenance"]["code"]
    # the sources' hashes decide the model; a commit would change with every commit
    assert set(code) == {"sources_sha256"}
    assert code["sources_sha256"]["tools/mltrain/mltrain.c"] == sha256(REPO / "tools/mltrain/mltrain.c")
    assert code["sources_sha256"]["schedulers/mlyield/mlyield_nn.h"] == sha256(REPO / "schedulers/mlyield/mlyield_nn.h")


def test_the_default_model_is_a_valid_training_output():
    m = load(REPO / "schedulers/mlyield/default-model.json")
    assert m["format"] == "scxlab-mlyield-model/1" and m["hidden"] == 16 and len(m["features"]) == 64
    metrics = m["training"]["metrics"]
    assert metrics["held_out_float"]["accuracy"] > metrics["held_out_majority_baseline"]["accuracy"]


def test_train_refuses_bad_input(tmp_path):
    model = tmp_path / "m.json"
    model.write_text("{}\n")
    proc = train(tmp_path, model, f"TRACES={SMALL_TRACE}")
    assert proc.returncode != 0 and "never overwritten" in proc.stderr
    assert model.read_text() == "{}\n"

    proc = train(tmp_path, tmp_path / "x.json", f"TRACES={tmp_path}/nosuch.csv")
    assert proc.returncode != 0 and "nosuch.csv" in proc.stderr

    bad = tmp_path / "bad.csv"
    lines = SMALL_TRACE.read_text().splitlines(keepends=True)
    header = next(i for i, l in enumerate(lines) if not l.startswith("#"))
    broken = next(i for i in range(header + 1, len(lines)) if ",stop," in lines[i])
    lines[broken] = lines[broken].replace(",stop,", ",later,")
    bad.write_text("".join(lines))
    proc = train(tmp_path, tmp_path / "y.json", f"TRACES={bad}")
    assert proc.returncode != 0 and f"bad.csv:{broken + 1}: malformed row" in proc.stderr

    proc = train(tmp_path, tmp_path / "z.json", f"TRACES={tmp_path}")
    assert proc.returncode != 0 and "not a result directory of the mltrace policy" in proc.stderr

    # no traces given and none under RESULTS
    proc = train(tmp_path, tmp_path / "w.json")
    assert proc.returncode != 0 and "no valid mltrace result" in proc.stderr
    assert not any((tmp_path / n).exists() for n in ["x.json", "y.json", "z.json", "w.json"])


# ---- in the guest ----

@pytest.fixture(scope="module")
def guest_runs(tmp_path_factory):
    results = tmp_path_factory.mktemp("mlyield-results")
    proc = make("compare", "POLICIES=" + " ".join(MODES), "WORKLOAD=nginx", "DURATION=3", "REPEATS=1",
                results=results, timeout=1500)
    return proc, results


def runs_by_policy(proc):
    d = result_dir(proc)
    m = load(d / "manifest.json")
    return d, {e["policy"]: d / e["dir"] for e in m["runs"]}


def test_every_mode_runs_nginx_without_ejection(guest_runs):
    proc, _ = guest_runs
    assert proc.returncode == 0, proc.stderr
    d, runs = runs_by_policy(proc)
    assert not d.name.endswith("-INVALID") and set(runs) == set(MODES)
    for policy, run_dir in runs.items():
        run = load(run_dir / "run.json")
        assert run["valid"] is True, (policy, run["invalid_reasons"])
        assert run["ejected"] is False and run["ops_seen"] == "mlyield"
        assert run["exit_info"]["kind_name"] == "UNREG"
        log = (run_dir / "raw" / "loader.log").read_text()
        assert f"mode={MODES[policy]}" in log
        assert "selftest: 200 cases, BPF features and logits equal C bit for bit" in log
        assert load(run_dir / "metrics.json")["metrics"]


def test_predictions_are_scored_online_and_modes_act_as_named(guest_runs):
    proc, _ = guest_runs
    _, runs = runs_by_policy(proc)
    for policy, run_dir in runs.items():
        st = load(run_dir / "run.json")["exit_info"]["stats"]
        assert st["pred_yield"] + st["pred_stay"] > 100, (policy, st)
        scored = st["online_tp"] + st["online_fp"] + st["online_tn"] + st["online_fn"]
        assert scored > 100, (policy, st)
        assert "online: " in (run_dir / "raw" / "loader.log").read_text()
        mode = MODES[policy]
        if mode in ("always-migrate", "trace"):
            assert st["decide_keep"] == 0
        if mode == "never-migrate":
            assert st["decide_migrate"] == 0
        if mode == "trace":
            assert st["trace_decisions"] > 100
        else:
            assert st["trace_decisions"] == 0


def test_trace_mode_writes_a_labelled_trace(guest_runs):
    proc, _ = guest_runs
    _, runs = runs_by_policy(proc)
    raw = runs["mltrace"] / "raw"
    assert not (runs["mlyield"] / "raw" / "mlyield-trace.csv").exists()
    lines = (raw / "mlyield-trace.csv").read_text().splitlines()
    meta = [l for l in lines if l.startswith("#")]
    assert "# feature_id: syscalls63+other/decay7of8/q8/x86_64/v1" in meta
    assert meta[-1].startswith("# end: rows=")
    rows = list(csv.DictReader(l for l in lines if not l.startswith("#")))
    assert len(rows) > 100
    assert [c for c in rows[0] if c.startswith("x_")][:3] == ["x_read", "x_write", "x_readv"]
    outcomes = {r["outcome"] for r in rows}
    assert outcomes <= {"stop", "lost", "censored"} and "stop" in outcomes
    for r in rows:
        int(r["stop_after_ns"])
        assert r["voluntary"] in (("0", "1") if r["outcome"] == "stop" else ("",))
    # the stop records that labelled rows came through the kernel's ring buffer
    st = load(runs["mltrace"] / "run.json")["exit_info"]["stats"]
    assert st["trace_stops"] > 0 and st["trace_dropped"] == 0


def test_make_train_finds_the_newest_trace_by_itself(guest_runs, tmp_path):
    proc, results = guest_runs
    model = tmp_path / "from-guest.json"
    t = train(results, model)      # no TRACES: the newest mltrace result under RESULTS
    assert t.returncode == 0, t.stderr
    assert f"newest mltrace result for nginx: {result_dir(proc)}" in t.stderr
    m = load(model)
    # traces by stable names: the result's id and the file within it (never a temporary path)
    first = m["provenance"]["traces"][0]
    assert first["result"] == result_dir(proc).name and first["file"].startswith("runs/"), first
    assert first["file"].endswith("mlyield-trace.csv") and "path" not in first
    assert m["fixed"]["fingerprint"] and m["training"]["labelled_rows"] > 100
