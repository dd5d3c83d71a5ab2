"""Fixtures for tests: paths to the project's data and test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgraph import tools

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TESTDATA = Path(__file__).resolve().parent / "data"
SEED = DATA / "briefings" / "cpt-74360.txt"
SECOND = TESTDATA / "briefings" / "cpt-43249.txt"
BAD = TESTDATA / "bad"
#: payers and the seed briefing only: fast builds for tests of the build mechanics
SMALL = TESTDATA / "small.toml"
#: Debian's chromium (scripts/install-chromium.sh; $KGRAPH_CHROMIUM or chromium on PATH), driven by
#: Playwright; never a downloaded browser
CHROMIUM = tools.chromium()
# without the background-networking flags Chromium keeps calling out of this closed network
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # messages and evidence show paths relative to the working directory
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def registry():
    from kgraph.sources import payers

    return payers.load(DATA / "payers.csv", display="data/payers.csv")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the browser tests of the HTML export and the query page (one per module)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is not installed: pip install playwright (it drives Debian's chromium; "
                    "never run `playwright install`)")
    if CHROMIUM is None:
        pytest.fail("chromium is not on PATH (nor named by $KGRAPH_CHROMIUM): run `bash scripts/install-chromium.sh` "
                    "as root (Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The official code-set files; a test that needs them fails when they are missing."""
    from tests.shared import require

    return require()


def clone_store(store, path: Path, *, indexes: bool = True):
    """A copy of a built store at ``path`` (a checkpoint: hard links), with its build.json and index, so that a
    build there starts from it as a rebuild would (``indexes=False``: without the index, so that such a build
    takes the full path: unchanged sources copied, the store compacted)."""
    import shutil

    clone = path.with_name(path.name + ".d") / store.build_dir.name
    clone.mkdir(parents=True)
    store.ox.backup(str(clone / "oxigraph"))
    shutil.copy(store.build_dir / "build.json", clone / "build.json")
    if indexes and (store.build_dir / "indexes").is_dir():
        shutil.copytree(store.build_dir / "indexes", clone / "indexes")
    path.symlink_to(f"{path.name}.d/{clone.name}")
    return path


def cached_rebuild(name: str, store, *, incremental: bool = True, **extra: list[str]):
    """The build of data/sources.toml plus ``extra`` briefings (``briefings=[...]`` or ``briefing_dirs=[...]``),
    made as a rebuild of ``store`` (a clone of it: only the briefings are read, degrees and indexes are
    updated; ``incremental=False``: the full path, see ``clone_store``) and kept in .test-cache/ like
    ``store`` (tests.cache); read-only."""
    import kgraph
    from tests.cache import cached_store

    manifest = DATA / "sources.toml"

    def build(path: Path):
        return kgraph.build(manifest, store=clone_store(store, path, indexes=incremental), **extra)

    return cached_store(name, manifest, build, [Path(p) for paths in extra.values() for p in paths])


@pytest.fixture(scope="session")
def styles_store(default_store):
    """The default build plus every briefing of tests/data/styles (``cached_rebuild``)."""
    return cached_rebuild("styles", default_store, briefing_dirs=[str(TESTDATA / "styles")])
