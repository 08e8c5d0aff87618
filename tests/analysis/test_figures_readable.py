"""Figures a reviewer can read (analysis/figures.py), from synthetic results: one colour per
policy in every figure, time axes in the unit that suits the data, request latencies only,
labels that do not overlap, the weight sweep as heat maps with per-depth shares, the two clocks
side by side."""
import math

import matplotlib.pyplot as plt
import pytest

from analysis import figures
from analysis.compare import pool
from analysis.loader import load_result
from synthetic_results import interleaved_nginx, nginx_metrics, write_result


def _throughput_svg(results, tmp_path, run_id, values):
    d = write_result(results, run_id, interleaved_nginx(values))
    f = figures.throughput(pool([load_result(d)]), tmp_path, ("svg",), [])
    return f.path.read_text()


def test_a_policy_has_one_colour_in_every_figure(results, tmp_path):
    # zz-new is the first policy after cfs in one figure and the third in the other: a colour
    # picked by index within the figure would differ
    a = _throughput_svg(results, tmp_path, "20260101-000000-nginx-a", {"cfs": [10, 11, 9], "zz-new": [12, 13, 12]})
    b = _throughput_svg(results, tmp_path, "20260101-000001-nginx-b",
                        {"cfs": [10, 11, 9], "aa-new": [8, 9, 8], "fifo": [12, 12, 13], "zz-new": [12, 13, 12]})
    for policy in ("cfs", "zz-new"):
        colour = figures.policy_color(policy).lower()
        assert colour in a and colour in b
    assert figures.policy_color("fifo") in b and figures.policy_color("fifo") not in a
    assert len({figures.policy_color(p) for p in ("cfs", "fifo", "cgfifo", "mlyield", "qmap", "central")}) == 6


@pytest.mark.parametrize("values,unit,factor,shown", [
    ([5000.0], "us", 1.0, "us"),
    ([1e4, 20.0], "us", 1e-3, "ms"),
    ([9.99e6], "us", 1e-3, "ms"),
    ([1e7], "us", 1e-6, "s"),
    ([2e4], "ns", 1e-3, "us"),
    ([0.002], "s", 1e6, "us"),
    ([1e7], "req/s", 1.0, "req/s"),
])
def test_time_axes_use_the_unit_that_suits_the_data(values, unit, factor, shown):
    got = figures.time_scale(values, unit)
    assert got[1] == shown and got[0] == pytest.approx(factor)


def test_latency_figures_draw_request_latencies_only(results, tmp_path):
    sched = [{"name": f"sched.task_rq_wait_per_slice_{p}_us", "unit": "us", "value": v, "higher_is_better": False}
             for p, v in (("p50", 100.0), ("p90", 400.0), ("max", 900.0))]
    runs = [{"policy": p, "metrics": nginx_metrics(1000.0, latency_scale=500) + sched} for p in ("cfs", "fifo")]
    ds = pool([load_result(write_result(results, "20260101-000000-nginx-cfs+fifo", runs))])
    assert [fam for fam, _ in figures._percentile_families(ds)] == ["latency"]
    f = figures.latency(ds, tmp_path, ("svg",), [])
    svg = f.path.read_text()
    # 20000 us x 500 = 10 s at the median: the axis reads seconds, not 1e+07 us
    assert "latency (s)" in svg and "1e+07" not in svg and "sched." not in svg


@pytest.mark.parametrize("names", [
    ["mlyield-always-migrate", "mlyield-never-migrate", "faulty-bad-cpu", "userland", "atropos", "central"],
    ["cfs", "fifo"],
])
def test_policy_labels_do_not_overlap(names):
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    figures.policy_ticks(ax, [f"{n}\n(n=5)" for n in names])
    fig.canvas.draw()
    labels = ax.get_xticklabels()
    boxes = [t.get_window_extent() for t in labels]
    angle = labels[0].get_rotation()
    height_px = labels[0].get_fontsize() * fig.dpi / 72
    plt.close(fig)
    if angle == 0:
        assert not any(boxes[i].overlaps(boxes[i + 1]) for i in range(len(boxes) - 1))
    else:
        # parallel slanted lines of text: apart when the ticks' spacing, measured across the
        # slant, exceeds a line's height
        anchors = [b.x1 for b in boxes]  # right-aligned at the tick
        gap = min(b - a for a, b in zip(anchors, anchors[1:]))
        assert gap * math.sin(math.radians(angle)) > 1.2 * height_px
        assert all("\n" not in t.get_text() for t in labels)
    assert (angle != 0) == (len(names) > 3)


