"""ACCEL=kvm, proven here: `make selfcheck-kvm` boots the sched_ext guest under TCG (which shows it
AMD SVM, so kvm_amd loads and /dev/kvm works inside it), and scxlab inside it runs one short
experiment with TARGET=vm ACCEL=kvm: a nested sched_ext guest under that /dev/kvm, fifo on perf-pipe.
The inner result is brought back and read here again, as any result is (analysis.loader, strict),
and must say that KVM ran it, as asked, with the policy in charge.

Slow (a nested boot under an emulated KVM): marked `slow`, so `pytest -m "not slow"` leaves it out."""
import re
import sys

import pytest

from conftest import REPO, load, make, result_dir

sys.path.insert(0, str(REPO))
from analysis.loader import load_result  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def selfcheck(results_root):
    proc = make("selfcheck-kvm", "DURATION=3", results=results_root, timeout=3600)
    folder = result_dir(proc)
    return proc, folder, load(folder / "selfcheck.json")


def test_selfcheck_passes_and_prints_its_folder_last(selfcheck):
    proc, folder, doc = selfcheck
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert folder.name.endswith("-selfcheck-kvm"), folder
    assert not (folder / "INVALID").exists()
    assert doc["checks_total"] == 1 and doc["checks_passed"] == 1
    (chk,) = doc["checks"]
    assert chk["passed"] is True and chk["exit_code"] == 0 and chk["host_clean"] is True
    # the outer guest ran under TCG with -cpu max and booted the nested one with its fourth disk
    qemu = (folder / "raw/qemu-command.txt").read_text()
    assert "-accel tcg,thread=multi" in qemu and "-cpu max" in qemu
    assert re.search(r"rootfs\.ext4,if=virtio,format=raw,snapshot=on.*rootfs\.ext4,if=virtio,format=raw,snapshot=on",
                     qemu)


def test_the_nested_guest_ran_under_kvm_with_the_policy_in_charge(selfcheck):
    _, folder, doc = selfcheck
    (chk,) = doc["checks"]
    args = chk["args"]
    assert args[args.index("--target") + 1] == "vm" and args[args.index("--accel") + 1] == "kvm"
    res = load_result(folder / "inner" / chk["result"], strict=True)
    m = res.manifest
    assert m["valid"] is True and m["factors"]["target"] == "vm"
    assert m["factors"]["accel"] == "kvm" and m["accelerator"]["kind"] == "kvm"
    assert m["accelerator"]["why"] == "ACCEL=kvm"                  # asked for, not a fallback
    assert m["factors"]["clock"] == "real" and m["factors"]["clock_qemu"]["accel"] == "kvm"
    assert m["factors"]["vm"]["vcpus"] == 1
    # the nested QEMU was started with KVM, and its guest was one vCPU doing KVM_RUN
    inner_qemu = (res.path / "raw/qemu-command.txt").read_text()
    assert "-accel kvm" in inner_qemu and "-cpu host" in inner_qemu
    (run,) = res.runs
    assert run.policy == "fifo" and run.valid and run.info["ops_seen"] == "fifo"
    assert run.metrics["usecs_per_op"].value > 0


def test_the_nested_kernel_says_it_runs_on_kvm(selfcheck):
    """Independent of what the runner recorded: the nested guest's own kernel log."""
    _, folder, doc = selfcheck
    res = load_result(folder / "inner" / doc["checks"][0]["result"], strict=True)
    logs = [p.read_text(errors="replace") for p in res.path.rglob("dmesg*.txt")]
    assert logs, "the inner result keeps no kernel log"
    assert any("Hypervisor detected: KVM" in t for t in logs)
