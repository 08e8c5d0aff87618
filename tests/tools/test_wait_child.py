"""./scxlab's wait_child(), which capture() and submit_array() use to wait for the runner (or sbatch) through
a TERM they trap and pass on: the exit code it leaves in $rc must be the child's own, whether the child
outlives the signal, ends in the middle of the trap, or dies of it."""
import os
import signal
import subprocess
import time

import pytest

from conftest_paths import REPO


def wait_child_source():
    lines = (REPO / "scxlab").read_text().splitlines()
    start = lines.index("wait_child() {")
    end = lines.index("}", start)
    return "\n".join(lines[start:end + 1]) + "\n"


# The wrapper as capture() is: the child in the background, a TERM trap that passes the signal on, then
# wait_child; the child touches $ready once its own trap is in place.
WRAPPER = """
{function}
ready=$1; shift
bash -c "$1" child "$ready" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
wait_child "$child"
echo "rc=$rc"
"""

CHILDREN = {
    # handles the TERM and goes on a while before ending: alive when the trap returns, so waited for again
    "outlives-signal": ('trap "sleep 0.5; exit 6" TERM; touch "$1"; sleep 30 >/dev/null & wait', {"rc=6"}),
    # dies of the TERM passed on
    "dies-of-signal": ('touch "$1"; exec sleep 30', {f"rc={128 + signal.SIGTERM}"}),
    # handles the TERM and ends at once with its own status: bash may reap it while the wrapper's trap still
    # runs, and then often keeps no status for it (a later `wait` gives -1); the signal's status stands then,
    # never a made-up 0, 127 or -1
    "ends-in-trap": ('trap "exit 5" TERM; touch "$1"; sleep 30 >/dev/null & wait',
                     {"rc=5", f"rc={128 + signal.SIGTERM}"}),
}


def run_wrapper(tmp_path, child, signal_to):
    ready = tmp_path / "ready"
    ready.unlink(missing_ok=True)
    script = tmp_path / "wrapper.sh"
    script.write_text(WRAPPER.format(function=wait_child_source()))
    proc = subprocess.Popen(["bash", str(script), str(ready), child], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.02)
    if signal_to == "wrapper":  # `kill PID`: the wrapper's trap passes it on
        os.kill(proc.pid, signal.SIGTERM)
    else:  # the whole process group: the child gets it twice, straight and passed on
        os.killpg(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    return out.strip()


@pytest.mark.parametrize("signal_to", ["wrapper", "group"])
@pytest.mark.parametrize("name", sorted(CHILDREN))
def test_rc_is_the_childs_status_through_a_trapped_term(tmp_path, name, signal_to):
    child, allowed = CHILDREN[name]
    # the cases differ in timing: several tries at each
    seen = {run_wrapper(tmp_path, child, signal_to) for _ in range(6)}
    assert seen <= allowed


def test_rc_is_the_childs_status_without_a_signal(tmp_path):
    script = tmp_path / "wrapper.sh"
    script.write_text(wait_child_source() + 'bash -c "exit 7" & wait_child $!; echo "rc=$rc"\n')
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=20)
    assert proc.stdout.strip() == "rc=7"
