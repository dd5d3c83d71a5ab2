"""NCCI code-set readers: procedure-to-procedure (PTP) edits, MUE limits and add-on code edits.

Input (each layout is recognised from the file's content, never from its name):

* ``read_ptp``: PTP edits, either the **official** quarterly layout (tab-delimited; notice
  lines, a header of several lines starting ``Column 1<TAB>Column 2``, then column 1, column 2,
  pre-1996 flag ``*``, effective ``YYYYMMDD``, deletion ``YYYYMMDD`` or ``*``, modifier
  indicator, rationale) or the **flat** CSV ``col1,col2,deletion_date,modifier_indicator,
  rationale`` (deletion ``YYYY-MM-DD`` or ``*``; no effective dates), plain or gzipped.
* ``read_mue``: MUE limits, the flat CSV ``hcpcs_code,mue_units,mue_mai,mue_rationale,...`` or
  the official CSV (a multi-line quoted notice cell, a two-line header ``HCPCS/ CPT Code``,
  ``... MUE Values``, ``MUE Adjudication Indicator`` whose cells read ``2 Date of Service
  Edit: Policy``, ``MUE Rationale``).
* ``read_addon``: add-on code edits ``primary_code,add_on_code,aoc_edit_type`` (optional
  effective / deletion date columns). ``CCCCC`` as primary means CMS lists no primary: it is
  never a node.

Output: ``Meta`` (release, effective, layout, notice), one ``Code`` per distinct code, one
``Row`` per edit (``PTPEdit``, ``MUELimit``, ``AddOnEdit``) whose ``edge`` is the plain
``kg:conflictsWith`` / ``kg:addOnTo`` triple when the edit is in effect at the file's date, and
``Problem`` records. Whether an edit is in effect at date D, and which indicator values a file
may hold, is ``kgraph.rules`` (effective <= D <= deletion; indicator 9 never applied). The file's date is
the ``release`` argument, else a date in the file name (``..._2024-07-01_flat.csv.gz``). The
official PTP layout states none, so without one the reader warns and writes no edges (the
latest effective date in a file is not its date: a quarter may add no edits); in the flat
layout an active edit (``*``) is in effect at the file's date whatever it is, an edit with a
deletion date gets an edge only when the date is known.

Nothing is raised for bad input: a row with an impossible date, an indicator outside its set or
a value that cannot be a code is skipped with a Problem naming file and 1-based physical line;
a file of another layout, or a truncated / corrupt gzip, is refused. Does not merge quarters,
compare releases or read zips; imports no RDF library.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import IO

from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Code, Meta, Problem, Record, Ref, Row, Value
from kgraph.rules import readers
from kgraph.sources._io import header_key, open_text

TERMS: dict[str, tuple[str, str]] = {
    "PTPEdit": ("class", "An NCCI procedure-to-procedure (PTP) edit: a column 1 and a column 2 procedure "
                "code that are not reported together for one patient on one date of service, with its "
                "modifier indicator, rationale and dates (one row of the CMS PTP file)."),
    "MUELimit": ("class", "An NCCI Medically Unlikely Edit: the most units of service of a procedure code "
                 "a provider reports for one patient on one date of service, with its adjudication "
                 "indicator and rationale (one row of the CMS MUE file)."),
    "AddOnEdit": ("class", "An NCCI add-on code edit: an add-on code and a primary code it is reported "
                  "with (absent when CMS lists none, CCCCC in the file), with the edit type."),
    "column1": ("object", "The column 1 code of an NCCI PTP edit: the code that stays payable."),
    "column2": ("object", "The column 2 code of an NCCI PTP edit: the code denied when reported with "
                "column 1, unless the modifier indicator allows a modifier and one applies."),
    "modifierIndicator": ("datatype:string", "NCCI PTP modifier indicator: 0 no modifier allowed, "
                          "1 a modifier (e.g. 59, XS) may bypass the edit, 9 not applicable."),
    "rationale": ("datatype:string", "The rationale CMS gives for an NCCI edit or MUE value."),
    "effectiveDate": ("datatype:date", "The date an NCCI edit took effect."),
    "deletionDate": ("datatype:date", "The last date an NCCI edit was in effect; absent while active."),
    "pre1996": ("datatype:string", "\"true\" when the official NCCI PTP file flags the edit as in "
                "existence prior to 1996."),
    "procedure": ("object", "The CPT / HCPCS code a code-set row is about (an MUE limit, a fee-schedule "
                  "row)."),
    "units": ("datatype:integer", "MUE: the most units of service per patient per date of service "
              "(0: the code is never payable for this kind of provider)."),
    "adjudicationIndicator": ("datatype:string", "MUE adjudication indicator: 1 claim line edit, "
                              "2 date of service edit (policy), 3 date of service edit (clinical)."),
    "addOn": ("object", "The add-on code of an NCCI add-on code edit."),
    "primary": ("object", "The primary code an add-on code is reported with."),
    "editType": ("datatype:string", "NCCI add-on edit type: 1 only the listed primary codes; 2 CMS "
                 "lists none, the contractor decides; 3 some primaries listed, others possible."),
}

FLAT_PTP = ("col1", "col2", "deletion_date", "modifier_indicator", "rationale")
FLAT_MUE = ("hcpcs_code", "mue_units", "mue_mai", "mue_rationale")
ADDON = ("primary_code", "add_on_code", "aoc_edit_type")
#: the values each NCCI file defines (kgraph.rules: tables/ncci_indicators.csv)
MODIFIER_INDICATORS = readers.ncci_values("ptp-modifier")
MUE_INDICATORS = readers.ncci_values("mue-mai")
EDIT_TYPES = readers.ncci_values("addon-type")
NO_PRIMARY = "CCCCC"  # the add-on file's "no CMS-defined primary list": not a code

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_BASIC_DATE = re.compile(r"^\d{8}$", re.ASCII)
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_NAME_DATES = (  # (pattern, group order year, month, day) for dates in file names
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)", re.ASCII), (1, 2, 3)),
    (re.compile(r"(?<!\d)(\d{2})-(\d{2})-(\d{4})(?!\d)", re.ASCII), (3, 1, 2)),  # MUE ..._Eff_01-01-2026
    (re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)", re.ASCII), (1, 2, 3)),
)
_NAME_MONTH = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?![\d-])", re.ASCII)
_SHOWN_CHARS = 80


# --- shared helpers --------------------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    """A date written ``YYYY-MM-DD``, ``YYYYMMDD`` or ``MM/DD/YYYY``; None if impossible or other.

    >>> parse_date("20240701"), parse_date("2024-07-01"), parse_date("20241332")
    (datetime.date(2024, 7, 1), datetime.date(2024, 7, 1), None)
    """
    try:
        if _BASIC_DATE.match(text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
        m = _SLASH_DATE.match(text)
        if m:
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None
    return None


def release_of(path: str | Path, release: str | None) -> tuple[str | None, date | None]:
    """The file's release as written (argument, else a date in the file name) and its date.

    >>> release_of("ptp_practitioner_2024-07-01_flat.csv.gz", None)
    ('2024-07-01', datetime.date(2024, 7, 1))
    >>> release_of("ncci_add_on_code_edits_2024-06.csv", None)
    ('2024-06', datetime.date(2024, 6, 1))
    >>> release_of("ccipra-v321r0-f1.txt", "2025-10-01")
    ('2025-10-01', datetime.date(2025, 10, 1))
    """
    if release:
        when = parse_date(release.strip())
        if when is None and re.match(r"^\d{4}-\d{2}$", release.strip()):
            when = parse_date(release.strip() + "-01")
        if when is not None:
            return release.strip(), when
    name = Path(path).name
    for pattern, (y, m, d) in _NAME_DATES:
        for match in pattern.finditer(name):
            try:
                when = date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError:
                continue
            return release.strip() if release else when.isoformat(), when
    month = _NAME_MONTH.search(name)
    if month and 1 <= int(month.group(2)) <= 12 and int(month.group(1)) >= 1:  # no year 0
        return release.strip() if release else month.group(0), date(int(month.group(1)), int(month.group(2)), 1)
    return (release.strip() if release else None), None


def in_effect(when: date | None, effective: date | None, deletion: date | None, indicator: str = "") -> bool:
    """Whether an edit applies on ``when`` (``kgraph.rules.readers.applies``: effective <= when <=
    deletion, a missing date being open; modifier indicator 9 never applies).

    >>> in_effect(date(2022, 1, 1), date(2022, 1, 1), date(2022, 1, 1), "9")
    False
    >>> in_effect(date(2025, 10, 1), date(2018, 7, 1), date(2026, 6, 30), "1")
    True
    """
    return readers.applies(effective, deletion, indicator, when)


def code_curie(code: str) -> str | None:
    """``CPT:74360`` / ``HCPCS:G0008`` for a CPT- or HCPCS-shaped code, else None."""
    code = code.strip().upper()
    if is_valid("CPT", code):
        return "CPT:" + code
    if is_valid("HCPCS", code):
        return "HCPCS:" + code
    return None


class _Codes:
    """Ref per distinct code string, checked once; ``ref`` reports first sightings as Codes.

    Code-set files repeat a few thousand codes millions of times, so hot loops look codes up in
    ``refs`` (valid codes only) and call ``ref`` only for a code not seen yet or not valid.
    """

    def __init__(self) -> None:
        self.refs: dict[str, Ref] = {}
        self.bad: set[str] = set()

    def ref(self, code: str, origin: Origin, out: list[Record]) -> Ref | None:
        found = self.refs.get(code)
        if found is None and code not in self.bad:
            curie = code_curie(code)
            if curie is None:
                self.bad.add(code)
                return None
            found = self.refs[code] = Ref(curie)
            out.append(Code(curie, origin))
        return found


def _shown(text: str) -> str:
    text = text.rstrip("\r\n").replace("\t", "<TAB>")
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


#: what a broken stream raises while being read: truncated / corrupt gzip, bad bytes, bad CSV
_READ_ERRORS = (EOFError, OSError, zlib.error, UnicodeDecodeError, csv.Error)


def _broken(path: str | Path, shown: str, line: int, exc: Exception) -> Problem:
    """The Problem for a stream that broke after ``line`` complete lines were read."""
    if isinstance(exc, UnicodeDecodeError):
        # text is decoded in chunks, so the line reached may be short of the bad byte: find it
        try:
            where, column, byte = _first_bad_byte(path)
        except (EOFError, OSError, zlib.error) as broken:  # a gzip that also breaks before that line ends
            return _broken(path, shown, line, broken)
        return Problem(Origin(shown, where), f"not UTF-8: byte 0x{byte:02x} at column {column}; save the file "
                       "as UTF-8", action="file refused")
    if isinstance(exc, csv.Error):  # raised on the line ``line`` (the csv reader has counted it)
        return Problem(Origin(shown, max(line, 1)), f"not readable as CSV: {exc}", action="file refused")
    if line == 0:
        return Problem(Origin(shown, 1), f"not a readable gzip file: {exc}", action="file refused")
    msg = f"gzip data truncated or corrupt after line {line}: {exc}; the file is incomplete, download it again"
    return Problem(Origin(shown, line + 1), msg, action="file refused")


def _first_bad_byte(path: str | Path) -> tuple[int, int, int]:
    """(line, column, byte) of the first byte that is not UTF-8 (only called after a decode error)."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gz else open(path, "rb")) as raw:
        for number, data in enumerate(raw, start=1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, exc.start + 1, data[exc.start]
    return 1, 1, 0  # pragma: no cover - only called after a decode error


def _names(cells: list[str]) -> dict[str, int]:
    """Column key (``_io.header_key``: letters and digits, lower case) -> index."""
    names = (header_key(c) for c in cells)
    return {n: i for i, n in enumerate(names) if n}


def _header_index(cells: list[str], wanted: Iterable[str]) -> dict[str, int] | None:
    index = _names(cells)
    return {w: index[header_key(w)] for w in wanted} if all(header_key(w) in index for w in wanted) else None


# --- PTP ---------------------------------------------------------------------------------------------


def read_ptp(path: str | Path, *, display: str | None = None, release: str | None = None,
             **_: object) -> Iterator[Record]:
    """PTPEdit rows (and ``kg:conflictsWith`` for edits in effect) from an NCCI PTP file."""
    shown = display or str(path)
    stream, problem = open_text(path, shown)
    if problem or stream is None:
        yield problem  # type: ignore[misc]
        return
    with stream:
        head: list[str] = []
        try:  # the header: line 1 (flat), or after the notice lines (official)
            for _attempt in range(12):
                head.append(stream.readline())
                if not head[-1] or _flat_columns(head[0]) is not None or _is_official_header(head[-1]):
                    break
        except _READ_ERRORS as exc:
            yield _broken(path, shown, len(head), exc)
            return
        label, when = release_of(path, release)
        first = head[0] if head else ""
        flat = _flat_columns(first)
        if flat is not None:
            yield from _ptp_meta(shown, label, when, "flat", None)
            yield from _flat_ptp(path, shown, when, flat, stream, 1)
        elif head and _is_official_header(head[-1]):
            notice = next((ln.replace("\t", " ").strip() for ln in head[:-1] if ln.strip()), None)
            yield from _ptp_meta(shown, label, when, "official", notice)
            yield from _official_ptp(path, shown, when, stream, len(head))
        else:
            msg = ("not an NCCI PTP file: expected the flat CSV header "
                   "'col1,col2,deletion_date,modifier_indicator,rationale' on line 1 or the official "
                   f"tab-delimited header 'Column 1<TAB>Column 2<TAB>...'; found {_shown(first)!r}")
            yield Problem(Origin(shown, 1), msg, action="file refused")


def _flat_columns(line: str) -> dict[str, int] | None:
    return _header_index(next(csv.reader([line]), []), FLAT_PTP)


def _is_official_header(line: str) -> bool:
    cells = line.split("\t")
    return len(cells) >= 2 and [c.replace(" ", "").strip().lower() for c in cells[:2]] == ["column1", "column2"]


def _ptp_meta(shown: str, label: str | None, when: date | None, layout: str,
              notice: str | None) -> Iterator[Record]:
    origin = Origin(shown)
    if label:
        yield Meta("release", label, origin)
    if when:
        yield Meta("effective", when.isoformat(), origin)
    yield Meta("layout", layout, origin)
    if notice:
        yield Meta("notice", notice, Origin(shown, 1))
    if when is None and layout == "official":
        yield Problem(origin, "the file's date is unknown (the official layout does not state it and the "
                      "file name has none): pass release=YYYY-MM-DD; rows are kept, but no "
                      "kg:conflictsWith edges are written", severity="warning", action="kept")
    elif when is None:
        yield Problem(origin, "the file's date is unknown (the file name has none): pass release=YYYY-MM-DD; "
                      "active edits ('*') get kg:conflictsWith edges, edits with a deletion date do not",
                      severity="warning", action="kept")


def _flat_ptp(path: str | Path, shown: str, when: date | None, col: dict[str, int], lines: Iterable[str],
              before: int) -> Iterator[Record]:
    """Rows of the flat layout; ``before`` = physical lines before the first of ``lines``."""
    get = itemgetter(*(col[c] for c in FLAT_PTP))
    codes, out = _Codes(), list[Record]()
    refs = codes.refs
    dates: dict[str, date | None] = {}
    reader = csv.reader(lines)
    end = 0
    try:
        for cells in reader:
            line, end = before + end + 1, reader.line_num
            if not cells:
                continue
            origin = Origin(shown, line)
            try:
                c1, c2, deleted, indicator, rationale = get(cells)
            except IndexError:
                yield Problem(origin, f"expected {len(FLAT_PTP)} comma-separated fields, found {len(cells)}")
                continue
            r1, r2 = refs.get(c1), refs.get(c2)
            if r1 is None or r2 is None:
                r1, r2 = codes.ref(c1, origin, out), codes.ref(c2, origin, out)
                if out:
                    yield from out
                    out.clear()
                if r1 is None or r2 is None:
                    yield _not_a_code(origin, c1 if r1 is None else c2, "column 1" if r1 is None else "column 2")
                    continue
            if indicator not in MODIFIER_INDICATORS:
                yield _bad_indicator(origin, r1, r2, indicator)
                continue
            if deleted == "*":
                yield Row("PTPEdit", origin, (("column1", r1), ("column2", r2), ("modifierIndicator", indicator),
                                              ("rationale", rationale)),
                          (r1.curie, "conflictsWith", r2.curie))  # listed as active at the file's date
                continue
            deletion = _cached_date(dates, deleted, _ISO_DATE)
            if deletion is None:
                yield _bad_date(origin, r1, r2, "deletion", deleted, "YYYY-MM-DD or '*'")
                continue
            yield Row("PTPEdit", origin, (("column1", r1), ("column2", r2), ("modifierIndicator", indicator),
                                          ("rationale", rationale), ("deletionDate", deletion)),
                      (r1.curie, "conflictsWith", r2.curie) if in_effect(when, None, deletion, indicator) else None)
    except _READ_ERRORS as exc:
        yield _broken(path, shown, before + reader.line_num, exc)


def _official_ptp(path: str | Path, shown: str, when: date | None, lines: Iterable[str],
                  before: int) -> Iterator[Record]:
    codes, out = _Codes(), list[Record]()
    dates: dict[str, date | None] = {}
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    in_header, end = True, 0
    try:
        for cells in reader:
            line, end = before + end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if in_header and not cells[0].strip():
                continue  # the rest of the multi-line header: its first column is empty
            in_header = False
            origin = Origin(shown, line)
            cells = [c.strip() for c in cells]
            if len(cells) < 6:
                yield Problem(origin, f"expected 7 tab-separated fields, found {len(cells)}")
                continue
            c1, c2, flag, effective_text, deletion_text, indicator = cells[:6]
            rationale = cells[6] if len(cells) > 6 else ""
            r1, r2 = codes.ref(c1, origin, out), codes.ref(c2, origin, out)
            yield from out
            out.clear()
            if not r1 or not r2:
                yield _not_a_code(origin, c1 if not r1 else c2, "column 1" if not r1 else "column 2")
                continue
            if indicator not in MODIFIER_INDICATORS:
                yield _bad_indicator(origin, r1, r2, indicator)
                continue
            if flag not in ("", "*"):
                yield Problem(origin, f"column 2 {r2.curie}: pre-1996 flag {flag!r} must be '*' or empty",
                              curie=r1.curie)
                continue
            effective = _cached_date(dates, effective_text)
            if effective is None:
                yield _bad_date(origin, r1, r2, "effective", effective_text, "YYYYMMDD")
                continue
            deletion = None if deletion_text == "*" else _cached_date(dates, deletion_text)
            if deletion is None and deletion_text != "*":
                yield _bad_date(origin, r1, r2, "deletion", deletion_text, "YYYYMMDD or '*'")
                continue
            fields: list[tuple[str, Value]] = [("column1", r1), ("column2", r2), ("modifierIndicator", indicator),
                                               ("rationale", rationale), ("effectiveDate", effective)]
            if deletion is not None:
                fields.append(("deletionDate", deletion))
            if flag == "*":
                fields.append(("pre1996", "true"))
            edge = (r1.curie, "conflictsWith", r2.curie) if in_effect(when, effective, deletion, indicator) else None
            yield Row("PTPEdit", origin, tuple(fields), edge)
    except _READ_ERRORS as exc:
        yield _broken(path, shown, before + reader.line_num, exc)


def _cached_date(cache: dict[str, date | None], text: str, form: re.Pattern[str] = _BASIC_DATE) -> date | None:
    """The date ``text`` (of the given form) stands for, each distinct string parsed once."""
    if text in cache:
        return cache[text]
    found = cache[text] = parse_date(text) if form.match(text) else None
    return found


def _not_a_code(origin: Origin, value: str, where: str) -> Problem:
    return Problem(origin, f"{where} {value!r} is not a CPT or HCPCS code")


def _bad_indicator(origin: Origin, r1: Ref, r2: Ref, indicator: str) -> Problem:
    return Problem(origin, f"column 2 {r2.curie}: modifier indicator {indicator!r} is not 0, 1 or 9",
                   curie=r1.curie)


def _bad_date(origin: Origin, r1: Ref, r2: Ref, which: str, text: str, form: str) -> Problem:
    return Problem(origin, f"column 2 {r2.curie}: impossible {which} date {text!r} (expected {form})",
                   curie=r1.curie)


# --- MUE and add-on edits -----------------------------------------------------------------------------


def _csv_records(path: str | Path, shown: str, stream: IO[str]) -> Iterator[tuple[int, list[str]] | Problem]:
    """(first physical line, cells) per CSV record; quoted cells may span lines."""
    reader = csv.reader(stream)
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            yield start, cells
    except _READ_ERRORS as exc:
        yield _broken(path, shown, reader.line_num, exc)


def _text_records(records: Iterator[tuple[int, list[str]] | Problem], ended: list[Problem]
                  ) -> Iterator[tuple[int, list[str]]]:
    """The records with a cell of text; a Problem (the file cannot be read from there on) ends them
    and is put in ``ended``, for the reader to yield after the rows it read."""
    for item in records:
        if isinstance(item, Problem):
            ended.append(item)
            return
        if any(c.strip() for c in item[1]):
            yield item


@contextmanager
def _csv_file(path: str | Path, display: str | None
              ) -> Iterator[tuple[str, Iterator[tuple[int, list[str]] | Problem]]]:
    """The name to show and the records of a CSV file (``_csv_records``); a file that cannot be
    opened has one record, the Problem refusing it."""
    shown = display or str(path)
    stream, problem = open_text(path, shown)
    if problem or stream is None:
        yield shown, iter([problem])  # type: ignore[list-item]
        return
    with stream:
        yield shown, _csv_records(path, shown, stream)


def read_mue(path: str | Path, *, display: str | None = None, release: str | None = None,
             **_: object) -> Iterator[Record]:
    """MUELimit rows from an NCCI MUE file (flat or official CSV layout)."""
    with _csv_file(path, display) as (shown, records):
        notice: list[str] = []
        layout, col, first = "", {}, ""
        for item in records:
            if isinstance(item, Problem):
                yield item
                return
            line, cells = item
            first = first or ",".join(cells).strip(",")
            flat = _header_index(cells, FLAT_MUE)
            if flat is not None:
                layout, col = "flat", flat
                break
            official = _official_mue_header(cells)
            if official is not None:
                layout, col = "official", official
                break
            if line > 40:
                break
            notice.extend(c.strip() for c in cells if c.strip())
        if not layout:
            msg = ("not an NCCI MUE file: expected the header "
                   "'hcpcs_code,mue_units,mue_mai,mue_rationale' or the official 'HCPCS/CPT Code, ... MUE "
                   f"Values, MUE Adjudication Indicator, MUE Rationale'; found {_shown(first)!r}")
            yield Problem(Origin(shown, 1), msg, action="file refused")
            return
        label, when = release_of(path, release)
        if label:
            yield Meta("release", label, Origin(shown))
        else:
            yield Problem(Origin(shown), "the file's release is unknown (the file name has no date): pass "
                          "release=YYYY-MM-DD", severity="warning", action="kept")
        if when:
            yield Meta("effective", when.isoformat(), Origin(shown))
        yield Meta("layout", layout, Origin(shown))
        if notice:
            yield Meta("notice", " ".join(" ".join(notice).split()), Origin(shown, 1))
        yield from _mue_rows(shown, records, col)


def _official_mue_header(cells: list[str]) -> dict[str, int] | None:
    names = [" ".join(c.split()).lower() for c in cells]
    if not names or not names[0].startswith("hcpcs"):
        return None
    found = {"code": 0}
    for i, name in enumerate(names):
        if "mue value" in name:
            found["units"] = i
        elif "adjudication indicator" in name:
            found["indicator"] = i
        elif "rationale" in name:
            found["rationale"] = i
    return found if len(found) == 4 else None


def _mue_rows(shown: str, records: Iterator[tuple[int, list[str]] | Problem],
              col: dict[str, int]) -> Iterator[Record]:
    keys = ("hcpcs_code", "mue_units", "mue_mai", "mue_rationale") if "hcpcs_code" in col else \
        ("code", "units", "indicator", "rationale")
    get: Callable[[list[str]], tuple[str, ...]] = itemgetter(*(col[k] for k in keys))
    codes, out, ended = _Codes(), list[Record](), list[Problem]()
    for line, cells in _text_records(records, ended):
        origin = Origin(shown, line)
        try:
            code, units_text, indicator_text, rationale = (c.strip() for c in get(cells))
        except IndexError:
            yield Problem(origin, f"expected at least {max(col.values()) + 1} fields, found {len(cells)}")
            continue
        ref = codes.ref(code, origin, out)
        yield from out
        out.clear()
        if ref is None:
            yield Problem(origin, f"{code!r} is not a CPT or HCPCS code")
            continue
        indicator = indicator_text[:1]  # official cells read "2 Date of Service Edit: Policy"
        bad = []
        if not (units_text.isascii() and units_text.isdigit()):  # '²'.isdigit() is True
            bad.append(f"units {units_text!r} must be a whole number, 0 or more")
        if indicator not in MUE_INDICATORS or indicator_text[1:2] not in ("", " "):
            bad.append(f"adjudication indicator {indicator_text!r} is not 1, 2 or 3")
        if bad:
            yield Problem(origin, "; ".join(bad), curie=ref.curie)
            continue
        yield Row("MUELimit", origin, (("procedure", ref), ("units", int(units_text)),
                                       ("adjudicationIndicator", indicator), ("rationale", rationale)))
    yield from ended


def read_addon(path: str | Path, *, display: str | None = None, release: str | None = None,
               **_: object) -> Iterator[Record]:
    """AddOnEdit rows (and ``kg:addOnTo`` for edits in effect) from an NCCI add-on code edit file."""
    with _csv_file(path, display) as (shown, records):
        head = next(records, None)
        if isinstance(head, Problem):
            yield head
            return
        cells = head[1] if head else []
        col = _header_index(cells, ADDON) if cells else None
        if col is None:
            msg = ("not an NCCI add-on code edit file: expected the header "
                   f"'primary_code,add_on_code,aoc_edit_type'; found {_shown(','.join(cells))!r}")
            yield Problem(Origin(shown, 1), msg, action="file refused")
            return
        dated = _names(cells)
        eff_col = next((dated[n] for n in ("aocediteffectivedate", "effectivedate") if n in dated), None)
        del_col = next((dated[n] for n in ("aoceditdeletiondate", "deletiondate") if n in dated), None)
        label, when = release_of(path, release)
        if label:
            yield Meta("release", label, Origin(shown))
        yield Meta("layout", "flat", Origin(shown))
        if (eff_col is not None or del_col is not None) and when is None:
            yield Problem(Origin(shown), "the file's date is unknown and its edits have dates: pass "
                          "release=YYYY-MM-DD; rows are kept, but no kg:addOnTo edges are written",
                          severity="warning", action="kept")
        yield from _addon_rows(shown, records, col, eff_col, del_col, when)


def _addon_rows(shown: str, records: Iterator[tuple[int, list[str]] | Problem], col: dict[str, int],
                eff_col: int | None, del_col: int | None, when: date | None) -> Iterator[Record]:
    codes, out, ended = _Codes(), list[Record](), list[Problem]()
    dated = eff_col is not None or del_col is not None
    for line, cells in _text_records(records, ended):
        origin = Origin(shown, line)
        cells = [c.strip() for c in cells]
        try:
            primary_code, addon_code, edit_type = (cells[col[k]] for k in ADDON)
            effective_text = cells[eff_col] if eff_col is not None else ""
            deletion_text = cells[del_col] if del_col is not None else ""
        except IndexError:
            yield Problem(origin, f"expected at least {max(col.values()) + 1} fields, found {len(cells)}")
            continue
        addon = codes.ref(addon_code, origin, out)
        primary = None if primary_code.upper() == NO_PRIMARY else codes.ref(primary_code, origin, out)
        yield from out
        out.clear()
        if addon is None:
            yield Problem(origin, f"add-on code {addon_code!r} is not a CPT or HCPCS code")
            continue
        if primary is None and primary_code.upper() != NO_PRIMARY:
            yield Problem(origin, f"primary code {primary_code!r} is not a CPT or HCPCS code (nor CCCCC)",
                          curie=addon.curie)
            continue
        if edit_type not in EDIT_TYPES:
            yield Problem(origin, f"edit type {edit_type!r} is not 1, 2 or 3", curie=addon.curie)
            continue
        effective = parse_date(effective_text) if effective_text else None
        deletion = parse_date(deletion_text) if deletion_text not in ("", "*") else None
        if (effective_text and effective is None) or (deletion_text not in ("", "*") and deletion is None):
            which, bad = ("effective", effective_text) if effective_text and effective is None \
                else ("deletion", deletion_text)
            pair = f"primary {primary.curie}" if primary is not None else f"primary {NO_PRIMARY}"
            yield Problem(origin, f"{pair}: impossible {which} date {bad!r} (expected YYYYMMDD, YYYY-MM-DD "
                          "or MM/DD/YYYY)", curie=addon.curie)
            continue
        fields: list[tuple[str, Value]] = [("addOn", addon)]
        if primary is not None:
            fields.append(("primary", primary))
        fields.append(("editType", edit_type))
        if effective is not None:
            fields.append(("effectiveDate", effective))
        if deletion is not None:
            fields.append(("deletionDate", deletion))
        applies = in_effect(when, effective, deletion) if dated else True
        edge = (addon.curie, "addOnTo", primary.curie) if primary is not None and applies else None
        yield Row("AddOnEdit", origin, tuple(fields), edge)
    yield from ended
