"""Safety, as the sched_ext proposal promises it: an invalid decision, a stalled task or SysRq-S
ejects the BPF scheduler, the guest survives, the tasks go on under the fair class, and the runner
records the kernel's exit kind and reason. (That every policy survives load without being ejected:
tests/integration/survival.py and its test_survival_*.py files.)"""
import re

import pytest

from conftest import load, make, result_dir


@pytest.fixture(scope="module")
def faults(results_root):
    proc = make("compare", "POLICIES=faulty-stall fifo-sysrq faulty-bad-cpu faulty-hang cfs", "WORKLOAD=nginx",
                "DURATION=10", results=results_root)
    d = result_dir(proc)
    m = load(d / "manifest.json")
    runs = {e["policy"]: load(d / e["dir"] / "run.json") for e in m["runs"]}
    metrics = {e["policy"]: load(d / e["dir"] / "metrics.json") for e in m["runs"]}
    return proc, d, m, runs, metrics


def requests(metrics):
    return next(x["value"] for x in metrics["metrics"] if x["name"] == "requests")


@pytest.mark.parametrize("policy, kind, reason", [
    ("faulty-stall", "ERROR_STALL", "runnable task stall"),
    ("fifo-sysrq", "SYSRQ", "disabled by sysrq-S"),
    ("faulty-bad-cpu", "ERROR", "runtime error"),
    ("faulty-hang", "ERROR_STALL", "runnable task stall"),
])
def test_fault_is_caught_with_the_kernels_reason(faults, policy, kind, reason):
    _, _, _, runs, metrics = faults
    run = runs[policy]
    assert run["valid"] is False and run["ejected"] is True
    assert run["exit_info"]["kind_name"] == kind
    assert run["exit_info"]["reason"] == reason
    assert run["kernel_exit_reason"] == reason
    assert any("ejected by the kernel" in r for r in run["invalid_reasons"])
    # the fair class took over and the workload went on
    assert run["sched_ext_at_end"] == "state=disabled ops=(none)"
    assert requests(metrics[policy]) > 0


def test_dispatch_hang_starves_the_watchdog(faults):
    # A dispatch that spins with the runqueue lock held keeps the watchdog's own work from
    # running, and the scheduler tick ejects the policy for that ("watchdog failed to check in",
    # what the kernel said here); if the watchdog gets a turn first it names a stalled task.
    run = faults[3]["faulty-hang"]
    assert run["exit_info"]["stats"]["fault_injected"] > 0
    assert re.search(r"watchdog failed to check in|failed to run for", run["exit_info"]["msg"])


def test_guest_survives_every_fault(faults):
    proc, d, m, runs, _ = faults
    assert proc.returncode != 0 and d.name.endswith("-INVALID")
    # the cfs run came after all four ejections, in the same boot, and is valid
    assert m["factors"]["run_order"][-1] == "cfs"
    assert runs["cfs"]["valid"] is True
    assert m["summary"]["cfs"]["valid_runs"] == 1
    assert "guest-done" in (d / "raw" / "console.log").read_text()


def test_sysrq_was_injected_during_the_measurement(faults):
    run = faults[3]["fifo-sysrq"]
    assert 1.5 <= run["injected_sysrq_s_at"] <= 4
    assert run["left_charge_after_s"] >= run["injected_sysrq_s_at"]
