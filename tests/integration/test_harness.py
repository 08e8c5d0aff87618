"""The integration tests' own limits (conftest.run): a command past its limit fails the test saying
it was a timeout and leaves no process behind; the limit follows the host's load. No guest boots."""
import os
import time

import pytest

import conftest
from conftest import run


def test_a_command_past_its_limit_is_a_timeout_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(conftest, "TIMEOUT_SCALE", 1.0)
    pidfile = tmp_path / "pid"
    # a child that outlives its parent's SIGTERM handling would be a guest left running
    script = f"sleep 300 & echo $! > {pidfile}; echo started >&2; wait"
    t0 = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failed:
        run(["sh", "-c", script], 1)
    msg = str(failed.value)
    assert msg.startswith("timeout: sh -c") and "past its limit of" in msg and "for the host's load" in msg
    assert "started" in msg                     # what the command said is kept
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{pid}"), "the command's child outlived the timeout"
    assert time.monotonic() - t0 < 120


def test_a_command_within_its_limit_returns_as_subprocess_run_does():
    proc = run(["sh", "-c", "echo out; echo err >&2; exit 3"], 30)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "out\n", "err\n")


def test_the_limit_stretches_with_the_load(monkeypatch):
    monkeypatch.setattr(conftest, "TIMEOUT_SCALE", 1.0)
    # 8 runnable tasks on 2 CPUs: a guest gets a quarter of a CPU's time per wall second, at best
    monkeypatch.setattr(os, "getloadavg", lambda: (8.0, 1.0, 1.0))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert conftest.load_scale() == 4.0
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 1.0, 1.0))
    assert conftest.load_scale() == 1.0
    # a 7 s command with a 3 s limit on a quiet host passes when the host runs 3 tasks per CPU
    # (the limit is checked every 5 s: at 5 s it is past 3 s, within 9 s)
    monkeypatch.setattr(conftest, "load_scale", lambda: 3.0)
    assert run(["sleep", "7"], 3).returncode == 0
    monkeypatch.setattr(conftest, "load_scale", lambda: 1.0)
    with pytest.raises(pytest.fail.Exception, match="^timeout: sleep 7"):
        run(["sleep", "7"], 3)
