"""Frozen records passed from source readers to the build: Code, Edge, Fact, Gap, Problem.

Readers yield these and never import rdflib or pyoxigraph; ``kgraph.store`` turns them into
quads. Codes are CURIE strings (``CPT:74360``), never numbers. Qualifiers are a sorted tuple
of (name, value) pairs so that records stay hashable and their order stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from kgraph.errors import Origin, located

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Ref:
    """A field value that is a node (a CURIE such as ``CPT:74360``), not a literal."""

    curie: str


#: a literal (xsd:string, xsd:integer, xsd:date, xsd:dateTime) or a node
Value = str | int | date | datetime | Ref


def qualifiers(**values: str | None) -> tuple[tuple[str, str], ...]:
    """Qualifier pairs from keyword arguments, leaving out empty values."""
    return tuple(sorted((k, v) for k, v in values.items() if v))


@dataclass(frozen=True, slots=True)
class Code:
    """A node: a code (or payer) and what the source says about it."""

    curie: str
    origin: Origin
    label: str | None = None
    #: extra literal properties (kg: local name -> values), e.g. aliases of a payer
    props: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Edge:
    """A typed edge ``subject --relation--> object`` with its qualifiers and evidence."""

    subject: str
    relation: str  # kg: local name, e.g. "supports"
    object: str
    origin: Origin
    qualifiers: tuple[tuple[str, str], ...] = ()
    #: False for code-set edges (hierarchy, crosswalk): the plain triple only, no statement node
    statement: bool = True

    def qualifier_map(self) -> Mapping[str, str]:
        return dict(self.qualifiers)


@dataclass(frozen=True, slots=True)
class Fact:
    """A literal property of a subject, optionally valid over a date range (ISO dates)."""

    subject: str
    property: str  # kg: local name
    value: Value
    origin: Origin
    valid_from: str | None = None
    valid_to: str | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """'Data not available in the input': what is missing, about which subject, in what context."""

    subject: str
    field: str
    origin: Origin
    context: str | None = None
    text: str = "Data not available in the input"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in a source, and what the reader did about it.

    ``action`` is one of ``row skipped``, ``table skipped``, ``file refused``, ``kept``.
    A ``file refused`` problem makes the reader stop; the build then refuses the file.
    """

    origin: Origin
    message: str
    severity: Severity = "error"
    action: str = "row skipped"
    curie: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def fatal(self) -> bool:
        return self.action == "file refused"

    def __str__(self) -> str:
        suffix = f" ({self.action})" if self.action != "kept" else ""
        return located(self.origin, self.curie, self.message) + suffix


@dataclass(frozen=True, slots=True)
class CodeRange:
    """A range or wildcard of codes named by a briefing row (``K20-K22``, ``K22.x``), kept as written.

    The reader cannot know which codes it holds: the build expands it against the code sets it
    loads (``kgraph.ranges``) into one range statement (``kg:CodeRange``) whose members are edges
    ``member --relation--> other`` (``other --relation--> member`` when ``member_is_object``).
    ``first``/``last`` bound a range, ``stem`` starts every code of a wildcard; ``as_of`` is the
    briefing's date (ISO), which picks the code-set release in force.
    """

    prefix: str  # ICD10CM, CPT or HCPCS
    written: str
    relation: str
    other: str
    member_is_object: bool
    origin: Origin
    first: str = ""
    last: str = ""
    stem: str = ""
    qualifiers: tuple[tuple[str, str], ...] = ()
    as_of: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """A code-set row stored compactly (ARCHITECTURE.md decision 4).

    One node per row, its IRI minted from source and line, typed ``kg:<kind>`` and holding
    ``fields`` (kg: local name -> value). ``edge`` is the plain triple (subject CURIE, relation,
    object CURIE) also written when the row is in effect at the file's date, else None.
    """

    kind: str
    origin: Origin
    fields: tuple[tuple[str, Value], ...]
    edge: tuple[str, str, str] | None = None

    def field_map(self) -> Mapping[str, Value]:
        return dict(self.fields)


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource of a source with an IRI of its own (a review note: ``ROW:notes/<export>/<note>``).

    Written as ``<curie> a kg:<kind>``, one triple per field (kg: local name -> value) and the
    evidence of a statement (``kg:source`` the source node, ``kg:line`` the line of ``origin``).
    """

    curie: str
    kind: str
    origin: Origin
    fields: tuple[tuple[str, Value], ...]


@dataclass(frozen=True, slots=True)
class Meta:
    """Something a reader learned about its source as a whole: release, effective date, notice."""

    key: str  # "release", "effective", "notice", "layout"
    value: str
    origin: Origin


Record = Code | Edge | Fact | Gap | Problem | Row | Meta | CodeRange | Resource
