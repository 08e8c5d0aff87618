"""workloads/lib/common.sh, which every workload client sources, under both shells the clients
use (dash for the #!/bin/sh ones, bash for the others): the window marks it writes to the
agent's FIFO, and the param checks that replaced ten copies of the same loop."""
import os
import subprocess

import pytest

from conftest_paths import REPO

LIB = REPO / "workloads/lib/common.sh"


def client(shell, body, env=None, cwd=None):
    script = f'die() {{ echo "test client: $*" >&2; exit 2; }}\n. "{LIB}"\n{body}\n'
    return subprocess.run([shell, "-c", script], capture_output=True, text=True, timeout=30, cwd=cwd,
                          env={"PATH": os.environ["PATH"], **(env or {})})


@pytest.fixture(params=["dash", "bash"])
def shell(request):
    return request.param


def test_marks_go_to_the_fifo_in_order(shell, tmp_path):
    fifo = tmp_path / "mark"
    os.mkfifo(fifo)
    # the agent's side: opened read-write, so that neither end waits for the other
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        proc = client(shell, "mark start; echo measured; mark end", env={"SCXLAB_MARK": str(fifo)})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "measured\n"
        assert os.read(fd, 100) == b"start\nend\n"
    finally:
        os.close(fd)


def test_marking_without_an_agent_does_nothing(shell, tmp_path):
    """The warm-up, or a client run by hand: no SCXLAB_MARK, no file written, no failure."""
    proc = client(shell, "mark start && mark end && echo ok", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_mark_that_is_neither_start_nor_end_is_refused(shell, tmp_path):
    proc = client(shell, "mark begin", env={"SCXLAB_MARK": str(tmp_path / "never")})
    assert proc.returncode == 2
    assert "mark: 'begin' is neither start nor end" in proc.stderr
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("call, env, error", [
    ("need_uint 1 LOOPS GROUPS", {"WL_LOOPS": "5", "WL_GROUPS": "1"}, None),
    ("need_uint 0 THREADS", {"WL_THREADS": "0"}, None),
    ("need_uint 1 THREADS", {"WL_THREADS": "0"}, "param threads = '0' is not a positive integer"),
    ("need_uint 0 INTERVAL_US", {"WL_INTERVAL_US": "-1"}, "param interval_us = '-1' is not a non-negative integer"),
    ("need_uint 1 LOOPS GROUPS", {"WL_LOOPS": "5", "WL_GROUPS": "2x"}, "param groups = '2x' is not a positive integer"),
    ("need_uint 1 LOOPS", {}, "param loops = '' is not a positive integer"),
    ("need_uint 1 LOOPS", {"WL_LOOPS": "$(touch pwned)"}, "param loops = '$(touch pwned)' is not a positive integer"),
    ("need_yesno THREADS PIPE", {"WL_THREADS": "yes", "WL_PIPE": "no"}, None),
    ("need_yesno THREADS PIPE", {"WL_THREADS": "yes", "WL_PIPE": "maybe"}, "param pipe = 'maybe' must be yes or no"),
])
def test_param_checks(shell, tmp_path, call, env, error):
    proc = client(shell, f"{call} && echo ok", env=env, cwd=tmp_path)
    if error is None:
        assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr
    else:
        assert proc.returncode == 2 and proc.stdout == ""
        assert f"test client: {error}" in proc.stderr
    assert not (tmp_path / "pwned").exists()    # a value is data, never run


def test_every_client_checks_its_params_through_the_lib():
    """The ten clients' copies of the same loop are gone: no client parses a WL_ value with its own regex."""
    for script in sorted((REPO / "workloads").glob("*/client.sh")):
        text = script.read_text()
        assert "=~ ^[0-9]" not in text and "=~ ^[1-9]" not in text and "=~ ^(yes|no)" not in text, script
