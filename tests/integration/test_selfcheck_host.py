"""TARGET=host, proven here: `make selfcheck-host` boots the sched_ext guest, runs scxlab's own host
runner inside it with TARGET=host (compare cfs and fifo on nginx, fifo in a cgroup tree, faulty until
the kernel ejects it, fifo interrupted with SIGINT), and brings the inner results back. Each inner
result is read here again, as any result is (analysis.loader, strict), and the agent's record of
the machine after each check must show it as it was found."""
import json
import pathlib
import sys

import pytest

from conftest import REPO, load, make, result_dir

sys.path.insert(0, str(REPO))
from analysis.loader import load_result  # noqa: E402


@pytest.fixture(scope="module")
def selfcheck(results_root):
    proc = make("selfcheck-host", "DURATION=3", results=results_root, timeout=600)
    folder = result_dir(proc)
    return proc, folder, load(folder / "selfcheck.json")


def test_selfcheck_passes_and_prints_its_folder_last(selfcheck):
    proc, folder, doc = selfcheck
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert folder.name.endswith("-selfcheck-host"), folder
    assert not (folder / "INVALID").exists()
    assert doc["checks_total"] == 4 and doc["checks_passed"] == 4
    assert (folder / "raw/console.log").is_file() and (folder / "raw/plan.ini").is_file()


def test_compare_cfs_fifo_on_the_host_target_is_valid(selfcheck):
    _, folder, doc = selfcheck
    chk = doc["checks"][0]
    assert chk["args"][chk["args"].index("--policies") + 1] == "cfs fifo"
    res = load_result(folder / "inner" / chk["result"], strict=True)
    m = res.manifest
    assert m["valid"] is True and m["factors"]["target"] == "host" and m["factors"]["clock"] == "real"
    # TARGET=host on the guest's own kernel: emulated after all when that machine is a TCG guest
    tcg = "QEMU TCG" in m["host"]["cpu_model"]
    assert m["emulated"].startswith("yes: ran on this host's own kernel" if tcg else "no: ran on the host's own kernel")
    assert sorted(r.policy for r in res.runs) == ["cfs", "fifo"] and all(r.valid for r in res.runs)
    fifo = next(r for r in res.runs if r.policy == "fifo")
    assert fifo.info["ops_seen"] == "fifo"                         # the in-charge check ran
    assert fifo.metrics["requests_per_sec"].value > 0
    assert "perf_stat" in fifo.info["monitors"]                     # the always-on monitors ran
    assert (fifo.dir / "raw/schedstat-before.txt").is_file()
    # the run's kernel log is its own: the host's log is read, not cleared
    assert (fifo.dir / "raw/dmesg.txt").is_file()


def test_cgroup_tree_run_is_valid_with_its_tree_recorded(selfcheck):
    _, folder, doc = selfcheck
    chk = doc["checks"][1]
    assert "--cgroups" in chk["args"]
    res = load_result(folder / "inner" / chk["result"], strict=True)
    assert res.manifest["valid"] is True
    assert res.manifest["factors"]["cgroups"]["name"] == "deep4-2to1"
    (run,) = res.runs
    shares = run.info["cgroups"]["instances"]
    assert [i["cgroup"] for i in shares] == ["l1/l2/l3/high", "l1/l2/l3/low"]
    assert all(i["usage_usec"] > 0 for i in shares)
    assert abs(sum(i["achieved_share"] for i in shares) - 1) < 1e-6


def test_ejection_on_the_host_target_is_invalid_with_the_kernels_reason(selfcheck):
    _, folder, doc = selfcheck
    chk = doc["checks"][2]
    assert chk["exit_code"] == 1 and chk["result"].endswith("-INVALID")
    res = load_result(folder / "inner" / chk["result"], strict=True)
    assert res.manifest["valid"] is False
    (run,) = res.runs
    assert run.info["ejected"] is True and run.valid is False
    assert run.info["exit_info"]["kind_name"] == "ERROR_BPF"
    assert "injected fault" in run.info["exit_info"]["msg"]
    assert run.info["kernel_exit_reason"]
    # the kernel's own word, from the host's log read since the run began (not cleared)
    assert any("disabled" in line for line in run.info["kernel_sched_ext_messages"])
    assert any("ejected by the kernel" in r for r in run.invalid_reasons)
    assert (folder / "inner" / chk["result"] / "INVALID").is_file()


def test_interrupted_run_is_invalid_and_torn_down(selfcheck):
    _, folder, doc = selfcheck
    chk = doc["checks"][3]
    assert chk["interrupted_at_s"] is not None and chk["exit_code"] == 1
    res = load_result(folder / "inner" / chk["result"], strict=True)
    assert res.manifest["valid"] is False
    assert any("interrupted" in r for r in res.manifest["invalid_reasons"])
    (run,) = res.runs
    assert any("interrupted by signal 15 during the measurement" in r for r in run.invalid_reasons), run.invalid_reasons
    assert run.info.get("exit_info") is not None                    # the loader was stopped, not killed


def test_host_left_as_found_after_every_check(selfcheck):
    _, _, doc = selfcheck
    for chk in doc["checks"]:
        assert chk["host_clean"] is True and chk["leftovers"] == [], chk
        assert chk["sched_ext_state_after"] == "disabled"
        assert chk["passed"] is True
