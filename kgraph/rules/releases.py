"""Which loaded release answers for a date of service, per source family.

Input: ``Release`` rows (one per loaded source file: kind, release label, the file's date, its
layout and whether the manifest calls it a ``complete`` release or an ``excerpt``) and a date.
Output: ``select(releases, day)``, a ``Selection`` naming the complete release that decides for
the whole family on that date and the excerpts whose rows override it for the pairs or codes they
list; ``pick`` keeps the rows of one pair or code that the selection says are in force;
``period`` / ``covers`` say which dates a release answers for, by its family's cadence (quarterly
NCCI and fee-schedule files, annual HCPCS, fiscal-year ICD-10-CM; ``tables/families.csv``).

The rule (ARCHITECTURE.md, "Rules layer"): the newest complete release in force on the date
(its date on or before the date of service) decides for its family; when none is in force yet,
the nearest one (the oldest loaded) is used, and the caller says so. An excerpt newer than the
deciding release overrides it for what it lists, when it is in force on the date or its rows
carry their own effective dates (the official PTP layout), and says nothing about the rest.
Does not read files or the store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple, TypeVar

from kgraph.rules import tables

#: the manifest's ``scope`` values: a whole release, or a few rows of one
SCOPES = ("complete", "excerpt")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Release:
    """A loaded source as rules and evidence name it (``SourceInfo`` in ``kgraph.indexes``)."""

    id: str
    kind: str
    file: str
    release: str
    #: the file's own date (``kg:effective``), else the release label read as a date
    effective: date | None
    layout: str
    scope: str = "complete"

    @property
    def family(self) -> str:
        return family(self.kind).family

    @property
    def dated(self) -> bool:
        """Whether the file's rows carry their own effective dates (the official PTP layout)."""
        return self.layout in family(self.kind).dated_layouts.split()

    @property
    def excerpt(self) -> bool:
        return self.scope == "excerpt"


def _families() -> dict[str, Any]:
    return {row.kind: row for row in tables.rows("families")}


def family(kind: str) -> Any:
    """The ``families`` row of a source kind (family, name, cadence, outside_severity, source)."""
    found = tables.derived("families", _families).get(kind)
    if found is None:
        return tables.row_type("families")._make([kind, kind, kind, "none", "info", "", "no", ""])
    return found


def name(kind: str) -> str:
    """What users call a source kind ("NCCI PTP", "fee schedule", ...)."""
    found: str = family(kind).name
    return found


def kinds() -> list[str]:
    """Every source kind the rules know."""
    return [row.kind for row in tables.rows("families")]


def version_kinds() -> list[str]:
    """The source kinds whose releases a claim-check result names in ``data_versions``."""
    return [row.kind for row in tables.rows("families") if row.in_check_versions == "yes"]


def _month_end(start: date, months: int) -> date:
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def period(release: Release) -> tuple[date, date] | None:
    """The dates of service a release answers for; None when its date is unknown.

    A quarterly release answers for its quarter, an annual one for its calendar year, an
    ICD-10-CM fiscal year from October 1 to September 30; a file whose rows carry their own
    effective dates also for every earlier date.
    """
    if release.effective is None:
        return None
    cadence = family(release.kind).cadence
    start = release.effective
    if cadence == "quarter":
        end = _month_end(start, 3)
    elif cadence == "half-year":
        end = _month_end(start, 6)
    elif cadence in ("year", "fiscal-year"):
        end = _month_end(start, 12)
    else:
        end = date.max
    return (date.min if release.dated else start), end


def undated_before(release: Release, day: date) -> bool:
    """Whether ``day`` is before the date of a file whose rows carry no effective dates (the flat
    PTP layout): such a file cannot say which of its edits were in effect then."""
    return release.effective is not None and day < release.effective and not release.dated


def covers(release: Release, day: date) -> bool:
    found = period(release)
    return found is not None and found[0] <= day <= found[1]


class Selection(NamedTuple):
    """What answers for one family on one date."""

    #: the complete release that decides (None when only excerpts are loaded)
    decides: Release | None
    #: excerpts newer than it whose rows override its rows for what they list, oldest first
    overrides: tuple[Release, ...]
    #: whether the deciding release's period holds the date (else the nearest was used)
    covered: bool

    def order(self) -> list[Release]:
        """The releases to consult for a pair or code, the one that wins first."""
        return [*reversed(self.overrides), *([self.decides] if self.decides else [])]


def _when(release: Release) -> date:
    return release.effective or date.min


def select(releases: Iterable[Release], day: date) -> Selection:
    """The releases of one family that answer for ``day`` (see the module docstring).

    >>> a = Release("a", "ncci-ptp", "a.csv", "2024-07-01", date(2024, 7, 1), "flat")
    >>> b = Release("b", "ncci-ptp", "b.txt", "2026-01-01", date(2026, 1, 1), "official", "excerpt")
    >>> s = select([a, b], date(2024, 8, 1))
    >>> s.decides.id, [r.id for r in s.overrides], s.covered
    ('a', ['b'], True)
    >>> select([a, b], date(2025, 8, 1)).covered
    False
    """
    complete = [r for r in releases if not r.excerpt]
    excerpts = [r for r in releases if r.excerpt]
    in_force = [r for r in complete if _when(r) <= day]
    decides = max(in_force, key=_when) if in_force else min(complete, key=_when) if complete else None
    base = _when(decides) if decides else date.min
    overrides = tuple(sorted((r for r in excerpts if _when(r) > base and (_when(r) <= day or r.dated)), key=_when))
    covered = covers(decides, day) if decides is not None else any(covers(r, day) for r in overrides)
    return Selection(decides, overrides, covered)


