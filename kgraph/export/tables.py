"""GraphML, GEXF and CSV exports: the graph of codes and relations as Gephi, Cytoscape and pandas see it.

Input: a ``networkx.MultiDiGraph`` shaped like ``kgraph.traverse``'s (nodes are CURIEs with
``kind``, ``label``, ``description``; edges keyed by relation CURIE with ``qualifiers`` (dict)
and ``evidence`` (list of ``{"source", "line"}``)), or an open ``Store`` and a named graph for
the projection of a whole graph. Output: files. Neither writer takes nested values, so edges
carry ``relation``, ``qualifiers`` (a JSON object, keys sorted), ``evidence`` (a JSON list) and
one text attribute ``q.<name>`` per qualifier (``q.modifierIndicator``), for filtering in
Gephi; nodes carry ``kind``, ``label`` (the code's label, or its CURIE when it has none, so
every tool shows a name) and ``description``.

CSV is two files from one name (``csv_paths``): an edge list (source, relation, target,
qualifiers, evidence) and a node list (id, kind, label, description). A whole store or named
graph is streamed relation by relation from Oxigraph's predicate index, a few thousand edges at
a time, each batch completed with its qualifiers and evidence by ``kgraph.traverse``; memory
holds one batch and the set of node CURIEs already written (the number of codes, not quads).
GraphML and GEXF are written whole, so they refuse graphs above a node limit (and a projection
above an edge limit). Raises ``ExportError``. Does not write RDF (``kgraph.export.rdf``).
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.export import Exported, ExportError, atomic, stdout
from kgraph.store import Store

# The walk's own node and edge completion: labels and kinds, qualifiers and evidence read the
# same way for a neighbourhood, a named graph and the whole store.
from kgraph.traverse import DEFAULT_RELATIONS, _graph

EDGE_COLUMNS = ["source", "relation", "target", "qualifiers", "evidence"]
NODE_COLUMNS = ["id", "kind", "label", "description"]
#: edges completed per query round when streaming (bounded memory; larger batches share hub queries)
BATCH = 5000
RDF_TYPE = ox.NamedNode(ns.RDF + "type")
T = TypeVar("T")


def csv_paths(target: Path) -> tuple[Path, Path]:
    """The edge and node files of a CSV export.

    >>> csv_paths(Path("out/cpt-74360.csv"))
    (PosixPath('out/cpt-74360.edges.csv'), PosixPath('out/cpt-74360.nodes.csv'))

    An existing directory gets ``edges.csv`` and ``nodes.csv`` inside it; a name without
    ``.csv`` gets both suffixes added.
    """
    if target.is_dir():
        return target / "edges.csv", target / "nodes.csv"
    stem = target.name.removesuffix(".csv")
    return target.with_name(f"{stem}.edges.csv"), target.with_name(f"{stem}.nodes.csv")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else _json(value)


def edge_row(s: str, o: str, key: str, data: dict[str, Any]) -> list[str]:
    return [s, data.get("relation", key), o, _json(data.get("qualifiers", {})), _json(data.get("evidence", []))]


def node_row(n: str, data: dict[str, Any]) -> list[str]:
    return [n, _text(data.get("kind")), _text(data.get("label")) or n, _text(data.get("description"))]


def flatten(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of ``G`` whose attributes are all text, as GraphML and GEXF writers need."""
    H = nx.MultiDiGraph()
    H.graph.update({k: _text(v) for k, v in G.graph.items() if v not in (None, "", [], {})})
    for n, data in G.nodes(data=True):
        attrs = {k: _text(v) for k, v in data.items() if v is not None}
        attrs.update(kind=_text(data.get("kind")), label=_text(data.get("label")) or n,
                     description=_text(data.get("description")))
        H.add_node(n, **attrs)
    for s, o, key, data in G.edges(keys=True, data=True):
        qualifiers = data.get("qualifiers", {})
        attrs = {f"q.{name}": _text(value) for name, value in sorted(qualifiers.items())}
        attrs.update(relation=data.get("relation", key), qualifiers=_json(qualifiers),
                     evidence=_json(data.get("evidence", [])))
        H.add_edge(s, o, key=key, **attrs)
    return H


