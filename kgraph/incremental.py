"""Rebuilding after briefings change, without recounting the whole graph.

A rebuild that reuses every code set of the previous build and reads again only the small sources
(the payer registry and the briefings; ``build.SMALL_KINDS``) changes few edges. Instead of
dropping ``GRAPH:degrees`` and counting every relation again (minutes on the full build), compacting
the store, counting every node and relation, and collecting the claim-check indexes from scratch,
the build then (``update`` runs the three after ``snapshot``):

* ``snapshot``: reads, before the previous graphs of those sources are removed from the checkpoint,
  their relation triples, typed nodes and sizes;
* ``update_degrees``: recounts the ``kg:Degree`` of every (relation, node) that a removed or added
  edge touches, over the union graph, re-ranks the relation and replaces only the quads that
  changed: the result is what ``build.degree_lines`` writes for the same graph;
* ``update_counts``: corrects the previous build's counts (nodes by kind, relations, assertions,
  sources, quads) by what the removed and added graphs held and no other graph does;
* ``update_indexes``: loads the previous build's claim-check index and reads again only what a
  briefing or the payer registry can change (the source list, briefing evidence, payer gaps, payers,
  modifier labels), renumbering every row's source index; the code-set rows are kept.

Input: the build's database (a checkpoint of the previous build with the new small graphs loaded),
the previous build (read-only) and its ``build.json``. Output: quads written into the database,
the counts dict of ``build.count``, the index file. ``eligible`` says when this is possible;
otherwise the build takes its full path. tests/test_incremental.py checks the degrees, counts and
indexes equal those of a fresh build of the same inputs. Raises nothing of its own.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns

RDF_TYPE = ox.NamedNode(ns.RDF + "type")
INTEGER = ox.NamedNode(ns.XSD + "integer")
DEGREES = ns.term("GRAPH:degrees")


def relations() -> list[str]:
    """The relations whose degrees the build counts (IRIs), as ``build.degree_lines`` does."""
    return [ns.iri(f"kg:{r}") for r in ns.RELATIONS] + [ns.iri("skos:broader")]


def counted_classes() -> dict[str, str]:
    """Class IRI -> the key of ``build.count`` it is counted under."""
    out = {cls: kind for kind, cls in ns.KIND_CLASSES.items()}
    out[ns.KG + "Assertion"] = "assertions"
    out[ns.KG + "Source"] = "sources"
    return out


@dataclass
class Snapshot:
    """What a set of graphs holds that the counts and degrees depend on."""

    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (subject, relation, object) IRIs
    typed: set[tuple[str, str]] = field(default_factory=set)  # (node, class) IRIs of counted classes
    quads: int = 0

    def add(self, database: ox.Store, graph: ox.NamedNode | ox.BlankNode) -> None:
        rels, classes = set(relations()), counted_classes()
        for quad in database.quads_for_pattern(None, None, None, graph):
            self.quads += 1
            p = quad.predicate.value
            if p in rels and isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode):
                self.edges.add((quad.subject.value, p, quad.object.value))
            elif p == RDF_TYPE.value and isinstance(quad.object, ox.NamedNode) and quad.object.value in classes \
                    and isinstance(quad.subject, ox.NamedNode):
                self.typed.add((quad.subject.value, quad.object.value))


def eligible(old_store: ox.Store | None, old_info: dict[str, Any], old_build: Path | None, results: Iterable[Any],
             reused: set[str], small_kinds: tuple[str, ...]) -> bool:
    """Whether a rebuild may update degrees, counts and indexes instead of making them again: the previous
    build has them, and every source that is not small is reused from it (none added, changed or gone)."""
    from kgraph.indexes import index_path

    if old_store is None or old_build is None or not old_info.get("counts") or not index_path(old_build).exists() \
            or not table_path(old_build).exists() or not old_store.contains_named_graph(DEGREES):
        return False
    big_now = {r.id for r in results if r.spec.kind not in small_kinds}
    big_before = {s.get("id") for s in old_info.get("sources", []) if s.get("kind") not in small_kinds}
    return big_now == reused == big_before


def _has(database: ox.Store, s: str, p: str, o: str) -> bool:
    return next(iter(database.quads_for_pattern(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o), None)),
                None) is not None


def _degree(database: ox.Store, node: str, relation: str) -> tuple[int, int]:
    n, p = ox.NamedNode(node), ox.NamedNode(relation)
    out = {q.object for q in database.quads_for_pattern(n, p, None, None)}
    into = {q.subject for q in database.quads_for_pattern(None, p, n, None)}
    return len(out), len(into)


def table_path(build_dir: Path) -> Path:
    """Where a build keeps its degree counts as a table: ``indexes/degrees.pickle``."""
    return Path(build_dir) / "indexes" / "degrees.pickle"


def save_table(build_dir: Path, table: dict[str, dict[str, tuple[int, int]]]) -> None:
    """Write the degree table (relation IRI -> node IRI -> (out, in)) of a build. Reading 15,537 conflictsWith
    degrees back from GRAPH:degrees took 3.6 s on the full build; the file loads in a fraction of that."""
    path = table_path(build_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        pickle.dump({"format": 1, "table": table}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_table(build_dir: Path) -> dict[str, dict[str, tuple[int, int]]]:
    with table_path(build_dir).open("rb") as handle:
        data = pickle.load(handle)  # noqa: S301 - written by save_table into the user's own build
    return data["table"]


def _degree_quads(relation: str, node: str, out: int, into: int, rank: int, top: bool) -> list[ox.Quad]:
    """The quads ``build.degree_lines`` writes for one (relation, node)."""
    from kgraph.build import TOP_DEGREES

    local = ns.curie(relation).replace(":", "-")
    d = ox.NamedNode(f"{ns.PREFIXES['ROW']}degrees/{local}/{ns.slug(ns.curie(node))}")
    quads = [ox.Quad(d, ox.NamedNode(ns.KG + "outDegree"), ox.Literal(str(out), datatype=INTEGER), DEGREES),
             ox.Quad(d, ox.NamedNode(ns.KG + "inDegree"), ox.Literal(str(into), datatype=INTEGER), DEGREES),
             ox.Quad(d, ox.NamedNode(ns.KG + "rank"), ox.Literal(str(rank), datatype=INTEGER), DEGREES)]
    if top and rank <= TOP_DEGREES:
        quads.append(ox.Quad(ox.NamedNode(relation), ox.NamedNode(ns.KG + "topDegree"), d, DEGREES))
    return quads + [ox.Quad(d, RDF_TYPE, ox.NamedNode(ns.KG + "Degree"), DEGREES),
                    ox.Quad(d, ox.NamedNode(ns.KG + "degreeOf"), ox.NamedNode(relation), DEGREES),
                    ox.Quad(d, ox.NamedNode(ns.KG + "node"), ox.NamedNode(node), DEGREES)]


def update_degrees(database: ox.Store, changed: Snapshot,
                   table: dict[str, dict[str, tuple[int, int]]]) -> tuple[int, int]:
    """Recount the degrees a change touches, re-rank their relations and rewrite only the quads that changed;
    ``table`` (the previous build's, see ``save_table``) is updated in place. (quads removed, quads added)."""
    from kgraph.build import TOP_DEGREES

    touched: dict[str, set[str]] = {}
    for s, p, o in changed.edges:
        touched.setdefault(p, set()).update((s, o))
    removed: list[ox.Quad] = []
    added: list[ox.Quad] = []
    for relation, nodes in touched.items():
        counts = table.setdefault(relation, {})
        old = _ranked(counts, TOP_DEGREES)
        for node in nodes:
            out, into = _degree(database, node, relation)
            if out or into:
                counts[node] = (out, into)
            else:
                counts.pop(node, None)
        new = _ranked(counts, TOP_DEGREES)
        for node in old.keys() | new.keys():
            before, after = old.get(node), new.get(node)
            if before == after:
                continue
            # a node that moved in the ranking keeps its counts: only its rank quad changes
            was = {str(q): q for q in _degree_quads(relation, node, *before)} if before else {}
            now = {str(q): q for q in _degree_quads(relation, node, *after)} if after else {}
            removed += [q for k, q in was.items() if k not in now]
            added += [q for k, q in now.items() if k not in was]
    if removed:  # one transaction: Store.remove took about 1 ms a quad in a build (16,245 quads: 14 s)
        triples = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in removed)
        database.update(f"DELETE DATA {{ GRAPH <{DEGREES.value}> {{ {triples} }} }}")
    if added:  # the bulk loader: Store.extend took 5.5 s for 16,000 quads in a build
        database.bulk_extend(added)
    return len(removed), len(added)


