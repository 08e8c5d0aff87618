"""Bad configs and parameters are refused on the host, before anything boots: exit code 2, a
message naming the problem, and no result directory, staging folder or sweep folder. No test
here boots a guest (each takes seconds)."""
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import REPO, make

RUNNER = [str(REPO / "kernel/tools-exec"), str(REPO / "build/runners/scxlab")]


def runner(*args, results):
    """The runner itself (inside the toolchain root; /tmp is the same path there)."""
    cmd = [*RUNNER, *args, "--repo", str(REPO), "--results", str(results)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def results(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    return d


@pytest.fixture
def configs(tmp_path):
    """A copy of configs/ that a test may break."""
    d = tmp_path / "configs"
    shutil.copytree(REPO / "configs", d)
    return d


def assert_refused(proc, results, *fragments):
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    for f in fragments:
        assert f in proc.stderr, f"{f!r} not in:\n{proc.stderr}"
    # nothing written: no result, no .staging-* folder, no sweep folder
    assert sorted(os.listdir(results)) == [], os.listdir(results)


def insert_after(path, line, text):
    lines = path.read_text().splitlines(keepends=True)
    i = lines.index(line + "\n")
    lines.insert(i + 1, text + "\n")
    path.write_text("".join(lines))
    return i + 2  # the 1-based number of the inserted line


def test_param_out_of_its_type_range(results):
    proc = make("experiment", "POLICY=cfs", "WORKLOAD=nginx", "PARAMS=port=99999", results=results, timeout=600)
    assert_refused(proc, results, "PARAMS: port (int 1 65535) = 99999 is out of range (expected 1 to 65535)")


def test_misspelt_workload_key_names_file_line_and_the_right_key(configs, results):
    ini = configs / "workloads/nginx.ini"
    n = insert_after(ini, "[workload]", "duraton = 5")
    proc = runner("run", "--configs", str(configs), "--policies", "cfs", "--workload", "nginx", results=results)
    assert_refused(proc, results, f"{ini}:{n}: unknown key 'duraton' in [workload] (did you mean 'duration'?)",
                   "[workload] accepts: description, dir, start, client, stop, headline, duration, warmup")


def test_misspelt_vm_section(configs, results):
    ini = configs / "vms/default.ini"
    ini.write_text(ini.read_text().replace("[clock.real]", "[clock.rael]"))
    proc = runner("run", "--configs", str(configs), "--policies", "cfs", "--workload", "nginx", results=results)
    assert_refused(proc, results, "unknown section [clock.rael] (did you mean [clock.real]?)")


def test_bad_instance_override_in_a_tree(configs, results):
    (configs / "cgroups/badport.ini").write_text("[tree]\n[instance.1]\ncgroup = a\nparams = port=8o80\n")
    proc = runner("run", "--configs", str(configs), "--policies", "cfs", "--workload", "nginx",
                  "--cgroups", "badport", results=results)
    assert_refused(proc, results, "cgroup tree badport: instance 1: params: port (int 1 65535) = '8o80' "
                                  "is not a whole number")


def test_trailing_junk_in_a_pair_spec(results):
    proc = runner("run", "--policies", "cfs", "--workload", "nginx", "--cgroups", "pair:2:3x", results=results)
    assert_refused(proc, results, "cgroup tree 'pair:2:3x': RATIO = '3x' is not a whole number")


def test_sweep_point_key_that_is_no_runner_option(configs, results):
    ini = configs / "sweeps/smoke.ini"
    ini.write_text(ini.read_text().replace("cgroups = pair:", "cgroup = pair:"))
    proc = runner("sweep", "--sweep", "smoke", "--configs", str(configs), results=results)
    assert_refused(proc, results, "unknown key 'cgroup' in [point] (did you mean 'cgroups'?)")


def test_a_bad_value_in_a_later_sweep_point_is_refused_before_any_boots(configs, results):
    # the first point (depth=1 ratio=2) is fine; the second asks for a ratio pair: specs refuse
    ini = configs / "sweeps/smoke.ini"
    ini.write_text(ini.read_text().replace("ratio = 2\n", "ratio = 2 0\n"))
    env = dict(line.split("=", 1) for line in (REPO / "build/setup.env").read_text().splitlines() if "=" in line
               and not line.startswith("#"))
    proc = subprocess.run([str(REPO / "kernel/tools-exec"), "env", f"IMAGE_DIR={env['IMAGE_DIR']}",
                           str(REPO / "build/runners/scxlab"), "sweep", "--sweep", "smoke", "--configs", str(configs),
                           "--repo", str(REPO), "--results", str(results)], capture_output=True, text=True, timeout=300)
    assert_refused(proc, results, "RATIO = 0 is out of range", "sweep point depth=1 ratio=0", "nothing was run")
    assert "[sweep] point" not in proc.stderr     # no point started


def test_a_missing_workload_script_is_refused_before_the_boot(configs, results):
    # the agent runs start/client/stop itself, in the guest: a name that is not there failed after the boot
    ini = configs / "workloads/nginx.ini"
    ini.write_text(ini.read_text().replace("start = start.sh", "start = strat.sh"))
    env = dict(line.split("=", 1) for line in (REPO / "build/setup.env").read_text().splitlines() if "=" in line
               and not line.startswith("#"))
    proc = runner("run", "--configs", str(configs), "--policies", "cfs", "--workload", "nginx", "--image",
                  env["IMAGE_DIR"], results=results)
    assert_refused(proc, results, f"{ini}: [workload] start = strat.sh:", "is not an executable file")


@pytest.mark.parametrize("extra,says", [
    (["ICOUNT_SHIFT=11"], "ICOUNT_SHIFT = '11': give the virtual clock's -icount shift, a whole number from 0 to 10"),
    (["ICOUNT_SHIFT=auto"], "a whole number from 0 to 10"),
    (["ICOUNT_SHIFT=2", "CLOCK=real"], "CLOCK = 'real' has none"),
    (["ICOUNT_SHIFT=2", "ACCEL=kvm"], "ACCEL=kvm runs on the real clock"),
])
def test_a_bad_icount_shift_is_refused_before_the_boot(results, extra, says):
    proc = subprocess.run([str(REPO / "scxlab"), "compare", "POLICIES=cfs fifo", "WORKLOAD=perf-pipe", *extra,
                           f"RESULTS={results}"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert_refused(proc, results, says)


def test_icount_shift_belongs_to_one_boot(results):
    # a sweep's points take their clocks from its config: the variable is refused, not ignored
    proc = make("sweep", "SWEEP=smoke", "ICOUNT_SHIFT=2", results=results, timeout=300)
    assert proc.returncode == 2 and "ICOUNT_SHIFT applies to experiment and compare" in proc.stderr, proc.stderr
    assert sorted(os.listdir(results)) == []