NAMES = {"graphml": "GraphML", "gexf": "GEXF"}


def _refuse(scope: str, count: str, what: str, limit: int, fmt: str, option: str) -> ExportError:
    return ExportError(
        f"{scope}: {count} {what}, above the {NAMES.get(fmt, fmt)} limit of {limit:,}; narrow it with "
        f"--focus CODE --depth N, --relation REL or --graph NAME, or raise {option}")


def write(G: nx.MultiDiGraph, target: Path | None, fmt: str, *, scope: str, max_nodes: int) -> Exported:
    """GraphML, GEXF or CSV of a graph held in memory (a neighbourhood or a projection)."""
    n, m = G.number_of_nodes(), G.number_of_edges()
    if fmt == "csv":
        assert target is not None
        paths = csv_paths(target)
        with _csv_writers(paths) as (edges, nodes):
            edges.writerows(edge_row(s, o, k, d) for s, o, k, d in G.edges(keys=True, data=True))
            nodes.writerows(node_row(x, d) for x, d in G.nodes(data=True))
        return Exported(list(paths), fmt, scope, nodes=n, edges=m)
    if n > max_nodes:
        raise _refuse(scope, f"{n:,}", "nodes", max_nodes, fmt, "--max-nodes")
    writer = nx.write_graphml if fmt == "graphml" else nx.write_gexf
    H = flatten(G)
    if target is None:
        writer(H, stdout())
        return Exported([], fmt, scope, nodes=n, edges=m)
    with atomic(target) as temporary:
        writer(H, str(temporary))
    return Exported([target], fmt, scope, nodes=n, edges=m)


@contextlib.contextmanager
def _csv_writers(paths: tuple[Path, Path]) -> Iterator[tuple[Any, Any]]:
    """CSV writers on two temporary files, both renamed into place when the block succeeds."""
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(atomic(p)) for p in paths]
        handles = [stack.enter_context(f.open("w", newline="", encoding="utf-8")) for f in files]
        writers = [csv.writer(h, lineterminator="\n") for h in handles]
        writers[0].writerow(EDGE_COLUMNS)
        writers[1].writerow(NODE_COLUMNS)
        yield writers[0], writers[1]


def edge_stream(store: Store, graph: ox.NamedNode | None) -> Iterator[tuple[str, str, str]]:
    """Each edge (CURIE triple) of the relations of ``kgraph.traverse`` once, relation by relation.

    Oxigraph's predicate index orders a relation's quads by object, subject, then graph, so the
    same edge stated in several graphs comes in a row and one comparison drops the repeats.
    """
    for relation in DEFAULT_RELATIONS:
        name = ns.curie(ns.iri(relation))
        previous = None
        for q in store.ox.quads_for_pattern(None, ox.NamedNode(ns.iri(relation)), None, graph):
            s, o = q.subject, q.object
            if not (isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode)):
                continue  # as the walk: edges join IRIs, literals are facts
            pair = (s.value, o.value)
            if pair != previous:
                previous = pair
                yield ns.curie(s.value), name, ns.curie(o.value)


