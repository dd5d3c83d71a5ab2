"""Test stores kept on disk between test runs, in .test-cache/ (or ``$KGRAPH_TEST_CACHE``).

A cached store lives in ``<cache>/<name>-<key>/kg``, where ``key`` is a sha256 over everything its
content depends on: the manifest, the files it names, the extra inputs a fixture adds (briefings,
folders), the kgraph code a build can run and the pyoxigraph version. A change to any of them gives
a new key, so the next run builds afresh (and removes the older ``<name>-*`` builds).

Input: a name, a manifest, extra input paths and a function that builds the store at a given path.
Output: the store opened read-only (``kgraph.open``): tests that write must clone it first
(``tests.conftest.clone_store``). Concurrent test processes (two ``pytest`` runs, xdist workers) build
each store once: one builds under an exclusive lock on ``<cache>/<name>.lock``, the others wait and
then open it. kgraph's own build swaps the store in atomically, so a killed build leaves no store
that opens and the next run builds again. Test code is hashed only where a fixture passes it as an
input (the conformance stores pass the modules that hold the rows they write); a fixture that changes
how it builds otherwise must change its name too, or be run once after ``rm -rf .test-cache``.
"""

from __future__ import annotations

import ast
import fcntl
import functools
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KGRAPH = ROOT / "kgraph"


def cache_dir() -> Path:
    """Where test builds are kept: ``$KGRAPH_TEST_CACHE``, else .test-cache/ in the project."""
    return Path(os.environ.get("KGRAPH_TEST_CACHE", ROOT / ".test-cache"))


def _module_file(name: str) -> Path | None:
    path = ROOT.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


@functools.cache
def build_code() -> tuple[Path, ...]:
    """The kgraph files a build can run: the modules ``kgraph.build`` imports, directly or not (read
    from their import statements, lazy ones too; ``kgraph/__init__`` is not followed: it names the
    whole API), every reader and rule (readers are imported by name at run time) and the package
    data they read (internal queries, rule tables)."""
    seen: set[Path] = set()
    todo = ["kgraph.build"]
    while todo:
        name = todo.pop()
        path = _module_file(name) if name != "kgraph" else None
        if path is None or path in seen:
            continue
        seen.add(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names if alias.name.startswith("kgraph.")]
            elif isinstance(node, ast.ImportFrom):
                parts = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join([*parts, node.module] if node.module else parts)
                if module.split(".")[0] == "kgraph":
                    todo += [module, *(f"{module}.{alias.name}" for alias in node.names)]
    seen.update(KGRAPH.glob("sources/**/*.py"))
    seen.update(KGRAPH.glob("rules/**/*.py"))
    seen.update(KGRAPH.glob("rules/tables/*.csv"))
    seen.update(KGRAPH.glob("queries/**/*.rq"))
    return tuple(sorted(seen))


def build_key(manifest: Path | None, inputs: Iterable[Path] = ()) -> str:
    """sha256 over a manifest and the sources it names (if any), ``inputs`` (files or folders, their bytes),
    the kgraph code a build runs (``build_code``) and the pyoxigraph version: the cache key of a test build."""
    from kgraph.build import read_manifest, sha256_of

    digest = hashlib.sha256()
    if manifest is not None:
        manifest = manifest.resolve()  # its sources' paths resolve beside it: the same key from any folder
        digest.update(manifest.read_bytes())
        for spec in read_manifest(manifest):
            shown = _shown(spec.path) if spec.path.is_absolute() else str(spec.path)
            digest.update(f"{spec.kind}\0{shown}\0{sha256_of(spec.path)}\n".encode())
    for path in inputs:
        digest.update(f"{_shown(path)}\0{_tree_sha(path)}\n".encode())
    for path in build_code():
        digest.update(f"{_shown(path)}\0".encode() + path.read_bytes())
    digest.update(f"pyoxigraph {version('pyoxigraph')}".encode())
    return digest.hexdigest()[:20]


def _shown(path: Path) -> str:
    """A path relative to the project when inside it: the same key in every clone of the project."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _tree_sha(path: Path) -> str:
    """sha256 of a file's bytes, or of every file below a folder (names and bytes)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        digest.update(f"{file.relative_to(path) if path.is_dir() else file.name}\0".encode() + file.read_bytes())
    return digest.hexdigest()


def cached_store(name: str, manifest: Path | None, build: Callable[[Path], Any], inputs: Iterable[Path] = ()) -> Any:
    """The store ``build(path)`` makes, kept in ``<cache>/<name>-<key>/kg`` (see the module docstring);
    ``build`` runs in the project root (evidence paths are shown relative to it) only when no store
    of this key opens, and may write the files it reads beside ``path`` (they stay with the store).
    Returns it opened read-only."""
    import kgraph

    cache = cache_dir()
    path = cache / f"{name}-{build_key(manifest, list(inputs))}" / "kg"
    try:
        return kgraph.open(path)
    except kgraph.StoreError:
        pass
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process building it: wait, then open what it built
        try:
            return kgraph.open(path)
        except kgraph.StoreError:
            pass
        for old in cache.glob(f"{name}-*"):
            shutil.rmtree(old, ignore_errors=True)  # older keys, and what a killed build of this one left
        path.parent.mkdir(parents=True)
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            build(path)
        finally:
            os.chdir(cwd)
        return kgraph.open(path)
