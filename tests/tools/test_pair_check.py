"""pair's independent invariant checker, on recorded traces with known answers (tools/pair-check/test.sh)."""
import subprocess

from conftest_paths import REPO


def test_pair_check_on_recorded_traces():
    proc = subprocess.run([str(REPO / "kernel/tools-exec"), "tools/pair-check/test.sh", "build/tools/pair-check"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
