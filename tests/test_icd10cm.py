"""ICD-10-CM readers: the CMS FY2020-FY2026 zips, the CDC tabular XML's Excludes1 notes, bad input.

Facts checked by hand against the real files (``unzip -p cms_YYYY_dx.zip '*order*' | grep``),
see the comments; fixtures are described in tests/data/codesets/icd10cm/README.md.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from kgraph.errors import Origin
from kgraph.records import Code, Edge, Fact, Meta, Problem, Ref, Row
from kgraph.sources import icd10cm, icd10cm_tabular
from kgraph.sources.icd10cm_tabular import covers
from tests.shared import SHARED_DATA, needs_data, require

SHARED = SHARED_DATA / "icd10cm"
FIX = Path("tests/data/codesets/icd10cm")  # the tests run in the project root (conftest)
FYS = list(range(2020, 2027))
M2020 = "icd10cm/cms_2020_dx.zip!2020 Code Descriptions/icd10cm_order_2020.txt"
M2022 = "icd10cm/cms_2022_dx.zip!Code Descriptions/icd10cm_order_2022.txt"
M2026 = "icd10cm/cms_2026_dx.zip!icd10cm_order_2026.txt"
TABULAR = "simple_icd_10_cm/data/icd10c-tabular-April-1-2026.xml"



class History:
    """What the reader said about all seven years, indexed (the 1.4M records are not kept)."""

    def __init__(self) -> None:
        self.codes: dict[str, Code] = {}
        self.parent: dict[str, str] = {}
        self.facts: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.fact_origins: dict[tuple[str, str, int], str] = {}
        self.per_year: Counter[tuple[str, int]] = Counter()
        self.rows: list[Row] = []
        self.metas: dict[str, str] = {}
        self.problems: list[Problem] = []

    def add(self, record: object) -> None:
        if isinstance(record, Fact):
            assert isinstance(record.value, int)
            self.per_year[record.property, record.value] += 1
            self.facts[record.subject, record.property].append(record.value)
            if record.subject in ("ICD10CM:K21.0", "ICD10CM:Q51.20"):
                self.fact_origins[record.subject, record.property, record.value] = str(record.origin)
        elif isinstance(record, Code):
            self.codes[record.curie] = record
        elif isinstance(record, Edge):
            assert record.relation == "skos:broader" and not record.statement
            self.parent[record.subject] = record.object
        elif isinstance(record, Row):
            self.rows.append(record)
        elif isinstance(record, Meta):
            self.metas[record.key] = record.value
        elif isinstance(record, Problem):
            self.problems.append(record)


@pytest.fixture(scope="module")
def history() -> History:
    require(SHARED)
    seen = History()
    for record in icd10cm.read(SHARED, display="icd10cm"):
        seen.add(record)
    return seen


@pytest.fixture(scope="module")
def notes() -> list[object]:
    return list(icd10cm_tabular.read())


def order_lines(fy: int) -> int:
    """Non-empty lines of a year's order file, counted without the reader."""
    with zipfile.ZipFile(SHARED / f"cms_{fy}_dx.zip") as archive:
        member = next(n for n in archive.namelist() if n.endswith(f"icd10cm_order_{fy}.txt"))
        return sum(1 for line in archive.read(member).splitlines() if line.strip())


