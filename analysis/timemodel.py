"""The emulator's time model as a factor: does a claim's verdict survive a change of how the guest
keeps time?

scxlab's guest runs under QEMU TCG, whose clock is a model: under CLOCK=virtual guest time is the
count of instructions executed, each lasting 2^shift ns (`-icount shift=N`, ICOUNT_SHIFT=; every
instruction costs the same, so the shift sets how fast the simulated CPU is against the guest's
timers); under CLOCK=real the vCPUs run in parallel on the host's wall clock. A verdict that
changes with the time model says more about the emulator than about the policy.

Two parts:

- study(): `make time-model`. For each ratio claim of paper/claims.ini (or those named), one
  `./scxlab compare` of the claim's policies (cfs, the claim's policy, its ablations) per time model
  in STUDY_MODELS, with the workload, its parameters, cgroup tree, VM shape, duration and repeats
  of the claim's kept results (their reproduce.sh: every factor spelled out). The results go into
  one new folder, RESULTS/time-model-<UTC time>/, with study.json saying which claim and time model
  each result is for (rewritten after every run, so an interrupted study still says what it made).
  Real-clock runs are measured in wall-clock time, so they run alone (JOBS=, as sweeps), and they
  need a quiet host. Nothing is overwritten: the runner never reuses a result's name.
  A time model the claim's own kept results (`results =`) were made under, at the repeats and
  duration the study would use, is not run again: those results stand for it.
- table() and render_markdown(): from the results a claim names under `time_model =` in
  claims.ini (kept under paper/results/), and for a time model none of those covers the claim's
  own `results =` made under it, one row per claim and one cell per time model: the
  claimed policy's ratio to cfs with its 95% CI and the verdict, computed by analysis.paper's own
  evaluate() on the claim restricted to that time model's results. A time model without results
  says "not measured" (never a number). A claim whose verdicts differ between the time models
  measured is labelled "emulation-sensitive".
"""
import dataclasses
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import AnalysisError
from . import paper
from .compare import icount_shift, time_model
from .loader import load_result
from .report import fmt_ratio, fmt_ratio_ci

# The time models of the study, in the table's column order: the VM config's default shift
# (configs/vms/default.ini: 8 ns an instruction, about 125 million instructions a guest second),
# a CPU twice as fast against the guest's clocks (4 ns), and the real clock. (label, CLOCK, ICOUNT_SHIFT)
STUDY_MODELS = (("virtual shift=3", "virtual", "3"), ("virtual shift=2", "virtual", "2"), ("real", "real", ""))
SENSITIVE = "emulation-sensitive"
NOT_MEASURED = "not measured"
# a wall-clock (real) result measured beside other work measured that work too. The manifest's
# host.load_start/load_end sample the host as the experiment starts and as its result is assembled:
# busy_processes, the other processes runnable at that moment, marks the cell when above 0. The
# 1-minute load average is no witness there: at the end it is the experiment's own guest (a
# real-clock guest keeps every core busy), at the start the study's previous compare. It is read
# only from results that lack busy_processes: per CPU above this at the start marks the cell.
BUSY_LOAD_PER_CPU = 0.5
# verdicts that judge nothing, so they cannot disagree with another time model's
_UNJUDGED = (NOT_MEASURED, "not judged", "not yet measured")


@dataclasses.dataclass
class Cell:
    """One claim under one time model. ratio, ci_low, ci_high are None when not measured (or, for
    the interval, with too few runs)."""
    time_model: str
    verdict: str = NOT_MEASURED
    explanation: str = ""
    ratio: object = None
    ci_low: object = None
    ci_high: object = None
    n_policy: int = 0
    n_baseline: int = 0
    results: list = dataclasses.field(default_factory=list)
    busy_host: str = ""  # wall-clock time models: why the host was not quiet ("" quiet or not recorded)

    @property
    def judged(self):
        return self.verdict not in _UNJUDGED


@dataclasses.dataclass
class Row:
    claim: str  # the claim's id in claims.ini
    title: str
    expected: float
    cells: list  # Cell per time model, in the table's column order
    label: str = ""  # SENSITIVE, or "" when the judged verdicts agree (or fewer than two were judged)
    note: str = ""  # why there is no label when fewer than two time models were judged


