"""The kernel's own example schedulers (tools/sched_ext of Debian's linux-source package of the
guest kernel's version, built by kernel/kscx-build.sh during make setup) as policies
(configs/policies/scx_*.ini, loader = kscx:NAME)."""
import configparser
import hashlib
import os
import pathlib
import subprocess

import pytest

from conftest import REPO, load, make, result_dir

SCRIPT = REPO / "kernel/kscx-build.sh"
RELEASE = "7.3.4+deb13-cloud-amd64"


def setup_env():
    env = {}
    for line in (REPO / "build/setup.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v
    return env


def check_version(tmp_path, guest, source, release=RELEASE):
    versions = tmp_path / "versions.txt"
    versions.write_text(f"libc6\t2.41-12\nlinux-image-{release}\t{guest}\nzstd\t1.5.7\n")
    return subprocess.run(["bash", str(SCRIPT), "check-version", str(versions), RELEASE, source],
                          capture_output=True, text=True, timeout=30)


def test_version_mismatch_is_refused(tmp_path):
    ok = check_version(tmp_path, "7.3.4-1~bpo13+1", "7.3.4-1~bpo13+1")
    assert ok.returncode == 0, ok.stderr
    bad = check_version(tmp_path, "7.3.4-1~bpo13+1", "7.3.5-1~bpo13+1")
    assert bad.returncode != 0
    assert "version mismatch" in bad.stderr and "7.3.4-1~bpo13+1" in bad.stderr and "7.3.5-1~bpo13+1" in bad.stderr
    assert "refusing" in bad.stderr
    # a revision differs: still another tree
    assert check_version(tmp_path, "7.3.4-1~bpo13+1", "7.3.4-1~bpo13+2").returncode != 0
    # the mirror serves no source package at all
    none = check_version(tmp_path, "7.3.4-1~bpo13+1", "")
    assert none.returncode != 0 and "no version of the kernel source package" in none.stderr
    # the image's list does not name the kernel it booted
    other = check_version(tmp_path, "7.3.4-1~bpo13+1", "7.3.4-1~bpo13+1", release="7.2.0-cloud-amd64")
    assert other.returncode != 0 and f"lists no linux-image-{RELEASE}" in other.stderr


def test_built_schedulers_match_the_guest_kernel():
    env = setup_env()
    kscx = env.get("KSCX_DIR")
    assert kscx, "make setup did not build the kernel's example schedulers (KSCX_DIR is empty)"
    kscx = pathlib.Path(kscx)
    image = pathlib.Path(env["IMAGE_DIR"])
    release = (image / "kernel-release").read_text().strip()
    guest = dict(l.split("\t", 1) for l in (image / "versions.txt").read_text().splitlines() if "\t" in l)
    pkg, ver = (kscx / "package").read_text().split()
    assert ver == guest[f"linux-image-{release}"].strip()
    assert pkg == "linux-source-" + ".".join(release.split(".")[:2])
    built = dict(l.split("\t", 1) for l in (kscx / "built.txt").read_text().splitlines())
    # every config that names a kernel scheduler has its binary (or says in its comment why not)
    for ini in (REPO / "configs/policies").glob("scx_*.ini"):
        c = configparser.ConfigParser(inline_comment_prefixes=None)
        c.read(ini)
        loader = c["policy"]["loader"]
        assert loader.startswith("kscx:"), ini
        name = loader[5:]
        assert built.get(name) == "built", f"{ini.name}: {name} is {built.get(name)}"
        assert os.access(kscx / "bin" / name, os.X_OK)


EXPECTED_OPS = {"cfs": None, "scx_simple": "simple", "scx_qmap": "qmap", "scx_flatcg": "flatcg",
                "scx_central": "central"}


def test_kernel_schedulers_compare(results_root):
    kscx = pathlib.Path(setup_env()["KSCX_DIR"])
    proc = make("compare", "POLICIES=" + " ".join(EXPECTED_OPS), "WORKLOAD=hackbench", "DURATION=3",
                results=results_root, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    d = result_dir(proc)
    m = load(d / "manifest.json")
    assert m["valid"] is True, m.get("invalid_reasons")
    assert sorted(m["factors"]["policies"]) == sorted(EXPECTED_OPS)
    package = (kscx / "package").read_text().strip()
    seen = {}
    for r in m["runs"]:
        run = load(d / r["dir"] / "run.json")
        assert run["valid"] is True, run.get("invalid_reasons")
        pol = run["policy"]
        seen[pol] = run.get("ops_seen")
        if EXPECTED_OPS[pol]:
            assert "--exit-info" not in run["loader_command"]   # run as the kernel ships it
    for pol, ops in EXPECTED_OPS.items():
        if ops is None:
            continue
        assert seen[pol] == ops, (pol, seen)
        conf = m["factors"]["policy_configs"][pol]
        binary = kscx / "bin" / ("scx_" + ops)
        assert conf["sha256"] == hashlib.sha256(binary.read_bytes()).hexdigest()
        assert conf["kscx_package"] == package
        assert conf["ops_name"] == ops
