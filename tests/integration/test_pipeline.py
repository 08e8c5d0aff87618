"""End to end: the real guest, nginx under cfs and fifo, a faulty policy, and bad input."""
import os
import pathlib
import re
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import REPO, load, make, result_dir, tree_snapshot


@pytest.fixture(scope="module")
def compare(results_root):
    before = tree_snapshot(results_root)
    proc = make("compare", "POLICIES=cfs fifo", "WORKLOAD=nginx", "DURATION=3", "REPEATS=2",
                results=results_root)
    return proc, before


def test_compare_succeeds_and_prints_its_result_dir(compare):
    proc, _ = compare
    assert proc.returncode == 0, proc.stderr
    d = result_dir(proc)
    assert not d.name.endswith("-INVALID")
    assert not d.name.startswith(".staging")
    # progress was shown while it ran
    assert "booting the guest" in proc.stderr
    assert "run 4/4" in proc.stderr and "left" in proc.stderr
    # where KVM cannot run the guest, the fall-back to TCG is said, once
    assert proc.stderr.count("no usable KVM here") <= 1


def test_manifest_records_the_setup(compare):
    d = result_dir(compare[0])
    m = load(d / "manifest.json")
    assert m["valid"] is True and m["invalid_reasons"] == []
    f = m["factors"]
    assert f["policies"] == ["cfs", "fifo"]
    assert f["run_order"] == ["cfs", "fifo", "fifo", "cfs"]
    assert f["workload"] == "nginx" and f["duration_s"] == 3 and f["repeats"] == 2
    assert f["clock"] == "virtual" and "icount" in f["clock_qemu"] and f["clock_qemu"]["icount"]
    assert f["target"] == "vm" and f["vm"]["vcpus"] >= 1
    image = f["vm"]["image"]
    with open(os.path.join(image, "kernel-release")) as kr:
        assert f["kernel_release"] == kr.read().strip()
    assert len(f["kconfig_sha256"]) == 64
    assert any(k.startswith("linux-image-") for k in m["software"]["image_packages"])
    assert "qemu-system-x86" in m["software"]["tools_packages"]
    assert len(m["software"]["git_commit"]) == 40
    assert m["emulated"].startswith("yes")
    # no /dev/kvm here: auto fell back to TCG, recorded with why and what the probe found
    kvm_ok = subprocess.run([str(REPO / "kernel/tools-exec"), "build/runners/scxlab", "kvm-check"], cwd=REPO,
                            capture_output=True, text=True).returncode == 0
    if not kvm_ok:
        assert f["accel"] == "tcg"
        assert m["accelerator"]["kind"] == "tcg" and m["accelerator"]["why"].startswith("auto: no usable KVM")
        assert m["accelerator"]["kvm_probe"]
    assert m["times"]["boot_s"] > 0
    # where the wall time went (make bench-suite): the phases of the 4 runs, as the guest announced them
    t = m["times"]
    assert set(t["phases_s"]) == {"policy", "server", "warmup", "measure", "teardown"}
    assert t["phases_s"]["measure"] > 0 and t["phases_s"]["server"] > 0 and t["phases_s"]["teardown"] > 0
    assert t["measured_s"] == 3 * 4
    assert t["wall_s"] > t["target_s"] > t["boot_s"] and t["job_s"] > 0 and t["assemble_s"] > 0
    assert m["guest"]["schedstats_enabled"] is True


