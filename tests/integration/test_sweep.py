"""Sweeps: a matrix expanded into points, one result per point, state kept, and a rerun that
resumes without repeating finished points; a point is done only when its result is valid, and
an invalid or interrupted one is retried with every attempt kept."""
import json
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import REPO, load, load_scale, make, result_dir, run, stop_group, wall_limit


def test_sweep_runs_every_point_and_resumes(results_root):
    proc = make("sweep", "SWEEP=smoke", results=results_root)
    assert proc.returncode == 0, proc.stderr
    sdir = result_dir(proc)
    state = load(sdir / "sweep.json")
    points = state["points"]
    assert set(points) == {"depth=1 ratio=2", "depth=2 ratio=2"}
    for label, p in points.items():
        m = load(sdir / p["result"] / "manifest.json")
        assert p["valid"] is True and m["valid"] is True
        depth = int(label.split()[0].split("=")[1])
        tree = m["factors"]["cgroups"]
        assert tree["name"] == f"pair:{depth}:2"
        assert [round(i["entitled_share"], 6) for i in tree["instances"]] == [round(2 / 3, 6), round(1 / 3, 6)]
        run = load(sdir / p["result"] / m["runs"][0]["dir"] / "run.json")
        shares = run["cgroups"]["instances"]
        assert len(shares) == 2 and abs(sum(s["achieved_share"] for s in shares) - 1) < 1e-6
    assert "point 2/2" in proc.stderr
    # the accelerator: every point records it; a fall-back from KVM to TCG is said once per sweep
    whys = {load(sdir / p["result"] / "manifest.json")["accelerator"]["why"] for p in points.values()}
    assert len(whys) == 1
    fell_back = whys.pop().startswith("auto: no usable KVM")
    assert proc.stderr.count("no usable KVM here") == (1 if fell_back else 0)

    # forget one point, as if the sweep had been interrupted during it: only that one reruns
    kept = points["depth=1 ratio=2"]
    del points["depth=2 ratio=2"]
    (sdir / "sweep.json").write_text(json.dumps(state))
    t0 = time.monotonic()
    again = make("sweep", "SWEEP=smoke", results=results_root)
    assert again.returncode == 0, again.stderr
    assert result_dir(again) == sdir
    assert "2 points, 1 already done" in again.stderr
    state2 = load(sdir / "sweep.json")
    assert state2["points"]["depth=1 ratio=2"] == kept
    assert state2["points"]["depth=2 ratio=2"]["result"] != ""

    # nothing left: a rerun boots nothing
    t0 = time.monotonic()
    done = make("sweep", "SWEEP=smoke", results=results_root)
    assert done.returncode == 0 and "2 already done" in done.stderr
    assert time.monotonic() - t0 < 60

    # the same sweep run from the checkout spelled differently (as from another clone) resumes it
    alias = results_root.parent / "checkout-alias"
    if not alias.exists():
        alias.symlink_to(REPO)
    elsewhere = subprocess.run([str(alias / "scxlab"), "sweep", "SWEEP=smoke", "JOBS=1", f"RESULTS={results_root}"],
                               capture_output=True, text=True, timeout=300)
    assert elsewhere.returncode == 0 and "2 already done" in elsewhere.stderr, elsewhere.stderr
    assert result_dir(elsewhere) == sdir


def test_unknown_sweep_is_refused(results_root):
    proc = make("sweep", "SWEEP=nosuch", results=results_root, timeout=300)
    assert proc.returncode != 0
    assert "unknown sweep 'nosuch'" in proc.stderr and "cgroup-weights" in proc.stderr


def scxlab(*args, timeout=300):
    """The runner called directly (in the toolchain root), as the lead's wrapper will call it."""
    cmd = [str(REPO / "kernel/tools-exec"), "build/runners/scxlab", *map(str, args)]
    return run(cmd, timeout, cwd=REPO)


def fake_image(tmp_path):
    """An image whose files exist but hold no kernel: QEMU refuses it, the guest never comes up."""
    img = tmp_path / "broken-image"
    img.mkdir()
    for name in ("rootfs.ext4", "vmlinuz", "initrd.img"):
        (img / name).write_text("not a kernel\n")
    (img / "kernel-release").write_text("7.3.4+deb13-cloud-amd64\n")
    return img


