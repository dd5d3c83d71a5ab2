"""Named queries: listed with their parameters, bound as RDF terms, and answering what they say."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

import kgraph
from kgraph.cli import main
from kgraph.errors import QueryError
from kgraph.sparql import named_queries


def test_every_named_query_documents_itself_and_projects_its_parameters():
    queries = named_queries()
    assert len(queries) >= 7
    for name, q in queries.items():
        assert q.description, name
        assert q.example.startswith(f"kgraph query --name {name}"), name
        projection = q.text[q.text.index("SELECT"):q.text.index("WHERE")]
        for param, kind in q.params.items():
            assert kind.split(",")[0] in ("code", "date", "int", "string", "iri"), (name, param)
            assert f"?{param}" in projection, f"{name}: parameter ?{param} must be projected to be bound"


def test_examples_in_headers_run(briefing_store):
    runner = CliRunner()
    for name, q in named_queries().items():
        args = q.example.split()[1:]
        out = runner.invoke(main, [*args, "--store", str(briefing_store.path), "--format", "json"])
        assert out.exit_code == 0, (name, out.output)
        assert "results" in json.loads(out.stdout)


def test_diagnoses_supporting_74360(briefing_store):
    table = kgraph.query(briefing_store, "diagnoses_supporting", code="CPT:74360")
    assert sorted(set(table.column("via"))) == sorted(
        ["ICD10CM:C15.9", "ICD10CM:I85.00", "ICD10CM:K21.0", "ICD10CM:K22.1", "ICD10CM:K22.2",
         "ICD10CM:K22.3", "ICD10CM:K22.8", "ICD10CM:R13.10"])
    k222 = next(r for r in table if r["diagnosis"] == "ICD10CM:K22.2")
    assert (k222["role"], k222["line"], k222["source"]) == ("indication", "41", "data/briefings/cpt-74360.txt")


def test_parameters_are_bound_as_terms_not_pasted(briefing_store):
    baseline = kgraph.query(briefing_store, "gaps")
    hostile = ['CPT:74360> } UNION { ?s ?p ?o', '74360" } UNION { ?s ?p ?o } #', "CPT:74360}", "{UNION}"]
    for value in hostile:
        with pytest.raises(kgraph.KGraphError):
            kgraph.query(briefing_store, "diagnoses_supporting", code=value)
    # a string parameter with quotes and braces is one literal: it matches nothing, it does not widen the query
    text = 'SELECT ?code ?g WHERE { ?g kg:field ?code }'
    assert len(kgraph.query(briefing_store, text, code='x" } UNION { ?g ?p ?o')) == 0
    assert len(kgraph.query(briefing_store, text, code="modifierFor")) == 1
    assert len(baseline) == 6


def test_error_unknown_name_lists_the_names(briefing_store):
    with pytest.raises(QueryError, match=r"no_such: no such named query; known: .*diagnoses_supporting"):
        kgraph.query(briefing_store, "no_such")


def test_error_missing_and_extra_parameters(briefing_store):
    with pytest.raises(QueryError, match=r"diagnoses_supporting: missing parameter code; parameters: code \(code"):
        kgraph.query(briefing_store, "diagnoses_supporting")
    with pytest.raises(QueryError, match="unknown parameter colour"):
        kgraph.query(briefing_store, "diagnoses_supporting", code="CPT:74360", colour="red")


def test_error_unknown_prefix_lists_prefixes(briefing_store):
    with pytest.raises(kgraph.CurieError, match=r"FOO:1: unknown CURIE prefix; known prefixes: kg, CPT, HCPCS"):
        kgraph.query(briefing_store, "diagnoses_supporting", code="FOO:1")


def test_error_syntax_error_names_line_and_column(briefing_store):
    with pytest.raises(QueryError) as err:
        kgraph.query(briefing_store, "SELECT ?x WHERE {\n  ?x ?y \n}")
    assert re.match(r"SPARQL syntax error at line 3, column \d+: ", str(err.value)), str(err.value)


def test_cli_lists_queries_with_parameters():
    out = CliRunner().invoke(main, ["queries", "--format", "json"])
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["diagnoses_supporting"]["parameters"].startswith("code: code")
    assert "gaps" in rows


def test_table_to_pandas(briefing_store):
    frame = kgraph.query(briefing_store, "payers_of_code", code="74360").to_pandas()
    assert sorted(frame["payer"]) == ["PAYER:aetna", "PAYER:bcbs", "PAYER:cigna", "PAYER:medicare", "PAYER:uhc"]
    assert set(frame["position"]) == {"unknown"}


# --- queries over the code sets of the default build (facts checked against ../shared/data) ---


def test_ncci_conflicts_as_of_a_date(default_store):
    on = kgraph.query(default_store, "ncci_conflicts", code="74360", date="2024-08-01")
    row = next(r for r in on if r["column1"] == "CPT:43213")
    assert (row["column2"], row["modifierIndicator"], row["status"]) == ("CPT:74360", "0", "in effect")
    assert row["bypass"] == "no modifier bypasses it"
    pair = next(r for r in on if r["column2"] == "CPT:77002")
    assert pair["column1"] == "CPT:74360" and pair["modifierIndicator"] == "1"
    assert pair["bypass"].startswith("an NCCI-associated modifier may bypass it")
    # the flat 2024-07-01 file has no effective dates: before that date the answer is unknown, not "no edit"
    before = kgraph.query(default_store, "ncci_conflicts", code="74360", date="2024-01-01")
    assert len(before) == len(on)
    assert all(r["status"].startswith("unknown: the file of 2024-07-01") for r in before)


def test_deleted_edits_are_not_in_effect_after_their_deletion(default_store):
    row = kgraph.query(default_store, 'SELECT ?a ?b WHERE { ?r kg:column1 ?a ; kg:column2 ?b ; '
                                      'kg:deletionDate "2019-12-31"^^xsd:date } ORDER BY ?a ?b LIMIT 1').rows[0]

    def pairs(date):
        return {(r["column1"], r["column2"], r["deletion"]) for r in
                kgraph.query(default_store, "ncci_conflicts", code=row["a"], date=date)}

    assert (row["a"], row["b"], "2019-12-31") in pairs("2019-12-31")
    assert (row["a"], row["b"], "2019-12-31") not in pairs("2020-01-01")


def test_mue_fee_schedule_and_modifiers_for_74360(default_store):
    (mue,) = kgraph.query(default_store, "mue_limit", code="74360").rows
    assert (mue["units"], mue["adjudicationIndicator"]) == ("1", "3")
    rows = {r["modifier"]: r for r in kgraph.query(default_store, "fee_schedule_indicators", code="74360")}
    assert rows[None]["pctc"] == "1" and rows[None]["globalDays"] == "XXX" and rows[None]["coSurg"] == "0"
    assert set(rows) == {None, "MOD:26", "MOD:TC"}
    mods = kgraph.query(default_store, "modifiers_for", code="74360")
    assert {(r["modifier"], r["from"]) for r in mods} >= {("MOD:26", "briefing"), ("MOD:26", "fee schedule"),
                                                          ("MOD:TC", "fee schedule"), ("MOD:QK", "briefing")}


def test_billed_with_includes_add_on_primaries(default_store):
    rows = kgraph.query(default_store, "billed_with", code="74360")
    assert {r["other"] for r in rows if r["how"] == "briefing: billed with"} == {
        "CPT:43249", "CPT:43254", "CPT:77002", "CPT:99070"}
    addon = kgraph.query(default_store, "billed_with", code="77002")
    assert all(r["detail"] == "edit type 1" for r in addon if r["how"].startswith("add-on"))
    assert len([r for r in addon if r["how"].startswith("add-on")]) > 50


def test_icd10cm_history_and_changes(default_store):
    history = {r["fy"]: r for r in kgraph.query(default_store, "code_history", code="K21.0")}
    assert history["2020"]["billable"] == "yes"
    assert history["2021"]["billable"] == "no (header)" and history["2021"]["event"] == "became a header"
    changes = kgraph.query(default_store, "icd10cm_changes", from_fy="2021", to_fy="2022")
    added = {r["code"] for r in changes if r["change"] == "added"}
    assert {"ICD10CM:K22.81", "ICD10CM:K22.82", "ICD10CM:K22.89"} <= added
    assert ("ICD10CM:K22.8", "became a header") in {(r["code"], r["change"]) for r in changes}
    retitled = kgraph.query(default_store, "icd10cm_changes", from_fy="2021", to_fy="2022")
    f32 = next(r for r in retitled if r["code"] == "ICD10CM:F32" and r["change"] == "retitled")
    assert (f32["previous"], f32["title"]) == ("Major depressive disorder, single episode", "Depressive episode")


def test_excludes1_resolved_through_the_hierarchy(default_store):
    notes = kgraph.query(default_store, "excludes1_of", code="K22.2")
    assert ("ICD10CM:K22.2", "ICD10CM:Q39.3") in {(r["noteOn"], r["target"]) for r in notes}
    assert len(kgraph.query(default_store, "excludes1_between", a="K22.2", b="Q39.3")) == 1
    assert len(kgraph.query(default_store, "excludes1_between", a="Q39.3", b="K22.2")) == 1
    assert len(kgraph.query(default_store, "excludes1_between", a="K22.2", b="R13.10")) == 0


def test_briefing_codes_failing_and_hubs(default_store):
    failing = {r["code"]: r["problem"] for r in kgraph.query(default_store, "briefing_codes_failing")}
    assert failing == {"ICD10CM:K22.8": "ICD-10-CM header, not billable since FY2022",
                       "ICD10CM:K21.0": "ICD-10-CM header, not billable since FY2021",
                       "ICD10CM:K22.1": "ICD-10-CM header, not billable in any loaded fiscal year"}
    hubs = kgraph.query(default_store, "hubs_by_degree", relation="kg:conflictsWith")
    totals = [int(r["total"]) for r in hubs]
    assert totals == sorted(totals, reverse=True)
    assert [int(r["rank"]) for r in hubs] == list(range(1, len(hubs) + 1))
    # the precomputed counts are the graph's: CPT:77002's distinct conflictsWith neighbours
    direct = kgraph.query(default_store, "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { "
                          "{ CPT:77002 kg:conflictsWith ?x } UNION { ?x kg:conflictsWith CPT:77002 } }")
    out_in = int(hubs.rows[0]["outDegree"]) + int(hubs.rows[0]["inDegree"])
    assert out_in >= int(direct.rows[0]["n"])
    assert hubs.rows[0]["node"] == "CPT:77002"
