"""Neighbourhoods and paths pulled from the store into networkx graphs.

Input: an open ``Store`` and CURIEs. Output: ``networkx.MultiDiGraph`` whose nodes are CURIEs
(attributes ``kind``, ``label``) and whose edges are keyed by relation CURIE (``kg:supports``)
with ``qualifiers`` (dict) and ``evidence`` (list of ``{"source": file, "line": n}``). Only the
needed subgraph is fetched with SPARQL, one query per hop; the whole graph is never copied
(``to_networkx`` does that for small builds only, and refuses above a limit).

NCCI makes the procedure graph dense, so ``kg:conflictsWith`` is followed from the focus code
only, unless ``relations`` names it. A walk past ``max_edges`` raises ``TraversalError``
suggesting how to narrow it. Does not draw anything (``kgraph.viz`` does).
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Sequence
from itertools import islice
from typing import Any

import networkx as nx
import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.errors import CurieError, KGraphError
from kgraph.internal_queries import ask, select, show, solutions, tuples
from kgraph.store import Store

#: relations followed by default (every relation of the edge vocabulary, plus gaps and hierarchy)
DEFAULT_RELATIONS: tuple[str, ...] = tuple(f"kg:{r}" for r in ns.RELATIONS) + (
    "kg:hasGap", "kg:context", "skos:broader")
#: a gap comes with what it is about and the code it is about in the context of
GAP_RELATIONS = ("kg:hasGap", "kg:context")
#: followed from the focus code only unless asked for explicitly
FOCUS_ONLY = ("kg:conflictsWith",)
#: what a walk read about each edge that can hold a review note, by the graph it made: (the least
#: ``kg:Assertion`` of each briefing edge, the least code-set row of each NCCI / add-on edge), as
#: CURIEs (``note_targets``: ``kgraph.notes.edge_targets`` picks from them)
_READ: weakref.WeakKeyDictionary[nx.MultiDiGraph, tuple[dict[tuple[str, str, str], str], ...]] = \
    weakref.WeakKeyDictionary()
_ASSERTION = ox.NamedNode(ns.KG + "Assertion")
#: compact code-set rows that carry the qualifiers of an edge: relation -> (subject field, object field)
ROW_FIELDS = {
    "kg:conflictsWith": ("column1", "column2"),
    "kg:addOnTo": ("addOn", "primary"),
}
TO_NETWORKX_LIMIT = 200_000
#: a node in this many edge pairs has its code-set rows fetched at once (``rows_of_pairs``)
HUB_PAIRS = 20


class TraversalError(KGraphError):
    """A walk that would return too much, or codes the store does not hold."""


def resolve(store: Store, value: str) -> str:
    """The CURIE of a code as users write it (``74360``, ``K222``, ``CPT:74360``), checked in the store."""
    try:
        curie = ns.normalize_code(value)
    except CurieError as exc:
        if "ambiguous" not in str(exc):
            raise
        candidates = [f"{p}:{value.upper()}" for p in ("HCPCS", "CPT")]
        candidates.append("ICD10CM:" + ns.icd10cm_with_dot(value))
        found = [c for c in candidates if _exists(store, c)]
        if len(found) != 1:
            raise
        curie = found[0]
    if curie.startswith(("PAYER:", "GAP:")) or _exists(store, curie):
        return curie
    raise TraversalError(f"{curie}: not in the store{_suggest(store, curie)}")


def _exists(store: Store, curie: str) -> bool:
    return ask(store, "node_exists", node=curie)


def _suggest(store: Store, curie: str) -> str:
    prefix, _, local = curie.partition(":")
    stem = local[:3]
    import difflib

    namespace = ox.Literal(ns.PREFIXES.get(prefix, ""))
    codes = [row["c"] or "" for row in select(store, "codes_starting_with", stem=ox.Literal(stem),
                                              namespace=namespace)] if stem.isalnum() else []
    close = difflib.get_close_matches(local, codes, n=5, cutoff=0.5)
    return f"; close codes: {', '.join(f'{prefix}:{c}' for c in close)}" if close else ""


def _edges(store: Store, frontier: Sequence[str], relations: Sequence[str], limit: int | None = None
           ) -> list[tuple[str, str, str]]:
    """Edges of the given relations touching any frontier node, as CURIE triples (at most ``limit``).

    One query per relation: with the relations in a ``VALUES ?p`` block Oxigraph stops using the
    node in its index lookups (measured on the full build, depth-2 hop from CPT:74360: 1,217 ms
    with ``VALUES ?p``, 33 ms one relation at a time).
    """
    if not frontier or not relations:
        return []
    nodes = list(frontier)
    found: list[tuple[str, str, str]] = []
    for relation in relations:
        name = ns.curie(ns.iri(relation))
        left = None if limit is None else limit - len(found)
        if left is not None and left <= 0:
            break
        # solutions come lazily: the slice stops the query where a LIMIT would
        rows = islice(solutions(store, "edges_from_nodes", s=nodes, o=nodes, rel=relation), left)
        found += [(ns.curie(r["s"].value), name, ns.curie(r["o"].value)) for r in rows]
    return found


def neighborhood(
    store: Store,
    curie: str,
    *,
    depth: int = 1,
    relations: Sequence[str] | None = None,
    as_of: str | None = None,
    max_edges: int = 5000,
) -> nx.MultiDiGraph:
    """The neighbourhood of a code as a ``networkx.MultiDiGraph``.

    >>> import kgraph
    >>> G = kgraph.neighborhood(kgraph.open(DOCTEST_STORE), "CPT:74360")
    >>> G.nodes["ICD10CM:K22.2"]["kind"], sorted(G["ICD10CM:K22.2"]["CPT:74360"])
    ('ICD-10-CM', ['kg:supports'])
    """
    focus = resolve(store, curie)
    wanted = [_relation(r) for r in relations] if relations else list(DEFAULT_RELATIONS)
    everywhere = [r for r in wanted if not (r in FOCUS_ONLY and not relations)]
    seen_nodes = {focus}
    frontier = [focus]
    edges: set[tuple[str, str, str]] = set()
    for hop in range(max(depth, 0)):
        # ask for one edge more than the budget: a dense walk stops without fetching it all (the
        # whole budget, not what is left of it: a hop also finds the edges back to the last hop)
        found = _edges(store, frontier, wanted if hop == 0 else everywhere, limit=max_edges + 1)
        edges.update(found)
        if len(edges) > max_edges:
            raise TraversalError(
                f"{focus}: the depth-{depth} neighbourhood has more than {max_edges} edges; narrow it with "
                f"fewer relations (e.g. --relation kg:supports), a smaller depth, or a larger max_edges")
        frontier = sorted({n for s, _, o in found for n in (s, o)} - seen_nodes)
        seen_nodes.update(frontier)
    gaps = sorted({n for s, _, o in edges for n in (s, o) if n.startswith("GAP:")})
    edges.update(_edges(store, gaps, GAP_RELATIONS))
    graph = _graph(store, {focus} | {n for s, _, o in edges for n in (s, o)}, edges)
    graph.graph.update(focus=focus, depth=depth, relations=wanted, as_of=as_of)
    if as_of:
        from kgraph.asof import filter_graph

        filter_graph(store, graph, as_of)
    return graph


def _relation(value: str) -> str:
    if ":" in value:
        return value
    return f"kg:{value}"


def _graph(store: Store, nodes: set[str], edges: set[tuple[str, str, str]], *, pair_rows: Any = None
           ) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    info = _node_info(store, nodes)
    for node in sorted(nodes):
        graph.add_node(node, **info.get(node, {"kind": _kind(node), "label": ""}))
    assertions: dict[tuple[str, str, str], str] = {}
    rows: dict[tuple[str, str, str], str] = {}
    details = _edge_details(store, edges, pair_rows=pair_rows, read=(assertions, rows))
    for s, p, o in sorted(edges):
        qualifiers, evidence = details.get((s, p, o), ({}, []))
        graph.add_edge(s, o, key=p, relation=p, qualifiers=qualifiers, evidence=evidence)
    _READ[graph] = (assertions, rows)
    return graph


def note_targets(store: Store, graph: nx.MultiDiGraph) -> tuple[dict[tuple[str, str, str], str], ...]:
    """(the least ``kg:Assertion``, the least code-set row) of each edge of ``graph``, as CURIEs: what
    the walk that made it (``neighborhood``, ``path``) read, else read now for its edges."""
    found = _READ.get(graph)
    if found is None:
        found = ({}, {})
        _edge_details(store, {(s, k, o) for s, o, k in graph.edges(keys=True)}, read=found)
    return found


def _kind(curie: str) -> str:
    prefix = curie.partition(":")[0]
    return {"GAP": "gap"}.get(prefix, ns.CODE_KINDS.get(prefix, prefix))


def _node_info(store: Store, nodes: set[str]) -> dict[str, dict[str, Any]]:
    info: dict[str, dict[str, Any]] = {}
    if not nodes:
        return info
    # terms read in place (``tuples``): a depth-2 walk of a hub labels thousands of nodes
    for n, official, label, field, text in tuples(store, "node_labels", n=list(nodes)):
        curie = ns.curie(n.value)
        kind = _kind(curie)
        if kind == "gap":
            info[curie] = {"kind": kind, "label": f"gap: {field.value if field else ''}",
                           "description": text.value if text else ""}
            continue
        shown = (official or label).value if official or label else ""
        info[curie] = {"kind": kind, "label": shown, "description": shown}
    return info


def _edge_details(store: Store, edges: set[tuple[str, str, str]], *, pair_rows: Any = None,
                  read: tuple[dict[tuple[str, str, str], str], dict[tuple[str, str, str], str]] | None = None
                  ) -> dict[tuple[str, str, str], tuple[dict, list]]:
    """Qualifiers and evidence of each edge: from briefing statement nodes and code-set rows.

    ``pair_rows`` replaces ``rows_of_pairs`` (same arguments and rows): kgraph.export streams whole
    relations and reads their rows from the indexes object by object instead. ``read``: two dicts
    filled with the least ``kg:Assertion`` and the least code-set row (CURIEs) of each edge (``_READ``).
    """
    out: dict[tuple[str, str, str], tuple[dict, list]] = {}
    if not edges:
        return out
    structural = {"rdf:type", "rdf:subject", "rdf:predicate", "rdf:object", "kg:source", "kg:line"}
    # Statement nodes are found from the edges' subjects and matched to the edges here: only
    # briefing edges have them, and joining every NCCI edge as a (s, p, o) VALUES row cost 100 ms
    # of a 160 ms depth-2 walk.
    curie = ns.curie
    for s, p, o, stmt, q, v, file, line in tuples(store, "statements_of_subjects",
                                                    s=sorted({s for s, _, _ in edges})):
        key = (curie(s.value), curie(p.value), curie(o.value))
        if key not in edges:
            continue
        qualifiers, evidence = out.setdefault(key, ({}, []))
        name = show(q)
        if read is not None and name == "rdf:type" and v == _ASSERTION:
            a = curie(stmt.value)
            if key not in read[0] or a < read[0][key]:
                read[0][key] = a
        if name not in structural:
            qualifiers.setdefault((name or "").removeprefix("kg:"), show(v))
        ev = {"source": file.value, "line": int(line.value or 0)}
        if ev not in evidence:
            evidence.append(ev)
    for relation, (sf, of) in ROW_FIELDS.items():
        pairs = [(s, o) for s, p, o in sorted(edges) if p == relation]  # sorted: the same order every run
        if not pairs:
            continue
        rows = (pair_rows or rows_of_pairs)(store, pairs, sf, of)
        files = _source_files(store)
        for row in rows:
            key = (ns.curie(row["s"].value), relation, ns.curie(row["o"].value))
            qualifiers, evidence = out.setdefault(key, ({}, []))
            name = ns.curie(row["q"].value).removeprefix("kg:")
            if name not in (sf, of, "rdf:type"):
                qualifiers.setdefault(name, row["v"].value)
            source_id = row["r"].value.removeprefix(ns.PREFIXES["ROW"]).split("/")[0]
            if read is not None:
                r = ns.curie(row["r"].value)
                if key not in read[1] or r < read[1][key]:
                    read[1][key] = r
            ev = {"source": files.get(source_id, source_id), "line": _row_line(row["r"].value)}
            if ev not in evidence:
                evidence.append(ev)
    return out


def rows_of_pairs(store: Store, pairs: list[tuple[str, str]], sf: str, of: str) -> list[Any]:
    """The code-set rows (``?s ?o ?r ?q ?v``) of (subject, object) pairs joined by fields ``sf`` / ``of``.

    Input: CURIE pairs and the rows' subject and object fields (``ROW_FIELDS``: ``column1`` /
    ``column2`` for NCCI PTP, ``addOn`` / ``primary`` for add-on edits). Output: pyoxigraph
    solutions, one per property and value of each row (``row["r"]`` the row, ``row["q"]`` /
    ``row["v"]`` a field and its value): the edge qualifiers and evidence of a neighbourhood
    (``kgraph.traverse``), the quads behind it (``kgraph.export``) and a review note's target
    (``kgraph.notes``). Reads nothing but these rows.

    Oxigraph joins a many-row ``VALUES`` block at about 2 ms a row when one end is a hub (CPT:77002
    heads thousands of NCCI rows): 4.5 s for the pairs of a hub. So the pairs of a node that appears
    in many of them are answered by one query for all of that node's rows, filtered here (20 ms);
    the rest by ``VALUES``.
    """
    seen = Counter(n for pair in pairs for n in pair)
    by_hub: dict[tuple[str, int], set[str]] = {}
    rest: list[tuple[str, str]] = []
    for s, o in pairs:
        hub, side = (s, 0) if seen[s] >= seen[o] else (o, 1)
        if seen[hub] >= HUB_PAIRS:
            by_hub.setdefault((hub, side), set()).add(o if side == 0 else s)
        else:
            rest.append((s, o))
    rows: list[Any] = []
    fields = {"sf": f"kg:{sf}", "of": f"kg:{of}"}
    for (hub, side), others in by_hub.items():
        found = solutions(store, "rows_of_subject", s=hub, **fields) if side == 0 else \
            solutions(store, "rows_of_object", o=hub, **fields)
        wanted = {ns.iri(n) for n in others}
        rows += [r for r in found if r["o" if side == 0 else "s"].value in wanted]
    if rest:
        rows += solutions(store, "rows_of_pairs", **{"s,o": rest}, **fields)
    return rows


def _source_files(store: Store) -> dict[str, str]:
    """Source id -> file as shown, from the build's record of its sources."""
    return {s["id"]: s["file"] for s in store.info.get("sources", [])}