def test_a_guest_that_never_boots_is_infrastructure_and_its_point_is_not_done(tmp_path):
    img, results = fake_image(tmp_path), tmp_path / "results"
    run = scxlab("run", "--repo", REPO, "--results", results, "--policies", "cfs", "--workload", "nginx",
                 "--duration", "2", "--image", img)
    assert run.returncode == 3, run.stderr
    (invalid,) = [d for d in results.iterdir() if not d.name.startswith(".")]
    m = load(invalid / "manifest.json")
    assert invalid.name.endswith("-INVALID") and m["valid"] is False
    assert any("never came up" in r for r in m["invalid_reasons"]), m["invalid_reasons"]

    args = ["sweep", "--sweep", "smoke", "--repo", REPO, "--results", results, "--image", img, "--jobs", "1"]
    first = scxlab(*args)
    assert first.returncode == 3, first.stderr
    sdir = pathlib.Path(first.stdout.splitlines()[-1])
    state = load(sdir / "sweep.json")
    assert state["point_labels"] == ["depth=1 ratio=2", "depth=2 ratio=2"] and state["analysis"] is None
    # the sweep stops at the point that could not boot: the next one would fail the same way
    assert list(state["points"]) == ["depth=1 ratio=2"]
    p = state["points"]["depth=1 ratio=2"]
    assert p["valid"] is False and p["exit_code"] == 3 and (sdir / p["result"]).is_dir()
    assert "stops here" in first.stderr and "not done: depth=2 ratio=2: not run yet" in first.stderr

    # A record from before attempts were kept, with the point recorded as done though INVALID
    # (what the old sweep wrote): the rerun tries it again and keeps the old entry as attempt 1.
    old = {"result": str(sdir / p["result"]), "valid": False, "finished": "2026-01-01T00:00:00Z"}
    state["points"]["depth=1 ratio=2"] = old
    (sdir / "sweep.json").write_text(json.dumps(state))
    again = scxlab(*args)
    assert again.returncode == 3 and "0 already done" in again.stderr, again.stderr
    att = load(sdir / "sweep.json")["points"]["depth=1 ratio=2"]["attempts"]
    assert [(a["attempt"], a["superseded_by"]) for a in att] == [(1, 2), (2, None)]
    assert att[0]["result"] == old["result"] and att[1]["exit_code"] == 3 and att[1]["result"] != p["result"]


def pids_where(match):
    """The processes whose command line (a list of bytes) match() accepts."""
    pids = []
    for d in pathlib.Path("/proc").iterdir():
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if d.name.isdigit() and cmd and match(cmd):
            pids.append(int(d.name))
    return pids


# as a user types it: from a shell, not from inside make (make test), whose variables ./scxlab's
# own `make build` would inherit
SHELL_ENV = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}


def qemu_pids(path):
    """QEMU processes whose command line names path (this test's results folder)."""
    return pids_where(lambda cmd: b"qemu-system" in cmd[0] and any(str(path).encode() in c for c in cmd))