# --- CMS order files, all seven years -----------------------------------------------------------


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_every_line_of_every_year_is_a_code(history):
    assert history.problems == []
    # data README and `wc -l`: FY2020 94,765 and FY2026 98,186 lines, one code each
    assert history.per_year["inFY", 2020] == order_lines(2020) == 94_765
    assert history.per_year["inFY", 2026] == order_lines(2026) == 98_186
    for fy in FYS:
        assert history.per_year["inFY", fy] == order_lines(fy)
    # `cut -c7-13` of all seven files, sorted -u: 98,503 distinct codes
    assert len(history.codes) == 98_503


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_release_history_and_effective_date(history):
    assert history.metas == {"release": "FY2026", "history": "FY2020-FY2026", "effective": "2025-10-01"}


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_k21_0_became_a_header_in_fy2021_when_k21_00_and_k21_01_were_added(history):
    # FY2020 line 13344 "K210    1", FY2021 line 13499 "K210    0", K2100/K2101 first in FY2021
    assert history.facts["ICD10CM:K21.0", "billableInFY"] == [2020]
    assert history.facts["ICD10CM:K21.0", "headerSinceFY"] == [2021]
    assert history.facts["ICD10CM:K21.0", "inFY"] == FYS
    assert history.fact_origins["ICD10CM:K21.0", "headerSinceFY", 2021] == (
        "icd10cm/cms_2021_dx.zip!2021-code-descriptions-tabular-order/icd10cm_order_2021.txt:13499")
    for child in ("ICD10CM:K21.00", "ICD10CM:K21.01"):
        assert history.facts[child, "addedInFY"] == [2021]
        assert history.facts[child, "billableInFY"] == FYS[1:]
        assert history.parent[child] == "ICD10CM:K21.0"
    assert history.parent["ICD10CM:K21.0"] == "ICD10CM:K21"
    assert "ICD10CM:K21" not in history.parent  # a 3-character category has no parent


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_code_title_and_origin_come_from_the_latest_year(history):
    code = history.codes["ICD10CM:K21.00"]
    assert str(code.origin) == f"{M2026}:14067"
    assert code.label == "Gastro-esophageal reflux disease with esophagitis, without bleeding"
    assert dict(code.props) == {"officialTitle": code.label,
                                "shortTitle": "Gastro-esophageal reflux dis with esophagitis, without bleed"}


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_k22_2_and_i85_00_are_billable_in_every_year(history):
    # K222 and I8500 have flag 1 on one line of each order file (FY2026 lines 14075 and 13184)
    assert history.facts["ICD10CM:K22.2", "billableInFY"] == FYS
    assert history.facts["ICD10CM:I85.00", "billableInFY"] == FYS
    assert "ICD10CM:K22.2" not in {s for s, p in history.facts if p in ("addedInFY", "deletedInFY")}
    assert history.codes["ICD10CM:I85.00"].label == "Esophageal varices without bleeding"


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_deleted_code_keeps_its_last_year(history):
    # Q5120 is FY2020 line 28197 and in no later file; T404X (a header) went the same year
    assert history.facts["ICD10CM:Q51.20", "deletedInFY"] == [2021]
    assert history.facts["ICD10CM:Q51.20", "inFY"] == [2020]
    assert str(history.codes["ICD10CM:Q51.20"].origin) == f"{M2020}:28197"
    assert history.fact_origins["ICD10CM:Q51.20", "deletedInFY", 2021] == (
        "icd10cm/cms_2021_dx.zip!2021-code-descriptions-tabular-order/icd10cm_order_2021.txt")
    assert history.facts["ICD10CM:T40.4X", "deletedInFY"] == [2021]
    # `comm -23` of consecutive years' code columns: 26+25+251+0+3+12 deletions
    assert sum(history.per_year["deletedInFY", fy] for fy in FYS) == 317


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_title_change_row(history):
    # F32: FY2021 "Major depressive disorder, single episode", FY2022 line 5639 "Depressive episode"
    changes = [r for r in history.rows if r.field_map()["about"] == Ref("ICD10CM:F32")]
    assert len(changes) == 1
    row = changes[0]
    assert row.kind == "TitleChange"
    assert str(row.origin) == f"{M2022}:5639"
    assert row.field_map() == {"about": Ref("ICD10CM:F32"), "fiscalYear": 2022,
                               "previousTitle": "Major depressive disorder, single episode",
                               "newTitle": "Depressive episode"}
    assert history.codes["ICD10CM:F32"].label == "Depressive episode"


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_hierarchy_walks_up_to_the_first_existing_prefix(history):
    chain, code = [], "ICD10CM:T36.0X1A"
    while code in history.parent:
        code = history.parent[code]
        chain.append(code)
    assert chain == ["ICD10CM:T36.0X1", "ICD10CM:T36.0X", "ICD10CM:T36.0", "ICD10CM:T36"]


