"""`python3 -m analysis selfcheck DIR`: the host-side check of what `make selfcheck-host` (or
`make selfcheck-kvm`) brought back.

DIR is the selfcheck's folder (results/<id>-selfcheck-host/ or -selfcheck-kvm/): selfcheck.json, written by the agent
inside the guest (runners/guest/selfcheck.c), lists each check (the inner runner's arguments, what
was expected, its exit code, its result folder under inner/, and what it left on the machine). Each
inner result is read here like any other (loader.load_result, strict: every file against its
schema) and held to what its check promised:

- valid: the result is valid, made with the TARGET its check asked for (host, or vm for
  selfcheck-kvm), every run valid, the policies those asked for; with a cgroup tree, the tree is
  in the manifest and every run recorded each instance's entitled and achieved share; with an
  accelerator asked for (selfcheck-kvm: --accel kvm), the manifest records that one as what ran
  the nested guest (factors, accelerator, QEMU's -accel), chosen as asked, not as a fallback;
- ejected: the result is INVALID (folder and manifest), and a run was ejected with the kernel's
  exit kind and reason recorded;
- interrupted: the result is INVALID and says it was interrupted;

and after every check the machine was clean (sched_ext disabled, no scxlab cgroup, sysctls and
the root's subtree_control as before, no servers or clients left). A failed check makes DIR
INVALID: an INVALID file is written and DIR renamed to DIR-INVALID (never over an existing
folder). The last line printed is the folder.
"""
import json
import os
import sys
from pathlib import Path

from . import AnalysisError
from .loader import load_result


def _arg(args, name):
    """The value of --name in an inner runner's argument list, or None."""
    for i, a in enumerate(args[:-1]):
        if a == f"--{name}":
            return args[i + 1]
    return None


