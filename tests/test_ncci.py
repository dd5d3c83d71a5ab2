"""NCCI readers on the real CMS files (flat PTP, official PTP excerpt, MUE, add-on) and bad fixtures.

Facts checked by hand with ``zcat ... | grep -n`` / ``grep -n`` on the files in ../shared/data/ncci.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from kgraph.records import Code, Meta, Problem, Ref, Row
from kgraph.sources import ncci
from tests.shared import SHARED_DATA, needs_data

SHARED = SHARED_DATA / "ncci"
FIXTURES = Path(__file__).resolve().parent / "data" / "codesets" / "ncci"
PTP = SHARED / "ptp_practitioner_2024-07-01_flat.csv.gz"
OFFICIAL = SHARED / "ccipra-official-layout-excerpt.txt"
MUE = SHARED / "ncci_mue_practitioner_2024-07-01.csv"
MUE_OFFICIAL = SHARED / "mue-official-layout-excerpt.csv"
ADDON = SHARED / "ncci_add_on_code_edits_2024-06.csv"


#: the codes of the seed briefing's Related CPT table, and the subject
BRIEFING = {"CPT:74360", "CPT:43249", "CPT:43254", "CPT:77002", "CPT:77003", "CPT:99070"}


def rows(records):
    return [r for r in records if isinstance(r, Row)]


def problems(records):
    return [r for r in records if isinstance(r, Problem)]


def metas(records):
    return {m.key: m.value for m in records if isinstance(m, Meta)}


def pair(row):
    f = row.field_map()
    return f["column1"].curie, f["column2"].curie


@pytest.fixture(scope="module")
def flat():
    """One pass over the 2.5M-row flat PTP file, keeping counts and the rows tests look at."""
    counts: Counter[str] = Counter()
    codes: list[str] = []
    kept: dict[tuple[str, str], Row] = {}
    other = []
    for record in ncci.read_ptp(PTP, display="ptp.csv.gz"):
        if isinstance(record, Row):
            counts["rows"] += 1
            counts["edges"] += record.edge is not None
            c1, c2 = record.fields[0][1].curie, record.fields[1][1].curie  # type: ignore[union-attr]
            if c1 in BRIEFING or c2 == "CPT:74360":
                kept[(c1, c2)] = record
        elif isinstance(record, Code):
            codes.append(record.curie)
        else:
            other.append(record)
    return counts, codes, kept, other


@pytest.mark.slow  # reads the whole 2.5M-row flat PTP file (15 s)
@needs_data
def test_flat_ptp_counts_every_row_once(flat):
    counts, codes, _, other = flat
    assert counts["rows"] == 2_546_017
    # active rows ('*'): the file is dated 2024-07-01 and every deletion date is <= 2024-06-30
    assert counts["edges"] == 1_669_820
    assert len(codes) == len(set(codes)) == 13_047
    assert problems(other) == []
    assert metas(other) == {"release": "2024-07-01", "effective": "2024-07-01", "layout": "flat"}


@pytest.mark.slow  # reads the whole 2.5M-row flat PTP file (15 s)
@needs_data
def test_flat_ptp_edits_between_the_briefing_codes(flat):
    _, _, kept, _ = flat
    among = {k: r for k, r in kept.items() if k[0] in BRIEFING and k[1] in BRIEFING}
    assert sorted(among) == [("CPT:43249", "CPT:77002"), ("CPT:43254", "CPT:77002"),
                             ("CPT:74360", "CPT:77002"), ("CPT:77002", "CPT:77003")]
    for row in among.values():
        assert row.edge == (pair(row)[0], "conflictsWith", pair(row)[1])
        assert row.field_map()["modifierIndicator"] == "1"
        assert "deletionDate" not in row.field_map()
    s_and_i = among[("CPT:74360", "CPT:77002")]
    assert s_and_i.origin.line == 2_182_698
    assert s_and_i.field_map()["rationale"] == "Misuse of Column Two code with Column One code"
    assert among[("CPT:77002", "CPT:77003")].field_map()["rationale"] == "Mutually exclusive procedures"
    # the briefing's "primary procedure" 43249 has no PTP edit with 74360 in either direction
    assert ("CPT:43249", "CPT:74360") not in kept and ("CPT:74360", "CPT:43249") not in kept


@pytest.mark.slow  # reads the whole 2.5M-row flat PTP file (15 s)
@needs_data
def test_flat_ptp_codes_that_bundle_74360(flat):
    _, _, kept, _ = flat
    column1 = {k[0]: r.field_map()["modifierIndicator"] for k, r in kept.items() if k[1] == "CPT:74360"}
    assert column1 == {"CPT:43213": "0", "CPT:43214": "0", "CPT:43233": "0",
                       "CPT:74328": "1", "CPT:74329": "1", "CPT:74330": "1"}


@pytest.mark.slow  # reads the whole 2.5M-row flat PTP file (15 s)
@needs_data
def test_flat_ptp_deleted_edits_have_a_date_and_no_edge(flat):
    _, _, kept, _ = flat
    deleted = kept[("CPT:74360", "CPT:74000")]
    assert deleted.origin.line == 2_182_692
    assert deleted.field_map()["deletionDate"] == date(2017, 12, 31)
    assert deleted.edge is None
    never = kept[("CPT:74360", "CPT:74363")].field_map()
    assert (never["deletionDate"], never["modifierIndicator"]) == (date(1996, 1, 1), "9")
    assert kept[("CPT:74360", "CPT:74363")].edge is None


@needs_data
def test_official_excerpt_edges_at_the_given_release():
    records = list(ncci.read_ptp(OFFICIAL, display="ccipra.txt", release="2025-10-01"))
    assert problems(records) == []
    assert metas(records) == {"release": "2025-10-01", "effective": "2025-10-01", "layout": "official",
                              "notice": "CPT only copyright 2025 American Medical Association.  All rights reserved."}
    found = rows(records)
    assert len(found) == 21 and found[0].origin.line == 7 and found[-1].origin.line == 27
    in_effect = sorted(pair(r)[1] for r in found if r.edge)
    # active ('*') 0001U edits, and 0029U whose deletion 2026-06-30 is after the release
    assert in_effect == ["CPT:0029U", "CPT:0030U", "CPT:0046U", "CPT:0417U", "CPT:80503", "CPT:81105"]
    ended = next(r for r in found if pair(r) == ("CPT:0001U", "CPT:0428U")).field_map()
    assert (ended["effectiveDate"], ended["deletionDate"]) == (date(2024, 10, 1), date(2024, 12, 31))


@needs_data
def test_official_excerpt_same_day_indicator_9_edit_never_applies():
    found = rows(ncci.read_ptp(OFFICIAL, release="2022-01-01"))
    by_pair = {pair(r): r for r in found}
    never = by_pair[("CPT:0001A", "CPT:90473")]
    assert never.origin.line == 10
    f = never.field_map()
    assert (f["effectiveDate"], f["deletionDate"], f["modifierIndicator"]) == (date(2022, 1, 1), date(2022, 1, 1), "9")
    assert never.edge is None
    # the same column 1 with a real date range is in effect on that day
    assert by_pair[("CPT:0001A", "CPT:0591T")].edge == ("CPT:0001A", "conflictsWith", "CPT:0591T")


@needs_data
def test_official_excerpt_without_a_date_warns_and_writes_no_edges():
    records = list(ncci.read_ptp(OFFICIAL, display="ccipra.txt"))
    (warning,) = problems(records)
    assert str(warning) == ("ccipra.txt: the file's date is unknown (the official layout does not state it and the "
                            "file name has none): pass release=YYYY-MM-DD; rows are kept, but no kg:conflictsWith "
                            "edges are written")
    assert warning.severity == "warning" and not warning.fatal
    assert len(rows(records)) == 21 and not any(r.edge for r in rows(records))


def test_release_argument_decides_what_is_in_effect():
    found = rows(ncci.read_ptp(FIXTURES / "ptp-bad-indicator.csv", release="2010-01-01"))
    deleted = next(r for r in found if pair(r)[1] == "CPT:74000")
    assert deleted.edge == ("CPT:74360", "conflictsWith", "CPT:74000")  # deleted 2017-12-31, so in effect in 2010


def test_error_nucc_csv_given_as_ptp():
    (problem,) = ncci.read_ptp(FIXTURES / "nucc-as-ptp.csv", display="nucc-as-ptp.csv")
    assert str(problem) == (
        "nucc-as-ptp.csv:1: not an NCCI PTP file: expected the flat CSV header "
        "'col1,col2,deletion_date,modifier_indicator,rationale' on line 1 or the official tab-delimited "
        "header 'Column 1<TAB>Column 2<TAB>...'; found 'Code,Grouping,Classification,Specialization,"
        "Definition,Notes,Display Name,Sectio...' (file refused)")


def test_error_impossible_date():
    records = list(ncci.read_ptp(FIXTURES / "ptp-impossible-date.txt", display="bad.txt", release="2024-07-01"))
    (problem,) = problems(records)
    assert str(problem) == ("bad.txt:8: CPT:74360: column 2 CPT:77002: impossible effective date '20241332' "
                            "(expected YYYYMMDD) (row skipped)")
    kept = rows(records)
    assert [r.origin.line for r in kept] == [7, 9]
    assert kept[1].field_map()["pre1996"] == "true"


def test_error_date_in_other_digits_is_impossible(tmp_path):
    # int() reads Arabic-Indic digits; a date must be written in ASCII digits like the CMS files
    text = (FIXTURES / "ptp-impossible-date.txt").read_text(encoding="utf-8").replace("20241332", "٢٠٢٤٠٧٠١")
    bad = tmp_path / "ptp.txt"
    bad.write_text(text, encoding="utf-8")
    records = list(ncci.read_ptp(bad, display="bad.txt", release="2024-07-01"))
    (problem,) = problems(records)
    assert str(problem).startswith("bad.txt:8: CPT:74360: column 2 CPT:77002: impossible effective date '٢٠٢٤٠٧٠١'")
    assert ncci.parse_date("٢٠٢٤-٠٧-٠١") is None and ncci.parse_date("2024-07-01") is not None


def test_error_bad_modifier_indicator():
    records = list(ncci.read_ptp(FIXTURES / "ptp-bad-indicator.csv", display="bad.csv", release="2024-07-01"))
    (problem,) = problems(records)
    assert str(problem) == ("bad.csv:3: CPT:74360: column 2 CPT:77001: modifier indicator '2' is not 0, 1 or 9 "
                            "(row skipped)")
    assert [r.origin.line for r in rows(records)] == [2, 4]


def test_error_truncated_gzip():
    name = "ptp-truncated_2024-07-01_flat.csv.gz"
    records = list(ncci.read_ptp(FIXTURES / name, display=name))
    last = records[-1]
    assert str(last) == (f"{name}:1468: gzip data truncated or corrupt after line 1467: Compressed file ended "
                         "before the end-of-stream marker was reached; the file is incomplete, download it "
                         "again (file refused)")
    assert last.fatal and len(rows(records)) == 1466


def test_error_mue_negative_units():
    records = list(ncci.read_mue(FIXTURES / "mue-negative-units.csv", display="mue.csv"))
    skipped = [p for p in problems(records) if p.action == "row skipped"]
    assert [str(p) for p in skipped] == [
        "mue.csv:3: CPT:77002: units '-1' must be a whole number, 0 or more (row skipped)"]
    assert [(r.field_map()["procedure"], r.field_map()["units"]) for r in rows(records)] == [
        (Ref("CPT:74360"), 1), (Ref("CPT:99070"), 0)]


@needs_data
def test_mue_flat_file():
    records = list(ncci.read_mue(MUE, display="mue.csv"))
    assert problems(records) == []
    assert metas(records) == {"release": "2024-07-01", "effective": "2024-07-01", "layout": "flat"}
    found = {r.field_map()["procedure"].curie: r for r in rows(records)}  # type: ignore[union-attr]
    assert len(rows(records)) == len(found) == 14_677
    s_and_i = found["CPT:74360"]
    assert s_and_i.origin.line == 6935
    assert s_and_i.fields[1:] == (("units", 1), ("adjudicationIndicator", "3"),
                                  ("rationale", "Code Descriptor / CPT Instruction"))
    assert found["CPT:99070"].field_map()["units"] == 0  # never payable, kept
    assert Counter(r.field_map()["adjudicationIndicator"] for r in found.values()) == {"3": 9479, "2": 5157, "1": 41}


@needs_data
def test_mue_official_layout_lines_and_indicator():
    records = list(ncci.read_mue(MUE_OFFICIAL, display="mue-official.csv"))
    found = rows(records)
    assert [r.origin.line for r in found] == [10, 11, 12, 13, 14, 15]
    first = found[0].field_map()
    assert (first["procedure"], first["units"], first["adjudicationIndicator"]) == (Ref("CPT:0001U"), 1, "2")
    assert found[1].field_map()["adjudicationIndicator"] == "3"
    meta = metas(records)
    assert meta["layout"] == "official"
    assert meta["notice"].startswith("Current Procedural Terminology (CPT) codes, descriptions and other data only "
                                     "are copyright 2025 American Medical Association.")
    (warning,) = problems(records)
    assert warning.severity == "warning"


@needs_data
def test_addon_file():
    records = list(ncci.read_addon(ADDON, display="aoc.csv"))
    assert problems(records) == []
    assert metas(records) == {"release": "2024-06", "layout": "flat"}
    found = rows(records)
    assert len(found) == 7_465
    no_primary = [r for r in found if "primary" not in r.field_map()]
    assert len(no_primary) == 44 and all(r.edge is None for r in no_primary)
    assert Counter(r.field_map()["editType"] for r in no_primary) == {"2": 36, "3": 8}
    assert sum(r.edge is not None for r in found) == 7_421
    codes = [c.curie for c in records if isinstance(c, Code)]
    assert len(codes) == len(set(codes)) == 3_134
    assert not any("CCCCC" in c for c in codes)
    fluoro = next(r for r in found if r.origin.line == 5678)
    assert fluoro.edge == ("CPT:77002", "addOnTo", "CPT:10160")
    assert fluoro.field_map()["editType"] == "1"


def test_addon_dates_decide_edges_and_impossible_dates_are_skipped():
    records = list(ncci.read_addon(FIXTURES / "addon-with-dates.csv", display="aoc.csv", release="2024-06-01"))
    assert [(r.origin.line, r.edge) for r in rows(records)] == [
        (2, ("CPT:77002", "addOnTo", "CPT:10160")), (3, None), (4, None)]
    assert rows(records)[2].field_map()["deletionDate"] == date(2023, 12, 31)
    (problem,) = problems(records)
    assert str(problem) == ("aoc.csv:5: CPT:43254: primary CPT:43249: impossible effective date '20241301' "
                            "(expected YYYYMMDD, YYYY-MM-DD or MM/DD/YYYY) (row skipped)")
