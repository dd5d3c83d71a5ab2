"""HCPCS Level II code dates: whether a code the HCPCS file ends is still valid on a date.

Input: a termination date as the HCPCS reader stores it (``kg:terminationDate``, an ISO date
string, or a ``date``; None or "" for a code the file does not end) and a date of service.
Output: a bool. The meaning is CMS's: the HCPCS Level II annual file's record layout defines
TERM DT (columns 285-292, ``kgraph.sources.hcpcs``) as the termination date, the last date the
code may be reported; so a code is terminated on a date strictly after it, and still valid on the
termination date itself (``rules.csv``, ``hcpcs.terminated``). The 2020 file keeps 615 codes and
modifiers ended in earlier years (e.g. J1942, ended 2019-09-30). Reads no file; does not word a
finding (``kgraph.checker_lines`` and ``kgraph.fhir.operations`` do).
"""

from __future__ import annotations

from datetime import date

#: the rule id of a terminated code in ``kgraph check`` (``tables/rules.csv``)
RULE = "hcpcs.terminated"


def terminated(termination: str | date | None, day: date) -> bool:
    """Whether a code whose HCPCS termination date is ``termination`` is ended on ``day``.

    >>> terminated("2019-09-30", date(2019, 9, 30)), terminated("2019-09-30", date(2019, 10, 1))
    (False, True)
    >>> terminated(None, date(2030, 1, 1)), terminated("", date(2030, 1, 1))
    (False, False)
    """
    if not termination:
        return False
    last = termination if isinstance(termination, date) else date.fromisoformat(str(termination)[:10])
    return day > last