@pytest.mark.slow  # reads every order file of FY2020-FY2026 (11 s)
@needs_data
def test_fy2026_qa0_codes_with_a_letter_in_position_2_are_read(history):
    # FY2026 line 30497 "QA00101 1 SCN2A-related neurodevelopmental disorder"; 20 QA0 lines
    assert history.facts["ICD10CM:QA0.0101", "addedInFY"] == [2026]
    assert history.facts["ICD10CM:QA0.0101", "billableInFY"] == [2026]
    assert history.parent["ICD10CM:QA0.0101"] == "ICD10CM:QA0.010"
    assert sum(1 for c in history.codes if c.startswith("ICD10CM:QA0")) == 20


# --- CDC tabular XML: Excludes1 notes ---------------------------------------------------------------


@pytest.mark.slow  # reads the whole tabular XML (3 s)
def test_excludes1_notes_are_counted(notes):
    rows = [r for r in notes if isinstance(r, Row)]
    assert {r.kind for r in rows} == {"Excludes1Note"}
    # ElementTree count of <note> under <excludes1>: 5,407 = 5,253 on diags + 154 on chapters/sections
    assert len(rows) == 5_253
    problems = [str(p) for p in notes if isinstance(p, Problem)]
    assert problems == [f"{TABULAR}: 154 Excludes1 notes on chapters and sections not read: their subject is a "
                        "block of categories, not a code"]  # kept: an info, no row is lost
    metas = {m.key: m.value for m in notes if isinstance(m, Meta)}
    assert metas == {"release": "April 2026", "effective": "2026-04-01"}


@pytest.mark.slow  # reads the whole tabular XML (3 s)
def test_note_on_a_category_names_its_targets_as_written(notes):
    # XML line 76488, under <diag><name>K20</name>: "erosion of esophagus (K22.1-)"
    row = next(r for r in notes if isinstance(r, Row) and r.origin.line == 76488)
    assert str(row.origin) == f"{TABULAR}:76488"
    assert row.fields == (("about", Ref("ICD10CM:K20")), ("noteText", "erosion of esophagus (K22.1-)"),
                          ("target", Ref("ICD10CM:K22.1")))
    edges = {(e.subject, e.object) for e in notes if isinstance(e, Edge) and e.origin.line == 76488}
    assert edges == {("ICD10CM:K20", "ICD10CM:K22.1")}


@pytest.mark.slow  # reads the whole tabular XML (3 s)
def test_ranges_and_patterns_stay_as_written(notes):
    by_line = {r.origin.line: r for r in notes if isinstance(r, Row)}
    # line 9818, on category C44: "(C51-C52, C60.-, C63.2)"
    assert by_line[9818].fields[2:] == (("target", Ref("ICD10CM:C60")), ("target", Ref("ICD10CM:C63.2")),
                                        ("targetRange", "C51-C52"))
    # line 40585, on G63: "diabetes mellitus (E08-E13 with .42)" names no single code
    assert by_line[40585].fields[2:] == (("targetPattern", "E08-E13 with .42"),)
    conflicts = [e for e in notes if isinstance(e, Edge) and e.origin.line in (9818, 40585)]
    assert sorted(e.object for e in conflicts) == ["ICD10CM:C60", "ICD10CM:C63.2"]
    assert all(e.relation == "conflictsWith" and not e.statement for e in conflicts)
    # nothing was expanded: every target, range and pattern is written in its note's text
    for row in by_line.values():
        text = row.field_map()["noteText"]
        for name, value in row.fields[2:]:
            written = value.curie[8:] if isinstance(value, Ref) else value
            for code in re.findall(r"[A-Z][0-9A-Z]{2}(?:\.[0-9A-Z]+)?", written):
                assert code in text, (row.origin.line, name, code)


