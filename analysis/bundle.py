"""Publishable result bundles and their verification.

A bundle is a directory (and the same as a .tar.gz beside it) that lets someone else check what
scxlab measured, and rerun it, without trusting the publisher's machine:

    README.md          what is inside, how to verify, reread and rerun it, and what a rerun needs:
                       per result its wall time and VM shape, from its manifest
    LICENSE            the repository's licence
    SHA256SUMS         sha256 of every other file, in `sha256sum -c` format
    results/<id>/      the result directories, as they were (manifests, metrics, raw data kept)
    paper/             claims.ini, models/, and paper.md, index.html, figures/ regenerated here from
                       results/ (only when results/ holds exactly the paper's kept results):
                       `python3 -m analysis paper --results results` redoes them in the bundle
    environment/       per result: the factors, software versions, guest and host from its
                       manifest; analysis.json: the analysis code's own versions
    reports/<id>.txt   the comparison table (and .json) as `make report` prints it
    figures/           every figure (SVG and PNG), stamped with the runs it came from
    export/results.csv every measured value in one long-format CSV (analysis/export.py)
    source/scxlab.bundle
                       the harness: a git bundle of every commit the results name, with their
                       history, so a checkout has the commit's own id (and a rerun records it)
    reproduce/         reproduce-all.sh: per result, checks out its commit from the source
                       bundle, applies the result's raw/git-diff.patch if it was made from a
                       modified work tree, and runs its reproduce.sh there
    analysis/, schemas/
                       the analysis code that made reports, figures and the paper
                       (python3 -m analysis), and the result contract it checks results against

A commit a result names that the publishing repository does not hold cannot be bundled: the
README and the reproduce script say so for each result concerned, and publish() returns those
notes (the command prints them).

verify() recomputes every checksum and reports, naming the file, anything missing, changed or
added after publishing. SHA256SUMS itself could be rewritten by whoever tampers with the files,
so publish() also prints its sha256, to be published apart from the bundle (it is written to
<name>.SHA256SUMS.sha256 beside the tarball); `make verify BUNDLE=... SUMS_SHA256=...` checks it.
The tarball is deterministic (sorted entries, fixed times and owners).
"""
import datetime
import gzip
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from . import AnalysisError
from .compare import accel as compare_accel, compare, pool
from .loader import load_result
from .report import markdown_table, render_json, render_text

SUMS = "SHA256SUMS"


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(root):
    """Every path under root relative to it, sorted; symlinks and special files included so
    that verify() can refuse them."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            out.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(out)


def write_sums(root):
    root = Path(root)
    lines = [f"{_sha256(root / rel)}  {rel}" for rel in _files(root) if rel != SUMS]
    (root / SUMS).write_text("\n".join(lines) + "\n")
    return _sha256(root / SUMS)


REPO = Path(__file__).resolve().parent.parent
SOURCE = "source/scxlab.bundle"


def _git(*args, repo=REPO, timeout=10):
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=timeout).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _analysis_env():
    import matplotlib
    import numpy
    import scipy
    return {"python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__,
            "matplotlib": matplotlib.__version__, "scxlab_commit": _git("rev-parse", "HEAD"),
            "scxlab_dirty": bool(_git("status", "--porcelain", "--", "analysis"))}


# ---------------------------------------------------------------- what each result needs to rerun

def _wall_s(res):
    """The result's wall time in seconds from its manifest's times (wall_s, else finished - started);
    None when neither is recorded."""
    t = res.manifest.get("times") or {}
    if isinstance(t.get("wall_s"), (int, float)):
        return float(t["wall_s"])
    try:
        parse = lambda v: datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        return (parse(t["finished"]) - parse(t["started"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


def _duration(seconds):
    if seconds is None:
        return "not recorded"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s" if m else f"{s} s"


def _vm_shape(res):
    vm = res.factors.get("vm") or {}
    if res.factors.get("target") == "host":
        return "the host itself (TARGET=host)"
    threads = vm.get("threads_per_core") or 1
    return (f"{vm.get('vcpus', '?')} vCPU" + (f" ({threads} threads/core)" if threads > 1 else "")
            + f", {vm.get('memory_mb', '?')} MiB (VM={vm.get('name', '?')})")


def _patch(res):
    """(path within the bundle, sha256) of a dirty result's recorded changes (raw/git-diff.patch, or
    that file kept gzip-compressed), or None: a clean result, or one whose changes were not recorded."""
    diff = (res.manifest.get("software") or {}).get("git_diff")
    if not isinstance(diff, dict) or not diff.get("file"):
        return None
    for rel in (diff["file"], diff["file"] + ".gz"):
        if (res.path / rel).is_file():
            return f"results/{res.path.name}/{rel}", diff.get("sha256") or _sha256(res.path / rel)
    return None


def _source_note(res, bundled):
    """Why a result cannot be rerun from the bundle's source as it was made, or ""."""
    commit, software = res.git_commit, res.manifest.get("software") or {}
    if not commit:
        return "made outside a git checkout: no commit to rerun it from"
    if commit not in bundled:
        return f"its commit {commit} is not in the publishing repository, so not in {SOURCE}"
    if software.get("git_dirty") and _patch(res) is None:
        omitted = (software.get("git_diff") or {}).get("omitted")
        why = f"({omitted})" if omitted else "(before raw/git-diff.patch)"
        return f"made from a modified work tree whose changes were not recorded {why}: a rerun uses the commit as it is"
    return ""


