"""The host's fingerprint (manifest "host"): results made on hosts that differ in what matters are
not pooled unless told to (--allow-host-mismatch, make report ALLOW_HOST_MISMATCH=1); load averages
may differ; results without a fingerprint pool as before, with a note. No guest."""
import pytest

from analysis import AnalysisError
from analysis.compare import HOST_FINGERPRINT, compare, host_mismatch, pool
from analysis.loader import load_result

from synthetic_results import FINGERPRINT, interleaved, write_result
from test_analysis_cli import cli

CFS, FIFO = [1000.0, 1010.0, 990.0], [1200.0, 1190.0, 1210.0]
OTHER = {"kernel": "6.1.0", "cpu_model": "Intel Xeon", "cpu_flags_sha256": "0" * 64, "microcode": "0xb",
         "governor": "powersave", "smt_active": 0, "smt_control": "off", "thp": "always",
         "cmdline": "BOOT_IMAGE=/vmlinuz isolcpus=1", "isolated_cpus": "1"}


def two(results, host_b, host_a=FINGERPRINT):
    a = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO), host=host_a)
    b = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO), host=host_b)
    return a, b


def test_every_field_that_matters_has_a_case():
    assert set(OTHER) == set(HOST_FINGERPRINT)


@pytest.mark.parametrize("field", sorted(OTHER))
def test_hosts_that_differ_are_refused_naming_the_field_and_both_values(results, field):
    a, b = two(results, {**FINGERPRINT, field: OTHER[field]})
    with pytest.raises(AnalysisError) as e:
        pool([load_result(a), load_result(b)])
    msg = str(e.value)
    mine = {"kernel": "6.18.0", "cpu_model": "AMD EPYC"}.get(field, FINGERPRINT.get(field))
    assert f"host fingerprint host.{field} differs" in msg
    assert repr(mine) in msg and repr(OTHER[field]) in msg
    assert "--allow-host-mismatch" in msg
    # told to, it pools them, and the comparison says so
    ds = pool([load_result(a), load_result(b)], allow_host_mismatch=True)
    assert len(ds.runs) == 12
    assert any("despite different hosts" in n and f"host.{field}" in n for n in compare(ds).notes)


def test_load_and_sysctls_may_differ(results):
    busy = {**FINGERPRINT, "load_start": {"loadavg": [7.0, 6.0, 5.0], "busy_processes": 9},
            "load_end": {"loadavg": None, "busy_processes": None}, "sched_sysctls": {}}
    a, b = two(results, busy)
    assert host_mismatch(load_result(a), load_result(b)) is None
    ds = pool([load_result(a), load_result(b)])
    assert not any("host" in n for n in compare(ds).notes)


def test_results_without_a_fingerprint_pool_as_before_with_a_note(results):
    a, b = two(results, {"cpu_model": "Intel Xeon"}, host_a=None)  # older: no fingerprint at all
    c = write_result(results, "20260101-000002-c", interleaved(CFS, FIFO), host=FINGERPRINT)
    ds = pool([load_result(a), load_result(b), load_result(c)])
    notes = compare(ds).notes
    assert any("2 of 3 pooled results record no host fingerprint" in n and "20260101-000000-a" in n
               for n in notes), notes
    # an old first result does not hide a mismatch among the fingerprinted ones
    d = write_result(results, "20260101-000003-d", interleaved(CFS, FIFO), host={**FINGERPRINT, "thp": "never"})
    with pytest.raises(AnalysisError, match="host.thp differs"):
        pool([load_result(a), load_result(c), load_result(d)])


def test_the_report_refuses_unless_allowed(results):
    a, b = two(results, {**FINGERPRINT, "governor": "powersave"})
    p = cli("report", a, b)
    assert p.returncode == 2 and "host.governor differs: 'performance'" in p.stderr and "'powersave'" in p.stderr
    p = cli("report", "--allow-host-mismatch", a, b)
    assert p.returncode == 0, p.stderr
    assert "despite different hosts" in p.stdout
    p = cli("ci", a, b)
    assert p.returncode == 2
    assert cli("ci", "--allow-host-mismatch", a, b).returncode == 0


def test_the_contract_takes_a_fingerprint_whole_and_typed(results):
    a = write_result(results, "20260101-000000-a", interleaved(CFS, FIFO), host=FINGERPRINT)
    assert load_result(a, strict=True).manifest["host"]["governor"] == "performance"
    half = {k: v for k, v in FINGERPRINT.items() if k != "thp"}
    b = write_result(results, "20260101-000001-b", interleaved(CFS, FIFO), host=half)
    with pytest.raises(AnalysisError, match="manifest.schema.json.*thp"):
        load_result(b)
    c = write_result(results, "20260101-000002-c", interleaved(CFS, FIFO), host={**FINGERPRINT, "smt_active": "1"})
    with pytest.raises(AnalysisError, match=r"\$.host.smt_active"):
        load_result(c)
