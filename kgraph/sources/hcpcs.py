"""HCPCS Level II annual file reader: the CMS zip (or its record file) -> HCPCS and modifier Codes.

Input: the CMS "Alpha-Numeric HCPCS File" zip (``2020-Alpha-Numeric-HCPCS-File.zip``), read in
place: its member ``HCPCyyyy_ANWEB*.txt`` is the fixed-width record file. A plain record file
(not zipped) is read too. The zip's README gives no record layout; these columns were read off
the file and checked field by field against the zip's own ``.xls`` copy (1-based, inclusive):

====================  =======  ===============================================================
field                 columns  notes
====================  =======  ===============================================================
code                  1-5      modifiers right-aligned in 4-5 (``   LT``)
sequence number       6-10     ``00100`` first line, ``00200`` ... continuation lines
record id             11       3 procedure, 4 its continuation; 7 modifier, 8 its continuation
long description      12-91    continued on the following 4 / 8 lines
short description     92-119
add date              269-276  YYYYMMDD
action effective      277-284  YYYYMMDD (blank on 115 records)
termination date      285-292  YYYYMMDD (615 records: the file keeps codes ended in earlier years)
action code           293      A add, B, C descriptor change, D discontinued, F, N no change, P, R, S, T
====================  =======  ===============================================================

Pricing, coverage, cross-reference, BETOS, ASC and type-of-service fields (120-268) are not read.
A long description is joined from its lines as ``line.rstrip() + " " + continuation.rstrip()``
(the continuation keeps its leading spaces): this reproduces the ``.xls`` text for 7,068 of 7,079
codes; the other 11 differ only where the file broke a line at a double space (one space lost).

Output: ``Code("HCPCS:<code>")`` (origin: its first line; label and ``officialTitle`` the long
description; ``shortTitle``), ``Code("MOD:<xx>")`` likewise with ``modifierType`` ``HCPCS``;
``Fact`` records ``addedDate``, ``actionEffectiveDate``, ``terminationDate`` (dates) and
``actionCode`` (a string) for each; Meta ``release`` (argument, else the year in the member or
file name), ``notice`` (the file's opening disclaimer, heading and first two sentences) and
``layout``. Origins of zip members read ``<display>!<member>``.

Problems: a file that is not a readable zip (truncated, corrupt) or has no record member is
refused; a continuation line with no record before it or after another code's record, a code
of the wrong shape, an impossible date and an action code outside the set above skip the row.
Bytes are UTF-8 or else Windows-1252 (the disclaimer's "CMS’" is 0x92). Never raises for bad
input; imports no RDF library.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Code, Fact, Meta, Problem, Record
from kgraph.sources import modifiers
from kgraph.sources._io import ZIP_ERRORS, open_zip, read_bytes, year_in_name

TERMS: dict[str, tuple[str, str]] = {
    "officialTitle": ("datatype:string", "The official title or description of a code, as its code set publishes it."),
    "shortTitle": ("datatype:string", "The official short description of a code (HCPCS: at most 28 characters)."),
    "modifierType": modifiers.TERMS["modifierType"],
    "addedDate": ("datatype:date", "The date a HCPCS code or modifier was added to the code set (HCPCS ADD DT)."),
    "actionEffectiveDate": ("datatype:date", "The date the latest HCPCS action on a code took effect (ACT EFF DT)."),
    "terminationDate": ("datatype:date", "The last date a HCPCS code or modifier may be used (TERM DT)."),
    "actionCode": (
        "datatype:string",
        "The HCPCS action code of the release: A added, B change in administrative "
        "data and descriptor, C descriptor changed, D discontinued, F administrative data changed, "
        "N no change, P payment change, R reactivated, S short descriptor changed, T miscellaneous.",
    ),
}

MEMBER_RE = re.compile(r"HCPC(\d{4})_?ANWEB[^/]*\.txt$", re.IGNORECASE | re.ASCII)
ACTION_CODES = frozenset("ABCDFNPRST")
RECORD_IDS = {"3": "procedure", "4": "procedure", "7": "modifier", "8": "modifier"}
DATES = (
    ("addedDate", 268, 276, "add"),
    ("actionEffectiveDate", 276, 284, "action effective"),
    ("terminationDate", 284, 292, "termination"),
)
LAYOUT = (
    "HCPCS Level II fixed-width record file: code 1-5, sequence 6-10, record id 11, long description 12-91, "
    "short description 92-119, add date 269-276, action effective 277-284, termination 285-292, action 293"
)


@dataclass
class _Record:
    code: str
    kind: str  # "procedure" or "modifier"
    origin: Origin
    line: str
    long: list[str] = field(default_factory=list)


def read(path: str | Path, *, display: str | None = None, release: str | None = None, **_: object) -> Iterator[Record]:
    """HCPCS procedure codes and modifiers, with their dates, from the annual HCPCS file."""
    shown = display or str(path)
    try:
        with open(path, "rb") as fh:
            is_zip = fh.read(4) == b"PK\x03\x04"
    except OSError as exc:
        yield Problem(Origin(shown), f"cannot read file: {exc.strerror or exc}", action="file refused")
        return
    if not is_zip:
        yield from _records(io.BytesIO(read_bytes(path)), shown, release or year_in_name(Path(path).name))
        return
    try:
        with open_zip(path) as zf:
            names = sorted(n for n in zf.namelist() if MEMBER_RE.search(n))
            if not names:
                yield Problem(
                    Origin(shown),
                    "no HCPCS record file (HCPCyyyy_ANWEB*.txt) in the zip; members: "
                    f"{', '.join(zf.namelist()) or 'none'}",
                    action="file refused",
                )
                return
            member = names[0]
            with zf.open(member) as fh:
                found = release or year_in_name(member) or year_in_name(Path(path).name)
                yield from _records(fh, f"{shown}!{member}", found)
    except ZIP_ERRORS as exc:
        yield Problem(Origin(shown), f"not a readable zip archive: {exc}", action="file refused")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _records(lines: Iterable[bytes], shown: str, release: str | None) -> Iterator[Record]:
    if release:
        yield Meta("release", release, Origin(shown))
    yield Meta("layout", LAYOUT, Origin(shown))
    preamble: list[str] = []
    current: _Record | None = None
    started = False
    number = 0
    for raw in lines:
        number += 1
        line = _decode(raw).rstrip("\r\n")
        rid = line[10:11]
        if len(line) < 12 or rid not in RECORD_IDS or not line[5:10].isdigit():
            if not started:
                preamble.append(line.strip())
            elif line.strip():
                yield Problem(Origin(shown, number), f"not a HCPCS record line (record id {rid!r} at column 11)")
            continue
        if not started:
            started = True
            notice = _notice(preamble)
            if notice:
                yield Meta("notice", notice, Origin(shown, 1))
        origin = Origin(shown, number)
        code, kind = line[:5].strip(), RECORD_IDS[rid]
        if rid in "37":
            if current:
                yield from _finish(current)
            current = _Record(code, kind, origin, line, [line[11:91].rstrip()])
            continue
        if current is None:
            yield Problem(origin, f"continuation line (record id {rid}) of {code!r} with no record before it")
        elif (current.code, current.kind) != (code, kind):
            yield Problem(
                origin,
                f"continuation line (record id {rid}) of {code!r} follows the {current.kind} "
                f"record of {current.code!r} (line {current.origin.line})",
            )
        else:
            current.long.append(line[11:91].rstrip())
    if current:
        yield from _finish(current)
    if not started:
        yield Problem(
            Origin(shown, 1), "no HCPCS records (record id 3 or 7 at column 11) in the file", action="file refused"
        )


def _notice(preamble: list[str]) -> str:
    """The disclaimer's heading and its first two sentences."""
    text = [p for p in preamble if p]
    if not text:
        return ""
    sentences = re.split(r"(?<=\.)\s+", " ".join(text[1:]))
    return f"{text[0].rstrip('.: ')}: {' '.join(sentences[:2])}".strip(": ")


