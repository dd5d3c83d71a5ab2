"""What the source readers take from the rules: the values a CMS field may hold, and whether an
edit applies at a file's date (for the plain ``kg:conflictsWith`` / ``kg:addOnTo`` triples).

Kept apart so that ``kgraph.build`` can fingerprint exactly the rule code that shapes what a
reader writes (a change here, in ``icd`` or in the tables makes the next build read the sources
again; a change to how ``kgraph check`` words a finding does not). Input and output are plain
values; nothing here reads files.
"""

from __future__ import annotations

from datetime import date

from kgraph.rules import tables
from kgraph.rules.icd import fy_start  # noqa: F401 - re-exported for the ICD-10-CM reader

#: the tables this module (and ``icd``) reads: ``kgraph.build`` fingerprints them with the readers
TABLES = ("mpfs_status", "mpfs_pctc", "mpfs_indicators", "ncci_indicators", "calendar")


def fee_values(field: str) -> frozenset[str]:
    """The values the PFS record layout defines for a fee-schedule field (``status``, ``pctc``,
    ``globalDays``, ``multProc``, ``bilatSurg``, ``asstSurg``, ``coSurg``, ``teamSurg``)."""
    if field == "status":
        return frozenset(row.status for row in tables.rows("mpfs_status"))
    if field == "pctc":
        return frozenset(row.value for row in tables.rows("mpfs_pctc"))
    return frozenset(row.value for row in tables.rows("mpfs_indicators") if row.field == field)


def fee_columns() -> dict[str, str]:
    """File column name -> field, for the indicators the rules read (``STATUS CODE`` -> ``status``)."""
    found = {"STATUS CODE": "status", "PCTC IND": "pctc"}
    for row in tables.rows("mpfs_indicators"):
        found.setdefault(row.column, row.field)
    return found


def ncci_values(table: str) -> frozenset[str]:
    """The values of an NCCI indicator: ``ptp-modifier`` (0, 1, 9), ``mue-mai`` (1, 2, 3),
    ``addon-type`` (1, 2, 3)."""
    return frozenset(row.value for row in tables.rows("ncci_indicators") if row.table == table)


def never_applies(modifier_indicator: str) -> bool:
    """Whether a PTP modifier indicator marks an edit that never applied (9)."""
    return modifier_indicator in tables.derived("never-applies", lambda: frozenset(
        row.value for row in tables.rows("ncci_indicators") if row.table == "ptp-modifier" and row.applies == "no"))


def applies(effective: date | None, deletion: date | None, modifier_indicator: str, day: date | None) -> bool:
    """Whether an edit with these dates (a missing date is open) and indicator applies on ``day``.

    >>> applies(date(2022, 1, 1), date(2022, 1, 1), "9", date(2022, 1, 1))
    False
    >>> applies(date(2018, 7, 1), date(2026, 6, 30), "1", date(2025, 10, 1))
    True
    """
    if day is None or (modifier_indicator and never_applies(modifier_indicator)):
        return False
    if effective is not None and day < effective:
        return False
    return deletion is None or day <= deletion
