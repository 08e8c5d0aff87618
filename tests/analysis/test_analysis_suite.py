"""make bench-suite's table (analysis/suite.py) from synthetic points with known times: per clock,
the median over repeats of boot, per-run overhead (policy + server + teardown per run), result
assembly and total overhead beyond DURATION x runs, with intervals; the host steps; and points
that cannot be read are named. No guest is booted."""
import json

import pytest

from analysis import AnalysisError, suite
from synthetic_results import write_result
from synthetic_sweep import write_sweep
from test_analysis_cli import cli


def point(root, run_id, clock, boot, policy_s, server_s, teardown_s, wall, assemble=1.0, boot_path=None):
    phases = {"policy": policy_s, "server": server_s, "warmup": 2.0, "measure": 10.0, "teardown": teardown_s}
    times = {"wall_s": wall, "boot_s": boot, "job_s": 0.2, "target_s": wall - 2,
             "assemble_s": assemble, "phases_s": phases, "measured_s": 10.0}
    if boot_path:       # (path, seconds making the snapshot); None: a point from before snapshots
        times.update(boot_path=boot_path[0], boot_path_why=None if boot_path[0] == "snapshot" else "SNAPSHOT=0",
                     snapshot_key="0123456789abcdef" if boot_path[0] == "snapshot" else None,
                     snapshot_made_s=boot_path[1])
    return write_result(root, run_id, [{"policy": "fifo", "metrics": 1000.0}],
                        factors={"clock": clock, "duration_s": 10, "repeats": 1}, times=times)


@pytest.fixture
def suite_sweep(tmp_path):
    pts = {}
    # the virtual clock's first point made the snapshot the others restored
    paths = [("snapshot", 40.0), ("snapshot", 0.0), ("snapshot", 0.0)]
    for k, (boot, wall) in enumerate([(20.0, 40.0), (22.0, 44.0), (21.0, 42.0)], 1):
        pts[f"clock=virtual repeat={k}"] = [point(tmp_path, f"20260101-00000{k}-nginx-fifo", "virtual", boot,
                                                  1.0, 2.0, 0.5 * k, wall, boot_path=paths[k - 1])]
    for k, (boot, wall) in enumerate([(30.0, 60.0), (31.0, 61.0)], 1):
        pts[f"clock=real repeat={k}"] = [point(tmp_path, f"20260101-00010{k}-nginx-fifo", "real", boot,
                                               1.5, 2.5, 1.0, wall)]
    labels = list(pts) + ["clock=real repeat=3"]      # never run: listed as missing
    write_sweep(tmp_path, pts, analysis="suite", labels=labels, name="bench-suite")
    (tmp_path / "host-steps.json").write_text(json.dumps({"setup_s": [1.2, 1.0, 1.1], "build_s": [0.5, 0.4, 0.6]}))
    return tmp_path


def test_per_clock_medians_and_what_each_quantity_counts(suite_sweep):
    doc = suite.suite(suite_sweep)
    v, r = doc["clocks"]["virtual"], doc["clocks"]["real"]
    assert v["boot_s"]["median"] == 21.0 and v["boot_s"]["n"] == 3
    assert v["boot_s"]["ci_low"] <= 21.0 <= v["boot_s"]["ci_high"]
    # per run: policy + server + teardown over the runs (one here): 3.5, 4.0, 4.5
    assert v["per_run_s"]["median"] == pytest.approx(4.0)
    # overhead: wall beyond DURATION x runs (10 s): 30, 34, 32
    assert v["overhead_s"]["median"] == pytest.approx(32.0)
    assert v["assemble_s"]["median"] == 1.0
    assert r["boot_s"]["median"] == pytest.approx(30.5) and r["per_run_s"]["median"] == pytest.approx(5.0)
    assert doc["host_steps"]["setup_s"]["median"] == pytest.approx(1.1)
    assert doc["host_steps"]["build_s"]["median"] == pytest.approx(0.5)
    assert [m["point"] for m in doc["missing"]] == ["clock=real repeat=3"]
    # every point's figures name its result folder
    assert {p["result"] for p in doc["points"]} >= {"20260101-000001-nginx-fifo", "20260101-000101-nginx-fifo"}


def test_the_sweep_command_writes_suite_md(suite_sweep):
    proc = cli("sweep", str(suite_sweep))
    assert proc.returncode == 0, proc.stderr
    md = (suite_sweep / "suite.md").read_text()
    assert "| virtual | 21.0 [" in md and "Cached `make setup`" in md and "clock=real repeat=3" in md
    assert json.loads((suite_sweep / "suite.json").read_text())["clocks"]["real"]["boot_s"]["n"] == 2


def test_each_point_says_how_its_guest_started(suite_sweep):
    doc = suite.suite(suite_sweep)
    by = {p["point"]: p for p in doc["points"]}
    assert by["clock=virtual repeat=1"]["boot_path"] == "snapshot"
    assert by["clock=virtual repeat=1"]["snapshot_made_s"] == 40.0
    # points from before snapshots: nothing recorded, nothing invented
    assert by["clock=real repeat=1"]["boot_path"] is None and by["clock=real repeat=1"]["snapshot_made_s"] is None
    md = suite.to_markdown(doc)
    assert "| snapshot + made 40.0 s | `20260101-000001-nginx-fifo` |" in md
    assert "| snapshot | `20260101-000002-nginx-fifo` |" in md
    assert "| not recorded | `20260101-000101-nginx-fifo` |" in md
    assert md.count(" | snapshot 3 |") == 1 and md.count(" | not recorded 2 |") == 1


def test_a_point_from_before_the_suite_is_named(tmp_path):
    old = write_result(tmp_path, "20260101-000000-nginx-fifo", [{"policy": "fifo", "metrics": 1000.0}])
    write_sweep(tmp_path, {"clock=virtual repeat=1": [old]}, analysis="suite", name="bench-suite")
    with pytest.raises(AnalysisError, match="20260101-000000-nginx-fifo.*no phases_s"):
        suite.suite(tmp_path)
