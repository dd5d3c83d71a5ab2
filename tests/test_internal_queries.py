"""kgraph's own SPARQL (kgraph/queries/internal/*.rq) and how values reach it: a list fills the
file's empty VALUES block, None removes the block, a single value is bound as one RDF term, and no
value is ever formatted into the text by the caller."""

from __future__ import annotations

from itertools import islice

import pyoxigraph as ox
import pytest

from kgraph import internal_queries as iq
from kgraph import namespaces as ns
from kgraph.errors import CurieError, QueryError

BROADER = ox.NamedNode(ns.SKOS + "broader")


def _store() -> ox.Store:
    """Two ICD-10-CM codes under a parent, each in a named graph as a build writes them."""
    db = ox.Store()
    graph = ox.NamedNode(ns.iri("GRAPH:icd10cm-test"))
    for child in ("K22.2", "K22.3"):
        db.add(ox.Quad(ox.NamedNode(ns.iri(f"ICD10CM:{child}")), BROADER, ox.NamedNode(ns.iri("ICD10CM:K22")),
                       graph))
    return db


def test_a_list_fills_the_values_block_with_iris():
    text = iq.prepare("stored_notes", {"t": ["CPT:74360", "ICD10CM:K22.2"]})
    assert "VALUES ?t { <https://w3id.org/kgraph/code/CPT/74360> <https://w3id.org/kgraph/code/ICD10CM/K22.2>" \
        in text


def test_none_removes_the_values_block():
    text = "\n".join(line for line in iq.prepare("stored_notes", {"t": None}).splitlines()
                     if not line.startswith("#"))  # the header comment names the block
    assert "VALUES" not in text
    assert "kg:noteOn ?t" in text  # the pattern itself is kept: every target


def test_a_list_without_a_values_block_is_refused():
    with pytest.raises(QueryError, match="no empty VALUES block for x"):
        iq.prepare("broader_pairs", {"x": ["CPT:74360"]})


def test_a_value_that_is_not_a_curie_is_refused():
    with pytest.raises(CurieError, match="unknown CURIE prefix"):
        iq.prepare("stored_notes", {"t": ["} DROP ALL {"]})


def test_rows_on_a_database_being_built_read_the_union_of_its_graphs():
    rows = sorted((r["s"], r["o"]) for r in iq.select(_store(), "broader_pairs"))
    assert rows == [("ICD10CM:K22.2", "ICD10CM:K22"), ("ICD10CM:K22.3", "ICD10CM:K22")]


def test_tuples_give_the_terms_in_projection_order():
    found = sorted((s.value, o.value) for s, o in iq.tuples(_store(), "broader_pairs"))
    assert found[0] == (ns.iri("ICD10CM:K22.2"), ns.iri("ICD10CM:K22"))


def test_a_single_value_is_bound_as_one_term():
    rows = iq.select(_store(), "values_of_property", prop=BROADER)
    assert {r["n"] for r in rows} == {"ICD10CM:K22.2", "ICD10CM:K22.3"}
    assert {r["d"] for r in rows} == {"ICD10CM:K22"}


def test_a_slice_of_the_solutions_stops_where_a_limit_would():
    assert len(list(islice(iq.solutions(_store(), "broader_pairs"), 1))) == 1


def test_required_cells_are_strings_and_an_unbound_one_is_named():
    bound = sorted(iq.required(r, "broader_pairs", "s", "o") for r in iq.select(_store(), "broader_pairs"))
    assert bound == [("ICD10CM:K22.2", "ICD10CM:K22"), ("ICD10CM:K22.3", "ICD10CM:K22")]
    optional = "SELECT ?s ?label WHERE { ?s skos:broader ?o OPTIONAL { ?s skos:prefLabel ?label } }"
    row = iq.select(_store(), optional)[0]
    with pytest.raises(QueryError, match=r"^no labels: \?label is unbound in a row"):
        iq.required(row, "no labels", "s", "label")
