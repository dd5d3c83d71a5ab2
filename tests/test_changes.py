"""kgraph changes (issue 18, item 1): what changed between two releases, checked against the raw
CMS and NUCC files (never against kgraph's own output).

ICD-10-CM and the fee schedule use the default build (data/icd10cm holds every fiscal year) and a
small build of two fee-schedule releases this test writes; NUCC and the NCCI excerpt use the full
build (data/full.toml reads every NUCC version from the archive)."""

from __future__ import annotations

import csv
import gzip
import io
import tarfile
import zipfile
from datetime import date
from pathlib import Path

import pytest

import kgraph
from kgraph.changes import ChangesError
from tests.conftest import DATA
from tests.shared import SHARED_DATA


def order_member(fy: int) -> str:
    """``cms_2022_dx.zip!<folder>/icd10cm_order_2022.txt`` (each year's zip has its own folder name)."""
    with zipfile.ZipFile(DATA / "icd10cm" / f"cms_{fy}_dx.zip") as z:
        return f"cms_{fy}_dx.zip!" + next(n for n in z.namelist() if n.endswith(f"icd10cm_order_{fy}.txt"))


def order_file(fy: int) -> dict[str, tuple[str, int]]:
    """The CMS order file of a fiscal year: dotless code -> (billable flag, 1-based line)."""
    with zipfile.ZipFile(DATA / "icd10cm" / f"cms_{fy}_dx.zip") as z:
        text = z.read(order_member(fy).partition("!")[2]).decode("latin-1")
    return {line[6:13].strip(): (line[14], n) for n, line in enumerate(text.splitlines(), 1)}


def dotted(code: str) -> str:
    return f"ICD10CM:{code[:3]}.{code[3:]}" if len(code) > 3 else f"ICD10CM:{code}"


def test_icd10cm_fy2021_to_fy2022_matches_the_order_files(default_store) -> None:
    old, new = order_file(2021), order_file(2022)
    assert old["K228"][0] == "1" and new["K228"][0] == "0"  # the files: K22.8 billable in FY2021, a header in FY2022
    found = kgraph.changes(default_store, since="FY2021", until="FY2022", families=["icd10cm"])
    assert found.compared["icd10cm"] == ("FY2021", "FY2022")
    by_kind: dict[str, set[str]] = {}
    for change in found:
        by_kind.setdefault(change.change, set()).add(change.code)
    assert "ICD10CM:K22.8" in by_kind["became a header"]
    assert by_kind["became a header"] == {dotted(c) for c, (flag, _) in old.items()
                                         if flag == "1" and new.get(c, ("",))[0] == "0"}
    assert by_kind["added"] == {dotted(c) for c in set(new) - set(old)}
    assert by_kind["deleted"] == {dotted(c) for c in set(old) - set(new)}
    k228 = next(c for c in found if c.code == "ICD10CM:K22.8" and c.change == "became a header")
    assert (k228.since, k228.until, k228.before, k228.after) == ("FY2021", "FY2022", "billable", "header")
    assert k228.evidence == [f"data/icd10cm/{order_member(2021)}:{old['K228'][1]}",
                             f"data/icd10cm/{order_member(2022)}:{new['K228'][1]}"]


def test_a_selection_limits_the_codes_and_a_single_release_says_so(default_store) -> None:
    found = kgraph.changes(default_store, since="FY2021", until="FY2022", codes=["ICD10CM:K22.8", "CPT:74360"])
    assert {c.code for c in found} == {"ICD10CM:K22.8"}
    # the default build holds one release of the NCCI files, the fee schedule and NUCC: never silence
    for name in ("NCCI PTP", "MUE", "fee schedule", "NUCC"):
        assert any(name.lower() in note.lower() and ("one release" in note or "one version" in note)
                   for note in found.notes), (name, found.notes)
    near = kgraph.changes(default_store, since="FY2021", until="FY2022", focus="CPT:74360", depth=1)
    assert "ICD10CM:K22.8" in {c.code for c in near}
    briefing = kgraph.changes(default_store, since="FY2021", until="FY2022", briefing_codes=True)
    assert "ICD10CM:K22.8" in {c.code for c in briefing}
    with pytest.raises(ChangesError, match="neither a loaded release nor a date"):
        kgraph.changes(default_store, since="last spring")