def _bundle_source(results, dest, repo):
    """Writes the git bundle of every commit the results name that repo holds; returns those commits.
    The commits reach a scratch repository by `git push` (a bundle is made from refs, and the
    publishing repository's own refs are left alone)."""
    commits = sorted({r.git_commit for r in results if r.git_commit})
    have = [c for c in commits if subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{c}^{{commit}}"],
                                                 capture_output=True).returncode == 0]
    if not have:
        return set()
    with tempfile.TemporaryDirectory(prefix="scxlab-source-") as tmp:
        steps = [["git", "init", "-q", "--bare", tmp],
                 ["git", "-C", str(repo), "push", "-q", "--no-verify", tmp] + [f"{c}:refs/tags/scxlab-{c}" for c in have],
                 ["git", "-C", tmp, "-c", "pack.threads=1", "bundle", "create", "-q", str(dest), "--tags"]]
        for cmd in steps:
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise AnalysisError(f"bundling the source ({' '.join(cmd[:4])} ...) failed: {proc.stderr.strip()}")
    return set(have)


def _reproduce_all(results, bundled):
    q = shlex.quote
    lines = ["#!/bin/sh",
             "# Reruns the experiments of this bundle, each from the source of the commit that made it",
             "# (README.md, Rerun):",
             "#   sh reproduce/reproduce-all.sh [RESULT_ID...]     (default: every result, in this order)",
             "# WORK (default ./scxlab-work) receives one checkout per commit (and recorded patch), cloned",
             "# from source/scxlab.bundle; RESULTS (default $WORK/results) receives the new results. Each",
             "# checkout is a scxlab of its own: its reproduce.sh runs `make`, which runs `make setup` there",
             "# first (root, Debian, a mirror: scxlab's README). Exit 0 when every rerun succeeded.",
             "set -u",
             'here=$(cd "$(dirname "$0")/.." && pwd)',
             'work=${WORK:-$PWD/scxlab-work}',
             'results=${RESULTS:-$work/results}',
             'mkdir -p "$work" "$results" || exit 2',
             'only=" $* "',
             'failed=""',
             "# checkout DIR COMMIT [PATCH]: DIR becomes scxlab at COMMIT with PATCH (a result's recorded",
             "# changes, plain or .gz) applied; reused when an earlier result made it.",
             "checkout() {",
             '    [ -d "$1" ] && return 0',
             '    rm -rf "$1.tmp"',
             '    git clone -q --no-checkout "$here/source/scxlab.bundle" "$1.tmp" &&',
             '        git -C "$1.tmp" -c advice.detachedHead=false checkout -q "$2" || return 1',
             '    case ${3:-} in',
             '        "") ;;',
             '        *.gz) gzip -dc "$here/$3" | git -C "$1.tmp" apply --binary || return 1 ;;',
             '        *) git -C "$1.tmp" apply --binary "$here/$3" || return 1 ;;',
             '    esac',
             '    mv "$1.tmp" "$1"',
             "}",
             "# rerun ID COMMIT PATCH NOTE: one result; NOTE non-empty and COMMIT empty: cannot be rerun",
             "rerun() {",
             '    case $only in "  ") ;; *" $1 "*) ;; *) return 0 ;; esac',
             '    [ -z "$4" ] || echo "reproduce-all: $1: note: $4" >&2',
             '    if [ -z "$2" ]; then failed="$failed $1"; return 0; fi',
             '    src=$work/src-$2${3:+-$5}',
             '    if ! checkout "$src" "$2" "$3"; then',
             '        echo "reproduce-all: $1: could not check out $2 from source/scxlab.bundle" >&2',
             '        failed="$failed $1"; return 0',
             '    fi',
             '    echo "reproduce-all: $1: rerunning in $src (commit $2${3:+ with $3}); new results in $results" >&2',
             '    SCXLAB_REPO=$src RESULTS=$results sh "$here/results/$1/reproduce.sh" || failed="$failed $1"',
             "}"]
    for res in results:
        note = _source_note(res, bundled)
        commit = res.git_commit if res.git_commit in bundled else ""
        patch = _patch(res) if commit else None
        lines.append("rerun " + " ".join(q(a) for a in (res.path.name, commit, patch[0] if patch else "", note,
                                                        patch[1][:12] if patch else "")))
    lines += ['if [ -n "$failed" ]; then echo "reproduce-all: not rerun or failed:$failed" >&2; exit 1; fi',
              'echo "reproduce-all: every rerun finished; new results in $results" >&2']
    return "\n".join(lines) + "\n"


