"""Source readers, one module per kind of input, registered by name in ``READERS``.

Every reader is ``read(path, *, display=..., **context) -> Iterator[Record]`` and never imports
rdflib or pyoxigraph: it only turns a file into records (``kgraph.records``), reporting bad
input as ``Problem`` records with file and line rather than raising.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kgraph.records import Record
from kgraph.sources import briefing, payers

Reader = Callable[..., Iterator[Record]]


def _briefing(path: Path, *, display: str, payers: payers.PayerRegistry | None = None, **_: Any) -> Iterator[Record]:
    return briefing.read(path, display=display, payers=payers)


def _payers(path: Path, *, display: str, **_: Any) -> Iterator[Record]:
    return payers.read(path, display=display)


#: kind (as written in a manifest) -> reader
READERS: dict[str, Reader] = {
    "briefing": _briefing,
    "payers": _payers,
}
