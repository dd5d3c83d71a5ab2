"""Fee-schedule changes between two releases of the relative value file (PPRRVU): status and
payment-policy indicators (PC/TC, global days, multiple procedure, bilateral, assistant, co- and
team surgery, endoscopic base) changed, rows added or deleted.

Input: an open store (its claim-check indexes: every ``FeeScheduleRow`` with its release and
line) and the ``--since`` / ``--until`` values. Which release answers on each side is
``kgraph.rules.releases``; what a status or indicator means is ``kgraph.rules.fee`` (named in
the row's ``after`` text). Output: ``Change`` rows, ``other`` the row's modifier (``MOD:26``)
when it has one; a note when one release is loaded. Does not compare RVUs or amounts (not read).
"""

from __future__ import annotations

from typing import Any

from kgraph.changes.model import Change, Changes, Span, evidence, from_indexes
from kgraph.indexes import Indexes
from kgraph.rules import releases
from kgraph.rules.rows import FEE_FIELDS

#: FeeScheduleRow field -> the column name of the CMS file
NAMES = {"status": "STATUS CODE", "pctc": "PCTC IND", "globalDays": "GLOB DAYS", "multProc": "MULT PROC",
         "bilatSurg": "BILAT SURG", "asstSurg": "ASST SURG", "coSurg": "CO-SURG", "teamSurg": "TEAM SURG",
         "endoBase": "ENDO BASE"}


@from_indexes("mpfs")
def compare(ix: Indexes, found: Span, out: Changes, codes: frozenset[str] | None) -> None:
    """Add the fee-schedule rows whose status or indicators differ between the two sides."""
    a_label, b_label = found.labels
    release_of = ix.release_of

    def where(rows: list[Any]) -> list[str]:
        return evidence(rows, lambda r: release_of(r).file)

    for code, by_modifier in sorted(ix.fee.items()):
        if codes is not None and code not in codes:
            continue
        for modifier, rows in sorted(by_modifier.items()):
            before = releases.pick(found.before, rows, release_of)
            after = releases.pick(found.after, rows, release_of)
            other = f"MOD:{modifier}" if modifier else ""
            if not before and after:
                out.rows.append(Change("mpfs", "row added", code, a_label, b_label, other, NAMES["status"], "",
                                       after[0].status, where(after[:1])))
            elif before and not after:
                out.rows.append(Change("mpfs", "row deleted", code, a_label, b_label, other, NAMES["status"],
                                       before[0].status, "", where(before[:1])))
            elif before and after:
                old, new = before[0].fields(), after[0].fields()
                for name in FEE_FIELDS:
                    if old[name] != new[name]:
                        what = "status changed" if name == "status" else "indicator changed"
                        out.rows.append(Change("mpfs", what, code, a_label, b_label, other, NAMES[name], old[name],
                                               new[name], where([before[0], after[0]])))
