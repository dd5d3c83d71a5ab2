"""Neighbourhoods and paths: what a data scientist pulls into networkx, and the CLI's JSON."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from click.testing import CliRunner

import kgraph
from kgraph.cli import main
from kgraph.traverse import TraversalError, to_json


def test_neighborhood_of_74360_holds_every_briefing_edge(briefing_store):
    G = kgraph.neighborhood(briefing_store, "CPT:74360")
    assert isinstance(G, nx.MultiDiGraph)
    relations = sorted({k for _, _, k in G.edges(keys=True)})
    assert relations == ["kg:billedWith", "kg:context", "kg:coveredBy", "kg:hasGap", "kg:modifierFor",
                         "kg:relatedTo", "kg:reportedBy", "kg:supports"]
    supports = [(s, d) for s, o, k, d in G.edges(keys=True, data=True) if k == "kg:supports"]
    assert len(supports) == 8
    k222 = G.get_edge_data("ICD10CM:K22.2", "CPT:74360", key="kg:supports")
    assert k222["qualifiers"]["role"] == "indication"
    assert k222["evidence"] == [{"source": "data/briefings/cpt-74360.txt", "line": 41}]
    assert G.nodes["CPT:74360"]["label"].startswith("Imaging Supervision")
    # the modifier 79 row is a gap on MOD:79 in the context of CPT:74360
    (gap,) = [n for n in G.predecessors("CPT:74360") if n.startswith("GAP:") and G.has_edge("MOD:79", n)]
    assert G.nodes[gap]["kind"] == "gap" and G.nodes["MOD:79"]["kind"] == "modifier"


def test_depth_two_reaches_the_payer_parent(briefing_store):
    one = kgraph.neighborhood(briefing_store, "CPT:74360", depth=1)
    two = kgraph.neighborhood(briefing_store, "CPT:74360", depth=2)
    assert "PAYER:bcbs" in one and "PAYER:anthem" not in one
    assert two.has_edge("PAYER:anthem", "PAYER:bcbs", key="kg:partOf")


def test_relations_filter_and_bare_codes(briefing_store):
    G = kgraph.neighborhood(briefing_store, "74360", relations=["supports"])
    assert {k for _, _, k in G.edges(keys=True)} == {"kg:supports"}
    assert G.number_of_nodes() == 9


def test_max_edges_stops_with_advice(briefing_store):
    with pytest.raises(TraversalError, match="more than 10 edges; narrow it with fewer relations"):
        kgraph.neighborhood(briefing_store, "CPT:74360", max_edges=10)


def test_unknown_code_is_reported_with_close_codes(briefing_store):
    with pytest.raises(TraversalError, match=r"CPT:74361: not in the store; close codes: CPT:74360"):
        kgraph.neighborhood(briefing_store, "CPT:74361")
    with pytest.raises(kgraph.CurieError, match="unknown CURIE prefix"):
        kgraph.neighborhood(briefing_store, "FOO:1")


def test_path_from_a_diagnosis_to_a_modifier(briefing_store):
    P = kgraph.path(briefing_store, "K22.2", "MOD:26")
    assert P.graph["path"] == ["ICD10CM:K22.2", "CPT:74360", "MOD:26"]
    assert sorted(k for _, _, k in P.edges(keys=True)) == ["kg:modifierFor", "kg:supports"]


def test_to_networkx_small_build_and_refusal(briefing_store):
    G = kgraph.to_networkx(briefing_store)
    assert G.has_edge("ICD10CM:K22.2", "CPT:74360")
    with pytest.raises(TraversalError, match="more than the limit of 5"):
        kgraph.to_networkx(briefing_store, limit=5)


def test_cli_neighbors_json_matches_the_python_api(briefing_store):
    out = CliRunner().invoke(main, ["neighbors", "CPT:74360", "--store", str(briefing_store.path), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == to_json(kgraph.neighborhood(briefing_store, "CPT:74360"))


def test_cli_path_and_unknown_code_exit_1(briefing_store):
    runner = CliRunner()
    out = runner.invoke(main, ["path", "K22.2", "MOD:26", "--store", str(briefing_store.path), "--format", "json"])
    assert json.loads(out.stdout)["path"] == ["ICD10CM:K22.2", "CPT:74360", "MOD:26"]
    bad = runner.invoke(main, ["neighbors", "99999", "--store", str(briefing_store.path)])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: CPT:99999: not in the store")


# --- as of a date, on the default build's code sets ---


def test_as_of_keeps_diagnoses_of_that_fiscal_year(default_store):
    now = kgraph.neighborhood(default_store, "ICD10CM:K22.8", relations=["skos:broader"], as_of="2024-08-01")
    assert {"ICD10CM:K22.81", "ICD10CM:K22.82", "ICD10CM:K22.89"} <= set(now)
    fy2021 = kgraph.neighborhood(default_store, "ICD10CM:K22.8", relations=["skos:broader"], as_of="2021-06-01")
    assert not {"ICD10CM:K22.81", "ICD10CM:K22.82", "ICD10CM:K22.89"} & set(fy2021)  # added in FY2022
    assert "ICD10CM:K22" in fy2021
    later = kgraph.neighborhood(default_store, "ICD10CM:K22.8", relations=["skos:broader"], as_of="2031-01-01")
    assert "outside the loaded ICD-10-CM fiscal years" in later.graph["as_of_note"]
    # issue 13: before 2015-10-01 ICD-9-CM was in force: no ICD-10-CM code was valid (45 CFR 162.1002)
    icd9 = kgraph.neighborhood(default_store, "CPT:74360", relations=["kg:supports"], as_of="2015-09-30")
    assert not [n for n in icd9 if n.startswith("ICD10CM:")] and "before ICD-10-CM" in icd9.graph["as_of_note"]
    icd10 = kgraph.neighborhood(default_store, "CPT:74360", relations=["kg:supports"], as_of="2019-10-01")
    assert "ICD10CM:K22.2" in icd10


def test_as_of_ncci_edges_unknown_before_the_flat_file_date(default_store):
    after = kgraph.neighborhood(default_store, "CPT:74360", relations=["kg:conflictsWith"], as_of="2024-08-01")
    statuses = {d["qualifiers"]["status"] for _, _, d in after.edges(data=True)}
    assert statuses == {"in effect"}
    assert after.has_edge("CPT:43213", "CPT:74360", key="kg:conflictsWith")
    before = kgraph.neighborhood(default_store, "CPT:74360", relations=["kg:conflictsWith"], as_of="2024-01-01")
    assert set(before.edges(keys=True)) >= set(after.edges(keys=True))
    assert all(d["qualifiers"]["status"].startswith("unknown: the file of 2024-07-01")
               for _, _, d in before.edges(data=True))


def test_as_of_brings_back_edits_deleted_before_the_file_date(default_store):
    row = kgraph.query(default_store, 'SELECT ?a ?b WHERE { ?r kg:column1 ?a ; kg:column2 ?b ; '
                                      'kg:deletionDate "2019-12-31"^^xsd:date } ORDER BY ?a ?b LIMIT 1').rows[0]
    then = kgraph.neighborhood(default_store, row["a"], relations=["kg:conflictsWith"], as_of="2019-06-01")
    assert then.has_edge(row["a"], row["b"], key="kg:conflictsWith")
    now = kgraph.neighborhood(default_store, row["a"], relations=["kg:conflictsWith"], as_of="2024-08-01")
    assert not now.has_edge(row["a"], row["b"], key="kg:conflictsWith")


def test_the_same_walk_prints_the_same_bytes_in_every_process(default_store):
    """Qualifiers and evidence keep one order whatever Python's string hashing does (a set's order
    once reached the query and so the order of a JSON object's keys)."""
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "kgraph", "neighbors", "74360", "--depth", "2", "--format", "json",
                               "--store", str(default_store.build_dir)], capture_output=True, env=env, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1 and b'"kg:supports"' in outputs.pop()