def test_tabular_file_name_with_no_such_day_gives_no_effective_date(tmp_path):
    bad = tmp_path / "icd10cm-tabular-April-31-2026.xml"  # April has 30 days
    shutil.copy(FIX / "mini-tabular-October-1-2025.xml", bad)
    metas = {m.key: m.value for m in icd10cm_tabular.read(bad) if isinstance(m, Meta)}
    assert "effective" not in metas and metas.get("release") != "April 2026"


def test_mini_tabular_fixture():
    shown = str(FIX / "mini-tabular-October-1-2025.xml")
    records = list(icd10cm_tabular.read(FIX / "mini-tabular-October-1-2025.xml", display=shown))
    rows = {r.origin.line: r.field_map() for r in records if isinstance(r, Row)}
    assert sorted(rows) == [19, 20, 26, 27, 35, 36]  # chapter (8) and section (13) notes not read
    assert [r.fields for r in records if isinstance(r, Row) and r.origin.line == 26][0][2:] == (
        ("target", Ref("ICD10CM:D55.0")), ("targetRange", "C00-D49"), ("targetPattern", "E08-E13 with .69-"))
    assert "target" not in rows[27]  # "classifiable to P78.-": a code outside parentheses
    assert rows[36]["target"] == Ref("ICD10CM:QA0")  # QA0 is a diag of this file
    metas = {m.key: m.value for m in records if isinstance(m, Meta)}
    assert metas == {"release": "October 2025", "effective": "2025-10-01"}
    warned = sorted((p.origin.line, p.severity) for p in records if isinstance(p, Problem))
    # the chapter/section notes not read, and no code-list-October-2025.txt beside the file: its codes not read
    assert warned == [(0, "info"), (0, "info"), (19, "warning"), (20, "warning"), (26, "warning"), (35, "warning")]
    assert any("code-list-October-2025.txt" in p.message for p in records if isinstance(p, Problem))
    assert not any(isinstance(r, Fact) for r in records)


def test_package_name_and_pkg_path_find_the_packaged_xml():
    for spec in ("pkg:simple_icd_10_cm", "data/pkg:simple_icd_10_cm", "simple_icd_10_cm",
                 "pkg:simple_icd_10_cm/data/icd10c-tabular-April-1-2026.xml"):
        assert icd10cm_tabular.locate(spec) == icd10cm_tabular.locate(None)
    assert icd10cm_tabular.locate(None)[1] == TABULAR


@pytest.mark.parametrize(("target", "code", "expected"), [
    ("K22", "K22.70", True),              # a category covers its descendants
    ("K22", "K22", True),
    ("K22", "K21.0", False),
    ("K22.7-", "K22.71", True),
    ("K22.7", "K22.8", False),
    ("ICD10CM:K20.-", "ICD10CM:K20.81", True),
    ("K20-K31", "K21.00", True),          # a range: by 3-character category
    ("K20-K31", "K31.A11", True),
    ("K20-K31", "K35.2", False),
    ("K20-K31", "K19", False),
    ("C00-D49", "D3A.010", True),
    ("T80-T88.6", "T88.7", False),        # an end with a subcategory bounds at that depth
    ("T80-T88.6", "T88.6", True),
])
def test_covers(target, code, expected):
    assert covers(target, code) is expected


def test_error_covers_rejects_a_pattern():
    with pytest.raises(ValueError, match=r"^'E08-E13 with \.42' is not a code, a category or a range of them$"):
        covers("E08-E13 with .42", "E11.42")


# --- bad input ---------------------------------------------------------------------------------------


def problems_of(name: str, reader=icd10cm.read) -> list[str]:
    shown = str(FIX / name)
    return [str(r) for r in reader(FIX / name, display=shown) if isinstance(r, Problem)]


def test_error_truncated_zip():
    assert list(icd10cm.read(FIX / "truncated.zip", display="truncated.zip")) == [
        Problem(Origin("truncated.zip"), "not a readable zip archive (File is not a zip file); the "
                "download may be truncated", action="file refused")]


def test_error_corrupt_member():
    assert problems_of("corrupt-data.zip") == [
        f"{FIX}/corrupt-data.zip: not a readable zip archive (Bad CRC-32 for file 'icd10cm_order_2026.txt'); "
        "the download may be truncated (file refused)"]


