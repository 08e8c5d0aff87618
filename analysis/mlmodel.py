"""A kept mlyield model's held-out accuracy with an interval that respects the traces' structure.

tools/mltrain writes a model file (its network, the label's horizon, the split, and held-out
counts pooled over every row). Rows of one trace are not independent (one run, one workload,
one task set, features that decay over consecutive decisions), so an exact binomial interval on
the pooled rows is far too narrow. This module recomputes, from the traces the model file names
(kept under the paper's results/, checked against the sha256 it records), which held-out rows the
model got right, trace by trace, exactly as mltrain did (same label rule, same split, the float
network summed in mltrain's order), checks the totals against the file, and resamples whole
traces (a cluster bootstrap: the trace is the block). The same for the decision points (rows where
another CPU was idle: the only rows where the policy acts on a prediction).

What it needs: every trace the model file lists, kept (plain or .gz) under results/<result id>/
with its recorded sha256, and the totals it recomputes equal to the file's. Otherwise no interval
is given, and `missing` says exactly what was missing or differed.
"""
import csv
import gzip
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import stats

X_SCALE = 256.0  # mlyield's Q8 features (MLY_X_SHIFT = 8)


@dataclass
class Accuracy:
    rows: int
    correct: int
    ci_low: object = None  # cluster-bootstrap interval over traces, None without one
    ci_high: object = None
    clusters: int = 0  # traces that held rows of this kind

    @property
    def accuracy(self):
        return self.correct / self.rows if self.rows else None


@dataclass
class ModelAccuracy:
    path: str
    split: str
    held_out: Accuracy
    decision_points: Accuracy
    majority: float  # the majority-class baseline's held-out accuracy (from the file)
    majority_label: str
    exact_ci: tuple  # the exact binomial interval on pooled rows (what rows alone would give)
    missing: str = ""  # why there is no trace-level interval, "" when there is one
    per_trace: list = field(default_factory=list)  # (trace, held-out rows, correct, dp rows, dp correct)


def exact_interval(k, n):
    """The exact (Clopper-Pearson) interval of k successes in n, at stats.CONFIDENCE: (low, high)."""
    from scipy.stats import binomtest
    ci = binomtest(k, n).proportion_ci(confidence_level=stats.CONFIDENCE, method="exact")
    return float(ci.low), float(ci.high)


def _kept_trace(root, trace):
    """(the kept copy, its result id) of a trace as the model file records it, or (None, id):
    by its result and file (mltrain's stable names), or for older model files by the path it
    was read from (.../<result id>/runs/<run>/raw/<file>). root: the kept results' folder."""
    if trace.get("result") and trace.get("file"):
        result_id = trace["result"]
        rel = Path(root, result_id, trace["file"])
    else:
        parts = Path(trace.get("path", "")).parts
        if "runs" not in parts:
            return None, None
        k = len(parts) - 1 - parts[::-1].index("runs")
        result_id = parts[k - 1]
        rel = Path(root, result_id, *parts[k:])
    for cand in (rel, Path(str(rel) + ".gz")):
        if cand.is_file():
            return cand, result_id
    return None, result_id


def _read_bytes(path):
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _rows(data):
    """(t_ns, labelled?, label, idle_available, features) arrays of one trace, per mltrace_csv.h."""
    lines = [ln for ln in io.StringIO(data.decode()) if ln.strip() and not ln.startswith("#")]
    reader = csv.reader(lines)
    head = next(reader)
    col = {name: i for i, name in enumerate(head)}
    x0 = col["x_read"]
    rows = list(reader)
    t = np.array([int(r[col["t_ns"]]) for r in rows], dtype=np.int64)
    outcome = [r[col["outcome"]] for r in rows]
    after = np.array([int(r[col["stop_after_ns"]]) for r in rows], dtype=np.int64)
    vol = np.array([int(r[col["voluntary"]]) if r[col["voluntary"]] else -1 for r in rows])
    idle = np.array([int(r[col["idle_available"]]) for r in rows])
    x = np.array([[int(v) for v in r[x0:x0 + 64]] for r in rows], dtype=float)
    return t, outcome, after, vol, idle, x


def _forward(doc, x):
    """The float network's logit, summed in mltrain's order (forward(): per hidden unit, b1 then
    each feature in turn; the output b2 then each hidden unit), so every rounding is the same."""
    net = doc["float"]
    w1, b1, w2 = net["w1"], net["b1"], net["w2"]
    xs = x / X_SCALE
    out = np.full(len(x), float(net["b2"]))
    for j in range(len(b1)):
        a = np.full(len(x), float(b1[j]))
        for i in range(xs.shape[1]):
            a = a + float(w1[i][j]) * xs[:, i]
        out = out + float(w2[j]) * np.where(a > 0, a, 0.0)
    return out


def _label(outcome, after, vol, horizon_us):
    """mltrain's label: (labelled mask, label) for horizon H; lost rows and rows censored within H
    carry none."""
    hns = int(horizon_us * 1000.0 + 0.5)
    labelled, y = [], []
    for o, a, v in zip(outcome, after, vol):
        if o == "lost" or (o == "censored" and a <= hns):
            labelled.append(False)
            y.append(0)
        elif o == "censored":
            labelled.append(True)
            y.append(0)
        else:
            labelled.append(True)
            y.append(int(v == 1 and a <= hns))
    return np.array(labelled), np.array(y)


