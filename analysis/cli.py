"""`python3 -m analysis <command>`: the entry point behind `make report|figures|paper|publish|verify|
reproduce-paper` (analysis/analysis.mk).

    report [RESULT...] [--json] [--metric M]... [--allow-host-mismatch]
                                   comparison table; default: newest under --results. Several
                                   results are pooled only when their factors and their hosts'
                                   fingerprints match (--allow-host-mismatch: the hosts may differ)
    ci RESULT... [--metric M] [--within PCT] [--json] [--allow-host-mismatch]
                                   per policy: ratio to cfs of the headline metric (or M), its 95%
                                   bootstrap CI and the CI's half-width in percentage points. With
                                   --within, exit 0 only if every half-width is at most PCT (1 if
                                   not): the stopping rule of `make compare PRECISION=`
    figures [RESULT...] [--out DIR] [--format svg,png,pdf]
                                   default: the paper's results into paper/figures; named
                                   results into build/figures
    paper [--paper-dir DIR] [--results DIR]
                                   regenerate the paper from paper/claims.ini and the results kept
                                   under paper/results (or DIR: results/ in a published bundle)
    export [RESULT...] [--out FILE]
                                   every measured value as one long-format CSV (analysis/export.py
                                   lists the columns); default: the paper's results
    add-result RESULT [--paper-dir DIR] [--dirty-because TEXT]
                                   keep a result under paper/results (big raw files compressed)
    publish [RESULT...] [--out DIR] [--name NAME]
                                   a bundle with SHA256SUMS; default: the paper's results
    verify BUNDLE [--sums-sha256 HEX]
                                   check every file of a bundle (directory or .tar.gz)
    overhead SWEEP_DIR, weights SWEEP_DIR
                                   a sweep's table (overhead.md/json, weights.md/json in its
                                   folder), from the valid points its sweep.json records; points
                                   without a valid result are listed as missing
    sweep SWEEP_DIR                the table the sweep declares ([sweep] analysis = ...); a note
                                   and exit 0 when it declares none
    reproduce-paper [--results DIR] [--dry-run] [--jobs N]
                                   rerun every experiment the paper quotes
    time-model [--claims 'ID...'] [--models 'NAME...'] [--results DIR] [--repeats N] [--duration S] [--jobs N] [--dry-run]
                                   each ratio claim's compare under every time model of the study
                                   (analysis/timemodel.py), into a new RESULTS/time-model-<time>/
    time-model-table [--paper-dir DIR]
                                   claim x time model: ratio, 95% CI, verdict, and which claims
                                   are emulation-sensitive, from claims.ini's time_model = results
    selfcheck DIR                  what `make selfcheck-host` brought back: every inner result
                                   against its check (analysis/selfcheck.py); DIR becomes
                                   DIR-INVALID when one fails; prints the folder last

Exit status: 0 fine; 1 a check failed (verify, ci --within, a rerun, selfcheck); 2 bad input.
"""
import argparse
import json
import math
import re
import sys
from pathlib import Path

from . import AnalysisError
from . import stats
from .compare import pool, compare, ratio_cis
from .loader import expand, load_result, newest_result

REPO = Path(__file__).resolve().parent.parent


def _datasets(paths, pooled=True, allow_host_mismatch=False):
    results = [load_result(p) for p in expand(paths)]
    if pooled:
        return [pool(results, allow_host_mismatch=allow_host_mismatch)]
    return [pool([r]) for r in results]


def cmd_report(args):
    paths = args.result or [newest_result(args.results)]
    from .report import render_json, render_text
    ds = _datasets(paths, allow_host_mismatch=args.allow_host_mismatch)[0]
    cmp = compare(ds, metrics=args.metric or None)
    print(render_json(cmp) if args.json else render_text(cmp))
    return 0


