"""`make lint` stays clean: ruff over the code, tests and benches, mypy over the package (the
settings in pyproject.toml). Run here so that CI, which runs `make test`, sees a lint regression."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing() -> None:
    out = _run("ruff", "check", "kgraph", "tests", "bench")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


@pytest.mark.slow  # about a minute on a fresh clone (no .mypy_cache yet), under a second after
def test_mypy_finds_nothing() -> None:
    out = _run("mypy", "kgraph")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "Success: no issues found" in out.stdout
