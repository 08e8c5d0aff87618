"""Builders of small synthetic result directories with known answers, in the format the runner writes
(README.md, "What a run produces"; the contract: schemas/README.md): manifest.json, summary.json,
runs/NNN-policy/{run.json,metrics.json}, raw/plan.ini, reproduce.sh. Every file satisfies the
schemas strictly (tests/analysis/test_schemas.py checks). No guest is booted; these tests take
seconds."""
import copy
import json
import pathlib
import statistics

REPO = pathlib.Path(__file__).resolve().parents[2]

FACTORS = {
    "workload": "nginx",
    "workload_params": {"port": "8080", "threads": "2", "connections": "32"},
    "headline_metric": "requests_per_sec",
    "policies": [], "policy_configs": {}, "run_order": [],
    "duration_s": 5, "warmup_s": 2, "repeats": 1,
    "clock": "virtual", "clock_qemu": {"accel": "tcg,thread=single", "icount": "shift=3,sleep=off"},
    "target": "vm",
    "vm": {"name": "default", "vcpus": 2, "threads_per_core": 1, "memory_mb": 2048, "qemu": "qemu-system-x86_64",
           "qemu_version": "QEMU 10.0.13", "cpu": "max", "kernel_cmdline": "console=ttyS0 root=/dev/vda",
           "image": "/var/cache/scxlab/image-aaaa"},
    "kernel_release": "7.3.4+deb13-cloud-amd64",
    "kconfig_sha256": "ab" * 32,
    "monitors": ["perf stat -a (software events)"],
}
POLICY_CONFIGS = {"cfs": {"kind": "cfs"}, "fifo": {"kind": "scx", "loader": "fifo", "args": ""},
                  "cgfifo": {"kind": "scx", "loader": "cgfifo", "args": ""},
                  "faulty": {"kind": "scx", "loader": "faulty", "args": "--fault error"}}
# A cgroup tree given only by name (factors={"cgroups": {"name": ...}}) gets the rest of its record.
CGROUP_TREE = {"cpu_controller": True, "weights": {}, "instances": []}
STARTED, FINISHED = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"
HOST = {"kernel": "6.18.0", "machine": "x86_64", "cpu_model": "AMD EPYC", "nproc": 2}
# The host fingerprint fields a runner since the fingerprint adds to manifest "host"
# (runners/common/fingerprint.c); write_result(..., host=FINGERPRINT) records them.
FINGERPRINT = {
    "cpu_flags": ["fpu", "vme", "sse2"],
    "cpu_flags_sha256": "6565e76e52ff8579fb006c3ce65764fab52d0e93cc51e495c570a74e00e86679",
    "microcode": "0xa0011d5", "governor": "performance", "smt_active": 1, "smt_control": "on",
    "thp": "madvise", "sched_sysctls": {"sched_autogroup_enabled": "1"},
    "cmdline": "BOOT_IMAGE=/vmlinuz root=/dev/sda1", "isolated_cpus": "",
    "load_start": {"loadavg": [0.5, 0.4, 0.3], "busy_processes": 1},
    "load_end": {"loadavg": [1.5, 0.9, 0.5], "busy_processes": 2},
}


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