def _requirements(results):
    """The README's section on what a rerun takes: every number from the results' manifests."""
    walls = [_wall_s(r) for r in results]
    known = [w for w in walls if w is not None]
    guests = [r for r in results if r.factors.get("target") != "host"]
    mem = max((int((r.factors.get("vm") or {}).get("memory_mb") or 0) for r in guests), default=0)
    cpus = max((int((r.factors.get("vm") or {}).get("vcpus") or 0) for r in guests), default=0)
    hosts = sorted({f"{(r.manifest.get('host') or {}).get('cpu_model', '?')}, "
                    f"{(r.manifest.get('host') or {}).get('nproc', '?')} CPUs" for r in results})
    real = [r.path.name for r in results if r.clock != "virtual" or r.factors.get("accel") == "kvm"]
    lines = ["## What a rerun needs", "",
             "Every number here is from the results' manifests (`times`, `factors.vm`, `host`): how long each",
             "experiment took on the machine that made it, not an estimate for yours.", "",
             f"- Time: {_duration(sum(known))} of experiments one after another"
             + (f" ({len(walls) - len(known)} result(s) without recorded times not counted)" if len(known) < len(walls)
                else "") + ", plus `make setup` and `make build` once per checkout (not recorded in results).",
             f"- The largest guest: {cpus} vCPU, {mem} MiB of guest memory (QEMU needs that much free on the host, "
             "and more for itself)." if guests else "- No result ran in a guest (all TARGET=host).",
             f"- Made on: {'; '.join(hosts)} (manifest `host`). Under QEMU TCG every instruction is emulated: "
             "a slower host takes longer in wall time.",
             "- Root, Debian 12 or later and a Debian mirror: `make setup` builds the toolchain root and the guest "
             "image (scxlab's README)."]
    if real:
        lines.append(f"- Real-clock results ({', '.join(f'`{r}`' for r in real)}) measure wall-clock time: rerun "
                     "them with nothing else running on the machine.")
    return lines + [""]


