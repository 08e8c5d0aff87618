"""Shared fixtures for the integration tests: they drive scxlab through `make`, as a user does,
and boot the real sched_ext guest under QEMU (virtual clock unless a test says otherwise)."""
import json
import os
import pathlib
import signal
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# SCXLAB_TEST_TIMEOUT_SCALE=N multiplies every limit below (a machine known to be slow)
TIMEOUT_SCALE = float(os.environ.get("SCXLAB_TEST_TIMEOUT_SCALE") or 1)


def load_scale():
    """How many times slower a CPU-bound guest (QEMU under TCG) runs now than on a quiet host: the
    runnable tasks per CPU (the 1-minute load average over the CPUs), at least 1. Four guests on two
    cores: about 2 to 4."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def wall_limit(seconds, scale):
    return seconds * scale * TIMEOUT_SCALE


def stop_group(proc, grace=60):
    """SIGTERM to the command's process group (the runner keeps what its runs left as -INVALID and
    stops QEMU), then SIGKILL if it is still there after grace seconds: no guest outlives its test."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 30)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass


def run(cmd, timeout, **kwargs):
    """subprocess.run for a command that may boot guests, with a limit that follows the host's load.
    timeout is what the command may take on a quiet host; it is stretched by the largest load_scale()
    seen while it runs (sampled every 5 s), so that the same test passes with other guests sharing the
    CPUs. (The runner's own deadlines follow the guest's observed pace and say "timeout (...)" in
    its message; this limit is the backstop behind them.) Past the limit the command's whole process
    group is stopped, and the test fails saying it was a timeout, with what the command printed."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kwargs)
    t0, scale = time.monotonic(), load_scale()
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=5)
                return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
            except subprocess.TimeoutExpired:
                scale = max(scale, load_scale())
                if time.monotonic() - t0 > wall_limit(timeout, scale):
                    break
    except BaseException:       # Ctrl-C, or a failure here: no guest left running
        stop_group(proc)
        raise
    stop_group(proc)
    out, err = proc.communicate()
    pytest.fail(f"timeout: {' '.join(map(str, cmd))} ran {time.monotonic() - t0:.0f} s, past its limit of "
                f"{wall_limit(timeout, scale):.0f} s ({timeout} s on a quiet host x {scale:.2f} for the host's "
                f"load x {TIMEOUT_SCALE:g}); its process group was stopped.\nstdout:\n{out[-3000:]}\n"
                f"stderr:\n{err[-6000:]}", pytrace=False)


def pytest_configure(config):
    # `pytest -m "not slow"` leaves these out (README, Tests: what each takes here)
    config.addinivalue_line("markers", "slow: boots a nested guest inside the guest (make selfcheck-kvm); "
                            "many minutes under TCG")


def make(*args, results, timeout=900, env=None):
    """Run `make ARGS RESULTS=results` in the repository; returns the CompletedProcess. timeout: see
    run(). A sweep's points run one at a time (JOBS=1) unless the test says otherwise: the tests
    themselves run side by side (tests/run-all's JOBS), and each test's own guests one after another.
    env: variables added to this process's environment for the command."""
    jobs = [] if any(a.startswith("JOBS=") for a in args) else ["JOBS=1"]
    cmd = ["make", "--no-print-directory", "-C", str(REPO), *args, *jobs, f"RESULTS={results}"]
    return run(cmd, timeout, **({"env": dict(os.environ, **env)} if env else {}))


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
