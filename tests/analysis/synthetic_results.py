"""Builders of small synthetic result directories with known answers, in the format the runner writes
(README.md, "What a run produces"): manifest.json, runs/NNN-policy/{run.json,metrics.json},
reproduce.sh. No guest is booted; these tests take seconds."""
import copy
import json
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]

FACTORS = {
    "workload": "nginx",
    "workload_params": {"port": "8080", "threads": "2", "connections": "32"},
    "headline_metric": "requests_per_sec",
    "policies": [], "policy_configs": {}, "run_order": [],
    "duration_s": 5, "warmup_s": 2, "repeats": 1,
    "clock": "virtual", "clock_qemu": {"accel": "tcg,thread=single", "icount": "shift=3,sleep=off"},
    "target": "vm",
    "vm": {"vcpus": 2, "threads_per_core": 1, "memory_mb": 2048, "qemu_version": "QEMU 10.0.13",
           "cpu": "max", "image": "/var/cache/scxlab/image-aaaa"},
    "kernel_release": "7.3.4+deb13-cloud-amd64",
    "kconfig_sha256": "ab" * 32,
    "monitors": ["perf stat -a (software events)"],
}
POLICY_CONFIGS = {"cfs": {"kind": "cfs"}, "fifo": {"kind": "scx", "loader": "fifo", "args": ""},
                  "cgfifo": {"kind": "scx", "loader": "cgfifo", "args": ""},
                  "faulty": {"kind": "scx", "loader": "faulty", "args": "--fault error"}}


def nginx_metrics(rps, latency_scale=1.0):
    """The metrics nginx's client reports, derived from one requests/s number."""
    lat = 20000.0 * latency_scale
    return [
        {"name": "requests_per_sec", "unit": "req/s", "value": rps, "higher_is_better": True},
        {"name": "latency_p50_us", "unit": "us", "value": lat, "higher_is_better": False},
        {"name": "latency_p90_us", "unit": "us", "value": lat * 1.3, "higher_is_better": False},
        {"name": "latency_p99_us", "unit": "us", "value": lat * 1.6, "higher_is_better": False},
        {"name": "latency_max_us", "unit": "us", "value": lat * 2.5, "higher_is_better": False},
        {"name": "errors", "unit": "count", "value": 0, "higher_is_better": False},
    ]


def write_result(root, run_id, runs, factors=None, command=None, valid=None, guest=None):
    """runs: list of dicts {policy, metrics (list, or a number = requests/s), valid=True,
    perf={...}, measure_s=5.0, cgroups=[(path, entitled, achieved) per instance]}. Returns the
    result directory."""
    f = copy.deepcopy(FACTORS)
    for k, v in (factors or {}).items():
        if isinstance(v, dict) and isinstance(f.get(k), dict):
            f[k].update(v)
        else:
            f[k] = v
    policies = []
    for r in runs:
        if r["policy"] not in policies:
            policies.append(r["policy"])
    f["policies"] = policies
    f["run_order"] = [r["policy"] for r in runs]
    f.setdefault("policy_configs", {})
    for p in policies:
        f["policy_configs"].setdefault(p, POLICY_CONFIGS.get(p, {"kind": "scx", "loader": p}))
    all_valid = all(r.get("valid", True) for r in runs)
    d = pathlib.Path(root) / (run_id + ("" if all_valid else "-INVALID"))
    entries = []
    for i, r in enumerate(runs, 1):
        rdir = f"runs/{i:03d}-{r['policy']}"
        (d / rdir / "raw").mkdir(parents=True)
        ok = r.get("valid", True)
        reasons = [] if ok else ["policy was ejected by the kernel"]
        metrics = r["metrics"]
        if not isinstance(metrics, list):
            metrics = nginx_metrics(float(metrics))
        info = {"index": i, "policy": r["policy"], "valid": ok, "invalid_reasons": reasons,
                "measure_s": r.get("measure_s", 5.0), "repeat": 1}
        if "perf" in r:
            info["monitors"] = {"perf_stat": r["perf"]}
        if "cgroups" in r:
            # As the guest agent records it: per instance its cgroup and entitled/achieved share.
            info["cgroups"] = {"tree": "pair", "cpu_controller": True, "instances": [
                {"instance": k, "cgroup": cg, "weight": 100, "entitled_share": ent, "usage_usec": 1000,
                 "achieved_share": ach} for k, (cg, ent, ach) in enumerate(r["cgroups"], 1)]}
        (d / rdir / "run.json").write_text(json.dumps(info))
        (d / rdir / "metrics.json").write_text(json.dumps({"metrics": metrics}))
        (d / rdir / "raw" / "client.log").write_text("wrk output\n")
        entries.append({"index": i, "policy": r["policy"], "dir": rdir, "valid": ok, "invalid_reasons": reasons})
    cmd = command or f"make compare POLICIES='{' '.join(policies)}' WORKLOAD={f['workload']} DURATION={f['duration_s']}"
    manifest = {"format": 1, "run_id": run_id, "valid": all_valid if valid is None else valid,
                "invalid_reasons": [] if all_valid else ["a run is invalid"], "command": cmd,
                "emulated": "yes: QEMU TCG guest", "factors": f,
                "guest": guest or {"kernel_release": f["kernel_release"], "kernel_version": "#1 SMP Debian 7.3.4-1"},
                "software": {"git_commit": "c0ffee" * 6 + "c0ff"}, "host": {"cpu_model": "AMD EPYC", "nproc": 2},
                "runs": entries}
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (d / "reproduce.sh").write_text("#!/bin/sh\nset -e\ncd \"${SCXLAB_REPO:-$(dirname \"$0\")/../..}\"\n"
                                    f"exec {cmd} CLOCK={f['clock']}\n")
    return d


def interleaved(cfs, other, policy="fifo", **extra):
    """Runs alternating cfs/other with the given requests/s values."""
    runs = []
    for a, b in zip(cfs, other):
        runs += [{"policy": "cfs", "metrics": a, **extra}, {"policy": policy, "metrics": b, **extra}]
    return runs


