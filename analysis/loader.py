"""The one reader of result directories.

A result directory (README.md, "What a run produces") holds manifest.json (every factor, the
run list with each run's validity) and runs/NNN-<policy>/{run.json,metrics.json}. This module
turns one into a Result of Runs of Metrics and knows nothing about statistics. It reads only
the small JSON files (and raw/plan.ini, to check it), so the trimmed copies kept under
paper/results/ load exactly like the originals. Every file it reads is checked against the
result contract (schemas/, analysis/contract.py) first.

Metrics come from two places:
- the run's metrics.json (the metric contract: name, unit, value, higher_is_better, which is
  null for a metric with no direction): the workload's metrics, then the agent's own sched.*
  (what the scheduler did, from the kernel's counters) and fairness.* (across instances);
- the run's monitors (perf stat software events in run.json), turned into per-operation costs
  when the headline metric is a rate (context switches, CPU migrations and CPU time per unit of
  headline work), else per measured second. These are named "monitor:..." and feed the
  overhead figure.

- the run's cgroup record (run.json "cgroups": per workload instance its cgroup, the share of
  CPU its weights entitle it to and the share it achieved), turned into per-cgroup metrics
  cpu_share_entitled[<cgroup>] and cpu_share_achieved[<cgroup>] (unit "fraction", no
  better/worse). The shares figure is drawn from these.

Per-cgroup metrics: a metric belongs to a cgroup when it carries `"cgroup": "<path>"`, when it is
named `<base>[<path>]`, or when it is named `i<K>.<base>` (the runner's name for instance K's
metric when several workload instances ran) and run.json's cgroup record says where instance K
ran. Its `base` is the name without the cgroup part.
"""
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import AnalysisError
from .contract import validate_file

SUPPORTED_FORMATS = (1,)
MONITOR_PREFIX = "monitor:"
_CGROUP_NAME = re.compile(r"^(?P<base>[^\[\]]+)\[(?P<cgroup>[^\[\]]+)\]$")
_INSTANCE_NAME = re.compile(r"^i(?P<k>\d+)\.(?P<base>.+)$")


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    value: float
    higher_is_better: object  # True, False, or None when no direction applies (monitors)
    base: str  # the name without its [cgroup] suffix
    cgroup: object = None  # str path for per-cgroup metrics
    source: str = "workload"  # "workload", "monitor" or "cgroup"


@dataclass
class Run:
    result_id: str
    index: int
    policy: str
    repeat: int
    dir: Path
    valid: bool
    invalid_reasons: list
    metrics: dict  # name -> Metric, in the order the workload reported them
    info: dict  # run.json as written by the runner ({} when absent)

    @property
    def label(self):
        return f"{self.result_id}#{self.index}"

    @property
    def window_source(self):
        """What the run's counters, costs and shares are over (schemas/README.md, measure_s and
        window): "marks" (the client's own measured window), "lifetime" (its workload does not
        mark: the clients' spawn to exit), or "legacy" (a result from before the window was
        recorded: always the clients' lifetime, though nothing in it says so)."""
        window = self.info.get("window")
        return window.get("source", "legacy") if isinstance(window, dict) else "legacy"

    @property
    def window_agrees(self):
        """False when run.json flags the window as off from the client's own duration (or from the
        other instances'); None when there is no window record (legacy)."""
        window = self.info.get("window")
        return window.get("agrees") if isinstance(window, dict) else None


@dataclass
class Result:
    path: Path
    manifest: dict
    runs: list = field(default_factory=list)

    @property
    def id(self):
        return self.manifest.get("run_id") or self.path.name

    @property
    def factors(self):
        return self.manifest.get("factors", {})

    @property
    def workload(self):
        return self.factors.get("workload", "?")

    @property
    def headline(self):
        return self.factors.get("headline_metric")

    @property
    def clock(self):
        return self.factors.get("clock", "?")

    @property
    def valid(self):
        return bool(self.manifest.get("valid"))

    @property
    def policies(self):
        """Policies in the order the manifest lists them."""
        listed = list(self.factors.get("policies", []))
        for r in self.runs:
            if r.policy not in listed:
                listed.append(r.policy)
        return listed

    @property
    def command(self):
        return self.manifest.get("command", "")

    def reproduce_command(self):
        """The command that reruns this experiment: reproduce.sh's `exec` line (every factor
        spelled out, the clock resolved), else the manifest's `command`."""
        script = self.path / "reproduce.sh"
        if script.is_file():
            for line in script.read_text(errors="replace").splitlines():
                if line.startswith("exec "):
                    return line[len("exec "):].strip().removesuffix(' "$@"')
        return self.command

    @property
    def git_commit(self):
        return self.manifest.get("software", {}).get("git_commit", "")


