"""kgraph's billing rules: the one place where what an edit, an indicator, a status or a fiscal
year means is written, with the CMS document it comes from.

Pure functions over small typed rows (``rows``: ``PTPRow``, ``MUERow``, ``AddOnRow``,
``FeeRow``; ``releases.Release``), no store or file access, and code tables as CSV files in
``kgraph/rules/tables/`` whose every row names its CMS source:

* ``releases``: which loaded release answers for a date, per source family (complete releases
  and excerpts; the nearest release when none covers the date); release cadences and labels.
* ``ptp``: NCCI PTP edits in effect, modifier indicators 0 / 1 / 9, bypass by modifier class and
  line. ``units``: MUE (adjudication indicators 1 / 2 / 3) and add-on edit types 1 / 2 / 3.
* ``icd``: ICD-10-CM fiscal years, the ICD-10 start date, valid and billable on a date, mid-year
  releases.
* ``fee``: fee-schedule status codes (and the payment system of a line outside the fee
  schedule), PCTC, MULT PROC, BILAT SURG, ASST SURG, CO-SURG, TEAM SURG and GLOB DAYS.
* ``modifiers``: modifier classes, E/M and anesthesia code ranges, exclusive pairs, how sure an
  unknown modifier is.
* ``registry()``: every rule id with its severity, meaning and source (``kgraph rules``).

``kgraph.check``, ``validate``, ``asof``, ``indexes`` and the readers call these; nothing else
decides a rule (``tests/test_rules_one_place.py`` holds them to it).
"""

from __future__ import annotations

from typing import NamedTuple

from kgraph.rules import tables


class Rule(NamedTuple):
    """A rule as ``kgraph rules`` lists it."""

    id: str
    command: str
    severity: str
    meaning: str
    source: str


def registry() -> list[Rule]:
    """Every rule of ``kgraph check`` and ``kgraph validate``, in the order of ``tables/rules.csv``.

    >>> [r.severity for r in registry() if r.id == "ncci.ptp"]
    ['error']
    """
    return [Rule(r.id, r.command.replace(" ", ", "), r.severity, r.meaning, r.source) for r in tables.rows("rules")]


def severities(rule_id: str, command: str = "check") -> set[str]:
    """The severities a rule may have in a command (from its registry row)."""
    return {s.strip() for r in registry() if r.id == rule_id and command in r.command
            for s in r.severity.split("/")}