def run_record(index, repeat, policy, config, ok, metrics, headline, r):
    """run.json as the guest agent writes it: a cfs run, or an scx run that detached (valid) or was
    ejected by the kernel (invalid)."""
    kind = config.get("kind", "scx")
    scx = kind == "scx"
    info = {"index": index, "repeat": repeat, "policy": policy, "kind": kind,
            "ops_expected": config.get("ops_name", config.get("loader", policy)) if scx else "",
            "started": STARTED, "finished": FINISHED, "monitors": {}, "valid": ok,
            "invalid_reasons": [] if ok else ["policy was ejected by the kernel"],
            "ejected": scx and not ok, "measure_s": r.get("measure_s", 5.0),
            "sched_ext_at_start": f"state=enabled ops={policy}" if scx else "state=disabled ops=(none)",
            "sched_ext_at_end": "state=enabled ops=" + policy if scx and ok else "state=disabled ops=(none)",
            "kernel_sched_ext_messages": []}
    if headline is not None:
        info["headline"] = {"name": headline["name"], "value": headline["value"]}
    if scx:
        reason, kind_no, kind_name = (("unregistered from user space", 64, "UNREG") if ok
                                      else ("runtime error", 1024, "ERROR"))
        info.update({"loader_command": f"/job/bin/{policy}", "load_s": 0.5, "ops_seen": info["ops_expected"],
                     "loader_exit_code": 0 if ok else 1, "loader_signal": None, "loader_crashed": False,
                     "kernel_exit_reason": reason, "kernel_exit_kind": kind_no, "kernel_exit_kind_name": kind_name,
                     "kernel_sched_ext_messages": [f'<6>[   10.0] sched_ext: BPF scheduler "{policy}" disabled ({reason})']})
        if not ok:
            info.update({"left_charge_phase": "measurement", "left_charge_after_s": 1.0})
    if "window" in r:
        info["window"] = r["window"]
    if "perf" in r:
        info["monitors"] = {"perf_stat": r["perf"]}
    if "schedstat" in r:
        info["monitors"]["schedstat"] = r["schedstat"]
    if "cgroups" in r:
        # As the guest agent records it: per instance its cgroup and entitled/achieved share.
        info["cgroups"] = {"tree": "pair", "cpu_controller": True, "instances": [
            {"instance": k, "cgroup": cg, "weight": 100, "entitled_share": ent, "usage_usec": 1000,
             "achieved_share": ach} for k, (cg, ent, ach) in enumerate(r["cgroups"], 1)]}
    return info


def summary_of(entries, policies, metric):
    """summary.json as runners/common/outcome.c computes it (null statistics without a valid run)."""
    out = {}
    for p in policies:
        mine = [e for e in entries if e["policy"] == p]
        v = [e["headline_value"] for e in mine if e["valid"] and "headline_value" in e]
        s = {"metric": metric, "valid_runs": len(v), "invalid_runs": len(mine) - len(v)}
        if v:
            mean = sum(v) / len(v)
            sd = statistics.stdev(v) if len(v) > 1 else 0.0
            s.update(mean=mean, sd=sd, cv=sd / abs(mean) if len(v) > 1 and mean else 0.0, min=min(v), max=max(v))
        else:
            s.update(mean=None, sd=None, cv=None, min=None, max=None)
        out[p] = s
    return out


def plan_ini(f, runs):
    """raw/plan.ini as experiment_plan() writes it."""
    lines = ["[plan]", f"workload = {f['workload']}", f"runs = {len(runs)}", f"duration = {f['duration_s']}",
             f"warmup = {f['warmup_s']}", "load_timeout = 60", f"clock = {f['clock']}", f"target = {f['target']}",
             "monitors = " + " ".join(m for m in f["monitors"] if m in ("bpf-stats", "sched-trace")),
             "policies = " + " ".join(f["policies"]), "precision_pct = 0", "min_repeats = 0", "",
             "[workload]", f"dir = workloads/{f['workload']}", "start = start.sh", "client = client.sh",
             "stop = stop.sh", f"headline = {f['headline_metric']}", "", "[workload.params]"]
    lines += [f"{k} = {v}" for k, v in f["workload_params"].items()]
    for i, (policy, repeat) in enumerate(runs, 1):
        c = f["policy_configs"][policy]
        scx = c.get("kind", "scx") == "scx"
        lines += ["", f"[run.{i}]", f"policy = {policy}", f"kind = {c.get('kind', 'scx')}",
                  f"ops_name = {c.get('ops_name', c.get('loader', policy)) if scx else ''}",
                  f"loader = {'bin/' + c.get('loader', policy) if scx else ''}", "external = 0",
                  "sysrq_after_s = 0", f"args = {c.get('args', '')}", f"repeat = {repeat}"]
    return "\n".join(lines) + "\n"


