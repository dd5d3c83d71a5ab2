"""The NUCC taxonomy reader on every published release, the CMS specialty crosswalk, and bad input."""

from __future__ import annotations

import shutil
import tarfile
from collections import Counter
from datetime import date

import pytest

from kgraph.records import Code, Edge, Fact, Gap, Meta, Problem
from kgraph.sources import crosswalk, nucc
from tests.shared import SHARED_DATA, needs_data

from .conftest import TESTDATA

SHARED = SHARED_DATA / "nucc"
FIXTURES = TESTDATA / "codesets" / "nucc"


def codes(records):
    return {r.curie: r for r in records if isinstance(r, Code)}


def metas(records):
    return {r.key: r.value for r in records if isinstance(r, Meta)}


def problems(records):
    return [r for r in records if isinstance(r, Problem)]


def broader(records):
    return {e.subject: e.object for e in records if isinstance(e, Edge) and e.relation == "skos:broader"}


@pytest.fixture(scope="module")
def v251():
    return list(nucc.read(SHARED / "nucc_taxonomy_251.csv", display="nucc_taxonomy_251.csv"))


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """Every release of the all-versions archive, extracted next to a copy of nucc_file_info.csv."""
    where = tmp_path_factory.mktemp("nucc")
    with tarfile.open(SHARED / "nucc_taxonomy_all_versions_v9.0-v25.1.tar.xz") as tar:
        tar.extractall(where, filter="data")
    shutil.copy(SHARED / "nucc_file_info.csv", where)
    out = {}
    for path in where.glob("nucc_taxonomy_*.csv"):
        release = nucc.release_of(path)
        out[tuple(int(p) for p in release.split("."))] = list(nucc.read(path))
    return dict(sorted(out.items()))


@pytest.fixture(scope="module")
def xwalk():
    path = SHARED / "cms_medicare_specialty_taxonomy_crosswalk_2025-01-02.csv"
    return list(crosswalk.read(path, display="crosswalk.csv"))


# --- v25.1 -------------------------------------------------------------------------------------


@needs_data
def test_v251_has_883_codes_and_no_problems(v251):
    assert problems(v251) == []
    assert len(codes(v251)) == 883
    assert metas(v251)["release"] == "25.1"
    assert metas(v251)["effective"] == "2025-07-01"  # nucc_file_info.csv release_date
    assert metas(v251)["notice"] == nucc.NUCC_NOTICE  # the v25.1 CSV carries no notice of its own


@needs_data
def test_v251_official_names(v251):
    found = codes(v251)
    gastro = found["NUCC:207RG0100X"]
    assert gastro.label == "Gastroenterology Physician"
    props = dict(gastro.props)
    assert (props["classification"], props["specialization"]) == ("Internal Medicine", "Gastroenterology")
    assert props["grouping"] == "Allopathic & Osteopathic Physicians"
    assert props["taxonomySection"] == "Individual"
    assert broader(v251)["NUCC:207RG0100X"] == "NUCC:207R00000X"
    # a briefing calls 208800000X "Surgery - General": the official name says otherwise
    assert found["NUCC:208800000X"].label == "Urology Physician"
    assert dict(found["NUCC:208800000X"].props)["classification"] == "Urology"
    assert found["NUCC:363L00000X"].label == "Nurse Practitioner"
    assert found["NUCC:207L00000X"].label == "Anesthesiology Physician"
    assert found["NUCC:207RG0100X"].origin.line == 57  # grep -n ^207RG0100X nucc_taxonomy_251.csv


@needs_data
def test_v251_hierarchy_follows_classification_not_code_prefix(v251):
    parents = broader(v251)
    # 207QB0505X is Diabetology under Internal Medicine although its code starts like Family Medicine
    assert parents["NUCC:207QB0505X"] == "NUCC:207R00000X"
    # 125Q00000X (Oral Medicine) ends in 00000X but is a specialization of Dentist
    assert parents["NUCC:125Q00000X"] == "NUCC:122300000X"
    # Medical Genetics has no classification-level code: no edge rather than a made-up parent
    assert "NUCC:207SG0201X" not in parents and "NUCC:207S00000X" not in codes(v251)
    assert all(e.statement is False for e in v251 if isinstance(e, Edge))


