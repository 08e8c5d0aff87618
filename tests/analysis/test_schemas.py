"""The result contract (schemas/, schemas/README.md): the schemas are well formed and documented,
agree with the C plan table, accept every result kept for the paper and the tests' synthetic
results, and refuse what breaks the contract, naming the file and the JSON path. No guest."""
import json
import re

import pytest

from analysis import AnalysisError, contract
from analysis.loader import find_results, load_result
from synthetic_results import REPO, interleaved, write_result

KEPT = REPO / "paper" / "results"
KEPT_COUNT = 85  # results kept under paper/results/ (39 when the contract was written; 2026-12-03 the claims' five were
# remade as four with the final code, then the twins' eleven, latency-all's two, the share-accuracy sweep's
# nineteen points (three invalid), three real-clock time-model compares and pair/scx_pair on deep4 added; then the twins' BPF
# costs on nginx, apache, deep4 and pair/scx_pair's five, and the three virtual shift=2 time-model compares)
CFS, FIFO = [1000.0, 1010.0, 990.0], [1200.0, 1190.0, 1210.0]


def result_files(d):
    """(path, kind) of every contract file of result d; workload-written metrics under raw/ too."""
    files = [(d / "manifest.json", "manifest"), (d / "summary.json", "summary"), (d / "raw/plan.ini", "plan")]
    for r in sorted((d / "runs").iterdir()):
        files.append((r / "run.json", "run"))
        # before 2026-12-03 the agent wrote none for a run whose workload gave no metric at all
        # (an invalid run, e.g. wakebench under an ejected policy): only there may it be absent
        if (r / "metrics.json").exists() or json.loads((r / "run.json").read_text())["valid"]:
            files.append((r / "metrics.json", "metrics"))
        files += [(p, "metrics") for p in sorted(r.glob("raw/**/metrics.json"))]
    return files


def doc_of(path, kind):
    return contract.read_plan(path) if kind == "plan" else json.loads(path.read_text())


