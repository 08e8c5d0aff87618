"""make export: one long-format CSV row per (result, run, metric), every value as measured."""
import csv
import json

import pytest

from analysis import AnalysisError, export
from analysis.cli import main
from analysis.loader import load_result
from synthetic_results import interleaved, write_result

CFS = [1000.0, 1010.0, 990.0]
FIFO = [1100.0, 1120.0, 1090.0]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_every_metric_of_every_run_is_one_row(results, tmp_path):
    a = write_result(results, "20260101-000000-nginx", interleaved(CFS, FIFO))
    b = write_result(results, "20260101-000100-nginx", interleaved(CFS[::-1], FIFO[::-1]))
    out = tmp_path / "out" / "all.csv"
    n = export.export([a, b], out)
    got = read(out)
    assert n == len(got) > 0
    assert list(got[0]) == export.COLUMNS
    expected = {}
    for r in (load_result(a), load_result(b)):
        for run in r.runs:
            for m in run.metrics.values():
                expected[(r.id, str(run.index), m.name)] = (m.value, run.policy, str(run.repeat), m.unit)
    assert len(expected) == len(got)
    for row in got:
        value, policy, rnd, unit = expected[(row["result"], row["run"], row["metric"])]
        assert float(row["value"]) == value  # repr precision: the exact float comes back
        assert (row["policy"], row["round"], row["unit"]) == (policy, rnd, unit)
        assert row["direction"] in ("higher", "lower", "")
        factors = json.loads(row["factors"])
        assert factors["workload"] == row["workload"] == "nginx"
    # the headline's direction is the metric contract's
    head = [r for r in got if r["metric"] == "requests_per_sec"]
    assert head and all(r["direction"] == "higher" for r in head)
    # rounds pair the policies: each round of a result has one run of each
    rounds = {}
    for r in head:
        rounds.setdefault((r["result"], r["round"]), []).append(r["policy"])
    assert all(sorted(p) == ["cfs", "fifo"] for p in rounds.values())


def test_export_refuses_bad_input(results, tmp_path):
    with pytest.raises(AnalysisError, match="no result"):
        export.export([], tmp_path / "x.csv")
    with pytest.raises(AnalysisError):
        export.export([tmp_path], tmp_path / "x.csv")
    a = write_result(results, "20260101-000000-nginx", interleaved(CFS, FIFO))
    with pytest.raises(AnalysisError, match="is a directory"):
        export.export([a], tmp_path)
    assert not list(tmp_path.glob(".*.tmp-*"))
    assert main(["export", str(tmp_path / "nothing"), "--out", str(tmp_path / "y.csv")]) == 2
    assert not (tmp_path / "y.csv").exists()