def test_every_run_is_valid_with_metrics_and_raw_data(compare):
    d = result_dir(compare[0])
    m = load(d / "manifest.json")
    assert len(m["runs"]) == 4
    for entry in m["runs"]:
        run_dir = d / entry["dir"]
        run = load(run_dir / "run.json")
        assert run["valid"] is True, run["invalid_reasons"]
        assert run["ejected"] is False
        metrics = load(run_dir / "metrics.json")["metrics"]
        names = {x["name"]: x for x in metrics}
        rps = names["requests_per_sec"]
        assert rps["unit"] == "req/s" and rps["higher_is_better"] is True and rps["value"] > 0
        assert names["latency_p99_us"]["higher_is_better"] is False
        assert run["headline"]["value"] == rps["value"]
        raw = run_dir / "raw"
        for name in ["schedstat-before.txt", "schedstat-after.txt", "perf-stat.csv", "dmesg.txt",
                     "sched_ext-before/state", "sched_ext-after/state", "client.log"]:
            assert (raw / name).exists(), name
        assert (raw / "schedstat-before.txt").read_text().startswith("version ")
        assert run["monitors"]["perf_stat"]["context-switches"] > 0
        # what the scheduler did: per-CPU schedstat deltas, the workload's tasks, and metrics from them
        sched = run["monitors"]["schedstat"]
        assert "error" not in sched, sched
        assert len(sched["cpus"]) == m["factors"]["vm"]["vcpus"]
        assert sum(c["timeslices"] for c in sched["cpus"]) > 0 and sum(c["wakeups"] for c in sched["cpus"]) > 0
        assert any(t["comm"] == "nginx" for t in sched["tasks"]), sched["tasks"]
        assert not any(t["comm"] == "scxlab-guest" for t in sched["tasks"]), "the agent is not the workload"
        assert (raw / "task-schedstat-before.txt").exists() and (raw / "task-schedstat-after.txt").exists()
        wait = names["sched.rq_wait_per_slice_us"]
        assert wait["unit"] == "us" and wait["higher_is_better"] is False and wait["value"] > 0
        delay = sum(c["run_delay_ns"] for c in sched["cpus"]) / sum(c["timeslices"] for c in sched["cpus"]) / 1e3
        assert abs(wait["value"] - delay) <= 1e-6 * delay
        assert names["sched.wakeups_remote_fraction"]["higher_is_better"] is None
        assert names["sched.wakeups_local_per_req"]["unit"] == "wakeups/req"
        assert names["sched.tasks_sampled"]["value"] == len(sched["tasks"])
        assert names["sched.task_rq_wait_per_slice_max_us"]["value"] >= names["sched.task_rq_wait_per_slice_p50_us"]["value"]
        assert 0 <= names["sched.idle_fraction"]["value"] <= 1
        events = [n for n in names if n.startswith("sched.scx_events.")]
        if entry["policy"] == "fifo":
            # this kernel lists its sched_ext event counters under root/events while a scheduler is loaded
            assert "SCX_EV_SELECT_CPU_FALLBACK" in sched["scx_events"]
            assert "sched.scx_events.select_cpu_fallback" in events
            assert names["sched.scx_events.select_cpu_fallback"]["higher_is_better"] is False
        else:
            assert "scx_events" not in sched and events == []
        if entry["policy"] == "fifo":
            # the kernel reported fifo in charge before the workload started
            assert run["ops_seen"] == "fifo"
            assert run["sched_ext_at_start"] == "state=enabled ops=fifo"
            assert (raw / "sched_ext-before" / "root_ops").read_text().strip() == "fifo"
            assert run["exit_info"]["kind_name"] == "UNREG" and run["exit_info"]["ejected"] is False
            assert run["loader_exit_code"] == 0
        else:
            assert run["sched_ext_at_start"] == "state=disabled ops=(none)"


def test_counters_cover_the_clients_own_window(compare):
    """wrk marks its window (workloads/lib/wrk-report.lua): run.json's window is the client's,
    within the stated tolerance of the duration wrk itself reports, measure_s is its length, the
    client lived longer than it (what measure_s used to be), and perf stat counted only inside it
    (turned on and off once each through its control FIFO; CPU time no more than the vCPUs can
    give in the window, and most of that, since nginx and wrk keep both busy)."""
    d = result_dir(compare[0])
    m = load(d / "manifest.json")
    vcpus = m["factors"]["vm"]["vcpus"]
    for entry in m["runs"]:
        run = load(d / entry["dir"] / "run.json")
        w = run["window"]
        assert w["source"] == "marks" and w["agrees"] is True, w
        assert run["measure_s"] == w["length_s"]
        inst = w["instances"][0]
        wrk = load(d / entry["dir"] / "raw" / "metrics.json")["duration_s"]
        assert inst["client_duration_s"] == pytest.approx(wrk, abs=1e-6)
        assert abs(w["length_s"] - wrk) <= max(w["tolerance_rel"] * wrk, w["tolerance_min_s"])
        assert 0 < w["start_s"] < w["end_s"] < inst["exit_s"]
        log = (d / entry["dir"] / "raw" / "perf-stat.log").read_text()
        assert log.count("Events enabled") == 1 and log.count("Events disabled") == 2, log
        cpu_s = run["monitors"]["perf_stat"]["task-clock"] / 1e3
        assert 0.8 * vcpus * w["length_s"] <= cpu_s <= 1.02 * vcpus * (w["length_s"] + sum(w["sampling_s"])), \
            (cpu_s, w)


def test_fresh_result_satisfies_the_contract(compare):
    """Every file of a freshly written result validates against schemas/ (strictly: no legacy
    forms), through the analysis loader: a runner change that breaks the contract fails here."""
    from analysis.loader import load_result
    d = result_dir(compare[0])
    assert len(load_result(d, strict=True).runs) == 4


