"""A sweep's points come from its record (sweep.json), never from listing its folder: a point
retried after an invalid or interrupted attempt counts once, with its valid result only, and a
point without a valid result is reported as missing. No guest is booted."""
import json

import pytest

from analysis import overhead, weights
from analysis.sweep import read_sweep
from synthetic_results import write_result
from synthetic_sweep import write_sweep
from test_analysis_cli import cli


def weight_point(root, run_id, depth, ratio, achieved, thr=(10.0, 11.0), invalid=False):
    """One weight-sweep point's result: cfs and cgfifo, 3 rounds, the high instance at `achieved`
    under cgfifo. invalid: the last run was ejected (the result is -INVALID, as after a killed QEMU)."""
    ent = ratio / (ratio + 1)
    runs = []
    for rep in range(3):
        for policy, t, ach in (("cfs", thr[0], ent), ("cgfifo", thr[1], achieved)):
            runs.append({"policy": policy, "metrics": t, "cgroups": [("l1/low", 1 - ent, 1 - ach), ("l1/high", ent, ach)]})
    if invalid:
        runs[-1]["valid"] = False
    return write_result(root, run_id, runs, factors={"cgroups": {"name": f"pair:{depth}:{ratio}"}})


@pytest.fixture
def retried_sweep(tmp_path):
    """depth=1 valid at once; depth=2 interrupted (INVALID, with 5 valid runs of other numbers)
    and then valid; depth=3 INVALID on its only attempt; depth=4 never run. Plus a stray result
    folder the record does not name."""
    a = weight_point(tmp_path, "20260101-000000-apache-cfs+cgfifo", 1, 2, 0.60)
    b_old = weight_point(tmp_path, "20260101-000100-apache-cfs+cgfifo", 2, 2, 0.10, thr=(99.0, 1.0), invalid=True)
    b = weight_point(tmp_path, "20260101-000200-apache-cfs+cgfifo", 2, 2, 0.65)
    c = weight_point(tmp_path, "20260101-000300-apache-cfs+cgfifo", 3, 2, 0.20, invalid=True)
    weight_point(tmp_path, "20260101-000400-apache-cfs+cgfifo", 1, 2, 0.01)  # stray: not in the record
    labels = [f"depth={d} ratio=2" for d in (1, 2, 3, 4)]
    write_sweep(tmp_path, {labels[0]: [a], labels[1]: [b_old, b], labels[2]: [c]}, analysis="weights",
                labels=labels, name="cgroup-weights")
    return tmp_path, {"a": a, "b_old": b_old, "b": b, "c": c}


def test_each_point_counts_once_with_its_valid_result_only(retried_sweep):
    d, res = retried_sweep
    sw = read_sweep(d)
    assert [(label, r.path.name) for label, r in sw.results] == [
        ("depth=1 ratio=2", res["a"].name), ("depth=2 ratio=2", res["b"].name)]
    doc = weights.weights(d)
    assert sorted({r["result"] for r in doc["rows"]}) == sorted([res["a"].name, res["b"].name])
    b_rows = [r for r in doc["rows"] if r["depth"] == 2]
    # Only the retry's 3 runs per policy: the superseded attempt's runs are neither pooled nor shown.
    assert [(r["policy"], r["runs"], r["invalid_runs"]) for r in b_rows] == [("cfs", 3, 0), ("cgfifo", 3, 0)]
    assert b_rows[1]["achieved_share"]["mean"] == pytest.approx(0.65) and b_rows[1]["vs_cfs"] == pytest.approx(1.1)


def test_points_without_a_valid_result_are_reported_missing(retried_sweep):
    d, res = retried_sweep
    md = weights.write(d)
    missing = {m["point"]: m for m in json.loads((d / "weights.json").read_text())["missing"]}
    assert set(missing) == {"depth=3 ratio=2", "depth=4 ratio=2"}
    assert missing["depth=4 ratio=2"]["reason"] == "not run yet"
    assert missing["depth=3 ratio=2"]["result"] == res["c"].name
    assert "not valid" in missing["depth=3 ratio=2"]["reason"] and "rerun" in missing["depth=3 ratio=2"]["reason"]
    assert "**Missing points** (2:" in md and "- depth=4 ratio=2: not run yet" in md
    assert res["b_old"].name not in md and res["c"].name + "`" not in md


