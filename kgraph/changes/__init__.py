"""``kgraph.changes``: what changed between two releases or dates, for all codes or a selection.

Input: an open ``Store``, ``since`` (a release label such as ``FY2021``, ``24.0``, ``2024-07-01``,
or a date) and optionally ``until`` (default: the newest loaded release of each family), a
selection (``codes``, ``focus`` + ``depth``, or ``briefing_codes``) and ``families``.
Output: ``Changes``: ``Change`` rows (family, change, code, other, field, before, after, the two
releases, the rows behind it as ``file:line``) and notes for the families not compared (one
release loaded, the same release on both dates) and the excerpts compared only for what they
list. One module per family: ``icd10cm``, ``ncci`` (PTP, MUE), ``fee``, ``nucc``; ``model``
holds the rows and the choice of releases (``kgraph.rules.releases``); ``output`` prints them;
``since`` says which briefing rows a change made wrong (``kgraph validate --since``).
Raises ``ChangesError`` for a value that is no release and no date or an unknown family.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kgraph.changes import fee, icd10cm, ncci, nucc
from kgraph.changes.model import COLUMNS, FAMILIES, Change, Changes, ChangesError

__all__ = ["COLUMNS", "FAMILIES", "Change", "Changes", "ChangesError", "briefing_codes", "changes", "selection"]

_COMPARE = {"icd10cm": icd10cm.compare, "ncci-ptp": ncci.compare_ptp, "ncci-mue": ncci.compare_mue,
            "mpfs": fee.compare, "nucc": nucc.compare}


def briefing_codes(store: Any) -> frozenset[str]:
    """Every code the loaded briefings name (subjects and objects of their statements)."""
    from kgraph.internal_queries import solutions
    from kgraph.namespaces import curie

    found = {curie(row["c"].value) for row in solutions(store, "briefing_codes")}
    return frozenset(c for c in found if c.split(":")[0].isupper() and not c.startswith(("PAYER:", "MSPEC:")))


def selection(store: Any, *, codes: Iterable[str] | None = None, focus: str | None = None, depth: int = 1,
              briefing: bool = False) -> frozenset[str] | None:
    """The codes a comparison is limited to (None: every code). ``focus`` takes the codes within
    ``depth`` steps of it (``kgraph.neighborhood``); ``briefing`` those the briefings name."""
    chosen: set[str] | None = None
    if codes is not None:
        chosen = {c.strip() for c in codes if c.strip()}
    if focus:
        from kgraph.traverse import neighborhood

        near = set(neighborhood(store, focus, depth=depth).nodes)
        chosen = near if chosen is None else chosen | near
    if briefing:
        named = set(briefing_codes(store))
        chosen = named if chosen is None else chosen | named
    return None if chosen is None else frozenset(chosen)


def changes(store: Any, since: str, until: str | None = None, *, codes: Iterable[str] | None = None,
            focus: str | None = None, depth: int = 1, briefing_codes: bool = False,
            families: Iterable[str] | None = None) -> Changes:
    """What changed from ``since`` to ``until`` (module docstring).

    >>> import kgraph
    >>> found = kgraph.changes(kgraph.open(DOCTEST_STORE), since="FY2021", until="FY2022", codes=["ICD10CM:K22.8"])
    >>> [(c.change, c.code, c.since, c.until) for c in found if c.family == "icd10cm"]
    [('became a header', 'ICD10CM:K22.8', 'FY2021', 'FY2022')]
    """
    wanted = list(families) if families else list(FAMILIES)
    unknown = [f for f in wanted if f not in _COMPARE]
    if unknown:
        raise ChangesError(f"unknown family {', '.join(unknown)}: choose from {', '.join(FAMILIES)}")
    chosen = selection(store, codes=codes, focus=focus, depth=depth, briefing=briefing_codes)
    out = Changes()
    for family in FAMILIES:
        if family in wanted:
            _COMPARE[family](store, out, since, until, chosen)
    return out
