"""Fixtures for tests: paths to the project's data and test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TESTDATA = Path(__file__).resolve().parent / "data"
SEED = DATA / "briefings" / "cpt-74360.txt"
SECOND = TESTDATA / "briefings" / "cpt-43249.txt"
BAD = TESTDATA / "bad"
#: payers and the seed briefing only: fast builds for tests of the build mechanics
SMALL = TESTDATA / "small.toml"


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # messages and evidence show paths relative to the working directory
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def registry():
    from kgraph.sources import payers

    return payers.load(DATA / "payers.csv", display="data/payers.csv")
