"""ICD-10-CM releases whose effective date is not October 1: the April 1, 2026 update (the CDC
tabular and code list shipped in the simple-icd-10-cm package) between the CMS FY2026 order file
(in force from 2025-10-01) and FY2027 (not loaded). The release in force on a date is the newest
one dated on or before it (a fiscal year runs October 1 to September 30; an April update
replaces the October file for the rest of its fiscal year)."""

from __future__ import annotations

import importlib.util
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest

from kgraph.rules import icd, releases
from tests.shared import SHARED_DATA


def _order_codes(fy: int) -> frozenset[str]:
    with zipfile.ZipFile(SHARED_DATA / "icd10cm" / f"cms_{fy}_dx.zip") as z:
        member = next(n for n in z.namelist() if re.search(rf"icd10cm_order_{fy}\.txt$", n))
        return frozenset(ln[6:13].strip() for ln in z.read(member).decode("utf-8").splitlines() if ln.strip())


def _april_2026() -> frozenset[str]:
    spec = importlib.util.find_spec("simple_icd_10_cm")
    assert spec and spec.origin, "simple-icd-10-cm is a dependency of kgraph"
    text = (Path(spec.origin).parent / "data" / "code-list-April-2026.txt").read_text(encoding="utf-8")
    return frozenset(line.split()[0].replace(".", "") for line in text.splitlines()
                     if line.strip() and "-" not in line.split()[0] and not line.split()[0].isdigit())


@pytest.fixture(scope="module")
def loaded() -> list[icd.ICDRelease]:
    return [icd.fiscal_release(2025, _order_codes(2025)), icd.fiscal_release(2026, _order_codes(2026)),
            icd.ICDRelease("April 2026", date(2026, 4, 1), _april_2026())]


@pytest.mark.parametrize(("day", "label", "exact"), [
    ("2025-09-30", "FY2025", True), ("2025-10-01", "FY2026", True), ("2026-03-31", "FY2026", True),
    ("2026-04-01", "April 2026", True), ("2026-09-30", "April 2026", True), ("2026-10-01", "April 2026", False),
    ("2024-09-30", "FY2025", False)])
def test_the_release_in_force_on_a_date(loaded: list[icd.ICDRelease], day: str, label: str, exact: bool) -> None:
    release, in_force = icd.release_on(loaded, date.fromisoformat(day))
    assert release is not None and (release.label, in_force) == (label, exact)


def test_the_april_2026_list_holds_the_fy2026_codes(loaded: list[icd.ICDRelease]) -> None:
    fy2026, april = loaded[1].codes, loaded[2].codes
    assert len(april) == len(fy2026) == 98186 and april == fy2026  # the files: no code added or dropped in April
    assert icd.valid_on("K222", loaded, date(2026, 4, 1)) is True


def test_a_code_added_in_april_is_valid_from_april_1(loaded: list[icd.ICDRelease]) -> None:
    # a row the test writes: a mid-year addition, as CMS makes them on April 1
    april = loaded[2]._replace(codes=loaded[2].codes | {"Z9999"})
    written = [*loaded[:2], april]
    assert icd.valid_on("Z9999", written, date(2026, 3, 31)) is False
    assert icd.valid_on("Z9999", written, date(2026, 4, 1)) is True
    assert icd.valid_on("Z9999", written, date(2015, 9, 30)) is None  # before ICD-10-CM: no release answers


def test_the_tabular_release_label_is_its_own_date() -> None:
    assert releases.release_start("icd10cm-tabular", "April 2026") == date(2026, 4, 1)
    assert releases.release_start("icd10cm", "FY2026") == date(2025, 10, 1) == icd.fy_start(2026)
    assert icd.fy_end(2026) == date(2026, 9, 30)


# --- the claim check with a mid-year release loaded ---------------------------------------------------

#: the K21 lines of the raw April 2026 code list, and what the test writes into its own copy of that list
KEPT_STEM = "K21"
ADDED = "K2102"  # a code the test adds, as an April 1 update adds codes
DROPPED = "K2101"  # a code the test leaves out, as an April 1 update deletes codes


def _april_file() -> Path:
    spec = importlib.util.find_spec("simple_icd_10_cm")
    assert spec and spec.origin, "simple-icd-10-cm is a dependency of kgraph"
    return Path(spec.origin).parent / "data" / "code-list-April-2026.txt"


def _raw_april_lines(stem: str) -> list[str]:
    text = _april_file().read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.split() and line.split()[0].startswith(stem)]


@pytest.fixture(scope="module")
def midyear_store() -> object:
    """Kept in .test-cache/ between runs (tests.cache), keyed by the files it cuts down and the modules
    that say what it keeps."""
    from tests.cache import cached_store
    from tests.conformance import conftest
    from tests.conformance.conftest import _build, _write_icd

    def build(path: Path) -> object:
        folder = path.parent
        _write_icd(folder)  # the FY2020-FY2026 order files cut down to the suite's codes (K21 among them)
        raw = _raw_april_lines(KEPT_STEM)
        written = [line for line in raw if line.split()[0] != DROPPED] + [ADDED]
        tabular = folder / "tabular"
        tabular.mkdir()
        (tabular / "code-list-April-2026.txt").write_text("\n".join(written) + "\n", encoding="utf-8")
        (tabular / "icd10cm-tabular-April-1-2026.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<ICD10CM.tabular><version>2026</version></ICD10CM.tabular>\n',
            encoding="utf-8")
        lic = "written by the conformance suite"
        return _build(folder, [
            {"kind": "icd10cm", "path": str(folder / "icd10cm"), "licence": lic},
            {"kind": "icd10cm-tabular", "path": str(tabular / "icd10cm-tabular-April-1-2026.xml"), "licence": lic}])

    inputs = [SHARED_DATA / "icd10cm", _april_file(), Path(__file__), Path(conftest.__file__)]
    return cached_store("conformance-midyear", None, build, inputs)


