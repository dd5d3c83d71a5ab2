"""A HCPCS code the HCPCS file terminates: ``kgraph check`` and FHIR ``$validate-code`` agree.

The code and its termination date are read from the raw CMS HCPCS 2020 record file, without
kgraph (record id column 11 ``3`` a procedure line, TERM DT columns 285-292 as YYYYMMDD): TERM DT
is the last date the code may be reported, so the day after it the code is terminated for both,
and on the date itself it is valid for both (``kgraph.rules.hcpcs``).
"""

from __future__ import annotations

import zipfile
from datetime import date as Date
from datetime import timedelta
from pathlib import Path

import pytest

import kgraph
from kgraph import fhir
from kgraph.check import check

DATA = Path(__file__).resolve().parent.parent / "data"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


def terminated_rows() -> list[tuple[str, Date]]:
    """(code, TERM DT) of every procedure record of the 2020 HCPCS file that has a termination date."""
    with zipfile.ZipFile(DATA / "hcpcs" / "2020-Alpha-Numeric-HCPCS-File.zip") as archive:
        member = next(n for n in archive.namelist() if "ANWEB" in n and n.endswith(".txt"))
        text = archive.read(member).decode("latin-1")
    found = []
    for line in text.splitlines():
        if len(line) > 292 and line[10] == "3" and line[284:292].strip():
            term = line[284:292]
            found.append((line[:5].strip(), Date(int(term[:4]), int(term[4:6]), int(term[6:8]))))
    return found


@pytest.fixture(scope="module")
def store(default_store):
    return kgraph.open(default_store.path)


@pytest.fixture(scope="module")
def row() -> tuple[str, Date]:
    rows = terminated_rows()
    assert len(rows) > 100, "the 2020 HCPCS file keeps hundreds of terminated codes"
    # J1942 (aripiprazole lauroxil) ends on 2019-09-30 in the 2020 file: a code ended mid-year
    return next(r for r in rows if r[0] == "J1942")


def _check_rules(store, code: str, day: Date) -> set[str]:
    result = check(store, {"id": "t", "date": day.isoformat(), "payer": "medicare",
                           "lines": [{"code": code, "diagnoses": ["F20.9"]}]})
    return {f.rule for f in result.findings if f.severity == "error" and code in f.subject}


def test_the_day_after_termination_both_say_terminated(store, row):
    code, term = row
    after = term + timedelta(days=1)
    rules = _check_rules(store, code, after)
    found = fhir.validate_code(store, HCPCS, code, date=after.isoformat())
    verdict = {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in found["parameter"]}
    assert "hcpcs.terminated" in rules
    assert verdict["result"] is False
    assert term.isoformat() in verdict["message"]


def test_on_the_termination_date_both_say_valid(store, row):
    code, term = row
    rules = _check_rules(store, code, term)
    found = fhir.validate_code(store, HCPCS, code, date=term.isoformat())
    verdict = {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in found["parameter"]}
    assert "hcpcs.terminated" not in rules
    assert verdict["result"] is True
