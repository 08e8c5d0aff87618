"""scxlab analysis: from result directories to comparison tables, figures, the paper and
publishable bundles.

Data flows one way, and so do the modules:

    loader   reads result directories (manifest.json, runs/NNN-policy/{run.json,metrics.json})
             and nothing else; the one place that knows the result format
    stats    numbers only: which summary a metric gets (harmonic mean for rates, median for
             times, mean otherwise), bootstrap confidence intervals, ratios to a baseline
    compare  pools runs from one or more results after checking that every factor matches,
             and compares each policy with the cfs baseline, metric by metric
    report   the comparison as a terminal table (and JSON)
    figures  matplotlib figures, each stamped with the runs it came from
    paper    the paper: each claim of the sched_ext proposal, what scxlab measured, verdict
    timemodel each ratio claim's verdict per emulator time model (make time-model, and its table)
    bundle   publishable result bundles with SHA256SUMS, and their verification
    cli      `python3 -m analysis <command>`; `make report|figures|paper|publish|verify`

Everything measured here ran in an emulated guest (QEMU TCG): figures and the paper say so.
Run with Debian's /usr/bin/python3 (numpy, scipy, matplotlib).
"""


class AnalysisError(Exception):
    """Bad input (a result directory that is not one, factors that differ, ...): the message
    names the input and what is wrong; the CLI prints it and exits with status 2."""
