"""Code briefing reader: one briefing document -> Code, Edge, Fact, Gap and Problem records.

A briefing (``data/briefings/cpt-74360.txt`` is the first of the family) is prose with a
title line ``CPT 74360: <title>``, section headings, key-value lines (``Service Type: ...``,
``Typical Site of Service: ...``) and pipe tables. The reader:

* finds the subject code on the first title line (``CPT``/``HCPCS`` then the code and ``:``);
* recognises a table by its **header names**, never by position: a header row is a row whose
  cells are all known column names (or the first row of a block of pipe lines, or a row
  followed by a ``|---|`` separator). Key columns decide the table's kind: ``Modifier``,
  ``Taxonomy Code``, ``ICD-10 Code``, ``CPT Code``, ``HCPCS Code``, ``Payer``. Columns may come
  in any order, leading and trailing pipes are optional, the separator row is optional, and
  the last line may lack its newline;
* reads payers named in prose ("Key payers discussed include A, B, and C.") and in payer
  tables, resolving names through the payer registry (``data/payers.csv``). An unknown payer
  is kept as a new ``PAYER:`` node with a warning. A payer named only in prose says nothing
  about coverage: it gets ``kg:coveredBy`` with position ``unknown`` and a ``kg:Gap``;
* turns every "Data not available in the input" cell (also "(Not listed ...)", "Not
  provided") into a ``Gap`` on the row's code, in the context of the subject code. A row whose
  cells other than the code are all gaps asserts nothing: it becomes one Gap whose field is
  the relation (the seed's modifier 79 row is a gap on ``MOD:79`` for ``CPT:74360``, not a
  modifier without a description);
* records the origin (file as shown, 1-based physical line) of every record.

Relationship text of the Related CPT / HCPCS tables (kept as ``relationshipText``), classified
in this order, first match wins:

1. ``conflictsWith`` when the text denies separate billing: "not ... billed / reported /
   separately", "bundled", "included in", "mutually exclusive", "do not bill / report",
   "cannot be billed / reported", "conflict";
2. ``billedWith`` when it says the codes are billed together: "billed / reported ...
   separately / together / with / when / alongside / in addition", "may be billed /
   reported", "add-on", "in addition to";
3. ``relatedTo`` otherwise (a related concept, neither billed with nor conflicting).

Clinical relevance of the Related Diagnoses table (kept as ``relevanceText``) becomes the role
of the ``kg:supports`` edge, first match wins: ``complication`` ("complication"),
``symptom`` ("symptom"), ``risk`` ("risk", "can lead to", "may complicate", "predispose",
"impact", "affect", "contraindicat"), else ``indication``.

Problems: a malformed row (cell count differs from the header), a cell that cannot be a code
of its column's kind, or an empty code cell skips the row; an unknown header skips the table;
an empty file, a file that is not UTF-8, or one without a title line is refused. Every
problem names file and line. The reader never raises for bad input and imports no RDF library.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import icd10cm_with_dot, is_valid, slug
from kgraph.records import Code, Edge, Fact, Gap, Problem, Record, qualifiers
from kgraph.sources._text import read_text
from kgraph.sources.payers import PayerRegistry

TITLE_RE = re.compile(r"^\s*(CPT|HCPCS)\S*\s+(?:code\s+)?([0-9A-Za-z]{5})\s*[:\u2013\u2014-]\s*(.*?)\s*$")
GAP_RE = re.compile(
    r"^\(?\s*(?:data\s+)?not\s+(?:available|listed|provided|specified)\b|^\(?\s*(?:n/?a|unknown)\s*\)?\.?$",
    re.IGNORECASE,
)
SEPARATOR_RE = re.compile(r"^\s*:?-{2,}:?\s*$")
PROSE_PAYERS_RE = re.compile(
    # the gap is bounded: unbounded, a long line of "payer payer ..." without a full stop took time
    # quadratic in its length (96,000 characters: 18 s, found by fuzzing)
    r"\bpayers?\b[^.]{0,200}?\b(?:include|includes|including|are|such as)\b\s*:?\s*(.+?)(?:\.(?:\s|$)|$)",
    re.IGNORECASE,
)
KEY_VALUES = {"service type": "serviceType", "typical site of service": "siteOfService",
              "site of service": "siteOfService"}

# Normalised header name -> column field. Key columns name the table's kind.
HEADERS: dict[str, str] = {
    "modifier": "modifier", "modifiercode": "modifier", "mod": "modifier",
    "taxonomycode": "taxonomy", "taxonomy": "taxonomy", "nucctaxonomy": "taxonomy",
    "nucctaxonomycode": "taxonomy", "providertaxonomy": "taxonomy",
    "icd10code": "icd", "icd10cmcode": "icd", "icd10": "icd", "icd10cm": "icd", "icdcode": "icd",
    "diagnosiscode": "icd",
    "cptcode": "cpt", "cpt": "cpt", "hcpcscode": "hcpcs", "hcpcs": "hcpcs",
    "payer": "payer", "payername": "payer", "insurer": "payer",
    "description": "description", "descriptor": "description", "shortdescription": "description",
    "whentouse": "whenToUse", "usage": "whenToUse",
    "specialty": "specialty", "specialtyname": "specialty",
    "notes": "notes", "note": "notes", "comments": "notes",
    "clinicalrelevance": "relevance", "relevance": "relevance",
    "relationshiptothisprocedure": "relationship", "relationship": "relationship",
    "coverageposition": "position", "coverage": "position", "position": "position",
    "policy": "position", "coveragepolicy": "position",
}
KEY_COLUMNS = ("modifier", "taxonomy", "icd", "cpt", "hcpcs", "payer")

CONFLICT_RE = re.compile(
    r"\bnot\b[^.;]{0,30}\b(?:billed|reported|reportable|separately)\b|\bbundled\b|\bincluded in\b"
    r"|\bmutually exclusive\b|\bdo not (?:bill|report)\b|\bcannot be (?:billed|reported)\b|\bconflict",
    re.IGNORECASE,
)
BILLED_RE = re.compile(
    r"\b(?:billed|reported|reportable|coded)\b[^.;]{0,20}\b(?:separately|together|with|when|alongside"
    r"|in addition)\b|\bmay be (?:billed|reported)\b|\badd-on\b|\bin addition to\b",
    re.IGNORECASE,
)
ROLE_RULES = (
    ("complication", re.compile(r"\bcomplication", re.IGNORECASE)),
    ("symptom", re.compile(r"\bsymptom", re.IGNORECASE)),
    ("risk", re.compile(r"\brisk|\bcan lead to\b|\bmay complicate\b|\bpredispos|\bimpact|\baffect"
                        r"|\bcontraindicat", re.IGNORECASE)),
)


def classify_relationship(text: str) -> str:
    """The kg: relation a Related CPT row's relationship text expresses.

    >>> classify_relationship("Bundled into the primary procedure; not billed separately")
    'conflictsWith'
    >>> classify_relationship("The S&I is billed separately when applicable")
    'billedWith'
    >>> classify_relationship("Included here as a related concept")
    'relatedTo'
    """
    if CONFLICT_RE.search(text):
        return "conflictsWith"
    if BILLED_RE.search(text):
        return "billedWith"
    return "relatedTo"


def classify_role(text: str) -> str:
    """The role of a diagnosis that supports a procedure, from its clinical relevance text.

    >>> classify_role("Symptom code commonly associated with evaluation")
    'symptom'
    >>> classify_role("Chronic reflux can lead to peptic strictures")
    'risk'
    """
    for role, pattern in ROLE_RULES:
        if pattern.search(text):
            return role
    return "indication"


def is_gap(cell: str) -> bool:
    """Whether a cell says the data is missing rather than giving it."""
    return bool(GAP_RE.match(cell.strip()))


def split_row(line: str) -> list[str]:
    """The cells of a pipe-table line; leading and trailing pipes are optional.

    >>> split_row("| K22.2 | Esophageal obstruction |")
    ['K22.2', 'Esophageal obstruction']
    >>> split_row("26 | Professional component | When billing")
    ['26', 'Professional component', 'When billing']
    """
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|"):
        text = text[:-1]
    return [cell.strip() for cell in text.split("|")]


def header_fields(cells: list[str]) -> list[str | None]:
    """The field of each header cell, or None for a name the reader does not know."""
    return [HEADERS.get(re.sub(r"[^a-z0-9]", "", cell.lower())) for cell in cells]


@dataclass
class _Table:
    kind: str | None
    fields: list[str | None]
    names: list[str]
    line: int
    section: str | None
    seen: dict[str, int] = field(default_factory=dict)


@dataclass
class _Reader:
    shown: str
    payers: PayerRegistry
    out: list[Record] = field(default_factory=list)
    subject: str = ""
    section: str | None = None
    table_payers: set[str] = field(default_factory=set)
    prose_payers: list[tuple[str, str, int]] = field(default_factory=list)
    gaps: int = 0

    def origin(self, line: int) -> Origin:
        return Origin(self.shown, line)

    def problem(self, line: int, message: str, **kw: object) -> None:
        self.out.append(Problem(self.origin(line), message, **kw))  # type: ignore[arg-type]

    def gap(self, subject: str, fld: str, line: int, context: str | None, text: str) -> None:
        self.out.append(Gap(subject, fld, self.origin(line), context=context, text=text.strip()))


def read(path: str | Path, *, payers: PayerRegistry | None = None, display: str | None = None) -> Iterator[Record]:
    """Records of one briefing file. ``display`` is the path shown in origins and messages."""
    shown = display or str(path)
    text, problem = read_text(path, shown)
    if problem:
        yield problem
        return
    yield from parse(text, shown, payers=payers)


def parse(text: str, shown: str, *, payers: PayerRegistry | None = None) -> Iterator[Record]:
    """Records of a briefing given as text (``read`` without the file)."""
    # Physical lines: str.splitlines would also split on form feeds and U+2028.
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    reader = _Reader(shown, payers or PayerRegistry())
    title_line = next((i for i, ln in enumerate(lines, 1) if TITLE_RE.match(ln)), 0)
    if not title_line:
        yield Problem(Origin(shown, 1), "no title line such as 'CPT 74360: <title>'; cannot tell "
                      "which code the briefing is about", action="file refused")
        return
    match = TITLE_RE.match(lines[title_line - 1])
    assert match
    kind, code, title = match.group(1).upper(), match.group(2).upper(), match.group(3)
    if not is_valid(kind, code):
        yield Problem(Origin(shown, title_line), f"title names {kind} {code!r}, which is not a valid "
                      f"{kind} code", action="file refused")
        return
    reader.subject = f"{kind}:{code}"
    reader.out.append(Code(reader.subject, reader.origin(title_line), label=title or None))

    table: _Table | None = None
    for number, line in enumerate(lines, 1):
        if "|" not in line:
            table = None
            if number != title_line:
                _prose(reader, line, number)
            continue
        cells = split_row(line)
        if all(SEPARATOR_RE.match(c) for c in cells if c) and any(cells):
            continue
        following = lines[number] if number < len(lines) else ""
        next_is_separator = "|" in following and all(
            SEPARATOR_RE.match(c) for c in split_row(following) if c) and any(split_row(following))
        fields = header_fields(cells)
        known_header = all(fields) and any(f in KEY_COLUMNS for f in fields)
        if table is None or known_header or next_is_separator:
            table = _start_table(reader, cells, fields, number)
            continue
        if table.kind is None:
            continue  # rows of a table whose header was not recognised (reported once)
        _row(reader, table, cells, number)
    _finish_payers(reader)
    yield from reader.out


def _prose(reader: _Reader, line: str, number: int) -> None:
    text = line.strip()
    if not text:
        return
    key, sep, value = text.partition(":")
    if sep and key.strip().lower() in KEY_VALUES:
        prop = KEY_VALUES[key.strip().lower()]
        if is_gap(value):
            reader.gap(reader.subject, prop, number, None, value)
        elif value.strip():
            reader.out.append(Fact(reader.subject, prop, value.strip(), reader.origin(number)))
        return
    if len(text) <= 60 and not sep and not text.endswith((".", ",", ";")) and len(text.split()) <= 6 \
            and text[0].isupper():
        reader.section = text
        return
    for match in PROSE_PAYERS_RE.finditer(text):
        for name in _split_names(match.group(1), reader.payers):
            reader.prose_payers.append((name, reader.section or "", number))


def _split_names(text: str, payers: PayerRegistry) -> list[str]:
    """Payer names of a prose list: 'A, B, and C' / 'A and B'; 'Blue Cross and Blue Shield' stays whole."""
    names: list[str] = []
    for part in re.split(r"[,;]", text):
        part = re.sub(r"^\s*(?:and|or)\s+", "", part).strip(" .")
        if not part:
            continue
        pieces = re.split(r"\s+(?:and|or|&)\s+", part)
        if len(pieces) > 1 and not payers.resolve(part):
            names.extend(p.strip() for p in pieces)
        else:
            names.append(part)
    return names


def _start_table(reader: _Reader, cells: list[str], fields: list[str | None], number: int) -> _Table:
    keys = [f for f in fields if f in KEY_COLUMNS]
    names = list(cells)
    if not keys:
        reader.problem(number, f"unknown table header ({' | '.join(cells)}); expected a column named "
                       "Modifier, Taxonomy Code, ICD-10 Code, CPT Code, HCPCS Code or Payer",
                       severity="warning", action="table skipped")
        return _Table(None, fields, names, number, reader.section)
    if len(set(keys)) > 1:
        reader.problem(number, f"table header names more than one code column ({', '.join(sorted(set(keys)))})",
                       severity="warning", action="table skipped")
        return _Table(None, fields, names, number, reader.section)
    for name, fld in zip(cells, fields, strict=True):
        if fld is None:
            reader.problem(number, f"unknown column {name!r} ignored", severity="warning", action="kept")
    return _Table(keys[0], fields, names, number, reader.section)


def _code(reader: _Reader, kind: str, raw: str, number: int) -> str | None:
    value = raw.strip().strip(".,;*").upper()
    if kind == "icd":
        value = icd10cm_with_dot(value)
        prefix: str | None = "ICD10CM" if is_valid("ICD10CM", value) else None
    elif kind in ("cpt", "hcpcs"):
        prefix = next((p for p in ("CPT", "HCPCS") if is_valid(p, value)), None)
    else:
        prefix = {"modifier": "MOD", "taxonomy": "NUCC"}[kind]
        prefix = prefix if is_valid(prefix, value) else None
    if prefix is None:
        label = {"icd": "an ICD-10-CM", "cpt": "a CPT or HCPCS", "hcpcs": "a HCPCS or CPT",
                 "modifier": "a modifier", "taxonomy": "a NUCC taxonomy"}[kind]
        what = f"{raw!r} cannot be {label} code" if raw.strip() else f"empty {label.split(' ', 1)[1]} code"
        reader.problem(number, what)
        return None
    return f"{prefix}:{value}"


def _row(reader: _Reader, table: _Table, cells: list[str], number: int) -> None:
    if not any(cells):
        return
    if len(cells) != len(table.fields):
        reader.problem(number, f"malformed row: {len(cells)} cells under a header of {len(table.fields)} "
                       f"(line {table.line})")
        return
    row = {f: c for f, c in zip(table.fields, cells, strict=True) if f}
    assert table.kind
    if table.kind == "payer":
        _payer_row(reader, table, row, number)
        return
    code = _code(reader, table.kind, row[table.kind], number)
    if code is None:
        return
    if code == reader.subject:
        reader.problem(number, "row names the briefing's own code", severity="warning", curie=code)
        return
    if code in table.seen:
        reader.problem(number, f"{code} is listed twice in this table (also line {table.seen[code]})",
                       severity="warning", action="kept", curie=code)
    table.seen.setdefault(code, number)
    others = {f: v for f, v in row.items() if f != table.kind}
    origin = reader.origin(number)
    relation = {"modifier": "modifierFor", "taxonomy": "reportedBy", "icd": "supports",
                "cpt": "relatedTo", "hcpcs": "relatedTo"}[table.kind]
    if others and all(is_gap(v) for v in others.values()):
        reader.out.append(Code(code, origin))
        reader.gap(code, relation, number, reader.subject, " ".join(dict.fromkeys(others.values())))
        return
    for fld, value in others.items():
        if is_gap(value):
            reader.gap(code, fld, number, reader.subject, value)
    text = {f: ("" if is_gap(v) else v) for f, v in others.items()}
    label = text.get("specialty") if table.kind == "taxonomy" else text.get("description")
    reader.out.append(Code(code, origin, label=label or None))
    section = table.section
    if table.kind == "modifier":
        edge = Edge(code, "modifierFor", reader.subject, origin, qualifiers(
            statedDescription=text.get("description"), whenToUse=text.get("whenToUse"),
            notes=text.get("notes"), section=section))
    elif table.kind == "taxonomy":
        edge = Edge(reader.subject, "reportedBy", code, origin, qualifiers(
            statedSpecialty=text.get("specialty"), notes=text.get("notes"),
            statedDescription=text.get("description"), section=section))
    elif table.kind == "icd":
        relevance = text.get("relevance", "")
        edge = Edge(code, "supports", reader.subject, origin, qualifiers(
            role=classify_role(relevance), relevanceText=relevance,
            statedDescription=text.get("description"), notes=text.get("notes"), section=section))
    else:
        relationship = text.get("relationship", "")
        edge = Edge(reader.subject, classify_relationship(relationship), code, origin, qualifiers(
            relationshipText=relationship, statedDescription=text.get("description"),
            notes=text.get("notes"), section=section))
    reader.out.append(edge)


def _payer(reader: _Reader, name: str, number: int) -> str:
    known = reader.payers.resolve(name)
    if known:
        return known
    curie = f"PAYER:{slug(name)}"
    reader.problem(number, f"unknown payer {name!r} kept as {curie}; add it to the payer registry "
                   "(data/payers.csv) if it is another name of a known payer",
                   severity="warning", action="kept", curie=curie)
    reader.out.append(Code(curie, reader.origin(number), label=name))
    return curie


def _payer_row(reader: _Reader, table: _Table, row: dict[str, str], number: int) -> None:
    name = row["payer"].strip()
    if not name or is_gap(name):
        reader.problem(number, "payer row without a payer name")
        return
    payer = _payer(reader, name, number)
    reader.table_payers.add(payer)
    others = {f: v for f, v in row.items() if f != "payer"}
    origin = reader.origin(number)
    if others and all(is_gap(v) for v in others.values()):
        reader.gap(reader.subject, "coveredBy", number, payer, " ".join(dict.fromkeys(others.values())))
        return
    for fld, value in others.items():
        if is_gap(value):
            reader.gap(reader.subject, fld, number, payer, value)
    text = {f: ("" if is_gap(v) else v) for f, v in others.items()}
    reader.out.append(Edge(reader.subject, "coveredBy", payer, origin, qualifiers(
        position=text.get("position") or "unknown", notes=text.get("notes"), statedName=name,
        section=table.section)))


def _finish_payers(reader: _Reader) -> None:
    """Prose payers not also in a payer table: coverage unknown, recorded as a gap."""
    done: set[str] = set()
    for name, section, number in reader.prose_payers:
        payer = _payer(reader, name, number)
        if payer in reader.table_payers or payer in done:
            continue
        done.add(payer)
        reader.out.append(Edge(reader.subject, "coveredBy", payer, reader.origin(number), qualifiers(
            position="unknown", statedName=name, section=section or None)))
        reader.gap(reader.subject, "position", number, payer,
                   "named in prose only; the briefing gives no coverage position")
