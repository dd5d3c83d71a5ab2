"""The endpoint describes itself: the SPARQL 1.1 Service Description at ``GET /sparql`` (read by
rdflib, as Turtle and JSON-LD), VoID statistics of every named graph (checked against the store's
own quads, and kept current by a build that only adds a briefing), the named queries as SHACL
executables (listed and run through SPARQLWrapper), and CORS headers with ``--cors``.
"""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from SPARQLWrapper import JSON, SPARQLWrapper

import kgraph
from kgraph import namespaces as ns
from kgraph.description import QUERY_GRAPH, example_params, example_text, service_description, void_statistics

from .conftest import DATA, ROOT, SECOND
from .test_server import Server, curl

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")
#: the query the SIB sparql-editor runs to list an endpoint's examples
SIB_EXAMPLES = """PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?sq ?comment ?query WHERE {
  ?sq a sh:SPARQLExecutable ; rdfs:comment ?comment ; sh:select|sh:ask|sh:construct|sh:describe ?query .
} ORDER BY ?sq"""


@pytest.fixture(scope="module")
def server(default_store, tmp_path_factory) -> Iterator[Server]:
    s = Server(default_store.path, tmp_path_factory.mktemp("sd") / "server.log", workers=2, cors=True)
    yield s
    s.stop()


def description(url: str, accept: str = "text/turtle") -> tuple[rdflib.Graph, str]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        ctype = response.headers["content-type"]
        body = response.read()
    fmt = "json-ld" if "ld+json" in ctype else "turtle"
    return rdflib.Graph().parse(data=body, format=fmt), ctype


def select(url: str, query: str) -> list[dict[str, str]]:
    client = SPARQLWrapper(url)
    client.setQuery(query)
    client.setReturnFormat(JSON)
    bindings = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index]
    return [{k: v["value"] for k, v in row.items()} for row in bindings]


