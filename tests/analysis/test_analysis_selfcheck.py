"""`python3 -m analysis selfcheck DIR` (analysis/selfcheck.py) on synthetic selfcheck folders: every
inner result held to its check, the machine clean after each, a failure renames DIR -INVALID."""
import json

import pytest

from analysis import selfcheck
from synthetic_results import write_result

HOST = {"target": "host"}


def record(k, expect, result, args, exit_code, leftovers=()):
    return {"check": k, "expect": expect, "args": args, "exit_code": exit_code,
            "expected_exit_code": 0 if expect == "valid" else 1, "result": result, "wall_s": 10.0,
            "leftovers": list(leftovers), "host_clean": not leftovers, "passed": True,
            "interrupted_at_s": 8.0 if expect == "interrupted" else None, "sched_ext_state_after": "disabled"}


def make_folder(tmp_path, leftovers=(), compare_valid=True):
    folder = tmp_path / "20261202-000000-selfcheck-host"
    inner = folder / "inner"
    inner.mkdir(parents=True)
    runs = [{"policy": "cfs", "metrics": 1000.0}, {"policy": "fifo", "metrics": 1100.0, "valid": compare_valid}]
    a = write_result(inner, "20261202-000001-nginx-cfs+fifo", runs, factors=HOST)
    b = write_result(inner, "20261202-000002-nginx-fifo",
                     [{"policy": "fifo", "metrics": 900.0,
                       "cgroups": [("l1/l2/l3/high", 2 / 3, 0.6), ("l1/l2/l3/low", 1 / 3, 0.4)]}],
                     factors={**HOST, "cgroups": {"name": "deep4-2to1", "instances": [
                         {"cgroup": "l1/l2/l3/high", "params": "", "entitled_share": 2 / 3},
                         {"cgroup": "l1/l2/l3/low", "params": "", "entitled_share": 1 / 3}]}})
    c = write_result(inner, "20261202-000003-nginx-faulty", [{"policy": "faulty", "metrics": 10.0, "valid": False}],
                     factors=HOST)
    run = c / "runs/001-faulty/run.json"
    info = json.loads(run.read_text())
    info["exit_info"] = {"stage": "run", "kind": 1025, "kind_name": "ERROR_BPF", "reason": "scx_bpf_error", "msg": "injected fault", "ejected": True}
    run.write_text(json.dumps(info))
    d = write_result(inner, "20261202-000004-nginx-fifo", [{"policy": "fifo", "metrics": 5.0, "valid": False}],
                     factors=HOST)
    m = json.loads((d / "manifest.json").read_text())
    m["invalid_reasons"] = ["interrupted by signal 2"]
    (d / "manifest.json").write_text(json.dumps(m))
    base = ["run", "--target", "host", "--workload", "nginx"]
    checks = [record(1, "valid", a.name, base + ["--policies", "cfs fifo"], 0 if compare_valid else 1, leftovers),
              record(2, "valid", b.name, base + ["--policies", "fifo", "--cgroups", "deep4-2to1"], 0),
              record(3, "ejected", c.name, base + ["--policies", "faulty"], 1),
              record(4, "interrupted", d.name, base + ["--policies", "fifo"], 1)]
    (folder / "selfcheck.json").write_text(json.dumps({"format": 1, "checks_total": 4, "checks_passed": 4,
                                                       "checks": checks}))
    return folder


def test_every_check_holds(tmp_path, capsys):
    folder = make_folder(tmp_path)
    assert selfcheck.main(folder) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == str(folder)                     # the folder, as the last line
    assert folder.is_dir() and not (folder / "INVALID").exists()


def test_a_dirty_machine_fails_and_renames_the_folder(tmp_path, capsys):
    folder = make_folder(tmp_path, leftovers=["processes still running: nginx[12]"])
    assert selfcheck.main(folder) == 1
    out = capsys.readouterr()
    final = folder.with_name(folder.name + "-INVALID")
    assert out.out.splitlines()[-1] == str(final) and final.is_dir() and not folder.exists()
    assert "nginx[12]" in (final / "INVALID").read_text()
    assert "not left clean" in out.err


