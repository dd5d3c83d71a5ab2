"""Claim batches as the CLI runs them: JSON Lines in, one JSON line per result out, on one or more
processes.

Input: an open ``Store``, a text stream of JSON Lines claims and the number of worker processes
(``default_workers``: every usable core for a batch file of 1 MB or more, when none is named).
Output: ``check_blocks`` yields blocks of result lines (each line ending in a newline, the block
ready to write) with the status of each claim in it, in input order, streamed; ``check_jsonl``
yields (JSON line, status) per claim from them. With ``workers`` > 1 the lines are read by this
process in chunks and checked by forked processes that share the parent's loaded indexes (copy on
write): each chunk comes back as one joined block, so the parent only reads lines and writes
blocks. At most ``2 * workers`` chunks are in flight, so memory stays bounded whatever the size
of the input. A bad line gives a result with status ``error`` naming its 1-based line, as
``kgraph.check.check_many`` does. Raises what a worker raised (a bug; claims themselves never
raise). Does not check anything itself (``kgraph.check``) and uses one process where ``fork`` is
not available.

Why the garbage collector is told about the indexes (measured on the full build, 20,000 claims):
the loaded indexes are millions of tuples that live as long as the process; a full collection
walks all of them (~0.2 s each, twice per 20,000 claims) and, in a forked worker, writes to every
page that holds one, copying the parent's memory page by page. ``gc.freeze`` before the batch
moves what is already loaded out of the collector's sight (``gc.unfreeze`` after it gives it back),
and a higher first-generation threshold during the batch makes the young collections rarer:
cycles are still collected, only less often.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from kgraph.check import _shared, check_many, claims_from, dumps_bytes

#: claims per chunk handed to a worker (large enough that a chunk's results outweigh the hand-over)
CHUNK = 512
#: the young-generation threshold during a batch (CPython's default is 700)
_GC_THRESHOLD = 20_000
_STORE: dict[str, Any] = {}

#: a batch file at least this large (about 3,000 claims) is checked on every usable core when no
#: number of workers is given; below it, starting the workers costs more than they save
AUTO_BYTES = 1 << 20

Block = tuple[str, list[str]]


def default_workers(path: Path | None) -> int:
    """The processes for a JSON Lines batch when the caller names none: one per CPU this process
    may run on for a regular file of at least ``AUTO_BYTES`` (the results are the same bytes in
    the same order), else 1 (stdin, a small file, a machine without ``fork``)."""
    if path is None or "fork" not in mp.get_all_start_methods():
        return 1
    try:
        if not path.is_file() or path.stat().st_size < AUTO_BYTES:
            return 1
    except OSError:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cpus)


def _block(numbered: Iterable[tuple[int, str]], store: Any, display: str) -> Block:
    """The results of some numbered lines as one text block (a JSON line each) and their statuses."""
    parts: list[bytes] = []
    statuses: list[str] = []
    for r in check_many(store, claims_from(numbered, display=display), copy_evidence=False):
        parts.append(dumps_bytes(r))
        statuses.append(r.status)
    if not parts:
        return "", statuses
    parts.append(b"")
    return b"\n".join(parts).decode("utf-8"), statuses


def _work(first: int, lines: list[str], display: str) -> Block:
    return _block(enumerate(lines, start=first), _STORE["store"], display)


def _chunks(stream: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """(1-based number of the first line, the lines) of each chunk of ``CHUNK`` lines."""
    chunk: list[str] = []
    first = 1
    for text in stream:
        chunk.append(text)
        if len(chunk) >= CHUNK:
            yield first, chunk
            first += len(chunk)
            chunk = []
    if chunk:
        yield first, chunk


@contextmanager
def _collector_quiet() -> Iterator[None]:
    """What is loaded now (the indexes) out of the collector's walks, and rarer young collections,
    for the batch only (see the module docstring)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], _GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def check_blocks(store: Any, stream: IO[str], *, display: str = "<claims>", workers: int = 1) -> Iterator[Block]:
    """Blocks of results of a JSON Lines stream, in order, streamed: (the block's JSON lines, each
    ending in a newline, the status of each of its claims)."""
    _shared(store)  # load the indexes before the collector is told about them (and before a fork)
    with _collector_quiet():
        if workers <= 1 or "fork" not in mp.get_all_start_methods():
            for first, lines in _chunks(stream):
                yield _block(enumerate(lines, start=first), store, display)
            return
        _STORE["store"] = store
        with mp.get_context("fork").Pool(workers) as pool:
            pending: deque[Any] = deque()
            for first, lines in _chunks(stream):
                pending.append(pool.apply_async(_work, (first, lines, display)))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()


def check_jsonl(store: Any, stream: IO[str], *, display: str = "<claims>",
                workers: int = 1) -> Iterator[tuple[str, str]]:
    """(result as one JSON line, status) per claim of a JSON Lines stream, in order, streamed."""
    for text, statuses in check_blocks(store, stream, display=display, workers=workers):
        yield from zip(text.split("\n"), statuses, strict=False)
