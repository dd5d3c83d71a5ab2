"""NCCI changes between two releases: PTP edits added, deleted or with a new modifier indicator;
MUE values and adjudication indicators changed.

Input: an open store (its claim-check indexes: every PTP and MUE row with its release and line)
and the ``--since`` / ``--until`` values. Which release answers on each side, and what an
excerpt overrides, is ``kgraph.rules.releases`` (``select`` / ``pick``): an excerpt compares
only the pairs or codes it lists, and says nothing about the rest of the family. Whether an edit
is in effect on a date is ``kgraph.rules.ptp.state``. Output: ``Change`` rows naming both
releases and the rows behind them (``file:line``), or a note when a family has one release.
Does not compare add-on code edits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kgraph.changes.model import Change, Changes, Span, evidence, from_indexes
from kgraph.indexes import Indexes
from kgraph.rules import ptp, releases
from kgraph.rules.rows import PTPRow


def _positions(ix: Indexes, found: Span, codes: frozenset[str] | None) -> Iterable[int]:
    """The PTP rows whose pairs may differ: every row of the selected codes (or all), and when the
    deciding release is the same on both sides only those of the excerpts that differ."""
    positions: Iterable[int] = sorted({i for c in codes for i in ix.ptp_of(c)}) if codes is not None \
        else range(len(ix.ptp_keys))
    if found.before.decides is found.after.decides:
        excerpts = {ix.sources.index(r) for r in found.excerpts()}
        positions = [i for i in positions if ix.ptp_source[i] in excerpts]
    return positions


def _state(rows: list[PTPRow], day: Any) -> PTPRow | None:
    """The row in effect on ``day`` among the rows in force for a pair (None when none is)."""
    return next((r for r in rows if ptp.state(r, day) == ptp.IN_EFFECT), None)


@from_indexes("ncci-ptp")
def compare_ptp(ix: Indexes, found: Span, out: Changes, codes: frozenset[str] | None) -> None:
    """Add the PTP edits added, deleted or re-indicated between the two sides."""
    a_label, b_label = found.labels
    for r in found.excerpts():
        out.notes.append(f"NCCI PTP: {r.release} is an excerpt ({r.file}): only the pairs it lists are compared; "
                         "it says nothing about the others")
    for key in sorted({ix.ptp_keys[i] for i in _positions(ix, found, codes)}):
        rows = ix.ptp(ix.codes[key >> 32], ix.codes[key & 0xFFFFFFFF])
        before = _state(releases.pick(found.before, rows, lambda r: r.source), found.since_day)
        after = _state(releases.pick(found.after, rows, lambda r: r.source), found.until_day)
        c1, c2 = rows[0].column1, rows[0].column2
        change = None
        if before is None and after is not None:
            change = Change("ncci-ptp", "edit added", c1, a_label, b_label, c2, "indicator", "", after.indicator)
        elif before is not None and after is None:
            change = Change("ncci-ptp", "edit deleted", c1, a_label, b_label, c2, "indicator", before.indicator, "")
        elif before is not None and after is not None and before.indicator != after.indicator:
            change = Change("ncci-ptp", "indicator changed", c1, a_label, b_label, c2, "indicator",
                            before.indicator, after.indicator)
        if change is not None:
            change.evidence = evidence([r for r in (before, after) if r is not None], lambda r: r.source.file)
            if before is None or after is None:
                shown = releases.pick(found.before if before is None else found.after, rows, lambda r: r.source)
                change.evidence += [e for e in evidence(shown, lambda r: r.source.file) if e not in change.evidence]
            out.rows.append(change)


@from_indexes("ncci-mue")
def compare_mue(ix: Indexes, found: Span, out: Changes, codes: frozenset[str] | None) -> None:
    """Add the MUE values and adjudication indicators that changed between the two sides."""
    a_label, b_label = found.labels
    release_of = ix.release_of

    for code, rows in sorted(ix.mue.items()):
        if codes is not None and code not in codes:
            continue
        before = releases.pick(found.before, rows, release_of)
        after = releases.pick(found.after, rows, release_of)
        where = evidence([*before[:1], *after[:1]], lambda r: release_of(r).file)
        if not before and after:
            out.rows.append(Change("ncci-mue", "MUE added", code, a_label, b_label, "", "units", "",
                                   str(after[0].units), where))
        elif before and not after:
            out.rows.append(Change("ncci-mue", "MUE deleted", code, a_label, b_label, "", "units",
                                   str(before[0].units), "", where))
        elif before and after:
            for name, x, y in (("units", before[0].units, after[0].units), ("adjudication indicator",
                                                                          before[0].mai, after[0].mai)):
                if str(x) != str(y):
                    out.rows.append(Change("ncci-mue", f"{name} changed", code, a_label, b_label, "", name,
                                           str(x), str(y), list(where)))
