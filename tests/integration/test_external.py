"""POLICY=external:/path [args]: any sched_ext binary, with the same checks. scxlab's own loaders
serve as the external binaries here (run without scxlab's loader options)."""
from conftest import REPO, load, make, result_dir


def test_external_scheduler_runs_and_is_recorded(results_root):
    binary = REPO / "build/schedulers/fifo/fifo"
    proc = make("experiment", f"POLICY=external:{binary} --slice-us 5000", "WORKLOAD=nginx", "DURATION=3",
                results=results_root)
    assert proc.returncode == 0, proc.stderr
    d = result_dir(proc)
    m = load(d / "manifest.json")
    assert m["factors"]["policies"] == ["external-fifo"]
    conf = m["factors"]["policy_configs"]["external-fifo"]
    assert conf["loader"] == str(binary) and conf["args"] == "--slice-us 5000"
    run = load(d / m["runs"][0]["dir"] / "run.json")
    assert run["valid"] is True
    assert run["ops_seen"] == "fifo"                      # learnt from the kernel, not from a config
    assert "--exit-info" not in run["loader_command"]     # no scxlab options for a foreign binary
    assert "--slice-us 5000" in run["loader_command"]
    assert "external:" in (d / "reproduce.sh").read_text()


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
    assert any("the kernel says: scheduler disabled (scx_bpf_error)" in r for r in run["invalid_reasons"])


def test_external_binary_must_exist(results_root):
    proc = make("experiment", "POLICY=external:/nonexistent/scx_x", results=results_root, timeout=300)
    assert proc.returncode != 0
    assert "/nonexistent/scx_x is not an executable file" in proc.stderr
