"""Medicare Physician Fee Schedule relative value file (PPRRVU) -> FeeScheduleRow records, and the
modifier rules its indicators imply.

Input: the official CSV layout of the national relative value file (e.g. ``PPRRVU2025_Oct``):
notice and heading lines, a column header spread over several lines whose last line starts
``HCPCS,MOD,DESCRIPTION``, then one row per code and modifier (blank, ``26``, ``TC``, ``53``).
Column names are built by joining each column's pieces from the header lines ("PCTC" + "IND" ->
``PCTC IND``, "CO-" + "SURG" -> ``CO-SURG``) and columns are found by these names, never by
position.

Output (``read``): ``Meta`` (release such as ``2025-10``, the AMA / ADA notice, layout), one
``Code`` per distinct code (D codes are CDT dental codes in the HCPCS pattern) and per modifier,
and one ``Row("FeeScheduleRow")`` per row holding the indicators that decide modifiers: status,
PC/TC, global days, multiple procedure, bilateral, assistant, co- and team surgery, endoscopic
base code. A row with a modifier also carries the plain triple ``MOD:26 kg:modifierFor CPT:x``:
the file prices that modifier for that code. RVUs and amounts are not read.

The documented values of each indicator, and what they mean for modifiers
(``modifier_verdicts``), are those of ``kgraph.rules`` (``rules/readers.py``, ``rules/fee.py``).

Problems, never raised: a file without the ``HCPCS,MOD,DESCRIPTION`` header or without a needed
column is refused; a row whose code is not CPT / HCPCS shaped or whose indicator is outside its
documented set is skipped, all its bad fields named at once. Does not price anything, apply
GPCIs or read the other files of the RVU zip; imports no RDF library.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import procedure_curie
from kgraph.records import Code, Meta, Problem, Record, Ref, Row, Value
from kgraph.rules import fee, readers
from kgraph.sources._io import CsvRows, read_text

TERMS: dict[str, tuple[str, str]] = {
    "FeeScheduleRow": ("class", "A row of the Medicare Physician Fee Schedule relative value file: a code "
                       "(and optional 26 / TC / 53 modifier) with the payment-policy indicators that decide "
                       "which modifiers Medicare recognises for it."),
    "procedure": ("object", "The CPT / HCPCS code a code-set row is about (an MUE limit, a fee-schedule "
                  "row)."),
    "modifier": ("object", "The modifier of a fee-schedule row: 26 professional component, TC technical "
                 "component, 53 discontinued procedure; absent for the global service."),
    "status": ("datatype:string", "Fee schedule status code: A active, B bundled, C contractor priced, "
               "E excluded, I not valid for Medicare, J anesthesia, M measurement, N non-covered, "
               "P bundled/excluded, R restricted, T injection, X statutory exclusion, ..."),
    "pctc": ("datatype:string", "PC/TC indicator 0-9: whether modifiers 26 / TC apply (1 both; 6 26 only; "
             "0, 2-5, 7-9 neither)."),
    "globalDays": ("datatype:string", "Global surgery period: 000, 010, 090, MMM, XXX, YYY or ZZZ."),
    "multProc": ("datatype:string", "Multiple procedure indicator (modifier 51): 0 none, 1-2 standard, "
                 "3 endoscopy family, 4 imaging, 5 therapy, 6 cardiovascular, 7 ophthalmology, 9 n/a."),
    "bilatSurg": ("datatype:string", "Bilateral surgery indicator (modifier 50): 0, 2, 3, 9 no 150% "
                  "adjustment; 1 150% adjustment."),
    "asstSurg": ("datatype:string", "Assistant at surgery indicator (80, 81, 82, AS): 0 with documentation, "
                 "1 never paid, 2 paid, 9 n/a."),
    "coSurg": ("datatype:string", "Co-surgeon indicator (modifier 62): 0 not permitted, 1 with "
               "documentation, 2 permitted, 9 n/a."),
    "teamSurg": ("datatype:string", "Team surgery indicator (modifier 66): 0 not permitted, 1 with "
                 "documentation, 2 permitted, 9 n/a."),
    "endoBase": ("object", "The endoscopic base code of an endoscopy with multiple procedure indicator 3."),
}

HEADER_START = ("HCPCS", "MOD", "DESCRIPTION")

#: column name -> (Row field, the values the record layout defines: kgraph.rules)
COLUMNS: dict[str, tuple[str, frozenset[str] | None]] = {
    name: (field, readers.fee_values(field)) for name, field in readers.fee_columns().items()}
MODIFIERS = frozenset({"26", "TC", "53"})  # the only modifiers the file gives rows of their own
_TITLE = re.compile(r"(\d{4})\s+National Physician Fee Schedule Relative Value File\s+(\w+)\s+Release", re.I)
_NAME = re.compile(r"RVU(\d{4})_?([A-Za-z]{3})", re.I)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}


def _release(path: str | Path, title: str) -> str | None:
    """``2025-10`` from the title line (``... Relative Value File October Release``) or the name."""
    for match in (_TITLE.search(title), _NAME.search(Path(path).name)):
        if match and match.group(2)[:3].lower() in _MONTHS:
            return f"{match.group(1)}-{_MONTHS[match.group(2)[:3].lower()]:02d}"
    return None


def column_names(header_lines: list[list[str]]) -> list[str]:
    """Each column's name: its pieces from the header lines joined, ``CO- SURG`` -> ``CO-SURG``.

    >>> column_names([["", "PCTC", "CO-"], ["HCPCS", "IND", "SURG"]])
    ['HCPCS', 'PCTC IND', 'CO-SURG']
    """
    width = max(len(cells) for cells in header_lines)
    names = []
    for i in range(width):
        pieces = [cells[i].strip() for cells in header_lines if i < len(cells) and cells[i].strip()]
        names.append(re.sub(r"-\s+", "-", " ".join(" ".join(pieces).split())).upper())
    return names


def read(path: str | Path, *, display: str | None = None, release: str | None = None,
         **_: object) -> Iterator[Record]:
    """FeeScheduleRow records (and Codes, Meta) of a physician fee schedule relative value file."""
    shown = display or str(path)
    text, problem = read_text(path, shown)
    if problem:
        yield problem
        return
    reader = CsvRows(csv.reader(io.StringIO(text, newline="")), shown)
    head: list[list[str]] = []
    for cells in reader:
        head.append(cells)
        if [c.strip().upper() for c in cells[:3]] == list(HEADER_START) or len(head) >= 30:
            break
    if reader.problem:
        yield reader.problem
        return
    if not head or [c.strip().upper() for c in head[-1][:3]] != list(HEADER_START):
        first = ",".join(head[0]) if head else ""
        first = first if len(first) <= 80 else first[:80] + "..."
        msg = ("not a physician fee schedule relative value file: expected a header row starting "
               f"'HCPCS,MOD,DESCRIPTION' within the first 30 lines; found {first!r} on line 1")
        yield Problem(Origin(shown, 1), msg, action="file refused")
        return
    header_at = reader.line_num  # physical line of the HCPCS,MOD,DESCRIPTION row
    # the header block: the HCPCS line and the lines above it naming columns past DESCRIPTION
    start = len(head) - 1
    while start > 0 and any(c.strip() for c in head[start - 1][3:]):
        start -= 1
    names = column_names(head[start:])
    col = {name: i for i, name in enumerate(names) if name}
    missing = [n for n in ("HCPCS", "MOD", *COLUMNS, "ENDO BASE") if n not in col]
    if missing:
        yield Problem(Origin(shown, header_at), f"fee schedule header has no column {', '.join(missing)}",
                      action="file refused")
        return
    lines = [" ".join(" ".join(c.strip() for c in cells if c.strip()).split()) for cells in head[:start]]
    label = release or _release(path, " ".join(lines))
    if label:
        yield Meta("release", label, Origin(shown))
    yield Meta("layout", "official", Origin(shown))
    notice = [ln for ln in lines if "copyright" in ln.lower()]
    if notice:
        yield Meta("notice", "\n".join(notice), Origin(shown, lines.index(notice[0]) + 1))
    yield from _rows(shown, reader, col, header_at)
    if reader.problem:
        yield reader.problem


def _rows(shown: str, reader: CsvRows, col: dict[str, int], header_at: int) -> Iterator[Record]:
    seen: set[str] = set()
    indicators = [(name, field, allowed, col[name]) for name, (field, allowed) in COLUMNS.items()]
    i_code, i_mod, i_endo = col["HCPCS"], col["MOD"], col["ENDO BASE"]
    width = max(col.values()) + 1
    end = header_at
    for cells in reader:
        line, end = end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        origin = Origin(shown, line)
        if len(cells) < width:
            yield Problem(origin, f"expected {width} fields, found {len(cells)}")
            continue
        code, mod, endo = cells[i_code].strip().upper(), cells[i_mod].strip().upper(), cells[i_endo].strip()
        curie = procedure_curie(code)
        if curie is None:
            yield Problem(origin, f"HCPCS {code!r} is not a CPT or HCPCS code")
            continue
        bad = []
        fields: list[tuple[str, Value]] = [("procedure", Ref(curie))]
        if mod:
            if mod in MODIFIERS:
                fields.append(("modifier", Ref("MOD:" + mod)))
            else:
                bad.append(f"MOD {mod!r} is not one of 26, TC, 53")
        for name, field, allowed, i in indicators:
            value = cells[i].strip()
            if allowed is not None and value not in allowed:
                bad.append(f"{name} {value!r} is not one of {', '.join(sorted(allowed))}")
            fields.append((field, value))
        endo_curie = procedure_curie(endo) if endo else None
        if endo and endo_curie is None:
            bad.append(f"ENDO BASE {endo!r} is not a CPT or HCPCS code")
        if bad:
            yield Problem(origin, "; ".join(bad), curie=curie)
            continue
        if endo_curie:
            fields.append(("endoBase", Ref(endo_curie)))
        for new in (curie, f"MOD:{mod}" if mod else None, endo_curie):
            if new and new not in seen:
                seen.add(new)
                yield Code(new, origin)
        edge = (f"MOD:{mod}", "modifierFor", curie) if mod else None
        yield Row("FeeScheduleRow", origin, tuple(fields), edge)


# --- modifier rules: kgraph.rules.fee (re-exported here for callers of this module) -----------------

Verdict = fee.Verdict
modifier_verdicts = fee.modifier_verdicts
