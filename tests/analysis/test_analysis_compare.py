"""Loading result directories, pooling them only when their factors match, and comparing each
policy with cfs: invalid runs excluded and counted, single runs, refusals naming the factor."""
import json

import pytest

from analysis import AnalysisError
from analysis.compare import compare, declared_params, factor_mismatch, params_mismatch, pool, ratio_cis
from analysis.loader import expand, load_result, newest_result
from analysis.report import render_text
from synthetic_results import interleaved, nginx_metrics, write_result

CFS = [1000.0, 1010.0, 990.0, 1005.0, 995.0]
FIFO = [1200.0, 1190.0, 1210.0, 1205.0, 1195.0]


def row(cmp, metric, policy):
    return next(r for r in cmp.metric(metric).rows if r.policy == policy)


def test_policy_is_compared_with_cfs_metric_by_metric(results):
    d = write_result(results, "20260101-000000-nginx-cfs+fifo", interleaved(CFS, FIFO))
    cmp = compare(pool([load_result(d)]))
    assert [m.name for m in cmp.metrics][0] == "requests_per_sec"
    rps = row(cmp, "requests_per_sec", "fifo")
    assert rps.n_valid == 5 and rps.n_invalid == 0
    hmean = lambda xs: len(xs) / sum(1 / x for x in xs)  # noqa: E731
    assert rps.summary.center == pytest.approx(hmean(FIFO))
    assert rps.ratio.ratio == pytest.approx(hmean(FIFO) / hmean(CFS))
    assert rps.ratio.significant and rps.direction == "better"
    assert row(cmp, "requests_per_sec", "cfs").ratio is None  # the baseline has no ratio to itself
    # Latencies are equal in this synthetic result: not significant.
    assert not row(cmp, "latency_p99_us", "fifo").ratio.significant
    assert cmp.metric("latency_p99_us").stat == "median"


def test_lower_latency_is_better(results):
    runs = []
    for a, b in zip(CFS, FIFO):
        runs += [{"policy": "cfs", "metrics": nginx_metrics(a, latency_scale=1.0 + (a - 1000) / 1e4)},
                 {"policy": "fifo", "metrics": nginx_metrics(b, latency_scale=0.7 + (b - 1200) / 1e4)}]
    cmp = compare(pool([load_result(write_result(results, "20260101-000000-x", runs))]))
    p50 = row(cmp, "latency_p50_us", "fifo")
    assert p50.ratio.ratio == pytest.approx(0.7, rel=0.01)
    assert p50.ratio.significant and p50.direction == "better"


def test_invalid_runs_are_excluded_and_counted(results):
    runs = interleaved(CFS, FIFO)
    # An ejected run with an absurd number must not move anything.
    runs.append({"policy": "fifo", "metrics": 1e9, "valid": False})
    runs.append({"policy": "cfs", "metrics": 1.0, "valid": False})
    d = write_result(results, "20260101-000000-nginx-cfs+fifo", runs)
    assert d.name.endswith("-INVALID")
    cmp = compare(pool([load_result(d)]))
    fifo = row(cmp, "requests_per_sec", "fifo")
    assert fifo.n_valid == 5 and fifo.n_invalid == 1
    assert row(cmp, "requests_per_sec", "cfs").n_invalid == 1
    assert max(fifo.summary.values) == 1210.0
    assert any("invalid runs excluded" in n for n in cmp.notes)


def test_policy_with_only_invalid_runs_has_no_summary(results):
    runs = interleaved(CFS[:2], FIFO[:2]) + [{"policy": "faulty", "metrics": 5.0, "valid": False}]
    cmp = compare(pool([load_result(write_result(results, "20260101-000000-x", runs))]))
    faulty = row(cmp, "requests_per_sec", "faulty")
    assert faulty.summary is None and faulty.ratio is None and faulty.n_invalid == 1


