"""kernel/setup.sh's version locks, without building anything: the package list mmdebstrap gets
(locked versions pinned, a locked suite kept as pkg/suite) and the deviations it records."""
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def setup_function_output(call, tmp_path):
    # every function of setup.sh, without its last line (main "$@")
    lib = tmp_path / "setup-lib.sh"
    lines = (REPO / "kernel/setup.sh").read_text().splitlines()
    assert lines[-1] == 'main "$@"'
    lib.write_text("\n".join(lines[:-1]) + "\n")
    proc = subprocess.run(["bash", "-c", f'source "{lib}"; set +e; {call}'], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_locked_packages_are_pinned(tmp_path):
    (tmp_path / "list").write_text("# a comment\nnginx\nlinux-perf/trixie-backports\nzstd\n")
    (tmp_path / "lock").write_text("# versions\nnginx 1.2-3\nlinux-perf 7.3-1~bpo13+1 trixie-backports\nlibc6 2.41\n")
    out = setup_function_output("pinned_packages_of list lock", tmp_path).strip().split(",")
    assert out == ["zstd", "nginx=1.2-3", "linux-perf/trixie-backports", "libc6=2.41"]


def test_deviations_name_each_package_off_its_lock(tmp_path):
    (tmp_path / "lock").write_text("nginx 1.2-3\nlinux-perf 7.3-1 trixie-backports\nwrk 4.1\n")
    (tmp_path / "versions.txt").write_text("nginx\t1.2-3\nlinux-perf\t7.4-1\nzstd\t1.5\n")
    out = setup_function_output("lock_deviations lock versions.txt", tmp_path).splitlines()
    assert out == ["linux-perf: locked 7.3-1, built 7.4-1", "wrk: locked 4.1, built (not installed)"]


def test_the_shipped_locks_are_well_formed():
    for name in ("image.lock", "tools.lock"):
        for line in (REPO / "kernel" / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                assert len(line.split()) in (2, 3), f"{name}: {line!r}"