# Claim's fields that claims.ini states (with its id); every other field is evaluate()'s to fill
_STATED = ("id", "title", "claim", "source", "kind", "policy", "metric", "expected", "results", "needs", "model",
           "ablations", "time_model")


def _fresh(claim, ids):
    """The claim as claims.ini states it, judged on ids alone: a new Claim with only the stated
    fields copied, so nothing evaluate() filled before (whatever fields it grows) carries over."""
    stated = {f: getattr(claim, f) for f in _STATED}
    stated.update(results=list(ids), ablations=list(claim.ablations), time_model=list(claim.time_model))
    return paper.Claim(**stated)


def _by_time_model(claim, paper_dir, results=None):
    """{time model: result ids}: the claim's time_model = results by the time model each was made
    under; a time model none of them covers is judged on the claim's own results = made under it
    (the paper's verdict's own runs), so a study need not run that model again."""
    groups = {}
    for rid in claim.time_model:
        d = paper.results_root(paper_dir, results) / rid
        if not (d / "manifest.json").is_file():
            raise AnalysisError(f"claim {claim.id}: time_model result {rid} is not kept under "
                                f"{paper.results_root(paper_dir, results)} (add it with `make paper-add RESULT=...`)")
        groups.setdefault(time_model(load_result(d)), []).append(rid)
    own = {}
    for tm, rid in _own_time_models(claim, paper_dir, results):
        own.setdefault(tm, []).append(rid)
    for tm, ids in own.items():
        groups.setdefault(tm, ids)
    return groups


def _own_time_models(claim, paper_dir, results=None):
    """[(time model, id)] of the claim's own results = that are kept."""
    out = []
    for rid in claim.results:
        d = paper.results_root(paper_dir, results) / rid
        if (d / "manifest.json").is_file():
            out.append((time_model(load_result(d)), rid))
    return out


def busy_host(paper_dir, ids, results=None):
    """Why the hosts of wall-clock results ids were not quiet while they ran, "" when they were (or
    their manifests do not record the load: results from before the host fingerprint)."""
    busy = []
    for rid in ids:
        host = load_result(paper.results_root(paper_dir, results) / rid).manifest.get("host", {})
        nproc = host.get("nproc") or 0
        for when in ("load_start", "load_end"):
            sample = host.get(when) or {}
            others = sample.get("busy_processes")
            if others is not None:
                if others > 0:
                    busy.append(f"{rid}: {others} other runnable process{'es' if others > 1 else ''} at the "
                                f"{when[len('load_'):]}")
                continue
            avg = (sample.get("loadavg") or [None])[0]
            if when == "load_start" and nproc and avg is not None and avg / nproc > BUSY_LOAD_PER_CPU:
                busy.append(f"{rid}: load {avg:g} on {nproc} CPUs at the start")
    return "; ".join(busy)


def columns(claims, paper_dir, results=None):
    """The table's time models: the study's, then any other a claim's results were made under."""
    cols = [label for label, _, _ in STUDY_MODELS]
    for c in claims:
        if c.kind == "ratio":
            cols += sorted(m for m in _by_time_model(c, paper_dir, results) if m not in cols)
    return cols


def row(claim, paper_dir, cols, results=None):
    """claim's Row: each time model's results evaluated as the paper evaluates the claim."""
    groups = _by_time_model(claim, paper_dir, results)
    cells = []
    for tm in cols:
        ids = groups.get(tm, [])
        if not ids:
            cells.append(Cell(tm, explanation=f"no result of this claim under {tm} is named in time_model ="))
            continue
        c = paper.evaluate(_fresh(claim, ids), paper_dir, results)
        r = c.measured
        cells.append(Cell(tm, verdict=c.verdict, explanation=c.explanation, ratio=getattr(r, "ratio", None),
                          ci_low=getattr(r, "ci_low", None), ci_high=getattr(r, "ci_high", None),
                          n_policy=c.n_policy, n_baseline=c.n_baseline, results=ids,
                          busy_host=busy_host(paper_dir, ids, results) if not tm.startswith("virtual") else ""))
    judged = [cell for cell in cells if cell.judged]
    out = Row(claim.id, claim.title, claim.expected, cells)
    if len({cell.verdict for cell in judged}) > 1:
        out.label = SENSITIVE
    elif len(judged) < 2:
        out.note = f"judged under {len(judged)} time model(s): too few to tell whether the verdict depends on it"
    return out


