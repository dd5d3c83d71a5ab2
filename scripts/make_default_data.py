"""Make data/'s code-set files for the default build from the official files in ../shared/data.

The default build carries what is small and free to redistribute: the ICD-10-CM order files
(FY2020-FY2026, public domain, unmodified CMS zips), NUCC v25.1 (free download, notice kept,
unaltered), the CMS specialty crosswalk and the HCPCS Level II file (public domain), and the
rows of the NCCI PTP / MUE / add-on files and the fee schedule that involve the procedure codes
the default briefings mention (same layouts, notice lines kept). Run from the project root:

    python scripts/make_default_data.py [--shared ../shared/data]

It is deterministic: the same inputs give the same files (tests/test_default_data.py checks).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kgraph.records import Code, Edge  # noqa: E402
from kgraph.sources import briefing  # noqa: E402

COPIES = [
    *(f"icd10cm/cms_{year}_dx.zip" for year in range(2020, 2027)),
    "nucc/nucc_taxonomy_251.csv",
    "nucc/nucc_file_info.csv",
    "nucc/cms_medicare_specialty_taxonomy_crosswalk_2025-01-02.csv",
    "hcpcs/2020-Alpha-Numeric-HCPCS-File.zip",
]


def briefing_codes(folder: Path) -> set[str]:
    """Procedure codes (bare) named by the default briefings."""
    codes: set[str] = set()
    for path in sorted(folder.glob("*.txt")):
        for record in briefing.read(path):
            names = [record.curie] if isinstance(record, Code) else (
                [record.subject, record.object] if isinstance(record, Edge) else [])
            codes.update(n.split(":", 1)[1] for n in names if n.startswith(("CPT:", "HCPCS:")))
    return codes


def subset_lines(src: Path, dst: Path, keep, *, opener=open) -> int:
    """Copy ``src`` to ``dst`` keeping every line for which ``keep(line)`` is true (bytes, CRLF kept)."""
    kept = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with opener(src, "rb") as fin, open(dst, "wb") as fout:
        for number, line in enumerate(fin, 1):
            if keep(number, line):
                fout.write(line)
                kept += 1
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    shared, data = args.shared, ROOT / "data"
    for rel in COPIES:
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared / rel, data / rel)
    codes = briefing_codes(data / "briefings")
    wanted = {c.encode() for c in codes}
    print(f"procedure codes in the default briefings: {', '.join(sorted(codes))}")

    def first_cells(line: bytes, sep: bytes, n: int) -> list[bytes]:
        return [c.strip().strip(b'"') for c in line.split(sep)[:n]]

    n = subset_lines(shared / "ncci/ptp_practitioner_2024-07-01_flat.csv.gz",
                     data / "ncci/ptp_practitioner_2024-07-01_flat.csv",
                     lambda i, ln: i == 1 or bool(set(first_cells(ln, b",", 2)) & wanted), opener=gzip.open)
    print(f"PTP rows kept: {n - 1}")
    n = subset_lines(shared / "ncci/ncci_mue_practitioner_2024-07-01.csv",
                     data / "ncci/ncci_mue_practitioner_2024-07-01.csv",
                     lambda i, ln: i == 1 or first_cells(ln, b",", 1)[0] in wanted)
    print(f"MUE rows kept: {n - 1}")
    n = subset_lines(shared / "ncci/ncci_add_on_code_edits_2024-06.csv",
                     data / "ncci/ncci_add_on_code_edits_2024-06.csv",
                     lambda i, ln: i == 1 or bool(set(first_cells(ln, b",", 2)) & wanted))
    print(f"add-on rows kept: {n - 1}")
    mpfs = shared / "mpfs/PPRRVU2025_Oct_nodesc.csv"
    header_end = next(i for i, ln in enumerate(mpfs.read_bytes().splitlines(), 1) if ln.startswith(b"HCPCS,MOD,"))
    n = subset_lines(mpfs, data / "mpfs/PPRRVU2025_Oct_nodesc.csv",
                     lambda i, ln: i <= header_end or first_cells(ln, b",", 1)[0] in wanted)
    print(f"fee-schedule rows kept: {n - header_end}")


if __name__ == "__main__":
    main()