def sweep_until(results, seen, timeout=900, jobs=1):
    """Starts `./scxlab sweep SWEEP=smoke JOBS=jobs` (the runner's own exit code, which make would
    turn into its 2) in a session of its own and returns (process, stderr lines so far) once
    `seen(lines)` is true; fails if the sweep ends first or time runs out (timeout: on a quiet host,
    stretched by the host's load as conftest.run does)."""
    proc = subprocess.Popen(["./scxlab", "sweep", "SWEEP=smoke", f"JOBS={jobs}", f"RESULTS={results}"], cwd=REPO,
                            env=SHELL_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    lines, q = [], queue.Queue()
    threading.Thread(target=lambda: [q.put(l) for l in proc.stderr] + [q.put(None)], daemon=True).start()
    t0, scale = time.monotonic(), load_scale()
    while not seen(lines):
        try:
            line = q.get(timeout=5)
        except queue.Empty:
            scale = max(scale, load_scale())
            if time.monotonic() - t0 > wall_limit(timeout, scale):
                stop_group(proc)
                pytest.fail(f"timeout: the sweep did not reach the expected progress line within "
                            f"{wall_limit(timeout, scale):.0f} s ({timeout} s x {scale:.2f} for the host's load):\n"
                            + "".join(lines), pytrace=False)
            continue
        assert line is not None, "the sweep ended before the expected progress line:\n" + "".join(lines)
        lines.append(line)
    proc.rest = q
    return proc, lines


def finish(proc, lines, timeout=600):
    out = proc.stdout.read()
    try:
        proc.wait(timeout=wall_limit(timeout, load_scale()))
    except subprocess.TimeoutExpired:
        stop_group(proc)
        pytest.fail("timeout: the sweep did not end after it was stopped:\n" + "".join(lines), pytrace=False)
    while (line := proc.rest.get(timeout=60)) is not None:
        lines.append(line)
    return out, "".join(lines)


def in_point_2_run(n):
    """The sweep's second point is in its run n (of 2: cfs, then fifo): run n-1 has finished."""
    def seen(lines):
        at = next((i for i, l in enumerate(lines) if "[sweep] point 2/2" in l), None)
        return at is not None and any(f"run {n}/2:" in l for l in lines[at:])
    return seen


def test_killed_and_interrupted_points_are_retried_and_every_attempt_kept(tmp_path):
    results = tmp_path / "results"
    # 1. QEMU killed during the second point's first run: that point is INVALID, the sweep goes on to
    #    its end and exits 1 (some point not valid), saying which.
    proc, lines = sweep_until(results, in_point_2_run(1))
    pids = qemu_pids(results)
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    out, err = finish(proc, lines)
    assert proc.returncode == 1, err
    sdir = pathlib.Path(out.splitlines()[-1])
    state = load(sdir / "sweep.json")
    one, two = state["points"]["depth=1 ratio=2"], state["points"]["depth=2 ratio=2"]
    assert one["valid"] is True and two["valid"] is False and len(two["attempts"]) == 1
    killed = two["result"]
    assert killed.endswith("-INVALID") and (sdir / killed / "manifest.json").is_file()
    assert load(sdir / killed / "manifest.json")["valid"] is False
    sweep_lines = [l for l in err.splitlines() if l.startswith("[sweep]")]
    assert "not done: depth=2 ratio=2: not valid" in sweep_lines[-2] and "rerun the same command" in sweep_lines[-1]

    # 2. Rerun, interrupted (Ctrl-C) in that point's second run, after its first run finished: the
    #    point is retried, not counted done, and its finished run is not kept as part of any point.
    proc, lines = sweep_until(results, in_point_2_run(2))
    os.killpg(proc.pid, signal.SIGINT)
    out, err = finish(proc, lines)
    assert proc.returncode == 1, err
    assert "2 points, 1 already done" in err and "[sweep] point 1/2" not in err
    assert "interrupted during point depth=2 ratio=2" in err
    two = load(sdir / "sweep.json")["points"]["depth=2 ratio=2"]
    assert two["valid"] is False and len(two["attempts"]) == 2 and two["attempts"][1]["interrupted"] is True
    cut = two["attempts"][1]["result"]
    assert cut.endswith("-INVALID") and load(sdir / cut / "manifest.json")["valid"] is False
    # the cut attempt had finished its first run (kept there, as evidence) and lost its second
    assert [(r["policy"], r["valid"]) for r in load(sdir / cut / "manifest.json")["runs"]] == [
        ("cfs", True), ("fifo", False)]

    # 3. Rerun to the end: only the second point runs, all of it; every attempt is kept and marked.
    last = subprocess.run(["./scxlab", "sweep", "SWEEP=smoke", f"RESULTS={results}"], cwd=REPO, env=SHELL_ENV,
                          capture_output=True, text=True, timeout=wall_limit(900, load_scale()))
    assert last.returncode == 0, last.stderr
    assert "2 points, 1 already done" in last.stderr and "[sweep] point 1/2" not in last.stderr
    state = load(sdir / "sweep.json")
    assert state["points"]["depth=1 ratio=2"] == one
    two = state["points"]["depth=2 ratio=2"]
    att = two["attempts"]
    assert two["valid"] is True and [(a["valid"], a["superseded_by"]) for a in att] == [
        (False, 2), (False, 3), (True, None)]
    assert att[0]["result"] == killed and att[1]["result"] == cut and two["result"] == att[2]["result"]
    for a in att:
        assert a["result"] is None or (sdir / a["result"]).is_dir()
    # the retried point is a whole fresh result: both its runs, none carried over from the cut attempt
    final = load(sdir / two["result"] / "manifest.json")
    assert final["valid"] is True and [r["policy"] for r in final["runs"]] == ["cfs", "fifo"]

    # 4. The analysis reads one valid result per point, the last attempt's, never the INVALID ones.
    read = subprocess.run([sys.executable, "-c", "import json, sys; from analysis.sweep import read_sweep; "
                           "sw = read_sweep(sys.argv[1]); print(json.dumps([[l, r.path.name] for l, r in sw.results]"
                           " + [m['point'] for m in sw.missing]))", str(sdir)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == [["depth=1 ratio=2", one["result"]], ["depth=2 ratio=2", two["result"]]]
    note = subprocess.run([sys.executable, "-m", "analysis", "sweep", str(sdir)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert note.returncode == 0 and "declares no analysis" in note.stderr, note.stderr


def sweep_runner_pids(path):
    """The sweep runner itself (build/runners/scxlab sweep ...) of this test's results folder."""
    return pids_where(lambda cmd: len(cmd) > 2 and cmd[0].endswith(b"runners/scxlab") and cmd[1] == b"sweep"
                      and any(str(path).encode() in c for c in cmd))


def both_points_measuring(lines):
    return all(any(l.startswith(f"[{label}] ") and "run 1/2:" in l for l in lines)
               for label in ("depth=1 ratio=2", "depth=2 ratio=2"))


def test_two_points_side_by_side_are_each_recorded_once_and_a_term_stops_both(tmp_path):
    results = tmp_path / "results"
    # 1. JOBS=2: both points start at once; a TERM to the ./scxlab wrapper alone (not Ctrl-C, which
    #    reaches every runner from the terminal; what `kill PID` or make passing on its TERM does) is
    #    passed on to the sweep runner and by it to the points: both guests stop, both points are
    #    recorded as interrupted, each kept as its own -INVALID folder, and the wrapper still ends with
    #    the sweep's folder.
    proc, lines = sweep_until(results, both_points_measuring, jobs=2)
    assert len(qemu_pids(results)) == 2, "".join(lines)
    assert len(sweep_runner_pids(results)) == 1
    os.kill(proc.pid, signal.SIGTERM)
    out, err = finish(proc, lines)
    assert proc.returncode != 0, err
    assert "up to 2 points at once (JOBS=2)" in err and "2 points running at once" in err
    deadline = time.monotonic() + 60
    while qemu_pids(results):
        assert time.monotonic() < deadline, "a guest outlived the interrupted sweep"
        time.sleep(1)
    sdir = pathlib.Path(out.splitlines()[-1])
    points = load(sdir / "sweep.json")["points"]
    assert set(points) == {"depth=1 ratio=2", "depth=2 ratio=2"}
    stopped = set()
    for label, p in points.items():
        (a,) = p["attempts"]
        assert a["interrupted"] is True and a["valid"] is False, (label, a)
        assert a["jobs"] == 2 and a["guests_at_once"] == 2, a
        assert a["result"].endswith("-INVALID") and (sdir / a["result"] / "manifest.json").is_file()
        stopped.add(a["result"])
    assert len(stopped) == 2  # two runners started in the same second got names of their own
    assert "interrupted during point depth=1 ratio=2" in err and "interrupted during point depth=2 ratio=2" in err

    # 2. Resumed with JOBS=2: both points run again side by side, each recorded once more and valid.
    again = make("sweep", "SWEEP=smoke", "JOBS=2", results=results)
    assert again.returncode == 0, again.stderr
    assert result_dir(again) == sdir and "2 points, 0 already done" in again.stderr
    state = load(sdir / "sweep.json")
    finals = set()
    for label in ("depth=1 ratio=2", "depth=2 ratio=2"):
        p = state["points"][label]
        assert p["valid"] is True and [a["valid"] for a in p["attempts"]] == [False, True], p
        last = p["attempts"][-1]
        assert last["jobs"] == 2 and last["guests_at_once"] == 2 and p["result"] == last["result"]
        m = load(sdir / p["result"] / "manifest.json")
        assert m["valid"] is True and m["factors"]["cgroups"]["name"] == f"pair:{label[6]}:2"
        finals.add(p["result"])
    assert len(finals) == 2 and not finals & stopped
    # every progress line a point's runner printed ("[scxlab M:SS] ...") is led by its point's label
    err_lines = again.stderr.splitlines()
    assert not [l for l in err_lines if l.startswith("[scxlab ")], again.stderr
    for label in ("depth=1 ratio=2", "depth=2 ratio=2"):
        assert any(l.startswith(f"[{label}] [scxlab ") and "run 1/2:" in l for l in err_lines), again.stderr
    assert not list(sdir.glob(".staging-*"))