def node_stream(store: Store, graph: ox.NamedNode | None) -> Iterator[str]:
    """Every node typed as a code kind or a gap (in ``graph``), once per kind (repeats in a row dropped)."""
    for cls in ns.KIND_CLASSES.values():
        previous = None
        for q in store.ox.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(cls), graph):
            if isinstance(q.subject, ox.NamedNode) and q.subject.value != previous:
                previous = q.subject.value
                yield ns.curie(previous)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def rows_by_object(store: Store, pairs: list[tuple[str, str]], sf: str, of: str) -> list[dict[str, Any]]:
    """The code-set rows joining (subject, object) pairs, in the shape of ``traverse.rows_of_pairs``.

    Read from Oxigraph's indexes one object at a time: the rows naming the object in field
    ``of``, then each row's fields, kept when its ``sf`` field is a subject of the pairs. The
    streamed edges come grouped by object, so this reads each row of a relation once; SPARQL
    joins of the pairs took 39 s per 5,000 NCCI edges of the full build (hub objects), too slow
    for 1.7M edges. Rows come sorted by IRI (source, then line), so the first row's qualifiers
    win in a fixed order.
    """
    db = store.ox
    subject_field, object_field = ox.NamedNode(ns.KG + sf), ox.NamedNode(ns.KG + of)
    wanted: dict[str, set[str]] = {}
    for subject, obj in pairs:
        wanted.setdefault(ns.iri(obj), set()).add(ns.iri(subject))
    rows: list[dict[str, Any]] = []
    for o_iri, subjects in wanted.items():
        o = ox.NamedNode(o_iri)
        found = sorted({q.subject.value for q in db.quads_for_pattern(None, object_field, o, None)
                        if isinstance(q.subject, ox.NamedNode)})
        for r_iri in found:
            r = ox.NamedNode(r_iri)
            fields = list(db.quads_for_pattern(r, None, None, None))
            s = next((f.object for f in fields if f.predicate == subject_field), None)
            if isinstance(s, ox.NamedNode) and s.value in subjects:
                rows.extend({"s": s, "o": o, "r": r, "q": f.predicate, "v": f.object} for f in fields)
    return rows


def write_csv_streamed(store: Store, graph: ox.NamedNode | None, target: Path | None, *, scope: str
                       ) -> Exported:
    """The edge and node lists of the whole store or one named graph, streamed in batches."""
    assert target is not None
    paths = csv_paths(target)
    written: set[str] = set()
    n_edges = 0
    with _csv_writers(paths) as (edges, nodes):
        for batch in _batches(edge_stream(store, graph), BATCH):
            new = {n for s, _, o in batch for n in (s, o)} - written  # labels are read for new nodes only
            chunk = _graph(store, new, set(batch), pair_rows=rows_by_object)
            edges.writerows(edge_row(s, o, k, d) for s, o, k, d in chunk.edges(keys=True, data=True))
            n_edges += chunk.number_of_edges()
            nodes.writerows(node_row(x, chunk.nodes[x]) for x in sorted(new))
            written.update(new)
        for names in _batches(node_stream(store, graph), BATCH):
            new = set(names) - written
            if new:
                chunk = _graph(store, new, set())
                nodes.writerows(node_row(x, d) for x, d in chunk.nodes(data=True))
                written.update(new)
    return Exported(list(paths), "csv", scope, nodes=len(written), edges=n_edges)


def project(store: Store, graph: ox.NamedNode | None, *, fmt: str, scope: str, max_nodes: int,
            max_edges: int) -> nx.MultiDiGraph:
    """The codes and relations of the whole store or one named graph as a networkx graph.

    Stops with ``ExportError`` as soon as it passes ``max_nodes`` nodes or ``max_edges`` edges,
    before reading qualifiers and evidence.
    """
    nodes: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    for edge in edge_stream(store, graph):
        edges.add(edge)
        nodes.update((edge[0], edge[2]))
        if len(nodes) > max_nodes:
            raise _refuse(scope, f"more than {max_nodes:,}", "nodes", max_nodes, fmt, "--max-nodes")
        if len(edges) > max_edges:
            raise _refuse(scope, f"more than {max_edges:,}", "edges", max_edges, fmt, "--max-edges")
    for node in node_stream(store, graph):
        nodes.add(node)
        if len(nodes) > max_nodes:
            raise _refuse(scope, f"more than {max_nodes:,}", "nodes", max_nodes, fmt, "--max-nodes")
    G = _graph(store, nodes, edges)
    G.graph.update(scope=scope)
    return G