def test_a_result_whose_manifest_is_invalid_is_missing_even_if_the_record_says_valid(tmp_path):
    bad = weight_point(tmp_path, "20260101-000000-apache-cfs+cgfifo", 1, 2, 0.6)
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["valid"] = False
    manifest["invalid_reasons"] = ["the guest stopped before it finished its plan"]
    (bad / "manifest.json").write_text(json.dumps(manifest))
    write_sweep(tmp_path, {"depth=1 ratio=2": [bad]})
    sw = read_sweep(tmp_path)
    assert sw.results == [] and "manifest does not" in sw.missing[0]["reason"]


def test_a_record_from_before_attempts_were_kept_is_read(tmp_path):
    """Old sweep.json: a path as result, no attempts, no point list; a false "valid" is missing."""
    a = weight_point(tmp_path, "20260101-000000-apache-cfs+cgfifo", 1, 2, 0.6)
    c = weight_point(tmp_path, "20260101-000100-apache-cfs+cgfifo", 2, 2, 0.6, invalid=True)
    (tmp_path / "sweep.json").write_text(json.dumps({"sweep": "cgroup-weights", "points": {
        "depth=1 ratio=2": {"result": str(a), "valid": True, "finished": "2026-01-01T00:00:00Z"},
        "depth=2 ratio=2": {"result": str(c), "valid": False, "finished": "2026-01-01T00:01:00Z"}}}))
    sw = read_sweep(tmp_path)
    assert [r.path for _, r in sw.results] == [a]
    assert [m["point"] for m in sw.missing] == ["depth=2 ratio=2"]


def test_overhead_reads_the_record_too(tmp_path):
    runs = [{"policy": p, "metrics": v} for p, v in [("cfs", 100), ("fifo", 120)] * 3]
    stale = write_result(tmp_path, "20260101-000000-nginx-cfs+fifo",
                         [{"policy": p, "metrics": v} for p, v in [("cfs", 100), ("fifo", 50)] * 3][:-1] +
                         [{"policy": "fifo", "metrics": 50, "valid": False}])
    good = write_result(tmp_path, "20260101-000100-nginx-cfs+fifo", runs)
    write_sweep(tmp_path, {"workload=nginx monitors=none": [stale, good]}, analysis="overhead",
                labels=["workload=nginx monitors=none", "workload=nginx monitors=bpf-stats"])
    doc = overhead.overhead(tmp_path)
    (row,) = doc["ratios"]
    assert row["result"] == good.name and row["ratio"] == pytest.approx(1.2) and row["runs"] == 3
    assert [m["point"] for m in doc["missing"]] == ["workload=nginx monitors=bpf-stats"]


def test_sweep_command_runs_what_the_sweep_declares(retried_sweep, tmp_path_factory):
    d, _ = retried_sweep
    p = cli("sweep", d)
    assert p.returncode == 0, p.stderr
    assert (d / "weights.md").is_file() and "| 1 | 2:1 | cfs |" in p.stdout and "wrote weights.md" in p.stderr

    other = tmp_path_factory.mktemp("smoke")
    write_sweep(other, {"depth=1 ratio=2": [None]}, analysis=None, name="smoke")
    p = cli("sweep", other)
    assert p.returncode == 0 and "declares no analysis" in p.stderr and p.stdout == ""
    assert sorted(x.name for x in other.iterdir()) == ["sweep.json"]

    write_sweep(other, {"depth=1 ratio=2": [None]}, analysis="bogus", name="smoke")
    p = cli("sweep", other)
    assert p.returncode == 2 and "'bogus'" in p.stderr and "weights, overhead" in p.stderr

    p = cli("weights", tmp_path_factory.mktemp("plain"))
    assert p.returncode == 2 and "not a sweep's folder" in p.stderr


