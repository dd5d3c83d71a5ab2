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


def test_edits_deleted_on_a_busy_date_are_counted_and_listed_sorted(full_store):
    # 2019-12-31 holds hundreds of thousands of deletions in the flat file: the query counts them
    # all and lists a sorted page of 1,000 with their source lines
    direct = count(full_store, 'SELECT (COUNT(*) AS ?n) WHERE { ?r kg:deletionDate "2019-12-31"^^xsd:date }')
    page = kgraph.query(full_store, "edits_effective_on", date="2019-12-31")
    assert direct > 100_000
    assert len(page) == 1000 and {r["total"] for r in page} == {str(direct)}
    keys = [(r["change"], r["column1"], r["column2"]) for r in page]
    assert keys == sorted(keys) and {r["change"] for r in page} == {"deleted"}
    assert all(r["source"].endswith("_flat.csv.gz") and r["line"].isdigit() for r in page)
    # the page is not sorted by Oxigraph, but it is the same page every time
    assert kgraph.query(full_store, "edits_effective_on", date="2019-12-31").rows == page.rows
    assert len(kgraph.query(full_store, "edits_effective_on", date="1999-02-28")) == 0


def test_hub_neighbourhood_carries_the_ncci_rows_of_every_edge(full_store):
    G = kgraph.neighborhood(full_store, "CPT:77002", depth=1)
    conflicts = [(s, o, d) for s, o, k, d in G.edges(keys=True, data=True) if k == "kg:conflictsWith"]
    assert len(conflicts) > 1000
    # every NCCI edge of the hub comes with its modifier indicator and its line in the PTP file
    assert all(d["qualifiers"].get("modifierIndicator") in ("0", "1", "9") for _, _, d in conflicts)
    assert all(any(e["source"].endswith(("_flat.csv.gz", "excerpt.txt")) and e["line"] > 0 for e in d["evidence"])
               for _, _, d in conflicts)


def test_briefing_codes_failing_on_the_full_build(full_store):
    failing = {(r["code"], r["problem"]) for r in kgraph.query(full_store, "briefing_codes_failing")}
    assert ("ICD10CM:K22.8", "ICD-10-CM header, not billable since FY2022") in failing
    assert ("ICD10CM:K21.0", "ICD-10-CM header, not billable since FY2021") in failing
    assert not {c for c, _ in failing} & {"CPT:74360", "ICD10CM:K22.2"}