def write_result(root, run_id, runs, factors=None, command=None, valid=None, guest=None, host=None, times=None):
    """runs: list of dicts {policy, metrics (list, or a number = requests/s), valid=True,
    perf={...}, schedstat={...} (run.json's monitors.schedstat), measure_s=5.0, window={...} (run.json's
    window; absent: a legacy run),
    cgroups=[(path, entitled, achieved) per instance]}. host: fields added to (or replacing)
    manifest "host", e.g. FINGERPRINT. times: fields added to manifest "times" (e.g. phases_s).
    Returns the result directory."""
    f = copy.deepcopy(FACTORS)
    for k, v in (factors or {}).items():
        if isinstance(v, dict) and isinstance(f.get(k), dict):
            f[k].update(v)
        else:
            f[k] = v
    if isinstance(f.get("cgroups"), dict):
        for k, v in CGROUP_TREE.items():
            f["cgroups"].setdefault(k, copy.deepcopy(v))
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
    entries, repeats = [], []
    for i, r in enumerate(runs, 1):
        rdir = f"runs/{i:03d}-{r['policy']}"
        (d / rdir / "raw").mkdir(parents=True)
        ok = r.get("valid", True)
        metrics = r["metrics"]
        if not isinstance(metrics, list):
            metrics = nginx_metrics(float(metrics))
        headline = next((m for m in metrics if m["name"] == f["headline_metric"]), None)
        if ok and headline is None:
            raise ValueError(f"run {i}: a valid run needs the headline metric {f['headline_metric']}")
        repeat = sum(1 for x in runs[:i] if x["policy"] == r["policy"])
        repeats.append((r["policy"], repeat))
        info = run_record(i, repeat, r["policy"], f["policy_configs"][r["policy"]], ok, metrics, headline, r)
        (d / rdir / "run.json").write_text(json.dumps(info))
        (d / rdir / "metrics.json").write_text(json.dumps({"metrics": metrics}))
        (d / rdir / "raw" / "client.log").write_text("wrk output\n")
        entry = {"index": i, "policy": r["policy"], "dir": rdir, "valid": ok,
                 "invalid_reasons": info["invalid_reasons"], "ejected": info["ejected"]}
        if "ops_seen" in info:
            entry["ops_seen"] = info["ops_seen"]
        if headline is not None:
            entry["headline_value"] = headline["value"]
        entries.append(entry)
    summary = summary_of(entries, policies, f["headline_metric"])
    cmd = command or f"make compare POLICIES='{' '.join(policies)}' WORKLOAD={f['workload']} DURATION={f['duration_s']}"
    ok = all_valid if valid is None else valid
    manifest = {"format": 1, "run_id": run_id, "valid": ok,
                "invalid_reasons": [] if ok else ["a run is invalid" if not all_valid else "the experiment failed"],
                "command": cmd, "emulated": "yes: QEMU TCG guest", "factors": f,
                "guest": guest or {"kernel_release": f["kernel_release"], "kernel_version": "#1 SMP Debian 7.3.4-1"},
                "software": {"git_commit": "c0ffee" * 6 + "c0ff", "git_dirty": False,
                             "image_packages": {"linux-perf": "7.3.4-1~bpo13+1"},
                             "tools_packages": {"qemu-system-x86": "1:10.0.13+ds-0+deb13u1"}},
                "host": {**HOST, **copy.deepcopy(host or {})},
                "times": {"started": STARTED, "finished": FINISHED, "wall_s": 300.0, "boot_s": 10.0, **(times or {})},
                "summary": summary, "runs": entries}
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (d / "summary.json").write_text(json.dumps(summary, indent=2))
    (d / "raw").mkdir(exist_ok=True)
    (d / "raw" / "plan.ini").write_text(plan_ini(f, repeats))
    (d / "reproduce.sh").write_text("#!/bin/sh\nset -e\ncd \"${SCXLAB_REPO:-$(dirname \"$0\")/../..}\"\n"
                                    f"exec {cmd} CLOCK={f['clock']}\n")
    return d


def interleaved(cfs, other, policy="fifo", **extra):
    """Runs alternating cfs/other with the given requests/s values."""
    runs = []
    for a, b in zip(cfs, other):
        runs += [{"policy": "cfs", "metrics": a, **extra}, {"policy": policy, "metrics": b, **extra}]
    return runs




def claim_section(cid, **keys):
    """One [claim <cid>] section of a paper's claims.ini (keys as analysis/paper.py reads them);
    title, claim and source get placeholder text unless given."""
    keys = {"title": cid, "claim": f"{cid} is claimed.", "source": "a test", "kind": "ratio", **keys}
    return f"[claim {cid}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"


PERF_COSTS = {"context-switches": 5000.0, "cpu-migrations": 20.0, "task-clock": 9000.0}


def interleaved_nginx(values, perf=PERF_COSTS):
    """Rounds of runs, one per policy each: {policy: [requests/s per round]}, with nginx's
    metrics (latency inversely proportional to the rate) and perf stat costs."""
    n = len(next(iter(values.values())))
    return [{"policy": p, "metrics": nginx_metrics(v[k], latency_scale=1000 / v[k]), "perf": perf}
            for k in range(n) for p, v in values.items()]
