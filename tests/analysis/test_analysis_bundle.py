"""A bundle an artifact committee can use, from synthetic results made at the commits of a scratch
git repository: it holds the paper (regenerated inside the extracted bundle, byte for byte), the
harness source at each result's commit, the licence, the long-format CSV, requirements taken from
the manifests, and a reproduce script that reruns each result in a checkout of its own commit
(with a dirty result's recorded patch applied); verify catches a changed byte in every part."""
import csv
import json
import os
import subprocess
import sys
import tarfile

import pytest

from analysis import bundle, paper
from synthetic_results import REPO, interleaved, write_result

CLAIMS = """
[claim fifo-nginx]
title = fifo vs cfs on nginx
claim = fifo is 3% faster on nginx.
source = a test
kind = ratio
policy = fifo
expected = 1.03
results = {rid}
"""

# What a result's reproduce.sh runs in the scratch repository: `make compare ...` records which
# commit and which marker the checkout holds, and the arguments it got, instead of booting a guest.
MAKEFILE = """compare:
\t@echo "$$(git rev-parse HEAD) $$(cat marker.txt) $(POLICIES)" >> "$$RESULTS/reruns.txt"
"""
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]


def git(repo, *args):
    return subprocess.run(GIT + ["-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def set_software(result, **software):
    m = json.loads((result / "manifest.json").read_text())
    m["software"].update(software)
    (result / "manifest.json").write_text(json.dumps(m, indent=2))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A scratch repository with two commits, a paper keeping three results (one clean at each
    commit, one dirty at the second with its patch, one from a commit the repository lacks) and
    the bundle published from it."""
    root = tmp_path_factory.mktemp("bundle")
    repo = root / "repo"
    (repo / "runners/host").mkdir(parents=True)
    (repo / "runners/host/scxlab.c").write_text("/* what reproduce.sh recognises a checkout by */\n")
    (repo / "Makefile").write_text(MAKEFILE)
    (repo / "LICENSE").write_text("the licence\n")
    (repo / "schemas").symlink_to(REPO / "schemas")  # the contract the bundle's analysis checks against
    (repo / "marker.txt").write_text("one\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    first = git(repo, "rev-parse", "HEAD")
    (repo / "marker.txt").write_text("two\n")
    git(repo, "commit", "-q", "-am", "two")
    second = git(repo, "rev-parse", "HEAD")
    (repo / "marker.txt").write_text("patched\n")
    patch = subprocess.run(["git", "-C", str(repo), "diff", "--binary", "HEAD"], capture_output=True).stdout
    git(repo, "checkout", "-q", "--", "marker.txt")

    made_at = root / "made"
    r1 = write_result(made_at, "20260101-000000-nginx-cfs+fifo", interleaved([1000, 1010, 990], [1200, 1190, 1210]))
    set_software(r1, git_commit=first)
    r2 = write_result(made_at, "20260101-000100-nginx-cfs+fifo", interleaved([1000, 1005, 995], [1100, 1110, 1090]),
                      times={"wall_s": 125.0})
    (r2 / "raw/git-diff.patch").write_bytes(patch)
    set_software(r2, git_commit=second, git_dirty=True,
                 git_diff={"file": "raw/git-diff.patch", "sha256": bundle._sha256(r2 / "raw/git-diff.patch"),
                           "bytes": len(patch)})
    r3 = write_result(made_at, "20260101-000200-nginx-cfs+fifo", interleaved([1000, 1001, 999], [1000, 1002, 998]))
    set_software(r3, git_commit="f" * 40)

    pdir = root / "paper"
    pdir.mkdir()
    kept = [paper.add_result(r, pdir, dirty_because="a test" if r == r2 else None) for r in (r1, r2, r3)]
    (pdir / "claims.ini").write_text(CLAIMS.format(rid=kept[0].name))
    paper.build(pdir)
    d, tarball, sums, notes = bundle.publish(paper.paper_result_dirs(pdir), root / "pub", name="b1",
                                             figure_formats=("svg",), paper_dir=pdir, repo=repo)
    return {"root": root, "dir": d, "tarball": tarball, "sums": sums, "notes": notes, "first": first,
            "second": second, "ids": [k.name for k in kept], "paper": pdir}


def extract(made, into):
    with tarfile.open(made["tarball"]) as tar:
        tar.extractall(into)
    return into / made["dir"].name


def test_bundle_holds_paper_source_licence_export_and_verifies(made):
    d = made["dir"]
    for rel in ("LICENSE", "paper/claims.ini", "paper/paper.md", "paper/index.html", "source/scxlab.bundle",
                "export/results.csv", "schemas/manifest.schema.json", "reproduce/reproduce-all.sh", "analysis/paper.py"):
        assert (d / rel).is_file(), rel
    assert list((d / "paper/figures").glob("throughput-*.svg"))
    assert (d / "LICENSE").read_text() == "the licence\n"
    # the paper in the bundle is the one the paper's folder holds, made from the same results
    assert (d / "paper/paper.md").read_bytes() == (made["paper"] / "paper.md").read_bytes()
    assert bundle.verify(d) == [] and bundle.verify(made["tarball"], expected_sums_sha256=made["sums"]) == []
    # the source bundle has both commits the repository holds, under their own ids
    heads = subprocess.run(["git", "bundle", "list-heads", str(d / "source/scxlab.bundle")],
                           capture_output=True, text=True, check=True).stdout
    assert made["first"] in heads and made["second"] in heads and "f" * 40 not in heads
    # the commit the repository lacks is named, in the notes and the README
    assert any(made["ids"][2] in n and "f" * 40 in n and "not in the publishing repository" in n
               for n in made["notes"])
    assert "f" * 40 in (d / "README.md").read_text()


def test_readme_requirements_come_from_the_manifests(made):
    readme = (made["dir"] / "README.md").read_text()
    # 300 s (the synthetic default) twice and 125 s: 12 min 05 s one after another
    assert "- Time: 12 min 05 s of experiments one after another" in readme
    assert "The largest guest: 2 vCPU, 2048 MiB" in readme
    assert "Made on: AMD EPYC, 2 CPUs" in readme
    row = next(l for l in readme.splitlines() if l.startswith(f"| `{made['ids'][1]}`"))
    assert f"| {made['second'][:12]} + patch |" in row and "| 2 min 05 s |" in row and "2 vCPU, 2048 MiB" in row


def test_export_in_the_bundle_is_one_long_format_table(made):
    with open(made["dir"] / "export/results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {"result", "run", "round", "policy", "metric", "unit", "value", "direction", "factors"} <= set(rows[0])
    rps = [r for r in rows if r["result"] == made["ids"][0] and r["metric"] == "requests_per_sec"]
    assert [(r["run"], r["round"], r["policy"], float(r["value"])) for r in rps] == [
        ("1", "1", "cfs", 1000.0), ("2", "1", "fifo", 1200.0), ("3", "2", "cfs", 1010.0), ("4", "2", "fifo", 1190.0),
        ("5", "3", "cfs", 990.0), ("6", "3", "fifo", 1210.0)]
    assert {r["direction"] for r in rps} == {"higher"} and {r["unit"] for r in rps} == {"req/s"}
    assert json.loads(rps[0]["factors"])["workload"] == "nginx"


@pytest.mark.parametrize("part", ["paper/paper.md", "paper/models", "source/scxlab.bundle", "LICENSE",
                                  "reproduce/reproduce-all.sh", "export/results.csv", "schemas/run.schema.json",
                                  "README.md"])
def test_verify_catches_a_flipped_byte_in_each_part(made, part, tmp_path):
    d = extract(made, tmp_path)
    if part == "paper/models":
        (d / part).mkdir(exist_ok=True)
        (d / part / "slipped-in.json").write_text("{}\n")
        assert any(p.startswith("paper/models/slipped-in.json: not listed") for p in bundle.verify(d))
        return
    f = d / part
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01
    f.write_bytes(bytes(data))
    assert bundle.verify(d) == [f"{part}: sha256 differs from SHA256SUMS (modified after publishing)"]


def test_the_paper_command_works_inside_the_extracted_bundle(made, tmp_path):
    d = extract(made, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-B", "-m", "analysis", "paper", "--results", "results"], cwd=d,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {d / 'paper' / 'paper.md'}" in proc.stdout  # the bundle's own analysis, on its own paper
    # regenerated from the bundle's results by its own code: the same bytes, so the bundle still verifies
    assert bundle.verify(d) == []
    assert "| fifo vs cfs on nginx | +3.0% | +20.0% [" in (d / "paper/paper.md").read_text()


def test_reproduce_all_reruns_each_result_at_its_commit_with_its_patch(made, tmp_path):
    d = extract(made, tmp_path)
    work = tmp_path / "work"
    # as a user runs it: not inside `make test`, whose exported RESULTS (and make's own variables)
    # would send the reruns elsewhere
    env = {k: v for k, v in os.environ.items() if k not in ("RESULTS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["WORK"] = str(work)
    proc = subprocess.run(["sh", str(d / "reproduce/reproduce-all.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    # the third result's commit is not in the bundle: said, and the script fails naming it
    assert proc.returncode == 1
    assert f"not rerun or failed: {made['ids'][2]}" in proc.stderr
    reruns = (work / "results/reruns.txt").read_text().splitlines()
    assert reruns == [f"{made['first']} one cfs fifo", f"{made['second']} patched cfs fifo"]
    # one result alone, by its id; the checkout made above is reused
    (work / "results/reruns.txt").unlink()
    proc = subprocess.run(["sh", str(d / "reproduce/reproduce-all.sh"), made["ids"][0]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (work / "results/reruns.txt").read_text().splitlines() == [f"{made['first']} one cfs fifo"]
