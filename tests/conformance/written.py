"""Files the conformance suite writes, for what the real files cannot show, each row stated from
the CMS definition it exercises.

* ``rvu-2026-01.csv``: the October 2025 RVU file's notice and header lines (copied), then rows
  of real codes with the values the tests need: status D, F, G (the October 2025 file has none)
  and H on a 26 row; PCTC IND 6 and PCTC IND 1 without component rows; MULT PROC 1.
* ``ptp-2025-10-01.txt`` and ``ptp-2026-01-01.txt``: two complete releases in the official
  tab-delimited layout; ``ptp-2026-04-01-excerpt.txt``: an excerpt in the same layout.
* ``mue-2025-10-01.csv`` (complete) and ``mue-2026-04-01-excerpt.csv`` (an excerpt), flat layout.

``ROWS`` names, per file, the 1-based line of each row the cases cite.
"""

from __future__ import annotations

from pathlib import Path

from tests.shared import SHARED_DATA

#: file -> key -> 1-based line (filled by ``write``)
ROWS: dict[str, dict[str, int]] = {}

_PTP_HEADER = [
    "CPT only copyright 2025 American Medical Association.  All rights reserved.\t\t\t\t\t\t",
    "Column1/Column2 Edits\t\t\t\t\t\t",
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
    "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
    "\t\t\t\t*=no data\t1=allowed\t",
    "\t\t\t\t\t9=not applicable\t",
]

#: (key, column 1, column 2, effective, deletion, indicator) per release
PTP = {
    "ptp-2025-10-01.txt": [
        ("pair1", "29877", "29880", "20210101", "*", "0"),
        ("pair3", "20552", "20553", "20200101", "*", "1"),
        ("pair4", "12001", "12002", "20200101", "*", "0"),
    ],
    "ptp-2026-01-01.txt": [
        ("pair1", "29877", "29880", "20210101", "20251231", "0"),
        ("pair2", "64483", "64479", "20260101", "*", "0"),
        ("pair3", "20552", "20553", "20200101", "*", "1"),
        ("pair4", "12001", "12002", "20200101", "*", "0"),
    ],
    "ptp-2026-04-01-excerpt.txt": [
        ("pair3", "20552", "20553", "20200101", "20260331", "1"),
    ],
}

#: (key, code, units, adjudication indicator) per release
MUE = {
    "mue-2025-10-01.csv": [("20552", "20552", "1", "2"), ("20553", "20553", "1", "3")],
    "mue-2026-04-01-excerpt.csv": [("20552", "20552", "3", "2")],
}


def _rvu_rows() -> list[tuple[str, list[str]]]:
    """(key, row cells): real codes, values as the tests write them."""
    template = "{code},{mod},,{status},,1.00,1.00,,1.00,,0.10,2.10,2.10,{pctc},{glob},0.00,0.00,0.00,{mult},0,0,0,0,," \
               "32.3465,09,0,99,0.00,0.00,0.00"

    def row(key: str, code: str, status: str, pctc: str = "0", mod: str = "", glob: str = "000",
            mult: str = "2") -> tuple[str, list[str]]:
        return key, template.format(code=code, mod=mod, status=status, pctc=pctc, glob=glob, mult=mult).split(",")

    return [
        row("D", "0446T", "D"),
        row("F", "0447T", "F"),
        row("G", "0448T", "G"),
        row("H-global", "0509T", "A", pctc="1", glob="XXX"),
        row("H-26", "0509T", "H", pctc="1", mod="26", glob="XXX"),
        row("H-TC", "0509T", "A", pctc="1", mod="TC", glob="XXX"),
        row("pctc6", "86077", "A", pctc="6", glob="XXX"),
        row("pctc1-no-rows", "76499", "A", pctc="1", glob="XXX"),
        row("mult1", "17000", "A", mult="1", glob="010"),
        row("A", "20552", "A", glob="000"),
    ]


def write(folder: Path) -> list[tuple[str, Path, dict[str, str]]]:
    """Write the files into ``folder`` (``folder`` / name); (kind, path, manifest extras) of each."""
    out: list[tuple[str, Path, dict[str, str]]] = []
    head = (SHARED_DATA / "mpfs" / "PPRRVU2025_Oct_nodesc.csv").read_text(encoding="utf-8").split("\n")[:10]
    rows = _rvu_rows()
    ROWS["rvu-2026-01.csv"] = {key: 11 + i for i, (key, _) in enumerate(rows)}
    path = folder / "rvu-2026-01.csv"
    path.write_text("\n".join([*head, *(",".join(cells) for _, cells in rows)]) + "\n", encoding="utf-8")
    out.append(("mpfs", path, {"release": "2026-01"}))
    for name, edits in PTP.items():
        ROWS[name] = {key: 7 + i for i, (key, *_rest) in enumerate(edits)}
        lines = [*_PTP_HEADER, *(f"{c1}\t{c2}\t\t{eff}\t{dele}\t{mi}\tWritten by the conformance suite"
                                 for _, c1, c2, eff, dele, mi in edits)]
        out.append(_release_file(folder, name, "ncci-ptp", lines, "\r\n"))
    for name, limits in MUE.items():
        ROWS[name] = {key: 2 + i for i, (key, *_rest) in enumerate(limits)}
        lines = ["hcpcs_code,mue_units,mue_mai,mue_rationale,mue_service",
                 *(f"{code},{units},{mai},Written by the conformance suite,Practitioner"
                   for _, code, units, mai in limits)]
        out.append(_release_file(folder, name, "ncci-mue", lines, "\n"))
    return out


def _release_file(folder: Path, name: str, kind: str, lines: list[str], end: str) -> tuple[str, Path, dict[str, str]]:
    """Write a release file named ``<kind>-<YYYY-MM-DD>[-excerpt].<ext>``; (kind, path, manifest extras)."""
    path = folder / name
    path.write_text(end.join(lines) + end, encoding="utf-8")
    extra = {"release": name.split("-", 1)[1][:10]}
    if "excerpt" in name:
        extra["scope"] = "excerpt"
    return kind, path, extra


def line(file: str, key: str) -> int:
    """The 1-based line of a written row (computed without writing)."""
    if file == "rvu-2026-01.csv":
        return 11 + [k for k, _ in _rvu_rows()].index(key)
    if file in PTP:
        return 7 + [k for k, *_ in PTP[file]].index(key)
    return 2 + [k for k, *_ in MUE[file]].index(key)
