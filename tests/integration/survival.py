"""Every sched_ext policy of scxlab (its own, the kernel's examples) survives 30 s of CPU and
fork stress without being ejected: 30 s is the kernel watchdog's timeout, so a policy that leaves
a runnable task behind is caught. The policies are split over the test_survival_*.py files so that
pytest's workers (tests/run-all's --dist loadfile keeps each file on one worker) share them: each
file boots its own guest and runs its part of the list in it."""
import configparser

from conftest import REPO, load, make, result_dir

# the default VM's policies are split in this many parts (test_survival_1.py, test_survival_2.py)
PARTS = 2


def policy_configs():
    for path in sorted((REPO / "configs/policies").glob("*.ini")):
        cfg = configparser.ConfigParser()
        cfg.read(path)
        yield path.stem, cfg


def real_policies(needs_smt):
    """Every sched_ext policy of scxlab that is not a test fixture, split by whether it needs SMT."""
    names = []
    for name, cfg in policy_configs():
        p = cfg["policy"]
        if p.get("kind") != "scx" or p.get("description", "").startswith("Test only"):
            continue
        smt = cfg.has_section("requires") and int(cfg["requires"].get("threads_per_core", "1")) > 1
        if smt == needs_smt:
            names.append(name)
    return names


def part(names, k, parts=PARTS):
    """The k-th (1-based) of parts interleaved slices of names: every name in exactly one."""
    return names[k - 1::parts]


def check_survives(results_root, policies, vm=None):
    args = ["compare", f"POLICIES={' '.join(policies)}", "WORKLOAD=stress", "DURATION=30"]
    if vm:
        args.append(f"VM={vm}")
    proc = make(*args, results=results_root, timeout=1800)
    d = result_dir(proc)
    m = load(d / "manifest.json")
    assert sorted(m["factors"]["policies"]) == sorted(policies)
    bad = {e["policy"]: e["invalid_reasons"] for e in m["runs"] if not e["valid"]}
    assert not bad, f"policies ejected or failed under load: {bad}"
    for e in m["runs"]:
        run = load(d / e["dir"] / "run.json")
        assert run["ejected"] is False and run["measure_s"] >= 30
    assert proc.returncode == 0