def table(claims, paper_dir, results=None):
    """Rows (one per ratio claim, in claims.ini's order) of claim x time model; claims as
    paper.load_claims(paper_dir) returns them."""
    ratio_claims = [c for c in claims if c.kind == "ratio"]
    cols = columns(ratio_claims, paper_dir, results)
    return [row(c, paper_dir, cols, results) for c in ratio_claims]


def labels(rows):
    """{claim id: "emulation-sensitive"} for the claims whose verdict changes with the time model."""
    return {r.claim: r.label for r in rows if r.label}


def cell_text(cell):
    if not cell.judged and cell.ratio is None:
        return cell.verdict
    measured = f"{fmt_ratio(cell.ratio)} {fmt_ratio_ci(cell.ci_low, cell.ci_high)}".strip()
    return (f"{measured} (n={cell.n_policy} vs {cell.n_baseline}): {cell.verdict}"
            + (" (host not quiet)" if cell.busy_host else ""))


def blocks(rows):
    """The table as blocks of the paper's document model (paper.render_markdown / render_html)."""
    if not rows:
        return [("p", "No ratio claim: no time-model table.")]
    head = ["claim", "claimed"] + [cell.time_model for cell in rows[0].cells] + ["time model"]
    body = [[r.title, fmt_ratio(r.expected)] + [cell_text(c) for c in r.cells]
            + [r.label or ("verdicts agree" if not r.note else "too few judged")] for r in rows]
    return [("table", head, body)]


def render_markdown(rows):
    """The table as Markdown: a row per claim, a column per time model, and the label."""
    from .paperdoc import render_markdown
    return render_markdown(blocks(rows))


# ---------------------------------------------------------------- the study: make time-model

REPO = Path(__file__).resolve().parent.parent
# make time-model sets these per time model or from the claim's results; given to it, they are refused
# rather than silently overridden (REPEATS and DURATION it takes; RESULTS says where)
_STUDY_SETS = ("POLICY", "POLICIES", "WORKLOAD", "CLOCK", "ICOUNT_SHIFT", "ACCEL", "TARGET", "VM", "MONITORS",
               "CGROUPS", "PARAMS", "PRECISION", "MAX_REPEATS")


def _run_vars():
    """The run variables the Makefile declares (what ./scxlab reads from the environment too)."""
    text = (REPO / "Makefile").read_text().replace("\\\n", " ")
    m = re.search(r"^RUN_VARS := (.*)$", text, re.M)
    return m.group(1).split() if m else list(_STUDY_SETS)


def _template(claim, paper_dir):
    """The kept result whose arguments the claim's study reruns: the one of claim.results that ran
    the most of the claim's policies (all of them pool, so their factors match)."""
    want = {paper.BASELINE, claim.policy, *claim.ablations}
    best = None
    for rid in claim.results:
        d = Path(paper_dir) / "results" / rid
        if not (d / "manifest.json").is_file():
            raise AnalysisError(f"claim {claim.id}: result {rid} is not kept under {Path(paper_dir) / 'results'}")
        res = load_result(d)
        if best is None or len(want & set(res.policies)) > len(want & set(best.policies)):
            best = res
    return best


def _arguments(res):
    """VAR=value words of the template's reproduce.sh `exec make compare` line (shell-quoted as
    reproduce.c writes them), without the command itself."""
    cmd = res.reproduce_command()
    words = shlex.split(cmd) if cmd else []
    if words[:2] != ["make", "compare"]:
        raise AnalysisError(f"{res.path}: its reproduce command is not a `make compare` ({cmd!r}); the study "
                            "reruns a claim's compare")
    args = {}
    for w in words[2:]:
        name, eq, value = w.partition("=")
        if not eq:
            raise AnalysisError(f"{res.path}/reproduce.sh: {w!r} is not VAR=value")
        args[name] = value
    return args


def _per_run_s(res):
    """Wall seconds per run of the template, beyond the boot, and its runs' guest seconds each."""
    times, f = res.manifest.get("times", {}), res.factors
    runs = max(len(res.runs), 1)
    per = max((times.get("wall_s") or 0) - (times.get("boot_s") or 0), 0) / runs
    return per, (f.get("duration_s") or 0) + (f.get("warmup_s") or 0), times.get("boot_s") or 0


