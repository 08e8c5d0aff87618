"""Publishable result bundles and their verification.

A bundle is a directory (and the same as a .tar.gz beside it) that lets someone else check what
scxlab measured without trusting the publisher's machine:

    README.md          what is inside, how to verify it, how to rerun it
    SHA256SUMS         sha256 of every other file, in `sha256sum -c` format
    results/<id>/      the result directories, as they were (manifests, metrics, raw data kept)
    environment/       per result: the factors, software versions, guest and host from its
                       manifest; analysis.json: the analysis code's own versions
    reports/<id>.txt   the comparison table (and .json) as `make report` prints it
    figures/           every figure (SVG and PNG), stamped with the runs it came from
    reproduce/         reproduce-all.sh, rerunning every result's reproduce.sh from a checkout
    analysis/          the analysis code that made reports and figures (python3 -m analysis)

verify() recomputes every checksum and reports, naming the file, anything missing, changed or
added after publishing. SHA256SUMS itself could be rewritten by whoever tampers with the files,
so publish() also prints its sha256, to be published apart from the bundle (it is written to
<name>.SHA256SUMS.sha256 beside the tarball); `make verify BUNDLE=... SUMS_SHA256=...` checks it.
The tarball is deterministic (sorted entries, fixed times and owners).
"""
import gzip
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from . import AnalysisError
from .compare import compare, pool
from .loader import load_result
from .report import render_json, render_text

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


def _git(*args):
    repo = Path(__file__).resolve().parent.parent
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _analysis_env():
    import matplotlib
    import numpy
    import scipy
    return {"python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__,
            "matplotlib": matplotlib.__version__, "scxlab_commit": _git("rev-parse", "HEAD"),
            "scxlab_dirty": bool(_git("status", "--porcelain", "--", "analysis"))}


def _readme(name, results, sums_name):
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
             "`reports/<id>.txt` is the comparison table of each result; to recompute it (Debian's",
             "python3-numpy, python3-scipy, python3-matplotlib):", "",
             "```sh", "/usr/bin/python3 -m analysis report results/<id>", "```", "",
             "## Rerun", "",
             "Each `results/<id>/reproduce.sh` reruns its experiment from a checkout of scxlab at the commit",
             "the result names (`make setup` builds the pinned kernel, toolchain and guest image first):", "",
             "```sh", "git clone <scxlab> scxlab && git -C scxlab checkout <commit>",
             "SCXLAB_REPO=$PWD/scxlab sh reproduce/reproduce-all.sh", "```", "",
             "## Results", ""]
    for res in results:
        lines.append(f"- `{res.id}`: {res.workload}, policies {', '.join(res.policies)}, clock={res.clock}, "
                     f"{len(res.runs)} runs, {'valid' if res.valid else 'INVALID (see its manifest)'}; "
                     f"commit `{res.git_commit or '?'}`; rerun: `{res.reproduce_command() or '(none recorded)'}`")
    return "\n".join(lines) + "\n"


def _reproduce_all(results):
    lines = ["#!/bin/sh",
             "# Reruns every experiment of this bundle. Needs a checkout of scxlab (SCXLAB_REPO) at the",
             "# commit each result names; new results go to $RESULTS (default: the checkout's results/).",
             "set -e",
             ': "${SCXLAB_REPO:?set SCXLAB_REPO to a checkout of scxlab}"',
             'here=$(cd "$(dirname "$0")/.." && pwd)']
    for res in results:
        lines.append(f'sh "$here/results/{res.path.name}/reproduce.sh"   # {res.id}')
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


def publish(result_dirs, out_dir, name=None, figure_formats=("svg", "png")):
    """Writes the bundle <out_dir>/<name>/ and <out_dir>/<name>.tar.gz; returns (bundle dir,
    tarball, sha256 of SHA256SUMS). Never replaces an existing bundle."""
    from . import figures
    results = [load_result(d) for d in result_dirs]
    name = name or time.strftime("scxlab-results-%Y%m%d-%H%M%S", time.gmtime())
    if "/" in name or name.startswith("."):
        raise AnalysisError(f"bundle name {name!r}: must be a plain file name")
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
    figs, notes = figures.make_all([pool([r]) for r in results], staging / "figures", figure_formats)
    if notes:
        (staging / "figures" / "NOT-DRAWN.txt").write_text("".join(f"{n}\n" for n in notes))
    (staging / "reproduce").mkdir()
    script = staging / "reproduce" / "reproduce-all.sh"
    script.write_text(_reproduce_all(results))
    script.chmod(0o755)
    src = Path(__file__).resolve().parent
    shutil.copytree(src, staging / "analysis", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mk"))
    (staging / "README.md").write_text(_readme(name, results, sums_name))
    sums_hash = write_sums(staging)
    os.rename(staging, dest)
    _tar(dest, tarball)
    (out_dir / sums_name).write_text(f"{sums_hash}  {name}/{SUMS}\n")
    return dest, tarball, sums_hash


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