def cmd_ci(args):
    ds = _datasets(args.result, allow_host_mismatch=args.allow_host_mismatch)[0]
    rows = ratio_cis(ds, metric=args.metric)
    metric = args.metric or ds.first.headline
    ok = True
    out = []
    for policy, r, n, nb in rows:
        hw = r.halfwidth_pct if r is not None else math.inf
        if args.within is not None and not hw <= args.within:
            ok = False
        out.append({"policy": policy, "metric": metric, "ratio": r.ratio if r else None,
                    "ci_low": r.ci_low if r else None, "ci_high": r.ci_high if r else None,
                    "halfwidth_pct": None if math.isinf(hw) else hw, "runs": n, "baseline_runs": nb,
                    "design": r.design if r else None})
    if args.json:
        print(json.dumps({"results": ds.ids, "confidence": stats.CONFIDENCE, "policies": out,
                          "within": args.within, "all_within": ok}, indent=2))
    else:
        for o in out:
            f = (lambda v: "nan" if v is None else f"{v:.4f}")
            hw = "inf" if o["halfwidth_pct"] is None else f"{o['halfwidth_pct']:.2f}"
            print(f"{o['policy']} metric={metric} ratio={f(o['ratio'])} ci=[{f(o['ci_low'])},{f(o['ci_high'])}] "
                  f"halfwidth_pct={hw} runs={o['runs']} baseline_runs={o['baseline_runs']} "
                  f"design={(o['design'] or '-').replace(' ', '-')}")
    return 0 if ok else 1


def cmd_overhead(args):
    from . import overhead
    print(overhead.write(args.sweep), end="")
    return 0


def cmd_weights(args):
    from . import weights
    print(weights.write(args.sweep), end="")
    return 0


def cmd_sweep(args):
    from . import sweep
    md, note = sweep.run_declared(args.sweep)
    if md is not None:
        print(md, end="")
    print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_figures(args):
    from . import figures, paper
    paths = args.result or paper.paper_result_dirs(args.paper_dir)
    if not paths:
        raise AnalysisError(f"no result to draw: name one with RESULT= or keep some under {args.paper_dir}/results")
    datasets = _datasets(paths, pooled=False)
    # The paper's figures folder holds only the paper's figures: others go to build/figures.
    out = Path(args.out or (REPO / "build" / "figures" if args.result else Path(args.paper_dir) / "figures"))
    figs, notes = figures.make_all(datasets, out, tuple(args.format.split(",")))
    for f in figs:
        print(f"figure: {f.path}")
    for n in notes:
        print(f"note: {n}")
    return 0


def cmd_export(args):
    from . import export, paper
    paths = args.result or paper.paper_result_dirs(args.paper_dir)
    out = Path(args.out)
    n = export.export(paths, out)
    print(f"export: {n} rows from {len(paths)} result(s); pandas: pandas.read_csv({str(out)!r})", file=sys.stderr)
    print(out)
    return 0


def cmd_paper(args):
    from . import paper
    written = paper.build(Path(args.paper_dir), args.results)
    for p in written:
        print(f"wrote {p}")
    return 0


def cmd_add_result(args):
    from . import paper
    dest = paper.add_result(Path(args.result), Path(args.paper_dir), dirty_because=args.dirty_because)
    print(dest)
    return 0


def cmd_publish(args):
    from . import bundle, paper
    paths = args.result or paper.paper_result_dirs(args.paper_dir)
    if not paths:
        raise AnalysisError(f"nothing to publish: name results with RESULT= or keep some under {args.paper_dir}/results")
    path, tarball, sums_hash, notes = bundle.publish(expand(paths), Path(args.out), name=args.name,
                                                     paper_dir=Path(args.paper_dir))
    for n in notes:
        print(f"publish: note: {n}", file=sys.stderr)
    print(f"bundle: {path}\ntarball: {tarball}\nsha256 of SHA256SUMS: {sums_hash}")
    print(f"verify with: make verify BUNDLE={tarball} SUMS_SHA256={sums_hash}")
    return 0