def study_models(names=None):
    """STUDY_MODELS, or those named: each name a label's last word ("shift=3", "shift=2", "real"), so
    that a long study can be split between sittings (the real clock's compares need a quiet host)."""
    if not names:
        return STUDY_MODELS
    short = {label.split()[-1]: m for m in STUDY_MODELS for label in [m[0]]}
    unknown = [n for n in names if n not in short]
    if unknown:
        raise AnalysisError(f"MODELS: no time model {unknown[0]!r}; the study's are {', '.join(short)}")
    return tuple(m for k, m in short.items() if k in names)


def plan(paper_dir, claim_ids=None, repeats="", duration="", models=None):
    """The study's runs: [(claim id, time model label, argv of ./scxlab, estimated wall seconds)], under
    study_models(models)."""
    chosen_models = study_models(models)
    claims = paper.load_claims(paper_dir)
    by_id = {c.id: c for c in claims}
    if claim_ids:
        for cid in claim_ids:
            if cid not in by_id:
                raise AnalysisError(f"CLAIMS: no claim {cid!r} in {Path(paper_dir) / 'claims.ini'}; the ratio "
                                    f"claims are {', '.join(c.id for c in claims if c.kind == 'ratio')}")
            if by_id[cid].kind != "ratio":
                raise AnalysisError(f"CLAIMS: claim {cid} is kind = {by_id[cid].kind}; the time model is a factor "
                                    "of ratio claims (a policy against cfs in one boot)")
        chosen = [by_id[cid] for cid in dict.fromkeys(claim_ids)]
    else:
        chosen = [c for c in claims if c.kind == "ratio"]
    for value, var in ((repeats, "REPEATS"), (duration, "DURATION")):
        if value and not re.fullmatch(r"[1-9][0-9]{0,3}", value):
            raise AnalysisError(f"{var}={value!r}: give a whole number from 1")
    runs = []
    for c in chosen:
        if not c.results:
            print(f"time-model: claim {c.id}: no kept result to take its arguments from (results = is empty); "
                  "skipped", file=sys.stderr)
            continue
        res = _template(c, paper_dir)
        args = _arguments(res)
        policies = [paper.BASELINE, c.policy] + [a for a in c.ablations if a not in (paper.BASELINE, c.policy)]
        args.update(POLICIES=" ".join(policies), ACCEL="tcg")
        args.pop("PRECISION", None)
        args.pop("MAX_REPEATS", None)
        args["REPEATS"] = repeats or str(res.factors.get("repeats") or args.get("REPEATS") or 1)
        if duration:
            args["DURATION"] = duration
        per, guest, boot = _per_run_s(res)
        scale = (int(args["DURATION"]) + (res.factors.get("warmup_s") or 0)) / guest if guest else 1.0
        nruns = len(policies) * int(args["REPEATS"])
        base_shift = icount_shift(res) if res.clock == "virtual" else None
        # a time model the claim's own results were made under, at the same repeats and duration,
        # is judged on them (_by_time_model): not run again
        same_design = (args["REPEATS"] == str(res.factors.get("repeats")) and
                       args["DURATION"] == str(res.factors.get("duration_s")))
        covered = {}
        for tm, rid in _own_time_models(c, paper_dir) if same_design else ():
            covered.setdefault(tm, []).append(rid)
        for label, clock, shift in chosen_models:
            if label in covered:
                print(f"time-model: {c.id}, {label}: judged on the claim's own results "
                      f"({', '.join(covered[label])}); not run again", file=sys.stderr)
                continue
            a = dict(args, CLOCK=clock, ICOUNT_SHIFT=shift)
            # a CPU-bound guest second costs 2^(base - shift) times the template's wall time; the
            # real clock's guest second is a wall second, about what shift 3 costs
            speed = 2.0 ** ((3 if base_shift is None else base_shift) - int(shift or 3))
            est = boot + nruns * per * scale * speed
            runs.append((c.id, label, ["./scxlab", "compare"] + [f"{k}={v}" for k, v in a.items()], est))
    return runs


def _minutes(s):
    return f"{s / 60:.0f} min" if s >= 90 else f"{s:.0f} s"


def _write_json(path, doc):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


