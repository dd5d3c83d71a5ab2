"""The on-disk store: an Oxigraph database per build, behind an atomically swapped symlink.

Layout (ARCHITECTURE.md decision 9): ``.kgraph`` is a symlink to ``.kgraph.d/<build-id>/``,
which holds ``oxigraph/`` (the database) and ``build.json`` (sources, counts, problems).
``open`` opens the newest build read-only; queries see the union of the named graphs as the
default graph. This module also turns records into quads (``record_quads``). It does not read
source files (``kgraph.sources``) nor decide what goes into a build (``kgraph.build``).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.builds import DEFAULT_STORE, builds_dir, store_path  # noqa: F401 - paths of builds, re-exported
from kgraph.errors import Origin, StoreError
from kgraph.guard import DEFAULT, Limits, check
from kgraph.records import Code, CodeRange, Edge, Fact, Gap, Meta, Problem, Record, Ref, Resource, Row, Value

RDF_TYPE = ox.NamedNode(ns.RDF + "type")
RDFS_LABEL = ox.NamedNode(ns.RDFS + "label")
XSD_INTEGER = ox.NamedNode(ns.XSD + "integer")
XSD_DATETIME = ox.NamedNode(ns.XSD + "dateTime")
_TYPE = f"<{ns.RDF}type>"


def K(local: str) -> ox.NamedNode:  # noqa: N802 - reads like the kg: prefix
    return ox.NamedNode(ns.KG + local)


@dataclass
class Store:
    """An opened build: the pyoxigraph store (read-only) and its ``build.json``.

    ``limits`` (``kgraph.guard``) guard the texts of ``kgraph.query`` and of ``rdflib()``; raise
    them for a query they refuse: ``store.limits = store.limits.replace(max_depth=500)``.
    """

    path: Path
    build_dir: Path
    ox: ox.Store
    info: dict[str, Any] = field(default_factory=dict)
    limits: Limits = DEFAULT

    def query(self, sparql: str, *, substitutions: dict[Any, Any] | None = None) -> Any:
        """Run SPARQL on the union of the named graphs, with every kgraph prefix declared.

        ``substitutions`` ({Variable: term}) are bound into the text (``kgraph.binding.bind``), so
        that Oxigraph looks the values up in its indexes instead of filtering afterwards.
        """
        if substitutions:
            from kgraph.binding import bind

            sparql = bind(sparql, substitutions)
        return self.ox.query(sparql, prefixes=ns.PREFIXES, use_default_graph_as_union=True)

    def select(self, name_or_sparql: str, **bindings: Any) -> list[dict[str, str | None]]:
        """Rows of an internal query (``kgraph/queries/internal/NAME.rq``) or SELECT text, as dicts
        of CURIE / literal strings (``None`` when unbound); see ``kgraph.internal_queries``."""
        from kgraph.internal_queries import select

        return select(self, name_or_sparql, **bindings)

    def rdflib(self) -> Any:
        """An ``rdflib.Dataset`` on the same Oxigraph store (oxrdflib); its default graph is the union.

        Plain query strings run on Oxigraph; ``initBindings`` or prepared queries fall back to
        rdflib's slow engine (ARCHITECTURE.md), so bind parameters with ``VALUES`` instead. Query
        and update texts are checked against ``limits`` first (``QueryRefused``).
        """
        from oxrdflib import OxigraphStore
        from rdflib import Dataset

        owner = self

        class GuardedStore(OxigraphStore):
            def query(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                if isinstance(query, str):
                    check(query, owner.limits)
                return super().query(query, *args, **kwargs)

            def update(self, update: Any, *args: Any, **kwargs: Any) -> Any:
                if isinstance(update, str):
                    check(update, owner.limits)
                return super().update(update, *args, **kwargs)

        dataset = Dataset(store=GuardedStore(store=self.ox), default_union=True)
        for prefix, namespace in ns.PREFIXES.items():
            dataset.bind(prefix, namespace, override=True)
        return dataset

    @property
    def counts(self) -> dict[str, Any]:
        return dict(self.info.get("counts", {}))

    def __repr__(self) -> str:
        return f"<kgraph.Store {self.path} build={self.build_dir.name}>"


def open(path: str | os.PathLike[str] | None = None) -> Store:  # noqa: A001 - kgraph.open
    """Open the newest build of a store read-only. Raises ``StoreError`` if there is none."""
    where = store_path(path)
    target = where.resolve()
    database = target / "oxigraph"
    if not database.is_dir():
        if where.exists() or where.is_symlink():
            raise StoreError(f"{where}: not a kgraph store (no oxigraph/ inside {target})")
        raise StoreError(f"{where}: no store here; run 'kgraph build' first")
    try:
        store = ox.Store.read_only(str(database))
    except OSError as exc:
        raise StoreError(f"{where}: cannot open the store: {exc}") from exc
    info: dict[str, Any] = {}
    meta = target / "build.json"
    if meta.exists():
        info = json.loads(meta.read_text(encoding="utf-8"))
    return Store(where, target, store, info)


# --- records -> quads ------------------------------------------------------------------------


def literal(value: str) -> ox.Literal:
    """Codes and texts are xsd:string literals, never numbers."""
    return ox.Literal(value)


XSD_DATE = ox.NamedNode(ns.XSD + "date")
_UNSAFE_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r'[\\"\n\r]')


def nq_literal(value: str) -> str:
    """An xsd:string literal in N-Quads syntax."""
    if _NEEDS_ESCAPE.search(value):
        value = value.translate(_ESCAPES)
    return f'"{value}"'


class QuadWriter:
    """Turns the records of one source into N-Quads lines in that source's named graph.

    Briefing edges get a statement node (``kg:Assertion``); code-set rows one compact node each
    (``ROW:<source>/L<line>``) holding their fields; code-set edges with ``statement=False`` are
    plain triples whose provenance is their named graph. Lines are text for ``Store.bulk_load``
    (measured: about 1.5x faster than building ``pyoxigraph.Quad`` objects for ``bulk_extend``);
    terms are cached because code-set files repeat the same codes millions of times.
    """

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self.graph = ns.term(f"GRAPH:{source_id}")
        self.source = ns.term(f"SOURCE:{source_id}")
        self.metas: list[Meta] = []
        #: briefing ranges and wildcards, written by ``range_lines`` once the build has expanded them
        self.ranges: list[CodeRange] = []
        self._g = f" <{self.graph.value}> .\n"
        self._src = f"<{self.source.value}>"
        self._serial: dict[tuple[str, int], int] = {}
        self._last_row: tuple[str, int] = ("", 0)
        self._row_n = 0
        self._nodes: dict[str, str] = {}
        self._dates: dict[date, str] = {}

    def node(self, curie: str) -> str:
        """``<iri>`` for a CURIE, a full IRI, or a kg: local name."""
        found = self._nodes.get(curie)
        if found is None:
            if len(self._nodes) > 500_000:
                self._nodes.clear()
            value = ns.iri(curie) if ":" in curie else ns.KG + curie
            if _UNSAFE_IRI.search(value):
                raise ValueError(f"{curie!r} cannot be part of an IRI (a reader bug: codes are checked first)")
            found = self._nodes[curie] = f"<{value}>"
        return found

    def value(self, value: Value) -> str:
        if isinstance(value, str):
            return nq_literal(value)
        if isinstance(value, Ref):
            return self.node(value.curie)
        if isinstance(value, bool):  # pragma: no cover - readers write flags as strings
            return nq_literal("true" if value else "false")
        if isinstance(value, int):
            return f'"{value}"^^<{ns.XSD}integer>'
        if isinstance(value, datetime):  # before date: a datetime is a date too
            return f'"{value.isoformat()}"^^<{ns.XSD}dateTime>'
        if isinstance(value, date):
            found = self._dates.get(value)
            if found is None:
                found = self._dates[value] = f'"{value.isoformat()}"^^<{ns.XSD}date>'
            return found
        raise TypeError(f"not a field value: {value!r}")

    def _mint(self, prefix: str, line: int) -> str:
        n = self._serial.get((prefix, line), 0) + 1
        self._serial[(prefix, line)] = n
        return self.node(f"{prefix}:{self.source_id}/L{line}-{n}")

    def _mint_row(self, origin: Origin) -> str:
        key = (origin.path, origin.line)
        self._row_n = self._row_n + 1 if key == self._last_row else 1
        self._last_row = key
        member = origin.path.rpartition("!")[2] if "!" in origin.path else ""
        local = f"{self.source_id}/{ns.slug(member) + '/' if member else ''}L{origin.line}"
        if self._row_n > 1:
            local += f"-{self._row_n}"
        return f"<{ns.PREFIXES['ROW']}{local}>"

    def lines(self, records: Iterable[Record]) -> Iterator[str]:
        """N-Quads lines for the records; Meta records are kept for ``source_lines``."""
        g = self._g
        for record in records:
            if isinstance(record, Row):
                yield from self._row(record)
            elif isinstance(record, Code):
                yield from self._code(record)
            elif isinstance(record, Edge):
                yield from self._edge(record)
            elif isinstance(record, Fact):
                yield f"{self.node(record.subject)} {self.node(record.property)} {self.value(record.value)}{g}"
            elif isinstance(record, Gap):
                yield from self._gap(record)
            elif isinstance(record, Resource):
                yield from self._resource(record)
            elif isinstance(record, Meta):
                self.metas.append(record)
            elif isinstance(record, CodeRange):
                self.ranges.append(record)
            elif isinstance(record, Problem):
                continue
            else:  # pragma: no cover - a reader bug
                raise TypeError(f"not a record: {record!r}")

    def _row(self, row: Row) -> Iterator[str]:
        g, node = self._g, self._mint_row(row.origin)
        yield f"{node} {_TYPE} {self.node(row.kind)}{g}"
        for name, value in row.fields:
            yield f"{node} {self.node(name)} {self.value(value)}{g}"
        if row.edge:
            s, p, o = row.edge
            yield f"{self.node(s)} {self.node(p)} {self.node(o)}{g}"

    def _resource(self, res: Resource) -> Iterator[str]:
        g, node = self._g, self.node(res.curie)
        yield f"{node} {_TYPE} {self.node(res.kind)}{g}"
        for name, value in res.fields:
            yield f"{node} {self.node(name)} {self.value(value)}{g}"
        yield from self._evidence(node, res.origin.line)

    def _code(self, code: Code) -> Iterator[str]:
        g, node = self._g, self.node(code.curie)
        prefix, _, local = code.curie.partition(":")
        yield f"{node} {_TYPE} {self.node(ns.KIND_CLASSES[ns.CODE_KINDS[prefix]])}{g}"
        yield f"{node} <{ns.KG}code> {nq_literal(local)}{g}"
        if code.label:
            yield f"{node} <{ns.RDFS}label> {nq_literal(code.label)}{g}"
        for prop, value in code.props:
            yield f"{node} {self.node(prop)} {nq_literal(value)}{g}"

    def _evidence(self, node: str, line: int) -> Iterator[str]:
        yield f"{node} <{ns.KG}source> {self._src}{self._g}"
        yield f'{node} <{ns.KG}line> "{line}"^^<{ns.XSD}integer>{self._g}'

    def _qualified(self, node: str, qualifiers: Iterable[tuple[str, str]], line: int) -> Iterator[str]:
        """A statement's qualifiers (``kg:`` or ``col:`` names, literal values) and its evidence."""
        for name, value in qualifiers:
            yield f"{node} {self.node(name)} {nq_literal(value)}{self._g}"
        yield from self._evidence(node, line)

    def _edge(self, edge: Edge) -> Iterator[str]:
        g = self._g
        s, p, o = self.node(edge.subject), self.node(edge.relation), self.node(edge.object)
        yield f"{s} {p} {o}{g}"
        if not edge.statement:
            return
        node = self._mint("ASSERTION", edge.origin.line)
        yield f"{node} {_TYPE} <{ns.KG}Assertion>{g}"
        yield f"{node} <{ns.RDF}subject> {s}{g}"
        yield f"{node} <{ns.RDF}predicate> {p}{g}"
        yield f"{node} <{ns.RDF}object> {o}{g}"
        yield from self._qualified(node, edge.qualifiers, edge.origin.line)

    def range_lines(self, rng: CodeRange, members: Iterable[str], against: str) -> Iterator[str]:
        """A briefing range as one statement (``kg:CodeRange``: as written, bounds, relation, the other
        end, qualifiers, line) and its members as edges, each with a ``kg:Assertion`` pointing at the
        statement (``kg:inRange``). ``against`` names the code-set release it was expanded with ("" when
        none was loaded: then there are no members)."""
        g = self._g
        node = self._mint("ASSERTION", rng.origin.line)
        relation, other = self.node(rng.relation), self.node(rng.other)
        yield f"{node} {_TYPE} <{ns.KG}CodeRange>{g}"
        yield f"{node} <{ns.KG}writtenAs> {nq_literal(rng.written)}{g}"
        yield f"{node} <{ns.KG}rangeKind> {nq_literal(ns.CODE_KINDS[rng.prefix])}{g}"
        for prop, value in (("rangeFirst", rng.first), ("rangeLast", rng.last), ("rangeStem", rng.stem),
                            ("expandedAgainst", against)):
            if value:
                yield f"{node} <{ns.KG}{prop}> {nq_literal(value)}{g}"
        yield f"{node} <{ns.RDF}predicate> {relation}{g}"
        yield f"{node} <{ns.RDF}{'subject' if rng.member_is_object else 'object'}> {other}{g}"
        yield from self._qualified(node, rng.qualifiers, rng.origin.line)
        count = 0
        # the row's stated description names the range, not each member: it stays on the range statement
        quals = tuple((k, v) for k, v in rng.qualifiers if k not in ("statedDescription", "statedSpecialty"))
        for member in members:
            if member == rng.other:
                continue  # a code is not related to itself (G0104-G0106 in the briefing of G0105)
            count += 1
            yield f"{node} <{ns.KG}member> {self.node(member)}{g}"
            yield from self._code(Code(member, rng.origin))
            s, o = (rng.other, member) if rng.member_is_object else (member, rng.other)
            lines = list(self._edge(Edge(s, rng.relation, o, rng.origin, quals)))
            yield from lines
            yield f"{lines[1].split(' ', 1)[0]} <{ns.KG}inRange> {node}{g}"
        yield f'{node} <{ns.KG}memberCount> "{count}"^^<{ns.XSD}integer>{g}'

    def _gap(self, gap: Gap) -> Iterator[str]:
        g = self._g
        node = self._mint("GAP", gap.origin.line)
        subject = self.node(gap.subject)
        yield f"{node} {_TYPE} <{ns.KG}Gap>{g}"
        yield f"{node} <{ns.KG}about> {subject}{g}"
        yield f"{subject} <{ns.KG}hasGap> {node}{g}"
        if gap.context:
            yield f"{node} <{ns.KG}context> {self.node(gap.context)}{g}"
        yield f"{node} <{ns.KG}field> {nq_literal(gap.field)}{g}"
        yield f"{node} <{ns.KG}gapText> {nq_literal(gap.text)}{g}"
        yield from self._evidence(node, gap.origin.line)

    def source_lines(self, meta: dict[str, str]) -> Iterator[str]:
        """The ``kg:Source`` node: file, sha256, kind, licence, release (the manifest's, else the
        file's own), ``excerpt`` as its scope when it is one, and what the reader learned (effective
        date, notice, layout)."""
        g, s = self._g, self._src
        learned = {m.key: m.value for m in self.metas}
        yield f"{s} {_TYPE} <{ns.KG}Source>{g}"
        yield f"{s} <{ns.KG}graph> <{self.graph.value}>{g}"
        values = {"file": meta.get("file"), "sha256": meta.get("sha256"), "sourceKind": meta.get("kind"),
                  "licence": meta.get("licence"), "release": meta.get("release") or learned.pop("release", None),
                  # only an excerpt says so: a source without kg:scope is a complete release (readers default to it)
                  "scope": meta.get("scope") if meta.get("scope") != "complete" else None}
        learned.pop("release", None)
        for prop, value in [*values.items(), *learned.items()]:
            if value:
                yield f"{s} {self.node(prop)} {nq_literal(value)}{g}"
        if meta.get("built_at"):
            yield f'{s} <{ns.KG}builtAt> "{meta["built_at"]}"^^<{ns.XSD}dateTime>{g}'


class LineReader(io.RawIOBase):
    """A binary file object over an iterator of text lines, for ``Store.bulk_load`` to pull from."""

    def __init__(self, lines: Iterable[str], chunk: int = 1 << 20) -> None:
        self._chunks = self._join(lines, chunk)
        self._buffer = memoryview(b"")

    @staticmethod
    def _join(lines: Iterable[str], chunk: int) -> Iterator[bytes]:
        batch: list[str] = []
        size = 0
        for line in lines:
            batch.append(line)
            size += len(line)
            if size >= chunk:
                yield "".join(batch).encode("utf-8")
                batch, size = [], 0
        if batch:
            yield "".join(batch).encode("utf-8")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]  # a view: bulk_load reads 1-2 KB at a time, never copy the rest
        return n


def load_lines(database: ox.Store, lines: Iterable[str]) -> None:
    """Bulk-load N-Quads lines (exceptions raised while producing them propagate)."""
    database.bulk_load(LineReader(lines), format=ox.RdfFormat.N_QUADS)  # type: ignore[arg-type]  # a raw IO
