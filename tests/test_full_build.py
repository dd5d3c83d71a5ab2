"""The full build of every official file in ../shared/data (slow: one build per test run, cached).

Counts verified against the files: FY2020-FY2026 order files hold 98,503 distinct codes; the
flat PTP file 2,546,017 rows (1,669,820 active, none with indicator 9) and the official excerpt
21; MUE 14,677 rows; add-on edits 7,465 rows (44 CCCCC: no node); the fee schedule 19,090 rows;
NUCC v25.1 883 codes; HCPCS 2020 6,710 codes and 369 modifiers.
"""

from __future__ import annotations

import pytest

import kgraph

pytestmark = pytest.mark.slow


def count(store, sparql):
    return int(kgraph.query(store, sparql).rows[0]["n"])


def test_full_build_counts(full_store):
    c = full_store.counts
    assert c["nodes"]["ICD-10-CM"] == 98503
    assert c["nodes"]["taxonomy"] == 883
    assert c["sources"] == 13
    assert not full_store.info["refused"]
    assert count(full_store, "SELECT (COUNT(*) AS ?n) WHERE { ?r a kg:PTPEdit }") == 2546017 + 21
    assert count(full_store, "SELECT (COUNT(*) AS ?n) WHERE { ?r a kg:MUELimit }") == 14677
    assert count(full_store, "SELECT (COUNT(*) AS ?n) WHERE { ?r a kg:AddOnEdit }") == 7465
    assert count(full_store, "SELECT (COUNT(*) AS ?n) WHERE { ?r a kg:FeeScheduleRow }") == 19090
    assert count(full_store, 'SELECT (COUNT(*) AS ?n) WHERE { ?n kg:code "CCCCC" }') == 0


def test_every_source_records_sha256_release_and_licence(full_store):
    rows = kgraph.query(full_store, "SELECT ?file ?kind ?release ?sha ?licence WHERE { ?s a kg:Source ; "
                                    "kg:file ?file ; kg:sourceKind ?kind ; kg:sha256 ?sha ; kg:licence ?licence . "
                                    "OPTIONAL { ?s kg:release ?release } }").rows
    assert len(rows) == 13
    assert all(len(r["sha"]) == 64 and r["licence"] and (r["release"] or r["kind"] == "briefing") for r in rows), rows
    notices = kgraph.query(full_store, "SELECT ?kind WHERE { ?s kg:sourceKind ?kind ; kg:notice ?n }").column("kind")
    assert {"nucc", "mpfs", "ncci-ptp"} <= set(notices)


def test_hub_neighbourhood_and_named_queries_on_the_full_graph(full_store):
    hubs = kgraph.query(full_store, "hubs_by_degree", relation="kg:conflictsWith")
    assert int(hubs.rows[0]["total"]) > 2000
    G = kgraph.neighborhood(full_store, "CPT:74360", depth=2)  # conflictsWith from the focus only
    assert G.has_edge("CPT:43213", "CPT:74360", key="kg:conflictsWith")
    with pytest.raises(kgraph.TraversalError, match="narrow it"):
        kgraph.neighborhood(full_store, "CPT:77002", depth=2, relations=["kg:conflictsWith"])
    official = kgraph.query(full_store, "ncci_conflicts", code="0001A", date="2022-06-01")
    assert {r["column2"] for r in official} >= {"CPT:0591T", "CPT:36591"}
    # effective 2022-01-01, deletion 2022-01-01 with indicator 9: never applied
    assert "CPT:90473" not in {r["column2"] for r in official}


def test_validation_on_the_full_build_uses_the_modifier_titles(full_store):
    findings = kgraph.validate(full_store, as_of="2026-06-01")
    assert findings.data_versions["modifiers"] == "2024"
    assert {f.subject for f in findings if f.rule == "icd10cm.not-billable"} == {
        "ICD10CM:K21.0", "ICD10CM:K22.1", "ICD10CM:K22.8"}