def check_one(folder, chk):
    """Problems with one check of selfcheck.json, as sentences (empty: it passed)."""
    k = chk.get("check")
    problems = []
    if not chk.get("host_clean") or chk.get("leftovers"):
        problems.append(f"the machine was not left clean: {chk.get('leftovers')}")
    if chk.get("sched_ext_state_after") != "disabled":
        problems.append(f"sched_ext state after the check is {chk.get('sched_ext_state_after')!r}, not 'disabled'")
    if chk.get("exit_code") != chk.get("expected_exit_code"):
        problems.append(f"the inner runner exited with {chk.get('exit_code')}, expected {chk.get('expected_exit_code')}")
    name = chk.get("result")
    if not name:
        return problems + ["no inner result folder"]
    path = folder / "inner" / name
    try:
        res = load_result(path, strict=True)
    except AnalysisError as e:
        return problems + [f"inner result {name}: {e}"]
    m = res.manifest
    args = chk.get("args") or []
    expect = chk.get("expect")
    want_target = _arg(args, "target") or "host"
    if res.factors.get("target") != want_target:
        problems.append(f"{name}: factors.target is {res.factors.get('target')!r}, not {want_target!r}")
    want_accel = _arg(args, "accel")
    if want_accel:
        acc = m.get("accelerator") or {}
        qemu_accel = ((res.factors.get("clock_qemu") or {}).get("accel") or "").split(",")[0]
        if res.factors.get("accel") != want_accel or acc.get("kind") != want_accel or qemu_accel != want_accel:
            problems.append(f"{name}: asked for accel {want_accel}, but factors.accel is "
                            f"{res.factors.get('accel')!r}, accelerator.kind {acc.get('kind')!r}, QEMU's "
                            f"-accel {qemu_accel!r}")
        if acc.get("why") != f"ACCEL={want_accel}":
            problems.append(f"{name}: the accelerator was chosen as {acc.get('why')!r}, not as asked "
                            f"(ACCEL={want_accel})")
    want_policies = (_arg(args, "policies") or "").split()
    if res.factors.get("policies") != want_policies:
        problems.append(f"{name}: policies {res.factors.get('policies')} instead of {want_policies}")
    invalid_name = name.endswith("-INVALID")
    if expect == "valid":
        if not m.get("valid") or invalid_name:
            problems.append(f"{name}: expected valid, but it is invalid: {m.get('invalid_reasons')}")
        if not res.runs or not all(r.valid for r in res.runs):
            problems.append(f"{name}: not every run is valid")
        if sorted({r.policy for r in res.runs}) != sorted(want_policies):
            problems.append(f"{name}: runs of {sorted({r.policy for r in res.runs})}, not {sorted(want_policies)}")
        tree = _arg(args, "cgroups")
        if tree:
            cg = res.factors.get("cgroups") or {}
            if cg.get("name") != tree or len(cg.get("instances") or []) < 2:
                problems.append(f"{name}: the manifest does not record the cgroup tree {tree} with its instances")
            for r in res.runs:
                inst = (r.info.get("cgroups") or {}).get("instances") or []
                if len(inst) < 2 or any(not isinstance(i.get("achieved_share"), (int, float)) or
                                        not isinstance(i.get("entitled_share"), (int, float)) for i in inst):
                    problems.append(f"{name}: run {r.index} lacks each instance's entitled and achieved share")
    elif expect == "ejected":
        if m.get("valid") or not invalid_name:
            problems.append(f"{name}: expected INVALID (an ejection), but it is valid")
        ejected = [r for r in res.runs if r.info.get("ejected") is True]
        if not ejected:
            problems.append(f"{name}: no run records an ejection")
        for r in ejected:
            ei = r.info.get("exit_info") or {}
            if not ei.get("kind_name") or not ei.get("reason") or not r.info.get("kernel_exit_reason"):
                problems.append(f"{name}: run {r.index} was ejected without the kernel's exit kind and reason")
            if not any("ejected" in why for why in r.invalid_reasons):
                problems.append(f"{name}: run {r.index}'s invalid reasons do not name the ejection")
    elif expect == "interrupted":
        if m.get("valid") or not invalid_name:
            problems.append(f"{name}: expected INVALID (interrupted), but it is valid")
        if not any("interrupted" in why for why in m.get("invalid_reasons") or []):
            problems.append(f"{name}: its invalid reasons do not say it was interrupted")
    else:
        problems.append(f"unknown expectation {expect!r}")
    return [f"check {k}: {p}" for p in problems]


def check(folder):
    """(problems, lines): every problem of the selfcheck in folder, and a line per check."""
    folder = Path(folder)
    path = folder / "selfcheck.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise AnalysisError(f"{path}: cannot read the selfcheck's record: {e}")
    checks = doc.get("checks") or []
    problems, lines = [], []
    if not checks or len(checks) != doc.get("checks_total"):
        problems.append(f"{path}: {len(checks)} checks recorded of {doc.get('checks_total')}")
    for chk in checks:
        p = check_one(folder, chk)
        problems += p
        lines.append(f"check {chk.get('check')}: expect {chk.get('expect'):<11} exit {chk.get('exit_code')} "
                     f"host {'clean' if chk.get('host_clean') else 'NOT clean'}  {chk.get('result')}  "
                     f"{'ok' if not p else 'FAILED'}")
    return problems, lines


def main(folder):
    folder = Path(folder).resolve()
    problems, lines = check(folder)
    for line in lines:
        print(line, file=sys.stderr)
    for p in problems:
        print(f"selfcheck: {p}", file=sys.stderr)
    final = folder
    if problems:
        with open(folder / "INVALID", "a") as f:
            f.write("The host-side check (python3 -m analysis selfcheck) failed:\n" +
                    "".join(f"- {p}\n" for p in problems))
        if not folder.name.endswith("-INVALID"):
            target = folder.with_name(folder.name + "-INVALID")
            if target.exists():
                raise AnalysisError(f"{target} exists; {folder} keeps its name (see its INVALID file)")
            folder.rename(target)
            final = target
    print(f"selfcheck: {'every check passed' if not problems else f'{len(problems)} problem(s)'}",
          file=sys.stderr)
    print(final)
    return 0 if not problems else 1