def cmd_verify(args):
    from . import bundle
    problems = bundle.verify(Path(args.bundle), expected_sums_sha256=args.sums_sha256)
    for p in problems:
        print(f"verify: {p}", file=sys.stderr)
    if problems:
        print(f"verify: {args.bundle}: FAILED ({len(problems)} problem(s))", file=sys.stderr)
        return 1
    print(f"verify: {args.bundle}: OK, every file matches SHA256SUMS")
    return 0


def cmd_reproduce_paper(args):
    from . import paper
    return paper.reproduce(Path(args.paper_dir), Path(args.results), dry_run=args.dry_run,
                           jobs=args.jobs or 1)


def cmd_time_model(args):
    from . import timemodel
    return timemodel.study(Path(args.paper_dir), Path(args.results), claim_ids=args.claims.split(), repeats=args.repeats,
                           duration=args.duration, jobs=args.jobs or 1, dry_run=args.dry_run,
                           models=args.models.split())


def cmd_time_model_table(args):
    from . import paper, timemodel
    print(timemodel.render_markdown(timemodel.table(paper.load_claims(args.paper_dir), args.paper_dir)), end="")
    return 0


def cmd_selfcheck(args):
    from . import selfcheck
    return selfcheck.main(args.folder)


def jobs_count(text):
    """JOBS: a whole number from 1 ("" is the default)."""
    if text == "":
        return None
    if not re.fullmatch(r"[1-9][0-9]{0,2}", text):
        raise argparse.ArgumentTypeError(f"JOBS={text!r}: give how many reruns may run at once, a whole number from 1")
    return int(text)


