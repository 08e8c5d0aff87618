"""Sweeps: a matrix expanded into points, one result per point, state kept, and a rerun that
resumes without repeating finished points."""
import json
import time

from conftest import REPO, load, make, result_dir


def test_sweep_runs_every_point_and_resumes(results_root):
    proc = make("sweep", "SWEEP=smoke", results=results_root)
    assert proc.returncode == 0, proc.stderr
    sdir = result_dir(proc)
    state = load(sdir / "sweep.json")
    points = state["points"]
    assert set(points) == {"depth=1 ratio=2", "depth=2 ratio=2"}
    for label, p in points.items():
        m = load(p["result"] + "/manifest.json")
        assert p["valid"] is True and m["valid"] is True
        depth = int(label.split()[0].split("=")[1])
        tree = m["factors"]["cgroups"]
        assert tree["name"] == f"pair:{depth}:2"
        assert [round(i["entitled_share"], 6) for i in tree["instances"]] == [round(2 / 3, 6), round(1 / 3, 6)]
        run = load(p["result"] + "/" + m["runs"][0]["dir"] + "/run.json")
        shares = run["cgroups"]["instances"]
        assert len(shares) == 2 and abs(sum(s["achieved_share"] for s in shares) - 1) < 1e-6
    assert "point 2/2" in proc.stderr

    # forget one point, as if the sweep had been interrupted during it: only that one reruns
    kept = points["depth=1 ratio=2"]
    del points["depth=2 ratio=2"]
    (sdir / "sweep.json").write_text(json.dumps(state))
    t0 = time.monotonic()
    again = make("sweep", "SWEEP=smoke", results=results_root)
    assert again.returncode == 0, again.stderr
    assert result_dir(again) == sdir
    assert "2 points, 1 already done" in again.stderr
    state2 = load(sdir / "sweep.json")
    assert state2["points"]["depth=1 ratio=2"] == kept
    assert state2["points"]["depth=2 ratio=2"]["result"] != ""

    # nothing left: a rerun boots nothing
    t0 = time.monotonic()
    done = make("sweep", "SWEEP=smoke", results=results_root)
    assert done.returncode == 0 and "2 already done" in done.stderr
    assert time.monotonic() - t0 < 60

    # the same sweep run from the checkout spelled differently (as from another clone) resumes it
    elsewhere = make("sweep", "SWEEP=smoke", f"CURDIR={REPO}/.", results=results_root)
    assert elsewhere.returncode == 0 and "2 already done" in elsewhere.stderr, elsewhere.stderr
    assert result_dir(elsewhere) == sdir


def test_unknown_sweep_is_refused(results_root):
    proc = make("sweep", "SWEEP=nosuch", results=results_root, timeout=300)
    assert proc.returncode != 0
    assert "unknown sweep 'nosuch'" in proc.stderr and "cgroup-weights" in proc.stderr
