"""The policies that need SMT siblings under load, on the smt VM (survival.py)."""
import pathlib

from survival import PARTS, check_survives, part, real_policies


def test_every_smt_policy_survives_load(results_root):
    check_survives(results_root, real_policies(needs_smt=True), vm="smt")


def test_the_parts_cover_every_policy_once():
    # the split itself: every default-VM policy in exactly one part, and one file per part
    names = real_policies(needs_smt=False)
    parts = [part(names, k) for k in range(1, PARTS + 1)]
    assert sorted(sum(parts, [])) == sorted(names) and all(parts)
    files = sorted(p.name for p in pathlib.Path(__file__).parent.glob("test_survival_[0-9]*.py"))
    assert files == [f"test_survival_{k}.py" for k in range(1, PARTS + 1)]
