"""Code briefing reader: one briefing document -> Code, Edge, Fact, Gap, CodeRange and Problem records.

A briefing is prose about one procedure code with tables of related codes. It may be plain text
(``data/briefings/cpt-74360.txt`` is the first of that family: a title line, short heading lines,
``Key: value`` lines, pipe tables), Markdown (headings, bold, lists, GFM tables) or HTML exported
from a wiki; the format is chosen by the content (``blocks.detect``). The reader:

* finds the **subject code**: a front-matter or ``Code: 74360`` key, else the first title line
  ``CPT 74360: <title>``, ``# CPT 74360 — <title>``, ``**CPT 74360** – <title>``,
  ``HCPCS G0121 - <title>`` (Markdown and HTML markup are reduced to their text first); a file
  without one, or naming an invalid code, is refused;
* reads ``Service Type: ...`` / ``Site of Service: ...`` lines (also in lists, bold, definition
  lists and two-column info-box tables) as facts, and ``Date: 2024-08-01`` as the briefing's date;
* recognises a table by **what it holds** (``columns``): the header naming its key column, a
  general "Code" column, or the shape of the values (ICD-10-CM, CPT, HCPCS, modifier, NUCC),
  with the section heading as a tie-breaker. A header row is a block's first row, a row followed
  by a ``|---|`` separator, or a row of known column names. Columns in any order; outer pipes and
  separator rows optional; the last line may lack its newline;
* reads **codes as people write them** (``codes``): lower case, without the ICD-10-CM dot, with the
  code-set name, with text after the code, several per cell; ranges and wildcards (``K20-K22``,
  ``K22.x``, ``J1100-J1130``) become ``CodeRange`` records that the build expands against the code
  sets it loads. Each kind of normalisation is reported once per file as info;
* keeps a **column it does not know** as a qualifier on the row's edge, named after its header in
  the ``col:`` namespace (a column "Role" is ``col:Role``, never ``kg:role``), reported as info;
* classifies related-code relationship text (``billedWith``, ``conflictsWith``, ``relatedTo``
  with ``relationKind`` alternative, ``requiredModifier``) and diagnosis relevance (role) with the
  phrase tables of ``phrases``; a diagnosis row that says it does *not* support the procedure gets
  no edge and a problem;
* reads payers named in prose ("Key payers discussed include A, B, and C.", or a list after
  "Payers include:") and in payer tables, resolving names through the payer registry
  (``data/payers.csv``). An unknown payer is kept as a new ``PAYER:`` node with a warning. A payer
  named only in prose says nothing about coverage: ``kg:coveredBy`` with position ``unknown`` and
  a ``kg:Gap``;
* turns every "Data not available in the input" cell (also "(Not listed ...)", "Not provided")
  into a ``Gap`` on the row's code, in the context of the subject code. A row whose cells other
  than the code are all gaps asserts nothing: it becomes one Gap whose field is the relation;
* records the origin (file as shown, 1-based physical line) of every record, in every format.

Problems: a malformed row (cell count differs from the header; a Markdown line without ``|``
taken into a table), a cell that cannot be a code of its column's kind, an empty code cell, or a
row naming the briefing's own code skips the row; a table of no known kind is skipped with every
row it holds counted; an empty file, one that is not UTF-8, or one without a subject code is
refused. Every problem names file and line. ``reading`` also says, table by table and row by row,
how the file was read (``kgraph briefing FILE``). The reader never raises for bad input and
imports no RDF library.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kgraph.errors import Origin
from kgraph.records import Problem, Record
from kgraph.sources._io import read_text
from kgraph.sources.briefing import blocks
from kgraph.sources.briefing.blocks import split_row
from kgraph.sources.briefing.codes import is_gap
from kgraph.sources.briefing.phrases import classify_relationship, classify_role
from kgraph.sources.briefing.reader import read_document
from kgraph.sources.briefing.report import Reading, RowReport, TableReport
from kgraph.sources.briefing.subject import TITLE_RE
from kgraph.sources.payers import PayerRegistry

__all__ = ["TITLE_RE", "Reading", "RowReport", "TableReport", "classify_relationship", "classify_role", "is_gap",
           "parse", "read", "reading", "reading_of_text", "split_row"]
#: the file name endings ``kgraph build --briefing-dir`` reads
EXTENSIONS = (".txt", ".text", ".md", ".markdown", ".html", ".htm")


def reading(path: str | Path, *, payers: PayerRegistry | None = None, display: str | None = None) -> Reading:
    """How one briefing file reads: its records and the account of each table and row."""
    shown = display or str(path)
    text, problem = read_text(path, shown)
    if problem:
        return Reading(shown, records=[problem])
    return reading_of_text(text, shown, payers=payers)


def reading_of_text(text: str, shown: str, *, payers: PayerRegistry | None = None) -> Reading:
    """``reading`` of a briefing given as text."""
    try:
        doc = blocks.parse(text)
    except RecursionError:  # pragma: no cover - markdown-it on pathological nesting
        return Reading(shown, records=[Problem(Origin(shown, 1), "nested too deeply to parse",
                                               action="file refused")])
    return read_document(doc, shown, payers)


def read(path: str | Path, *, payers: PayerRegistry | None = None, display: str | None = None,
         **_: object) -> Iterator[Record]:
    """Records of one briefing file. ``display`` is the path shown in origins and messages."""
    yield from reading(path, payers=payers, display=display).records


def parse(text: str, shown: str, *, payers: PayerRegistry | None = None) -> Iterator[Record]:
    """Records of a briefing given as text (``read`` without the file)."""
    yield from reading_of_text(text, shown, payers=payers).records
