"""Claim batches as the CLI runs them: JSON Lines in, one JSON line per result out, on one or more
processes.

Input: an open ``Store``, a text stream of JSON Lines claims and the number of worker processes.
Output: ``check_jsonl`` yields (JSON line, status) per claim, in input order, streamed: with
``workers`` > 1 the lines are read in chunks and checked by forked processes that share the
parent's loaded indexes (copy on write); at most ``2 * workers`` chunks are in flight, so memory
stays bounded whatever the size of the input. A bad line gives a result with status ``error``
naming its 1-based line, as ``kgraph.check.check_many`` does. Raises what a worker raised (a bug;
claims themselves never raise). Does not check anything itself (``kgraph.check``) and uses one
process where ``fork`` is not available.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

from kgraph.check import _shared, check_many, claims_from, dumps_line

#: claims per chunk handed to a worker (large enough that a chunk's results outweigh the hand-over)
CHUNK = 512
_STORE: dict[str, Any] = {}


def _check(numbered: Iterable[tuple[int, str]], store: Any, display: str) -> list[tuple[str, str]]:
    return [(dumps_line(r), r.status) for r in check_many(store, claims_from(numbered, display=display))]


def _work(chunk: list[tuple[int, str]], display: str) -> list[tuple[str, str]]:
    return _check(chunk, _STORE["store"], display)


def _chunks(stream: IO[str]) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for number, text in enumerate(stream, start=1):
        chunk.append((number, text))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_jsonl(store: Any, stream: IO[str], *, display: str = "<claims>",
                workers: int = 1) -> Iterator[tuple[str, str]]:
    """(result as one JSON line, status) per claim of a JSON Lines stream, in order, streamed."""
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        yield from _check(enumerate(stream, start=1), store, display)
        return
    _shared(store)  # load the indexes once, before the workers are forked from this process
    _STORE["store"] = store
    with mp.get_context("fork").Pool(workers) as pool:
        pending: deque[Any] = deque()
        for chunk in _chunks(stream):
            pending.append(pool.apply_async(_work, (chunk, display)))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()