def quads_in(store: kgraph.Store, graph: str) -> list[ox.Quad]:
    return list(store.ox.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


# rdflib 7's JSON-LD parser builds a ConjunctiveGraph internally, which rdflib itself deprecates
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_service_description_by_content_negotiation(server):
    turtle, ctype = description(server.sparql)
    assert ctype.startswith("text/turtle")
    service = rdflib.URIRef(server.sparql)
    assert (service, rdflib.RDF.type, SD.Service) in turtle
    assert (service, SD.endpoint, service) in turtle
    assert set(turtle.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}  # read-only server
    assert {FORMATS.SPARQL_Results_JSON, FORMATS.SPARQL_Results_CSV, FORMATS.Turtle} <= set(
        turtle.objects(service, SD.resultFormat))
    assert (service, SD.feature, SD.UnionDefaultGraph) in turtle
    dataset = turtle.value(service, SD.defaultDataset)
    assert turtle.value(dataset, SD.defaultGraph) is not None
    jsonld, ctype = description(server.sparql, "application/ld+json")
    assert ctype == "application/ld+json" and isomorphic(turtle, jsonld)
    status, _, body = curl("-H", "Accept: text/csv", server.sparql)
    assert status == 406 and "text/turtle" in body
    # a query is still a query: the description only answers a GET without parameters
    status, _, body = curl(server.sparql + "?query=" + urllib.parse.quote("ASK {}"))
    assert status == 200 and json.loads(body)["boolean"] is True


def test_every_named_graph_with_its_void_statistics(server, default_store):
    sd, _ = description(server.sparql)
    dataset = sd.value(rdflib.URIRef(server.sparql), SD.defaultDataset)
    described = {sd.value(e, SD.name): sd.value(e, SD.graph) for e in sd.objects(dataset, SD.namedGraph)}
    graphs = [row["g"] for row in select(server.sparql, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")]
    assert sorted(str(g) for g in described) == sorted(graphs)
    assert len(list(sd.objects(dataset, SD.namedGraph))) == len(graphs)  # one sd:NamedGraph each
    for graph in graphs:
        stats = described[rdflib.URIRef(graph)]
        quads = quads_in(default_store, graph)
        assert sd.value(stats, VOID.triples).toPython() == len(quads), graph
        assert sd.value(stats, VOID.distinctSubjects).toPython() == len({q.subject for q in quads}), graph
        properties = {sd.value(p, VOID.property): sd.value(p, VOID.triples).toPython()
                      for p in sd.objects(stats, VOID.propertyPartition)}
        expected: dict[rdflib.URIRef, int] = {}
        for q in quads:
            expected[rdflib.URIRef(q.predicate.value)] = expected.get(rdflib.URIRef(q.predicate.value), 0) + 1
        assert properties == expected, graph
    # the briefing's statements are counted as kg:Assertion instances, one per statement node
    briefing = ns.iri("GRAPH:briefing-cpt-74360")
    classes = {sd.value(p, VOID["class"]): sd.value(p, VOID.entities).toPython()
               for p in sd.objects(described[rdflib.URIRef(briefing)], VOID.classPartition)}
    assertion = ox.NamedNode(ns.KG + "Assertion")
    rdf_type = ox.NamedNode(ns.RDF + "type")
    assert classes[rdflib.URIRef(ns.KG + "Assertion")] == len(
        list(default_store.ox.quads_for_pattern(None, rdf_type, assertion, ox.NamedNode(briefing))))


def test_named_queries_are_shacl_examples_that_run(server):
    listed = select(server.sparql, SIB_EXAMPLES)
    queries = kgraph.named_queries()
    assert sorted(row["sq"].rsplit("/", 1)[1] for row in listed) == sorted(queries)
    graphs = select(server.sparql, "PREFIX sh: <http://www.w3.org/ns/shacl#> "
                                   "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?sq a sh:SPARQLSelectExecutable } }")
    assert graphs == [{"g": QUERY_GRAPH}]  # a graph of their own
    for row in listed:
        name = row["sq"].rsplit("/", 1)[1]
        query = queries[name]
        assert row["comment"].startswith(query.description)
        assert all(f"?{p}" in row["comment"] for p in query.params)
        # the published text, run by a plain SPARQL client, answers as the named query with its example
        params = urllib.parse.urlencode(example_params(query))
        with urllib.request.urlopen(f"{server.url}queries/{name}?{params}", timeout=60) as response:
            expected = [{k: v["value"] for k, v in b.items()}
                        for b in json.loads(response.read())["results"]["bindings"]]
        assert select(server.sparql, row["query"]) == expected, name


def test_example_text_writes_parameters_only_where_they_are_variables():
    query = kgraph.sparql.NamedQuery(
        "t", '# about ?code\nSELECT ?code ?x WHERE { ?x kg:p ?code ; rdfs:label "?code" . '
             "FILTER(?x != <urn:x?code>) } ORDER BY ?code ?x", "a test", {"code": "code, a code"},
        "kgraph query --name t -p code=74360")
    text = example_text(query)
    body = text.split("\n", 3)[-1]
    assert "SELECT (CPT:74360 AS ?code) ?x WHERE { ?x kg:p CPT:74360 ;" in body
    assert '"?code"' in body and "<urn:x?code>" in body and "ORDER BY (CPT:74360) ?x" in body
    assert "# parameter ?code: code, a code (here 74360)" in text
    assert "PREFIX CPT: <https://w3id.org/kgraph/code/CPT/>" in text


def test_cors_only_when_asked(server, default_store, tmp_path):
    status, headers, _ = curl("-H", "Origin: http://tools.example", server.sparql + "?query=ASK%20%7B%7D")
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    status, headers, _ = curl("-X", "OPTIONS", "-H", "Origin: http://tools.example",
                              "-H", "Access-Control-Request-Method: POST", server.sparql)
    assert status == 200 and "POST" in headers["access-control-allow-methods"]
    plain = Server(default_store.path, tmp_path / "server.log", workers=1)
    try:
        status, headers, _ = curl("-H", "Origin: http://tools.example", plain.sparql + "?query=ASK%20%7B%7D")
        assert status == 200 and "access-control-allow-origin" not in headers
    finally:
        plain.stop()


def test_a_build_that_adds_a_briefing_updates_the_description(default_store, tmp_path, monkeypatch):
    copy = tmp_path / "kg.d" / default_store.build_dir.name
    shutil.copytree(default_store.build_dir, copy)
    (tmp_path / "kg").symlink_to(copy.relative_to(tmp_path))
    monkeypatch.chdir(ROOT)
    built = kgraph.build(DATA / "sources.toml", store=tmp_path / "kg", briefings=[str(SECOND)])
    assert any(s["reused"] for s in built.info["sources"])  # the code sets were not read again
    void = built.info["void"]
    second = ns.iri("GRAPH:" + next(s["id"] for s in built.info["sources"] if s["file"].endswith("cpt-43249.txt")))
    graphs = {g.value for g in built.ox.named_graphs()}
    assert second in graphs and set(void) == graphs
    for graph in graphs:  # every figure is the new build's, the reused graphs' and the recomputed ones'
        assert void[graph]["triples"] == len(quads_in(built, graph)), graph
    assert void == void_statistics(built.ox)  # the reused figures are those a count from scratch gives
    s = Server(tmp_path / "kg", tmp_path / "server.log", workers=1)
    try:
        sd, _ = description(s.sparql)
    finally:
        s.stop()
    names = {str(o) for o in sd.objects(None, SD.name)}
    assert second in names and names == graphs


def test_a_build_without_statistics_still_lists_its_graphs():
    # a store built before the statistics were computed: its graphs, without counts (rebuild to add them)
    triples = service_description("http://127.0.0.1:7878/sparql",
                                  {"id": "old", "sources": [{"id": "briefing-x", "file": "x.txt"}]})
    graph = rdflib.Graph()
    for t in triples:
        graph.parse(data=str(t) + " .", format="nt")
    assert {str(o) for o in graph.objects(None, SD.name)} == {ns.iri("GRAPH:briefing-x")}
    assert not list(graph.objects(None, VOID.triples))