def test_error_zip_without_order_file():
    assert problems_of("no-order-file.zip") == [
        f"{FIX}/no-order-file.zip: no icd10cm_order_YYYY.txt in this zip (it holds: icd10cm_codes_2026.txt) "
        "(file refused)"]


def test_error_bad_rows_are_skipped_and_the_rest_is_read():
    records = list(icd10cm.read(FIX / "bad-rows.zip", display="bad-rows.zip"))
    assert [str(p) for p in records if isinstance(p, Problem)] == [
        "bad-rows.zip!icd10cm_order_2026.txt:3: ICD10CM:K21.00: billable flag '2' is neither 0 (header) "
        "nor 1 (billable) (row skipped)",
        "bad-rows.zip!icd10cm_order_2026.txt:5: code '1234' is not an ICD-10-CM code (a letter, a letter or "
        "digit, a letter or digit, then up to four letters or digits) (row skipped)",
    ]
    codes = [r.curie for r in records if isinstance(r, Code)]
    assert codes == ["ICD10CM:K21", "ICD10CM:K21.0", "ICD10CM:K21.01", "ICD10CM:K22"]
    assert {m.key: m.value for m in records if isinstance(m, Meta)} == {
        "release": "FY2026", "history": "FY2026", "effective": "2025-10-01"}


def test_error_wrong_layout():
    assert problems_of("wrong-layout.zip") == [
        f"{FIX}/wrong-layout.zip!icd10cm_order_2026.txt:1: not a CMS ICD-10-CM order file: expected fixed "
        "width: order number in columns 1-5, code 7-13, billable flag 15 (0/1), short title 17-76, long title "
        "from 78; found 'code,billable,title' (file refused)"]


def test_error_directory_without_cms_zips(tmp_path):
    shutil.copy(FIX / "mini-2026.zip", tmp_path / "icd10cm_2026.zip")  # not named cms_*_dx.zip
    assert [str(r) for r in icd10cm.read(tmp_path, display="dl")] == [
        "dl: no CMS ICD-10-CM zip (cms_*_dx.zip) in this directory (file refused)"]


def test_error_two_zips_of_one_fiscal_year(tmp_path):
    shutil.copy(FIX / "mini-2026.zip", tmp_path / "cms_2026_dx.zip")
    shutil.copy(FIX / "mini-2026.zip", tmp_path / "cms_2026a_dx.zip")
    assert [str(r) for r in icd10cm.read(tmp_path, display="dl")] == [
        "dl/cms_2026a_dx.zip: a second FY2026 order file (the first is in dl/cms_2026_dx.zip); keep one zip "
        "per fiscal year (file refused)"]


def test_error_a_bad_zip_in_a_directory_refuses_the_history(tmp_path):
    shutil.copy(FIX / "mini-2026.zip", tmp_path / "cms_2026_dx.zip")
    shutil.copy(FIX / "truncated.zip", tmp_path / "cms_2025_dx.zip")
    assert [str(r) for r in icd10cm.read(tmp_path, display="dl")] == [
        "dl/cms_2025_dx.zip: not a readable zip archive (File is not a zip file); the download may be "
        "truncated (file refused)"]


def test_error_truncated_tabular_xml():
    assert problems_of("truncated-tabular.xml", icd10cm_tabular.read) == [
        f"{FIX}/truncated-tabular.xml:26: the XML ends before its root element does (truncated?) (file refused)"]


def test_error_tabular_with_the_wrong_root():
    assert problems_of("wrong-root.xml", icd10cm_tabular.read) == [
        f"{FIX}/wrong-root.xml:2: not an ICD-10-CM tabular XML: expected root <ICD10CM.tabular>, found <ClaML> "
        "(file refused)"]


def test_error_tabular_package_not_installed():
    assert [str(r) for r in icd10cm_tabular.read("pkg:no_such_package_here")] == [
        "pkg:no_such_package_here: package no_such_package_here is not installed "
        "(pip install no-such-package-here) (file refused)"]