def test_twins_set_each_policy_against_its_kernel_twin(tmp_path):
    """One boot with cfs, fifo and scx_simple (the twin pair differs: fifo 1.2x, scx_simple 1.0x
    cfs, with some spread) and a bpf-stats point: the pair's row has both ratios to cfs and fifo
    vs scx_simple near +20%, marked as differing; a policy without its twin gives no row; the
    bpf-stats point gives callback costs; a missing point is listed."""
    from analysis import twins
    runs = []
    for rep, (c, f, s) in enumerate([(100, 120, 100), (101, 122, 99), (99, 119, 101), (100, 121, 100)]):
        runs += [{"policy": "cfs", "metrics": c}, {"policy": "fifo", "metrics": f},
                 {"policy": "scx_simple", "metrics": s}, {"policy": "qmap", "metrics": 100}]
    a = write_result(tmp_path, "20260101-000000-nginx-cfs+fifo+scx_simple+qmap", runs)
    cost_runs = []
    for p, rt, cnt in (("fifo", 1000, 10), ("scx_simple", 3000, 10)):
        cost_runs.append({"policy": p, "metrics": 100})
    b = write_result(tmp_path, "20260101-000100-nginx-fifo+scx_simple", cost_runs,
                     factors={"monitors": ["bpf-stats"]})
    for rd, (name, rt) in zip(sorted((b / "runs").iterdir()), (("fifo_enqueue", 1000), ("simple_enqueue", 3000))):
        info = json.loads((rd / "run.json").read_text())
        info.setdefault("monitors", {})["bpf_prog_stats"] = {name: {"run_time_ns": rt, "run_cnt": 10, "ns_per_run": rt / 10}}
        (rd / "run.json").write_text(json.dumps(info))
    write_sweep(tmp_path, {"workload=nginx": [a], "workload=nginx monitors=bpf-stats": [b]}, analysis="twins",
                labels=["workload=nginx", "workload=nginx monitors=bpf-stats", "workload=perf-pipe"])
    doc = twins.twins(tmp_path)
    (row,) = doc["rows"]
    assert (row["ours"], row["kernel"], row["runs"], row["kernel_runs"]) == ("fifo", "scx_simple", 4, 4)
    assert row["ours_vs_cfs"]["ratio"] == pytest.approx(1.205, abs=0.01) and row["ours_vs_cfs"]["significant"]
    assert row["kernel_vs_cfs"]["ratio"] == pytest.approx(1.0, abs=0.01) and not row["kernel_vs_cfs"]["significant"]
    vs = row["ours_vs_kernel"]
    assert vs["ratio"] == pytest.approx(1.205, abs=0.01) and vs["significant"] and vs["ci_low"] > 1
    costs = doc["callback_ns"]["nginx"]
    assert costs["fifo"]["fifo_enqueue"]["ns_per_run"] == 100 and costs["scx_simple"]["simple_enqueue"]["ns_per_run"] == 300
    assert [m["point"] for m in doc["missing"]] == ["workload=perf-pipe"]
    md = twins.write(tmp_path)
    assert "| nginx | requests_per_sec (higher is better) | fifo | scx_simple | 4 vs 4 |" in md and "**differs**" in md
    assert "| nginx | fifo | - | 100 (10) | - | - | - | 100 (10) |" in md
    assert (tmp_path / "twins.json").is_file() and "emulated" in md