@needs_data
def test_v251_inactive_codes_carry_the_date_from_their_notes(v251):
    inactive = {f.subject: f.value for f in v251 if isinstance(f, Fact) and f.property == "markedInactive"}
    assert inactive["NUCC:1835G0000X"] == date(2006, 1, 1)  # "[1/1/2006: marked inactive, use value 183500000X]"
    assert inactive["NUCC:246ZB0500X"] == date(2025, 1, 1)  # "1/1/2025: marked inactive" without brackets
    assert "NUCC:207RG0100X" not in inactive


# --- all 34 releases ---------------------------------------------------------------------------


@needs_data
def test_every_release_reads_without_problems(releases):
    assert len(releases) == 34
    counts = []
    for version, records in releases.items():
        assert problems(records) == [], version
        found = codes(records)
        assert 800 <= len(found) <= 900, version
        counts.append(len(found))
        assert metas(records)["release"] == f"{version[0]}.{version[1]}"
    assert counts == sorted(counts)  # the code set only grows (inactive codes stay listed)
    assert counts[0] == 809 and counts[-1] == 883  # v9.0, v25.1 (one header, one copyright row in v9.0)


@needs_data
def test_every_release_layout_is_recognised(releases):
    for version, records in releases.items():
        layout = metas(records)["layout"]
        assert ("Type" in layout.split(", ")) == (version < (16, 0)), version
        assert ("Display Name" in layout) == (version >= (21, 0)), version
        gastro = codes(records)["NUCC:207RG0100X"]
        props = dict(gastro.props)
        assert props["grouping"] == "Allopathic & Osteopathic Physicians", version  # read from Type before v16.0
        expected = "Gastroenterology Physician" if version >= (21, 0) else "Internal Medicine, Gastroenterology"
        assert gastro.label == expected, version
        assert broader(records)["NUCC:207RG0100X"] == "NUCC:207R00000X", version


@needs_data
def test_old_releases_decode_windows_1252_and_keep_their_notice(releases):
    v9 = releases[(9, 0)]
    assert metas(v9)["layout"].endswith("windows-1252; 811 trailing NUL bytes ignored")
    assert metas(v9)["notice"].startswith("Copyright 2009 American Medical Association. This material, including")
    assert metas(v9)["effective"] == "2009-01-01"
    assert "NUCC:Copyright" not in codes(v9)
    counselor = codes(v9)["NUCC:101Y00000X"]
    assert counselor.origin.line == 3  # header, copyright row, then the first code
    assert "utf-8" in metas(releases[(25, 1)])["layout"]
    assert "windows-1252" in metas(releases[(23, 1)])["layout"]  # "42 CFR \xa7 400" in a Definition


# --- fixtures ----------------------------------------------------------------------------------


def test_old_layout_fixture_cp1252_multiline_and_copyright_row():
    records = list(nucc.read(FIXTURES / "layout-v9-cp1252.csv", display="fx.csv", release="9.0"))
    assert problems(records) == []
    found = codes(records)
    assert [c.origin.line for c in found.values()] == [3, 6, 7, 8, 9, 10]  # 207R00000X spans lines 3-5
    assert found["NUCC:207RG0100X"].label == "Internal Medicine, Gastroenterology"
    info = metas(records)
    assert info["release"] == "9.0" and "effective" not in info  # no nucc_file_info.csv in the fixture folder
    assert info["notice"].endswith("the code set is the AMA\u2019s, on behalf of the NUCC.")
    assert info["layout"] == (
        "NUCC taxonomy CSV: Code, Type, Classification, Specialization, Definition, Notes; windows-1252"
    )
    assert broader(records) == {"NUCC:207RG0100X": "NUCC:207R00000X", "NUCC:1835G0000X": "NUCC:183500000X"}


def test_error_bad_code_row_is_skipped():
    records = list(nucc.read(FIXTURES / "bad-code.csv", display="bad-code.csv"))
    (problem,) = problems(records)
    assert str(problem) == (
        "bad-code.csv:4: taxonomy code '207RG010X' does not fit the NUCC pattern "
        "(3 digits, 6 digits or capital letters, then X) (row skipped)"
    )
    assert sorted(codes(records)) == ["NUCC:207R00000X", "NUCC:363L00000X"]
    assert codes(records)["NUCC:363L00000X"].origin.line == 5


