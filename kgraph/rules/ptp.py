"""NCCI procedure-to-procedure (PTP) edits: whether an edit applies on a date, and whether the
modifiers of the two lines bypass it.

Input: ``PTPRow`` rows (already narrowed to the releases in force by ``releases.select`` /
``pick``), a date of service, and the two lines' codes (as written in the files, ``99214``) and
modifiers. Output: ``state`` of one row, ``bypass`` of a pair of lines, ``verdict`` of a pair.

An edit is in effect when effective <= date <= deletion. Modifier indicator 9 never applies (CMS
gives it to edits deleted back to their effective date); 0 is never bypassed; 1 is bypassed by an
NCCI-associated modifier used as its class allows (``modifiers.modifier_class``): 59 / X{EPSU},
58, 78, 79 and 91 on either line; 24, 25, 27 and 57 only on the E/M code of the pair; an anatomic
modifier when the other line does not name the same site; an edit between an E/M service and
another code only by the E/M modifiers. A row of a file without effective
dates (the flat layout) is *unknown* for a date before the file's date, never "no edit"
(``tables/ncci_indicators.csv`` holds the indicator meanings). Does not read files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

from kgraph.rules import tables
from kgraph.rules.modifiers import is_em, modifier_class
from kgraph.rules.readers import applies as _applies
from kgraph.rules.releases import undated_before
from kgraph.rules.rows import PTPRow

IN_EFFECT, NOT_IN_EFFECT, UNKNOWN = "in effect", "not in effect", "unknown"


def _indicators(table: str) -> dict[str, Any]:
    return {row.value: row for row in tables.rows("ncci_indicators") if row.table == table}


def indicator(value: str) -> Any | None:
    """The ``ncci_indicators`` row of a PTP modifier indicator (0, 1, 9)."""
    return tables.derived("ptp-indicators", lambda: _indicators("ptp-modifier")).get(value)


def indicator_labels() -> dict[str, str]:
    """Modifier indicator -> its short label ("no modifier allowed", ...), for pictures and tables."""
    found = tables.derived("ptp-indicators", lambda: _indicators("ptp-modifier"))
    return {value: row.label for value, row in found.items()}


def applies(effective: date | None, deletion: date | None, modifier_indicator: str, day: date | None) -> bool:
    """Whether an edit with these dates and indicator applies on ``day`` (``readers.applies``: a
    missing date is open; indicator 9 never applies)."""
    return _applies(effective, deletion, modifier_indicator, day)


def state(row: PTPRow, day: date) -> str:
    """``in effect``, ``not in effect`` or ``unknown`` (a row without an effective date, of a file
    dated after ``day``: the file cannot say whether the edit was in effect then)."""
    effective = row.effective
    if not _applies(effective, row.deletion, row.indicator, day):
        return NOT_IN_EFFECT
    if effective is None and undated_before(row.source, day):
        return UNKNOWN
    return IN_EFFECT


class Bypass(NamedTuple):
    """The modifiers that bypass an indicator-1 edit for a pair of lines, and those on the lines
    that would be NCCI-associated but do not bypass it here (with why)."""

    by: tuple[str, ...]
    not_here: tuple[tuple[str, str], ...]


def bypass(code1: str, mods1: Iterable[str], code2: str, mods2: Iterable[str]) -> Bypass:
    """Which modifiers of the two lines bypass an edit between them (see the module docstring).

    >>> bypass("20610", [], "99214", ["25"]).by, bypass("20610", ["25"], "99214", []).by
    (('25',), ())
    """
    first, second = tuple(mods1), tuple(mods2)
    by: list[str] = []
    not_here: list[tuple[str, str]] = []
    em_pair = is_em(code1) or is_em(code2)
    for code, mods, other_code, other in ((code1, first, code2, second), (code2, second, code1, first)):
        for m in mods:
            c = modifier_class(m)
            if c is None or c.ncci_associated != "yes" or m in by:
                continue
            if em_pair and c.with_em != "yes":
                not_here.append((m, f"{m} does not bypass an edit with an E/M service: the E/M code takes 25 or 57"))
            elif c.applies_on == "em-line" and not is_em(code):
                not_here.append((m, f"{m} is on {code}, which is not an E/M service: it bypasses an edit only on "
                                    f"the E/M code of the pair"))
            elif c.applies_on == "different-sites" and m in other:
                not_here.append((m, f"{m} is on both {code} and {other_code}: the same site, not a distinct one"))
            else:
                by.append(m)
    return Bypass(tuple(sorted(by)), tuple({m: (m, why) for m, why in reversed(not_here)}.values())[::-1])


_NO_BYPASS = Bypass((), ())


class Verdict(NamedTuple):
    """The outcome of the edits of one pair of lines on one date."""

    #: ``denied``, ``bypassed``, ``unknown`` or ``none``
    outcome: str
    #: the row that decides (indicator 0 before 1), and every row in effect / unknown
    row: PTPRow | None
    applied: tuple[PTPRow, ...]
    unknown: tuple[PTPRow, ...]
    bypass: Bypass


def verdict(rows: Sequence[PTPRow], day: date, code1: str, mods1: Iterable[str], code2: str,
            mods2: Iterable[str]) -> Verdict:
    """The verdict for column 1 line (``code1``, ``mods1``) and column 2 line on ``day``, from the
    rows of the pair in force (``releases.pick``)."""
    applied: list[PTPRow] = []
    unknown: list[PTPRow] = []
    for row in rows:
        found = state(row, day)
        if found is IN_EFFECT:
            applied.append(row)
        elif found is UNKNOWN:
            unknown.append(row)
    if applied:
        if len(applied) > 1:  # an edit no modifier bypasses decides before one a modifier may
            applied.sort(key=_bypassable_last)
        row = applied[0]
        rule = indicator(row.indicator)
        if rule is not None and rule.detail == "yes":
            found_bypass = bypass(code1, mods1, code2, mods2) if mods1 or mods2 else _NO_BYPASS
            outcome = "bypassed" if found_bypass.by else "denied"
            return Verdict(outcome, row, tuple(applied), tuple(unknown), found_bypass)
        return Verdict("denied", row, tuple(applied), tuple(unknown), _NO_BYPASS)
    if unknown:
        return Verdict("unknown", unknown[0], (), tuple(unknown), _NO_BYPASS)
    return _NONE


def _bypassable_last(row: PTPRow) -> tuple[bool, str]:
    rule = indicator(row.indicator)
    return rule is None or rule.detail == "yes", row.indicator


_NONE = Verdict("none", None, (), (), _NO_BYPASS)