def _sweep_point(results, k, depth, ratio, workload="apache", command=True):
    ent = ratio / (ratio + 1)
    runs = [{"policy": p, "metrics": v, "cgroups": [("l1/high", ent, a), ("l1/low", 1 - ent, 1 - a)]}
            for _ in range(3) for p, v, a in (("cfs", 10.0, ent), ("cgfifo", 11.0, 0.5))]
    src = write_result(results, f"2026010{k}-000000-{workload}-cfs+cgfifo", runs,
                       factors={"workload": workload, "cgroups": {"name": f"pair:{depth}:{ratio}"}},
                       command=(f'make sweep SWEEP="cgroup-weights" (point depth={depth} ratio={ratio})'
                                if command else None))
    return pool([load_result(src)])


def test_weight_sweep_heat_map_and_shares_one_panel_per_depth(results, tmp_path):
    points = [_sweep_point(results, k, d, r) for k, (d, r) in enumerate([(1, 2), (1, 4), (3, 2), (3, 4)])]
    other = _sweep_point(results, 9, 2, 2, workload="nginx", command=False)  # another design
    figs, notes = figures.make_all(points + [other], tmp_path)
    point_ids = {ds.first.id for ds in points}
    kinds = sorted(f.kind for f in figs if set(f.ids) & point_ids)
    # no per-point throughput or latency figure: the points are drawn together
    assert kinds == ["shares", "weight-sweep"]
    assert sorted(f.kind for f in figs if f.ids == [other.first.id]) == ["latency", "shares", "throughput"]
    heat = next(f for f in figs if f.kind == "weight-sweep").path.read_text()
    assert "cgfifo: achieved - entitled share" in heat and "cgfifo: throughput vs cfs (%)" in heat
    assert "4:1" in heat and "+10.0" in heat  # 11 vs 10 req/s
    sweep_shares = next(f for f in figs if f.kind == "shares" and len(f.ids) == 4).path.read_text()
    assert "apache: cgroups 1 level deep" in sweep_shares and "apache: cgroups 3 levels deep" in sweep_shares
    assert "nginx" not in sweep_shares  # only results of one design together


def test_weight_sweep_heat_map_needs_sweep_points(results, tmp_path):
    notes = []
    assert figures.weight_sweep([_sweep_point(results, 0, 1, 2, command=False)], tmp_path, ("svg",), notes) is None
    assert "no result is a point of a cgroup weight sweep" in notes[0]


def test_results_that_differ_only_in_clock_are_drawn_side_by_side(results, tmp_path):
    values = {"cfs": [1000, 1010, 990], "fifo": [1200, 1190, 1210]}
    virt = write_result(results, "20260101-000000-nginx-cfs+fifo", interleaved_nginx(values))
    real = write_result(results, "20260101-000100-nginx-cfs+fifo", interleaved_nginx(values),
                        factors={"clock": "real", "clock_qemu": {"accel": "tcg,thread=multi", "icount": ""}})
    longer = write_result(results, "20260101-000200-nginx-cfs+fifo", interleaved_nginx(values),
                          factors={"clock": "real", "clock_qemu": {"accel": "tcg,thread=multi", "icount": ""},
                                   "duration_s": 30})
    dss = [pool([load_result(d)]) for d in (virt, real, longer)]
    groups = figures.clock_groups(dss)
    assert [[ds.first.id for ds in g] for g in groups] == [[virt.name, real.name]]
    f = figures.clocks(groups[0], tmp_path, ("svg",), [])
    svg = f.path.read_text()
    assert "clock=virtual" in svg and "clock=real" in svg and "emulated (QEMU TCG)" in f.caption