def described(schema, where, out):
    """Every property (and map value) without a description, as JSON-ish paths."""
    if not isinstance(schema, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub:
            out.append(f"{where}.{name}")
        described(sub, f"{where}.{name}", out)
    for pat, sub in schema.get("patternProperties", {}).items():
        if "description" not in sub:
            out.append(f"{where}[{pat}]")
        described(sub, f"{where}[{pat}]", out)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        if "description" not in extra and "$ref" not in extra:
            out.append(f"{where}.*")
        described(extra, f"{where}.*", out)
    # if/then/else/not/allOf/anyOf only constrain fields declared elsewhere; oneOf may declare
    described(schema.get("items"), where, out)
    for sub in schema.get("oneOf", []):
        described(sub, where, out)
    for name, sub in schema.get("$defs", {}).items():
        described(sub, f"#{name}", out)


@pytest.mark.parametrize("kind", contract.KINDS)
def test_schema_is_valid_and_every_field_is_described(kind):
    import jsonschema
    schema = json.loads(contract.schema_path(kind).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "Source of truth" in schema["$comment"]
    missing = []
    described(schema, "$", missing)
    assert missing == [], f"{kind}.schema.json: fields without a description: {missing}"


def cfg_plan_rows():
    """(section, key) rows of CFG_PLAN in runners/common/schema.c."""
    src = (REPO / "runners/common/schema.c").read_text()
    body = re.search(r"SCHEMA\(CFG_PLAN, \"plan\",(.*?)\);", src, re.S).group(1)
    # a row may carry a value type as a third string ({ "workload", "window", "choice marks|lifetime" })
    return set(re.findall(r'\{ "([^"]+)", "([^"]+)"(?:, "[^"]*")? \}', body))


def test_plan_schema_agrees_with_the_c_table():
    """plan.schema.json and CFG_PLAN (the source of truth for the plan's keys) name the same
    sections and keys; a pattern section is named by its title (run.<K>), a free map by '*'."""
    schema = json.loads(contract.schema_path("plan").read_text())
    rows = set()
    for section, sub in schema["properties"].items():
        keys = sub.get("properties", {})
        rows |= {(section, k) for k in keys} if keys else {(section, "*")}
    for sub in schema["patternProperties"].values():
        rows |= {(sub["title"], k) for k in sub["properties"]}
    c_rows = cfg_plan_rows()
    assert len(c_rows) > 20
    assert rows == c_rows, f"only in the schema: {rows - c_rows}; only in CFG_PLAN: {c_rows - rows}"


def test_every_kept_result_satisfies_the_contract():
    """The results kept for the paper, written by older commits, load and validate; the legacy
    forms some of them carry are the ones schemas/README.md lists, no others."""
    dirs = find_results(KEPT)
    print(f"{len(dirs)} kept results")
    assert len(dirs) >= KEPT_COUNT
    counts, legacy = {}, set()
    for d in dirs:
        load_result(d)  # the loader validates what it reads
        for path, kind in result_files(d):
            assert path.is_file(), path
            doc = doc_of(path, kind)
            assert contract.violations(doc, kind) == [], path
            counts[kind] = counts.get(kind, 0) + 1
            for where, message in contract.violations(doc, kind, strict=True):
                # per policy in a summary: one entry for all policies
                legacy.add((kind, re.sub(r"^(\$|\$\.summary)\.[\w-]+$", r"\1", where) if kind in ("summary", "manifest")
                            else where))
    print(counts, sorted(legacy))
    assert counts["manifest"] == counts["summary"] == counts["plan"] == len(dirs)
    assert counts["run"] >= 341 and counts["metrics"] >= 1265
    # client_exit_code (before 9d55760); left_charge_after_s without left_charge_phase and summary
    # zeros for a policy without a valid run, in summary.json and the manifest (before a395a6f)
    assert legacy == {("run", "$.client_exit_code"), ("run", "$"), ("summary", "$"), ("manifest", "$.summary")}


def test_synthetic_results_satisfy_the_contract_strictly(results):
    """What the analysis tests are built on is what the runner writes."""
    runs = interleaved(CFS, FIFO, perf={"context-switches": 10.0, "cpu-migrations": 1.0, "task-clock": 9.0})
    runs.append({"policy": "faulty", "metrics": 5.0, "valid": False})
    runs.append({"policy": "cgfifo", "metrics": 7.0, "cgroups": [("l1/a", 0.5, 0.4), ("l1/b", 0.5, 0.6)]})
    d = write_result(results, "20260101-000000-nginx-all", runs, factors={"cgroups": {"name": "pair:1:1"}})
    e = write_result(results, "20260101-000001-nginx-none", [{"policy": "faulty", "metrics": 5.0, "valid": False}])
    for r in (d, e):
        load_result(r, strict=True)
        for path, kind in result_files(r):
            assert contract.violations(doc_of(path, kind), kind, strict=True) == [], path
    assert json.loads((e / "summary.json").read_text())["faulty"]["mean"] is None


@pytest.mark.parametrize("rel,change,where", [
    ("manifest.json", lambda m: m["factors"].update(clock="wall"), r"\$\.factors\.clock: 'wall' is not one of"),
    ("manifest.json", lambda m: m["factors"].update(target="cloud"), r"\$\.factors\.target"),
    ("manifest.json", lambda m: m.pop("times"), r"\$: 'times' is a required property"),
    ("manifest.json", lambda m: m["runs"][0].update(valid="yes"), r"\$\.runs\[0\]\.valid: 'yes' is not of type"),
    ("manifest.json", lambda m: m["factors"]["policy_configs"]["fifo"].update(kind="bpf"),
     r"\$\.factors\.policy_configs\.fifo"),
    ("manifest.json", lambda m: m.update(surprise=1), r"\$: Additional properties .*\('surprise' was unexpected\)"),
    ("summary.json", lambda s: s["cfs"].update(mean=None), r"\$\.cfs\.mean: None is not of type 'number'"),
    ("runs/002-fifo/run.json", lambda r: r.update(kind="bpf"), r"\$\.kind: 'bpf' is not one of"),
    ("runs/002-fifo/run.json", lambda r: r.update(measure_s="5"), r"\$\.measure_s: '5' is not of type 'number'"),
    ("runs/002-fifo/run.json", lambda r: r.update(left_charge_phase="lunch", left_charge_after_s=1.0), r"\$\.left_charge_phase: 'lunch' is not one of"),
    ("runs/002-fifo/run.json", lambda r: r.update(kernel_exit_kind=7), r"\$\.kernel_exit_kind"),
    ("runs/002-fifo/run.json", lambda r: r.pop("headline"), r"\$: 'headline' is a required property"),
    ("runs/002-fifo/run.json", lambda r: r.update(invalid_reasons=["x"]), r"\$\.invalid_reasons: \['x'\] is too long"),
    ("runs/002-fifo/metrics.json", lambda m: m["metrics"][1].update(higher_is_better=1),
     r"\$\.metrics\[1\]\.higher_is_better: 1 is not of type 'boolean'"),
])
def test_a_broken_result_is_refused_naming_file_and_path(results, rel, change, where):
    d = write_result(results, "20260101-000000-x", interleaved(CFS[:1], FIFO[:1]))
    path = d / rel
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(AnalysisError, match=re.escape(str(path)) + r": breaks the result contract \(\w+\.schema\.json\) at "
                       + where):
        load_result(d)


KSCX_CONFIG = {"description": "Kernel example (scx_simple)", "kind": "scx", "loader": "kscx:scx_simple",
               "ops_name": "simple", "args": "", "spec": "scx_simple", "sha256": "ab" * 32,
               "kscx_package": "linux-source-7.3 7.3.4-1~bpo13+1",
               "kscx_binary": "/var/cache/scxlab/kscx-7.3.4-1~bpo13+1-0123456789abcdef/bin/scx_simple"}


@pytest.mark.parametrize("change, ok", [
    (lambda c: None, True),
    (lambda c: c.pop("kscx_binary"), False),        # a kernel example says which binary ran
    (lambda c: c.pop("sha256"), False),
    (lambda c: c.pop("spec"), False),               # kscx_* on an own policy's config
    (lambda c: c.update(kscx_package=""), False),
])
def test_kernel_example_policy_configs(results, change, ok):
    """A kscx:NAME policy's config in the manifest: its own keys plus spec, sha256 and where the
    binary came from (runners/common/experiment.c load_kscx)."""
    d = write_result(results, "20260101-000000-x", interleaved(CFS[:1], FIFO[:1]))
    m = json.loads((d / "manifest.json").read_text())
    cfg = dict(KSCX_CONFIG)
    change(cfg)
    m["factors"]["policy_configs"]["scx_simple"] = cfg
    found = contract.violations(m, "manifest")
    assert (found == []) == ok, found
    if not ok:
        assert found[0][0].startswith("$.factors.policy_configs.scx_simple")


def test_a_broken_plan_is_refused(results):
    d = write_result(results, "20260101-000000-x", interleaved(CFS[:1], FIFO[:1]))
    plan = d / "raw/plan.ini"
    plan.write_text(plan.read_text().replace("kind = scx", "kind = bpf"))
    with pytest.raises(AnalysisError, match=r"plan.ini: breaks the result contract \(plan.schema.json\) "
                                            r"at \$\['run.2'\]\.kind: 'bpf' is not one of"):
        load_result(d)


def test_legacy_forms_load_but_fail_strict_validation(results):
    d = write_result(results, "20260101-000000-x", [{"policy": "faulty", "metrics": 5.0, "valid": False}])
    s = json.loads((d / "summary.json").read_text())
    s["faulty"].update(mean=0.0, sd=0.0, cv=0.0, min=0.0, max=0.0)  # what runners before a395a6f wrote
    (d / "summary.json").write_text(json.dumps(s))
    run = json.loads((d / "runs/001-faulty/run.json").read_text())
    run["client_exit_code"] = 0
    (d / "runs/001-faulty/run.json").write_text(json.dumps(run))
    load_result(d)
    with pytest.raises(AnalysisError, match=r"summary.json: breaks the result contract .* at \$\.faulty"):
        load_result(d, strict=True)
    s["faulty"]["mean"] = 1.0  # not all zeros: not even the legacy form
    (d / "summary.json").write_text(json.dumps(s))
    with pytest.raises(AnalysisError, match=r"summary.json: .* at \$\.faulty"):
        load_result(d)


def test_a_missing_jsonschema_is_named(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_jsonschema(name, *a, **k):
        if name.startswith("jsonschema"):
            raise ImportError(name)
        return real_import(name, *a, **k)
    contract._validators.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_jsonschema)
    try:
        with pytest.raises(AnalysisError, match="python3-jsonschema is not installed"):
            contract.violations({}, "run")
    finally:
        monkeypatch.undo()
        contract._validators.cache_clear()