def test_report_compares_scheduler_activity_with_cfs(compare):
    """make report's comparison (analysis.compare) has the agent's sched.* metrics against cfs,
    with an interval (2 runs a side), and sched_ext's event counters for fifo alone."""
    from analysis.compare import compare as compare_policies, pool
    from analysis.loader import load_result
    cmp = compare_policies(pool([load_result(result_dir(compare[0]))]))
    wait = cmp.metric("sched.rq_wait_per_slice_us")
    fifo = next(r for r in wait.rows if r.policy == "fifo")
    assert fifo.ratio is not None and fifo.ratio.ci_low is not None and fifo.ratio.ci_low <= fifo.ratio.ci_high
    fallback = cmp.metric("sched.scx_events.select_cpu_fallback")
    assert [r.policy for r in fallback.rows if r.summary] == ["fifo"]


def test_summary_and_reproduce_script(compare):
    d = result_dir(compare[0])
    s = load(d / "summary.json")
    for pol in ("cfs", "fifo"):
        assert s[pol]["valid_runs"] == 2 and s[pol]["mean"] > 0 and s[pol]["min"] <= s[pol]["max"]
    rep = d / "reproduce.sh"
    assert rep.stat().st_mode & stat.S_IXUSR
    text = rep.read_text()
    assert ("exec make compare POLICIES='cfs fifo' WORKLOAD=nginx DURATION=3 REPEATS=2 CLOCK=virtual ACCEL=tcg ICOUNT_SHIFT=3 TARGET=vm "
            "VM=default MONITORS='' CGROUPS='' PARAMS='' \"$@\"\n") in text
    for name in ["console.log", "qemu-command.txt", "plan.ini", "image-versions.txt"]:
        assert (d / "raw" / name).exists(), name
    qemu = (d / "raw" / "qemu-command.txt").read_text()
    assert "-icount shift=3,sleep=off" in qemu
    # booted through scxlab's own initramfs (kernel/initramfs/), recorded as such
    assert re.search(r" -initrd \S*/build/kernel/initramfs\.img ", qemu)
    assert load(d / "manifest.json")["factors"]["vm"]["initrd"] == "scxlab"


def test_earlier_results_untouched(compare, results_root):
    _, before = compare
    after = tree_snapshot(results_root)
    for path, sig in before.items():
        assert after.get(path) == sig, f"{path} changed"
    assert not [p for p in os.listdir(results_root) if p.startswith(".staging")]


def test_ejected_policy_makes_an_invalid_result(results_root):
    proc = make("experiment", "POLICY=faulty", "WORKLOAD=nginx", "DURATION=8", results=results_root)
    assert proc.returncode != 0, proc.stderr
    assert "the result is INVALID" in proc.stderr
    d = result_dir(proc)
    assert d.name.endswith("-INVALID")
    assert (d / "INVALID").exists()
    m = load(d / "manifest.json")
    assert m["valid"] is False
    assert any("ejected" in r for r in m["invalid_reasons"])
    run = load(d / m["runs"][0]["dir"] / "run.json")
    assert run["valid"] is False and run["ejected"] is True
    assert run["exit_info"]["kind_name"] == "ERROR_BPF"
    assert "injected fault" in run["exit_info"]["msg"]
    assert any("disabled" in line for line in run["kernel_sched_ext_messages"])
    # its raw data is kept
    assert (d / m["runs"][0]["dir"] / "raw" / "dmesg.txt").stat().st_size > 0
    assert (d / m["runs"][0]["dir"] / "raw" / "loader.log").exists()
    assert "ejected" in proc.stderr


@pytest.fixture
def results_elsewhere():
    # Neither in the repository nor under /tmp, the paths the toolchain root always sees.
    d = pathlib.Path(tempfile.mkdtemp(prefix="scxlab-test-results-", dir="/var/tmp")) / "not-yet-made"
    yield d
    shutil.rmtree(d.parent)


