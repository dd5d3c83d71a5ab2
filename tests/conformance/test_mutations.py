"""Every row of the rules' tables is held by at least one conformance case: changing the row (its
decision, not its wording or source) makes a case fail.

Each table's mutation changes what the row decides: a severity to another one, a yes/no to its
opposite, a modifier's class to one that bypasses differently, a cadence or a date; a row of a
lookup table (code ranges, payment systems, exclusive pairs) is removed. ``rules.csv`` rows of
``kgraph validate`` only are not claim rules, so no claim case can hold them; they are listed in
``NOT_CLAIM_RULES`` and the README rule-table test covers their text.
"""

from __future__ import annotations

from typing import Any

import pytest

from kgraph.rules import tables
from tests.conformance.conftest import Stores
from tests.conformance.test_conformance import CASES, run

_SEVERITY = {"": "error", "error": "warning", "warning": "info", "info": "error"}
_CLASS = {"anatomic": "distinct", "em": "distinct", "hospital-em": "distinct", "global-surgery": "anesthesia",
          "distinct": "anesthesia", "lab-repeat": "anesthesia", "anesthesia": "distinct"}
_APPLIES_ON = {"either": "em-line", "em-line": "either", "different-sites": "either", "anesthesia-code": "either"}
_CADENCE = {"quarter": "none", "year": "none", "half-year": "none", "fiscal-year": "quarter", "none": "quarter"}
_FLIP = {"yes": "no", "no": "yes", "line": "date", "date": "line"}


def _calendar(row: Any) -> Any:
    if row.name == "icd10cm-start":
        return row._replace(value="2015-10-02")
    return row._replace(value="11-01")


#: table -> how a row is changed (None: the row is removed)
MUTATIONS: dict[str, Any] = {
    "mpfs_status": lambda r: r._replace(severity=_SEVERITY[r.severity]),
    "mpfs_payment_systems": None,
    "mpfs_pctc": lambda r: r._replace(allows_26=_FLIP[r.allows_26], allows_tc=_FLIP[r.allows_tc]),
    "mpfs_indicators": lambda r: r._replace(allowed=_FLIP[r.allowed], severity=_SEVERITY[r.severity]),
    "ncci_indicators": lambda r: r._replace(severity=_SEVERITY[r.severity], detail=_FLIP.get(r.detail, "yes"),
                                            applies=_FLIP[r.applies], validate_severity=_SEVERITY[r.validate_severity]),
    "modifiers": lambda r: r._replace(modifier_class=_CLASS[r.modifier_class]),
    "modifier_classes": lambda r: r._replace(ncci_associated=_FLIP[r.ncci_associated],
                                             applies_on=_APPLIES_ON[r.applies_on], with_em=_FLIP[r.with_em]),
    "code_ranges": None,
    "modifier_exclusive": None,
    "families": lambda r: r._replace(cadence=_CADENCE[r.cadence],
                                     outside_severity="warning" if r.outside_severity == "info" else "info",
                                     dated_layouts="" if r.dated_layouts else "official",
                                     in_check_versions=_FLIP[r.in_check_versions]),
    "calendar": _calendar,
    "rules": lambda r: r._replace(severity="none"),
}
#: rows of rules.csv that name a rule of kgraph validate only
NOT_CLAIM_RULES = {"code.unchecked", "icd10cm.description-mismatch", "nucc.name-mismatch",
                   "modifier.description-mismatch", "ncci.bundled", "shacl.violation"}


def test_every_table_has_a_mutation() -> None:
    assert set(MUTATIONS) == set(tables.names())


def _rows(name: str) -> list[tuple[int, Any]]:
    out = []
    for i, row in enumerate(tables.rows(name)):
        if name == "rules" and ("check" not in row.command.split() or row.id in NOT_CLAIM_RULES):
            continue
        out.append((i, row))
    return out


def _fails(stores: Stores) -> str | None:
    """The id of the first case that no longer conforms (or raises), else None."""
    for case in CASES:
        try:
            if run(case, stores):
                return case.id
        except Exception as exc:  # noqa: BLE001 - a mutated table may break a check: that is caught too
            return f"{case.id} ({type(exc).__name__})"
    return None


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_changing_any_row_makes_a_case_fail(name: str, stores: Stores) -> None:
    stores["real"], stores["written"]
    assert _fails(stores) is None, "the suite must pass before mutating"
    mutate = MUTATIONS[name]
    original = list(tables.rows(name))
    survived = []
    for i, row in _rows(name):
        changed = original[:i] + original[i + 1:] if mutate is None else \
            original[:i] + [mutate(row)] + original[i + 1:]
        with tables.replaced(name, changed):
            if _fails(stores) is None:
                survived.append(f"row {i + 2} {tuple(row)[:3]}")
    assert not survived, f"tables/{name}.csv: changing these rows makes no case fail: {survived}"
