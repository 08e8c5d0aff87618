"""The paper's layout: from evaluated claims (analysis/paper.py) and the kept results, two
documents, each rendered as Markdown and HTML from one list of blocks (so the two cannot
diverge), with no timestamps (regenerating unchanged inputs changes no byte):

    paper.md, index.html        the paper: a one-screen summary first (claims, verdicts, the
                                claims figure), the claims in detail, the figures across policies
                                (overhead, cgroup weights, latency, the two clocks), the time model,
                                limitations, method; a table of contents made from its headings
    appendix.md, appendix.html  every kept result: its comparison table, its figures, how to
                                reproduce it; the weight sweep's table; the models; figures not drawn

Every figure written under figures/ is shown by one of the two (write_paper checks, and fails
otherwise), with a caption saying it was measured emulated (QEMU TCG). Every number comes from
the kept results: the text below is prose and the numbers are formatted from what analysis/
computed.

Blocks: ("h1"|"h2"|"h3", text), ("p", text), ("code", text), ("ul", [text]), ("table", head, rows),
("figure", path, caption), ("toc",) (replaced by the headings' links). Text may hold `code`,
**bold**, *emphasis* and [links](other.md#anchor); a link to a .md file reads .html in HTML.
"""
import dataclasses
import html
import json
import os
import re
from pathlib import Path

from . import AnalysisError
from . import claimfacts
from . import figures as figmod
from . import stats
from . import weights as weightsmod
from .compare import BASELINE, accel, compare
from .paper import ORIGINAL_SUMS, _proportion, _sentence, claimed_text, measured_text
from .report import fmt, fmt_ci, fmt_ratio, fmt_ratio_ci

PAPER, APPENDIX = "paper", "appendix"
EMULATED = "emulated (QEMU TCG)"
# Claim fields analysis/paper.py may add beside the verdict (shown when present and not empty):
# (attribute, heading). The verdict logic owns them; the layout only shows them.
EXTRA_FIELDS = (("mechanism", "Mechanism"), ("scheduler", "What the scheduler did"), ("models", "Models"),
                ("notes", "Notes"),
                ("multiple_comparisons", "Multiple comparisons"))


def P(text):
    return ("p", text)


# ---------------------------------------------------------------- anchors and links

def _slug(text):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def heading_anchors(doc):
    """[(index in doc, level, text, anchor)] for every heading, anchors made unique as GitHub
    does (-1, -2 ... on repeats), so Markdown and HTML links land on the same heading."""
    seen, out = {}, []
    for i, block in enumerate(doc):
        if block[0] in ("h1", "h2", "h3"):
            base = _slug(block[1])
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.append((i, int(block[0][1]), block[1], base if n == 0 else f"{base}-{n}"))
    return out


def anchor_of(doc, text):
    return next(a for _, _, t, a in heading_anchors(doc) if t == text)


def toc_entries(doc):
    """The table of contents: every h2 and h3, in order, with its anchor."""
    return [(level, text, a) for _, level, text, a in heading_anchors(doc) if level in (2, 3)]


# ---------------------------------------------------------------- rendering

_INLINE_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_EM = re.compile(r"(?<![*\w])\*([^*\s][^*]*)\*(?![*\w])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _md_cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _plain(text):
    """Heading text as a TOC label: no link syntax inside a link."""
    return text.replace("[", "").replace("]", "")


def render_markdown(doc):
    out = []
    for block in doc:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + block[1])
        elif kind == "p":
            out.append(block[1])
        elif kind == "code":
            out.append("```sh\n" + block[1] + "\n```")
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "toc":
            out.append("**Contents**\n\n" + "\n".join(f"{'  ' * (level - 2)}- [{_plain(text)}](#{a})"
                                                     for level, text, a in toc_entries(doc)))
        elif kind == "figure":
            out.append(f"![{Path(block[1]).stem}]({block[1]})\n\n*{block[2]}*")
        elif kind == "table":
            head, rows = block[1], block[2]
            lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |",
                     "|" + "|".join("---" for _ in head) + "|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _href(target):
    path, sep, frag = target.partition("#")
    if path == f"{PAPER}.md":
        path = "index.html"  # the paper's HTML page is the folder's index
    elif path.endswith(".md") and "://" not in path:
        path = path[:-3] + ".html"
    return html.escape(path + sep + frag)


def _inline_html(text):
    t = html.escape(text, quote=False)
    t = _INLINE_CODE.sub(r"<code>\1</code>", t)
    t = _LINK.sub(lambda m: f'<a href="{_href(m.group(2))}">{m.group(1)}</a>', t)
    t = _BOLD.sub(r"<strong>\1</strong>", t)
    return _EM.sub(r"<em>\1</em>", t)