@pytest.mark.parametrize("break_it, says", [
    ("compare_invalid", "expected valid"),
    ("no_tree", "cgroup tree"),
    ("no_exit_info", "without the kernel's exit kind"),
    ("not_interrupted", "interrupted"),
    ("target_vm", "not 'host'"),
])
def test_each_expectation_is_checked(tmp_path, capsys, break_it, says):
    folder = make_folder(tmp_path, compare_valid=break_it != "compare_invalid")
    doc = json.loads((folder / "selfcheck.json").read_text())
    inner = folder / "inner"
    if break_it == "compare_invalid":
        doc["checks"][0]["exit_code"] = 0     # as if the runner had said so: the result still tells
    if break_it == "no_tree":
        m = inner / doc["checks"][1]["result"] / "manifest.json"
        j = json.loads(m.read_text())
        j["factors"]["cgroups"] = None
        m.write_text(json.dumps(j))
    if break_it == "no_exit_info":
        run = inner / doc["checks"][2]["result"] / "runs/001-faulty/run.json"
        info = json.loads(run.read_text())
        del info["exit_info"]
        run.write_text(json.dumps(info))
    if break_it == "not_interrupted":
        m = inner / doc["checks"][3]["result"] / "manifest.json"
        j = json.loads(m.read_text())
        j["invalid_reasons"] = ["a run is invalid"]
        m.write_text(json.dumps(j))
    if break_it == "target_vm":
        m = inner / doc["checks"][0]["result"] / "manifest.json"
        j = json.loads(m.read_text())
        j["factors"]["target"] = "vm"
        m.write_text(json.dumps(j))
    (folder / "selfcheck.json").write_text(json.dumps(doc))
    problems, _ = selfcheck.check(folder)
    assert any(says in p for p in problems), problems


def make_kvm_folder(tmp_path, accel="kvm", why="ACCEL=kvm"):
    """A selfcheck-kvm folder: one check, fifo on perf-pipe in a nested guest under KVM."""
    folder = tmp_path / "20261202-000000-selfcheck-kvm"
    inner = folder / "inner"
    inner.mkdir(parents=True)
    factors = {"target": "vm", "accel": accel, "clock": "real",
               "clock_qemu": {"accel": "kvm" if accel == "kvm" else "tcg,thread=multi", "icount": ""}}
    a = write_result(inner, "20261202-000001-perf-pipe-fifo", [{"policy": "fifo", "metrics": 40.0}], factors=factors)
    m = json.loads((a / "manifest.json").read_text())
    m["accelerator"] = {"kind": accel, "why": why, "kvm_probe": "KVM_RUN of a real-mode guest: out, hlt"}
    (a / "manifest.json").write_text(json.dumps(m))
    args = ["run", "--target", "vm", "--policies", "fifo", "--workload", "perf-pipe", "--vm", "nested",
            "--accel", "kvm", "--clock", "real"]
    (folder / "selfcheck.json").write_text(json.dumps({"format": 1, "checks_total": 1, "checks_passed": 1,
                                                       "checks": [record(1, "valid", a.name, args, 0)]}))
    return folder


def test_a_nested_kvm_check_holds(tmp_path, capsys):
    folder = make_kvm_folder(tmp_path)
    problems, lines = selfcheck.check(folder)
    assert problems == [] and len(lines) == 1


@pytest.mark.parametrize("accel, why, says", [
    ("tcg", "auto: no usable KVM, TCG instead", "asked for accel kvm"),   # a TCG fallback is no proof
    ("kvm", "auto: /dev/kvm runs a guest", "not as asked"),
])
def test_a_nested_check_not_run_under_kvm_as_asked_fails(tmp_path, capsys, accel, why, says):
    folder = make_kvm_folder(tmp_path, accel=accel, why=why)
    problems, _ = selfcheck.check(folder)
    assert any(says in p for p in problems), problems
    assert selfcheck.main(folder) == 1
    assert folder.with_name(folder.name + "-INVALID").is_dir()
