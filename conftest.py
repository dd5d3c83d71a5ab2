"""Shared fixtures: the default build, made once per test session, and the doctest namespace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def _build(tmp_path_factory: pytest.TempPathFactory, name: str, manifest: Path):
    import kgraph

    path = tmp_path_factory.mktemp(name) / "kg"
    cwd = os.getcwd()
    os.chdir(ROOT)  # paths in evidence are shown relative to the working directory
    try:
        return kgraph.build(manifest, store=path)
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="session")
def default_store(tmp_path_factory: pytest.TempPathFactory):
    """The default build (data/sources.toml: the seed briefing and the default code sets), once a session."""
    return _build(tmp_path_factory, "default", ROOT / "data" / "sources.toml")


@pytest.fixture(scope="session")
def briefing_store(tmp_path_factory: pytest.TempPathFactory):
    """The payer registry and the seed briefing only (tests/data/small.toml), once a session."""
    return _build(tmp_path_factory, "briefing", ROOT / "tests" / "data" / "small.toml")


@pytest.fixture(autouse=True, scope="session")
def _doctest_store(doctest_namespace: dict, default_store) -> None:
    doctest_namespace["DOCTEST_STORE"] = default_store.path
