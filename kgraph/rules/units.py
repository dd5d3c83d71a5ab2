"""NCCI Medically Unlikely Edits (units per line or per date) and add-on code edits (types 1-3).

Input: ``MUERow`` / ``AddOnRow`` rows of one code, already narrowed to the releases in force
(``releases.pick``), and the units of the claim lines of that code on one date, or the codes on
the claim. Output: ``MUEVerdict`` and ``AddOnVerdict``. Meanings from
``tables/ncci_indicators.csv``: MUE adjudication indicator 1 compares each line, 2 (policy) and 3
(clinical, payable on appeal) the sum of the lines of one date; an MUE of 0 means the code is
never payable for the provider type; an add-on code without an eligible primary on the claim is
an error for edit type 1, a warning for 3 and an info note for 2. Does not read files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

from kgraph.rules import tables
from kgraph.rules.readers import applies
from kgraph.rules.rows import AddOnRow, MUERow

#: an MUE of this many units: the code is never payable for the provider type
NEVER_PAYABLE = 0


def _table(table: str) -> dict[str, Any]:
    return {row.value: row for row in tables.rows("ncci_indicators") if row.table == table}


def mai(value: str) -> Any | None:
    """The ``ncci_indicators`` row of an MUE adjudication indicator (1, 2, 3)."""
    return tables.derived("mue-mai", lambda: _table("mue-mai")).get(value)


def edit_type(value: str) -> Any | None:
    """The ``ncci_indicators`` row of an add-on edit type (1, 2, 3)."""
    return tables.derived("addon-type", lambda: _table("addon-type")).get(value)


class MUEVerdict(NamedTuple):
    """``never-payable``, ``per-line`` (the lines over the limit) or ``per-date``."""

    outcome: str
    row: MUERow
    over: tuple[int, ...]
    total: int


def mue(row: MUERow, units: Sequence[int]) -> MUEVerdict | None:
    """None when the units of the lines of its code on one date are within an MUE row's limit, else
    the verdict (``over`` holds the positions in ``units`` of the lines over a per-line limit).

    >>> mue(MUERow(1, "3", "", 0, 2), [1, 1]).outcome, mue(MUERow(4, "1", "", 0, 2), [3, 3])
    ('per-date', None)
    """
    total = sum(units)
    if row.units == NEVER_PAYABLE:
        return MUEVerdict("never-payable", row, tuple(range(len(units))), total)
    if total <= row.units:
        return None  # within the limit per line and per date alike
    rule = mai(row.mai)
    if rule is None or rule.detail == "line":
        over = tuple(i for i, u in enumerate(units) if u > row.units)
        return MUEVerdict("per-line", row, over, total) if over else None
    return MUEVerdict("per-date", row, tuple(range(len(units))), total)


def addon_in_effect(row: AddOnRow, day: date) -> bool:
    """Whether an add-on edit row is in effect on ``day`` (``readers.applies``: the same rule as
    a PTP edit's dates; the row keeps its dates as ordinals, 0 for none)."""
    return applies(date.fromordinal(row.effective) if row.effective else None,
                   date.fromordinal(row.deletion) if row.deletion else None, "", day)


class AddOnVerdict(NamedTuple):
    """An add-on code without an eligible primary: its edit type's row and the listed primaries."""

    edit_type: str
    rule: Any
    primaries: tuple[str, ...]
    rows: tuple[AddOnRow, ...]


def addon(rows: Sequence[AddOnRow], day: date, code: str, codes: Iterable[str]) -> AddOnVerdict | None:
    """None when the add-on code ``code`` has an eligible primary among ``codes`` (the other codes
    of the claim on ``day``) or no edit in effect; else the verdict of its most restrictive edit
    type (1 before 3 before 2)."""
    live = [r for r in rows if addon_in_effect(r, day)]
    if not live:
        return None
    primaries = {r.primary for r in live if r.primary}
    if primaries & (set(codes) - {code}):
        return None
    kind = most_restrictive({r.edit_type for r in live})
    return AddOnVerdict(kind, edit_type(kind), tuple(sorted(primaries)), tuple(live))


def most_restrictive(types: Iterable[str], severity: str = "severity") -> str:
    """The most restrictive of a code's add-on edit types (1 before 3 before 2): the one whose
    meaning gets the gravest severity (``severity`` names the column: ``validate_severity`` for
    ``kgraph validate``); an undocumented type comes last.

    >>> most_restrictive(["2", "3"]), most_restrictive(["3", "1"], "validate_severity")
    ('3', '1')
    """
    order = {"error": 0, "warning": 1, "info": 2}

    def key(value: str) -> tuple[int, str]:
        rule = edit_type(value)
        return (order.get(getattr(rule, severity), 3) if rule is not None else 3), value

    return min(types, key=key)
