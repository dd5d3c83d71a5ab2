"""The on-disk store: an Oxigraph database per build, behind an atomically swapped symlink.

Layout (ARCHITECTURE.md decision 9): ``.kgraph`` is a symlink to ``.kgraph.d/<build-id>/``,
which holds ``oxigraph/`` (the database) and ``build.json`` (sources, counts, problems).
``open`` opens the newest build read-only; queries see the union of the named graphs as the
default graph. This module also turns records into quads (``record_quads``). It does not read
source files (``kgraph.sources``) nor decide what goes into a build (``kgraph.build``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.errors import StoreError
from kgraph.records import Code, Edge, Fact, Gap, Problem, Record

RDF_TYPE = ox.NamedNode(ns.RDF + "type")
RDFS_LABEL = ox.NamedNode(ns.RDFS + "label")
XSD_INTEGER = ox.NamedNode(ns.XSD + "integer")
XSD_DATETIME = ox.NamedNode(ns.XSD + "dateTime")
DEFAULT_STORE = ".kgraph"


def K(local: str) -> ox.NamedNode:  # noqa: N802 - reads like the kg: prefix
    return ox.NamedNode(ns.KG + local)


def store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store path: the argument, else ``$KGRAPH_STORE``, else ``.kgraph``."""
    return Path(path or os.environ.get("KGRAPH_STORE") or DEFAULT_STORE)


def builds_dir(path: Path) -> Path:
    """Where the builds of the store at ``path`` live: ``<path>.d``."""
    return path.with_name(path.name + ".d")


@dataclass
class Store:
    """An opened build: the pyoxigraph store (read-only) and its ``build.json``."""

    path: Path
    build_dir: Path
    ox: ox.Store
    info: dict[str, Any] = field(default_factory=dict)

    def query(self, sparql: str, *, substitutions: dict[Any, Any] | None = None) -> Any:
        """Run SPARQL on the union of the named graphs, with every kgraph prefix declared."""
        return self.ox.query(sparql, prefixes=ns.PREFIXES, use_default_graph_as_union=True,
                             substitutions=substitutions)

    def rdflib(self) -> Any:
        """An ``rdflib.Dataset`` on the same Oxigraph store (oxrdflib); its default graph is the union.

        Plain query strings run on Oxigraph; ``initBindings`` or prepared queries fall back to
        rdflib's slow engine (ARCHITECTURE.md), so bind parameters with ``VALUES`` instead.
        """
        from oxrdflib import OxigraphStore
        from rdflib import Dataset

        dataset = Dataset(store=OxigraphStore(store=self.ox), default_union=True)
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


class QuadWriter:
    """Turns the records of one source into quads in that source's named graph."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self.graph = ns.term(f"GRAPH:{source_id}")
        self.source = ns.term(f"SOURCE:{source_id}")
        self._serial: dict[int, int] = {}

    def _mint(self, prefix: str, line: int) -> ox.NamedNode:
        n = self._serial.get(line, 0) + 1
        self._serial[line] = n
        return ns.term(f"{prefix}:{self.source_id}/L{line}-{n}")

    def quads(self, records: Iterable[Record]) -> Iterator[ox.Quad]:
        for record in records:
            if isinstance(record, Code):
                yield from self._code(record)
            elif isinstance(record, Edge):
                yield from self._edge(record)
            elif isinstance(record, Gap):
                yield from self._gap(record)
            elif isinstance(record, Fact):
                yield ox.Quad(ns.term(record.subject), K(record.property), literal(record.value), self.graph)
            elif isinstance(record, Problem):
                continue
            else:  # pragma: no cover - a reader bug
                raise TypeError(f"not a record: {record!r}")

    def _code(self, code: Code) -> Iterator[ox.Quad]:
        g, node = self.graph, ns.term(code.curie)
        prefix, _, local = code.curie.partition(":")
        yield ox.Quad(node, RDF_TYPE, ox.NamedNode(ns.KIND_CLASSES[ns.CODE_KINDS[prefix]]), g)
        yield ox.Quad(node, K("code"), literal(local), g)
        if code.label:
            yield ox.Quad(node, RDFS_LABEL, literal(code.label), g)
        for prop, value in code.props:
            yield ox.Quad(node, K(prop), literal(value), g)

    def _evidence(self, node: ox.NamedNode, line: int) -> Iterator[ox.Quad]:
        yield ox.Quad(node, K("source"), self.source, self.graph)
        yield ox.Quad(node, K("line"), ox.Literal(str(line), datatype=XSD_INTEGER), self.graph)

    def _edge(self, edge: Edge) -> Iterator[ox.Quad]:
        g = self.graph
        s, p, o = ns.term(edge.subject), K(edge.relation), ns.term(edge.object)
        yield ox.Quad(s, p, o, g)
        node = self._mint("ASSERTION", edge.origin.line)
        yield ox.Quad(node, RDF_TYPE, K("Assertion"), g)
        yield ox.Quad(node, ox.NamedNode(ns.RDF + "subject"), s, g)
        yield ox.Quad(node, ox.NamedNode(ns.RDF + "predicate"), p, g)
        yield ox.Quad(node, ox.NamedNode(ns.RDF + "object"), o, g)
        for name, value in edge.qualifiers:
            yield ox.Quad(node, K(name), literal(value), g)
        yield from self._evidence(node, edge.origin.line)

    def _gap(self, gap: Gap) -> Iterator[ox.Quad]:
        g = self.graph
        node = self._mint("GAP", gap.origin.line)
        subject = ns.term(gap.subject)
        yield ox.Quad(node, RDF_TYPE, K("Gap"), g)
        yield ox.Quad(node, K("about"), subject, g)
        yield ox.Quad(subject, K("hasGap"), node, g)
        if gap.context:
            yield ox.Quad(node, K("context"), ns.term(gap.context), g)
        yield ox.Quad(node, K("field"), literal(gap.field), g)
        yield ox.Quad(node, K("gapText"), literal(gap.text), g)
        yield from self._evidence(node, gap.origin.line)

    def source_quads(self, meta: dict[str, str]) -> Iterator[ox.Quad]:
        """The ``kg:Source`` node of this source (file, sha256, kind, licence, release, time)."""
        g, s = self.graph, self.source
        yield ox.Quad(s, RDF_TYPE, K("Source"), g)
        for key, prop in (("file", "file"), ("sha256", "sha256"), ("kind", "sourceKind"),
                          ("licence", "licence"), ("release", "release")):
            if meta.get(key):
                yield ox.Quad(s, K(prop), literal(meta[key]), g)
        if meta.get("built_at"):
            yield ox.Quad(s, K("builtAt"), ox.Literal(meta["built_at"], datatype=XSD_DATETIME), g)
