"""The conformance suite's stores and case machinery (issue 13).

A case is a claim with its expected outcome and the CMS row or definition behind it. Its
``basis`` names raw rows: a file (under ../shared/data, or a file the suite writes) and a 1-based
line with the values the case relies on; ``test_raw_rows_are_there`` reads each one back. The
expectations are stated in the case modules from the CMS definitions (each names its source),
never taken from kgraph's output.

Stores, built once a session from small manifests (not the full build), in a temporary folder:

* ``real``: the October 2025 RVU file, the July 2024 MUE and June 2024 add-on files, the 2024
  modifier list and NUCC 25.1 as they are; the July 2024 flat PTP file cut down to the rows the
  cases name (``PTP_LINES``, written with its header; the cases name the raw line, the finding
  the written line, ``ptp_line`` maps one to the other) as a complete release; the official
  2026 PTP excerpt as an excerpt; ICD-10-CM FY2020-FY2026 order files cut down to the codes the
  cases use and their headers (zips written like CMS's); the payer registry and seed briefing.
* ``written``: files this module writes (``WRITTEN``), each row stated from a CMS definition:
  an RVU file with status D, F, G and H rows (the October 2025 file has none), two complete
  official PTP releases and an official excerpt, MUE releases, the HCPCS 2020 file and kgraph's
  CPT modifier list.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.shared import ROOT, SHARED_DATA, require

RVU = "mpfs/PPRRVU2025_Oct_nodesc.csv"
MUE = "ncci/ncci_mue_practitioner_2024-07-01.csv"
ADDON = "ncci/ncci_add_on_code_edits_2024-06.csv"
PTP = "ncci/ptp_practitioner_2024-07-01_flat.csv.gz"
EXCERPT = "ncci/ccipra-official-layout-excerpt.txt"
MODS = "hcpcs/modifiers_cpt_and_hcpcs_2024.csv"
HCPCS = "hcpcs/2020-Alpha-Numeric-HCPCS-File.zip"
NUCC = "nucc/nucc_taxonomy_251.csv"


@dataclass(frozen=True)
class Raw:
    """A raw row a case relies on: file (relative to ../shared/data, or ``written/<name>``), 1-based
    line and the values it holds (column name -> value; for the PTP and tab layouts: col1, col2,
    deletion/effective, indicator; for ICD-10-CM order files: code and billable flag)."""

    file: str
    line: int
    values: tuple[tuple[str, str], ...]

    @staticmethod
    def of(file: str, line: int, **values: str) -> Raw:
        return Raw(file, line, tuple(sorted(values.items())))


@dataclass(frozen=True)
class Case:
    """A claim (line specs ``CODE[-MOD...][xUNITS]`` or dicts) checked on ``date`` in ``store``.

    ``expect``: (rule, severity) pairs that must be among the findings; ``absent``: rules (or
    ``rule:severity``) that must not be; ``status``: the claim's status when given; ``contains``:
    text a finding of the first expected rule must hold; ``line``: the evidence line that finding
    must point at (the row of ``basis[0]`` as the store holds it)."""

    id: str
    store: str
    lines: tuple[Any, ...]
    date: str
    expect: tuple[tuple[str, str], ...] = ()
    absent: tuple[str, ...] = ()
    status: str | None = None
    contains: tuple[str, ...] = ()
    basis: tuple[Raw, ...] = ()
    definition: str = ""
    line: int | None = None
    dx: tuple[str, ...] = ("I10",)
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def claim(self) -> dict[str, Any]:
        from kgraph.check import parse_line_spec

        lines = []
        for spec in self.lines:
            line = dict(spec) if isinstance(spec, dict) else parse_line_spec(spec)
            line.setdefault("diagnoses", list(self.dx))
            lines.append(line)
        return {"id": self.id, "date": self.date, "lines": lines, **self.extra}


# --- raw rows ----------------------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:  # type: ignore[operator]
        return handle.read().split("\n")


_RAW_CACHE: dict[str, list[str]] = {}


def raw_line(path: Path, line: int) -> str:
    key = str(path)
    if key not in _RAW_CACHE:
        _RAW_CACHE[key] = _lines(path)
    return _RAW_CACHE[key][line - 1].rstrip("\r")


def _order_lines(path: Path) -> list[str]:
    key = str(path)
    if key not in _RAW_CACHE:
        with zipfile.ZipFile(path) as z:
            member = next(n for n in z.namelist() if re.search(r"icd10cm_order_\d{4}\.txt$", n))
            _RAW_CACHE[key] = z.read(member).decode("utf-8").split("\n")
    return _RAW_CACHE[key]


def raw_values(path: Path, line: int, code: str = "") -> dict[str, str]:
    """The values of one raw row, named as ``Raw`` names them (an ICD-10-CM order file in its zip:
    code and billable flag; line 0 looks ``code`` up and says "absent" when the file lacks it)."""
    name = path.name
    if name.endswith("_dx.zip"):
        lines = _order_lines(path)
        if line == 0:
            found = any(ln[6:13].strip() == code for ln in lines)
            return {"code": code, "billable": "present" if found else "absent"}
        text = lines[line - 1]
        return {"code": text[6:13].strip(), "billable": text[14:15]}
    text = raw_line(path, line)
    if "rvu" in name.lower():
        cells = next(csv.reader([text]))
        return {"HCPCS": cells[0], "MOD": cells[1], "STATUS CODE": cells[3], "PCTC IND": cells[13],
                "GLOB DAYS": cells[14], "MULT PROC": cells[18], "BILAT SURG": cells[19], "ASST SURG": cells[20],
                "CO-SURG": cells[21], "TEAM SURG": cells[22], "ENDO BASE": cells[23]}
    if "mue" in name:
        cells = next(csv.reader([text]))
        return {"code": cells[0], "units": cells[1], "mai": cells[2][:1]}
    if "add_on" in name or "addon" in name:
        cells = next(csv.reader([text]))
        return {"primary": cells[0], "addon": cells[1], "type": cells[2]}
    if "flat" in name:
        c1, c2, deletion, indicator, _rationale = next(csv.reader([text]))
        return {"col1": c1, "col2": c2, "deletion": deletion, "indicator": indicator}
    if "official" in name or name.startswith("ptp-"):
        cells = text.split("\t")
        return {"col1": cells[0], "col2": cells[1], "effective": cells[3], "deletion": cells[4], "indicator": cells[5]}
    if name.startswith("modifiers"):
        cells = next(csv.reader([text]))
        return {"modifier": cells[0], "type": cells[1]}
    raise AssertionError(f"no layout known for {path}")


# --- the stores -----------------------------------------------------------------------------------

#: raw lines of the July 2024 flat PTP file that the cases name (and the real store keeps)
PTP_LINES = (421506, 421507, 421750, 2457027, 2457369, 2004244, 2004245, 3382, 3371, 56, 64, 66, 83, 84, 412503,
             2252571)
#: ICD-10-CM codes the cases use (with their headers and the codes below them, per fiscal year)
ICD_CODES = ("I10", "K21.0", "K21.9", "K22.2", "C81.0A", "M54.5", "E11.9", "Z00.00", "R10.9", "K21.00", "K21.01")
FISCAL_YEARS = range(2020, 2027)


def _write_ptp_subset(folder: Path) -> None:
    """The header and ``PTP_LINES`` of the flat file (``_ptp_lines`` says where each went)."""
    lines = _lines(SHARED_DATA / PTP)
    out = [lines[0]] + [lines[n - 1] for n in sorted(set(PTP_LINES))]
    (folder / "ptp_practitioner_2024-07-01_flat.csv").write_text("\n".join(out) + "\n", encoding="utf-8")


def _ptp_lines() -> dict[int, int]:
    """Raw line of the flat file -> its line in the file ``_write_ptp_subset`` writes."""
    return {n: i for i, n in enumerate(sorted(set(PTP_LINES)), start=2)}


def _write_icd(folder: Path) -> None:
    """Order files of FY2020-FY2026 holding only the cases' codes, their headers and children."""
    stems = {c.replace(".", "") for c in ICD_CODES}
    icd = folder / "icd10cm"
    icd.mkdir()
    for fy in FISCAL_YEARS:
        with zipfile.ZipFile(SHARED_DATA / "icd10cm" / f"cms_{fy}_dx.zip") as z:
            member = next(n for n in z.namelist() if re.search(rf"icd10cm_order_{fy}\.txt$", n))
            text = z.read(member).decode("utf-8")
        keep = [ln for ln in text.splitlines(keepends=True)
                if any(s.startswith(ln[6:13].strip()) or ln[6:13].strip().startswith(s) for s in stems)]
        with zipfile.ZipFile(icd / f"cms_{fy}_dx.zip", "w") as z:
            z.writestr(f"icd10cm_order_{fy}.txt", "".join(keep))


