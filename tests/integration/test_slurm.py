"""EXECUTOR=slurm: a sweep's points not yet done run as one SLURM job array, each task one point's
`scxlab run` recorded in sweep.json under its lock; rerunning the command resumes and never runs a
finished point twice. Against a real slurmctld + slurmd (and munged) that this test starts on this
machine, with a minimal slurm.conf in a temporary folder, and stops even when the test fails."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, load, make, result_dir

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "scancel", "squeue", "sinfo")


def missing_daemons():
    return [d for d in DAEMONS if not shutil.which(d, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]


def ensure_slurm_installed():
    """The packages, installed by `make setup EXECUTOR=slurm` when missing (CI runs as root); skip only
    when they are missing and cannot be installed."""
    if not missing_daemons():
        return
    if os.geteuid() != 0:
        pytest.skip(f"SLURM is not installed ({', '.join(missing_daemons())} missing) and only root can "
                    "install it (make setup EXECUTOR=slurm)")
    setup = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), "setup", "EXECUTOR=slurm"],
                           capture_output=True, text=True, timeout=1800)
    if missing_daemons():
        pytest.skip(f"SLURM is not installed and `make setup EXECUTOR=slurm` could not install it "
                    f"(exit code {setup.returncode}): {setup.stderr[-2000:]}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sbin(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


class Cluster:
    """munged, slurmctld and one slurmd (this host, 2 CPUs) in a private folder, on free ports."""

    def __init__(self):
        # munged wants every folder above its socket searchable by all: not under pytest's 0700 one
        self.dir = tempfile.mkdtemp(prefix="scxlab-slurm-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.node = socket.gethostname().split(".")[0]
        self.procs = []
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self):
        for sub, mode in (("munge", 0o755), ("state", 0o700), ("spool", 0o755), ("log", 0o755)):
            os.mkdir(self.path(sub), mode)
        subprocess.run([sbin("mungekey"), "--create", f"--keyfile={self.path('munge', 'munge.key')}"], check=True)
        os.chmod(self.path("munge", "munge.key"), 0o600)
        socket_path = self.path("munge", "munge.socket.2")
        self.spawn("munged", [sbin("munged"), "-F", f"--socket={socket_path}",
                              f"--key-file={self.path('munge', 'munge.key')}",
                              f"--pid-file={self.path('munge', 'munged.pid')}",
                              f"--log-file={self.path('log', 'munged.log')}",
                              f"--seed-file={self.path('munge', 'seed')}"])
        self.wait_for(lambda: os.path.exists(socket_path), "munged's socket", 30)
        conf = f"""ClusterName=scxlabtest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={socket_path}
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={self.path('state')}
SlurmdSpoolDir={self.path('spool')}
SlurmctldPidFile={self.path('slurmctld.pid')}
SlurmdPidFile={self.path('slurmd.pid')}
SlurmctldLogFile={self.path('log', 'slurmctld.log')}
SlurmdLogFile={self.path('log', 'slurmd.log')}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
NodeName={self.node} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=scxlab Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        self.spawn("slurmctld", [sbin("slurmctld"), "-D", "-c", "-f", self.conf])
        self.spawn("slurmd", [sbin("slurmd"), "-D", "-f", self.conf, "-N", self.node])
        self.wait_for(lambda: self.node_state() == "idle", "the node to be idle in sinfo", 90)

    def spawn(self, name, argv):
        log = open(self.path("log", f"{name}.out"), "w")
        self.procs.append((name, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env)))

    def node_state(self):
        p = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, env=self.env)
        return p.stdout.strip()

    def jobs(self):
        p = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, env=self.env)
        return p.stdout.split() if p.returncode == 0 else []

    def wait_for(self, ready, what, timeout):
        t0 = time.monotonic()
        while not ready():
            for name, p in self.procs:
                if p.poll() is not None:
                    raise AssertionError(f"{name} exited with {p.returncode}: {self.logs()}")
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"timed out waiting for {what}: {self.logs()}")
            time.sleep(0.5)

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.path("log"))):
            with open(self.path("log", name), errors="replace") as f:
                out.append(f"--- {name}\n{f.read()[-3000:]}")
        return "\n".join(out)

    def stop(self):
        """Cancels what is still queued or running (its tasks end their guests), then stops the daemons
        in reverse order of starting; the folder goes."""
        try:
            if any(p.poll() is None for n, p in self.procs if n == "slurmctld") and self.jobs():
                subprocess.run(["scancel", "--full", "--user=root"], env=self.env, timeout=30)
                t0 = time.monotonic()
                while self.jobs() and time.monotonic() - t0 < 120:
                    time.sleep(1)
        finally:
            for name, p in reversed(self.procs):
                if p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    ensure_slurm_installed()
    c = Cluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()


