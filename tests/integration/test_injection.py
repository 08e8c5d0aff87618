"""Nothing a user types is read as shell (or make) text, and the exit code says what happened.

Every variable the Makefile takes is tried with quotes, $(...), backticks, semicolons and newlines,
through `make` and through ./scxlab. Each value must be refused as bad input (or, for the analysis
targets, as a missing file), no command hidden in it may run, and no result or staging folder may
appear. No guest is booted: every case is refused before that."""
import re
import subprocess

import pytest

from conftest import REPO, run as watched

MARK = "scxlab-injected"


def payloads(marker):
    m = str(marker)
    return {
        "single-quote": f"x'; touch {m}; '",
        "double-quote": f'x"; touch {m}; "',
        "dollar-paren": f"$(touch {m})",
        "make-shell": f"$(shell touch {m})",
        "backticks": f"`touch {m}`",
        "semicolon": f"x; touch {m}",
        "newline": f"x\ntouch {m}",
        "ampersand": f"x && touch {m} &",
    }


# the make target that reads each run variable; values that would be valid on their own (RESULTS
# is any path) come with a bad DURATION, so that the runner refuses without booting
RUN_VARS = {
    "POLICY": ("experiment", []), "POLICIES": ("compare", []), "WORKLOAD": ("compare", []),
    "DURATION": ("compare", []), "REPEATS": ("compare", []), "CLOCK": ("compare", []), "ACCEL": ("compare", []),
    "ICOUNT_SHIFT": ("compare", []),
    "TARGET": ("compare", []), "VM": ("compare", []), "MONITORS": ("compare", []),
    "CGROUPS": ("compare", []), "PRECISION": ("compare", []), "PARAMS": ("compare", []),
    "MAX_REPEATS": ("compare", []), "RESULTS": ("compare", ["DURATION=0"]), "SWEEP": ("sweep", []),
    # ./scxlab refuses a bad EXECUTOR first; should it not, DURATION=0 still stops the sweep before a boot
    "EXECUTOR": ("sweep", ["SWEEP=smoke", "DURATION=0"]),
    "JOBS": ("sweep", ["SWEEP=smoke"]),
    "SNAPSHOT": ("compare", []),
}
# what the refusal says, where it is not the runner's "error:"
REFUSAL = {"EXECUTOR": "unknown EXECUTOR"}


def run(argv, cwd=REPO, timeout=120):
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def nothing_left(results):
    leftovers = [p.name for p in results.iterdir()] if results.exists() else []
    return [p for p in leftovers if p.startswith(".staging") or p[:2] == "20"]


@pytest.mark.parametrize("var", sorted(RUN_VARS))
def test_run_variables_are_data(var, tmp_path):
    target, extra = RUN_VARS[var]
    results = tmp_path / "results"
    for name, value in payloads(tmp_path / MARK).items():
        if var == "RESULTS":
            value = str(tmp_path / "res") + value
        for front in (["make", "--no-print-directory", target], ["./scxlab", target]):
            argv = front + [f"{var}={value}"] + extra
            if var != "RESULTS":
                argv.append(f"RESULTS={results}")
            proc = run(argv)
            where = f"{' '.join(front)} {var}=<{name}>"
            # make turns every failure into its own 2; ./scxlab returns the runner's 2 (bad input)
            assert proc.returncode == 2, f"{where}: exit {proc.returncode}\n{proc.stderr}"
            said = REFUSAL.get(var, "error")
            assert said in proc.stderr, f"{where}: no message with {said!r}\n{proc.stderr}"
            assert not (tmp_path / MARK).exists(), f"{where}: the injected command ran"
            assert not nothing_left(results), f"{where}: left {nothing_left(results)}"
            # the value reached the runner as data: no shell complained about it
            for shell_word in ("Syntax error", "unexpected EOF", "command not found", "unterminated"):
                assert shell_word not in proc.stderr, f"{where}: a shell read the value\n{proc.stderr}"


# (target, variable under test): the other variables each case needs, all naming nothing that exists,
# so that every case must fail after reading the value
ANALYSIS_CASES = {
    ("report", "RESULT"): [], ("figures", "RESULT"): [], ("figures", "FIGURES"): ["RESULT"],
    ("paper-add", "RESULT"): [], ("paper-add", "WHY"): ["RESULT"],
    ("publish", "NAME"): ["RESULT"], ("publish", "RESULT"): [], ("publish", "PUBLISH_DIR"): ["RESULT"],
    ("verify", "BUNDLE"): [], ("verify", "SUMS_SHA256"): ["BUNDLE"],
    ("export", "RESULT"): [], ("export", "CSV"): ["RESULT"],
    # a claim that is not in paper/claims.ini is refused before any compare runs
    ("time-model", "CLAIMS"): [],
    # a time model the study does not have is refused the same way
    ("time-model", "MODELS"): [],
    ("train", "TRACES"): [], ("train", "MODEL"): ["TRACES"], ("train", "SEED"): ["TRACES"],
    ("train", "HORIZON_US"): ["TRACES"], ("train", "SPLIT"): ["TRACES"], ("train", "EPOCHS"): ["TRACES"],
    ("figures", "FORMAT"): ["RESULT"],
    # switches: anything but 1 or 0 is refused (before reproduce-paper would rerun the paper's experiments)
    ("report", "ALLOW_HOST_MISMATCH"): ["RESULT"], ("reproduce-paper", "DRY_RUN"): [],
}
SWITCHES = ("ALLOW_HOST_MISMATCH", "DRY_RUN")
# paths: the payload follows a folder that exists
PATH_VARS = ("MODEL", "FIGURES", "PUBLISH_DIR", "CSV")


