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

from kgraph.changes.model import Change, Changes, begin
from kgraph.indexes import load_indexes
from kgraph.rules import releases
from kgraph.rules.rows import FEE_FIELDS

#: FeeScheduleRow field -> the column name of the CMS file
NAMES = {"status": "STATUS CODE", "pctc": "PCTC IND", "globalDays": "GLOB DAYS", "multProc": "MULT PROC",
         "bilatSurg": "BILAT SURG", "asstSurg": "ASST SURG", "coSurg": "CO-SURG", "teamSurg": "TEAM SURG",
         "endoBase": "ENDO BASE"}


def compare(store: Any, out: Changes, since: str, until: str | None, codes: frozenset[str] | None) -> None:
    """Add the fee-schedule rows whose status or indicators differ between the two sides."""
    ix = load_indexes(store)
    found = begin(out, "mpfs", ix.source("mpfs"), since, until)
    if found is None:
        return
    a_label, b_label = found.labels

    def release_of(row: Any) -> Any:
        return ix.sources[row.source]

    def where(rows: list[Any]) -> list[str]:
        return [f"{release_of(r).file}:{r.line}" for r in rows]

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