def _readme(name, results, sums_name, bundled, paper_note, notes):
    lines = [f"# {name}: scxlab results", "",
             "**Measured in an emulated guest (QEMU TCG)**: absolute numbers are not those of real hardware.",
             "Compare policies only within one result (one boot, interleaved runs) or across results whose",
             "factors all match.", "",
             "## Verify", "",
             "Every file's sha256 is in `SHA256SUMS`. From this folder:", "",
             "```sh", "sha256sum -c --strict SHA256SUMS        # coreutils, or:",
             "python3 -m analysis verify .             # also finds files added after publishing", "```", "",
             "`SHA256SUMS` itself is protected by its own sha256, published apart from this bundle (the",
             f"publisher printed it and wrote `{sums_name}` beside the tarball): compare it with",
             "`sha256sum SHA256SUMS`, or pass it as `python3 -m analysis verify . --sums-sha256 HEX`.", "",
             "## Reread", "",
             "With Debian's python3-numpy, python3-scipy and python3-matplotlib (`/usr/bin/python3`), from this folder:",
             "", "```sh",
             "/usr/bin/python3 -B -m analysis report results/<id>     # reports/<id>.txt: a result's comparison table"]
    if paper_note is None:
        lines += ["/usr/bin/python3 -B -m analysis paper --results results   # paper/: the claims, the verdicts, the figures"]
    lines += ["```", "",
              "(`-B`: no `__pycache__` is written, which `verify` would report as files added after publishing.)", "",
              "`export/results.csv` holds every measured value, one row per result, run, round, policy and metric "
              "(columns: `analysis/export.py`); pandas reads it with `pandas.read_csv(\"export/results.csv\")`."]
    if paper_note is None:
        lines += ["", "`paper/` (the proposal's claims, what was measured, the verdicts) was made by the command above "
                  "from `results/`, `paper/claims.ini` and `paper/models/`; run again, it writes the same bytes."]
    else:
        lines += ["", f"No `paper/` in this bundle: {paper_note}."]
    lines += ["", "## Rerun", "",
              "`source/scxlab.bundle` is a git bundle of scxlab at every commit the results name (`git clone "
              "source/scxlab.bundle scxlab` to read it). `reproduce/reproduce-all.sh` reruns each result from its own "
              "commit: it clones the commit into a work folder, applies the result's recorded changes "
              "(`raw/git-diff.patch`) when it was made from a modified work tree, and runs the result's "
              "`reproduce.sh` there (which runs `make setup` first when that checkout has not):", "",
              "```sh", "sh reproduce/reproduce-all.sh                      # every result; WORK=, RESULTS= move the folders",
              "sh reproduce/reproduce-all.sh <id> <id>            # these results", "```", "",
              "Compare a rerun with the kept result: `/usr/bin/python3 -m analysis report <new result>` beside "
              "`reports/<id>.txt`.", ""]
    lines += _requirements(results)
    rows = []
    for res in results:
        commit = res.git_commit[:12] if res.git_commit else "-"
        if res.git_commit and _patch(res):
            commit += " + patch"
        rows.append([f"`{res.path.name}`", commit, f"{res.workload} ({', '.join(res.policies)})", f"{res.clock}",
                     compare_accel(res) or "?", _vm_shape(res), _duration(_wall_s(res)),
                     ("valid" if res.valid else "INVALID (see its manifest)")
                     + ("; see Notes" if _source_note(res, bundled) else "")])
    lines += markdown_table(["result", "commit", "workload", "clock", "accel", "guest", "wall time", "note"], rows)
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    lines += ["", "## Licence", "", "scxlab is under the licence in `LICENSE`."]
    return "\n".join(lines) + "\n"


