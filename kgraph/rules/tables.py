"""The code tables of the rules: CSV files shipped in ``kgraph/rules/tables/``, one row per CMS value.

Input: the package's CSV files (UTF-8, a header row, every row with a ``source`` column naming the
CMS document it comes from). Output: ``rows(name)``, the rows of a table as tuples of a NamedTuple
made from its header, read once and kept; ``derived(key, build)``, a value computed from tables
(a lookup dict) and kept until the tables change. ``replaced(name, rows)`` swaps a table for the
length of a ``with`` block (the conformance suite mutates each row to prove a case depends on it)
and drops every derived value, and ``on_reset`` lets a module drop its own caches then.

Raises ``KGraphError`` naming the file and line of a row whose number of fields differs from the
header. Does not decide anything itself: the other modules of ``kgraph.rules`` read these tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any, NamedTuple, TypeVar

from kgraph.errors import KGraphError

T = TypeVar("T")

_ROWS: dict[str, tuple[Any, ...]] = {}
_TYPES: dict[str, Any] = {}
_DERIVED: dict[str, Any] = {}
_RESET: list[Callable[[], None]] = []


def names() -> list[str]:
    """The tables shipped with kgraph (file names without ``.csv``), sorted."""
    folder = resources.files("kgraph.rules") / "tables"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csv"))


def _load(name: str) -> tuple[Any, ...]:
    text = (resources.files("kgraph.rules") / "tables" / f"{name}.csv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    kind: Any = _TYPES.get(name)
    if kind is None:
        kind = _TYPES[name] = NamedTuple(f"{name.title().replace('_', '')}Row", [(h, str) for h in header])
    out = []
    for cells in reader:
        if not cells:
            continue
        if len(cells) != len(header):
            raise KGraphError(f"kgraph/rules/tables/{name}.csv:{reader.line_num}: {len(cells)} fields, the header "
                              f"has {len(header)}")
        out.append(kind(*cells))
    return tuple(out)


def rows(name: str) -> tuple[Any, ...]:
    """The rows of table ``name`` (NamedTuples whose fields are the header's column names)."""
    found = _ROWS.get(name)
    if found is None:
        found = _ROWS[name] = _load(name)
    return found


def row_type(name: str) -> Any:
    """The NamedTuple class of a table's rows."""
    rows(name)
    return _TYPES[name]


def derived(key: str, build: Callable[[], T]) -> T:
    """``build()``, computed once and kept until a table is replaced."""
    try:
        found: T = _DERIVED[key]
        return found
    except KeyError:
        value = _DERIVED[key] = build()
        return value


def on_reset(callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever a table is replaced (to drop caches built from the tables)."""
    _RESET.append(callback)


def _reset() -> None:
    _DERIVED.clear()
    for callback in _RESET:
        callback()


@contextmanager
def replaced(name: str, new_rows: tuple[Any, ...] | list[Any]) -> Iterator[None]:
    """Table ``name`` holds ``new_rows`` inside the block, its own rows again after it."""
    old = rows(name)
    _ROWS[name] = tuple(new_rows)
    _reset()
    try:
        yield
    finally:
        _ROWS[name] = old
        _reset()