def parser():
    p = argparse.ArgumentParser(prog="python3 -m analysis", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    paper_dir = {"default": str(REPO / "paper"), "help": "the paper's folder (default: paper/ of this checkout)"}

    s = sub.add_parser("report", help="comparison table of one result (or several whose factors match)")
    s.add_argument("result", nargs="*", help="result directories (default: the newest under --results)")
    s.add_argument("--results", default=str(REPO / "results"), help="where to look for the newest result")
    s.add_argument("--metric", action="append", help="only this metric (repeatable)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--allow-host-mismatch", action="store_true",
                   help="pool results whose hosts' fingerprints differ (the report notes it)")
    s.set_defaults(fn=cmd_report)

    s = sub.add_parser("ci", help="per-policy ratio-to-cfs bootstrap CI half-width in percent")
    s.add_argument("result", nargs="+")
    s.add_argument("--metric", help="default: the result's headline metric")
    s.add_argument("--within", type=float, metavar="PCT", help="exit 1 unless every half-width <= PCT")
    s.add_argument("--json", action="store_true")
    s.add_argument("--allow-host-mismatch", action="store_true",
                   help="pool results whose hosts' fingerprints differ (the report notes it)")
    s.set_defaults(fn=cmd_ci)

    s = sub.add_parser("overhead", help="the per-policy overhead table of an overhead sweep")
    s.add_argument("sweep", help="the sweep's folder (results/sweeps/overhead-<hash>)")
    s.set_defaults(fn=cmd_overhead)

    s = sub.add_parser("weights", help="achieved vs entitled cgroup shares per point of a weight sweep")
    s.add_argument("sweep", help="the sweep's folder (results/sweeps/cgroup-weights-<hash>)")
    s.set_defaults(fn=cmd_weights)

    s = sub.add_parser("sweep", help="the table a sweep declares ([sweep] analysis = weights|overhead)")
    s.add_argument("sweep", help="the sweep's folder (results/sweeps/<name>-<hash>, with its sweep.json)")
    s.set_defaults(fn=cmd_sweep)

    s = sub.add_parser("figures", help="draw the figures")
    s.add_argument("result", nargs="*", help="default: every result under the paper's results/")
    s.add_argument("--out", help="default: <paper-dir>/figures for the paper's results, else build/figures")
    s.add_argument("--format", default="svg", help="comma-separated: svg, png, pdf (default svg)")
    s.add_argument("--paper-dir", **paper_dir)
    s.set_defaults(fn=cmd_figures)

    s = sub.add_parser("export", help="every measured value as one long-format CSV (pandas.read_csv)")
    s.add_argument("result", nargs="*", help="default: every result under the paper's results/")
    s.add_argument("--out", default=str(REPO / "build" / "export" / "results.csv"),
                   help="the CSV file to write (default: build/export/results.csv)")
    s.add_argument("--paper-dir", **paper_dir)
    s.set_defaults(fn=cmd_export)

    s = sub.add_parser("paper", help="regenerate the paper")
    s.add_argument("--paper-dir", **paper_dir)
    s.add_argument("--results", help="the kept results the claims name (default: <paper-dir>/results; in a "
                                     "published bundle: results)")
    s.set_defaults(fn=cmd_paper)

    s = sub.add_parser("add-result", help="keep a result under the paper's results/")
    s.add_argument("result")
    s.add_argument("--dirty-because", metavar="TEXT",
                   help="keep a result made from a modified work tree anyway, for this reason (recorded)")
    s.add_argument("--paper-dir", **paper_dir)
    s.set_defaults(fn=cmd_add_result)

    s = sub.add_parser("publish", help="make a result bundle")
    s.add_argument("result", nargs="*", help="default: every result under the paper's results/")
    s.add_argument("--out", default=str(REPO / "build" / "publish"))
    s.add_argument("--name", help="bundle name (default: scxlab-results-<UTC time>)")
    s.add_argument("--paper-dir", **paper_dir)
    s.set_defaults(fn=cmd_publish)

    s = sub.add_parser("verify", help="check a bundle's integrity")
    s.add_argument("bundle", help="bundle directory or .tar.gz")
    s.add_argument("--sums-sha256", help="the sha256 of SHA256SUMS, published apart from the bundle")
    s.set_defaults(fn=cmd_verify)

    s = sub.add_parser("reproduce-paper", help="rerun every experiment the paper quotes")
    s.add_argument("--results", default=str(REPO / "results"), help="where the reruns' results go")
    s.add_argument("--dry-run", action="store_true", help="print the commands only")
    s.add_argument("--jobs", type=jobs_count, default=None, metavar="N",
                   help="reruns at once (JOBS=; default 1, as sweeps: README, Guests in parallel); one on the "
                        "real clock runs alone")
    s.add_argument("--paper-dir", **paper_dir)
    s.set_defaults(fn=cmd_reproduce_paper)

    s = sub.add_parser("time-model", help="each ratio claim under every time model of the study")
    s.add_argument("--claims", default="", metavar="'ID ...'",
                   help="claim ids, separated by blanks (default: every ratio claim)")
    s.add_argument("--models", default="", metavar="'NAME ...'",
                   help="time models of the study to run: shift=3, shift=2, real (default: all)")
    s.add_argument("--results", default=str(REPO / "results"), help="where the study's folder goes")
    s.add_argument("--repeats", default="", help="runs per policy (default: the kept results')")
    s.add_argument("--duration", default="", help="seconds per run (default: the kept results')")
    s.add_argument("--dry-run", action="store_true", help="print the commands and the estimate only")
    s.add_argument("--jobs", type=jobs_count, default=None, metavar="N",
                   help="compares at once (default 1); a real-clock one runs alone")
    s.add_argument("--paper-dir", **paper_dir)
    s.set_defaults(fn=cmd_time_model)

    s = sub.add_parser("time-model-table", help="claim x time model: verdicts, and which are emulation-sensitive")
    s.add_argument("--paper-dir", **paper_dir)
    s.set_defaults(fn=cmd_time_model_table)

    s = sub.add_parser("selfcheck", help="check what make selfcheck-host brought back")
    s.add_argument("folder", help="the selfcheck's folder (results/<id>-selfcheck-host)")
    s.set_defaults(fn=cmd_selfcheck)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except AnalysisError as e:
        print(f"analysis: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
