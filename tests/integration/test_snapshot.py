"""Booting from a snapshot (runners/host/snapshot.c): the same short experiment restored from the
saved booted guest, then with that snapshot broken, which must fall back to a cold boot that is
valid and says why. Both results are valid; the manifest records the path each boot took; the
restored boot is much shorter than the cold one."""
import os

import pytest

from conftest import load, make, result_dir

ARGS = ("experiment", "POLICY=cfs", "WORKLOAD=nginx", "DURATION=1", "REPEATS=1")


@pytest.fixture(scope="module")
def restored_then_broken(results_root, tmp_path_factory):
    # snapshots of this module's own (SCXLAB_SNAPSHOTS): the one broken below is never the shared
    # cache's, which tests on other workers may be restoring at that moment
    own = {"SCXLAB_SNAPSHOTS": str(tmp_path_factory.mktemp("snapshots"))}
    restored = make(*ARGS, "SNAPSHOT=1", results=results_root, env=own)
    assert restored.returncode == 0, restored.stderr
    rdir = result_dir(restored)
    key = load(rdir / "manifest.json")["times"]["snapshot_key"]
    assert key, f"the run did not restore a snapshot:\n{restored.stderr}"
    # the run made its snapshot in that folder
    assert load(rdir / "manifest.json")["times"]["snapshot_made_s"] > 0
    # A state QEMU cannot load, swapped in atomically. The next run's restore fails at once and it
    # must boot cold.
    state = os.path.join(own["SCXLAB_SNAPSHOTS"], key, "state")
    with open(state + ".broken-test", "wb") as f:
        f.write(b"\0" * 4096)
    os.replace(state + ".broken-test", state)
    broken = make(*ARGS, "SNAPSHOT=1", results=results_root, env=own)
    assert broken.returncode == 0, broken.stderr
    return rdir, result_dir(broken)


def test_restored_and_fallen_back_runs_are_valid_and_say_how_they_booted(restored_then_broken):
    rdir, bdir = restored_then_broken
    r, b = load(rdir / "manifest.json"), load(bdir / "manifest.json")
    assert r["valid"] and b["valid"]
    assert r["times"]["boot_path"] == "snapshot" and r["times"]["boot_path_why"] is None
    assert " -incoming file:" in (rdir / "raw" / "qemu-command.txt").read_text()
    assert b["times"]["boot_path"] == "cold" and b["times"]["snapshot_key"] is None
    assert "could not be restored" in b["times"]["boot_path_why"]
    # the failed attempt is kept beside the cold boot's records; the cold boot is a plain one
    assert (bdir / "raw" / "console-restore.log").is_file()
    assert "-incoming" not in (bdir / "raw" / "qemu-command.txt").read_text()
    assert "snapshot=on" in (bdir / "raw" / "qemu-command.txt").read_text()


def test_restored_boot_is_much_shorter(restored_then_broken):
    rdir, bdir = restored_then_broken
    rt, bt = load(rdir / "manifest.json")["times"], load(bdir / "manifest.json")["times"]
    # what the restore took, without making the snapshot (done by this run when it was missing)
    restore_s = rt["boot_s"] - rt["snapshot_made_s"]
    assert restore_s < 0.6 * bt["boot_s"], (restore_s, bt["boot_s"])
