"""ICD-10-CM code-set reader: CMS ``cms_YYYY_dx.zip`` files -> codes, hierarchy and code history.

Input: one CMS "ICD-10-CM code descriptions in tabular order" zip, or a directory holding
several (``cms_*_dx.zip``, one per fiscal year). From each zip the reader reads
``icd10cm_order_YYYY.txt`` in place (never extracted to disk); the fiscal year is the ``YYYY``
of that member's name. The order file is fixed width: order number in columns 1-5, the code
without its dot in 7-13, the billable flag in 15 (``1`` billable leaf, ``0`` header), the short
title in 17-76 and the long title from 78 on.

Output, once every year is read (so the history facts can be worked out):

* ``Code("ICD10CM:K21.00")`` for every code in any loaded year, its origin the line in the
  latest year that lists it, label and ``officialTitle`` the long title of that year,
  ``shortTitle`` the short one;
* ``skos:broader`` to the parent: the longest proper prefix of the code (dot ignored) that is
  a code of that same latest year (K21.00 -> K21.0 -> K21; T36.0X1A -> T36.0X1). Three-character
  categories have no parent (chapters and blocks are not in the order file);
* Facts ``inFY`` and ``billableInFY`` (int fiscal years, one per year, origin that year's line),
  ``addedInFY`` (first year present, when absent from the first loaded year), ``deletedInFY``
  (each first year absent after being present), ``headerSinceFY`` (each year a billable code
  became a header because children were added under it: K21.0 in FY2021);
* a ``TitleChange`` row for each year whose long title differs from the previous loaded year;
* Meta ``release`` (``FY2026``), ``history`` (``FY2020-FY2026``) and ``effective``
  (fiscal year N starts on October 1 of N-1).

Fiscal years are compared in the order loaded: with a year missing from a directory
(FY2020 and FY2022 only), "deleted in FY2022" means "absent from the next loaded year".

Problems (never raised): a path that is neither a zip nor a directory of ``cms_*_dx.zip``, a
truncated or corrupt zip, a zip without an order file, a first line that does not fit the layout,
or two zips of the same fiscal year refuse the source, naming the zip; no record is yielded then,
since a history with a year missing would be wrong. A line whose code does not fit the
ICD-10-CM pattern, whose flag is not 0/1, that does not fit the columns, or that repeats a code is
skipped with its 1-based line. Origins inside a zip read ``<zip>!<member>``.

Does not read the addenda, the ``icd10cm_codes_YYYY.txt`` file or the PDFs, and knows nothing of
Excludes notes or chapters (see ``icd10cm_tabular``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import icd10cm_with_dot, is_icd10cm_code
from kgraph.records import Code, Edge, Fact, Meta, Problem, Record, Ref, Row
from kgraph.rules.readers import fy_start
from kgraph.sources._io import ZIP_ERRORS, open_zip

#: kg: terms this reader writes that are not in kgraph.namespaces (merged into the ontology)
TERMS: dict[str, tuple[str, str]] = {
    "inFY": ("datatype:integer", "A fiscal year whose CMS ICD-10-CM code file lists the code "
             "(fiscal year N runs from October 1 of N-1 to September 30 of N)."),
    "billableInFY": ("datatype:integer", "A fiscal year in which the ICD-10-CM code is billable "
                     "(a leaf: flag 1 in the CMS order file)."),
    "addedInFY": ("datatype:integer", "The first fiscal year whose CMS file lists the code, when the "
                  "first year loaded did not."),
    "deletedInFY": ("datatype:integer", "The first fiscal year whose CMS file no longer lists a code "
                    "that the previous year listed."),
    "headerSinceFY": ("datatype:integer", "The fiscal year a billable ICD-10-CM code became a header "
                      "(not billable) because more specific codes were added under it."),
    "TitleChange": ("class", "A change of the official long title of an ICD-10-CM code from one "
                    "fiscal year to the next (kg:about the code, kg:fiscalYear the year of the new title)."),
    "fiscalYear": ("datatype:integer", "The fiscal year (N = October 1 of N-1 to September 30 of N) "
                   "a row applies from."),
    "previousTitle": ("datatype:string", "The official long title before the change."),
    "newTitle": ("datatype:string", "The official long title after the change."),
}

ZIP_GLOB = "cms_*_dx.zip"
ORDER_RE = re.compile(r"(?:^|/)icd10cm_order_(\d{4})\.txt$", re.IGNORECASE)
# a well-formed line: order number, space, code padded to column 13, space (then flag, space)
FAST_RE = re.compile(r"[0-9]{5} ([A-Z][0-9A-Z]{2}[0-9A-Z]{0,4}) *")
LAYOUT = ("fixed width: order number in columns 1-5, code 7-13, billable flag 15 (0/1), "
          "short title 17-76, long title from 78")


@dataclass
class _Year:
    """One loaded fiscal year: where it came from and which codes it lists."""

    fy: int
    zip_path: Path
    shown: str  # the zip as shown
    member: str

    @property
    def where(self) -> str:
        return f"{self.shown}!{self.member}"


@dataclass(slots=True)
class _Entry:
    """What the years say about one code: per-year line (0 = absent) and billable flags."""

    lines: list[int]
    billable: list[bool]
    short: str = ""
    long: str = ""
    changes: list[tuple[int, int, str, str]] = field(default_factory=list)  # (year index, line, old, new)


def read(path: str | Path, *, display: str | None = None, **_: object) -> Iterator[Record]:
    """Records of one CMS zip, or of every ``cms_*_dx.zip`` in a directory, as one history."""
    shown = display or str(path)
    where = Path(path)
    if where.is_dir():
        zips = sorted(where.glob(ZIP_GLOB))
        if not zips:
            yield Problem(Origin(shown), f"no CMS ICD-10-CM zip ({ZIP_GLOB}) in this directory",
                          action="file refused")
            return
        candidates = [(z, f"{shown.rstrip('/')}/{z.name}") for z in zips]
    else:
        candidates = [(where, shown)]
    years: list[_Year] = []
    for zpath, zshown in candidates:
        found = _order_member(zpath, zshown)
        if isinstance(found, Problem):
            yield found
            return
        twin = next((y for y in years if y.fy == found.fy), None)
        if twin:
            yield Problem(Origin(zshown), f"a second FY{found.fy} order file (the first is in {twin.shown}); "
                          "keep one zip per fiscal year", action="file refused")
            return
        years.append(found)
    years.sort(key=lambda y: y.fy)

    entries: dict[str, _Entry] = {}
    year_codes: list[set[str]] = []
    for index, year in enumerate(years):
        codes: set[str] = set()
        refused = False
        for record in _parse_year(year, index, len(years), entries, codes):
            yield record
            refused = refused or (isinstance(record, Problem) and record.fatal)
        if refused:
            return
        year_codes.append(codes)
    yield from _records(years, entries, year_codes)


def _order_member(zpath: Path, zshown: str) -> _Year | Problem:
    """The order file of a zip and its fiscal year, or why the zip is refused."""
    try:
        with open_zip(zpath) as archive:
            names = archive.namelist()
    except FileNotFoundError:
        return Problem(Origin(zshown), "no such file or directory", action="file refused")
    except ZIP_ERRORS as exc:
        return Problem(Origin(zshown), f"not a readable zip archive ({exc}); the download may be "
                       "truncated", action="file refused")
    members = [n for n in names if ORDER_RE.search(n)]
    if not members:
        listed = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        return Problem(Origin(zshown), f"no icd10cm_order_YYYY.txt in this zip (it holds: {listed or 'nothing'})",
                       action="file refused")
    if len(members) > 1:
        return Problem(Origin(zshown), f"more than one order file in this zip: {', '.join(members)}",
                       action="file refused")
    match = ORDER_RE.search(members[0])
    assert match
    return _Year(int(match.group(1)), zpath, zshown, members[0])


def _parse_year(year: _Year, index: int, count: int, entries: dict[str, _Entry],
                codes: set[str]) -> Iterator[Problem]:
    """Read one order file into ``entries`` (and ``codes``), yielding its problems."""
    where = year.where
    try:
        with open_zip(year.zip_path) as archive:
            data = archive.read(year.member)
    except ZIP_ERRORS as exc:
        yield Problem(Origin(year.shown), f"not a readable zip archive ({exc}); the download may be truncated",
                      action="file refused")
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        at = data.count(b"\n", 0, exc.start) + 1
        yield Problem(Origin(where, at), f"not UTF-8 (byte 0x{data[exc.start]:02x}); read as Latin-1",
                      severity="warning", action="kept")
        text = data.decode("latin-1")
    # Physical lines: str.splitlines would also split on form feeds.
    lines = text.split("\n")
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        yield Problem(Origin(where, 1), "empty order file", action="file refused")
        return
    head = lines[first].rstrip("\r")
    if not _fits(head) or not head[:5].isdigit():
        yield Problem(Origin(where, first + 1), f"not a CMS ICD-10-CM order file: expected {LAYOUT}; "
                      f"found {head[:60]!r}", action="file refused")
        return
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        fast = FAST_RE.match(line)
        if fast and fast.end() == 14 and line[14:15] in ("0", "1") and line[15:16] == " ":
            bare = fast.group(1)
            curie = "ICD10CM:" + (bare[:3] + "." + bare[3:] if len(bare) > 3 else bare)
        elif not line.strip():
            continue
        else:
            bad = _diagnose(line)
            if bad:
                yield Problem(Origin(where, number), bad[0], curie=bad[1])
                continue
            curie = "ICD10CM:" + icd10cm_with_dot(line[6:13].strip())
        if curie in seen:
            yield Problem(Origin(where, number), f"code listed twice in this file (first on line {seen[curie]})",
                          curie=curie)
            continue
        seen[curie] = number
        codes.add(curie)
        short = line[16:76].strip()
        long = line[77:].strip() or short
        entry = entries.get(curie)
        if entry is None:
            entry = entries[curie] = _Entry([0] * count, [False] * count)
        elif index and entry.lines[index - 1] and long != entry.long:
            entry.changes.append((index, number, entry.long, long))
        entry.lines[index] = number
        entry.billable[index] = line[14] == "1"
        entry.short, entry.long = short, long


def _diagnose(line: str) -> tuple[str, str | None] | None:
    """What is wrong with a line the fast path did not take (message, CURIE), or None if nothing."""
    if not _fits(line):
        return f"line does not fit the order-file layout ({LAYOUT}): {line[:40]!r}", None
    bare = line[6:13].strip()
    code = icd10cm_with_dot(bare)
    if not is_icd10cm_code(code) or "." in bare or bare != bare.upper():
        return (f"code {bare!r} is not an ICD-10-CM code (a letter, a letter or digit, a letter or digit, "
                "then up to four letters or digits)"), None
    if line[14] not in "01":
        return f"billable flag {line[14]!r} is neither 0 (header) nor 1 (billable)", f"ICD10CM:{code}"
    return None


def _fits(line: str) -> bool:
    return len(line) >= 17 and line[5] == " " and line[13] == " " and line[15] == " "


def _parent(curie: str, codes: set[str]) -> str | None:
    """The longest proper prefix of a code (dot ignored) that is a code of the same year."""
    bare = curie[8:].replace(".", "")
    for end in range(len(bare) - 1, 2, -1):
        candidate = "ICD10CM:" + icd10cm_with_dot(bare[:end])
        if candidate in codes:
            return candidate
    return None


def _fy_start(fy: int) -> str | None:
    """The first day of fiscal year ``fy`` (kgraph.rules); None for a year no calendar holds (FY0000)."""
    try:
        return fy_start(fy).isoformat()
    except ValueError:
        return None


def _records(years: list[_Year], entries: dict[str, _Entry], year_codes: list[set[str]]) -> Iterator[Record]:
    latest = years[-1]
    fys = [y.fy for y in years]
    wheres = [y.where for y in years]
    contiguous = fys == list(range(fys[0], fys[-1] + 1))
    if len(fys) == 1:
        history = f"FY{fys[0]}"
    elif contiguous:
        history = f"FY{fys[0]}-FY{fys[-1]}"
    else:
        history = ", ".join(f"FY{fy}" for fy in fys)
    meta_origin = Origin(latest.where)
    yield Meta("release", f"FY{latest.fy}", meta_origin)
    yield Meta("history", history, meta_origin)
    start = _fy_start(latest.fy)
    if start:
        yield Meta("effective", start, meta_origin)
    for curie, entry in entries.items():
        lines, billable = entry.lines, entry.billable
        last = max(i for i, n in enumerate(lines) if n)
        origin = Origin(wheres[last], lines[last])
        yield Code(curie, origin, label=entry.long,
                   props=(("officialTitle", entry.long), ("shortTitle", entry.short)))
        parent = _parent(curie, year_codes[last])
        if parent:
            yield Edge(curie, "skos:broader", parent, origin, statement=False)
        for i, number in enumerate(lines):
            if number:
                here = Origin(wheres[i], number)
                yield Fact(curie, "inFY", fys[i], here)
                if billable[i]:
                    yield Fact(curie, "billableInFY", fys[i], here)
                if i == 0:
                    continue
                if not lines[i - 1]:
                    # absent the year before: added (or, in principle, re-added)
                    yield Fact(curie, "addedInFY", fys[i], here)
                elif billable[i - 1] and not billable[i]:
                    yield Fact(curie, "headerSinceFY", fys[i], here)
            elif i and lines[i - 1]:
                yield Fact(curie, "deletedInFY", fys[i], Origin(wheres[i]))
        for i, number, old, new in entry.changes:
            yield Row("TitleChange", Origin(wheres[i], number),
                      fields=(("about", Ref(curie)), ("fiscalYear", fys[i]),
                              ("previousTitle", old), ("newTitle", new)))