def test_single_run_per_policy_gives_ratio_without_interval(results):
    d = write_result(results, "20260101-000000-x", interleaved([1000.0], [1100.0]))
    (policy, r, n, nb), = ratio_cis(pool([load_result(d)]))
    assert policy == "fifo" and n == 1 and nb == 1
    assert r.ratio == pytest.approx(1.1) and r.ci_low is None and not r.significant


def test_without_cfs_only_absolute_values(results):
    d = write_result(results, "20260101-000000-x", [{"policy": "fifo", "metrics": 1000.0}] * 2)
    cmp = compare(pool([load_result(d)]))
    assert row(cmp, "requests_per_sec", "fifo").ratio is None
    assert any("no cfs runs" in n for n in cmp.notes)
    with pytest.raises(AnalysisError, match="no cfs runs"):
        ratio_cis(pool([load_result(d)]))


def test_matching_results_pool_their_runs(results):
    a = write_result(results, "20260101-000000-a", interleaved(CFS[:3], FIFO[:3]))
    b = write_result(results, "20260101-000001-b", interleaved(CFS[3:], FIFO[3:]),
                     factors={"vm": {"image": "/var/cache/scxlab/image-bbbb"}, "repeats": 2})
    ds = pool([load_result(a), load_result(b)])
    assert row(compare(ds), "requests_per_sec", "fifo").n_valid == 5


@pytest.mark.parametrize("factors,named", [
    ({"clock": "real"}, "clock"),
    ({"kernel_release": "7.2.0"}, "kernel_release"),
    ({"kconfig_sha256": "cd" * 32}, "kconfig_sha256"),
    ({"vm": {"vcpus": 4}}, "vm.vcpus"),
    ({"workload_params": {"connections": "64"}}, "workload_params.connections"),
    ({"duration_s": 10}, "duration_s"),
    ({"workload": "apache-cgi"}, "workload"),
    ({"policy_configs": {"fifo": {"kind": "scx", "loader": "fifo", "args": "--slice 1"}}},
     "policy_configs.fifo"),
])
def test_results_whose_factors_differ_are_refused_naming_the_factor(results, factors, named):
    a = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    b = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO), factors=factors)
    with pytest.raises(AnalysisError) as e:
        pool([load_result(a), load_result(b)])
    assert f"factor {named}" in str(e.value)
    assert factor_mismatch(load_result(a), load_result(a)) is None


def test_null_factor_matches_an_absent_one_and_descriptions_do_not_count(results):
    a = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    b = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO),
                     factors={"cgroups": None, "policy_configs": {"fifo": {"kind": "scx", "loader": "fifo", "args": "",
                                                                           "description": "reworded"}}})
    assert factor_mismatch(load_result(a), load_result(b)) is None
    c = write_result(results, "20260101-000002-c", interleaved(CFS, FIFO), factors={"cgroups": {"name": "pair:2:2"}})
    # the first of the tree's keys in sorted order (a whole tree record, as the runner writes it)
    assert "factor cgroups.cpu_controller differs: (absent)" in factor_mismatch(load_result(a), load_result(c))


def test_a_parameter_added_later_matches_at_its_declared_default(results):
    """A workload parameter an older result does not record (a later scxlab added it) stands at the
    default configs/workloads/<workload>.ini declares: pooled at that value, refused at another, and
    one the config does not declare is refused as before."""
    declared = declared_params("nginx")
    assert declared["file_size"] == "4096"  # the real config this checkout ships
    old = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    at_default = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO),
                              factors={"workload_params": {"file_size": declared["file_size"]}})
    assert factor_mismatch(load_result(old), load_result(at_default)) is None
    assert factor_mismatch(load_result(at_default), load_result(old)) is None
    assert pool([load_result(old), load_result(at_default)]).describe()
    other = write_result(results, "20260101-000002-c", interleaved(CFS, FIFO),
                         factors={"workload_params": {"file_size": "8192"}})
    assert ("factor workload_params.file_size differs: (absent) in 20260101-000000-a vs '8192'"
            in factor_mismatch(load_result(old), load_result(other)))
    unknown = write_result(results, "20260101-000003-d", interleaved(CFS, FIFO),
                           factors={"workload_params": {"no_such_param": "1"}})
    assert "workload_params.no_such_param" in factor_mismatch(load_result(old), load_result(unknown))
    # a parameter both record is compared as it is, default or not
    assert params_mismatch("nginx", {"file_size": "4096"}, {"file_size": "8192"}) == ("file_size", "4096", "8192")
    assert params_mismatch("no-such-workload", {}, {"x": "1"}) == ("x", None, "1")


