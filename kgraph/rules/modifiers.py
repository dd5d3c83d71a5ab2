"""Modifiers: their NCCI classes, the codes some of them belong on, pairs that exclude each other,
and how sure an "unknown modifier" finding can be.

Input: modifier codes (``25``, ``XS``), procedure codes as written in the CMS files (``99214``,
``G0439``) and, for ``unknown_severity``, the loaded modifier lists as ``Release`` rows. Output:
table rows and plain values. The tables: ``modifiers.csv`` (each modifier's class),
``modifier_classes.csv`` (whether a class is NCCI-associated and on which line of a PTP pair it
bypasses an edit: ``either``, ``em-line`` (the E/M code of the pair), ``different-sites``),
``code_ranges.csv`` (the E/M codes and the anesthesia codes, with the CMS source of each range),
``modifier_exclusive.csv``. Does not read files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from kgraph.rules import tables
from kgraph.rules.releases import Release, covers, family

_DIGIT = re.compile(r"\d")


def _skeleton(code: str) -> str:
    return _DIGIT.sub("#", code)


def in_ranges(code: str, ranges: Iterable[tuple[str, str]]) -> bool:
    """Whether ``code`` is within one of the (first, last) ranges, comparing codes of the same
    shape only (``0500T`` is not between ``0001U`` and ``0999U``).

    >>> in_ranges("99214", [("99202", "99499")]), in_ranges("0500T", [("0001U", "0999U")])
    (True, False)
    """
    shape = _skeleton(code)
    return any(_skeleton(first) == shape == _skeleton(last) and first <= code <= last for first, last in ranges)


def ranges(kind: str) -> list[tuple[str, str]]:
    """The (first, last) code ranges of a kind of ``code_ranges.csv`` (``em``, ``anesthesia``)."""
    return tables.derived(f"ranges-{kind}", lambda: [(r.first, r.last) for r in tables.rows("code_ranges")
                                                     if r.kind == kind])


def ANESTHESIA() -> list[tuple[str, str]]:  # noqa: N802 - reads as the constant it stands for
    return ranges("anesthesia")


def is_em(code: str) -> bool:
    """Whether a code (as written in the CMS files, no prefix) is an evaluation and management
    service (``code_ranges.csv``: CPT 99202-99499 and the HCPCS visits CMS treats as E/M)."""
    cache: dict[str, bool] = tables.derived("is-em", dict)
    found = cache.get(code)
    if found is None:
        found = cache[code] = in_ranges(code, ranges("em"))
    return found


def _classes() -> dict[str, Any]:
    return {row.modifier_class: row for row in tables.rows("modifier_classes")}


def _modifier_class() -> dict[str, Any]:
    classes = tables.derived("classes", _classes)
    return {row.modifier: classes.get(row.modifier_class) for row in tables.rows("modifiers")}


def modifier_class(modifier: str) -> Any | None:
    """The ``modifier_classes`` row of a modifier's class (None for a modifier of no class)."""
    return tables.derived("modifier-class", _modifier_class).get(modifier)


def modifiers_of_class(name: str) -> list[str]:
    return [row.modifier for row in tables.rows("modifiers") if row.modifier_class == name]


def ncci_associated() -> frozenset[str]:
    """The NCCI-associated modifiers: those that may bypass a PTP edit with indicator 1."""
    return tables.derived("ncci-associated", lambda: frozenset(
        m for m, c in tables.derived("modifier-class", _modifier_class).items() if c and c.ncci_associated == "yes"))


def em_only_misused(code: str, modifiers: Iterable[str]) -> list[str]:
    """The modifiers on a line that belong on an E/M code only (24, 25, 27, 57) when the line's
    code is not an E/M service."""
    if is_em(code):
        return []
    return [m for m in modifiers if (c := modifier_class(m)) is not None and c.applies_on == "em-line"]


def _exclusive() -> dict[frozenset[str], Any]:
    return {frozenset((row.a, row.b)): row for row in tables.rows("modifier_exclusive")}


def exclusive(a: str, b: str) -> Any | None:
    """The ``modifier_exclusive`` row (severity, reason, source) when ``a`` and ``b`` cannot both
    be on one line, else None."""
    return tables.derived("exclusive", _exclusive).get(frozenset((a, b)))


def _is_cpt_modifier(modifier: str) -> bool:
    return modifier.isdigit()


def judging_lists(lists: Sequence[Release], modifier: str) -> list[Release]:
    """The loaded modifier lists that would name ``modifier``: the CPT list for two-digit CPT
    modifiers, the HCPCS Level II file for the others, the combined CPT and HCPCS list for both."""
    out = []
    for release in lists:
        if release.kind == "cpt-modifiers" and not _is_cpt_modifier(modifier):
            continue
        if release.kind == "hcpcs" and _is_cpt_modifier(modifier):
            continue
        out.append(release)
    return out


def unknown_severity(lists: Sequence[Release], modifier: str, day: date) -> tuple[str, list[Release]]:
    """(severity, the lists that judged) for a modifier that no loaded list names, on ``day``:
    an error when a list in force on that date judges it, a warning when every judging list is of
    another year (a list older than the date cannot know a newer modifier, one newer than it may
    have dropped an old one)."""
    judges = judging_lists(lists, modifier)
    if any(covers(r, day) for r in judges):
        return "error", judges
    return family("modifiers").outside_severity, judges
