"""NUCC Health Care Provider Taxonomy reader: one release CSV -> taxonomy Codes and hierarchy
(an archive of every release: ``nucc_archive``).

Input: a NUCC taxonomy CSV of any published layout, v9.0 (2009) to v25.1 (2025). Columns are
recognised by header name, never by position; these differences are handled:

* before v16.0 the grouping column is headed ``Type``, from v16.0 ``Grouping``;
* ``Display Name`` from v21.0, ``Section`` (Individual / Non-Individual) from v21.1;
* v22.1 alone adds ``Effective Date``, ``Deactivation Date``, ``Last Modified Date`` (not read);
* v9.0-v13.1 carry the AMA copyright notice as the first data row (its ``Code`` cell reads
  ``Copyright 2009 American Medical Association``): it becomes the source's notice, not a code;
* encodings: UTF-8 (optional BOM), else Windows-1252 (v9.0-v15.0, v16.0-v17.0, v23.0, v23.1
  have 0x92 / 0x93 / 0xA7 bytes), else Latin-1; the one used is named in the ``layout`` Meta;
* CRLF or LF line ends, quoted cells spanning lines (origins stay 1-based *physical* lines), and
  trailing NUL padding (the copies in the all-versions archive end with one NUL per line).

Output: ``Code("NUCC:<code>")`` labelled with the Display Name, or for releases without one
with ``Classification, Specialization`` (the form the NPI registry shows), with props
``officialTitle``, ``grouping``, ``classification``, ``specialization`` (if any) and
``taxonomySection`` (if present); ``Fact(code, "markedInactive", date)`` for a code whose Notes
say ``[1/1/2007: marked inactive``; ``Edge(specialization, "skos:broader", classification)``
(plain triples). The classification-level code is the row with the same Grouping and
Classification and an empty Specialization: the "first four characters + 00000X" rule fails on
the real data (207QB0505X is Internal Medicine, not 207Q00000X Family Medicine; 125Q00000X is a
specialization of Dentist 122300000X) and Medical Genetics, Pathology, Pain Medicine and
Preventive Medicine have no classification-level code at all (no edge). Meta: ``release``
(argument, else the file name ``nucc_taxonomy_251.csv`` -> ``25.1``), ``effective`` (the release
date from a ``nucc_file_info.csv`` next to the file, if there is one), ``notice`` and ``layout``.

Problems: an unreadable or empty file, or one without the Code / Grouping (Type) /
Classification / Specialization columns (a PTP file, say), is refused, naming the header
expected and the one found; a row whose code does not fit ``^[0-9]{3}[0-9A-Z]{6}X$`` or that
repeats an earlier code is skipped. Never raises for bad input; imports no RDF library; does not
read Definition or Notes text into the graph (only the inactive date found in Notes; the
archive's version rows keep them for ``kgraph changes``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Code, Edge, Fact, Meta, Problem, Record
from kgraph.sources._io import CsvRows, columns, decode_text, numbered_rows, read_bytes, wrong_header

TERMS: dict[str, tuple[str, str]] = {
    "officialTitle": ("datatype:string", "The official title or description of a code, as its code set publishes it."),
    "grouping": ("datatype:string", "NUCC taxonomy level 1, the provider grouping (headed 'Type' before v16.0)."),
    "classification": ("datatype:string", "NUCC taxonomy level 2, the classification within a grouping."),
    "specialization": (
        "datatype:string",
        "NUCC taxonomy level 3, the area of specialization (empty for a classification-level code).",
    ),
    "taxonomySection": ("datatype:string", "NUCC taxonomy section: Individual or Non-Individual (from v21.1)."),
    "markedInactive": (
        "datatype:date",
        "Date from which NUCC marks a taxonomy code inactive, as its Notes state "
        "it ('[1/1/2007: marked inactive]'); the code stays listed in later releases.",
    ),
    "NUCCVersionRow": ("class", "One row of one NUCC taxonomy version (the all-versions archive): the code, "
                       "its name, definition and notes as that version prints them."),
    "taxonomy": ("object", "The NUCC taxonomy code a NUCC version row is about."),
    "definition": ("datatype:string", "A NUCC taxonomy code's Definition text, as one version prints it."),
    "nuccNotes": ("datatype:string", "A NUCC taxonomy code's Notes text, as one version prints it."),
}

#: The notice kept with NUCC data when the file carries none (v14.0 onwards), after nucc.org.
NUCC_NOTICE = (
    "Health Care Provider Taxonomy code set (c) American Medical Association (AMA) on behalf of the "
    "National Uniform Claim Committee (NUCC). Free to download from nucc.org; used under the NUCC's terms: "
    'keep this notice, do not change the code set, provided "as is" without warranty; commercial vendors '
    "file the NUCC licence form."
)

RELEASE_RE = re.compile(r"nucc_taxonomy_(\d{2,3})\.csv$", re.IGNORECASE)
INACTIVE_RE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4}):\s*marked inactive", re.IGNORECASE)

# Normalised header name -> field. ``Type`` is the pre-v16.0 name of ``Grouping``.
HEADERS = {
    "code": "code",
    "grouping": "grouping",
    "type": "grouping",
    "classification": "classification",
    "specialization": "specialization",
    "displayname": "display",
    "section": "section",
    "notes": "notes",
    "definition": "definition",
}
REQUIRED = ("code", "grouping", "classification", "specialization")
EXPECTED = "Code, Grouping (or Type), Classification, Specialization"


def release_of(path: str | Path) -> str | None:
    """``nucc_taxonomy_251.csv`` -> ``25.1``; ``nucc_taxonomy_90.csv`` -> ``9.0``.

    >>> release_of("x/nucc_taxonomy_251.csv"), release_of("nucc_taxonomy_90.csv"), release_of("other.csv")
    ('25.1', '9.0', None)
    """
    m = RELEASE_RE.search(Path(path).name)
    return f"{int(m.group(1)[:-1])}.{m.group(1)[-1]}" if m else None


def release_date(path: str | Path, release: str | None) -> str | None:
    """The release date (YYYY-MM-DD) ``nucc_file_info.csv`` next to ``path`` gives, if any."""
    info = Path(path).parent / "nucc_file_info.csv"
    try:
        rows = list(csv.DictReader(io.StringIO(decode_text(info.read_bytes())[0], newline="")))
    except (OSError, csv.Error):
        return None
    name = Path(path).name
    for raw in rows:
        # a short row holds None, extra cells a list: keep the text cells
        row = {k: v.strip() for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
        version = f"{row.get('major', '')}.{row.get('minor', '')}"
        if row.get("file_name", "") == name or (release and version == release):
            found = row.get("release_date", "")
            return found if re.fullmatch(r"\d{4}-\d{2}-\d{2}", found) else None
    return None


def built_name(classification: str, specialization: str) -> str:
    """The name of a code in releases without a Display Name: ``Internal Medicine, Gastroenterology``."""
    return f"{classification}, {specialization}" if specialization else classification


def read(path: str | Path, *, display: str | None = None, release: str | None = None, **_: object) -> Iterator[Record]:
    """Taxonomy codes, their hierarchy and the source's Meta from one NUCC taxonomy CSV, or from an
    archive of every version (``archive.read``: the newest version's codes, and every version's
    ``NUCCVersionRow`` rows for ``kgraph changes``)."""
    shown = display or str(path)
    from kgraph.sources import nucc_archive

    if nucc_archive.is_archive(path):
        yield from nucc_archive.read(Path(path), shown, read_data)
        return
    try:
        data = read_bytes(path)
    except OSError as exc:
        yield Problem(Origin(shown), f"cannot read file: {exc.strerror or exc}", action="file refused")
        return
    yield from read_data(data, shown, path, release)


def open_rows(data: bytes, shown: str) -> tuple[CsvRows, list[str], dict[str, int], str]:
    """The rows of one NUCC CSV's bytes after its header, the header, its columns (``HEADERS``
    names -> index, the first cell of a name that stands twice) and the encoding it was read in."""
    text, encoding = decode_text(data)
    reader = CsvRows(csv.reader(io.StringIO(text, newline="")), shown)
    header = next(reader, [])
    return reader, header, columns(header, HEADERS, first=True), encoding


def read_data(data: bytes, shown: str, path: str | Path, release: str | None) -> Iterator[Record]:
    """``read`` of one version's bytes (``path`` names its release and where nucc_file_info.csv is)."""
    padded = len(data) - len(data.rstrip(b"\x00"))
    data = data.rstrip(b"\x00")
    if not data.strip():
        yield Problem(Origin(shown, 1), "empty file", action="file refused")
        return
    reader, header, cols, encoding = open_rows(data, shown)
    if reader.problem:
        yield reader.problem
        return
    if any(c not in cols for c in REQUIRED):
        yield wrong_header(shown, "NUCC taxonomy file", EXPECTED, header)
        return

    release = release or release_of(path)
    if release:
        yield Meta("release", release, Origin(shown))
        effective = release_date(path, release)
        if effective:
            yield Meta("effective", effective, Origin(shown))
    layout = f"NUCC taxonomy CSV: {', '.join(c.strip() for c in header)}; {encoding}"
    if padded:
        layout += f"; {padded} trailing NUL bytes ignored"
    yield Meta("layout", layout, Origin(shown))

    seen: dict[str, int] = {}
    classes: dict[tuple[str, str], str] = {}  # (grouping, classification) -> classification-level code
    children: list[tuple[str, tuple[str, str], Origin]] = []
    noticed = False
    for start, row in numbered_rows(reader):
        origin = Origin(shown, start)
        cells = {name: " ".join(row[i].split()) if i < len(row) else "" for name, i in cols.items()}
        code = cells["code"]
        if not noticed:
            noticed = True
            if code.lower().startswith("copyright"):
                notice = f"{code.rstrip('.')}. {cells['grouping']}".strip()
                yield Meta("notice", notice, origin)
                continue
            yield Meta("notice", NUCC_NOTICE, Origin(shown))
        if not is_valid("NUCC", code):
            yield Problem(
                origin,
                f"taxonomy code {code!r} does not fit the NUCC pattern (3 digits, 6 digits or capital letters, then X)",
            )
            continue
        curie = f"NUCC:{code}"
        if code in seen:
            yield Problem(
                origin, f"duplicate taxonomy code, first on line {seen[code]}", severity="warning", curie=curie
            )
            continue
        seen[code] = start
        grouping, classification, specialization = cells["grouping"], cells["classification"], cells["specialization"]
        name = cells.get("display") or built_name(classification, specialization)
        props = [("officialTitle", name), ("grouping", grouping), ("classification", classification)]
        if specialization:
            props.append(("specialization", specialization))
            children.append((curie, (grouping, classification), origin))
        else:
            classes[(grouping, classification)] = curie
        if cells.get("section"):
            props.append(("taxonomySection", cells["section"]))
        yield Code(curie, origin, label=name or None, props=tuple((k, v) for k, v in props if v))
        inactive = INACTIVE_RE.search(cells.get("notes", ""))
        if inactive:
            month, day, year = (int(g) for g in inactive.groups())
            try:
                yield Fact(curie, "markedInactive", date(year, month, day), origin)
            except ValueError:
                yield Problem(
                    origin,
                    f"impossible date {inactive.group(0)!r} in Notes",
                    severity="warning",
                    action="kept",
                    curie=curie,
                )
    if reader.problem:
        yield reader.problem
        return
    if not noticed:
        yield Meta("notice", NUCC_NOTICE, Origin(shown))
    for curie, key, origin in children:
        parent = classes.get(key)
        if parent:
            yield Edge(curie, "skos:broader", parent, origin, statement=False)
