"""CMS Medicare specialty <-> NUCC taxonomy crosswalk reader.

Input: the CMS crosswalk CSV (``cms_medicare_specialty_taxonomy_crosswalk_2025-01-02.csv``),
columns recognised by header name: ``MEDICARE SPECIALTY CODE``, ``MEDICARE PROVIDER/SUPPLIER TYPE
DESCRIPTION``, ``PROVIDER TAXONOMY CODE`` (the fourth, the taxonomy's description as CMS wrote
it, is not read: the NUCC file is the authority on taxonomy names).

Output: one ``Code("MSPEC:<code>")`` per specialty code, at its first row, labelled with the
description of that row and carrying every distinct description of the code as
``medicareProviderType`` (A0 has 14: Hospital-General, Hospital Units, ...); one
``Edge("MSPEC:x", "crosswalksTo", "NUCC:y", statement=False)`` per row with a taxonomy code; a
``Gap`` (field ``crosswalksTo``) for a specialty whose row has no taxonomy code (73, 88, 95,
C9 in the 2025-01-02 file); ``Meta("release")`` (argument, else the date in the file name).

Cleaning: footnote markers such as ``A0[7]`` or ``Mass Immunizer Roster Biller[2]`` are removed from
codes and descriptions (the footnote texts are not in the CSV; one ``info`` Problem per marker);
cells are stripped of spaces and no-break spaces (``207WX0009X`` on line 116 is followed by ten
no-break spaces and a space); line breaks inside a quoted cell (lines 279-282) count as lines.

Problems (row skipped): a specialty code that does not fit ``^[0-9A-Z]{2,3}$``, a taxonomy
code that does not fit the NUCC pattern, and a row whose description belongs to another
specialty code while its own code is described otherwise on every other row (line 118 of the
2025-01-02 file reads ``19,Physician/Ophthalmology,207WX0108X``: 19 is Oral Surgery, the row sits
among the rows of 18, Ophthalmology). A file without the three columns is refused. The reader
reads the whole file before yielding (it has a few hundred rows) because that check needs every
row; it never raises for bad input and imports no RDF library.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Code, Edge, Gap, Meta, Problem, Record
from kgraph.sources._io import CsvRows, csv_reader, numbered_rows

TERMS: dict[str, tuple[str, str]] = {
    "medicareProviderType": (
        "datatype:string",
        "A Medicare provider/supplier type description the CMS crosswalk "
        "gives a Medicare specialty code (a code can have several).",
    ),
}

COLUMNS = {
    "medicarespecialtycode": "specialty",
    "medicareprovidersuppliertypedescription": "description",
    "providertaxonomycode": "taxonomy",
}
EXPECTED = "MEDICARE SPECIALTY CODE, MEDICARE PROVIDER/SUPPLIER TYPE DESCRIPTION, PROVIDER TAXONOMY CODE"
FOOTNOTE_RE = re.compile(r"\[(\d+)\]")
DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})")
NO_TAXONOMY = "no provider taxonomy code in the CMS crosswalk"


@dataclass
class _Row:
    origin: Origin
    specialty: str
    description: str
    taxonomy: str


@csv_reader(COLUMNS, COLUMNS.values(), "Medicare specialty crosswalk", EXPECTED)
def read(path: str | Path, shown: str, reader: CsvRows, cols: dict[str, int], release: str | None
         ) -> Iterator[Record]:
    """Medicare specialty codes, their NUCC crosswalk edges and gaps from the CMS crosswalk CSV."""
    release = release or (m.group(1) if (m := DATE_RE.search(Path(path).name)) else None)
    if release:
        yield Meta("release", release, Origin(shown))

    rows: list[_Row] = []
    footnotes: set[str] = set()
    for start, raw in numbered_rows(reader):
        origin = Origin(shown, start)
        cells = {name: (raw[i] if i < len(raw) else "") for name, i in cols.items()}
        for name in ("specialty", "description"):
            for mark in FOOTNOTE_RE.findall(cells[name]):
                if mark not in footnotes:
                    footnotes.add(mark)
                    yield Problem(
                        origin,
                        f"footnote marker [{mark}] removed from {cells[name].strip()!r}; "
                        "the footnote text is not in the file",
                        severity="info",
                        action="kept",
                    )
        specialty, description, taxonomy = (
            " ".join(FOOTNOTE_RE.sub("", cells[n]).split()) for n in ("specialty", "description", "taxonomy")
        )
        if not is_valid("MSPEC", specialty):
            yield Problem(origin, f"Medicare specialty code {specialty!r} does not fit ^[0-9A-Z]{{2,3}}$")
            continue
        if taxonomy and not is_valid("NUCC", taxonomy):
            yield Problem(
                origin,
                f"taxonomy code {taxonomy!r} does not fit the NUCC pattern "
                "(3 digits, 6 digits or capital letters, then X)",
                curie=f"MSPEC:{specialty}",
            )
            continue
        rows.append(_Row(origin, specialty, description, taxonomy))
    if reader.problem:
        yield reader.problem
        return

    described: dict[str, Counter[str]] = defaultdict(Counter)
    owners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        described[row.specialty][row.description] += 1
        owners[row.description].add(row.specialty)
    emitted: set[str] = set()
    for row in rows:
        curie = f"MSPEC:{row.specialty}"
        if _miscoded(row.description, row.specialty, described, owners):
            others = ", ".join(sorted(owners[row.description] - {row.specialty}))
            own, where = next(
                (r.description, r.origin.line)
                for r in rows
                if r.specialty == row.specialty and r.description != row.description
            )
            yield Problem(
                row.origin,
                f"description {row.description!r} is that of specialty {others}, while "
                f"{row.specialty} is {own!r} (line {where}); probably a miscoded row",
                curie=curie,
            )
            continue
        if curie not in emitted:
            emitted.add(curie)
            kinds = [d for d in described[row.specialty] if d and not _miscoded(d, row.specialty, described, owners)]
            yield Code(
                curie,
                row.origin,
                label=row.description or None,
                props=tuple(("medicareProviderType", d) for d in kinds),
            )
        if row.taxonomy:
            yield Edge(curie, "crosswalksTo", f"NUCC:{row.taxonomy}", row.origin, statement=False)
        else:
            yield Gap(curie, "crosswalksTo", row.origin, text=NO_TAXONOMY)


def _miscoded(
    description: str, specialty: str, described: dict[str, Counter[str]], owners: dict[str, set[str]]
) -> bool:
    """Whether rows of ``specialty`` with ``description`` are the miscoded kind (see module doc)."""
    own = described[specialty]
    return bool(owners[description] - {specialty}) and len(own) > 1 and own[description] == 1
