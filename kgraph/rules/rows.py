"""The small typed rows the rules read: one code-set row each, as ``kgraph.indexes`` keeps them.

A row names the loaded release it comes from (``PTPRow.source`` is the ``Release`` itself; the
compact rows hold its index in ``Indexes.sources``) and its 1-based line in that file, so every
finding can point at the raw CMS row. Codes are CURIEs (``CPT:74360``), dates ``datetime.date``
(``AddOnRow`` keeps proleptic ordinals, 0 for none, to stay small in the pickled index).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from kgraph.rules.releases import Release


@dataclass(frozen=True, slots=True)
class PTPRow:
    """One NCCI PTP edit row: column 2 is denied when billed with column 1."""

    column1: str
    column2: str
    indicator: str
    effective: date | None
    deletion: date | None
    rationale: str
    source: Release
    line: int


class MUERow(NamedTuple):
    """One MUE row: the most units of a code per line or per date, by adjudication indicator."""

    units: int
    mai: str
    rationale: str
    source: int
    line: int


class AddOnRow(NamedTuple):
    """One add-on code edit row: the add-on code's primary (None when CMS lists none) and type."""

    primary: str | None
    edit_type: str
    effective: int
    deletion: int
    source: int
    line: int


#: the fee-schedule fields a ``FeeRow`` keeps, in its order
FEE_FIELDS = ("status", "pctc", "globalDays", "multProc", "bilatSurg", "asstSurg", "coSurg", "teamSurg", "endoBase")


class FeeRow(NamedTuple):
    """One row of the physician fee schedule relative value file (a code, or a code with 26 / TC /
    53), with the indicators the rules read."""

    status: str
    pctc: str
    globalDays: str  # noqa: N815 - the FeeScheduleRow field names
    multProc: str  # noqa: N815
    bilatSurg: str  # noqa: N815
    asstSurg: str  # noqa: N815
    coSurg: str  # noqa: N815
    teamSurg: str  # noqa: N815
    endoBase: str  # noqa: N815
    source: int
    line: int

    def fields(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FEE_FIELDS}
