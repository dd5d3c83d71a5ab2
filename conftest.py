"""Shared fixtures: the default build, made once per test session, and the doctest namespace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def default_store(tmp_path_factory: pytest.TempPathFactory):
    """The default build (data/sources.toml), built once for the session."""
    import kgraph

    path = tmp_path_factory.mktemp("default") / "kg"
    cwd = os.getcwd()
    os.chdir(ROOT)  # paths in evidence are shown relative to the working directory
    try:
        return kgraph.build(ROOT / "data" / "sources.toml", store=path)
    finally:
        os.chdir(cwd)


@pytest.fixture(autouse=True, scope="session")
def _doctest_store(doctest_namespace: dict, default_store) -> None:
    doctest_namespace["DOCTEST_STORE"] = default_store.path
