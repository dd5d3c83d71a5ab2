"""The HCPCS Level II reader on the 2020 annual file, the modifier-list reader, and bad input."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date

import pytest

from kgraph.errors import Origin
from kgraph.records import Code, Fact, Meta, Problem
from kgraph.sources import hcpcs, modifiers
from tests.shared import SHARED_DATA, needs_data

from .conftest import TESTDATA

SHARED = SHARED_DATA / "hcpcs"
ZIP = SHARED / "2020-Alpha-Numeric-HCPCS-File.zip"
MODIFIER_CSV = SHARED / "modifiers_cpt_and_hcpcs_2024.csv"
MEMBER = "hcpcs.zip!HCPC2020_ANWEB_w_disclaimer.txt"
FIXTURES = TESTDATA / "codesets" / "hcpcs"


def codes(records):
    return {r.curie: r for r in records if isinstance(r, Code)}


def metas(records):
    return {r.key: r.value for r in records if isinstance(r, Meta)}


def problems(records):
    return [r for r in records if isinstance(r, Problem)]


@pytest.fixture(scope="module")
def hcpcs2020():
    return list(hcpcs.read(ZIP, display="hcpcs.zip"))


@pytest.fixture(scope="module")
def modlist():
    return list(modifiers.read(MODIFIER_CSV, display="modifiers.csv"))


# --- HCPCS 2020 ----------------------------------------------------------------------------------


@needs_data
def test_2020_has_6710_codes_and_369_modifiers(hcpcs2020):
    assert problems(hcpcs2020) == []
    kinds = Counter(c.partition(":")[0] for c in codes(hcpcs2020))
    assert kinds == {"HCPCS": 6710, "MOD": 369}  # record ids 3 and 7 at column 11 (cut -c11 | uniq -c)
    info = metas(hcpcs2020)
    assert info["release"] == "2020"
    assert info["notice"].startswith("Note regarding coverage and payment indicators for codes in CMS\u2019 2020")
    assert info["notice"].endswith("This is neither an indicator of Medicare coverage or non-coverage.")


@needs_data
def test_2020_long_descriptions_are_joined(hcpcs2020):
    found = codes(hcpcs2020)
    bed = found["HCPCS:E0301"]  # lines 2242-2244: a record and two continuation lines
    assert bed.label == (
        "Hospital bed, heavy duty, extra wide, with weight capacity greater than 350 pounds, "
        "but less than or equal to 600 pounds, with any type side rails, without mattress"
    )
    assert bed.origin == Origin(MEMBER, 2242)
    assert dict(bed.props) == {"officialTitle": bed.label, "shortTitle": "Hd hosp bed, 350-600 lbs"}
    ad = found["MOD:AD"]  # lines 20-21
    assert ad.label == "Medical supervision by a physician: more than four concurrent anesthesia procedures"
    assert dict(ad.props)["shortTitle"] == "Md supervision, >4 anes proc"
    # no description keeps a line's padding (runs of spaces inside are the file's own: G9667 has three)
    assert not [c for c, r in found.items() if r.label != r.label.strip() or "    " in r.label]
    assert "being a statin   therapy user or receive" in found["HCPCS:G9667"].label


@needs_data
def test_2020_modifiers(hcpcs2020):
    found = codes(hcpcs2020)
    for mod in ("LT", "RT", "XE", "XS", "XP", "XU", "TC", "GA", "QK"):
        assert dict(found[f"MOD:{mod}"].props)["modifierType"] == "HCPCS", mod
    assert found["MOD:XS"].label.startswith("Separate structure, a service that is distinct")
    assert "MOD:26" not in found and "MOD:59" not in found  # CPT modifiers are not in the HCPCS file
    assert "MOD:P1" in found  # the anesthesia physical-status modifiers are


@needs_data
def test_2020_dates_and_action_codes(hcpcs2020):
    facts = {(f.subject, f.property): f.value for f in hcpcs2020 if isinstance(f, Fact)}
    # G0503 was ended on 2017-12-31 and is still listed in the 2020 file
    assert facts[("HCPCS:G0503", "terminationDate")] == date(2017, 12, 31)
    assert facts[("HCPCS:G0503", "addedDate")] == date(2017, 1, 1)
    assert facts[("HCPCS:A0021", "actionEffectiveDate")] == date(1996, 9, 10)
    assert ("HCPCS:A0021", "terminationDate") not in facts
    actions = Counter(v for (_, p), v in facts.items() if p == "actionCode")
    assert actions == {"N": 6648, "A": 250, "D": 99, "C": 70, "P": 10, "S": 2}  # cut -c293 | sort | uniq -c
    assert sum(1 for (_, p) in facts if p == "terminationDate") == 615


def test_error_truncated_zip_is_refused():
    records = list(hcpcs.read(FIXTURES / "truncated.zip", display="truncated.zip"))
    assert [str(r) for r in records] == [
        "truncated.zip: not a readable zip archive: File is not a zip file (file refused)"
    ]
    assert records[0].fatal


def test_error_continuation_without_record_is_skipped():
    records = list(hcpcs.read(FIXTURES / "orphan-continuation.zip", display="orphan.zip"))
    (problem,) = problems(records)
    assert str(problem) == (
        "orphan.zip!HCPC2020_ANWEB_w_disclaimer.txt:6: continuation line (record id 4) of "
        "'A9270' with no record before it (row skipped)"
    )
    found = codes(records)
    assert sorted(found) == ["HCPCS:A9270", "MOD:A1"]
    assert found["HCPCS:A9270"].label == (
        "Fixture item that Medicare does not cover, described over more than one line"
    )
    assert found["HCPCS:A9270"].origin.line == 8
    assert metas(records)["notice"] == (
        "Fixture disclaimer written for the kgraph tests: Nothing in this file is official text."
    )


def test_error_missing_zip_member_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("README.txt", "no records here")
    records = list(hcpcs.read(path, display="other.zip"))
    assert [str(r) for r in records] == [
        "other.zip: no HCPCS record file (HCPCyyyy_ANWEB*.txt) in the zip; members: README.txt (file refused)"
    ]


# --- modifier list 2024 --------------------------------------------------------------------------


@needs_data
def test_modifier_csv_has_433_rows(modlist):
    assert problems(modlist) == []
    rows = [r for r in modlist if isinstance(r, Code)]
    assert len(rows) == 433
    assert Counter(dict(r.props)["modifierType"] for r in rows) == {"CPT": 49, "HCPCS": 384}
    assert len({r.curie for r in rows}) == 426  # P1-P6 listed as CPT and as HCPCS; KX under two categories
    kx = [dict(r.props)["modifierCategory"] for r in rows if r.curie == "MOD:KX"]
    assert kx == ["General", "Therapy"]
    lt = codes(modlist)["MOD:LT"]
    assert dict(lt.props)["modifierCategory"] == "Anatomic Side of Body"
    assert metas(modlist)["release"] == "2024"


@needs_data
def test_cpt_modifiers_cover_exactly_the_cpt_rows():
    with open(MODIFIER_CSV, newline="", encoding="utf-8") as fh:
        cpt = {row["mod_code"]: row["mod_description"] for row in csv.DictReader(fh) if row["mod_type"] == "CPT"}
    assert set(modifiers.CPT_MODIFIERS) == set(cpt)
    assert len(modifiers.CPT_MODIFIERS) == 49
    assert "TC" not in modifiers.CPT_MODIFIERS  # TC is a HCPCS modifier
    # our own words: no label repeats the AMA descriptor
    assert not [c for c, label in modifiers.CPT_MODIFIERS.items() if label.lower() == cpt[c].lower()]


def test_builtin_cpt_modifiers_have_no_official_titles():
    records = list(modifiers.read_builtin())
    found = codes(records)
    assert len(found) == 49
    assert found["MOD:26"].label == "professional component only"
    assert all(dict(c.props) == {"modifierType": "CPT"} for c in found.values())
    assert metas(records)["release"] == "2024"


def test_error_modifier_row_with_unknown_type():
    records = list(modifiers.read(FIXTURES / "bad-modifier-type.csv", display="mods.csv"))
    assert [str(p) for p in problems(records)] == [
        "mods.csv:3: MOD:26: modifier type 'AMA' is not CPT or HCPCS (row skipped)"
    ]
    assert sorted(codes(records)) == ["MOD:LT", "MOD:RT"]
