"""Part 1 of 2 of the default VM's policies under load (survival.py says why they are split)."""
from survival import check_survives, part, real_policies


def test_every_policy_of_part_1_survives_load(results_root):
    check_survives(results_root, part(real_policies(needs_smt=False), 1))