def test_pooling_across_commits_and_images_is_noted(results):
    a = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    b = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO),
                     factors={"vm": {"image": "/var/cache/scxlab/image-bbbb"}})
    mb = json.loads((b / "manifest.json").read_text())
    mb["software"]["git_commit"] = "d" * 40
    (b / "manifest.json").write_text(json.dumps(mb))
    notes = compare(pool([load_result(a), load_result(b)])).notes
    assert any("2 scxlab commits" in n for n in notes) and any("2 different guest images" in n for n in notes)
    assert not any("commits" in n for n in compare(pool([load_result(a)])).notes)


def test_accelerators_never_pool_and_old_results_count_as_tcg(results):
    """factors.accel: runs under KVM and under TCG are not compared; results from before ACCEL=
    (no factors.accel) ran under TCG, which their QEMU -accel says, and pool with new TCG ones."""
    old = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    new = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO), factors={"accel": "tcg"})
    assert factor_mismatch(load_result(old), load_result(new)) is None
    kvm = write_result(results, "20260101-000002-c", interleaved(CFS, FIFO),
                       factors={"accel": "kvm", "clock": "real", "clock_qemu": {"accel": "kvm", "icount": ""}})
    with pytest.raises(AnalysisError, match="factor accel differs: 'tcg' in .* vs 'kvm'"):
        pool([load_result(old), load_result(kvm)])
    assert "accel=kvm" in pool([load_result(kvm)]).describe()


def test_guest_kernel_build_is_a_factor(results):
    a = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    b = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO),
                     guest={"kernel_version": "#1 SMP Debian 7.3.4-2"})
    assert "guest.kernel_version" in factor_mismatch(load_result(a), load_result(b))


def test_host_matters_only_under_the_real_clock(results):
    a = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    b = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO))
    mb = json.loads((b / "manifest.json").read_text())
    mb["host"]["cpu_model"] = "Intel Xeon"
    (b / "manifest.json").write_text(json.dumps(mb))
    assert factor_mismatch(load_result(a), load_result(b)) is None
    ra = write_result(results, "20260101-000002-c", interleaved(CFS, FIFO), factors={"clock": "real"})
    rb = write_result(results, "20260101-000003-d", interleaved(CFS, FIFO), factors={"clock": "real"})
    mb = json.loads((rb / "manifest.json").read_text())
    mb["host"]["cpu_model"] = "Intel Xeon"
    (rb / "manifest.json").write_text(json.dumps(mb))
    assert "host.cpu_model" in factor_mismatch(load_result(ra), load_result(rb))


def test_monitor_costs_per_unit_of_work(results):
    runs = [{"policy": "cfs", "metrics": 100.0, "perf": {"context-switches": 1000.0, "cpu-migrations": 10.0,
                                                          "task-clock": 9000.0}, "measure_s": 5.0}]
    r = load_result(write_result(results, "20260101-000000-x", runs)).runs[0]
    # 1000 switches in 5 s at 100 req/s: 2 switches per request.
    assert r.metrics["monitor:context_switches_per_req"].value == pytest.approx(2.0)
    assert r.metrics["monitor:cpu_migrations_per_req"].value == pytest.approx(0.02)
    assert r.metrics["monitor:cpu_time_ms_per_req"].value == pytest.approx(18.0)
    assert r.metrics["monitor:cpu_time_ms_per_req"].higher_is_better is False


