"""What ``kgraph changes`` returns: ``Change`` rows, ``Changes`` (rows, notes, the releases
compared), and how a ``--since`` / ``--until`` value and a family's loaded releases give the two
releases to compare.

Input: release labels or dates as a user writes them (``FY2021``, ``24.0``, ``2024-07-01``) and
``kgraph.rules.releases.Release`` rows. Output: ``Span`` per family (the selection in force on
each side, ``releases.select``), ``Change`` and ``Changes``. Which release is in force, and
complete versus excerpt, is ``kgraph.rules.releases``; this module only names the two sides.
Raises ``ChangesError`` for a value that is neither a loaded release label nor a date.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any

from kgraph.errors import KGraphError
from kgraph.indexes import Indexes, load_indexes
from kgraph.rules import releases
from kgraph.rules.releases import Release, Selection

#: the families ``kgraph changes`` compares, as ``--family`` names them, in output order
FAMILIES = ("icd10cm", "ncci-ptp", "ncci-mue", "mpfs", "nucc")
COLUMNS = ["family", "change", "code", "other", "field", "before", "after", "since", "until", "evidence"]


class ChangesError(KGraphError):
    """A ``--since`` / ``--until`` / ``--family`` value kgraph cannot use."""


@dataclass
class Change:
    """One change: ``code`` (and ``other``, column 2 of a PTP pair) in ``family``; ``field`` the
    value that changed (``indicator``, ``status``, ``title``, ...), ``before`` / ``after`` its
    values; ``since`` / ``until`` the two releases; ``evidence`` the rows behind it
    (``file:line``, the older release's first)."""

    family: str
    change: str
    code: str
    since: str
    until: str
    other: str = ""
    field: str = ""
    before: str = ""
    after: str = ""
    evidence: list[str] = dc_field(default_factory=list)

    def row(self) -> dict[str, str | None]:
        """The row as ``COLUMNS`` (evidence joined by ``; ``)."""
        out = {k: str(v) for k, v in asdict(self).items() if k != "evidence"}
        return {**out, "evidence": "; ".join(self.evidence)}

    def codes(self) -> tuple[str, ...]:
        return (self.code, self.other) if self.other else (self.code,)


@dataclass
class Changes:
    """The changes of one comparison, with ``notes`` (families not compared and why) and the
    releases compared per family (``compared``: family -> (since label, until label))."""

    rows: list[Change] = dc_field(default_factory=list)
    notes: list[str] = dc_field(default_factory=list)
    compared: dict[str, tuple[str, str]] = dc_field(default_factory=dict)

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_json(self) -> dict[str, Any]:
        return {"changes": [{**asdict(c)} for c in self.rows], "notes": list(self.notes),
                "compared": {k: {"since": a, "until": b} for k, (a, b) in self.compared.items()}}


@dataclass(frozen=True)
class Span:
    """What answers on each side of a comparison of one family."""

    before: Selection
    after: Selection
    since_day: date
    until_day: date

    def label(self, selection: Selection) -> str:
        return " + ".join(r.release + (" (excerpt)" if r.excerpt else "") for r in reversed(selection.order()))

    @property
    def labels(self) -> tuple[str, str]:
        return self.label(self.before), self.label(self.after)

    @property
    def same(self) -> bool:
        return self.before.order() == self.after.order()

    def excerpts(self) -> list[Release]:
        """The excerpts on either side that are not on both (only their rows can differ when the
        deciding release is the same)."""
        a, b = set(self.before.overrides), set(self.after.overrides)
        return sorted(a ^ b, key=lambda r: r.effective or date.min)


def parse_point(kind: str, value: str | None, loaded: Sequence[Release]) -> date | None:
    """The date a ``--since`` / ``--until`` value stands for in a family: the date of the loaded
    release with that label, else a date (``2024-07-01``), else a release label read as a date
    (``FY2022``, ``25.1``); None for ``None`` (the newest). Raises ``ChangesError`` otherwise."""
    if value is None:
        return None
    text = value.strip()
    for release in loaded:
        if release.release == text and release.effective:
            return release.effective
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    for k in (kind, *releases.kinds()):
        found = releases.release_start(k, text)
        if found is not None:
            return found
    raise ChangesError(f"{value!r} is neither a loaded release nor a date (YYYY-MM-DD); "
                       "write a release label such as FY2022, 24.0 or 2024-07-01")


def span(kind: str, loaded: Iterable[Release], since: str, until: str | None) -> Span | str:
    """The two selections to compare for one family, or a note saying why there is nothing to
    compare (no release loaded, only one, or both sides the same releases)."""
    rels = list(loaded)
    name = releases.name(kind)
    if not rels:
        return f"{name}: no release loaded; not compared"
    since_day = parse_point(kind, since, rels)
    assert since_day is not None
    newest = max((r.effective or date.min for r in rels), default=date.min)
    until_day = parse_point(kind, until, rels) or max(newest, since_day)
    if until_day < since_day:
        raise ChangesError(f"--until {until} is before --since {since}")
    found = Span(releases.select(releases.published(rels, since_day), since_day),
                 releases.select(releases.published(rels, until_day), until_day), since_day, until_day)
    if len(rels) == 1:
        return f"{name}: only one release loaded ({rels[0].release}); nothing to compare it with"
    if found.same:
        return f"{name}: the same release answers on both dates ({found.labels[0]}); no change to report"
    return found


def begin(out: Changes, kind: str, loaded: Iterable[Release], since: str, until: str | None) -> Span | None:
    """The span of one family, recorded in ``out.compared``; None (and a note in ``out.notes``) when
    there is nothing to compare."""
    found = span(kind, loaded, since, until)
    if isinstance(found, str):
        out.notes.append(found)
        return None
    out.compared[kind] = found.labels
    return found


#: a family's comparison as ``kgraph.changes`` calls it: (store, out, since, until, codes)
Compare = Callable[[Any, Changes, str, str | None, frozenset[str] | None], None]


def from_indexes(kind: str) -> Callable[[Callable[[Indexes, Span, Changes, frozenset[str] | None], None]], Compare]:
    """Decorator of a comparison read from the claim-check indexes (``kgraph.indexes``):
    ``compare(ix, span, out, codes)`` becomes ``compare(store, out, since, until, codes)``, which
    loads the indexes, finds the span of the family's sources (``begin``) and calls it only when
    there are two releases to compare (``begin`` notes why not otherwise)."""
    def wrap(compare: Callable[[Indexes, Span, Changes, frozenset[str] | None], None]) -> Compare:
        @functools.wraps(compare)
        def opened(store: Any, out: Changes, since: str, until: str | None, codes: frozenset[str] | None) -> None:
            ix = load_indexes(store)
            found = begin(out, kind, ix.source(kind), since, until)
            if found is not None:
                compare(ix, found, out, codes)
        return opened
    return wrap


def evidence(rows: Iterable[Any], file_of: Callable[[Any], str]) -> list[str]:
    """``file:line`` of each code-set row (a change's evidence), its file named by ``file_of``."""
    return [f"{file_of(r)}:{r.line}" for r in rows]


def in_selection(change: Change, codes: frozenset[str] | None) -> bool:
    """Whether a change concerns the selected codes (every change when there is no selection)."""
    return codes is None or any(c in codes for c in change.codes())