def test_cost_points_of_one_workload_share_a_row_block_unless_a_policy_repeats():
    """pair/scx_pair's costs come from a boot of their own (the smt shape): they join the same
    workload's block; a second result that repeats a policy is named by its id, never merged."""
    from analysis import twins
    costs = {}
    twins._add_costs(costs, "nginx", "a", {"fifo": {"fifo_enqueue": {"run_time_ns": 500, "run_cnt": 5}},
                                          "scx_simple": {}})
    twins._add_costs(costs, "nginx", "b", {"pair": {}, "scx_pair": {}})
    twins._add_costs(costs, "nginx", "c", {"fifo": {}})
    twins._add_costs(costs, "apache (deep4-2to1)", "d", {"pair": {}})
    assert set(costs["nginx"]) == {"fifo", "scx_simple", "pair", "scx_pair"}
    assert set(costs["nginx (`c`)"]) == {"fifo"} and set(costs["apache (deep4-2to1)"]) == {"pair"}
    head, rows = twins.cost_table(costs)
    assert [r[1] for r in rows if r[0] == "nginx"] == ["fifo", "scx_simple", "pair", "scx_pair"]
    assert next(r for r in rows if r[0] == "nginx")[:4] == ["nginx", "fifo", "-", "100 (5)"]


def test_the_twin_table_is_one_holm_family():
    """Each row asks whether one pair differs; the table's rows are one family: two pairs whose
    intervals exclude 1 with p 0.03 and 0.04 differ alone, and not once both are in the table
    (Holm: 0.06 each); a strong one (p 0.001) stays marked beside them."""
    from analysis import stats, twins

    def raw(pair, p):
        return ({"ours": pair[0], "kernel": pair[1]}, stats.Ratio(1.05, 1.01, 1.09, "BCa", True, False, p_value=p))
    (alone,) = twins._one_family([raw(("fifo", "scx_simple"), 0.03)])
    assert alone["ours_vs_kernel"]["significant"] and alone["ours_vs_kernel"]["family"] == 1
    rows = twins._one_family([raw(("fifo", "scx_simple"), 0.03), raw(("qmap", "scx_qmap"), 0.04)])
    assert [r["ours_vs_kernel"]["significant"] for r in rows] == [False, False]
    assert [r["ours_vs_kernel"]["p_adjusted"] for r in rows] == pytest.approx([0.06, 0.06])
    assert [twins._differs_mark(r["ours_vs_kernel"]) for r in rows] == [" (not after Holm)"] * 2
    rows = twins._one_family([raw(("fifo", "scx_simple"), 0.03), raw(("central", "scx_central"), 0.001)])
    assert [r["ours_vs_kernel"]["significant"] for r in rows] == [True, True]
    assert twins._differs_mark(rows[0]["ours_vs_kernel"]) == " **differs**"


