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