def _read_json(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise AnalysisError(f"{path}: missing ({what})") from None
    except json.JSONDecodeError as e:
        raise AnalysisError(f"{path}: not valid JSON ({what}): {e}") from None
    except OSError as e:
        raise AnalysisError(f"{path}: cannot read ({what}): {e.strerror}") from None


def _instance_cgroups(info):
    """{instance number: cgroup path} from run.json's cgroup record (empty without one)."""
    rec = info.get("cgroups")
    if not isinstance(rec, dict):
        return {}
    return {i.get("instance"): i.get("cgroup") for i in rec.get("instances") or []
            if isinstance(i, dict) and isinstance(i.get("cgroup"), str)}


def cgroup_metrics(info):
    """Entitled and achieved CPU share per cgroup from run.json's cgroup record."""
    rec = info.get("cgroups")
    out = {}
    if not isinstance(rec, dict):
        return out
    for inst in rec.get("instances") or []:
        cg = inst.get("cgroup") if isinstance(inst, dict) else None
        if not isinstance(cg, str):
            continue
        for key, base in (("entitled_share", "cpu_share_entitled"), ("achieved_share", "cpu_share_achieved")):
            v = inst.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                name = f"{base}[{cg}]"
                out[name] = Metric(name=name, unit="fraction", value=float(v), higher_is_better=None,
                                   base=base, cgroup=cg, source="cgroup")
    return out


def _parse_metric(entry, where, instances=None):
    if not isinstance(entry, dict):
        raise AnalysisError(f"{where}: a metric is not a JSON object")
    name = entry.get("name")
    unit = entry.get("unit")
    value = entry.get("value")
    hib = entry.get("higher_is_better")
    if not isinstance(name, str) or not name:
        raise AnalysisError(f"{where}: a metric has no name")
    if not isinstance(unit, str):
        raise AnalysisError(f"{where}: metric {name} has no unit")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AnalysisError(f"{where}: metric {name} has no finite numeric value ({value!r})")
    if "higher_is_better" not in entry or not (hib is None or isinstance(hib, bool)):
        raise AnalysisError(f"{where}: metric {name}: higher_is_better must be true, false or null")
    base, cgroup = name, entry.get("cgroup")
    m = _CGROUP_NAME.match(name)
    if m:
        base = m.group("base")
        cgroup = cgroup or m.group("cgroup")
    m = _INSTANCE_NAME.match(name)
    if m and instances and int(m.group("k")) in instances:
        base = m.group("base")
        cgroup = cgroup or instances[int(m.group("k"))]
    return Metric(name=name, unit=unit, value=float(value), higher_is_better=hib,
                  base=base, cgroup=cgroup)


def monitor_metrics(info, headline):
    """Scheduler-activity costs from the run's perf stat monitors (see the module comment).
    Empty when the run recorded no monitors or no measured duration."""
    perf = info.get("monitors", {}).get("perf_stat") or {}
    seconds = info.get("measure_s")
    if not perf or not isinstance(seconds, (int, float)) or seconds <= 0:
        return {}
    per_op = headline is not None and headline.unit.endswith("/s") and headline.value > 0
    out = {}
    for event, label, scale, unit in (
        ("context-switches", "context_switches", 1.0, "switches"),
        ("cpu-migrations", "cpu_migrations", 1.0, "migrations"),
        ("task-clock", "cpu_time_ms", 1.0, "ms"),
    ):
        count = perf.get(event)
        if not isinstance(count, (int, float)):
            continue
        per_second = scale * count / seconds
        if per_op:
            op = headline.unit[:-2] or "op"  # "req/s" -> "req"
            name, value, unit_out, hib = f"{label}_per_{op}", per_second / headline.value, f"{unit}/{op}", False
        else:
            # Per second without a unit of work, a count says how busy, not how costly: no direction.
            name, value, unit_out, hib = f"{label}_per_s", per_second, f"{unit}/s", None
        name = MONITOR_PREFIX + name
        out[name] = Metric(name=name, unit=unit_out, value=value, higher_is_better=hib,
                           base=name, source="monitor")
    return out


def validate_contract(path, manifest, strict=False):
    """The result's manifest, and its summary.json and raw/plan.ini where present (trimmed copies
    may lack them), against the schemas (schemas/README.md); run.json and metrics.json are
    checked as they are read."""
    validate_file(path / "manifest.json", "manifest", manifest, strict)
    for rel, kind in (("summary.json", "summary"), ("raw/plan.ini", "plan")):
        if (path / rel).is_file():
            validate_file(path / rel, kind, strict=strict)


def load_result(path, strict=False):
    """Reads one result directory. Raises AnalysisError naming the file and the problem.
    strict: also refuse the legacy forms older runners wrote (for freshly written results)."""
    path = Path(path)
    if not path.is_dir():
        raise AnalysisError(f"{path}: not a directory (expected a result directory with manifest.json)")
    manifest = _read_json(path / "manifest.json", "the result's manifest")
    if not isinstance(manifest, dict):
        raise AnalysisError(f"{path / 'manifest.json'}: top level is not a JSON object")
    fmt = manifest.get("format")
    if fmt not in SUPPORTED_FORMATS:
        raise AnalysisError(f"{path / 'manifest.json'}: result format {fmt!r} is not one this analysis "
                            f"reads ({', '.join(map(str, SUPPORTED_FORMATS))})")
    validate_contract(path, manifest, strict)
    listed = manifest.get("runs")
    if not isinstance(listed, list):
        raise AnalysisError(f"{path / 'manifest.json'}: no \"runs\" list")
    result = Result(path=path, manifest=manifest)
    headline_name = manifest.get("factors", {}).get("headline_metric")
    for entry in listed:
        where = f"{path / 'manifest.json'} run {entry.get('index', '?')}"
        rdir = entry.get("dir")
        policy = entry.get("policy")
        if not isinstance(rdir, str) or not isinstance(policy, str):
            raise AnalysisError(f"{where}: needs \"dir\" and \"policy\"")
        run_dir = path / rdir
        valid = bool(entry.get("valid"))
        reasons = list(entry.get("invalid_reasons") or [])
        info = {}
        if (run_dir / "run.json").is_file():
            info = validate_file(run_dir / "run.json", "run", _read_json(run_dir / "run.json", f"run {rdir}"), strict)
            if bool(info.get("valid")) != valid:
                # The two records of one run disagree: trust neither's "valid".
                valid = False
                reasons.append("manifest.json and run.json disagree on validity")
        elif valid:
            raise AnalysisError(f"{run_dir / 'run.json'}: missing, but the manifest calls the run valid")
        metrics = {}
        mpath = run_dir / "metrics.json"
        if mpath.is_file():
            doc = validate_file(mpath, "metrics", _read_json(mpath, f"metrics of run {rdir}"), strict)
            if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), list):
                raise AnalysisError(f"{mpath}: needs a \"metrics\" list (the metric contract)")
            instances = _instance_cgroups(info)
            for m in doc["metrics"]:
                metric = _parse_metric(m, str(mpath), instances)
                if metric.name in metrics:
                    raise AnalysisError(f"{mpath}: metric {metric.name} is reported twice")
                metrics[metric.name] = metric
        elif valid:
            raise AnalysisError(f"{mpath}: missing, but the manifest calls the run valid")
        metrics.update(monitor_metrics(info, metrics.get(headline_name)))
        metrics.update(cgroup_metrics(info))
        result.runs.append(Run(result_id=result.id, index=int(entry.get("index", 0)), policy=policy,
                               repeat=int(entry.get("repeat", info.get("repeat", 0)) or 0),
                               dir=run_dir, valid=valid, invalid_reasons=reasons,
                               metrics=metrics, info=info))
    return result


