"""Payer registry reader: ``data/payers.csv`` -> payer Codes, aliases and ``kg:partOf`` edges.

Input: a CSV with columns ``id, name, aliases (';'-separated), parent, notes``.
Output: records (``read``) and a ``PayerRegistry`` that resolves a payer name as written in
a briefing ("Cigna Health", "Anthem Blue Cross") to its ``PAYER:`` CURIE (``load``).
Problems (missing column, bad id, unknown parent, an alias claimed by two payers) are
reported with file and line. Does not guess: a name not in the registry is unknown.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Code, Edge, Problem, Record
from kgraph.sources._io import CsvRows, header_key, read_text

REQUIRED = ("id", "name")


def name_key(name: str) -> str:
    """How payer names are compared: case, punctuation, '&' vs 'and' and spacing do not matter.

    >>> name_key("Blue Cross & Blue-Shield ")
    'blue cross and blue shield'
    """
    text = name.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@dataclass
class PayerRegistry:
    """Known payers: id -> display name, and every name or alias -> id."""

    names: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)

    def resolve(self, name: str) -> str | None:
        """The ``PAYER:`` CURIE for a name as written, or None when the registry does not know it.

        >>> reg = PayerRegistry(names={"cigna": "Cigna"}, by_key={"cigna": "cigna", "cigna health": "cigna"})
        >>> reg.resolve("Cigna Health")
        'PAYER:cigna'
        """
        pid = self.by_key.get(name_key(name))
        return f"PAYER:{pid}" if pid else None


def read(path: str | Path, *, display: str | None = None, **_: object) -> Iterator[Record]:
    """Payer nodes and ``kg:partOf`` edges from a payer CSV."""
    registry, records = _parse(path, display)
    yield from records


def load(path: str | Path, *, display: str | None = None) -> PayerRegistry:
    """The registry of a payer CSV (problems are ignored here; ``read`` reports them)."""
    registry, _ = _parse(path, display)
    return registry


def _parse(path: str | Path, display: str | None) -> tuple[PayerRegistry, list[Record]]:
    shown = display or str(path)
    records: list[Record] = []
    registry = PayerRegistry()
    text, problem = read_text(path, shown)
    if problem:
        return registry, [problem]
    # (first physical line, cells): a quoted cell may hold a line break; U+2028 or a form feed ends no line
    reader = CsvRows(csv.reader(io.StringIO(text, newline="")), shown)
    rows: list[tuple[int, list[str]]] = []
    end = 0
    for found in reader:
        rows.append((end + 1, found))
        end = reader.line_num
    if reader.problem:
        return registry, [reader.problem]
    if not rows:
        return registry, [Problem(Origin(shown, 1), "empty payer file", action="file refused")]
    header = [header_key(h) for h in rows[0][1]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        msg = f"payer file has no column {', '.join(missing)} (header: {', '.join(rows[0][1])})"
        return registry, [Problem(Origin(shown, 1), msg, action="file refused")]
    col = {name: i for i, name in enumerate(header)}
    parents: list[tuple[str, str, Origin]] = []
    for number, row in rows[1:]:
        origin = Origin(shown, number)
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in col.items()}
        pid, name = cells["id"], cells["name"]
        if not is_valid("PAYER", pid) or not name:
            records.append(Problem(origin, f"payer id {pid!r} must be lower-case letters, digits, '-' "
                                   "and the name must not be empty"))
            continue
        aliases = [a.strip() for a in cells.get("aliases", "").split(";") if a.strip()]
        for alias in [name, pid, *aliases]:
            key = name_key(alias)
            if registry.by_key.get(key, pid) != pid:
                records.append(Problem(origin, f"alias {alias!r} already names payer "
                                       f"{registry.by_key[key]!r}", severity="warning", action="kept"))
                continue
            registry.by_key[key] = pid
        registry.names[pid] = name
        props = tuple(("alias", a) for a in aliases)
        records.append(Code(f"PAYER:{pid}", origin, label=name, props=props))
        if cells.get("parent"):
            parents.append((pid, cells["parent"], origin))
    for pid, parent, origin in parents:
        if parent not in registry.names:
            records.append(Problem(origin, f"parent {parent!r} is not a payer id in this file",
                                   curie=f"PAYER:{pid}"))
            continue
        registry.parents[pid] = parent
        records.append(Edge(f"PAYER:{pid}", "partOf", f"PAYER:{parent}", origin))
    return registry, records
