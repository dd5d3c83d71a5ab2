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

``modifier_verdicts`` applies the documented meaning of those indicators (CMS RVU file
documentation, Attachment A) to one code: which of 26, TC, 51, 50, 62, 66, 80, 81, 82, AS, 78,
79 and the anesthesia modifiers the fee schedule allows, and how serious a misuse is.

Problems, never raised: a file without the ``HCPCS,MOD,DESCRIPTION`` header or without a needed
column is refused; a row whose code is not CPT / HCPCS shaped or whose indicator is outside its
documented set is skipped, all its bad fields named at once. Does not price anything, apply
GPCIs or read the other files of the RVU zip; imports no RDF library.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Code, Meta, Problem, Record, Ref, Row, Value
from kgraph.sources._text import CsvRows, read_text

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

#: column name -> (Row field, documented values or None for free text / a code)
COLUMNS: dict[str, tuple[str, frozenset[str] | None]] = {
    "STATUS CODE": ("status", frozenset("ABCDEFGHIJMNPRTX")),
    "PCTC IND": ("pctc", frozenset("0123456789")),
    "GLOB DAYS": ("globalDays", frozenset({"000", "010", "090", "MMM", "XXX", "YYY", "ZZZ"})),
    "MULT PROC": ("multProc", frozenset("012345679")),
    "BILAT SURG": ("bilatSurg", frozenset("01239")),
    "ASST SURG": ("asstSurg", frozenset("0129")),
    "CO-SURG": ("coSurg", frozenset("0129")),
    "TEAM SURG": ("teamSurg", frozenset("0129")),
}
MODIFIERS = frozenset({"26", "TC", "53"})  # the only modifiers the file gives rows of their own
_TITLE = re.compile(r"(\d{4})\s+National Physician Fee Schedule Relative Value File\s+(\w+)\s+Release", re.I)
_NAME = re.compile(r"RVU(\d{4})_?([A-Za-z]{3})", re.I)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}


def _code_curie(code: str) -> str | None:
    if is_valid("CPT", code):
        return "CPT:" + code
    if is_valid("HCPCS", code):
        return "HCPCS:" + code
    return None


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
        curie = _code_curie(code)
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
        endo_curie = _code_curie(endo) if endo else None
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


# --- modifier rules ------------------------------------------------------------------------------------

VerdictSeverity = Literal["error", "warning", "info"]

#: anesthesia modifiers (HCPCS category "Anesthesia" in the 2024 modifier list, CPT 23, and the
#: P1-P6 physical status modifiers): reported on anesthesia codes 00100-01999 only. 47 (anesthesia
#: by surgeon) is left out on purpose: it goes on the surgical code.
ANESTHESIA_MODIFIERS = ("AA", "AD", "G8", "G9", "QK", "QS", "QX", "QY", "QZ", "23",
                        "P1", "P2", "P3", "P4", "P5", "P6")

_PCTC = {"0": "physician service", "1": "diagnostic test with professional and technical components",
         "2": "professional component only code", "3": "technical component only code",
         "4": "global test only code", "5": "incident-to code", "6": "laboratory physician interpretation code",
         "7": "physical therapy service not payable", "8": "physician interpretation code",
         "9": "concept does not apply"}