def _finish(rec: _Record) -> Iterator[Record]:
    prefix = "HCPCS" if rec.kind == "procedure" else "MOD"
    if not is_valid(prefix, rec.code):
        shape = "[A-V] and 4 digits" if prefix == "HCPCS" else "2 digits or capital letters"
        yield Problem(rec.origin, f"{rec.kind} code {rec.code!r} is not {shape}")
        return
    curie = f"{prefix}:{rec.code}"
    facts: list[Fact] = []
    for name, start, end, what in DATES:
        text = rec.line[start:end].strip()
        if not text:
            continue
        try:
            value = date(int(text[:4]), int(text[4:6]), int(text[6:8])) if re.fullmatch(r"[0-9]{8}", text) else None
        except ValueError:
            value = None
        if value is None:
            yield Problem(rec.origin, f"impossible {what} date {text!r} (columns {start + 1}-{end})", curie=curie)
            return
        facts.append(Fact(curie, name, value, rec.origin))
    action = rec.line[292:293].strip()
    if action and action not in ACTION_CODES:
        yield Problem(
            rec.origin,
            f"action code {action!r} (column 293) is not one of {', '.join(sorted(ACTION_CODES))}",
            curie=curie,
        )
        return
    long = rec.long[0].strip()
    for part in rec.long[1:]:
        long = f"{long.rstrip()} {part}"
    short = rec.line[91:119].strip()
    props = [("officialTitle", long), ("shortTitle", short)]
    if prefix == "MOD":
        props.append(("modifierType", "HCPCS"))
    yield Code(curie, rec.origin, label=long or None, props=tuple((k, v) for k, v in props if v))
    yield from facts
    if action:
        yield Fact(curie, "actionCode", action, rec.origin)
