"""The VM and latency workloads end to end: a short nested-VM run and a short cyclictest run in
the real guest (virtual clock), each producing a valid result directory whose metrics are
present, sane and in the metric contract, with the raw data they are computed from kept."""
import re

import pytest

from conftest import load, make, result_dir


def run_dirs(d):
    m = load(d / "manifest.json")
    return m, [d / r["dir"] for r in m["runs"]]


def metrics_of(run_dir):
    return {x["name"]: x for x in load(run_dir / "metrics.json")["metrics"]}


@pytest.fixture(scope="module")
def vm_result(results_root):
    proc = make("experiment", "POLICY=cfs", "WORKLOAD=vm", "DURATION=3", results=results_root,
                timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return result_dir(proc)


def test_vm_runs_its_nested_vcpus_under_kvm_by_default(vm_result):
    """nested_accel = kvm (the default): the guest's own /dev/kvm ran the nested VM (its probe
    ran a guest in the scxlab guest), the QEMU vCPU threads were found as "CPU n/KVM" threads,
    and the manifest records the accelerator with the other parameters."""
    m, runs = run_dirs(vm_result)
    assert m["factors"]["workload_params"]["nested_accel"] == "kvm"
    raw = runs[0] / "raw"
    assert " -accel kvm -cpu host " in (raw / "nested-qemu-command.txt").read_text()
    assert "nested accelerator: kvm (usable: /dev/kvm ran a plain x86 guest)" in (raw / "server-start.log").read_text()
    got = metrics_of(runs[0])
    assert got["vcpu_threads_cpu_pct"]["value"] > 0     # the vCPU threads were found and ran


def test_vm_under_nested_tcg_is_valid_too(results_root):
    proc = make("experiment", "POLICY=cfs", "WORKLOAD=vm", "DURATION=2", "PARAMS=nested_accel=tcg",
                results=results_root, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    m, runs = run_dirs(result_dir(proc))
    assert m["valid"] is True and m["factors"]["workload_params"]["nested_accel"] == "tcg"
    assert " -accel tcg,thread=multi" in (runs[0] / "raw" / "nested-qemu-command.txt").read_text()
    got = metrics_of(runs[0])
    assert got["vm_work_rate"]["value"] > 0 and got["vcpu_threads_cpu_pct"]["value"] > 0


def test_vm_run_is_valid_with_work_per_vcpu(vm_result):
    m, runs = run_dirs(vm_result)
    assert m["valid"] is True, m["invalid_reasons"]
    run = load(runs[0] / "run.json")
    assert run["valid"] is True, run["invalid_reasons"]
    got = metrics_of(runs[0])
    total = got["vm_work_rate"]
    assert total["unit"] == "Miter/s" and total["higher_is_better"] is True and total["value"] > 0
    assert run["headline"]["name"] == "vm_work_rate" and run["headline"]["value"] == total["value"]
    per_vcpu = [got[f"vcpu{k}_work_rate"]["value"] for k in range(2)]
    assert all(v > 0 for v in per_vcpu)
    # the total is the sum of the vCPUs' rates, and the slowest is the minimum
    assert sum(per_vcpu) == pytest.approx(total["value"], rel=1e-6)
    assert got["vcpu_work_rate_min"]["value"] == pytest.approx(min(per_vcpu), rel=1e-6)
    spread = got["vcpu_spread_pct"]
    assert spread["higher_is_better"] is False and 0 <= spread["value"] <= 200
    # both QEMU vCPU threads were found and ran for part of the window
    assert 0 < got["vcpu_threads_cpu_pct"]["value"] <= 200 + 1
    assert got["vcpu_threads_switches_per_sec"]["value"] > 0
    assert got["nested_boot_s"]["value"] > 0


def test_vm_raw_console_holds_the_samples(vm_result):
    _, runs = run_dirs(vm_result)
    raw = runs[0] / "raw"
    console = (raw / "nested-console.log").read_text().splitlines()
    # outer stamp, VMB, seq, nested time, one count per vCPU (the last line may be cut short
    # when stop.sh ends QEMU, and QEMU's own messages share the console)
    sample = re.compile(r"^\d+ VMB \d+ \d+ \d+ \d+$")
    samples = [l for l in console if sample.match(l)]
    assert len(samples) >= 3 and any(" VMB start cpus=2 " in l for l in console)
    # sequence numbers count up, and so does every vCPU's count
    rows = [[int(x) for x in l.split()[2:]] for l in samples]
    for a, b in zip(rows, rows[1:]):
        assert b[0] == a[0] + 1 and b[1] > a[1] and b[2] >= a[2] and b[3] >= a[3]
    assert "-smp 2" in (raw / "nested-qemu-command.txt").read_text()
    raw_metrics = load(raw / "metrics.json")
    assert raw_metrics["vcpus"] == 2 and raw_metrics["window_s"] >= 3


@pytest.fixture(scope="module")
def cyclictest_result(results_root):
    proc = make("compare", "POLICIES=cfs fifo", "WORKLOAD=cyclictest-loaded", "DURATION=3", "REPEATS=1",
                results=results_root, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return result_dir(proc)


def test_cyclictest_runs_are_valid_with_latency_percentiles(cyclictest_result):
    m, runs = run_dirs(cyclictest_result)
    assert m["valid"] is True, m["invalid_reasons"]
    assert [load(r / "run.json")["policy"] for r in runs] == ["cfs", "fifo"]
    for r in runs:
        got = metrics_of(r)
        values = [got[n]["value"] for n in ("latency_p50_us", "latency_p90_us", "latency_p99_us",
                                            "latency_p999_us")]
        assert all(got[n]["higher_is_better"] is False and got[n]["unit"] == "us"
                   for n in ("latency_p50_us", "latency_p99_us", "latency_max_us", "latency_avg_us"))
        assert values == sorted(values), values
        assert 0 <= values[0] and values[-1] <= got["latency_max_us"]["value"]
        # 2 threads waking every 1 ms for about 3 s: at most ~6000 wakeups, fewer when a
        # policy lets the CPU hogs delay them by whole time slices
        assert 10 <= got["wakeups"]["value"] <= 2 * 3 * 1000 * 1.1
        assert load(r / "run.json")["headline"]["name"] == "latency_p99_us"


def test_cyclictest_keeps_its_histogram_and_settings(cyclictest_result):
    _, runs = run_dirs(cyclictest_result)
    for r in runs:
        raw = r / "raw"
        ct = load(raw / "cyclictest.json")
        assert ct["num_threads"] == 2 and all(t["histogram"] for t in ct["thread"].values())
        rows = (raw / "histogram.tsv").read_text().splitlines()
        assert rows[0] == "latency_us\tcount"
        counted = sum(int(line.split("\t")[1]) for line in rows[1:])
        assert counted == sum(sum(t["histogram"].values()) for t in ct["thread"].values())
        settings = load(raw / "metrics.json")["settings"]
        assert settings["system_tuning"].startswith("cyclictest's own")
        assert settings["policy"] == "SCHED_OTHER" and settings["background_load_processes"] == 2
        assert "--default-system" not in settings["command"]
        # the kernel reported both measurement threads as SCHED_OTHER
        policies = (raw / "thread-policies.txt").read_text().splitlines()
        assert len(policies) == 2 and all(p.endswith("SCHED_OTHER") for p in policies)
        if load(r / "run.json")["policy"] == "fifo":
            assert load(r / "run.json")["ops_seen"] == "fifo"