def _dx_rules(store: object, day: str, dx: str) -> list[str]:
    from kgraph.check import check

    result = check(store, {"id": "m", "date": day, "lines": [{"code": "99213", "diagnoses": [dx]}]})
    return [f.rule for f in result.findings if f.rule.startswith("icd10cm.")]


def test_the_raw_files_hold_what_the_cases_say() -> None:
    raw = {line.split()[0] for line in _raw_april_lines(KEPT_STEM)}
    fy2026 = {c for c in _order_codes(2026) if c.startswith(KEPT_STEM)}
    assert raw == fy2026 and DROPPED in raw and ADDED not in raw and ADDED not in _order_codes(2026)


@pytest.mark.parametrize(("day", "dx", "rules"), [
    # a code of both raw files is valid before and after April 1
    ("2026-03-31", "K21.00", []), ("2026-04-01", "K21.00", []),
    # added April 1: not valid the day before (in no loaded fiscal year), valid from April 1
    ("2026-03-31", "K21.02", ["icd10cm.unknown"]), ("2026-04-01", "K21.02", []), ("2026-09-30", "K21.02", []),
    # deleted April 1: valid the day before, not from April 1 to the end of the fiscal year
    ("2026-03-31", "K21.01", []), ("2026-04-01", "K21.01", ["icd10cm.not-in-fy"]),
    ("2026-09-30", "K21.01", ["icd10cm.not-in-fy"]),
    # FY2025 is not touched by an April 2026 release
    ("2025-04-01", "K21.01", []),
])
def test_the_claim_check_uses_the_midyear_release(midyear_store: object, day: str, dx: str, rules: list[str]) -> None:
    assert _dx_rules(midyear_store, day, dx) == rules


def test_a_code_dropped_in_april_names_the_release(midyear_store: object) -> None:
    from kgraph.check import check

    line = {"code": "99213", "diagnoses": ["K21.01"]}
    result = check(midyear_store, {"id": "m", "date": "2026-04-01", "lines": [line]})
    finding = next(f for f in result.findings if f.rule == "icd10cm.not-in-fy")
    assert "April 2026" in finding.message and "2026-04-01" in finding.message
    assert finding.explanation[0]["qualifiers"]["release"] == "April 2026"


# --- a date after the loaded fiscal years: FY2027 is not loaded, the April 2026 release is the newest ---------


@pytest.mark.parametrize(("dx", "rules"), [
    ("K21.00", []),  # in both raw files
    ("K21.02", []),  # added on April 1 (the written list): valid in the newest release loaded
    ("K21.01", ["icd10cm.not-in-fy"]),  # dropped on April 1: not in the newest release loaded
])
def test_a_date_after_fy2026_is_checked_against_the_april_release(midyear_store: object, dx: str,
                                                                  rules: list[str]) -> None:
    assert icd.fiscal_year(date(2026, 11, 15)) == 2027  # FY2027, whose order file is not loaded
    assert _dx_rules(midyear_store, "2026-11-15", dx) == rules


def test_the_release_used_after_fy2026_is_named(midyear_store: object) -> None:
    from kgraph.check import check

    line = {"code": "99213", "diagnoses": ["K21.01"]}
    result = check(midyear_store, {"id": "m", "date": "2026-11-15", "lines": [line]})
    note = next(f for f in result.findings if f.rule == "data.out-of-range" and f.subject == "icd10cm")
    assert note.severity == releases.family("icd10cm").outside_severity
    assert "FY2027" in note.message and "April 2026 update" in note.message and "2026-04-01" in note.message
    assert {e["qualifiers"].get("release") for e in note.explanation} >= {"April 2026"}
    dropped = next(f for f in result.findings if f.rule == "icd10cm.not-in-fy")
    assert "April 2026" in dropped.message
    assert result.data_versions["icd10cm"] == "FY2026 (April 2026 update)"


@pytest.mark.parametrize(("day", "named"), [
    ("2026-03-31", "FY2026"), ("2026-04-01", "FY2026 (April 2026 update)"),
    ("2026-11-15", "FY2026 (April 2026 update)"), ("2025-04-01", "FY2025")])
def test_data_versions_name_the_midyear_release_that_answered(midyear_store: object, day: str, named: str) -> None:
    from kgraph.check import check

    result = check(midyear_store, {"id": "m", "date": day, "lines": [{"code": "99213", "diagnoses": ["K21.00"]}]})
    assert result.data_versions["icd10cm"] == named


def test_the_export_and_stats_name_the_midyear_release(midyear_store: object) -> None:
    from kgraph.validate import data_versions
    from kgraph.viz import _versions

    assert data_versions(midyear_store)["icd10cm-tabular"] == "April 2026"
    shown = {v["kind"]: v["release"] for v in _versions(midyear_store)}
    assert shown["icd10cm-tabular"] == "April 2026"