def _ranked(counts: dict[str, tuple[int, int]], top: int) -> dict[str, tuple[int, int, int, bool]]:
    """node -> (out, in, rank, listed in kg:topDegree), ranked as ``build.degree_lines`` ranks them."""
    ranked = sorted(counts.items(), key=lambda item: (-sum(item[1]), ns.curie(item[0])))
    return {n: (c[0], c[1], rank, rank <= top) for rank, (n, c) in enumerate(ranked, 1)}


def update_counts(old_counts: dict[str, Any], before: ox.Store, after: ox.Store, removed: Snapshot,
                  added: Snapshot, degree_delta: int) -> dict[str, Any]:
    """``build.count`` of the new database, from the previous build's counts and what changed."""
    counts = {"nodes": dict(old_counts["nodes"]), "relations": dict(old_counts["relations"]),
              **{k: old_counts[k] for k in ("assertions", "sources", "quads")}}
    classes = counted_classes()
    for node, cls in removed.typed | added.typed:
        delta = _has(after, node, RDF_TYPE.value, cls) - _has(before, node, RDF_TYPE.value, cls)
        key = classes[cls]
        if key in counts["nodes"]:
            counts["nodes"][key] += delta
        else:
            counts[key] += delta
    for s, p, o in removed.edges | added.edges:
        counts["relations"][ns.curie(p)] += _has(after, s, p, o) - _has(before, s, p, o)
    counts["quads"] += added.quads - removed.quads + degree_delta
    return counts


