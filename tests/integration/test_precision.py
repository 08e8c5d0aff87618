"""PRECISION=: interleaved rounds are added until every ratio to cfs is known to the asked
precision (or the cap is hit, which the manifest says)."""
from conftest import load, make, result_dir


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
    assert m["summary"]["fifo"]["valid_runs"] == 3
    assert "precision reached after 6 runs" in proc.stderr


def test_precision_cap_is_reported(results_root):
    proc = make("compare", "POLICIES=cfs fifo", "WORKLOAD=nginx", "DURATION=2", "PRECISION=0.1", "MAX_REPEATS=3",
                results=results_root)
    m = load(result_dir(proc) / "manifest.json")
    p = m["precision"]
    assert p["reached"] is False and p["stopped_because"].startswith("cap reached")
    assert p["runs_done"] == 6 and p["max_repeats"] == 3
    assert "NOT reached" in proc.stderr


def test_precision_needs_a_baseline(results_root):
    proc = make("compare", "POLICIES=fifo faulty", "WORKLOAD=nginx", "PRECISION=2", results=results_root, timeout=300)
    assert proc.returncode != 0 and "PRECISION needs cfs" in proc.stderr
    proc = make("compare", "POLICIES=cfs fifo", "WORKLOAD=nginx", "PRECISION=2", "REPEATS=4", results=results_root,
                timeout=300)
    assert proc.returncode != 0 and "REPEATS and PRECISION exclude each other" in proc.stderr