def test_error_ptp_file_given_as_nucc_is_refused():
    records = list(nucc.read(FIXTURES / "ptp-layout.csv", display="ptp.csv"))
    assert len(records) == 1
    assert records[0].fatal
    assert str(records[0]) == (
        "ptp.csv:1: not a NUCC taxonomy file: expected a header with Code, Grouping "
        "(or Type), Classification, Specialization; found col1, col2, deletion_date, "
        "modifier_indicator, rationale (file refused)"
    )


# --- CMS Medicare specialty crosswalk -----------------------------------------------------------


@needs_data
def test_crosswalk_specialties_and_edges(xwalk):
    found = codes(xwalk)
    assert len(found) == 130
    assert metas(xwalk)["release"] == "2025-01-02"
    edges = [e for e in xwalk if isinstance(e, Edge)]
    assert len(edges) == 556  # 561 rows, 4 without a taxonomy code, 1 miscoded row skipped
    assert {e.relation for e in edges} == {"crosswalksTo"}
    general_surgery = {e.object for e in edges if e.subject == "MSPEC:02"}
    assert "NUCC:208600000X" in general_surgery and len(general_surgery) == 25  # grep -c "^02," = 25
    assert found["MSPEC:02"].label == "Physician/General Surgery"
    assert found["MSPEC:30"].label == "Physician/Diagnostic Radiology"
    # lines 279-282 are one row: its quoted taxonomy cell is "224P00000X" and two line breaks
    prosthetist = [e for e in edges if e.subject == "MSPEC:56"]
    assert [(e.object, e.origin.line) for e in prosthetist] == [("NUCC:224P00000X", 279), ("NUCC:229N00000X", 283)]
    assert found["MSPEC:57"].origin.line == 284


@needs_data
def test_crosswalk_footnotes_removed_and_codes_fit_mspec(xwalk, v251):
    found = codes(xwalk)
    assert "MSPEC:A0" in found and not any("[" in c for c in found)
    hospital = [v for k, v in found["MSPEC:A0"].props if k == "medicareProviderType"]
    assert len(hospital) == 14 and "Critical Access Hospital" in hospital
    notes = [p for p in problems(xwalk) if p.severity == "info"]
    assert len(notes) == 14  # markers [1]..[14]
    assert str(notes[6]) == (
        "crosswalk.csv:475: footnote marker [7] removed from 'A0[7]'; the footnote text is not in the file"
    )
    # every taxonomy the crosswalk names is a code of NUCC v25.1
    assert {e.object for e in xwalk if isinstance(e, Edge)} <= set(codes(v251))


@needs_data
def test_crosswalk_rows_without_taxonomy_are_gaps(xwalk):
    gaps = {g.subject: g for g in xwalk if isinstance(g, Gap)}
    assert sorted(gaps) == ["MSPEC:73", "MSPEC:88", "MSPEC:95", "MSPEC:C9"]
    assert gaps["MSPEC:73"].field == "crosswalksTo" and gaps["MSPEC:73"].origin.line == 375


@needs_data
def test_error_crosswalk_miscoded_row(xwalk):
    errors = [p for p in problems(xwalk) if p.severity == "error"]
    assert [str(p) for p in errors] == [
        "crosswalk.csv:118: MSPEC:19: description 'Physician/Ophthalmology' is that of specialty 18, while 19 is "
        "'Oral Surgery (Dentist only)' (line 123); probably a miscoded row (row skipped)"
    ]
    assert codes(xwalk)["MSPEC:19"].label == "Oral Surgery (Dentist only)"
    assert Counter(e.subject for e in xwalk if isinstance(e, Edge))["MSPEC:19"] == 1


def test_error_nucc_file_given_as_crosswalk_is_refused():
    records = list(crosswalk.read(FIXTURES / "bad-code.csv", display="x.csv"))
    assert [str(r) for r in records] == [
        "x.csv:1: not a Medicare specialty crosswalk: expected a header with MEDICARE SPECIALTY CODE, MEDICARE "
        "PROVIDER/SUPPLIER TYPE DESCRIPTION, PROVIDER TAXONOMY CODE; found Code, Grouping, Classification, "
        "Specialization, Definition, Notes, Display Name, Section (file refused)"
    ]
