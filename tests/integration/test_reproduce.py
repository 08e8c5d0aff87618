"""Kept results rerun as shipped: a kept reproduce.sh finds the checkout wherever the result lies
(above its own folder, above the current folder, or SCXLAB_REPO), takes VAR=value overrides, and
reruns the same experiment for real (shortened)."""
import os
import shutil
import sys

from conftest import REPO, load, result_dir, run

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from analysis.compare import params_mismatch  # noqa: E402

KEPT = REPO / "paper/results/20261125-234150-nginx-fifo"


# as a user types it: from a shell, not from inside another make (make test), whose variables would
# make the script's make print "Leaving directory" after the result directory
SHELL_ENV = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}


def sh(script, *args, cwd, env=None, timeout=300):
    return run(["sh", str(script), *args], timeout, cwd=cwd, env=env or SHELL_ENV)


def test_kept_reproduce_script_reruns_shortened(tmp_path):
    results = tmp_path / "results"
    proc = sh(KEPT / "reproduce.sh", "DURATION=2", f"RESULTS={results}", cwd="/", timeout=900)
    assert proc.returncode == 0, proc.stderr
    new = load(result_dir(proc) / "manifest.json")
    old = load(KEPT / "manifest.json")
    assert new["valid"] is True
    for factor in ("workload", "policies", "clock", "repeats"):
        assert new["factors"][factor] == old["factors"][factor], factor
    # the same parameters; one added since the kept result was made stands at its declared default
    assert params_mismatch("nginx", new["factors"]["workload_params"], old["factors"]["workload_params"]) is None
    assert new["factors"]["duration_s"] == 2


def test_reproduce_script_finds_the_checkout_from_anywhere(tmp_path):
    moved = tmp_path / "elsewhere" / KEPT.name
    shutil.copytree(KEPT, moved)
    # DURATION=0 makes the runner refuse at once: its message proves the script reached it
    found = sh(moved / "reproduce.sh", "DURATION=0", f"RESULTS={tmp_path / 'r'}", cwd=REPO)
    assert found.returncode != 0 and "DURATION" in found.stderr, found.stderr
    lost = sh(moved / "reproduce.sh", "DURATION=0", cwd=tmp_path)
    assert lost.returncode == 2 and "no scxlab checkout found" in lost.stderr and "SCXLAB_REPO" in lost.stderr
    told = sh(moved / "reproduce.sh", "DURATION=0", f"RESULTS={tmp_path / 'r'}", cwd=tmp_path,
              env=dict(SHELL_ENV, SCXLAB_REPO=str(REPO)))
    assert told.returncode != 0 and "DURATION" in told.stderr, told.stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
