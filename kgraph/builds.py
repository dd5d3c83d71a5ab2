"""The life of a build directory: where builds live, one build at a time, the swap, holding, pruning.

Layout (ARCHITECTURE.md decision 9): the store path ``.kgraph`` is a symlink to
``.kgraph.d/<build-id>/``. A build writes ``.kgraph.d/.tmp-<build-id>/`` under an exclusive lock
(``lock``), renames it to its final name and swaps the symlink with one atomic rename (``swap``),
so a reader sees the old build or the new one, never half of one. Query pools hold a shared lock
on the build they serve (``hold_build``); ``prune`` keeps the newest builds, the current one and
any build held, and removes the rest with what killed builds left behind.

Input: store paths; output: paths, locks, file-system changes. Does not open a database
(``kgraph.store``) nor decide what goes into a build (``kgraph.build``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from kgraph.errors import StoreError

DEFAULT_STORE = ".kgraph"
#: how many of the newest builds ``prune`` keeps (the current one and held ones are always kept)
KEEP_BUILDS = 2
#: a file in a build directory that pools hold a shared lock on: ``kgraph build`` does not prune a build in use
IN_USE = ".in-use"


def store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store path: the argument, else ``$KGRAPH_STORE``, else ``.kgraph``."""
    return Path(path or os.environ.get("KGRAPH_STORE") or DEFAULT_STORE)


def builds_dir(path: Path) -> Path:
    """Where the builds of the store at ``path`` live: ``<path>.d``."""
    return path.with_name(path.name + ".d")


def new_build_id() -> str:
    """An id sortable by time (microseconds) and unique across machines sharing a folder."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]


def temporary(path: Path, build_id: str) -> Path:
    """The directory a build is written into before ``swap`` (``prune`` removes one left behind)."""
    return builds_dir(path) / f".tmp-{build_id}"


@contextmanager
def lock(path: Path) -> Iterator[None]:
    """One build of a store at a time; raises ``StoreError`` when another holds the lock."""
    directory = builds_dir(path)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{path}: another build of this store is running; try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def swap(path: Path, build_id: str) -> Path:
    """Give the written temporary directory its final name and point the store symlink at it in one
    atomic rename; returns the build directory."""
    directory = builds_dir(path)
    final = directory / build_id
    os.replace(temporary(path, build_id), final)
    link = path.with_name(f".{path.name}.swap-{build_id}")
    os.symlink(os.path.join(directory.name, build_id), link)
    os.replace(link, path)  # the atomic step: readers see the old build or the new one
    return final


def prune(path: Path) -> None:
    """Keep the newest builds (and whatever the symlink points at, or a server uses); remove the rest."""
    directory = builds_dir(path)
    current = path.resolve().name
    builds = sorted(d for d in directory.iterdir() if d.is_dir() and not d.name.startswith("."))
    for old in builds[:-KEEP_BUILDS]:
        if old.name != current and not build_in_use(old):
            shutil.rmtree(old, ignore_errors=True)
    for stale in directory.glob(".tmp-*"):
        # a build killed part-way leaves its temporary directory; no live build holds the lock now
        shutil.rmtree(stale, ignore_errors=True)
    for link in path.parent.glob(f".{path.name}.swap-*"):
        link.unlink(missing_ok=True)


def hold_build(build_dir: Path) -> int | None:
    """A shared lock on a build for as long as the returned descriptor is open (``None``: not lockable)."""
    try:
        fd = os.open(build_dir / IN_USE, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:  # a read-only folder: no build can prune it either
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def build_in_use(build_dir: Path) -> bool:
    """Whether a pool (``kgraph serve``, ``kgraph query --timeout``) holds this build."""
    try:
        fd = os.open(build_dir / IN_USE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