def study(paper_dir, results_dir, claim_ids=None, repeats="", duration="", jobs=1, dry_run=False, runner=None,
          models=None):
    """`make time-model`: runs plan()'s compares into a new folder under results_dir, JOBS at once
    (a real-clock one alone), recording each in study.json; prints what to keep. Returns the exit
    status: 0 every result valid, 1 otherwise."""
    given = [v for v in _STUDY_SETS if os.environ.get(v)]
    if given:
        raise AnalysisError(f"make time-model sets {', '.join(given)} itself (from each claim's kept results and "
                            f"per time model); it takes CLAIMS, REPEATS, DURATION, JOBS, RESULTS and DRY_RUN")
    if jobs < 1:
        raise AnalysisError(f"JOBS={jobs}: give how many runs may go at once, a whole number from 1")
    runs = plan(paper_dir, claim_ids, repeats, duration, models)
    if not runs:
        raise AnalysisError("no ratio claim with kept results: nothing to run")
    total = sum(r[3] for r in runs)
    print(f"time-model: {len(runs)} compares ({len({r[0] for r in runs})} claims; time models "
          f"{', '.join(m for m, _, _ in study_models(models))}, less those a claim's own results cover); about "
          f"{_minutes(total)} of runs one after another, "
          "estimated from the kept results' per-run times. The real clock is measured in wall-clock time: run "
          "this on a quiet host (nothing else busy), and its compares run alone.", flush=True)
    for cid, label, argv, est in runs:
        print(f"time-model: {cid}, {label}: {' '.join(_quote(a) for a in argv)}   # about {_minutes(est)}",
              flush=True)
    if dry_run:
        return 0
    folder = Path(results_dir) / f"time-model-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir()
    except FileExistsError:
        raise AnalysisError(f"{folder} exists (a study started this second?); run again") from None
    record = {"format": 1, "paper_dir": str(Path(paper_dir).resolve()),
              "time_models": [m for m, _, _ in STUDY_MODELS], "runs": []}
    for cid, label, argv, est in runs:
        record["runs"].append({"claim": cid, "time_model": label, "command": argv, "estimated_s": round(est),
                               "result": None, "exit_code": None})
    _write_json(folder / "study.json", record)
    drop = set(_run_vars())
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["RESULTS"] = str(folder)
    runner = runner or paper._rerun_prefixed
    gate, lock = paper._Gate(jobs), threading.Lock()
    left = [total]

    def one(k):
        cid, label, argv, est = runs[k]
        gate.enter(label == "real")
        try:
            with lock:
                print(f"time-model: [{k + 1}/{len(runs)}] {cid} under {label} (about {_minutes(est)}; about "
                      f"{_minutes(left[0])} of runs left)", flush=True)
            proc = runner(argv, env=env, cwd=str(REPO), stdout=subprocess.PIPE, text=True,
                          label=f"{cid} {label}" if jobs > 1 else None)
        finally:
            gate.leave()
        lines = [line for line in (proc.stdout or "").splitlines() if line.strip()]
        made = Path(lines[-1]) if lines and Path(lines[-1]).is_dir() else None
        with lock:
            left[0] -= est
            entry = record["runs"][k]
            entry["exit_code"] = proc.returncode
            entry["result"] = made.name if made else None
            _write_json(folder / "study.json", record)
            print(f"time-model: {cid} under {label}: "
                  + (f"{made}" if made else "no result") + f" (exit {proc.returncode})", flush=True)
        return 0 if made and proc.returncode == 0 else 1

    with ThreadPoolExecutor(max_workers=jobs) as ex:
        failed = sum(ex.map(one, range(len(runs))))
    print(f"time-model: done; {folder}/study.json records which claim and time model each result is for. "
          "To keep them for the paper:", flush=True)
    for cid in dict.fromkeys(r[0] for r in runs):
        mine = [e for e in record["runs"] if e["claim"] == cid]
        ok = [e["result"] and e["exit_code"] == 0 for e in mine]
        valid = [e["result"] for e, good in zip(mine, ok) if good]
        for rid in valid:
            print(f"  make paper-add RESULT={_quote(str(folder / rid))}")
        print(f"  claims.ini [claim {cid}]: time_model = {' '.join(valid)}")
        for e, good in zip(mine, ok):
            if not good:
                print(f"  {cid} under {e['time_model']}: no valid result ({e['result'] or 'none'}, exit "
                      f"{e['exit_code']}); run it again" + (" on a quiet host" if e["time_model"] == "real" else ""))
    return 1 if failed else 0


def _quote(word):
    return shlex.quote(word)