def test_per_cgroup_metrics_are_recognised(results):
    metrics = nginx_metrics(100.0) + [
        {"name": "cpu_share_achieved[/a/b]", "unit": "fraction", "value": 0.6, "higher_is_better": True},
        {"name": "cpu_share_entitled_b", "cgroup": "/b", "unit": "fraction", "value": 0.33,
         "higher_is_better": True}]
    metrics.append({"name": "i2.requests_per_sec", "unit": "req/s", "value": 40.0, "higher_is_better": True})
    run = {"policy": "cfs", "metrics": metrics, "cgroups": [("/a", 0.5, 0.6), ("/c/d", 0.5, 0.4)]}
    r = load_result(write_result(results, "20260101-000000-x", [run])).runs[0]
    # Instance 2's metric belongs to instance 2's cgroup.
    i2 = r.metrics["i2.requests_per_sec"]
    assert (i2.base, i2.cgroup) == ("requests_per_sec", "/c/d")
    assert r.metrics["cpu_share_achieved[/c/d]"].value == 0.4
    m = r.metrics["cpu_share_achieved[/a/b]"]
    assert (m.base, m.cgroup) == ("cpu_share_achieved", "/a/b")
    assert r.metrics["cpu_share_entitled_b"].cgroup == "/b"


def sched_metrics(wait_us, remote, keep_last=None):
    """The agent's own metrics as take_metrics() appends them (runners/common/schedmetrics.c)."""
    out = [{"name": "sched.rq_wait_per_slice_us", "unit": "us", "value": wait_us, "higher_is_better": False},
           {"name": "sched.cpu0.rq_wait_per_slice_us", "unit": "us", "value": wait_us, "higher_is_better": False},
           {"name": "sched.wakeups_remote_fraction", "unit": "fraction", "value": remote, "higher_is_better": None}]
    if keep_last is not None:
        out.append({"name": "sched.scx_events.dispatch_keep_last", "unit": "count", "value": keep_last,
                    "higher_is_better": False})
    return out


SCHEDSTAT = {"cpus": [{"cpu": 0, "yields": 0, "schedule_calls": 10, "idle_picks": 1, "wakeups": 5,
                       "wakeups_local": 3, "run_ns": 1000, "run_delay_ns": 500, "timeslices": 4,
                       "idle_ticks": 1, "ticks": 10}],
             "tasks": [{"tid": 7, "comm": "nginx", "run_ns": 900, "run_delay_ns": 400, "timeslices": 2}]}


def test_scheduler_activity_is_compared_with_cfs(results):
    """sched.* metrics (the agent's, in metrics.json) get intervals and ratios against cfs like any
    other; a null direction loads and reads 'no direction'; sched_ext's event counters exist only for
    sched_ext policies, so they get absolute values and no ratio."""
    runs = []
    for k in range(6):
        runs.append({"policy": "cfs", "metrics": nginx_metrics(100.0 + k) + sched_metrics(1500.0 + k, 0.40 + k / 1000),
                     "schedstat": SCHEDSTAT})
        runs.append({"policy": "fifo", "metrics": nginx_metrics(120.0 + k) + sched_metrics(750.0 + k, 0.60 + k / 1000,
                                                                                            keep_last=16 + k)})
    cmp = compare(pool([load_result(write_result(results, "20260101-000000-x", runs), strict=True)]))
    wait = row(cmp, "sched.rq_wait_per_slice_us", "fifo")
    assert wait.ratio.ratio == pytest.approx(752.5 / 1502.5)  # medians of 750..755 and 1500..1505
    assert wait.ratio.ci_low is not None and wait.ratio.significant and wait.direction == "better"
    remote = cmp.metric("sched.wakeups_remote_fraction")
    assert remote.higher_is_better is None
    assert row(cmp, "sched.wakeups_remote_fraction", "fifo").direction == "different"
    keep = row(cmp, "sched.scx_events.dispatch_keep_last", "fifo")
    assert keep.summary.center == pytest.approx(18.5) and keep.ratio is None
    assert row(cmp, "sched.scx_events.dispatch_keep_last", "cfs").summary is None
    text = render_text(cmp)
    assert "sched.rq_wait_per_slice_us" in text and "(no direction)" in text