def test_the_paper_shows_the_twins_of_its_kept_results(tmp_path, monkeypatch):
    """The paper's twin section reads every kept result that ran a pair (no sweep needed): a row
    per pair marked as differing, the reason from WHY_THEY_DIFFER where there is one, the costs of
    a bpf-stats result; results without a pair give the sentence that says none is kept."""
    from analysis import paperdoc, twins
    from analysis.compare import pool
    from analysis.loader import load_result
    runs = []
    for c, f, s in [(100, 120, 100), (101, 122, 99), (99, 119, 101), (100, 121, 100)]:
        runs += [{"policy": "cfs", "metrics": c}, {"policy": "fifo", "metrics": f},
                 {"policy": "scx_simple", "metrics": s}]
    runs.append({"policy": "scx_simple", "metrics": 100, "valid": False})  # ejected: named in the table
    a = write_result(tmp_path, "20260101-000000-nginx-cfs+fifo+scx_simple", runs)
    b = write_result(tmp_path, "20260101-000100-nginx-fifo+scx_simple",
                     [{"policy": "fifo", "metrics": 100}, {"policy": "scx_simple", "metrics": 100}],
                     factors={"monitors": ["bpf-stats"]})
    for rd, name in zip(sorted((b / "runs").iterdir()), ("fifo_enqueue", "simple_enqueue")):
        info = json.loads((rd / "run.json").read_text())
        info.setdefault("monitors", {})["bpf_prog_stats"] = {name: {"run_time_ns": 500, "run_cnt": 10, "ns_per_run": 50}}
        (rd / "run.json").write_text(json.dumps(info))
    plain = write_result(tmp_path, "20260101-000200-nginx-cfs+fifo",
                         [{"policy": "cfs", "metrics": 100}, {"policy": "fifo", "metrics": 110}])
    monkeypatch.setitem(twins.WHY_THEY_DIFFER, ("fifo", "scx_simple"), "They queue differently.")
    blocks = paperdoc._twin_blocks([pool([load_result(d)]) for d in (a, b, plain)])
    assert blocks[0] == ("h3", "The kernel's own schedulers")
    (head, rows), (chead, crows) = [blk[1:] for blk in blocks if blk[0] == "table"]
    (row,) = rows
    assert head[:4] == ["workload", "metric", "scxlab", "kernel"]
    assert row[1:5] == ["requests_per_sec (higher is better)", "fifo", "scx_simple", "4 vs 4 (1 scx_simple invalid)"]
    assert row[7].endswith("**differs** (few runs)") and row[8] == "`20260101-000000-nginx-cfs+fifo+scx_simple`"
    assert ("p", "**Why `fifo` and `scx_simple` differ.** They queue differently.") in blocks
    # one row per policy, twins side by side: enqueue 500 ns over 10 calls = 50 ns per call
    assert chead[:4] == ["workload", "policy", "select", "enqueue"] and chead[-1] == "all callbacks"
    assert [r[:2] for r in crows] == [["nginx", "fifo"], ["nginx", "scx_simple"]]
    assert crows[0][3] == "50 (10)" and crows[0][2] == "-" and crows[1][-1] == "50 (10)"
    assert any(blk[0] == "p" and "`20260101-000100-nginx-fifo+scx_simple`" in blk[1] for blk in blocks)
    none = paperdoc._twin_blocks([pool([load_result(plain)])])
    assert len(none) == 2 and "twin table is not drawn" in none[1][1]


def test_share_error_goal_worst_point_and_figure(tmp_path):
    """cgfifo at entitled share at depth 1 (error 0, within the 2% goal) and 10% short at depth 2;
    cfs exact everywhere: the worst cgfifo point is depth 2 at -10%, 1 of 2 points within the
    goal; the table marks the miss; the figure is written and linked."""
    ent = 2 / 3
    a = weight_point(tmp_path, "20260101-000000-cpuspin-cfs+cgfifo", 1, 2, ent)
    b = weight_point(tmp_path, "20260101-000100-cpuspin-cfs+cgfifo", 2, 2, ent * 0.9)
    write_sweep(tmp_path, {"depth=1 ratio=2": [a], "depth=2 ratio=2": [b]}, analysis="weights", name="share-accuracy")
    md = weights.write(tmp_path)
    doc = json.loads((tmp_path / "weights.json").read_text())
    w = doc["worst"]["cgfifo"]
    assert (w["points"], w["within_goal"]) == (2, 1)
    assert (w["worst"]["depth"], w["worst"]["result"]) == (2, b.name)
    assert w["worst"]["error"] == pytest.approx(-0.1)
    assert doc["worst"]["cfs"]["within_goal"] == 2
    assert "-10.0% [-10.0%, -10.0%] *" in md and "| cgfifo | 1 of 2 | depth 2, 2:1 |" in md
    assert (tmp_path / "share-error.svg").is_file() and "share-error.svg" in md


def test_the_sweep_analyses_are_the_ones_the_config_schema_accepts():
    """A sweep config's [sweep] analysis is checked by the runner (runners/common/schema.c) before
    anything boots and dispatched by analysis/sweep.py afterwards: the two lists must be one, or a
    sweep could run for hours and then have no analysis."""
    import pathlib
    import re
    from analysis.sweep import SWEEP_ANALYSES
    schema = (pathlib.Path(__file__).resolve().parents[2] / "runners/common/schema.c").read_text()
    choice = re.search(r'\{ "sweep", "analysis", "choice ([^"]+)" \}', schema).group(1)
    assert choice.split("|") == list(SWEEP_ANALYSES)


