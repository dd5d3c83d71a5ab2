"""Fee schedule relative value file reader on the real October 2025 file, the modifier rules, and bad
fixtures. Facts checked by hand with ``grep -n '^74360,' PPRRVU2025_Oct_nodesc.csv`` and friends."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kgraph.records import Code, Meta, Problem, Ref, Row
from kgraph.sources import mpfs
from tests.shared import SHARED_DATA, needs_data

SHARED = SHARED_DATA / "mpfs"
FIXTURES = Path(__file__).resolve().parent / "data" / "codesets" / "mpfs"
RVU = SHARED / "PPRRVU2025_Oct_nodesc.csv"


#: every modifier the seed briefing's modifier table lists for CPT 74360
BRIEFING_MODIFIERS = ("26", "59", "78", "79", "52", "53", "22", "62", "80", "81", "AS", "QK", "QX", "QY", "TC")


@pytest.fixture(scope="module")
def records():
    return list(mpfs.read(RVU, display="PPRRVU2025_Oct_nodesc.csv"))


@pytest.fixture(scope="module")
def by_code(records):
    """code CURIE -> {modifier ('' for the global row): Row}"""
    found: dict[str, dict[str, Row]] = {}
    for r in records:
        if isinstance(r, Row):
            f = r.field_map()
            mod = f["modifier"].curie[4:] if "modifier" in f else ""  # type: ignore[union-attr]
            found.setdefault(f["procedure"].curie, {})[mod] = r  # type: ignore[union-attr]
    return found


def verdicts(by_code, curie):
    rows = by_code[curie]
    return mpfs.modifier_verdicts(rows[""].field_map(), has_26_row="26" in rows, has_tc_row="TC" in rows)


@needs_data
def test_whole_file(records, by_code):
    assert [p for p in records if isinstance(p, Problem)] == []
    assert sum(isinstance(r, Row) for r in records) == 19_090
    codes = [c.curie for c in records if isinstance(c, Code)]
    assert len(codes) == len(set(codes))
    assert len(by_code) == 16_852
    assert sorted(c for c in codes if c.startswith("MOD:")) == ["MOD:26", "MOD:53", "MOD:TC"]
    # CDT dental codes fit the HCPCS pattern: 822 codes on 946 rows (62 dental radiographs have 26 and TC rows)
    assert sum(c.startswith("HCPCS:D") for c in codes) == 822
    assert "TC" in by_code["HCPCS:D0210"]
    meta = {m.key: m.value for m in records if isinstance(m, Meta)}
    assert meta["release"] == "2025-10"
    assert meta["notice"].splitlines() == [
        "CPT codes and descriptions only are copyright 2024 American Medical Association. All Rights Reserved. "
        "Applicable FARS/DFARS Apply.",
        "Dental codes (D codes) are copyright 2025/26 American Dental Association. All Rights Reserved."]


@needs_data
def test_74360_rows(by_code):
    rows = by_code["CPT:74360"]
    assert sorted(rows) == ["", "26", "TC"]
    assert (rows[""].origin.line, rows["26"].origin.line, rows["TC"].origin.line) == (8222, 8223, 8224)
    assert rows[""].fields == (("procedure", Ref("CPT:74360")), ("status", "C"), ("pctc", "1"), ("globalDays", "XXX"),
                               ("multProc", "0"), ("bilatSurg", "0"), ("asstSurg", "0"), ("coSurg", "0"),
                               ("teamSurg", "0"))
    assert rows[""].edge is None
    assert rows["26"].field_map()["status"] == "A"  # the professional component is nationally priced
    assert rows["TC"].field_map()["status"] == "C"  # the technical component is contractor priced
    assert rows["26"].edge == ("MOD:26", "modifierFor", "CPT:74360")


@needs_data
def test_codes_with_26_and_tc_rows(by_code):
    both = [c for c, rows in by_code.items() if "26" in rows and "TC" in rows]
    assert len(both) == 1_108
    assert all(rows[""].field_map()["pctc"] == "1" for c, rows in by_code.items() if c in both)
    assert "CPT:77002" in both and "CPT:77003" in both


@needs_data
def test_endoscopy_base_code(by_code):
    egd = by_code["CPT:43249"][""].field_map()
    assert (egd["multProc"], egd["endoBase"], egd["globalDays"], egd["asstSurg"]) == ("3", Ref("CPT:43235"), "000", "1")


@needs_data
def test_verdicts_for_74360_and_the_briefing_modifiers(by_code):
    v = verdicts(by_code, "CPT:74360")
    seen = {m: (v[m].allowed, v[m].severity) for m in BRIEFING_MODIFIERS if m in v}
    assert seen == {
        "26": (True, None), "TC": (True, None),
        "78": (False, "error"), "79": (False, "error"),  # GLOB DAYS XXX
        "62": (False, "error"),  # CO-SURG 0
        "80": (True, "warning"), "81": (True, "warning"), "AS": (True, "warning"),  # ASST SURG 0
        "QK": (False, "error"), "QX": (False, "error"), "QY": (False, "error"),  # not an anesthesia code
    }
    # 59, 52, 53 and 22 are not decided by the fee schedule's indicators
    assert [m for m in BRIEFING_MODIFIERS if m not in v] == ["59", "52", "53", "22"]
    assert v["62"].reason == "CO-SURG 0: co-surgeons not permitted for this procedure"
    assert v["QK"].reason == "QK is an anesthesia modifier; 74360 is not an anesthesia code (00100-01999)"
    assert v["51"].severity == "warning" and v["50"].severity == "warning"  # MULT PROC 0, BILAT SURG 0


@needs_data
def test_verdicts_follow_other_indicator_values(by_code):
    knee = verdicts(by_code, "CPT:27447")  # 090, MULT 2, BILAT 1, ASST 2, CO 1, TEAM 0
    assert {m: (knee[m].allowed, knee[m].severity) for m in ("50", "51", "62", "66", "80", "78", "26")} == {
        "50": (True, None), "51": (True, None), "62": (True, "warning"), "66": (False, "error"),
        "80": (True, None), "78": (True, None), "26": (False, "error")}
    egd = verdicts(by_code, "CPT:43249")
    assert egd["51"].severity == "info" and "43235" in egd["51"].reason
    assert egd["80"].reason == "ASST SURG 1: statutory payment restriction, an assistant at surgery is never paid"
    assert verdicts(by_code, "CPT:00100")["QK"].allowed
    # a lab code priced only as a physician interpretation: a 26 row (PC/TC 6) and no TC
    lab = verdicts(by_code, "CPT:83020")
    assert (lab["26"].allowed, lab["TC"].allowed, lab["TC"].severity) == (True, False, "error")


def test_error_wrong_header():
    (problem,) = mpfs.read(FIXTURES / "wrong-header.csv", display="wrong-header.csv")
    assert str(problem) == (
        "wrong-header.csv:1: not a physician fee schedule relative value file: expected a header row starting "
        "'HCPCS,MOD,DESCRIPTION' within the first 30 lines; found 'HCPCS_CD,MOD_CD,DESC,STATUS,PCTC' on line 1 "
        "(file refused)")


def test_error_indicator_outside_its_set():
    records = list(mpfs.read(FIXTURES / "bad-indicator.csv", display="bad.csv"))
    (problem,) = [p for p in records if isinstance(p, Problem)]
    assert str(problem) == ("bad.csv:14: CPT:77002: PCTC IND 'X' is not one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9; "
                            "MULT PROC '8' is not one of 0, 1, 2, 3, 4, 5, 6, 7, 9 (row skipped)")
    assert [r.origin.line for r in records if isinstance(r, Row)] == [11, 12, 13, 15]
    assert Counter(c.curie for c in records if isinstance(c, Code))["CPT:77002"] == 0