def _row_line(row_iri: str) -> int:
    """The line of a code-set row, from its IRI (``ROW:<source>/L<line>``)."""
    tail = row_iri.rpartition("/L")[2].split("-")[0]
    return int(tail) if tail.isdigit() else 0


def path(store: Store, a: str, b: str, *, relations: Sequence[str] | None = None, max_depth: int = 6
         ) -> nx.MultiDiGraph:
    """The shortest typed path between two codes (edges followed in either direction).

    >>> import kgraph
    >>> P = kgraph.path(kgraph.open(DOCTEST_STORE), "ICD10CM:K22.2", "MOD:26")
    >>> [n for n in P.graph["path"]]
    ['ICD10CM:K22.2', 'CPT:74360', 'MOD:26']
    """
    start, goal = resolve(store, a), resolve(store, b)
    wanted = [_relation(r) for r in relations] if relations else [
        r for r in DEFAULT_RELATIONS if r not in FOCUS_ONLY and r not in GAP_RELATIONS]
    parents: dict[str, tuple[str, tuple[str, str, str]] | None] = {start: None}
    frontier = [start]
    for _ in range(max_depth):
        if goal in parents or not frontier:
            break
        nxt: list[str] = []
        for s, p, o in _edges(store, frontier, wanted):
            for here, there in ((s, o), (o, s)):
                if here in frontier and there not in parents:
                    parents[there] = (here, (s, p, o))
                    nxt.append(there)
        frontier = sorted(set(nxt))
    if goal not in parents:
        raise TraversalError(f"no path from {start} to {goal} within {max_depth} steps over "
                             f"{', '.join(wanted)}")
    steps: list[tuple[str, str, str]] = []
    nodes = [goal]
    cursor = goal
    while parents[cursor] is not None:
        prev, edge = parents[cursor]  # type: ignore[misc]
        steps.append(edge)
        nodes.append(prev)
        cursor = prev
    graph = _graph(store, set(nodes), set(steps))
    graph.graph.update(path=list(reversed(nodes)), relations=wanted)
    return graph


