"""POLICY=external:/path [args]: any sched_ext binary, with the same checks. scxlab's own loaders
serve as the external binaries here (run without scxlab's loader options)."""
import hashlib
import subprocess
import shutil

from conftest import REPO, load, make, result_dir


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_external_scheduler_runs_and_is_recorded(results_root):
    binary = REPO / "build/schedulers/fifo/fifo"
    proc = make("experiment", f"POLICY=external:{binary} --slice-us 5000", "WORKLOAD=nginx", "DURATION=3",
                results=results_root)
    assert proc.returncode == 0, proc.stderr
    d = result_dir(proc)
    m = load(d / "manifest.json")
    [name] = m["factors"]["policies"]
    assert name.startswith("ext-fifo-") and len(name) == len("ext-fifo-") + 8
    conf = m["factors"]["policy_configs"][name]
    assert conf["loader"] == str(binary) and conf["args"] == "--slice-us 5000"
    assert conf["sha256"] == sha256(binary)
    run = load(d / m["runs"][0]["dir"] / "run.json")
    assert run["valid"] is True
    assert run["ops_seen"] == "fifo"                      # learnt from the kernel, not from a config
    assert "--exit-info" not in run["loader_command"]     # no scxlab options for a foreign binary
    assert "--slice-us 5000" in run["loader_command"]
    assert "external:" in (d / "reproduce.sh").read_text()
    # the kept script reruns the same policy, arguments included: with DURATION=0 the runner reads the
    # policy whole and then refuses only the duration (an external policy cut at its arguments would
    # be refused first)
    rerun = subprocess.run(["sh", str(d / "reproduce.sh"), "DURATION=0", f"RESULTS={results_root}"], cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode != 0
    assert "DURATION" in rerun.stderr and "policy" not in rerun.stderr.split("error:")[-1], rerun.stderr


def test_external_scheduler_ejection_is_caught(results_root):
    binary = REPO / "build/schedulers/faulty/faulty"
    proc = make("experiment", f"POLICY=external:{binary} --fault error --after-ms 5000", "WORKLOAD=nginx",
                "DURATION=8", results=results_root)
    assert proc.returncode != 0
    d = result_dir(proc)
    assert d.name.endswith("-INVALID")
    m = load(d / "manifest.json")
    run = load(d / m["runs"][0]["dir"] / "run.json")
    assert run["ejected"] is True
    assert run["kernel_exit_reason"] == "scx_bpf_error"
    assert run["kernel_exit_kind"] == 1025 and run["kernel_exit_kind_name"] == "ERROR_BPF"
    phase = run["left_charge_phase"]
    assert phase in ("warm-up", "measurement"), phase
    assert any(r.startswith("the kernel says: scheduler disabled (scx_bpf_error), exit kind ERROR_BPF")
               and f"s into the {phase}" in r for r in run["invalid_reasons"]), run["invalid_reasons"]


def test_external_binary_must_exist(results_root):
    proc = make("experiment", "POLICY=external:/nonexistent/scx_x", results=results_root, timeout=300)
    assert proc.returncode != 0
    assert "/nonexistent/scx_x is not an executable file" in proc.stderr


def test_external_same_file_name_and_crash(results_root, tmp_path):
    """Two different binaries with one file name run as two policies, each the right binary;
    a loader that dies of SIGSEGV is reported as a crash, and its policy has no mean."""
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for d in (a, b, c):
        d.mkdir()
    shutil.copy(REPO / "build/schedulers/fifo/fifo", a / "scx_t")
    shutil.copy(REPO / "build/schedulers/qmap/qmap", b / "scx_t")
    crash = c / "scx_crash"
    crash.write_text("#!/bin/sh\necho about to crash\nkill -SEGV $$\n")
    crash.chmod(0o755)
    pols = f"external:{a}/scx_t;external:{b}/scx_t;external:{crash}"
    proc = make("compare", f"POLICIES={pols}", "WORKLOAD=nginx", "DURATION=3", results=results_root)
    assert proc.returncode != 0, proc.stderr
    d = result_dir(proc)
    assert d.name.endswith("-INVALID")
    check_same_name_and_crash(d, a, b)


def check_same_name_and_crash(d, a, b):
    m = load(d / "manifest.json")
    names = m["factors"]["policies"]
    assert len(set(names)) == 3
    assert names[0].startswith("ext-scx_t-") and names[1].startswith("ext-scx_t-")
    confs = m["factors"]["policy_configs"]
    assert confs[names[0]]["sha256"] == sha256(a / "scx_t")
    assert confs[names[1]]["sha256"] == sha256(b / "scx_t")
    runs = {r["policy"]: load(d / r["dir"] / "run.json") for r in m["runs"]}
    # each ran its own binary: the kernel saw two different schedulers
    assert runs[names[0]]["valid"] is True and runs[names[0]]["ops_seen"] == "fifo"
    assert runs[names[1]]["valid"] is True and runs[names[1]]["ops_seen"] == "qmap"
    bad = runs[names[2]]
    assert bad["valid"] is False
    assert bad["loader_crashed"] is True and bad["loader_signal"] == "SIGSEGV"
    assert bad["loader_exit_code"] == 139
    reasons = " | ".join(bad["invalid_reasons"])
    assert "failed to load: its loader crashed with SIGSEGV (exit 139)" in reasons
    assert "raw/loader.log" in reasons and "exit-info.json" not in reasons
    summary = load(d / "summary.json")
    assert summary[names[2]]["valid_runs"] == 0
    for key in ("mean", "sd", "cv", "min", "max"):
        assert summary[names[2]][key] is None
    assert summary[names[0]]["mean"] > 0
