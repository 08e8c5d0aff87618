"""The comparison as text for the terminal (`make report`) and as JSON (`--json`).

One block per metric; per policy: runs used (and invalid runs excluded), the summary value with
its 95% interval, the ratio to cfs with its interval (resampled by the runs' design), and a mark
when the ratio is significant after Holm's correction over the table (analysis/stats.py).
Both renderings come from compare.Comparison, so the table and the paper can never disagree.
"""
import json
import math
from pathlib import Path

from . import stats

EMULATED = "measured in an emulated guest (QEMU TCG): absolute numbers are not those of real hardware"


def fmt(v, digits=4):
    """Numbers for tables: 4 significant digits, no scientific notation below a billion."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if mag >= 9:
        return f"{v:.{digits - 1}e}"
    decimals = max(0, digits - 1 - mag)
    return f"{v:.{decimals}f}"


def fmt_ci(lo, hi, digits=4):
    if lo is None:
        return "-"
    return f"[{fmt(lo, digits)}, {fmt(hi, digits)}]"


def markdown_table(head, rows):
    """Markdown lines of a table: the header, its rule, a line per row of cells."""
    return (["| " + " | ".join(map(str, head)) + " |", "|" + "---|" * len(head)]
            + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def fmt_ratio(r):
    """A ratio as the percentage change people quote: 1.032 -> +3.2%."""
    if r is None:
        return "-"
    change = (r - 1) * 100
    # Keep a bound that is close to but not at zero from printing as "0.0%".
    return f"{change:+.2f}%" if abs(change) < 0.1 else f"{change:+.1f}%"


def fmt_ratio_ci(lo, hi):
    if lo is None:
        return ""
    return f"[{fmt_ratio(lo)}, {fmt_ratio(hi)}]"


def write_sweep_report(folder, stem, doc, md):
    """Writes a sweep's table next to its results as STEM.json and STEM.md; returns the markdown."""
    Path(folder, f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n")
    Path(folder, f"{stem}.md").write_text(md)
    return md


def header_lines(cmp):
    ds = cmp.dataset
    lines = [f"== {' + '.join(ds.ids)}", f"   {ds.describe()}", f"   {EMULATED}"]
    counts = []
    for p in ds.policies:
        v, i = len(ds.runs_of(p, valid=True)), len(ds.runs_of(p, valid=False))
        counts.append(f"{p} {v} valid" + (f" ({i} invalid, excluded)" if i else ""))
    lines.append("   runs: " + ", ".join(counts))
    if len(ds.results) > 1:
        lines.append(f"   pooled from {len(ds.results)} results (separate boots) whose factors match")
    for n in cmp.notes:
        lines.append(f"   note: {n}")
    return lines


def table_rows(cmp):
    head = ["metric", "unit", "stat", "policy", "runs", "value", "95% CI", f"vs {cmp.baseline}", "95% CI", ""]
    rows = [head]
    for m in cmp.metrics:
        direction = {True: "higher better", False: "lower better", None: "no direction"}[m.higher_is_better]
        for k, r in enumerate(m.rows):
            s = r.summary
            ratio = r.ratio
            mark = ""
            if ratio is not None:
                if ratio.significant:
                    mark = f"* {r.direction}"
                elif ratio.uncorrected_significant:
                    mark = "(not after Holm)"
                if ratio.few_runs and ratio.ci_low is not None:
                    mark += " (few runs)"
            runs = f"{r.n_valid}" + (f"+{r.n_invalid}inv" if r.n_invalid else "")
            rows.append([m.name if k == 0 else "", m.unit if k == 0 else "", m.stat if k == 0 else "",
                         r.policy, runs,
                         fmt(s.center) if s else "no runs", fmt_ci(s.ci_low, s.ci_high) if s else "",
                         fmt_ratio(ratio.ratio) if ratio else ("baseline" if r.policy == cmp.baseline else "-"),
                         fmt_ratio_ci(ratio.ci_low, ratio.ci_high) if ratio else "",
                         mark.strip()])
        rows.append([f"  ({direction})"] + [""] * (len(head) - 1))
    return rows


def render_text(cmp):
    lines = header_lines(cmp) + [""]
    if not cmp.metrics:
        return "\n".join(lines + ["   no valid run reported a metric: nothing to compare"])
    rows = table_rows(cmp)
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    lines += ["",
              f"value: harmonic mean for rates (unit ends in /s), median for times, mean otherwise; 95% CI by "
              f"bootstrap ({stats.N_RESAMPLES} resamples, seed {stats.SEED}).",
              f"vs {cmp.baseline}: ratio to the baseline as a change in percent, its 95% CI resampled by the design the "
              f"runs had (paired by round within a boot, two-stage across boots; notes above). * significant after "
              f"Holm: the ratio's 95% CI excludes no change and its Holm-adjusted p-value over all ratio rows of this "
              f"table is at most {1 - stats.CONFIDENCE:.2g}. (few runs): fewer than {stats.FEW_RUNS} runs a side, the "
              f"interval is too narrow.",
              "runs: valid runs used (+N inv: invalid runs excluded)."]
    return "\n".join(lines)


def to_json(cmp):
    def summ(s):
        if s is None:
            return None
        return {"stat": s.stat, "n": s.n, "value": s.center, "ci": [s.ci_low, s.ci_high], "ci_method": s.ci_method,
                "min": s.minimum, "max": s.maximum, "p10": s.p10, "p90": s.p90, "values": list(s.values)}

    def rat(r):
        if r is None:
            return None
        return {"ratio": r.ratio, "ci": [r.ci_low, r.ci_high], "ci_method": r.ci_method,
                "significant": r.significant, "significant_uncorrected": r.uncorrected_significant,
                "correction": f"holm over {r.family}" if r.family else None, "p_value": r.p_value,
                "p_adjusted": r.p_adjusted, "design": r.design, "boots": r.n_boots, "rounds": r.n_rounds,
                "few_runs": r.few_runs,
                "halfwidth_pct": None if math.isinf(r.halfwidth_pct) else r.halfwidth_pct}

    return {
        "results": cmp.dataset.ids,
        "emulated": EMULATED,
        "baseline": cmp.baseline,
        "confidence": stats.CONFIDENCE, "n_resamples": stats.N_RESAMPLES, "seed": stats.SEED,
        "notes": cmp.notes,
        "metrics": [{"name": m.name, "unit": m.unit, "kind": m.kind, "stat": m.stat,
                     "higher_is_better": m.higher_is_better, "cgroup": m.cgroup,
                     "policies": [{"policy": r.policy, "runs": r.n_valid, "invalid_runs": r.n_invalid,
                                   "summary": summ(r.summary), "vs_baseline": rat(r.ratio),
                                   "direction": r.direction} for r in m.rows]}
                    for m in cmp.metrics],
    }


def render_json(cmp):
    return json.dumps(to_json(cmp), indent=2)
