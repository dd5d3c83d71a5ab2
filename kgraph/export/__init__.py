"""Exports: the whole store, one named graph or a neighbourhood, in a format other tools read.

Input: an open ``Store`` (or a ``networkx`` graph from ``kgraph.neighborhood``), an output path
(``-`` for stdout) and a format. Output: files, written to a temporary name beside the target
and renamed into place when complete, so a failed export leaves nothing half-written (and an
existing file untouched). Raises ``ExportError`` (unknown graph, a graph too large for
GraphML/GEXF, an unwritable path) and ``TraversalError`` (a neighbourhood too large to walk).

| format | whole store | ``graph=`` one named graph | ``focus=`` a neighbourhood |
|---|---|---|---|
| ``nq``, ``trig`` | every named graph (``Store.dump``) | its quads | the quads behind it |
| ``ttl``, ``nt``, ``jsonld`` | the union graph (distinct triples) | its triples | the triples behind it |
| ``csv`` | edge list + node list, streamed | the same | the same |
| ``graphml``, ``gexf`` | up to ``max_nodes`` nodes | up to ``max_nodes`` nodes | the neighbourhood |

RDF comes from pyoxigraph's own serializers (``kgraph.export.rdf``); GraphML, GEXF and CSV
from the networkx projection of ``kgraph.traverse`` (``kgraph.export.tables``). A
neighbourhood is ``kgraph.neighborhood`` with the same options as ``kgraph export html``.
This package does not draw pictures (``kgraph.viz``) and never writes into the store.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.store import Store
from kgraph.viz import ExportError

__all__ = ["DEFAULT_MAX_NODES", "FORMATS", "ExportError", "Exported", "export", "resolve_graph"]

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
TABLE_FORMATS = ("graphml", "gexf", "csv")
FORMATS: tuple[str, ...] = (*RDF_FORMATS, *TABLE_FORMATS)
#: GraphML and GEXF are read whole by Gephi, Cytoscape and networkx: refuse larger projections
DEFAULT_MAX_NODES = 50_000
#: the edge bound of a whole-store or named-graph projection to GraphML/GEXF (a neighbourhood
#: walk has its own, ``max_edges`` of ``kgraph.neighborhood``)
DEFAULT_MAX_GRAPH_EDGES = 500_000


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the files (none for stdout), the format, what was selected, and the
    node and edge counts where the format is a graph projection (GraphML, GEXF, CSV)."""

    paths: list[Path]
    format: str
    scope: str
    nodes: int | None = None
    edges: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def export(
    source: Store | nx.MultiDiGraph,
    path: str | os.PathLike[str],
    *,
    format: str,  # noqa: A002 - the word users know, as in pyoxigraph
    graph: str | None = None,
    focus: str | None = None,
    depth: int = 1,
    relations: Sequence[str] | None = None,
    as_of: str | None = None,
    max_edges: int | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Exported:
    """Write the store, one named graph (``graph``) or a neighbourhood (``focus``) to ``path``.

    ``source`` may also be a graph from ``kgraph.neighborhood`` for GraphML, GEXF and CSV (RDF
    needs the store). ``path`` ``-`` writes to stdout (not for CSV, which writes two files: see
    ``kgraph.export.tables.csv_paths``). ``max_edges`` bounds the neighbourhood walk (default
    5,000) or a graph's projection to GraphML/GEXF (default 500,000); ``max_nodes`` bounds
    GraphML and GEXF. Raises ``ExportError`` and ``TraversalError``.

    >>> import kgraph, tempfile, pyoxigraph
    >>> out = Path(tempfile.mkdtemp()) / "payers.nq"
    >>> kgraph.export(kgraph.open(DOCTEST_STORE), out, format="nq", graph="payers-payers").scope
    'GRAPH:payers-payers'
    >>> len(list(pyoxigraph.parse(path=str(out), format=pyoxigraph.RdfFormat.N_QUADS))) > 0
    True
    """
    from kgraph.export import rdf, tables

    if format not in FORMATS:
        raise ExportError(f"{format!r}: not an export format; formats: {', '.join(FORMATS)}")
    if graph and focus:
        raise ExportError("give a named graph or a focus code, not both")
    if not focus and (relations or as_of or depth != 1):
        raise ExportError("depth, relations and as_of select a neighbourhood: give a focus code too")
    target = Path(path) if str(path) != "-" else None
    if target is None and format == "csv":
        raise ExportError("CSV writes two files (edges and nodes): give a file name or a directory, not -")
    if isinstance(source, nx.Graph):
        if graph or focus:
            raise ExportError("a networkx graph is exported as it is: graph and focus select from a store")
        if format in RDF_FORMATS:
            raise ExportError(f"{format}: RDF is written from the store; pass the store (with focus=...)")
        return tables.write(source, target, format, scope=_graph_scope(source), max_nodes=max_nodes)
    store = source
    if focus:
        from kgraph.traverse import neighborhood

        G = neighborhood(store, focus, depth=depth, relations=relations, as_of=as_of,
                         max_edges=5000 if max_edges is None else max_edges)
        scope = _graph_scope(G)
        if format in RDF_FORMATS:
            return rdf.write_neighborhood(store, G, target, format, scope=scope)
        return tables.write(G, target, format, scope=scope, max_nodes=max_nodes)
    named = resolve_graph(store, graph) if graph else None
    scope = ns.curie(named.value) if named else "the whole store"
    if format in RDF_FORMATS:
        return rdf.write_store(store, named, target, format, scope=scope)
    if format == "csv":
        return tables.write_csv_streamed(store, named, target, scope=scope)
    G = tables.project(store, named, fmt=format, scope=scope, max_nodes=max_nodes,
                       max_edges=DEFAULT_MAX_GRAPH_EDGES if max_edges is None else max_edges)
    return tables.write(G, target, format, scope=scope, max_nodes=max_nodes)


def _graph_scope(G: nx.MultiDiGraph) -> str:
    focus = G.graph.get("focus")
    if not focus:
        return "a graph"
    as_of = f", as of {G.graph['as_of']}" if G.graph.get("as_of") else ""
    return f"the depth-{G.graph.get('depth', 1)} neighbourhood of {focus}{as_of}"


def resolve_graph(store: Store, name: str) -> ox.NamedNode:
    """The named graph a user means: its IRI, ``GRAPH:<id>``, the source id, or the source's file.

    Raises ``ExportError`` listing the graphs of the store when none matches.
    """
    graphs = {g.value for g in store.ox.named_graphs() if isinstance(g, ox.NamedNode)}
    base = ns.PREFIXES["GRAPH"]
    by_file = {s.get("file"): s.get("id") for s in store.info.get("sources", [])}
    tries = [name, base + name.removeprefix("GRAPH:"), base + str(by_file.get(name))]
    for iri in tries:
        if iri in graphs:
            return ox.NamedNode(iri)
    names = ", ".join(sorted(g.removeprefix(base) for g in graphs))
    raise ExportError(f"{name}: no such named graph in {store.path}; the graphs are: {names} "
                      "(give a source id, GRAPH:<id>, the graph IRI or the source's file)")


@contextlib.contextmanager
def atomic(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` that is renamed to ``target`` when the block succeeds.

    The temporary file is removed when the block raises, so an export never leaves a partial
    file, and an existing ``target`` stays as it was. Raises ``ExportError`` when the directory
    cannot be written.
    """
    if target.is_dir():
        raise ExportError(f"{target}: is a directory")
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        temporary.open("xb").close()  # fails now, before any work, if the directory is not writable
    except OSError as exc:
        raise ExportError(f"{target}: cannot write: {exc.strerror or exc}") from None
    try:
        yield temporary
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ExportError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def stdout() -> Any:
    """The binary stdout that ``-`` writes to."""
    return sys.stdout.buffer
