"""The seed briefing's named graph is the same, quad for quad, as before the reader was rewritten.

tests/data/seed-graph.nq holds the sorted N-Quads of GRAPH:briefing-cpt-74360 as commit c615615
(the last commit before issue 14's rewrite of the briefing reader) built it from
tests/data/small.toml; scripts/seed_graph_golden.py made it by building that commit's own tree.
The quad kg:builtAt of the kg:Source is left out on both sides: it is the time of each build.
"""

from __future__ import annotations

import pyoxigraph as ox

from kgraph import namespaces as ns

from .conftest import TESTDATA


def test_seed_named_graph_is_unchanged(briefing_store):
    graph = ox.NamedNode(ns.iri("GRAPH:briefing-cpt-74360"))
    now = sorted(f"{q} .\n" for q in briefing_store.ox.quads_for_pattern(None, None, None, graph)
                 if q.predicate.value != ns.KG + "builtAt")
    before = (TESTDATA / "seed-graph.nq").read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(before) == 535
    missing = sorted(set(before) - set(now))
    added = sorted(set(now) - set(before))
    assert (missing, added) == ([], [])
    assert now == before