def to_networkx(store: Store, *, limit: int = TO_NETWORKX_LIMIT) -> nx.MultiDiGraph:
    """The whole graph of codes and relations, for small builds; refuses above ``limit`` edges."""
    total = int(select(store, "edge_count", p=DEFAULT_RELATIONS)[0]["n"] or 0)
    if total > limit:
        raise TraversalError(f"the store holds {total:,} edges, more than the limit of {limit:,} for a whole-graph "
                             "projection; use kgraph.neighborhood() with a focus code instead")
    rows = select(store, "edges_of_relations", p=DEFAULT_RELATIONS)
    edges = {(r["s"] or "", r["p"] or "", r["o"] or "") for r in rows}
    return _graph(store, {n for s, _, o in edges for n in (s, o)}, edges)


def to_json(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """The neighbourhood JSON shape of INTERFACE.md."""
    nodes = [{"id": n, "kind": d.get("kind", ""), "label": d.get("label", "")} for n, d in graph.nodes(data=True)]
    edges = [{"source": s, "target": o, "relation": k, "qualifiers": d.get("qualifiers", {}),
              "evidence": d.get("evidence", [])} for s, o, k, d in graph.edges(keys=True, data=True)]
    out: dict[str, Any] = {"nodes": nodes, "edges": edges}
    if "path" in graph.graph:
        out["path"] = graph.graph["path"]
    return out