def render_html(doc):
    anchors = {i: a for i, _, _, a in heading_anchors(doc)}
    body = []
    for i, block in enumerate(doc):
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            body.append(f'<{kind} id="{anchors[i]}">{_inline_html(block[1])}</{kind}>')
        elif kind == "p":
            body.append(f"<p>{_inline_html(block[1])}</p>")
        elif kind == "code":
            body.append(f"<pre><code>{html.escape(block[1], quote=False)}</code></pre>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "toc":
            body.append('<nav class="toc"><strong>Contents</strong><ul>' + "".join(
                f'<li class="l{level}"><a href="#{a}">{_inline_html(_plain(text))}</a></li>'
                for level, text, a in toc_entries(doc)) + "</ul></nav>")
        elif kind == "figure":
            body.append(f'<figure><img src="{html.escape(block[1])}" alt="{html.escape(Path(block[1]).stem)}">'
                        f"<figcaption>{_inline_html(block[2])}</figcaption></figure>")
        elif kind == "table":
            head, rows = block[1], block[2]
            t = ["<table>", "<tr>" + "".join(f"<th>{_inline_html(h)}</th>" for h in head) + "</tr>"]
            t += ["<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in r) + "</tr>" for r in rows]
            body.append("\n".join(t + ["</table>"]))
    title = html.escape(doc[0][1]) if doc and doc[0][0] == "h1" else "scxlab"
    style = ("body{font-family:sans-serif;max-width:62em;margin:2em auto;padding:0 1em;line-height:1.45}"
             "table{border-collapse:collapse;font-size:.85em;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
             "pre{background:#f4f4f4;padding:.6em;overflow-x:auto}code{font-size:.9em}"
             "nav.toc ul{list-style:none;padding-left:0}nav.toc li.l3{padding-left:1.5em;font-size:.9em}"
             "figure{margin:1.5em 0}img{max-width:100%}figcaption{font-size:.85em;color:#444}")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title}</title>\n<style>{style}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


# ---------------------------------------------------------------- pieces

def _figure(f, paper_dir):
    cap = f.caption if EMULATED.lower() in f.caption.lower() else figmod.caption(f.caption)
    return ("figure", os.path.relpath(f.path, paper_dir), cap)


def _reproduce_block(result):
    cmd = result.reproduce_command()
    commit = result.git_commit
    software = result.manifest.get("software") or {}
    if not software.get("git_dirty"):
        lines = [f"# {result.id}: made by scxlab commit {commit or '(unknown)'}; run from a checkout of it"]
    elif (software.get("git_diff") or {}).get("file"):
        lines = [f"# {result.id}: made by scxlab commit {commit or '(unknown)'} with changes not committed, "
                 f"kept in the result ({software['git_diff']['file']}): run from a checkout of it with "
                 "that patch applied"]
    else:
        why = (software.get("git_diff") or {}).get("omitted") or "made before the runner kept them"
        lines = [f"# {result.id}: made by scxlab commit {commit or '(unknown)'} with changes not committed "
                 f"and not recorded ({why}): a checkout of it is the nearest code, not the same"]
    if cmd and cmd != "test":
        lines.append(f"{cmd}   # prints the new result directory last")
        lines.append("make report   # its comparison table (the newest result), computed as here")
    else:
        lines.append(f"# no reproduce command recorded (manifest command: {result.command!r})")
    return "\n".join(lines)


def _model_code_lines(code):
    """How a model file names the code that trained it: the sha256 of the trainer's sources (legacy
    files, trained before that, name a git commit instead)."""
    if "git_commit" in code:
        return [f"# trained by tools/mltrain at commit {code.get('git_commit') or '?'}"
                + (" (work tree modified)" if code.get("git_dirty") else "")]
    sources = sorted((code.get("sources_sha256") or {}).items())
    if not sources:
        return ["# trained by tools/mltrain (its sources not recorded)"]
    return ["# trained by tools/mltrain from sources with these sha256 (the same sources train the same model):"] \
        + [f"#   {name} {digest}" for name, digest in sources]


def _trace_name(trace):
    """A trace as a model file names it: result directory and file (legacy files: the path it had)."""
    if "file" in trace:
        return f"{trace['result']}/{trace['file']}" if trace.get("result") else trace["file"]
    return trace.get("path", "?")


def _legacy_window_note(datasets, ids, what):
    """A paragraph naming which of the results behind a figure (ids) predate the runner's record of
    the client's window (every valid run's window_source "legacy"), and what that does to what the
    figure shows; None when none do."""
    ids = set(ids)
    by_id = {res.id: res for ds in datasets for res in ds.results if res.id in ids}
    legacy = sorted(i for i, res in by_id.items()
                    if any(r.valid for r in res.runs) and all(r.window_source == "legacy" for r in res.runs if r.valid))
    if not legacy:
        return None
    commits = sorted({(by_id[i].git_commit or "?")[:8] for i in legacy})
    return P(f"**Made before the measured window.** {len(legacy)} of the {len(by_id)} results drawn here (made "
             f"at commit{'s' if len(commits) > 1 else ''} {', '.join(commits)}) predate the runner's record of "
             f"the client's own window: their {what} are over each client's whole lifetime (start-up, and for "
             "apache the drain of queued CGI requests, included), not over what the client measured. Remade "
             "results replace them: " + ", ".join(f"`{i}`" for i in legacy) + ".")


def _comparison_table(cmp):
    head = ["metric", "unit", "stat", "policy", "runs (+invalid)", "value [95% CI]", f"vs {cmp.baseline} [95% CI]", ""]
    rows = []
    for m in cmp.metrics:
        for k, r in enumerate(m.rows):
            s = r.summary
            val = f"{fmt(s.center)} {fmt_ci(s.ci_low, s.ci_high) if s.ci_low is not None else ''}".strip() if s \
                else "no valid run"
            if r.ratio and r.ratio.ratio is not None:
                rat = f"{fmt_ratio(r.ratio.ratio)} {fmt_ratio_ci(r.ratio.ci_low, r.ratio.ci_high)}".strip()
            else:
                rat = "baseline" if r.policy == cmp.baseline else "-"
            mark = (f"significant after Holm, {r.direction}" if r.direction else "") + \
                   (" (few runs)" if r.ratio and r.ratio.few_runs and r.ratio.ci_low is not None else "")
            runs = f"{r.n_valid}" + (f" (+{r.n_invalid})" if r.n_invalid else "")
            rows.append([m.name if k == 0 else "", m.unit if k == 0 else "", m.stat if k == 0 else "",
                         r.policy, runs, val, rat, mark.strip()])
    return ("table", head, rows)


def result_heading(res):
    return f"{res.workload}: {', '.join(res.policies)} (`{res.id}`)"


def _verdict_text(c):
    tentative = getattr(c, "tentative", False) and "tentative" not in c.verdict
    return c.verdict + (" (tentative)" if tentative else "")


def _mechanism_blocks(c):
    """The claimed idea's own mechanism (claimfacts.Mechanism rows): what it measured per policy,
    and the claimed policy against each ablation."""
    m0 = c.mechanism[0]
    return [P(f"**Mechanism.** {m0.what}, mean over runs [95% CI]:"),
            ("table", ["policy", "role", "measured [95% CI]", f"{c.policy} vs it [95% CI]"],
             [[m.policy, m.role, f"{fmt(m.measured.center)} {fmt_ci(m.measured.ci_low, m.measured.ci_high)}",
               (f"{fmt_ratio(m.vs_claimed.ratio)} {fmt_ratio_ci(m.vs_claimed.ci_low, m.vs_claimed.ci_high)}"
                if m.vs_claimed else "")] for m in c.mechanism])]


def _scheduler_blocks(c):
    """What the scheduler did in the claim's runs (claimfacts.SchedRow): the baseline's value, and
    every other policy's with its change against the baseline; * where significant after Holm."""
    policies = [p for p, _, _ in c.scheduler[0].cells]

    def cell(summary, ratio):
        if summary is None:
            return "-"
        text = f"{fmt(summary.center)} {fmt_ci(summary.ci_low, summary.ci_high)}".strip()
        if ratio is not None and ratio.ratio is not None:
            text += f" ({fmt_ratio(ratio.ratio)} {fmt_ratio_ci(ratio.ci_low, ratio.ci_high)}".rstrip() + \
                    ("*" if ratio.significant else "") + ")"
        return text
    return [P(f"**What the scheduler did** in the same runs: each counter's value (mean or median over runs, "
              f"95% CI) and, in brackets, its change against `{policies[0]}`; * marks a change significant after "
              f"Holm's correction over this table. Counters from `/proc/schedstat`, per-task schedstat, "
              f"`perf stat` and sched_ext's event counters (README, What the scheduler did)."),
            ("table", ["counter", "unit"] + [f"`{p}`" for p in policies],
             [[r.what, r.unit] + [cell(s, ra) for _, s, ra in r.cells] for r in c.scheduler])]


def _models_list(c):
    """Every kept model of an accuracy claim (mlmodel.ModelAccuracy): held-out accuracy with its
    interval over traces, beside the exact interval on rows."""
    return ("ul", [f"`{m.path}` ({m.split} split): {fmt(m.held_out.accuracy)} "
                   + (f"{fmt_ci(m.held_out.ci_low, m.held_out.ci_high)} over {m.held_out.clusters} traces"
                      if m.held_out.ci_low is not None else f"(no interval over traces: {m.missing})")
                   + f", rows as independent {fmt_ci(*m.exact_ci)}; n={m.held_out.rows} rows; verdict: {m.verdict}"
                   for m in c.models])


def _extra_blocks(claim):
    """What the verdict logic added to the claim beyond the verdict (EXTRA_FIELDS); the models are
    shown under Measured."""
    out = []
    for attr, label in EXTRA_FIELDS:
        value = getattr(claim, attr, None)
        if not value or attr == "models":
            continue
        if attr == "mechanism":
            out += _mechanism_blocks(claim)
            continue
        if attr == "scheduler":
            out += _scheduler_blocks(claim)
            continue
        if attr == "notes":
            out.append(("ul", [_sentence(n) for n in value]))
            continue
        if isinstance(value, str):
            out.append(P(f"**{label}.** {value}"))
            continue
        items = []
        for v in value:
            if dataclasses.is_dataclass(v):
                v = dataclasses.asdict(v)
            if isinstance(v, dict):
                items.append("; ".join(f"{k}: {x}" for k, x in v.items()))
            elif isinstance(v, (tuple, list)):
                items.append("; ".join(str(x) for x in v))
            else:
                items.append(str(v))
        out += [P(f"**{label}.**"), ("ul", items)]
    return out


def _pct(r):
    """A Ratio as "+x.x% [+lo%, +hi%]" ("-" without one)."""
    if r is None or r.ratio is None:
        return "-"
    return f"{(r.ratio - 1) * 100:+.1f}%" + ("" if r.ci_low is None else
                                               f" [{(r.ci_low - 1) * 100:+.1f}%, {(r.ci_high - 1) * 100:+.1f}%]")


def _twin_text(c, j):
    """The claim judged with a kernel twin (paper.TwinJudgement) in the claimed policy's place."""
    bad = (f" {len(j.invalid)} run(s) of `{j.twin}` were invalid and are left out: "
           + "; ".join(j.invalid) + ".") if j.invalid else ""
    if j.ratio is None:
        return f"**Judged with the kernel's `{j.twin}`: not measured.** {_sentence(j.explanation)}{bad}"
    return (f"**Judged with the kernel's `{j.twin}`** in `{c.policy}`'s place (the same results): {j.verdict}, "
            f"{_pct(j.ratio)} against `{BASELINE}` (n={j.n}); {_sentence(j.explanation)} `{c.policy}` against "
            f"`{j.twin}`: {_pct(j.versus)}.{bad}")


def _change(r):
    """A Ratio as (% change, low, high) for the claims figure."""
    c = (r.ratio - 1) * 100
    return (c, None, None) if r.ci_low is None else (c, (r.ci_low - 1) * 100, (r.ci_high - 1) * 100)


def claim_point(c, comparisons):
    """What the claims figure shows of claim c, or None before it is measured."""
    if c.measured is None:
        return None
    if c.kind == "ratio":
        if c.measured.ratio is None:
            return None
        refs = []
        if c.ablations and c.dataset is not None:
            m = comparisons.setdefault(("claim", c.id), compare(c.dataset, metrics=[c.metric])).metric(c.metric)
            for ab in c.ablations:
                row = next((r for r in m.rows if r.policy == ab), None)
                if row and row.ratio and row.ratio.ratio is not None:
                    refs.append(("ablation", ab, _change(row.ratio)))
        return figmod.ClaimPoint(c.title, "ratio", (c.expected - 1) * 100, _change(c.measured), c.policy, refs)
    s = c.measured
    refs = []
    base = (((c.model_doc or {}).get("training") or {}).get("metrics") or {}).get("held_out_majority_baseline")
    if isinstance(base, dict):
        refs.append(("majority baseline", None, (_proportion(base, c.model)[0], None, None)))
    return figmod.ClaimPoint(c.title, c.kind, c.expected, (s.center, s.ci_low, s.ci_high),
                             c.policy or "model", refs)


def _link(label, page, anchor):
    return f"[{label}]({page}.md#{anchor})"


# ---------------------------------------------------------------- the two documents

def appendix_document(claims, datasets, per_result, fig_notes, paper_dir, comparisons):
    doc = [("h1", "scxlab: appendix, every kept result"),
           P(f"The per-result detail of [the paper]({PAPER}.md), generated with it by `make paper`. "
             f"**Everything was measured in an emulated guest (QEMU TCG)**: absolute numbers are not those of "
             f"real hardware. The value is the harmonic mean for rates, the median for times, the mean otherwise; "
             f"intervals are 95% bootstrap intervals; *significant after Holm* means the ratio's interval excludes no "
             f"change and its p-value survives Holm's correction over every ratio row of its table."),
           ("toc",),
           ("h2", "Kept results")]
    sweep_points = [ds for ds in datasets if weightsmod.is_weight_sweep_point(ds.first)]
    for ds in datasets:
        if weightsmod.is_grid_point(ds.first):
            continue
        res = ds.first
        doc.append(("h3", result_heading(res)))
        inv = len([r for r in ds.runs if not r.valid])
        doc.append(P(f"{ds.describe()}; {len(ds.runs)} runs" + (f", {inv} invalid and excluded" if inv else "")
                     + (f"; result marked invalid: {'; '.join(res.manifest.get('invalid_reasons', []))}"
                        if not res.valid else "") + "."))
        key = tuple(ds.ids)
        if key not in comparisons:
            comparisons[key] = compare(ds)
        doc.append(_comparison_table(comparisons[key]))
        if comparisons[key].notes:
            doc.append(("ul", [_sentence(n) for n in comparisons[key].notes]))
        for f in per_result.get(res.id, []):
            doc.append(_figure(f, paper_dir))
        doc.append(P("Reproduce:"))
        doc.append(("code", _reproduce_block(res)))
    doc += _grid_appendix("The cgroup weight sweep", weightsmod.WEIGHT_SWEEP, sweep_points,
                          "two workload instances in sibling cgroups DEPTH levels down, weighted RATIO:1; policies "
                          "interleaved and repeated in one boot per point", drawn="heat maps")
    shares_valid, shares_invalid = weightsmod.share_points(datasets)
    if shares_valid or shares_invalid:
        doc += _grid_appendix("The share-accuracy sweep", weightsmod.SHARE_SWEEP, shares_valid,
                              "two CPU-bound `cpuspin` instances in sibling cgroups DEPTH levels down, weighted "
                              "RATIO:1; policies interleaved and repeated in one boot per point",
                              drawn="the share error against the ratio", invalid=shares_invalid)
    models = [c for c in claims if c.kind == "model" and c.measured is not None]
    if models:
        doc.append(("h2", "Models"))
    for c in models:
        for rel in c.model.split():
            mdoc = json.loads((Path(paper_dir) / rel).read_text())
            prov = mdoc.get("provenance", {})
            traces = prov.get("traces", [])
            doc.append(("h3", f"{c.title} (`{rel}`)"))
            doc.append(P("Reproduce: train again from the same traces with the same seed (training is "
                         "deterministic); the model file records its inputs:"))
            doc.append(("code", "\n".join(
                _model_code_lines(prov.get("code", {}))
                + ["# training parameters: " + ", ".join(f"{k}={v}" for k, v in mdoc.get("training", {}).items()
                                                         if isinstance(v, (int, float, str)))]
                + [f"# trace {_trace_name(t)} sha256 {t.get('sha256')}" for t in traces]
                + ([mdoc["command"]] if isinstance(mdoc.get("command"), str) else [])
                + (["make check-models   # retrains every model under paper/models from paper/results, "
                    "compares bytes"] if traces and all(t.get("result") for t in traces) else []))))
    if fig_notes:
        doc.append(("h2", "Figures not drawn"))
        doc.append(("ul", fig_notes))
    return doc


# A policy's ejection whose cause was found and fixed: the fixing commit (a prefix of its hash),
# the stat the fix added to the policy (a run whose stats lack it ran the code before the fix),
# and why; said beside a kept invalid share-accuracy point whose ejected runs are from before it.
EJECTION_FIXED = {
    "cgfifo": ("8f779720", "clock_back",
               "cgfifo charged each run the CPU time between two clock readings, one where the run started and "
               "one where it stopped. The stop can be handled on another CPU than the task's (when a task's "
               "scheduling class is changed from there, as the agent does to perf as a measurement starts), and "
               "that CPU's clock can read earlier: the difference wrapped around to nearly 2^64 ns, and the run's "
               "cgroup leapt so far ahead in virtual time that it was never served again. When that cgroup is "
               "the root, where the kernel's workers and the agent run, the kernel's watchdog work never runs and "
               "the kernel ejects the policy for a stall. Since commit {fix} such a run is charged nothing and "
               "counted (`{stat}` in the policy's stats)."),
}


def _fixed_ejections(res):
    """{policy: why} for the policies EJECTION_FIXED explains that res's reasons name ejected, when
    their runs ran the code from before the fix (stats without the fix's stat)."""
    reasons = res.manifest.get("invalid_reasons") or []
    out = {}
    for policy, (fix, stat, why) in EJECTION_FIXED.items():
        if not any(f"policy {policy} was ejected" in r for r in reasons):
            continue
        stats_seen = [((r.info.get("exit_info") or {}).get("stats") or {}) for r in res.runs if r.policy == policy]
        if any(st and stat not in st for st in stats_seen):
            out[policy] = why.format(fix=fix, stat=stat)
    return out


def _point_label(res):
    depth, ratio = weightsmod.tree_point(res)
    return f"depth {depth}, {ratio}:1"


def _grid_words(points):
    """"weight ratios 1, 2, 4 and 8, nested 1 to 4 deep" from the points themselves."""
    pts = {weightsmod.tree_point(ds.first) for ds in points}
    ratios, depths = sorted({r for _, r in pts}), sorted({d for d, _ in pts})
    listing = ", ".join(map(str, ratios[:-1])) + (" and " if len(ratios) > 1 else "") + str(ratios[-1])
    return (f"weight ratio{'s' if len(ratios) > 1 else ''} {listing}:1, nested "
            + (f"{depths[0]} to {depths[-1]}" if len(depths) > 1 else f"{depths[0]}") + " deep")


def _share_sweep_blocks(datasets, figs, paper_dir):
    """Issue 13 item 3: the share each policy kept where demand does not run out (two CPU-bound
    instances), as the share error against the ratio, each policy's worst point, and the points
    that missed the goal named."""
    out = [("h3", "Share accuracy where demand does not run out")]
    valid, invalid = weightsmod.share_points(datasets)
    if not valid and not invalid:
        return out + [P(f"Not measured: no kept result is a point of `make sweep SWEEP={weightsmod.SHARE_SWEEP}` "
                        "(two CPU-bound instances in sibling cgroups at several weight ratios and depths).")]
    wdoc = weightsmod.grid_doc(valid)
    goal = f"{wdoc['share_goal'] * 100:g}%"
    out.append(P(f"Two `cpuspin` instances, each with more spinning threads than the guest has vCPUs, in sibling "
                 f"cgroups at {_grid_words(valid + invalid)}, so that neither ever runs out of demand and the "
                 f"weights alone decide the split; the policies interleaved and repeated in one boot per point "
                 f"({len(valid)} valid point(s)). Share error: the higher-weighted instance's achieved CPU share "
                 f"(cgroup `cpu.stat`, over the client's window) divided by the share its weights entitle it to, "
                 f"minus 1. The goal for `cgfifo` is within +-{goal} at every point: a point meets it when the "
                 f"whole 95% interval of its error is inside."))
    out += [_figure(f, paper_dir) for f in figs]
    if wdoc["worst"]:
        out.append(("table", *weightsmod.worst_table(wdoc)))
        for policy, w in sorted(wdoc["worst"].items()):
            missed = [r for r in wdoc["rows"] if r["policy"] == policy and r.get("share_error")
                      and not r["share_error"]["within_goal"]]
            out.append(P(f"`{policy}` meets the +-{goal} goal at {w['within_goal']} of its {w['points']} points"
                         + (": every one." if not missed else "; not at " + ", ".join(
                             f"depth {r['depth']}, {r['ratio']}:1 "
                             f"({weightsmod.error_cell(dict(r['share_error'], within_goal=True))})"
                             for r in missed) + ".")))
    whys = {}
    for ds in invalid:
        res = ds.first
        rerun = any(weightsmod.tree_point(v.first) == weightsmod.tree_point(res) for v in valid)
        out.append(P(f"Point {_point_label(res)}: `{res.id}` is invalid ("
                     + "; ".join(res.manifest.get("invalid_reasons") or ["see its manifest"])
                     + "); it is not drawn" + (", its rerun is" if rerun else "") + "."))
        for policy, why in _fixed_ejections(res).items():
            whys.setdefault(policy, (why, set()))[1].add((res.git_commit or "?")[:8])
    for policy, (why, commits) in sorted(whys.items()):
        out.append(P(f"**Why `{policy}` was ejected** (code at commit {', '.join(sorted(commits))}): {why}"))
    out.append(P(f"Every point's shares and throughput: [appendix]({APPENDIX}.md#the-share-accuracy-sweep)."))
    return out


def _grid_appendix(title, sweep, points, intro, drawn, invalid=()):
    """The appendix section of a weight grid (the weight sweep, the share-accuracy sweep): one
    table of every valid point, the invalid ones named, and the command that reproduces it."""
    out = [("h2", title)]
    if not points and not invalid:
        return out + [P(f"No kept result is a point of `make sweep SWEEP={sweep}`.")]
    if points:
        out.append(P(f"{len(points)} points of `make sweep SWEEP={sweep}` ({intro}; " + points[0].describe()
                     + "). *Achieved*: the CPU share (cgroup cpu.stat) of the higher-weighted instance, mean over "
                       f"runs with its 95% bootstrap interval; *entitled*: what its weights give it. The paper "
                       f"draws it as {drawn}."))
        rows = sorted((r for ds in points for r in weightsmod.point_rows(ds.first)), key=weightsmod.row_order)
        out.append(("table", weightsmod.HEADER, [weightsmod.row_cells(r) for r in rows]))
    if invalid:
        out.append(P("Invalid points, not in the table: " + ", ".join(f"`{ds.first.id}` ({_point_label(ds.first)})"
                                                                      for ds in invalid) + "."))
    every = list(points) + list(invalid)
    first = every[0].first
    commits = sorted({ds.first.git_commit or "(unknown)" for ds in every})
    out.append(P("Reproduce (one result per point; the same command again retries the points that are not valid):"))
    out.append(("code", f"# made by scxlab commit {', '.join(commits)}; run from a checkout of it\n"
                        f"make sweep SWEEP={sweep} DURATION={first.factors.get('duration_s', '')} "
                        f"REPEATS={weightsmod.repeats_of(first)}"))
    return out


def _twin_blocks(datasets):
    """The kernel's own example schedulers beside scxlab's re-implementations (analysis/twins.py),
    from every kept result that ran a twin pair in one boot."""
    from . import twins as twinsmod
    # a weight grid's points (cgfifo beside scx_flatcg at every depth and ratio) are their sweep's
    rows, costs, cost_ids = twinsmod.rows_of_results([res for ds in datasets for res in ds.results
                                                      if not weightsmod.is_grid_point(res)])
    out = [("h3", "The kernel's own schedulers")]
    if not rows and not costs:
        return out + [P("No kept result runs one of scxlab's policies beside the kernel example scheduler it "
                        "re-implements (`make sweep SWEEP=twins`): the twin table is not drawn.")]
    pairs = ", ".join(f"`{a}`/`{b}`" for a, b in twinsmod.TWINS)
    out.append(P(f"Each scxlab policy beside the kernel's example scheduler it re-implements ({pairs}), measured in "
                 "the same boot, rounds interleaved: each side's headline against `cfs` and scxlab's against the "
                 "kernel's, 95% intervals. " + twinsmod.marks_legend() + " Where a pair differs, a verdict about "
                 "scxlab's version is not one about the idea both implement."))
    if rows:
        # the workloads measure different things (requests/s, seconds per run): each row says which
        out.append(("table", *twinsmod.table(rows, with_metric=True)))
        differ = sorted({(r["ours"], r["kernel"]) for r in rows if r["ours_vs_kernel"]["significant"]})
        for pair in differ:
            why = twinsmod.WHY_THEY_DIFFER.get(pair)
            out.append(P(f"**Why `{pair[0]}` and `{pair[1]}` differ.** "
                         + (why if why else "Not yet explained from the code of both.")))
    if costs:
        shown = ", ".join(name for name, _ in twinsmod.COST_ROLES)
        out.append(P("BPF run time per call in ns (and the number of calls) of each policy's callbacks, over its "
                     "runs, from runs with `kernel.bpf_stats_enabled` (which slows every BPF program, so these runs "
                     f"are not in the table above): {shown}, and all of its callbacks together (ticks, idle "
                     "updates and task setup too). From " + ", ".join(f"`{i}`" for i in cost_ids)
                     + "; each callback's own figures are in those results' runs (`run.json`, `monitors.bpf_prog_stats`)."))
        out.append(("table", *twinsmod.cost_table(costs)))
    return out


# The latency workloads whose kept results compare every policy in one boot (issue 13: wakebench
# and rt-app), and the metrics their section shows; a result with fewer policies than
# EVERY_POLICY_MIN is a comparison of a few, in the appendix only.
EVERY_POLICY = (("wakebench", ("wakeup_p99_us", "request_p99_us", "requests_per_sec")),
                ("rtapp", ("deadline_miss_pct", "wakeup_p99_us")))
EVERY_POLICY_MIN = 8


def _every_policy_cell(row):
    if row.summary is None:
        return "-" if not row.n_invalid else f"- ({row.n_invalid} invalid)"
    val = fmt(row.summary.center)
    if row.ratio is None or row.ratio.ratio is None:
        return val + (" (baseline)" if row.policy == BASELINE else "")
    ratio = f"{fmt_ratio(row.ratio.ratio)} {fmt_ratio_ci(row.ratio.ci_low, row.ratio.ci_high)}".strip()
    inv = f", {row.n_invalid} invalid" if row.n_invalid else ""
    return f"{val}: " + (f"**{ratio}**" if row.ratio.significant else ratio) + inv


def _every_policy_blocks(datasets, comparisons):
    """Per latency workload, every policy of the kept result that ran them all in one boot:
    each shown metric's center, its ratio to cfs with the 95% interval, * where significant
    after Holm over that result's rows."""
    out = [("h3", "Wakeup latency and deadlines, every policy")]
    shown = 0
    for workload, names in EVERY_POLICY:
        for ds in datasets:
            if ds.first.workload != workload or len(ds.policies) < EVERY_POLICY_MIN:
                continue
            key = tuple(ds.ids)
            if key not in comparisons:
                comparisons[key] = compare(ds)
            comp = comparisons[key]
            have = {m.name for m in comp.metrics}
            metrics = [comp.metric(n) for n in names if n in have]
            if not metrics:
                continue
            shown += 1
            out.append(P(f"**{workload}**, {len(ds.policies)} policies interleaved in one boot "
                         f"({ds.describe()}), from " + ", ".join(f"`{i}`" for i in ds.ids) + ": each metric's "
                         f"center over the valid runs, and its ratio to `{BASELINE}` with the 95% interval, in bold where "
                         "significant after the Holm correction over all of that result's ratio rows (every "
                         "metric, every policy)."))
            head = ["policy"] + [f"{m.name} ({m.unit}, {'higher' if m.higher_is_better else 'lower'} is better)"
                                 for m in metrics]
            by_policy = [{r.policy: r for r in m.rows} for m in metrics]
            rows = [[f"`{p}`"] + [_every_policy_cell(bp[p]) if p in bp else "-" for bp in by_policy]
                    for p in ds.policies]
            out.append(("table", head, rows))
            if not any(r.ratio is not None and r.ratio.significant for m in metrics for r in m.rows):
                most = max((r.n_valid for m in metrics for r in m.rows), default=0)
                out.append(P(f"No ratio in this table is significant after the correction: with at most {most} "
                             "valid runs a policy, over this many rows, none of these differences is established; "
                             "the table shows where to look, not a verdict."))
    if not shown:
        out.append(P("No kept result runs every policy on wakebench or rt-app in one boot (`make sweep "
                     "SWEEP=latency-all`)."))
    return out


def _clock_sentences(groups, comparisons):
    out = []
    for group in groups:
        parts = []
        for ds in group:
            head = ds.first.headline
            m = comparisons[tuple(ds.ids)].metric(head)
            for r in m.rows:
                if r.ratio and r.ratio.ratio is not None:
                    parts.append(f"{r.policy} {fmt_ratio(r.ratio.ratio)} {fmt_ratio_ci(r.ratio.ci_low, r.ratio.ci_high)}"
                                 f" on the {ds.first.clock} clock (`{ds.first.id}`)")
        if parts:
            out.append(f"{group[0].first.workload}, `{group[0].first.headline}` vs {BASELINE}: " + "; ".join(parts))
    return out


def _clock_ranges(groups, comparisons):
    """Per workload and policy measured on both clocks, the range of its headline ratio to cfs on
    each ("fifo on nginx: +17.5% to +19.7% on the virtual clock, ..."): the Limitations' short form
    of _clock_sentences, each result counted once however many groups it is in."""
    seen, by = set(), {}
    for group in groups:
        for ds in group:
            if tuple(ds.ids) in seen:
                continue
            seen.add(tuple(ds.ids))
            m = comparisons[tuple(ds.ids)].metric(ds.first.headline)
            for r in m.rows:
                if r.ratio and r.ratio.ratio is not None:
                    by.setdefault((ds.first.workload, r.policy), {}).setdefault(ds.first.clock, []).append(r.ratio.ratio)
    out = []
    for (workload, policy), clocks in sorted(by.items()):
        if len(clocks) < 2:
            continue
        spans = [f"{fmt_ratio(min(v))}" + (f" to {fmt_ratio(max(v))}" if len(v) > 1 else "") + f" on the {clock} clock"
                 for clock, v in sorted(clocks.items(), reverse=True)]
        out.append(f"`{policy}` on {workload}: " + ", ".join(spans))
    return out


def _time_model_blocks(claims, paper_dir, rows):
    """The claims' verdicts under each emulator time model (analysis/timemodel.py: rows from
    timemodel.table), or why there are none."""
    from . import timemodel
    if not any(cell.judged for r in rows for cell in r.cells):
        return [P("Not measured: no claim names results under an emulator time model (`time_model =` in "
                  "claims.ini; `make time-model` makes them: the virtual clock at two icount shifts and the real "
                  "clock), so no claim's verdict is known to hold under another time model.")]
    out = []
    if not any(sum(cell.judged for cell in r.cells) > 1 for r in rows):
        out.append(P("Not measured under another time model: each claim is judged only under the time model its own "
                     "results were made under (`make time-model` makes the others: the virtual clock at another "
                     "icount shift and the real clock), so no claim's verdict is yet known to hold under another."))
    return out + [P("Each claim's verdict under each emulator time model (`make time-model`); a claim whose verdict "
                    f"changes with the time model is *{timemodel.SENSITIVE}*:")] + timemodel.blocks(rows)


def _boots_item(claims):
    """How many boots each measured ratio claim rests on, and what that leaves out of its interval."""
    by_boots = {}
    for c in claims:
        n = getattr(c.measured, "n_boots", None) if c.kind == "ratio" else None
        if n:
            by_boots.setdefault(n, []).append(c.id)
    if not by_boots:
        return "**Boots.** No ratio claim is measured yet."
    parts = []
    for n, ids in sorted(by_boots.items()):
        names = ", ".join(f"`{i}`" for i in ids)
        if n == 1:
            parts.append(f"{names} rest{'s' if len(ids) == 1 else ''} on one boot: its interval covers the "
                         "variation between that boot's runs, not how another boot of the same guest would differ")
        elif n < 3:
            parts.append(f"{names} resample{'s' if len(ids) == 1 else ''} {n} boots, which estimates the "
                         f"between-boot term from {n} values and understates it when boots differ")
        else:
            parts.append(f"{names} resample{'s' if len(ids) == 1 else ''} {n} boots")
    return ("**Boots.** A guest boot is a unit of its own (the kernel's layout, the emulator's translation "
            "cache, the host at that time): " + "; ".join(parts) + ". More boots of a claim's compare, kept with "
            "`make paper-add`, pool into its verdict (two-stage bootstrap: boots, then rounds).")


def _provenance_item(results):
    """Which kept results were made from a modified work tree, and whether their changes were kept."""
    dirty = sorted({res.id: res for res in results
                    if (res.manifest.get("software") or {}).get("git_dirty")}.items())
    if not dirty:
        return ("**Provenance.** Every kept result was made from a clean checkout of the commit its manifest "
                "names.")
    lost = [i for i, res in dirty if not ((res.manifest.get("software") or {}).get("git_diff") or {}).get("file")]
    n = len({res.id for res in results})
    text = (f"**Provenance.** {len(dirty)} of the {n} kept results shown were made from a modified work tree")
    if lost:
        text += (f"; {len(lost)} of them kept no record of the changes (made before the runner recorded them), "
                 "so their commit is the nearest code, not the same: " + ", ".join(f"`{i}`" for i in lost))
    if len(lost) < len(dirty):
        text += "; the others keep their changes as a patch (`raw/git-diff.patch`), applied by their reproduce script"
    return text + "."


def _limitations(claims, datasets, clock_text):
    results = [res for ds in datasets for res in ds.results]
    kernels = sorted({res.factors.get("kernel_release") or "?" for res in results})
    accels = sorted({accel(res) or "?" for res in results})
    icount = sorted({(res.factors.get("clock_qemu") or {}).get("icount") or "" for res in results
                     if res.clock == "virtual"} - {""})
    sources = sorted({c.source for c in claims})
    policies = sorted({p for res in results for p in res.policies})
    unmeasured = [c.title for c in claims if c.verdict == "not yet measured"]
    items = [
        "**Emulation.** Every run is a QEMU TCG guest (accelerator(s) recorded: " + ", ".join(f"`{a}`" for a in accels)
        + "). TCG translates instructions and models no caches, TLBs or memory latency, so an idea that works "
        "through locality (keeping a task on the CPU whose cache is warm, as the yield predictor's claim does) "
        "cannot show its benefit or its cost here; what remains is the scheduler's own path length and "
        "its decisions about who runs when.",
        "**Two clocks.** On the virtual clock (QEMU icount" + (f", `{'`, `'.join(icount)}`" if icount else "")
        + ") guest time is a count of instructions executed, one vCPU thread runs at a time, and idle time is "
        "skipped: results repeat, but every instruction costs the same and waiting on the host costs nothing. "
        "On the real clock, guest time is wall time of multi-threaded TCG on a shared host: translation "
        "cost, host load and the host's own scheduling of vCPU threads count. The two can disagree on a "
        "policy's margin, not only on absolute numbers" + (
            " (each policy's headline against cfs, over the kept results that ran it on both; intervals in "
            "[The two clocks](#the-two-clocks)): " + "; ".join(clock_text) if clock_text else
            "; no kept result measures the same experiment on both") + ".",
        "**The baseline.** " + claimfacts.baseline_statement(datasets) + " The proposal's numbers ("
        + "; ".join(sources) + ") were also measured on real machines: a margin here is against a different "
        "baseline on a different machine model.",
        _boots_item(claims),
        _provenance_item(results),
        "**Not measured.** No run on real hardware or under KVM is kept; the production sched_ext schedulers "
        "(written in Rust, not packaged) were not run; only the policies " + ", ".join(f"`{p}`" for p in policies)
        + " appear in kept results." + (" Claims not yet measured: " + "; ".join(unmeasured) + "." if unmeasured
                                         else ""),
    ]
    return [("ul", items)]


def document(claims, datasets, figs, fig_notes, paper_dir, comparisons, results=None):
    """The paper (main page). figs: the figures it shows; per-result ones go to the appendix."""
    by_kind = {}
    for f in figs:
        by_kind.setdefault(f.kind, []).append(f)
    doc = [("h1", "scxlab: the sched_ext proposal's claims, measured"),
           P("Generated by `make paper` from the result directories kept under `paper/results/` (and model "
             "files under `paper/models/`); do not edit by hand. Every number below was computed by `analysis/` "
             f"from those files. **Everything was measured in an emulated guest (QEMU TCG)**: absolute numbers "
             f"are not those of real hardware (see [Limitations](#limitations)). Per-result tables "
             f"and figures are in [the appendix]({APPENDIX}.md)."),
           ("toc",),
           ("h2", "Summary")]
    counts = {}
    for c in claims:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    doc.append(P(f"{len(claims)} claim(s) of the sched_ext proposal, each re-implemented and measured against the "
                 f"`{BASELINE}` baseline of the same boot: " + "; ".join(f"{n} *{v}*" for v, n in counts.items())
                 + ". A verdict compares the claimed value with the 95% interval of what was measured; a gain "
                   "its ablation (the idea switched off) shares is not credited to the idea."))
    from . import timemodel
    time_rows = timemodel.table(claims, paper_dir, results)
    sensitive = timemodel.labels(time_rows)
    with_twins = any(c.twin_judgements for c in claims)
    doc.append(("table", ["claim", "claimed", "measured [95% CI]", "verdict"]
                + (["with the kernel's twin [95% CI]"] if with_twins else []) + ["time model"],
                [[c.title, claimed_text(c), measured_text(c), _verdict_text(c)]
                 + (["; ".join(f"{j.twin}: {j.verdict}, {_pct(j.ratio)}" for j in c.twin_judgements) or "-"]
                    if with_twins else [])
                 + [sensitive.get(c.id, "")] for c in claims]))
    if sensitive:
        doc.append(P(f"*{timemodel.SENSITIVE}*: the claim's verdict changes with the emulator's time model "
                     f"(see [Time model](#time-model)), so it says more about the emulator than about the policy."))
    for f in by_kind.get("claims", []):
        doc.append(_figure(f, paper_dir))
    doc.append(("h2", "Claims"))
    anchors_of_results = {}
    for c in claims:
        doc.append(("h3", c.title))
        doc.append(P(f"**Claim.** {c.claim} (source: {c.source})"))
        if c.kind == "model" and c.measured is not None:
            doc.append(P("**Measured.** Held-out accuracy of every kept model, its 95% interval resampling whole "
                         "traces (rows of one trace are not independent; the exact binomial interval on rows, "
                         "shown for comparison, treats them as if they were). Their inputs and how to train "
                         f"them again: [appendix, Models]({APPENDIX}.md#models)."))
            doc.append(_models_list(c))
        elif c.dataset is None:
            doc.append(P(f"**Measured.** Not yet measured. Needs: {c.explanation}"))
            doc += _extra_blocks(c)
            continue
        else:
            ds = c.dataset
            inv = sum(c.invalid.values())
            what = (f"`{c.metric}` of `{c.policy}` relative to `{BASELINE}`" if c.kind == "ratio"
                    else f"`{c.metric}` of `{c.policy}`")
            anchors_of_results[c.id] = ds.results
            doc.append(P(f"**Measured.** {what}: {measured_text(c)}, from {', '.join(f'`{i}`' for i in ds.ids)} "
                         f"({ds.describe()})" + (f"; {inv} invalid run(s) excluded" if inv else "") + "."))
        doc.append(P(f"**Verdict: {_verdict_text(c)}.** {_sentence(c.explanation)}"))
        for ab, r, n, nb in c.ablation_ratios:
            doc.append(P(f"**Against its ablation `{ab}`** (the same results, same metric): `{c.policy}` {_pct(r)} "
                         f"(n={n} vs {nb}). A gain over cfs that the ablation shares is not the idea's own."))
        for j in c.twin_judgements:
            doc.append(P(_twin_text(c, j)))
        doc += _extra_blocks(c)
        if c.id in anchors_of_results:
            doc.append(("claim-results", c.id))  # replaced by links once the appendix's anchors are known
    doc.append(("h2", "Across policies and workloads"))
    doc.append(("h3", "Scheduling overhead"))
    doc += [_figure(f, paper_dir) for f in by_kind.get("overhead", [])] or [
        P("Not measured: no kept result has cost monitors with cfs and another policy.")]
    doc += [n for n in [_legacy_window_note(datasets, [i for f in by_kind.get("overhead", []) for i in f.ids],
                                            "costs per unit of work")] if n]
    doc += _twin_blocks(datasets)
    doc.append(("h3", "cgroup weights"))
    sweep = by_kind.get("weight-sweep", [])
    design_shares = by_kind.get("shares", [])  # those of one result are in the appendix
    if not sweep:
        doc.append(P("No kept result has a cgroup weight sweep (`make sweep SWEEP=cgroup-weights`): the heat map "
                     "of achieved vs entitled share over depth and ratio is not drawn."))
    doc += [_figure(f, paper_dir) for f in sweep + design_shares]
    doc += [n for n in [_legacy_window_note(datasets, [i for f in sweep + design_shares for i in f.ids],
                                            "cgroup shares")] if n]
    if sweep:
        doc.append(P(f"The sweep's table: [appendix]({APPENDIX}.md#the-cgroup-weight-sweep)."))
    doc += _share_sweep_blocks(datasets, by_kind.get("share-error", []), paper_dir)
    doc.append(("h3", "Latency distributions"))
    claim_ids = {res.id for results in anchors_of_results.values() for res in results}
    lat = [f for f in by_kind.get("latency", []) if set(f.ids) & claim_ids]
    doc += [_figure(f, paper_dir) for f in lat] or [
        P("None of the claims' results reports request latency percentiles.")]
    if len(by_kind.get("latency", [])) > len(lat):
        doc.append(P(f"Other results' latency distributions are in [the appendix]({APPENDIX}.md), beside their "
                     f"tables."))
    doc += _every_policy_blocks(datasets, comparisons)
    doc.append(("h3", "The two clocks"))
    groups = figmod.clock_groups(datasets)
    clock_text = _clock_sentences(groups, comparisons)
    doc += [_figure(f, paper_dir) for f in by_kind.get("clocks", [])] or [
        P("No kept results differ only in their clock.")]
    if clock_text:
        doc.append(("ul", clock_text))
    doc.append(("h2", "Time model"))
    doc += _time_model_blocks(claims, paper_dir, time_rows)
    doc.append(("h2", "Limitations"))
    doc += _limitations(claims, datasets, _clock_ranges(groups, comparisons))
    doc.append(("h2", "Method"))
    doc.append(P(f"Summaries: harmonic mean for rates (unit ending in /s), median for times, arithmetic mean "
                 f"otherwise. Confidence intervals: bootstrap over runs ({stats.N_RESAMPLES} resamples, BCa, "
                 f"percentile where BCa is undefined; seed {stats.SEED}), no normality assumed; a ratio resamples "
                 f"whole rounds (runs are interleaved in rounds within a boot, so a round's drift cancels), both "
                 f"policies' runs independently where a round lacks a valid run, and, where results of several "
                 f"boots are pooled, boots first and then rounds within them (percentile interval; the number of "
                 f"boots is given). Multiple comparisons: Holm's step-down correction over every ratio row of a "
                 f"table (the family: each policy against the baseline on each metric of one comparison) and over "
                 f"the claims' comparisons; Holm rather than Benjamini-Hochberg because each marked row is read as a "
                 f"finding of its own, so the chance of any false mark is what is bounded. Verdicts from fewer than "
                 f"{claimfacts.MIN_ROUNDS} rounds (PRECISION='s minimum) or {stats.FEW_RUNS} runs a side are "
                 f"tentative. Fewer than {stats.FEW_RUNS} runs a side are flagged: the "
                 f"bootstrap cannot see variation that few runs did not show. Invalid runs (policy ejected, "
                 f"workload failed) are excluded and counted. Results are pooled only when every factor in their "
                 f"manifests matches (kernel release and config, VM shape, clock, workload parameters, duration, "
                 f"...)."))
    doc.append(P("Verdicts: *held* when the interval shows a significant change in the claimed direction "
                 "that includes or exceeds the claimed size; *partly held* when significant but smaller; "
                 "*inconclusive* when the interval includes both no change and the claim; *did not hold* when "
                 "it excludes the claim without a significant gain, or shows a significant change the other way; "
                 "*not judged* with fewer than two runs a side. *but not due to the idea* follows *held* or "
                 "*partly held* when an ablation (the policy with the credited idea switched off) is as good "
                 "(the claimed policy's ratio to it includes no change) or significantly better; "
                 "*X significantly better* names such an ablation."))
    doc.append(P("Kept results: large raw files are gzip-compressed or left out; each kept result's "
                 f"`{ORIGINAL_SUMS}` has the sha256 of every original file. `make reproduce-paper` reruns "
                 "every experiment the paper keeps."))
    doc.append(("h2", "Appendix"))
    doc.append(P(f"[The appendix]({APPENDIX}.md): every kept result with its comparison table (every metric), "
                 f"its figures and the command that reproduces it; the weight sweep's table; the models' inputs; "
                 f"the figures that could not be drawn and why."))
    return doc, anchors_of_results


def _resolve_claim_links(doc, anchors_of_results, appendix):
    out = []
    for block in doc:
        if block[0] != "claim-results":
            out.append(block)
            continue
        links = [_link(f"`{res.id}`", APPENDIX, anchor_of(appendix, result_heading(res)))
                 for res in anchors_of_results[block[1]]]
        out.append(P("Tables, figures and how to reproduce: " + ", ".join(links) + "."))
    return out


def write_paper(paper_dir, claims, datasets, results=None):
    """Draws the figures and writes paper.md, index.html, appendix.md, appendix.html; returns
    the paths written. Fails if a figure written would be shown by neither page."""
    paper_dir = Path(paper_dir)
    fig_dir = paper_dir / "figures"
    if fig_dir.is_dir():
        # Figures of results no longer kept (or drawn in other formats by `make figures`) must not
        # linger: the folder holds what the pages show.
        for old in fig_dir.iterdir():
            if old.is_file() and old.suffix.lstrip(".") in figmod.FORMATS:
                old.unlink()
    comparisons = {}
    if datasets:
        figs, notes = figmod.make_all(datasets, fig_dir, comparisons=comparisons)
    else:
        figs, notes = [], ["no result kept: no figure"]
    points = [p for p in (claim_point(c, comparisons) for c in claims) if p]
    claim_ds = [c.dataset for c in claims if c.dataset is not None]
    cf = figmod.claims_figure(points, claim_ds, fig_dir, ("svg",), notes) if points and claim_ds else None
    if cf:
        figs.insert(0, cf)
    plain_ids = {ds.first.id for ds in datasets if not weightsmod.is_grid_point(ds.first)}
    per_result = {}
    for f in figs:
        if f.kind in ("throughput", "latency", "shares") and len(f.ids) == 1 and f.ids[0] in plain_ids:
            per_result.setdefault(f.ids[0], []).append(f)
    shown_per_result = {id(f) for fs in per_result.values() for f in fs}
    main_figs = [f for f in figs if id(f) not in shown_per_result or f.kind == "latency"]
    main, anchors_of_results = document(claims, datasets, main_figs, notes, paper_dir, comparisons, results)
    appendix = appendix_document(claims, datasets, per_result, notes, paper_dir, comparisons)
    main = _resolve_claim_links(main, anchors_of_results, appendix)
    texts = {f"{PAPER}.md": render_markdown(main), "index.html": render_html(main),
             f"{APPENDIX}.md": render_markdown(appendix), f"{APPENDIX}.html": render_html(appendix)}
    shown = texts[f"{PAPER}.md"] + texts[f"{APPENDIX}.md"]
    hidden = [p.name for p in sorted(fig_dir.glob("*")) if p.is_file()
              and f"({os.path.relpath(p, paper_dir)})" not in shown] if fig_dir.is_dir() else []
    if hidden:
        raise AnalysisError(f"{fig_dir}: figure(s) written but shown by neither page: {', '.join(hidden)} "
                            f"(analysis/paperdoc.py must place every figure)")
    written = []
    for name, text in texts.items():
        (paper_dir / name).write_text(text)
        written.append(paper_dir / name)
    return [f.path for f in figs] + written