def test_real_clock_is_recorded(results_elsewhere):
    # ... and a RESULTS folder anywhere on the machine gets the result (not the toolchain root).
    proc = make("experiment", "POLICY=fifo", "WORKLOAD=nginx", "DURATION=2", "CLOCK=real", results=results_elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert result_dir(proc).parent == results_elsewhere
    m = load(result_dir(proc) / "manifest.json")
    assert m["factors"]["clock"] == "real"
    assert "thread=multi" in m["factors"]["clock_qemu"]["accel"] and m["factors"]["clock_qemu"]["icount"] == ""
    assert m["factors"]["icount_shift"] is None


def test_another_icount_shift_boots_and_is_recorded(results_root):
    # the time model as a factor: the virtual clock at shift 2 (4 ns an instruction) instead of the
    # VM config's 3, in the QEMU command line, the manifest and reproduce.sh
    proc = make("experiment", "POLICY=fifo", "WORKLOAD=perf-pipe", "DURATION=3", "REPEATS=1", "ICOUNT_SHIFT=2",
                results=results_root)
    assert proc.returncode == 0, proc.stderr
    d = result_dir(proc)
    f = load(d / "manifest.json")["factors"]
    assert f["clock"] == "virtual" and f["icount_shift"] == 2 and f["clock_qemu"]["icount"] == "shift=2,sleep=off"
    assert " -icount shift=2,sleep=off " in (d / "raw/qemu-command.txt").read_text()
    assert " ICOUNT_SHIFT=2 " in (d / "reproduce.sh").read_text()
    assert "(icount shift=2)" in proc.stderr


@pytest.mark.parametrize("args, words", [
    (["experiment", "POLICY=nosuch"], ["unknown policy 'nosuch'", "cfs", "fifo"]),
    (["experiment", "WORKLOAD=nosuch"], ["unknown workload 'nosuch'", "nginx"]),
    (["experiment", "DURATION=ten"], ["DURATION", "'ten'"]),
    (["experiment", "DURATION=0"], ["DURATION", "out of range"]),
    (["compare", "POLICIES=cfs cfs"], ["listed twice"]),
    (["experiment", "CLOCK=fast"], ["CLOCK = 'fast'", "virtual", "real"]),
    (["experiment", "ACCEL=hvf"], ["ACCEL = 'hvf'", "auto", "kvm", "tcg"]),
    (["experiment", "ACCEL=kvm", "CLOCK=virtual"], ["ACCEL=kvm runs on the real clock only", "ACCEL=tcg"]),
])
def test_bad_input_is_refused_and_touches_nothing(results_root, args, words):
    before = tree_snapshot(results_root)
    entries = set(os.listdir(results_root))
    proc = make(*args, results=results_root, timeout=300)
    assert proc.returncode != 0
    assert "scxlab: error:" in proc.stderr
    for w in words:
        assert w in proc.stderr, (w, proc.stderr)
    assert set(os.listdir(results_root)) == entries
    assert tree_snapshot(results_root) == before


def test_missing_image_is_refused(results_root, tmp_path):
    entries = set(os.listdir(results_root))
    proc = subprocess.run([str(REPO / "kernel/tools-exec"), "build/runners/scxlab", "run", "--repo", str(REPO),
                           "--results", str(results_root), "--policies", "fifo", "--workload", "nginx",
                           "--image", str(tmp_path / "no-image")], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 3                       # the target cannot be prepared
    assert "missing" in proc.stderr and "make setup" in proc.stderr
    assert set(os.listdir(results_root)) == entries


def test_kvm_asked_where_it_cannot_run_a_guest_is_refused(results_root):
    """ACCEL=kvm on a machine whose /dev/kvm is missing (or cannot run a plain x86 guest): exit 3
    (the target cannot be prepared) with the probe's finding, and nothing written."""
    check = subprocess.run([str(REPO / "kernel/tools-exec"), "build/runners/scxlab", "kvm-check"], cwd=REPO,
                           capture_output=True, text=True)
    if check.returncode == 0:
        pytest.skip("KVM runs a guest on this machine: " + check.stdout.strip())
    assert check.returncode == 3 and check.stdout.startswith("not usable: ")
    entries = set(os.listdir(results_root))
    proc = subprocess.run(["./scxlab", "experiment", "ACCEL=kvm", f"RESULTS={results_root}"], cwd=REPO,
                          capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")})
    assert proc.returncode == 3, proc.stderr
    assert "ACCEL=kvm, but KVM cannot run the guest here" in proc.stderr
    assert check.stdout.split(": ", 1)[1].strip() in proc.stderr
    assert set(os.listdir(results_root)) == entries


@pytest.mark.skipif(os.path.isdir("/sys/kernel/sched_ext"), reason="this host's kernel has sched_ext")
def test_target_host_without_sched_ext_is_refused(results_root):
    entries = set(os.listdir(results_root))
    proc = make("experiment", "TARGET=host", results=results_root, timeout=300)
    assert proc.returncode != 0
    assert "TARGET=host needs a kernel with sched_ext" in proc.stderr and "TARGET=vm" in proc.stderr
    assert set(os.listdir(results_root)) == entries