def _cluster_interval(n, k, seed=stats.SEED, n_resamples=stats.N_RESAMPLES, confidence=stats.CONFIDENCE):
    """Percentile interval of sum(k)/sum(n) resampling whole traces; None with fewer than 2."""
    n, k = np.asarray(n, float), np.asarray(k, float)
    keep = n > 0
    n, k = n[keep], k[keep]
    if n.size < 2:
        return None, None, int(n.size)
    idx = np.random.default_rng(seed).integers(0, n.size, (n_resamples, n.size))
    acc = k[idx].sum(axis=1) / n[idx].sum(axis=1)
    alpha = (1 - confidence) / 2
    return float(np.percentile(acc, 100 * alpha)), float(np.percentile(acc, 100 * (1 - alpha))), int(n.size)


def evaluate(doc, paper_dir, path="", results=None):
    """ModelAccuracy of a model file's held-out rows (doc: its parsed JSON); the traces are looked
    for under results (default: the paper's results/)."""
    root = Path(results) if results else Path(paper_dir) / "results"
    m = doc["training"]["metrics"]
    ho, dp, maj = m["held_out_float"], m.get("held_out_float_decision_points"), m["held_out_majority_baseline"]
    k = int(ho["tp"]) + int(ho["tn"])
    out = ModelAccuracy(path=path, split=doc["training"].get("split", "?"),
                        held_out=Accuracy(int(ho["rows"]), k),
                        decision_points=(Accuracy(int(dp["rows"]), int(dp["tp"]) + int(dp["tn"])) if dp
                                         else Accuracy(0, 0)),
                        majority=(int(maj["tp"]) + int(maj["tn"])) / int(maj["rows"]),
                        majority_label=maj.get("always", "?"), exact_ci=exact_interval(k, int(ho["rows"])))
    traces = (doc.get("provenance") or {}).get("traces") or []
    if not traces:
        out.missing = "the model file lists no traces"
        return out
    if not isinstance((doc.get("label") or {}).get("horizon_us"), (int, float)) or "float" not in doc or \
            out.split not in ("time", "run") or (out.split == "time" and "test_fraction" not in doc["training"]):
        out.missing = ("the model file lacks what recomputing its held-out rows needs (label.horizon_us, the float "
                       "network, training.split and, for a time split, test_fraction)")
        return out
    kept, absent, differ = [], [], []
    for t in traces:
        f, rid = _kept_trace(root, t)
        if f is None:
            absent.append(t.get("path") or f"{t.get('result', '?')}/{t.get('file', '?')}")
            continue
        data = _read_bytes(f)
        if hashlib.sha256(data).hexdigest() != t.get("sha256"):
            differ.append(str(f))
            continue
        kept.append((t, f, rid, data))
    if absent or differ:
        out.missing = "; ".join(
            ([f"traces not kept under {root}: {', '.join(absent)}"] if absent else [])
            + ([f"kept traces whose sha256 differs from the model file's: {', '.join(differ)}"] if differ else []))
        return out
    horizon = float(doc["label"]["horizon_us"])
    split = out.split
    groups = [rid for _, _, rid, _ in kept]
    per = []
    for i, (t, f, rid, data) in enumerate(kept):
        tn, outcome, after, vol, idle, x = _rows(data)
        labelled, y = _label(outcome, after, vol, horizon)
        order = np.lexsort((np.arange(len(tn)), tn))  # mltrain's by_time: time, then row
        order = order[labelled[order]]
        n = order.size
        if split == "time":
            cut = n - int(np.floor(n * float(doc["training"]["test_fraction"])))
        else:
            in_group = [j for j, g in enumerate(groups) if g == rid]
            cut = 0 if len(in_group) > 1 and i == in_group[-1] else n
        test = order[cut:]
        pred = _forward(doc, x[test]) > 0
        right = pred == (y[test] > 0)
        dpm = idle[test] == 1
        if dp is None:
            dpm = np.zeros(test.size, dtype=bool)  # an older file: no decision-point counts to check
        per.append((str(f), int(test.size), int(right.sum()), int(dpm.sum()), int(right[dpm].sum())))
    tot = [sum(p[j] for p in per) for j in range(1, 5)]
    if tot != [out.held_out.rows, out.held_out.correct, out.decision_points.rows, out.decision_points.correct]:
        out.missing = (f"recomputing the held-out rows from the kept traces gave {tot[1]}/{tot[0]} correct "
                       f"({tot[3]}/{tot[2]} at decision points), not the model file's {out.held_out.correct}/"
                       f"{out.held_out.rows} ({out.decision_points.correct}/{out.decision_points.rows})")
        return out
    out.per_trace = per
    for acc, (jn, jk) in ((out.held_out, (1, 2)), (out.decision_points, (3, 4))):
        acc.ci_low, acc.ci_high, acc.clusters = _cluster_interval([p[jn] for p in per], [p[jk] for p in per])
    return out