@pytest.mark.parametrize("target,var", sorted(ANALYSIS_CASES))
def test_analysis_and_train_variables_are_data(target, var, tmp_path):
    missing = {"RESULT": tmp_path / "none", "BUNDLE": tmp_path / "none.tar.gz", "TRACES": tmp_path / "none.csv"}
    # each of these starts Python (about a second): one payload of each kind of quoting is enough
    few = {k: v for k, v in payloads(tmp_path / MARK).items() if k in ("single-quote", "dollar-paren", "newline")}
    for name, value in few.items():
        if var in PATH_VARS:
            value = str(tmp_path / "out") + value
        argv = ["make", "--no-print-directory", target, f"{var}={value}", f"RESULTS={tmp_path / 'results'}",
                f"PUBLISH_DIR={tmp_path / 'publish'}"]
        argv += [f"{other}={missing[other]}" for other in ANALYSIS_CASES[(target, var)]]
        proc = watched(argv, 300, cwd=REPO)
        where = f"make {target} {var}=<{name}>"
        assert proc.returncode != 0, f"{where}: exit 0\n{proc.stdout}\n{proc.stderr}"
        assert not (tmp_path / MARK).exists(), f"{where}: the injected command ran"
        if var in SWITCHES:
            assert proc.returncode == 2 and f"{var} is 1 (on) or 0 (off)" in proc.stderr, proc.stderr
        assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir()), where


def test_every_variable_is_tried():
    """A variable added to the Makefile without a case here fails this test."""
    text = (REPO / "Makefile").read_text().replace("\\\n", " ")
    declared = set()
    for group in ("RUN_VARS", "ANALYSIS_VARS", "TRAIN_VARS"):
        declared |= set(re.search(rf"^{group} := (.*)$", text, re.M).group(1).split())
    tried = set(RUN_VARS) | {var for _, var in ANALYSIS_CASES}
    assert declared - tried == set(), f"no injection case for {sorted(declared - tried)}"


def test_unknown_make_variable_is_refused(tmp_path):
    proc = run(["make", "--no-print-directory", "experiment", "POLCY=fifo", f"RESULTS={tmp_path}"])
    assert proc.returncode == 2
    assert "unknown variable POLCY" in proc.stderr and "POLICY" in proc.stderr
    proc = run(["./scxlab", "experiment", "POLCY=fifo"])
    assert proc.returncode == 2 and "'POLCY=fifo' is not VAR=value with one of" in proc.stderr


def test_exit_codes_pass_through(tmp_path):
    """./scxlab returns the runner's own code; make says it in its message."""
    results = tmp_path / "results"
    bad = run(["./scxlab", "experiment", "POLICY=nosuch", f"RESULTS={results}"])
    assert bad.returncode == 2 and "unknown policy 'nosuch'" in bad.stderr
    viamake = run(["make", "--no-print-directory", "experiment", "POLICY=nosuch", f"RESULTS={results}"])
    assert viamake.returncode == 2 and "Error 2" in viamake.stderr


def test_defaults_reach_the_recipes(tmp_path):
    """The variables' defaults (set with ?= in the included files) reach the commands; exporting a
    variable before its default is set would hand the command an empty value."""
    probe = tmp_path / "probe.mk"
    names = ["RESULTS", "FORMAT", "PUBLISH_DIR", "SEED", "HORIZON_US", "SPLIT", "EPOCHS"]
    probe.write_text("probe:\n\t@printf '%s\\n' " + " ".join(f'"{n}=$${n}"' for n in names) + "\n")
    proc = run(["make", "--no-print-directory", "-f", "Makefile", "-f", str(probe), "probe"])
    assert proc.returncode == 0, proc.stderr
    got = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    assert got["FORMAT"] == "svg" and got["SEED"] == "1" and got["HORIZON_US"] == "5000"
    assert got["SPLIT"] == "time" and got["EPOCHS"] == "30"
    assert got["RESULTS"] == str(REPO / "results") and got["PUBLISH_DIR"] == str(REPO / "build/publish")
