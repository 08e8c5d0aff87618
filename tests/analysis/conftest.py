"""Fixtures for the analysis tests. Helpers live in synthetic_results.py (a module name of its
own: tests/integration has a conftest too, and `from conftest import` would be ambiguous)."""
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
for p in (REPO, pathlib.Path(__file__).resolve().parent):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))


@pytest.fixture
def results(tmp_path):
    root = tmp_path / "results"
    root.mkdir()
    return root