#: (code, modifier, column) -> the value the test's second release gives it
FEE_EDITS = {("43249", "", "STATUS CODE"): "I", ("43254", "", "MULT PROC"): "2", ("74360", "26", "STATUS CODE"): "N"}


def _fee_rows(path: Path) -> tuple[list[str], dict[tuple[str, str], tuple[int, list[str]]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("HCPCS,MOD,DESCRIPTION"))
    header_rows = list(csv.reader(lines[:start + 1]))
    names = [" ".join(p[i].strip() for p in header_rows[-6:] if i < len(p) and p[i].strip()).replace("- ", "-")
             for i in range(len(header_rows[-1]))]
    rows = {}
    for n, cells in enumerate(csv.reader(lines[start + 1:]), start + 2):
        if cells and cells[0].strip() and cells[0][0].isalnum() and len(cells) > 10:
            rows[(cells[0], cells[1])] = (n, cells)
    return names, rows


@pytest.fixture(scope="module")
def fee_store(tmp_path_factory):
    """Two fee-schedule releases: the default file (2025-10) and a copy the test changes (2026-01)."""
    tmp = tmp_path_factory.mktemp("fee")
    source = DATA / "mpfs" / "PPRRVU2025_Oct_nodesc.csv"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    names, rows = _fee_rows(source)
    for (code, mod, column), value in FEE_EDITS.items():
        n, cells = rows[(code, mod)]
        cells = list(cells)
        cells[names.index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(cells)
        lines[n - 1] = out.getvalue()
    (tmp / "PPRRVU2026_Jan_nodesc.csv").write_text("".join(lines), encoding="utf-8")
    (tmp / "fee.toml").write_text(f"""
[[source]]
kind = "mpfs"
path = "{source}"
licence = "CMS, public domain"
release = "2025-10"

[[source]]
kind = "mpfs"
path = "PPRRVU2026_Jan_nodesc.csv"
licence = "CMS, public domain (a copy this test changed)"
release = "2026-01"
""", encoding="utf-8")
    return kgraph.build(tmp / "fee.toml", store=tmp / "kg"), tmp


def test_fee_schedule_statuses_and_indicators_changed(fee_store) -> None:
    store, tmp = fee_store
    names, old = _fee_rows(DATA / "mpfs" / "PPRRVU2025_Oct_nodesc.csv")
    _, new = _fee_rows(tmp / "PPRRVU2026_Jan_nodesc.csv")
    wanted = {names.index(c) for _, _, c in FEE_EDITS}
    expected = {(f"CPT:{code}", f"MOD:{mod}" if mod else "", names[i], old[(code, mod)][1][i], cells[i],
                 old[(code, mod)][0], n)
                for (code, mod), (n, cells) in new.items() for i in wanted if cells[i] != old[(code, mod)][1][i]}
    assert len(expected) == len(FEE_EDITS)
    found = kgraph.changes(store, since="2025-10", families=["mpfs"])
    assert found.compared["mpfs"] == ("2025-10", "2026-01")
    got = set()
    for c in found:
        first, second = (int(e.rpartition(":")[2]) for e in c.evidence)
        got.add((c.code, c.other, c.field, c.before, c.after, first, second))
        assert (c.since, c.until) == ("2025-10", "2026-01")
    assert got == expected


def _tar_codes(release: str) -> set[str]:
    """The codes of one NUCC version, read from the all-versions archive as the file is (NUL padding)."""
    member = f"nucc_taxonomy_{release.replace('.', '')}.csv"
    with tarfile.open(SHARED_DATA / "nucc" / "nucc_taxonomy_all_versions_v9.0-v25.1.tar.xz") as tar:
        data = tar.extractfile(member).read()
    assert data.endswith(b"\x00")
    rows = csv.DictReader(io.StringIO(data.rstrip(b"\x00").decode("utf-8-sig"), newline=""))
    return {row["Code"].strip() for row in rows if row["Code"].strip()}


def test_nucc_v24_0_to_v25_1_shows_the_codes_added(full_store) -> None:
    added = _tar_codes("25.1") - _tar_codes("24.0")
    assert len(added) == 9
    found = kgraph.changes(full_store, since="24.0", until="25.1", families=["nucc"])
    assert found.compared["nucc"] == ("24.0", "25.1")
    assert {c.code for c in found if c.change == "added"} == {f"NUCC:{c}" for c in added}
    gone = _tar_codes("24.0") - _tar_codes("25.1")
    assert {c.code for c in found if c.change == "deleted"} == {f"NUCC:{c}" for c in gone}
    one = next(c for c in found if c.change == "added")
    assert one.evidence[0].split("!")[1].startswith("nucc_taxonomy_251.csv:")


def _excerpt_pairs() -> dict[tuple[str, str], list[str]]:
    pairs = {}
    for line in (SHARED_DATA / "ncci" / "ccipra-official-layout-excerpt.txt").read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) >= 6 and cells[3].isdigit():
            pairs[(cells[0], cells[1])] = cells
    return pairs


def _flat_pairs(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    with gzip.open(SHARED_DATA / "ncci" / "ptp_practitioner_2024-07-01_flat.csv.gz", "rt", encoding="utf-8") as f:
        return {(r["col1"], r["col2"]): r for r in csv.DictReader(f) if (r["col1"], r["col2"]) in wanted}


def _code(code: str) -> str:
    return f"HCPCS:{code}" if code[0].isalpha() else f"CPT:{code}"


def _in_effect(effective: date | None, deletion: date | None, indicator: str, day: date) -> bool:
    # the NCCI file layout: an edit applies from its effective date through its deletion date; indicator 9 never
    return indicator != "9" and (effective is None or effective <= day) and (deletion is None or day <= deletion)


def _day(text: str) -> date | None:
    return None if text.strip() in ("*", "") else date.fromisoformat(text[:4] + "-" + text[4:6] + "-" + text[6:8]
                                                                       if "-" not in text else text)


def test_an_ncci_excerpt_reports_only_its_own_pairs(full_store) -> None:
    excerpt = _excerpt_pairs()
    flat = _flat_pairs(set(excerpt))
    before_day, after_day = date(2024, 7, 1), date(2026, 1, 1)
    expected = set()
    for pair, cells in excerpt.items():
        old = flat.get(pair)
        was = old is not None and _in_effect(None, _day(old["deletion_date"]), old["modifier_indicator"], before_day)
        now = _in_effect(_day(cells[3]), _day(cells[4]), cells[5].strip(), after_day)
        if was != now or (was and now and old["modifier_indicator"] != cells[5].strip()):
            what = "edit added" if now and not was else "edit deleted" if was and not now else "indicator changed"
            expected.add((_code(pair[0]), _code(pair[1]), what))
    found = kgraph.changes(full_store, since="2024-07-01", until="2026-01-01", families=["ncci-ptp"])
    assert found.compared["ncci-ptp"] == ("2024-07-01", "2024-07-01 + 2026-01-01 (excerpt)")
    assert any("excerpt" in n and "only the pairs it lists" in n for n in found.notes)
    listed = {(c.code.partition(":")[2], c.other.partition(":")[2]) for c in found}
    assert listed <= set(excerpt)  # nothing outside the excerpt, never the rest of the family as deleted
    assert {(c.code, c.other, c.change) for c in found} == expected
