"""Blocks of a briefing -> records, and the account of how each table and row was read.

Input: a ``blocks.Document``. Output: a ``Reading``: the records (Code, Edge, Fact, Gap, Meta,
CodeRange, Problem) in file order and, per table, its kind and why, and per row its edges and
problems. The rules are in the package docstring (``kgraph.sources.briefing``). Never raises for
bad input; imports no RDF library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from kgraph.errors import Origin
from kgraph.namespaces import is_valid, slug
from kgraph.records import Code, CodeRange, Edge, Fact, Gap, Meta, Problem, Ref, qualifiers
from kgraph.sources.briefing import blocks, columns, phrases, subject
from kgraph.sources.briefing.codes import Cell, Note, is_gap, read_cell, shapes
from kgraph.sources.briefing.report import Reading, RowReport, TableReport, describe
from kgraph.sources.briefing.subject import DATE_KEYS, SUBJECT_KEYS
from kgraph.sources.payers import PayerRegistry

PROSE_PAYERS_RE = re.compile(
    # the gap is bounded: unbounded, a long line of "payer payer ..." without a full stop took time
    # quadratic in its length (96,000 characters: 18 s, found by fuzzing)
    r"\bpayers?\b[^.]{0,200}?\b(?:include|includes|including|are|such as)\b\s*:?\s*(.+?)(?:\.(?:\s|$)|$)",
    re.IGNORECASE,
)
PAYER_LIST_RE = re.compile(r"\bpay(?:e|o)rs?\b[^.]{0,200}?(?:\b(?:include|includes|including|are|such as)\b)?\s*:\s*$",
                           re.IGNORECASE)
KEY_VALUES = {"service type": "serviceType", "type of service": "serviceType", "service category": "serviceType",
              "typical site of service": "siteOfService", "site of service": "siteOfService",
              "place of service": "siteOfService", "typical place of service": "siteOfService",
              "typical setting": "siteOfService", "setting": "siteOfService"}
RELATION = {"modifier": "modifierFor", "taxonomy": "reportedBy", "icd": "supports", "procedure": "relatedTo",
            "payer": "coveredBy"}
NORMALISED = {"lower case": "written in lower case", "without the dot": "written without the dot",
              "with a leading hyphen": "written with a leading hyphen", "with its code-set name":
              "written with the code-set name before the code", "with text after the code":
              "cells with text after the code (kept as the stated description)",
              "several codes in one cell": "cells naming several codes (one edge each)",
              "range": "ranges kept as written (the build expands them against the code sets it loads)",
              "wildcard": "wildcards kept as written (the build expands them against the code sets it loads)"}


@dataclass
class _Table:
    layout: columns.Layout
    header: list[str]
    line: int
    section: str | None
    report: TableReport
    names: list[str | None] = field(default_factory=list)  # qualifier name per column
    seen: dict[str, int] = field(default_factory=dict)


class _Reader:
    def __init__(self, doc: blocks.Document, shown: str, payers: PayerRegistry) -> None:
        self.doc, self.shown, self.payers = doc, shown, payers
        self.reading = Reading(shown, doc.format, doc.why)
        self.out = self.reading.records
        self.subject = ""
        self.section: str | None = None
        self.table_payers: set[str] = set()
        self.prose_payers: list[tuple[str, str, int]] = []
        self.notes: dict[str, list[tuple[int, Note]]] = {}
        self.row: RowReport | None = None
        self.payer_list = False
        self.declared: set[str] = set()

    def origin(self, line: int) -> Origin:
        return Origin(self.shown, line)

    def problem(self, line: int, message: str, **kw: object) -> None:
        problem = Problem(self.origin(line), message, **kw)  # type: ignore[arg-type]
        self.out.append(problem)
        if self.row is not None:
            self.row.problems.append(str(problem))

    def gap(self, subject: str, fld: str, line: int, context: str | None, text: str) -> None:
        self.out.append(Gap(subject, fld, self.origin(line), context=context, text=text.strip()))

    def find_subject(self) -> int | None:
        """Set the subject code, title and date; the line of the title block (0 for front matter), None if
        the file is refused."""
        found = subject.find(self.doc)
        if found is None:
            self.out.append(Problem(self.origin(1), "no title line such as 'CPT 74360: <title>' or 'Code: 74360'; "
                                    "cannot tell which code the briefing is about", action="file refused"))
            return None
        if not is_valid(found.kind, found.code):
            self.out.append(Problem(self.origin(max(found.line, 1)), f"title names {found.kind} {found.code!r}, which "
                                    f"is not a valid {found.kind} code", action="file refused"))
            return None
        self.subject = f"{found.kind}:{found.code}"
        self.reading.subject, self.reading.title = self.subject, found.title or None
        self.out.append(Code(self.subject, self.origin(max(found.line, 1)), label=found.title or None))
        when = subject.date_given(self.doc)
        if when:
            day = subject.parse_date(when[0])
            if day is None:
                self.problem(when[1], f"date {when[0]!r} is not a date kgraph reads (write it as "
                             f"{date.today().isoformat()}); ranges expand against the newest code sets",
                             severity="warning", action="kept")
            else:
                self.reading.as_of = day.isoformat()
                self.out.append(Meta("effective", day.isoformat(), self.origin(when[1])))
        return found.line

    # --- text -------------------------------------------------------------------------------------

    def text(self, block: blocks.Text) -> None:
        text = block.text.strip()
        if not text:
            return
        if block.heading:
            self.section, self.payer_list = text, bool(PAYER_LIST_RE.search(text + ":"))
            return
        if self.payer_list and block.item:
            self.prose_payers.append((text.strip(" .;,"), self.section or "", block.line))
            return
        self.payer_list = False
        key, sep, value = text.partition(":")
        name = key.strip().lower()
        if sep and name in KEY_VALUES:
            prop = KEY_VALUES[name]
            if is_gap(value):
                self.gap(self.subject, prop, block.line, None, value)
            elif value.strip():
                self.out.append(Fact(self.subject, prop, value.strip(), self.origin(block.line)))
            return
        if sep and name in DATE_KEYS and value.strip():
            return  # read with the subject (find_subject)
        if len(text) <= 60 and not sep and not text.endswith((".", ",", ";")) and len(text.split()) <= 6 \
                and text[0].isupper() and not block.item:
            self.section = text
            return
        if PAYER_LIST_RE.search(text):
            self.payer_list = True
            return
        for match in PROSE_PAYERS_RE.finditer(text):
            for payer in _split_names(match.group(1), self.payers):
                self.prose_payers.append((payer, self.section or "", block.line))

    # --- tables -----------------------------------------------------------------------------------

    def table(self, block: blocks.Table) -> None:
        rows = block.rows
        segments: list[tuple[blocks.Row, list[blocks.Row]]] = []
        for i, row in enumerate(rows):
            if row.separator:
                continue
            next_is_separator = i + 1 < len(rows) and rows[i + 1].separator
            if not segments or next_is_separator or _known_header(row.cells):
                segments.append((row, []))
            else:
                segments[-1][1].append(row)
        for header, body in segments:
            self.segment(header, [r for r in body if any(r.cells) or r.defect])

    def segment(self, header: blocks.Row, body: list[blocks.Row]) -> None:
        cells = header.cells
        lay = columns.layout(cells, [r.cells for r in body], self.section, self.payers)
        if lay.kind not in (None, "payer") and lay.kind in shapes(cells[lay.key]) and not columns.header_field(
                cells[lay.key]):
            # the first row holds codes: a table without a header row, its columns known by position
            self.problem(header.line, f"table without a header row (its first row holds {cells[lay.key]!r}); its "
                         "columns are kept as col:column_1, col:column_2, ...", severity="warning", action="kept")
            body = [header, *body]
            cells = [f"column {j}" for j in range(1, len(cells) + 1)]
            header = blocks.Row(cells, header.line)
            lay = columns.layout(cells, [r.cells for r in body], self.section, self.payers)
        report = TableReport(header.line, list(cells), lay.kind, lay.why, self.section)
        self.reading.tables.append(report)
        if lay.kind is None:
            report.rows = [RowReport(r.line, "skipped") for r in body]
            self.problem(header.line, f"unknown table header ({' | '.join(cells)}); {lay.why}; "
                         f"{len(body)} rows not read", severity="warning", action="table skipped")
            return
        report.key = cells[lay.key]
        table = _Table(lay, cells, header.line, self.section, report)
        for j, (name, fld) in enumerate(zip(cells, lay.fields, strict=True)):
            qualifier = None if j == lay.key or fld else column_qualifier(name)
            table.names.append(qualifier)
            report.columns.append({"name": name, "field": "key" if j == lay.key else fld, "qualifier": qualifier})
            if qualifier:
                self.problem(header.line, f"column {name!r} is not one kgraph knows; kept on each row's edge as "
                             f"{qualifier}", severity="info", action="kept")
                if qualifier not in self.declared:  # the graph says what the column is, and its name as written
                    self.declared.add(qualifier)
                    self.out.append(Fact(qualifier, "rdfs:subPropertyOf", Ref("kg:columnQualifier"),
                                         self.origin(header.line)))
                    self.out.append(Fact(qualifier, "rdfs:label", name.strip(), self.origin(header.line)))
        for note in lay.notes:
            self.problem(header.line, note, severity="info", action="kept")
        for row in body:
            self.row = RowReport(row.line)
            report.rows.append(self.row)
            before = len(self.out)
            self.table_row(table, row)
            made = [r for r in self.out[before:] if isinstance(r, (Edge, Gap, CodeRange))]
            if not made:
                self.row.status = "skipped"
            self.row.edges = [describe(r) for r in made]
            self.row = None

    def table_row(self, table: _Table, row: blocks.Row) -> None:
        lay = table.layout
        width = len(table.header)
        if row.defect:
            self.problem(row.line, row.defect)
            return
        count = row.written if row.written is not None else len(row.cells)
        if count != width:
            self.problem(row.line, f"malformed row: {count} cells under a header of {width} (line {table.line})")
            return
        cells = row.cells
        if lay.kind == "payer":
            self.payer_row(table, cells, row.line)
            return
        cell = read_cell(cells[lay.key], lay.kind or "", lay.label)
        if cell.error and not (cell.codes or cell.spans):
            self.problem(row.line, cell.error)
            return
        self.remember(cell, row.line)
        codes = [c for c in cell.codes if self.own_code(c, row.line)]
        for code in codes:
            if code in table.seen:
                self.problem(row.line, f"{code} is listed twice in this table (also line {table.seen[code]})",
                             severity="warning", action="kept", curie=code)
            table.seen.setdefault(code, row.line)
        assert self.row is not None
        self.row.codes = codes + [s.written for s in cell.spans]
        self.coded_row(table, cell, codes, cells, row.line)

    def own_code(self, code: str, line: int) -> bool:
        if code == self.subject:
            self.problem(line, "row names the briefing's own code", severity="warning", curie=code)
            return False
        return True

    def remember(self, cell: Cell, line: int) -> None:
        for note in cell.notes:
            self.notes.setdefault(note.key, []).append((line, note))

    def coded_row(self, table: _Table, cell: Cell, codes: list[str], cells: list[str], line: int) -> None:
        lay, kind = table.layout, table.layout.kind or ""
        others = {f: v for j, (f, v) in enumerate(zip(lay.fields, cells, strict=True)) if j != lay.key and f}
        extra = {name: v for name, v in zip(table.names, cells, strict=True) if name and v.strip()}
        relation = RELATION[kind]
        origin = self.origin(line)
        if cell.text and "description" not in others:
            others["description"] = cell.text
        values = [*others.values(), *extra.values()]
        if values and all(is_gap(v) for v in values):
            for code in codes:
                self.out.append(Code(code, origin))
                self.gap(code, relation, line, self.subject, " ".join(dict.fromkeys(values)))
            return
        for code in codes:
            for fld, value in [*others.items(), *extra.items()]:
                if is_gap(value):
                    self.gap(code, fld or "", line, self.subject, value)
        text = {f: ("" if is_gap(v) else v) for f, v in others.items()}
        cols = {k: v for k, v in extra.items() if not is_gap(v)}
        section = table.section
        if kind == "modifier":
            quals = qualifiers(statedDescription=text.get("description"), whenToUse=text.get("whenToUse"),
                               notes=text.get("notes"), section=section)
            subject_side = True
        elif kind == "taxonomy":
            quals = qualifiers(statedSpecialty=text.get("specialty"), notes=text.get("notes"),
                               statedDescription=text.get("description"), section=section)
            subject_side = False
        elif kind == "icd":
            relevance = text.get("relevance") or text.get("relationship") or ""
            said = relevance or " ".join(cols.values())  # no relevance column: a "Role" column's words
            name, _ = phrases.role(said)
            if name is None:
                self.problem(line, f"the row says the diagnosis does not support {self.subject} ({said!r}); "
                             "no kg:supports edge written")
                return
            quals = qualifiers(role=name, relevanceText=relevance, statedDescription=text.get("description"),
                               notes=text.get("notes"), section=section)
            subject_side = True
        else:
            said = text.get("relationship") or text.get("relevance") or ""
            found = phrases.relationship(said or text.get("notes") or " ".join(cols.values()))
            relation = found.relation
            quals = tuple(sorted({*qualifiers(relationshipText=said, statedDescription=text.get("description"),
                                              notes=text.get("notes"), section=section), *found.qualifiers}))
            subject_side = False
        quals = tuple(sorted({*quals, *cols.items()}))
        label = text.get("specialty") if kind == "taxonomy" else text.get("description")
        for code in codes:
            self.out.append(Code(code, origin, label=label or None))
            s, o = (code, self.subject) if subject_side else (self.subject, code)
            self.out.append(Edge(s, relation, o, origin, quals))
        for span in cell.spans:
            self.out.append(CodeRange(span.prefix, span.written, relation, self.subject, not subject_side, origin,
                                      span.first, span.last, span.stem, quals, self.reading.as_of))

    # --- payers -----------------------------------------------------------------------------------

    def payer(self, name: str, line: int) -> str:
        known = self.payers.resolve(name)
        if known:
            return known
        curie = f"PAYER:{slug(name)}"
        self.problem(line, f"unknown payer {name!r} kept as {curie}; add it to the payer registry "
                     "(data/payers.csv) if it is another name of a known payer",
                     severity="warning", action="kept", curie=curie)
        self.out.append(Code(curie, self.origin(line), label=name))
        return curie

    def payer_row(self, table: _Table, cells: list[str], line: int) -> None:
        lay = table.layout
        name = cells[lay.key].strip()
        if not name or is_gap(name):
            self.problem(line, "payer row without a payer name")
            return
        payer = self.payer(name, line)
        self.table_payers.add(payer)
        assert self.row is not None
        self.row.codes = [payer]
        others = {f: v for j, (f, v) in enumerate(zip(lay.fields, cells, strict=True)) if j != lay.key and f}
        extra = {name: v for name, v in zip(table.names, cells, strict=True) if name and v.strip()}
        origin = self.origin(line)
        values = [*others.values(), *extra.values()]
        if values and all(is_gap(v) for v in values):
            self.gap(self.subject, "coveredBy", line, payer, " ".join(dict.fromkeys(values)))
            return
        for fld, value in [*others.items(), *extra.items()]:
            if is_gap(value):
                self.gap(self.subject, fld or "", line, payer, value)
        text = {f: ("" if is_gap(v) else v) for f, v in others.items()}
        cols = {k: v for k, v in extra.items() if not is_gap(v)}
        quals = qualifiers(position=text.get("position") or "unknown", notes=text.get("notes"), statedName=name,
                           section=table.section)
        self.out.append(Edge(self.subject, "coveredBy", payer, origin, tuple(sorted({*quals, *cols.items()}))))

    def finish(self) -> None:
        """Prose payers not also in a payer table (coverage unknown, a gap); one report per normalisation."""
        done: set[str] = set()
        for name, section, number in self.prose_payers:
            payer = self.payer(name, number)
            if payer in self.table_payers or payer in done:
                continue
            done.add(payer)
            self.out.append(Edge(self.subject, "coveredBy", payer, self.origin(number), qualifiers(
                position="unknown", statedName=name, section=section or None)))
            self.gap(self.subject, "position", number, payer,
                     "named in prose only; the briefing gives no coverage position")
        for key, seen in self.notes.items():
            line, note = seen[0]
            self.reading.normalisations[key] = len(seen)
            more = f" ({len(seen) - 1} more in this file)" if len(seen) > 1 else ""
            said = f"{note.written!r}" if key in ("range", "wildcard") else f"{note.written!r} read as {note.read_as}"
            self.out.append(Problem(self.origin(line), f"{NORMALISED[key]}: {said}{more}", severity="info",
                                    action="kept"))
        for line, what in self.doc.skipped:
            self.reading.not_read.append(f"line {line}: {what}")
            self.out.append(Problem(self.origin(line), f"{what} is not read", severity="info", action="kept"))


def column_qualifier(header: str) -> str:
    """The qualifier of a column kgraph does not know: its header in the ``col:`` namespace.

    >>> column_qualifier("Role"), column_qualifier("Prior auth required?")
    ('col:Role', 'col:Prior_auth_required')
    """
    return "col:" + (re.sub(r"[^A-Za-z0-9_-]+", "_", header.strip()).strip("_-") or "column")


def _known_header(cells: list[str]) -> bool:
    names = [re.sub(r"[^a-z0-9]", "", c.lower()) for c in cells]
    fields = [columns.header_field(c) for c in cells]
    return all(f or n in columns.WEAK for f, n in zip(fields, names, strict=True)) and \
        any(f in columns.KEY_FIELDS for f in fields)


def _key_value_table(table: blocks.Table) -> bool:
    """A two-column table of 'Code | 74360', 'Service type | ...' rows (a wiki page's info box)."""
    rows = [r.cells for r in table.rows if not r.separator]
    keys = {*SUBJECT_KEYS, *KEY_VALUES, *DATE_KEYS, "title"}
    return bool(rows) and all(len(r) == 2 for r in rows) and \
        sum(r[0].strip().lower().rstrip(":") in keys for r in rows) > len(rows) / 2


def _key_values(table: blocks.Table) -> list[blocks.Block]:
    rows = [r for r in table.rows if not r.separator]
    return [blocks.Text(f"{r.cells[0].strip().rstrip(':')}: {r.cells[1]}", r.line) for r in rows]


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


def read_document(doc: blocks.Document, shown: str, payers: PayerRegistry | None = None) -> Reading:
    """The reading of a parsed briefing."""
    # an info box of 'Key | value' rows is read as key: value lines
    doc.blocks = [b for t in doc.blocks for b in (_key_values(t) if isinstance(t, blocks.Table) and _key_value_table(t)
                                                 else [t])]
    reader = _Reader(doc, shown, payers or PayerRegistry())
    title_line = reader.find_subject()
    if title_line is None:
        return reader.reading
    for block in doc.blocks:
        if isinstance(block, blocks.Table):
            reader.table(block)
        elif block.line != title_line:
            reader.text(block)
    reader.finish()
    return reader.reading
