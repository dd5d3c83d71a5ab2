"""pandas tables of neighbourhoods, paths and findings (kgraph.notebook_helpers), as notebooks show them."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

import kgraph
from kgraph.notebook_helpers import edges_frame, findings_frame, nodes_frame


def test_edges_of_74360_carry_qualifiers_and_evidence(default_store):
    G = kgraph.neighborhood(default_store, "CPT:74360")
    edges = edges_frame(G)
    assert list(edges.columns) == ["source", "relation", "target", "qualifiers", "evidence"]
    assert len(edges) == G.number_of_edges()
    k222 = edges[(edges.source == "ICD10CM:K22.2") & (edges.relation == "kg:supports")].iloc[0]
    assert k222.target == "CPT:74360"
    assert "role=indication" in k222.qualifiers
    assert k222.evidence == "data/briefings/cpt-74360.txt:41"
    ptp = edges[(edges.source == "CPT:43214") & (edges.relation == "kg:conflictsWith")].iloc[0]
    assert ptp.evidence == "data/ncci/ptp_practitioner_2024-07-01_flat.csv:1261"
    assert "modifierIndicator=0" in ptp.qualifiers
    # sorted by relation, then source and target
    assert list(edges.relation) == sorted(edges.relation)


def test_expanded_qualifiers_are_columns_empty_where_an_edge_has_none(default_store):
    G = kgraph.neighborhood(default_store, "CPT:74360")
    wide = edges_frame(G, expand=True)
    assert {"role", "relevanceText", "modifierIndicator", "rationale"} <= set(wide.columns)
    assert list(wide.columns[:3]) == ["source", "relation", "target"] and wide.columns[-1] == "evidence"
    supports = wide[wide.relation == "kg:supports"].set_index("source")
    assert supports.loc["ICD10CM:R13.10", "role"] == "symptom"
    assert supports["modifierIndicator"].isna().all()
    ptp = wide[wide.relation == "kg:conflictsWith"].set_index("source")
    assert ptp.loc["CPT:74328", "rationale"] == "Mutually exclusive procedures"


def test_nodes_have_kind_and_label_sorted_by_kind(default_store):
    G = kgraph.neighborhood(default_store, "CPT:74360")
    nodes = nodes_frame(G)
    assert list(nodes.columns[:3]) == ["id", "kind", "label"]
    assert len(nodes) == G.number_of_nodes()
    assert list(nodes.kind) == sorted(nodes.kind)
    row = nodes.set_index("id").loc["NUCC:208800000X"]
    assert (row.kind, row.label) == ("taxonomy", "Urology Physician")


@pytest.mark.slow  # validates the default build (5 s)
def test_validation_findings_as_a_table(default_store):
    findings = kgraph.validate(default_store)
    table = findings_frame(findings)
    assert list(table.columns) == ["severity", "rule", "subject", "message", "where", "suggestion"]
    assert len(table) == len(findings)
    k210 = table[(table.subject == "ICD10CM:K21.0") & (table.rule == "icd10cm.not-billable")].iloc[0]
    assert k210["where"] == "data/briefings/cpt-74360.txt:44"
    assert k210.suggestion == "ICD10CM:K21.00, ICD10CM:K21.01"
    # dicts give the same table as Finding objects
    pd.testing.assert_frame_equal(findings_frame(f.to_json() for f in findings), table)


def test_claim_findings_show_codes_lines_and_where_the_explanation_comes_from(default_store):
    from kgraph.check import check

    result = check(default_store, {"id": "c1", "date": "2024-08-01", "payer": "medicare",
                                   "lines": [{"code": "74360", "modifiers": ["26"], "diagnoses": ["K22.2"]},
                                             {"code": "43214", "diagnoses": ["K22.2"]}]})
    table = findings_frame(result.findings)
    assert {"codes", "lines", "explanation"} <= set(table.columns)
    ptp = table[table.rule == "ncci.ptp"].iloc[0]
    assert (ptp.codes, ptp.lines) == ("CPT:43214, CPT:74360", "1, 2")
    assert ptp.explanation == "data/ncci/ptp_practitioner_2024-07-01_flat.csv:1261"


def test_plain_graphs_and_empty_inputs():
    G = nx.DiGraph()
    G.add_edge("MOD:26", "CPT:74360", relation="kg:modifierFor", qualifiers={}, evidence=[])
    row = edges_frame(G).iloc[0]
    assert (row.relation, row.qualifiers, row.evidence) == ("kg:modifierFor", "", "")
    assert list(edges_frame(nx.MultiDiGraph()).columns) == ["source", "relation", "target", "qualifiers", "evidence"]
    assert nodes_frame(nx.MultiDiGraph()).empty
    assert findings_frame([]).empty
