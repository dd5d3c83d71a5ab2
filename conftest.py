"""Shared fixtures: the default build, made once per test session, and the doctest namespace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


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
def default_store():
    """The default build (data/sources.toml: the seed briefing and the default code sets), read-only: built
    once and kept in .test-cache/ between runs (tests.cache)."""
    import kgraph
    from tests.cache import cached_store

    manifest = ROOT / "data" / "sources.toml"
    return cached_store("default", manifest, lambda path: kgraph.build(manifest, store=path))


@pytest.fixture(scope="session")
def briefing_store(tmp_path_factory: pytest.TempPathFactory):
    """The payer registry and the seed briefing only (tests/data/small.toml), once a session."""
    return _build(tmp_path_factory, "briefing", ROOT / "tests" / "data" / "small.toml")


@pytest.fixture(autouse=True)
def _doctest_store(request: pytest.FixtureRequest, doctest_namespace: dict) -> None:
    """Doctests name the default build DOCTEST_STORE; only they build it for that (lazily)."""
    from _pytest.doctest import DoctestItem

    if isinstance(request.node, DoctestItem) and "DOCTEST_STORE" not in doctest_namespace:
        doctest_namespace["DOCTEST_STORE"] = request.getfixturevalue("default_store").path


#: Test tiers, marked by what a test needs: `make check` runs none of them (the fast loop), `make test`
#: and CI run them all. A test is in a tier when it uses one of the tier's fixtures or lives in one of
#: its modules; `@pytest.mark.slow` by hand still works.
TIERS = {
    "slow": ({"full_store"}, {"test_full_build", "test_robust_build", "test_fuzz_readers", "test_notebooks",
                              "test_robustness_doc", "test_incremental"}),
    "browser": ({"browser"}, set()),
    "server": ({"oxigraph_server", "pushed_oxigraph"}, {"test_server", "test_server_guard", "test_server_load",
                                                        "test_worker", "test_fhir_server", "test_server_description"}),
    "virtuoso": ({"virtuoso"}, set()),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__.rpartition(".")[2] if getattr(item, "module", None) else ""
        for tier, (needs, modules) in TIERS.items():
            if fixtures & needs or module in modules:
                item.add_marker(tier)


def full_build_key(manifest: Path) -> str:
    """The cache key of the full build (bench/bench_export.py finds the cached full store with it)."""
    from tests.cache import build_key

    return build_key(manifest)


@pytest.fixture(scope="session")
def full_store():
    """The full build of every file in ../shared/data (data/full.toml): built at most once, and kept between
    runs in .test-cache/ (or $KGRAPH_TEST_CACHE) under the sha256 of its inputs (tests.cache), so an
    unchanged checkout reuses it."""
    import kgraph
    from tests.cache import cached_store
    from tests.shared import require

    require()  # the files data/full.toml names, through ${KGRAPH_SHARED_DATA}
    manifest = ROOT / "data" / "full.toml"
    return cached_store("full", manifest, lambda path: kgraph.build(manifest, store=path, reuse=False))
