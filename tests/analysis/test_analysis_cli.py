"""`python3 -m analysis report|ci` as a user (and `make compare PRECISION=`) runs them."""
import contextlib
import io
import json
import subprocess
import sys

from analysis.cli import main

from synthetic_results import REPO, interleaved, write_result

CFS = [1000.0, 1010.0, 990.0, 1005.0, 995.0]
FIFO = [1200.0, 1190.0, 1210.0, 1205.0, 1195.0]


def cli(*args):
    """The CLI in this process (starting Python with numpy and scipy for each call is slow)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in args])
    return subprocess.CompletedProcess(args, rc, out.getvalue(), err.getvalue())


def test_the_module_runs_as_a_command(results):
    d = write_result(results, "20260101-000000-x", interleaved(CFS, FIFO))
    p = subprocess.run([sys.executable, "-m", "analysis", "ci", str(d)], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and p.stdout.startswith("fifo metric=requests_per_sec ratio=1.2")
    p = subprocess.run([sys.executable, "-m", "analysis", "report", str(d / "nope")], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.startswith("analysis: ")


def test_report_defaults_to_the_newest_result_and_marks_significance(results):
    write_result(results, "20260101-000000-old", interleaved(CFS[:2], [500.0, 500.0]))
    write_result(results, "20260102-000000-new", interleaved(CFS, FIFO))
    p = cli("report", "--results", results)
    assert p.returncode == 0, p.stderr
    assert "20260102-000000-new" in p.stdout and "20260101-000000-old" not in p.stdout
    assert "emulated guest (QEMU TCG)" in p.stdout
    # The headline metric's block comes first: its fifo row is the first row with a ratio.
    line = next(line for line in p.stdout.splitlines() if " fifo " in line and "%" in line)
    assert "+20.0%" in line and "* better" in line


def test_report_json_and_invalid_counts(results):
    runs = interleaved(CFS, FIFO) + [{"policy": "fifo", "metrics": 3.0, "valid": False}]
    d = write_result(results, "20260101-000000-x", runs)
    p = cli("report", "--json", d)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    rps = next(m for m in doc["metrics"] if m["name"] == "requests_per_sec")
    fifo = next(r for r in rps["policies"] if r["policy"] == "fifo")
    assert fifo["runs"] == 5 and fifo["invalid_runs"] == 1
    assert fifo["vs_baseline"]["significant"] is True
    assert fifo["vs_baseline"]["ratio"] == fifo["summary"]["value"] / rps["policies"][0]["summary"]["value"]


def test_report_refuses_mismatched_results_naming_the_factor(results):
    a = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO))
    b = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO), factors={"clock": "real"})
    p = cli("report", a, b)
    assert p.returncode == 2
    assert "factor clock differs: 'virtual'" in p.stderr and "'real'" in p.stderr


def test_report_bad_input(results, tmp_path):
    p = cli("report", "--results", results)
    assert p.returncode == 2 and "holds no result directory" in p.stderr
    p = cli("report", tmp_path / "missing")
    assert p.returncode == 2 and "no such result directory" in p.stderr


def test_ci_prints_each_policy_halfwidth_and_stops_on_precision(results):
    d = write_result(results, "20260101-000000-x", interleaved(CFS, FIFO))
    p = cli("ci", d)
    assert p.returncode == 0, p.stderr
    fields = dict(kv.split("=", 1) for kv in p.stdout.split()[1:])
    assert p.stdout.startswith("fifo ") and fields["runs"] == "5" and fields["baseline_runs"] == "5"
    assert fields["design"] == "paired-by-round"  # interleaved rounds, every run valid
    halfwidth = float(fields["halfwidth_pct"])
    lo, hi = (float(x) for x in fields["ci"].strip("[]").split(","))
    assert abs(halfwidth - 100 * (hi - lo) / 2) < 0.01
    assert cli("ci", "--within", halfwidth + 0.5, d).returncode == 0
    assert cli("ci", "--within", halfwidth / 2, d).returncode == 1
    doc = json.loads(cli("ci", "--json", d).stdout)
    assert doc["policies"][0]["policy"] == "fifo" and doc["all_within"] is True


def test_ci_with_a_single_run_is_infinitely_wide(results):
    d = write_result(results, "20260101-000000-x", interleaved([1000.0], [1100.0]))
    p = cli("ci", "--within", 50, d)
    assert p.returncode == 1 and "halfwidth_pct=inf" in p.stdout
