"""Shared fixtures for the integration tests: they drive scxlab through `make`, as a user does,
and boot the real sched_ext guest under QEMU (virtual clock unless a test says otherwise)."""
import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def make(*args, results, timeout=900):
    """Run `make ARGS RESULTS=results` in the repository; returns the CompletedProcess. A sweep's
    points run one at a time (JOBS=1) unless the test says otherwise: the tests themselves run side
    by side (tests/run-all's JOBS), and each test's own guests one after another."""
    jobs = [] if any(a.startswith("JOBS=") for a in args) else ["JOBS=1"]
    cmd = ["make", "--no-print-directory", "-C", str(REPO), *args, *jobs, f"RESULTS={results}"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def result_dir(proc):
    """The runner prints the result directory as its last line of stdout."""
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    assert lines, f"no output; stderr:\n{proc.stderr}"
    path = pathlib.Path(lines[-1])
    assert path.is_dir(), f"last line is not a result directory: {lines[-1]!r}\n{proc.stderr}"
    return path


def load(path):
    with open(path) as f:
        return json.load(f)


def tree_snapshot(root):
    """Every file under root with its size and mtime: proof that nothing was touched."""
    snap = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            st = os.stat(p)
            snap[p] = (st.st_size, st.st_mtime_ns)
    return snap


@pytest.fixture(scope="session")
def results_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    # An earlier result that no later run may touch.
    earlier = root / "20200101-000000-nginx-cfs"
    (earlier / "runs").mkdir(parents=True)
    (earlier / "manifest.json").write_text('{"valid": true, "run_id": "20200101-000000-nginx-cfs"}\n')
    return root