_MULT = {"0": "no multiple procedure reduction applies, so 51 has no effect",
         "1": "pre-1995 standard multiple procedure rules apply",
         "2": "standard multiple procedure reduction applies (100%, 50%, ...)",
         "3": "special endoscopy rules apply within the family of base code {endo}",
         "4": "the diagnostic imaging reduction (TC 50%, PC 5%) applies by family whether or not 51 is reported",
         "5": "the therapy reduction (50% of practice expense) applies whether or not 51 is reported",
         "6": "the diagnostic cardiovascular reduction (TC 25%) applies whether or not 51 is reported",
         "7": "the diagnostic ophthalmology reduction (TC 20%) applies whether or not 51 is reported",
         "9": "the multiple procedure concept does not apply, so 51 has no effect"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the fee schedule says about one modifier on one code, and why."""

    modifier: str
    allowed: bool
    severity: VerdictSeverity | None
    reason: str


def modifier_verdicts(code_row: Mapping[str, object], *, has_26_row: bool, has_tc_row: bool) -> dict[str, Verdict]:
    """The fee-schedule verdict for each modifier its indicators decide, for one code.

    ``code_row`` holds the fields of the code's row without modifier (the global service), named
    as in ``FeeScheduleRow`` (``procedure``, ``pctc``, ``globalDays``, ``multProc``,
    ``bilatSurg``, ``asstSurg``, ``coSurg``, ``teamSurg``, ``endoBase``); ``has_26_row`` /
    ``has_tc_row`` say whether the file has a (code, 26) / (code, TC) row. A modifier missing
    from the result (59, 22, 52, XS, ...) is not decided by the fee schedule.

    Severities: ``None`` allowed; ``info`` allowed, with a note on how it is paid; ``warning``
    allowed only with documentation, or not allowed but harmless (the modifier changes nothing
    or the contractor decides); ``error`` not allowed (a claim line would be denied or
    mispriced). The cases the rules leave open were decided so:

    * 26 / TC: allowed only when the file has that row (PC/TC 1, or 6 for 26). PC/TC 1 with
      no such row: ``warning`` (the indicator allows it but nothing prices it); any other
      indicator: ``error``, the code cannot be split.
    * 51: MULT PROC 2 allowed; 1, 3 (endoscopy family, ENDO BASE named) and 4-7 (reductions
      applied by family whether or not 51 is reported) ``info``; 0 and 9 ``warning``: 51
      changes nothing, but it is not a reason to deny.
    * 50: BILAT SURG 1 allowed (150%); 3 ``info`` (each side at 100%); 0, 2, 9 ``warning``:
      paid at 100% of one code, so 50 is wrong but costs only the adjustment.
    * 62 / 66: CO-SURG / TEAM SURG 2 allowed (66 ``info``: paid by report); 1 ``warning``
      (documentation of medical necessity required); 0 ``error`` (not permitted); 9 ``error``
      (no co- / team surgery for this kind of service: a coding error).
    * 80 / 81 / 82 / AS: ASST SURG 2 allowed; 0 ``warning`` (paid only with documentation);
      1 ``error`` (statutory bar); 9 ``error`` (no assistant at surgery for this service).
    * 78 / 79: GLOB DAYS 010 or 090 allowed; 000, YYY and ZZZ ``warning`` (same-day return
      only / the contractor sets the period / an add-on follows its primary); MMM ``warning``
      (maternity: the usual global period does not apply); XXX ``error`` (no global period, so
      there is nothing to return during).
    * anesthesia modifiers (``ANESTHESIA_MODIFIERS``) on a code outside 00100-01999: ``error``.

    >>> row = {"procedure": "CPT:74360", "pctc": "1", "globalDays": "XXX", "multProc": "0",
    ...        "bilatSurg": "0", "asstSurg": "0", "coSurg": "0", "teamSurg": "0"}
    >>> v = modifier_verdicts(row, has_26_row=True, has_tc_row=True)
    >>> v["26"].allowed, v["62"].severity, v["80"].severity, v["QK"].severity
    (True, 'error', 'warning', 'error')
    >>> v["78"].reason
    'GLOB DAYS XXX: the global surgery concept does not apply, so there is no postoperative period for 78/79'
    """
    get = {k: ("" if v is None else (v.curie if isinstance(v, Ref) else str(v)).strip()) for k, v in code_row.items()}
    pctc, glob, mult = get.get("pctc", ""), get.get("globalDays", ""), get.get("multProc", "")
    code = get.get("procedure", "").rpartition(":")[2]
    out: dict[str, Verdict] = {}

    def put(mod: str, allowed: bool, severity: VerdictSeverity | None, reason: str) -> None:
        out[mod] = Verdict(mod, allowed, severity, reason)

    pctc_says = f"PCTC IND {pctc} ({_PCTC.get(pctc, 'undocumented value')})"
    for mod, has_row, part in (("26", has_26_row, "professional"), ("TC", has_tc_row, "technical")):
        if has_row:
            put(mod, True, None, f"{pctc_says}: the fee schedule prices a {mod} ({part} component) row")
        elif pctc == "1":
            put(mod, False, "warning", f"{pctc_says} allows {mod}, but this file has no {mod} row to price it")
        else:
            put(mod, False, "error", f"{pctc_says}: the code has no separately payable {part} component, "
                                     f"so {mod} cannot be used")

    endo = get.get("endoBase", "").rpartition(":")[2] or "(none given)"
    says = f"MULT PROC {mult}: " + _MULT.get(mult, "undocumented value").format(endo=endo)
    put("51", mult in _MULT and mult not in ("0", "9"),
        None if mult == "2" else "info" if mult in ("1", "3", "4", "5", "6", "7") else "warning", says)

    bilat = get.get("bilatSurg", "")
    if bilat == "1":
        put("50", True, None, "BILAT SURG 1: the 150% bilateral payment adjustment applies")
    elif bilat == "3":
        put("50", True, "info", "BILAT SURG 3: the usual bilateral adjustment does not apply; each side is "
                                "paid at 100%")
    else:
        why = {"0": "the 150% adjustment does not apply (unilateral by anatomy, or a bilateral code exists)",
               "2": "the RVUs are already those of a bilateral procedure",
               "9": "the bilateral concept does not apply"}.get(bilat, "undocumented value")
        put("50", False, "warning", f"BILAT SURG {bilat}: {why}; both sides are paid at 100% of one code")

    for mod, name, field, who in (("62", "CO-SURG", "coSurg", "co-surgeons"),
                                  ("66", "TEAM SURG", "teamSurg", "team surgeons")):
        value = get.get(field, "")
        if value == "2":
            put(mod, True, "info" if mod == "66" else None,
                f"{name} 2: {who} permitted" + ("; paid by report" if mod == "66" else ""))
        elif value == "1":
            put(mod, True, "warning", f"{name} 1: {who} paid only with documentation of medical necessity")
        elif value == "0":
            put(mod, False, "error", f"{name} 0: {who} not permitted for this procedure")
        else:
            put(mod, False, "error", f"{name} {value or '(blank)'}: the {who} concept does not apply to this code")

    asst = get.get("asstSurg", "")
    for mod in ("80", "81", "82", "AS"):
        if asst == "2":
            put(mod, True, None, "ASST SURG 2: an assistant at surgery may be paid")
        elif asst == "0":
            put(mod, True, "warning", "ASST SURG 0: an assistant at surgery is paid only with documentation "
                                      "of medical necessity")
        elif asst == "1":
            put(mod, False, "error", "ASST SURG 1: statutory payment restriction, an assistant at surgery is "
                                     "never paid")
        else:
            put(mod, False, "error", f"ASST SURG {asst or '(blank)'}: the assistant at surgery concept does "
                                     "not apply to this code")

    global_says = {
        "000": (True, "warning", "the global period is the day of the procedure only, so 78/79 fit only a "
                                 "return on that day"),
        "YYY": (True, "warning", "the contractor sets the global period"),
        "ZZZ": (True, "warning", "an add-on code within its primary's global period: 78/79 belong on the "
                                 "primary procedure"),
        "MMM": (False, "warning", "maternity code: the usual global period does not apply"),
        "XXX": (False, "error", "the global surgery concept does not apply, so there is no postoperative "
                                "period for 78/79"),
    }
    for mod in ("78", "79"):
        if glob in ("010", "090"):
            put(mod, True, None, f"GLOB DAYS {glob}: a {int(glob)}-day postoperative period")
        else:
            allowed, severity, why = global_says.get(glob, (False, "error", "undocumented value"))
            put(mod, allowed, severity, f"GLOB DAYS {glob or '(blank)'}: {why}")  # type: ignore[arg-type]

    anesthesia = code.isdigit() and len(code) == 5 and 100 <= int(code) <= 1999
    for mod in ANESTHESIA_MODIFIERS:
        if anesthesia:
            put(mod, True, None, f"{code} is an anesthesia code (00100-01999)")
        else:
            put(mod, False, "error", f"{mod} is an anesthesia modifier; {code or 'the code'} is not an "
                                     "anesthesia code (00100-01999)")
    return out
