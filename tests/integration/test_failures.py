"""Failures leave nothing half-made: a full disk is called "disk full" and leaves no staging
folder, a directory is no external scheduler, and a failed setup neither points build/setup.env
at what it did not finish nor leaves a half-built folder in the cache. No guest is booted."""
import os
import subprocess

import pytest

from conftest import REPO


def run(argv, env=None, timeout=300):
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


@pytest.fixture
def tiny_disk(tmp_path):
    """A 600 KiB file system: too small for a job (the guest agent alone is larger)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def test_full_disk_is_called_disk_full_and_leaves_nothing(tiny_disk):
    proc = run(["./scxlab", "experiment", "POLICY=fifo", "WORKLOAD=nginx", f"RESULTS={tiny_disk}"])
    assert proc.returncode == 3, proc.stderr
    assert "disk full" in proc.stderr
    assert "make build" not in proc.stderr        # the build is complete: that hint would mislead
    assert os.listdir(tiny_disk) == [], os.listdir(tiny_disk)


def test_directory_is_no_external_scheduler(tmp_path):
    results = tmp_path / "results"
    proc = run(["./scxlab", "experiment", f"POLICY=external:{tmp_path}", f"RESULTS={results}"])
    assert proc.returncode == 2, proc.stderr
    assert "is not an executable file" in proc.stderr or "directory" in proc.stderr, proc.stderr
    assert not results.exists() or os.listdir(results) == []


def test_failed_setup_changes_nothing(tmp_path):
    env_file = REPO / "build/setup.env"
    before = env_file.read_bytes()
    cache = tmp_path / "cache"
    # a mirror nobody serves: the toolchain root cannot be built
    proc = run(["kernel/setup.sh"], env={"SCXLAB_CACHE": str(cache), "SCXLAB_MIRROR": "http://127.0.0.1:9/debian"})
    assert proc.returncode != 0
    assert "mmdebstrap of the toolchain root failed" in proc.stderr
    assert env_file.read_bytes() == before, "a failed setup rewrote build/setup.env"
    assert [p for p in os.listdir(cache) if not p.startswith(".")] == [], os.listdir(cache)