def test_a_metric_without_higher_is_better_is_refused(results):
    bad = nginx_metrics(100.0) + [{"name": "sched.x", "unit": "count", "value": 1.0}]
    d = write_result(results, "20260101-000000-x", [{"policy": "cfs", "metrics": bad}])
    with pytest.raises(AnalysisError, match="higher_is_better"):
        load_result(d)


def test_bad_input_is_refused_with_the_file_named(results, tmp_path):
    with pytest.raises(AnalysisError, match="not a directory"):
        load_result(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AnalysisError, match="manifest.json: missing"):
        load_result(empty)
    d = write_result(results, "20260101-000000-x", interleaved(CFS[:2], FIFO[:2]))
    (d / "runs/002-fifo/metrics.json").write_text('{"metrics": [{"name": "x", "unit": "u"}]}')
    with pytest.raises(AnalysisError, match=r"002-fifo/metrics.json: breaks the result contract \(metrics.schema.json\) "
                                            r"at \$.metrics\[0\]: 'value' is a required property"):
        load_result(d)
    (d / "runs/002-fifo/metrics.json").write_text("{not json")
    with pytest.raises(AnalysisError, match="not valid JSON"):
        load_result(d)
    (d / "runs/002-fifo/metrics.json").unlink()
    with pytest.raises(AnalysisError, match="missing, but the manifest calls the run valid"):
        load_result(d)
    m = json.loads((d / "manifest.json").read_text())
    m["format"] = 99
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(AnalysisError, match="format 99"):
        load_result(d)


def test_newest_result_and_expansion(results):
    old = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    new = write_result(results, "20260102-000000-b", interleaved(CFS, FIFO))
    (results / ".staging-20260103-000000-c").mkdir()
    assert newest_result(results) == new
    assert expand([results]) == [old, new]
    with pytest.raises(AnalysisError, match="given twice"):
        expand([old, old])


def _window(source="marks", agrees=True, length=5.0):
    """run.json's window as the agent writes it (runners/common/window.c), one instance."""
    inst = {"instance": 1, "start_s": 0.2, "end_s": 0.2 + length, "length_s": length, "exit_s": length + 0.5,
            "client_duration_s": 5.0}
    return {"source": source, "start_s": 0.2, "end_s": 0.2 + length, "length_s": length, "sampling_s": [0.1, 0.05],
            "instances": [inst], "tolerance_rel": 0.05, "tolerance_min_s": 0.5, "agrees": agrees,
            "disagreements": [] if agrees else ["instance 1: its window (6.000 s) differs from the duration its "
                                                "client reported (5.000 s) by more than 0.500 s"]}


def test_window_notes_say_what_costs_are_over(results):
    """Old results (no window) are named legacy, costs over the clients' lifetime; runs of a workload
    that does not mark say so; a flagged window names its runs; marked, agreeing runs need no note."""
    def notes(runs):
        d = write_result(results, f"20260101-00000{len(list(results.iterdir()))}-w", runs)
        return compare(pool([load_result(d)]), metrics=["requests_per_sec"]).notes

    marked = notes(interleaved(CFS, FIFO, window=_window()))
    assert not any("window" in n or "legacy" in n for n in marked)
    legacy = notes(interleaved(CFS, FIFO))
    assert any(n.startswith("legacy: 10 of 10 valid runs") and "lifetime" in n for n in legacy)
    life = notes(interleaved(CFS, FIFO, window=_window("lifetime")))
    assert any("10 of 10 valid runs are of a workload that does not mark" in n for n in life)
    assert not any(n.startswith("legacy") for n in life)
    runs = interleaved(CFS, FIFO, window=_window())
    runs[3]["window"] = _window(agrees=False, length=6.0)
    flagged = notes(runs)
    assert any("max(5 %, 0.5 s)" in n and "#4" in n and "#2" not in n for n in flagged)
    # the report shows the notes
    d = write_result(results, "20260101-000009-w", runs)
    assert "#4 (run.json window.disagreements)" in render_text(compare(pool([load_result(d)])))