def published(loaded: Sequence[Release], day: date) -> list[Release]:
    """The releases out by ``day`` (their date on or before it; all of them when none is): what a
    review meeting on that day had (``kgraph changes``). A file whose rows carry their own dates is
    not read back into the past: the January 2026 PTP excerpt is not what answered on 2024-07-01."""
    return [r for r in loaded if _when(r) <= day] or list(loaded)


def pick(selection: Selection, rows: Sequence[T], release_of: Callable[[T], Release]) -> list[T]:
    """The rows of one pair or code in force by ``selection``: those of the newest release in it
    that lists the pair or code (an excerpt over the complete release); rows of any other loaded
    release are not consulted."""
    if not rows:
        return []
    for release in selection.order():
        found = [r for r in rows if release_of(r) is release]
        if found:
            return found
    return []


def pick_each(selection: Selection, groups: Iterable[Sequence[T]], release_of: Callable[[T], Release]) -> list[T]:
    """``pick`` of many pairs or codes at once (the thousands of pairs of a hub code): the rows of
    each group in force, all in one list, ranking the releases once instead of once per group.

    >>> a = Release("a", "ncci-ptp", "a.csv", "2024-07-01", date(2024, 7, 1), "flat")
    >>> b = Release("b", "ncci-ptp", "b.txt", "2026-01-01", date(2026, 1, 1), "official", "excerpt")
    >>> s = select([a, b], date(2024, 8, 1))
    >>> [n for n, _ in pick_each(s, [[(1, a), (2, b)], [(3, a)]], lambda row: row[1])]
    [2, 3]
    """
    rank = {id(release): n for n, release in enumerate(selection.order())}
    out: list[T] = []
    for rows in groups:
        if len(rows) == 1:
            if id(release_of(rows[0])) in rank:
                out.append(rows[0])
            continue
        ranked = [(rank.get(id(release_of(r))), r) for r in rows]
        best = min((n for n, _ in ranked if n is not None), default=None)
        out += [r for n, r in ranked if best is not None and n == best]
    return out


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")


def release_start(kind: str, label: str) -> date | None:
    """The first day a release label stands for: ``FY2026`` -> its fiscal year's first day,
    ``2024-07-01`` / ``2024-06`` / ``2024`` -> that day, month or year, NUCC ``25.1`` -> July 2025,
    ``April 2026`` -> 2026-04-01; None for a label that names no date.

    >>> release_start("icd10cm", "FY2026"), release_start("nucc", "25.1"), release_start("modifiers", "2024")
    (datetime.date(2025, 10, 1), datetime.date(2025, 7, 1), datetime.date(2024, 1, 1))
    """
    from kgraph.rules.icd import fy_start

    text = label.strip()
    if m := re.fullmatch(r"FY(\d{4})", text):
        return fy_start(int(m[1]))
    if m := re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text):
        try:
            return date(int(m[1]), int(m[2]), int(m[3] or 1))
        except ValueError:
            return None
    if kind == "nucc" and (m := re.fullmatch(r"(\d{2})\.([01])", text)):
        return date(2000 + int(m[1]), 7 if m[2] == "1" else 1, 1)
    if m := re.fullmatch(r"(\d{4})", text):
        return date(int(m[1]), 1, 1)
    if (m := re.fullmatch(r"([A-Za-z]+)\s+(?:(\d{1,2}),?\s+)?(\d{4})", text)) and m[1].lower() in _MONTHS:
        return date(int(m[3]), _MONTHS.index(m[1].lower()) + 1, int(m[2] or 1))
    return None


def iso_date(text: str | None) -> date | None:
    """The date a store's date cell holds (``2024-07-01``, or a dateTime's first ten characters);
    None for an empty or unreadable cell."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def from_row(kind: str, row: Mapping[str, str | None]) -> Release:
    """A loaded source as the store describes it: a row of the ``ptp_releases`` or ``index_sources``
    internal query (cells ``s``, ``file``, ``release``, ``eff``, ``layout``, ``scope`` as text). Its
    date is the file's own (``kg:effective``), else the release label read as a date (``release_start``).

    >>> from_row("ncci-ptp", {"s": "SOURCE:ptp1", "file": "f.csv", "release": "2024-07-01", "layout": "flat"}).effective
    datetime.date(2024, 7, 1)
    """
    def cell(name: str) -> str:
        return row.get(name) or ""

    return Release(cell("s").partition(":")[2], kind, cell("file"), cell("release"),
                   iso_date(cell("eff")) or release_start(kind, cell("release")), cell("layout"),
                   cell("scope") or "complete")


def may_be_outdated(kind: str, label: str, as_of: date) -> bool:
    """Whether a newer release than ``label`` may be in force on ``as_of``, for judging a code it
    does not hold: past the fiscal year of an ICD-10-CM release, more than a year after any other.
    """
    start = release_start(kind, label)
    if start is None:
        return False
    if family(kind).cadence == "fiscal-year":
        return as_of > _month_end(start, 12)
    return (as_of - start).days > 366