def slurm_make(cluster, results, *args, timeout=1800):
    cmd = ["make", "--no-print-directory", "-C", str(REPO), "sweep", "SWEEP=smoke", "EXECUTOR=slurm",
           f"RESULTS={results}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=cluster.env)


def test_sweep_as_a_job_array_runs_each_point_once_and_resumes(cluster, tmp_path):
    results = tmp_path / "results"
    first = slurm_make(cluster, results)
    assert first.returncode == 0, first.stderr + cluster.logs()
    sdir = result_dir(first)
    assert "2 point(s) to run as a SLURM job array (array indices 0-1)" in first.stderr
    state = load(sdir / "sweep.json")
    points = state["points"]
    assert set(points) == {"depth=1 ratio=2", "depth=2 ratio=2"}
    for label, p in points.items():
        assert p["valid"] is True and len(p["attempts"]) == 1, p
        m = load(sdir / p["result"] / "manifest.json")
        assert m["valid"] is True and m["factors"]["cgroups"]["name"] == f"pair:{label[6]}:2"
    # each point ran as its own array task on the node, and said so in its log
    logs = sorted((sdir / "slurm").iterdir())
    assert len(logs) == 2, logs
    for i, log in enumerate(logs):
        assert log.name.endswith(f"_{i}.log")
        text = log.read_text()
        assert f"[sweep] point {i} of 2 ({state['point_labels'][i]}) on {cluster.node}" in text, text
        assert points[state["point_labels"][i]]["result"] in text
    assert not list(sdir.glob(".staging-*"))

    # the same command again: nothing to submit, nothing reran
    t0 = time.monotonic()
    again = slurm_make(cluster, results, timeout=300)
    assert again.returncode == 0, again.stderr
    assert result_dir(again) == sdir and "2 points, 2 already done" in again.stderr
    assert "SLURM job array" not in again.stderr and time.monotonic() - t0 < 120
    assert load(sdir / "sweep.json")["points"] == points
    assert sorted((sdir / "slurm").iterdir()) == logs

    # an array task for a point that is done (a duplicate submission) does not run it again
    dup = subprocess.run([str(REPO / "scxlab"), "sweep-point", str(sdir), "1"], capture_output=True, text=True,
                         timeout=120)
    assert dup.returncode == 0 and "is done already; not run again" in dup.stderr, dup.stderr
    assert load(sdir / "sweep.json")["points"] == points

    # a point whose node died mid-run left no record of a valid result: the next run submits it alone
    lost = json.loads((sdir / "sweep.json").read_text())
    lost["points"]["depth=2 ratio=2"]["valid"] = False
    (sdir / "sweep.json").write_text(json.dumps(lost))
    plan = subprocess.run([str(REPO / "kernel/tools-exec"), "--bind", str(results), "env",
                           f"IMAGE_DIR={image_dir()}", "build/runners/scxlab", "sweep", "--sweep", "smoke",
                           "--repo", str(REPO), "--results", str(results), "--executor", "slurm"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.splitlines() == ["array 1", str(sdir)]
    assert not cluster.jobs()


def image_dir():
    with open(REPO / "build/setup.env") as f:
        for line in f:
            if line.startswith("IMAGE_DIR="):
                return line.split("=", 1)[1].strip().strip("'\"")
    raise AssertionError("no IMAGE_DIR in build/setup.env")


def test_unknown_executor_is_refused(tmp_path):
    proc = make("sweep", "SWEEP=smoke", "EXECUTOR=cloud", results=tmp_path, timeout=300)
    assert proc.returncode != 0 and "unknown EXECUTOR 'cloud'; choose from: local slurm" in proc.stderr
    assert not any(tmp_path.iterdir())
    proc = make("experiment", "POLICY=fifo", "EXECUTOR=slurm", results=tmp_path, timeout=300)
    assert proc.returncode != 0 and "EXECUTOR=slurm runs sweeps" in proc.stderr
    assert not any(tmp_path.iterdir())