def _manifest(folder: Path, sources: list[dict[str, str]]) -> Path:
    text = []
    for s in sources:
        text.append("[[source]]")
        text += [f'{k} = "{v}"' for k, v in s.items()]
        text.append("")
    path = folder / "manifest.toml"
    path.write_text("\n".join(text), encoding="utf-8")
    return path


def _build(folder: Path, sources: list[dict[str, str]]):
    import kgraph

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return kgraph.build(_manifest(folder, sources), store=folder / "kg", reuse=False)
    finally:
        os.chdir(cwd)


class Stores:
    """The suite's stores, built on first use (a session may need only some of them)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._built: dict[str, Any] = {}
        self.ptp_line: dict[int, int] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = getattr(self, f"_{name}")()
        return self._built[name]

    def _real(self) -> Any:
        """Kept in .test-cache/ between runs (tests.cache), keyed by the official files it cuts down and
        this module (which names the rows it keeps)."""
        from tests.cache import cached_store

        lic = "CMS data (conformance test)"

        def build(path: Path) -> Any:
            folder = path.parent
            _write_ptp_subset(folder)
            _write_icd(folder)
            return _build(folder, [
                {"kind": "payers", "path": str(ROOT / "data" / "payers.csv"), "licence": lic, "release": "2026-11"},
                {"kind": "briefing", "path": str(ROOT / "data" / "briefings" / "cpt-74360.txt"), "licence": lic},
                {"kind": "icd10cm", "path": str(folder / "icd10cm"), "licence": lic},
                {"kind": "nucc", "path": str(SHARED_DATA / NUCC), "licence": lic},
                {"kind": "modifiers", "path": str(SHARED_DATA / MODS), "licence": lic, "release": "2024"},
                {"kind": "ncci-ptp", "path": str(folder / "ptp_practitioner_2024-07-01_flat.csv"), "licence": lic,
                 "release": "2024-07-01"},
                {"kind": "ncci-ptp", "path": str(SHARED_DATA / EXCERPT), "licence": lic, "release": "2026-01-01",
                 "scope": "excerpt"},
                {"kind": "ncci-mue", "path": str(SHARED_DATA / MUE), "licence": lic, "release": "2024-07-01"},
                {"kind": "ncci-addon", "path": str(SHARED_DATA / ADDON), "licence": lic, "release": "2024-06"},
                {"kind": "mpfs", "path": str(SHARED_DATA / RVU), "licence": lic, "release": "2025-10"},
            ])

        inputs = [ROOT / "data" / "payers.csv", ROOT / "data" / "briefings" / "cpt-74360.txt", SHARED_DATA / "icd10cm",
                  *(SHARED_DATA / name for name in (NUCC, MODS, PTP, EXCERPT, MUE, ADDON, RVU)), Path(__file__)]
        store = cached_store("conformance-real", None, build, inputs)
        self.ptp_line = _ptp_lines()
        return store

    def _written(self) -> Any:
        from tests.conformance import written

        folder = self.folder / "written"
        folder.mkdir()
        paths = written.write(folder)
        lic = "written by the conformance suite"
        return _build(folder, [
            {"kind": "hcpcs", "path": str(SHARED_DATA / HCPCS), "licence": lic},
            {"kind": "cpt-modifiers", "path": "builtin:cpt-modifiers", "licence": lic},
            *({"kind": kind, "path": str(p), "licence": lic, **extra} for kind, p, extra in paths),
        ])


@pytest.fixture(scope="session")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    require()
    return Stores(tmp_path_factory.mktemp("conformance"))


def raw_path(raw: Raw, stores: Stores) -> Path:
    if raw.file.startswith("written/"):
        return stores.folder / raw.file
    return SHARED_DATA / raw.file


def ptp_evidence_line(stores: Stores, raw: Raw) -> int:
    """The line of a raw PTP flat row in the store's cut-down file (other files: the raw line)."""
    if raw.file == PTP:
        stores["real"]
        return stores.ptp_line[raw.line]
    return raw.line


def case_id(case: Case) -> str:
    return case.id