def test_the_paper_shows_every_policy_on_the_latency_workloads(tmp_path):
    """A kept wakebench result with every policy (EVERY_POLICY_MIN or more) gets a table row per
    policy, the ratio to cfs in bold where significant; one with two policies stays in the
    appendix; without any, the section says which sweep makes one."""
    from analysis import paperdoc
    from analysis.compare import pool
    from analysis.loader import load_result
    names = ["cfs", "fifo", "qmap", "central", "userland", "atropos", "cgfifo", "mlyield"]
    assert len(names) >= paperdoc.EVERY_POLICY_MIN

    def wake(p99, rps):
        return [{"name": "wakeup_p99_us", "unit": "us", "value": p99, "higher_is_better": False},
                {"name": "requests_per_sec", "unit": "req/s", "value": rps, "higher_is_better": True}]
    runs = []
    for rep in range(5):
        for k, p in enumerate(names):
            # fifo: wakeups 20% shorter than cfs in every round; the others as cfs, with some spread
            p99 = (800.0 if p == "fifo" else 1000.0) + [3, -4, 1, -2, 2][(rep + k) % 5]
            runs.append({"policy": p, "metrics": wake(p99, 5000.0 + rep)})
    factors = {"workload": "wakebench", "headline_metric": "wakeup_p99_us"}
    every = write_result(tmp_path, "20260101-000000-wakebench-" + "+".join(names), runs, factors=factors)
    few = write_result(tmp_path, "20260101-000100-wakebench-cfs+fifo",
                       [r for r in runs if r["policy"] in ("cfs", "fifo")], factors=factors)
    blocks = paperdoc._every_policy_blocks([pool([load_result(d)]) for d in (every, few)], {})
    assert blocks[0] == ("h3", "Wakeup latency and deadlines, every policy")
    (head, rows), = [blk[1:] for blk in blocks if blk[0] == "table"]
    assert head[0] == "policy" and head[1].startswith("wakeup_p99_us (us, lower is better)")
    assert [r[0] for r in rows] == [f"`{p}`" for p in names]
    assert rows[0][1].endswith("(baseline)")
    assert ": **-20" in rows[1][1] and rows[1][1].endswith("]**"), rows[1]
    assert "**" not in rows[2][1], rows[2]
    assert any(blk[0] == "p" and every.name in blk[1] for blk in blocks)
    assert not any(blk[0] == "p" and few.name in blk[1] for blk in blocks)
    none = paperdoc._every_policy_blocks([pool([load_result(few)])], {})
    assert len(none) == 2 and "SWEEP=latency-all" in none[1][1]


def test_a_sweep_point_is_known_by_its_command_quoted_or_not():
    """The point's sweep is read from the command the runner recorded: make or ./scxlab, the name
    quoted (older results) or not; another command, or a tree that is no pair:D:R, is no point."""
    from types import SimpleNamespace

    from analysis import weights

    def res(command, tree="pair:2:4"):
        return SimpleNamespace(command=command, factors={"cgroups": {"name": tree}})
    assert weights.sweep_of(res('make sweep SWEEP="cgroup-weights" (point depth=2 ratio=4)')) == "cgroup-weights"
    assert weights.is_share_sweep_point(res("make sweep SWEEP=share-accuracy (point depth=2 ratio=4)"))
    assert weights.is_share_sweep_point(res("./scxlab sweep SWEEP=share-accuracy JOBS=2 (point depth=2 ratio=4)"))
    assert not weights.is_grid_point(res("make sweep SWEEP=share-accuracy2 (point depth=2 ratio=4)"))
    assert weights.sweep_of(res("make compare POLICIES=cfs CGROUPS=pair:2:4")) is None
    assert weights.sweep_of(res("make sweep SWEEP=share-accuracy", tree="deep4-2to1")) is None