def _tar(src_dir, tarball):
    """A deterministic .tar.gz of src_dir (top-level folder named like it)."""
    with open(tarball, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in [""] + _files(src_dir):
            path = Path(src_dir) / rel
            info = tar.gettarinfo(str(path), arcname=(Path(src_dir.name) / rel).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            info.mode = 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644
            if info.isfile():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)


def _bundle_paper(staging, paper_dir, results):
    """paper/ in the bundle: claims.ini and models/ copied, the rest regenerated from the bundle's
    results/ by the bundle's own analysis code. Returns None, or why there is no paper/: it is
    included only when results/ holds exactly the results the paper keeps, so that it neither
    lacks what a claim quotes nor shows what the paper never kept."""
    from . import paper
    paper_dir = Path(paper_dir)
    if not (paper_dir / "claims.ini").is_file():
        return f"{paper_dir} has no claims.ini"
    kept = {d.name for d in paper.paper_result_dirs(paper_dir)}
    here = {r.path.name for r in results}
    if kept != here:
        missing, extra = sorted(kept - here), sorted(here - kept)
        some = lambda names: f"{len(names)}, e.g. {names[0]}"  # noqa: E731
        return ("its results are not the paper's kept results"
                + (f" (it lacks {some(missing)})" if missing else "")
                + (f" (it adds {some(extra)})" if extra else "")
                + "; `make publish` without RESULT= bundles the paper")
    dest = staging / "paper"
    dest.mkdir()
    shutil.copy2(paper_dir / "claims.ini", dest / "claims.ini")
    if (paper_dir / "models").is_dir():
        shutil.copytree(paper_dir / "models", dest / "models")
    paper.build(dest, staging / "results")
    return None


def publish(result_dirs, out_dir, name=None, figure_formats=("svg", "png"), paper_dir=None, repo=None):
    """Writes the bundle <out_dir>/<name>/ and <out_dir>/<name>.tar.gz; returns (bundle dir,
    tarball, sha256 of SHA256SUMS, notes). repo is the git repository whose commits, LICENSE and
    schemas go in (default: this checkout); paper_dir the paper to include (default: its paper/).
    Never replaces an existing bundle."""
    from . import export, figures
    repo = Path(repo or REPO)
    paper_dir = Path(paper_dir or repo / "paper")
    results = [load_result(d) for d in result_dirs]
    names = [r.path.name for r in results]
    if len(set(names)) != len(names):
        raise AnalysisError(f"two results share a folder name ({sorted(n for n in names if names.count(n) > 1)[0]}): "
                            "a bundle keeps each under results/<name>")
    name = name or time.strftime("scxlab-results-%Y%m%d-%H%M%S", time.gmtime())
    if "/" in name or name.startswith("."):
        raise AnalysisError(f"bundle name {name!r}: must be a plain file name")
    for what in ("LICENSE", "schemas"):
        if not (repo / what).exists():
            raise AnalysisError(f"{repo / what}: missing; a bundle carries the repository's {what}")
    out_dir = Path(out_dir)
    dest, tarball = out_dir / name, out_dir / f"{name}.tar.gz"
    sums_name = f"{name}.SHA256SUMS.sha256"
    for p in (dest, tarball):
        if p.exists():
            raise AnalysisError(f"{p}: already exists; a published bundle is never replaced (choose NAME=)")
    staging = out_dir / f".staging-{name}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        for res in results:
            shutil.copytree(res.path, staging / "results" / res.path.name, symlinks=True)
            env = {k: res.manifest.get(k) for k in ("run_id", "emulated", "factors", "software", "guest", "host", "times")}
            (staging / "environment").mkdir(exist_ok=True)
            (staging / "environment" / f"{res.path.name}.json").write_text(json.dumps(env, indent=2) + "\n")
            cmp = compare(pool([res]))
            (staging / "reports").mkdir(exist_ok=True)
            (staging / "reports" / f"{res.path.name}.txt").write_text(render_text(cmp) + "\n")
            (staging / "reports" / f"{res.path.name}.json").write_text(render_json(cmp) + "\n")
        (staging / "environment" / "analysis.json").write_text(json.dumps(_analysis_env(), indent=2) + "\n")
        figs, fig_notes = figures.make_all([pool([r]) for r in results], staging / "figures", figure_formats)
        if fig_notes:
            (staging / "figures" / "NOT-DRAWN.txt").write_text("".join(f"{n}\n" for n in fig_notes))
        export.export([staging / "results" / r.path.name for r in results], staging / "export" / "results.csv")
        (staging / "source").mkdir()
        bundled = _bundle_source(results, staging / SOURCE, repo)
        if not bundled:
            (staging / "source").rmdir()
        (staging / "reproduce").mkdir()
        script = staging / "reproduce" / "reproduce-all.sh"
        script.write_text(_reproduce_all(results, bundled))
        script.chmod(0o755)
        shutil.copy2(repo / "LICENSE", staging / "LICENSE")
        shutil.copytree(repo / "schemas", staging / "schemas")
        src = Path(__file__).resolve().parent
        shutil.copytree(src, staging / "analysis", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mk"))
        paper_note = _bundle_paper(staging, paper_dir, [r for r in results])
        notes = [f"`{r.path.name}`: {n}" for r in results if (n := _source_note(r, bundled))]
        (staging / "README.md").write_text(_readme(name, results, sums_name, bundled, paper_note, notes))
        sums_hash = write_sums(staging)
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _tar(dest, tarball)
    (out_dir / sums_name).write_text(f"{sums_hash}  {name}/{SUMS}\n")
    if paper_note is not None:
        notes.insert(0, f"no paper/: {paper_note}")
    return dest, tarball, sums_hash, notes


def _safe_extract(tarball, into):
    """Unpacks a bundle tarball refusing anything that could write outside `into` or that a
    bundle never holds (links, devices); returns the bundle's top-level folder."""
    try:
        tar = tarfile.open(tarball, "r:*")
    except (tarfile.TarError, OSError) as e:
        raise AnalysisError(f"{tarball}: not a readable tar archive ({e})") from None
    with tar:
        tops = set()
        for m in tar.getmembers():
            p = Path(m.name)
            if p.is_absolute() or ".." in p.parts:
                raise AnalysisError(f"{tarball}: member {m.name}: path leaves the bundle")
            if not (m.isfile() or m.isdir()):
                raise AnalysisError(f"{tarball}: member {m.name}: not a plain file or folder")
            tops.add(p.parts[0])
        if len(tops) != 1:
            raise AnalysisError(f"{tarball}: expected one top-level folder, found {sorted(tops)}")
        for m in tar.getmembers():
            tar.extract(m, into, set_attrs=False)
    return Path(into) / tops.pop()


def verify(bundle, expected_sums_sha256=None):
    """Problems found in a bundle (directory or tarball), each naming the file; empty if intact."""
    bundle = Path(bundle)
    if bundle.is_file():
        with tempfile.TemporaryDirectory(prefix="scxlab-verify-") as tmp:
            return [p.replace(str(Path(tmp)) + "/", "") for p in
                    _verify_dir(_safe_extract(bundle, tmp), expected_sums_sha256)]
    if not bundle.is_dir():
        raise AnalysisError(f"{bundle}: no such bundle (a directory or .tar.gz made by `make publish`)")
    return _verify_dir(bundle, expected_sums_sha256)


def _verify_dir(root, expected_sums_sha256):
    sums = root / SUMS
    if not sums.is_file():
        return [f"{SUMS}: missing (not a bundle made by `make publish`?)"]
    problems = []
    if expected_sums_sha256:
        got = _sha256(sums)
        if got != expected_sums_sha256.strip().lower():
            problems.append(f"{SUMS}: its sha256 is {got}, not the published {expected_sums_sha256} "
                            f"(the checksum list itself was changed)")
    listed = {}
    for n, line in enumerate(sums.read_text(errors="replace").splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or not rel:
            problems.append(f"{SUMS}: line {n} is not '<sha256>  <file>': {line!r}")
            continue
        listed[rel] = digest
    present = set(_files(root)) - {SUMS}
    for rel in sorted(present | set(listed)):
        path = root / rel
        if rel not in listed:
            problems.append(f"{rel}: not listed in {SUMS} (added or renamed after publishing)")
        elif path.is_symlink() or (path.exists() and not path.is_file()):
            problems.append(f"{rel}: not a plain file")
        elif rel not in present:
            problems.append(f"{rel}: missing")
        elif _sha256(path) != listed[rel]:
            problems.append(f"{rel}: sha256 differs from {SUMS} (modified after publishing)")
    return problems