def update_indexes(database: ox.Store, build_dir: Path, old_build: Path, build_id: str,
                   say: Callable[[str], None]) -> Path | None:
    """The previous build's claim-check index with what briefings and payers feed read again; None when
    the previous index cannot be read (the caller then collects it in full)."""
    from kgraph import indexes as ix

    started = time.perf_counter()
    old = ix.load_file(ix.index_path(old_build))
    if old is None:
        return None
    sources = ix._sources(database)
    position = {s.id: i for i, s in enumerate(sources)}
    remap = [position.get(s.id, 0) for s in old.sources]

    def renumbered(row: Any) -> Any:
        # code-set rows (kgraph.rules.rows) name their release by its index in ``sources``
        return row._replace(source=remap[row.source])

    table = bytes(remap[i] if i < len(remap) else 0 for i in range(256))
    modifiers = ix.modifier_labels(database, old.modifiers)
    payers, labels, parents = ix._payers(database)
    new = dataclasses.replace(
        old, build=build_id, sources=sources, ptp_source=array("B", bytes(old.ptp_source).translate(table)),
        mue={k: [renumbered(r) for r in rows] for k, rows in old.mue.items()},
        addon={k: [renumbered(r) for r in rows] for k, rows in old.addon.items()},
        fee={k: {m: [renumbered(r) for r in rs] for m, rs in rows.items()} for k, rows in old.fee.items()},
        terminations={k: tuple((d, remap[s]) for d, s in rows) for k, rows in old.terminations.items()},
        modifiers=modifiers, supports=ix._evidence(database, "supports"),
        specialties=ix._evidence(database, "reportedBy"), payer_gaps=ix.payer_gaps(database), payers=payers,
        payer_labels=labels, payer_parent=parents, seconds=round(time.perf_counter() - started, 3),
        _children=None)
    path = ix.save(new, build_dir)
    say(f"indexes: updated for the changed briefings ({time.perf_counter() - started:.1f} s)")
    return path


def update(database: ox.Store, old_store: ox.Store, old_info: dict[str, Any], old_build: Path,
           removed: Snapshot, written: list[ox.NamedNode], tmp: Path, build_id: str,
           say: Callable[[str], None]) -> dict[str, Any]:
    """Degrees, counts and indexes of a build that changed only payers and briefings: ``removed`` holds what the
    previous graphs of those sources held, ``written`` the graphs written now. Returns the counts; the degree
    table and the index file are written into ``tmp`` (the index collected in full if the previous one cannot
    be read)."""
    from kgraph.indexes import write_indexes

    added = Snapshot()
    for graph in written:
        added.add(database, graph)
    say("counting degrees: updating those the changed sources touch ...")
    table = load_table(old_build)
    gone, made = update_degrees(database, Snapshot(removed.edges | added.edges), table)
    save_table(tmp, table)
    counts = update_counts(old_info["counts"], old_store, database, removed, added, made - gone)
    if update_indexes(database, tmp, old_build, build_id, say) is None:
        write_indexes(database, tmp, build=build_id, progress=say)
    return counts