def is_result_dir(path):
    path = Path(path)
    return path.is_dir() and not path.name.startswith(".") and (path / "manifest.json").is_file()


def find_results(root):
    """Result directories directly under root, oldest first (their names start with the UTC
    time they were made); staging directories (hidden) are skipped."""
    root = Path(root)
    if not root.is_dir():
        raise AnalysisError(f"{root}: not a directory of results")
    return sorted((p for p in root.iterdir() if is_result_dir(p)), key=lambda p: p.name)


def newest_result(root):
    found = find_results(root)
    if not found:
        raise AnalysisError(f"{root}: holds no result directory (run `make experiment` or "
                            f"`make compare` first, or name one with RESULT=)")
    return found[-1]


def expand(paths):
    """Result paths from the command line: each a result directory, or a directory of results
    (all of them). Order kept, duplicates refused."""
    out = []
    for p in map(Path, paths):
        if is_result_dir(p):
            found = [p]
        elif p.is_dir() and find_results(p):
            found = find_results(p)
        elif p.is_dir():
            raise AnalysisError(f"{p}: neither a result directory (no manifest.json) nor a directory of results")
        else:
            raise AnalysisError(f"{p}: no such result directory")
        for f in found:
            if any(os.path.samefile(f, o) for o in out):
                raise AnalysisError(f"{f}: given twice")
            out.append(f)
    return out
