"""kgraph serve, driven by clients nobody here wrote: SPARQLWrapper, rdflib's SPARQLStore, curl, and
the query page in headless Chromium (Debian's, through Playwright; every request that leaves
127.0.0.1 is blocked and recorded). Each server runs in a subprocess on a free loopback port.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

import kgraph

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SUPPORTS = "SELECT ?dx WHERE { ?dx kg:supports CPT:74360 } ORDER BY ?dx"
FULL_SUPPORTS = ("PREFIX kg: <https://w3id.org/kgraph/ontology#> "
                 "SELECT ?dx WHERE { ?dx kg:supports <https://w3id.org/kgraph/code/CPT/74360> } ORDER BY ?dx")


class Server:
    """``kgraph.server.serve`` in a subprocess on a free port; stopped with SIGTERM."""

    def __init__(self, store: Path, log: Path, **options: object) -> None:
        args = ", ".join(f"{k}={v!r}" for k, v in options.items())
        code = f"from kgraph.server import serve; serve({str(store)!r}, port=0, {args})"
        self.log = log
        with log.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 60
        self.url = ""
        while not self.url:
            text = log.read_text()
            if " at http://127.0.0.1:" in text:
                self.url = text.split(" at ", 1)[1].split()[0]
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {text}")
            else:
                time.sleep(0.05)
        self.sparql = self.url + "sparql"
        # the address is logged as the socket opens; wait until the app answers before testing it
        import urllib.request

        while True:
            try:
                with urllib.request.urlopen(self.url + "health", timeout=5):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the server did not answer: {log.read_text()}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def server(default_store, tmp_path_factory):
    s = Server(default_store.path, tmp_path_factory.mktemp("serve") / "server.log", timeout=2.0, max_rows=5000,
               max_body=65536, workers=2)
    yield s
    s.stop()


def curl(*args: str) -> tuple[int, dict[str, str], str]:
    """curl's status, headers (lower-case names) and body for one request."""
    out = subprocess.run(["curl", "-s", "-i", "--max-time", "30", *args], capture_output=True, check=True)
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split()[1]), headers, body.decode("utf-8")


# --- SPARQLWrapper ---------------------------------------------------------------------------------------


def test_sparqlwrapper_select_in_every_results_format_by_get_and_post(server, default_store):
    from SPARQLWrapper import CSV, GET, JSON, POST, TSV, XML, SPARQLWrapper

    expected = kgraph.query(default_store, SUPPORTS).column("dx")
    iris = [kgraph.namespaces.iri(c) for c in expected]
    assert "ICD10CM:K22.2" in expected
    for method in (GET, POST):
        client = SPARQLWrapper(server.sparql)
        client.setMethod(method)
        client.setQuery(FULL_SUPPORTS)
        client.setReturnFormat(JSON)
        data = client.query().convert()
        assert [b["dx"]["value"] for b in data["results"]["bindings"]] == iris
        client.setReturnFormat(XML)
        xml = client.query().convert()  # an xml.dom.minidom document
        assert [u.firstChild.data for u in xml.getElementsByTagName("uri")] == iris
        client.setReturnFormat(CSV)
        rows = list(csv.reader(io.StringIO(client.query().convert().decode("utf-8"))))
        assert rows == [["dx"], *[[i] for i in iris]]
        client.setReturnFormat(TSV)
        tsv = client.query().convert().decode("utf-8").splitlines()
        assert tsv == ["?dx", *[f"<{i}>" for i in iris]]


def test_sparqlwrapper_ask_and_construct(server, default_store):
    from rdflib import Graph, URIRef
    from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(server.sparql)
    client.setQuery("ASK { ICD10CM:K22.2 kg:supports CPT:74360 }")  # kgraph prefixes are predeclared
    client.setReturnFormat(JSON)
    assert client.query().convert() == {"head": {}, "boolean": True}
    client.setQuery("CONSTRUCT { ?dx kg:supports CPT:74360 } WHERE { ?dx kg:supports CPT:74360 }")
    client.setReturnFormat(TURTLE)
    graph = Graph().parse(data=client.query().convert(), format="turtle")
    subjects = sorted(str(s) for s in graph.subjects())
    assert subjects == sorted(kgraph.namespaces.iri(c) for c in kgraph.query(default_store, SUPPORTS).column("dx"))
    assert URIRef("https://w3id.org/kgraph/code/ICD10CM/K22.2") in set(graph.subjects())


def test_error_sparqlwrapper_malformed_query(server):
    from SPARQLWrapper import SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    client = SPARQLWrapper(server.sparql)
    client.setQuery("SELECT ?dx WHERE { ?dx kg:supports }")
    with pytest.raises(QueryBadFormed) as caught:
        client.query()
    assert "SPARQL syntax error at line 1, column 36: " in str(caught.value)


def test_error_sparqlwrapper_update_on_a_read_only_server(server):
    import urllib.error

    from SPARQLWrapper import POST, SPARQLWrapper

    client = SPARQLWrapper(server.sparql)
    client.setMethod(POST)
    client.setQuery("INSERT DATA { <urn:a> <urn:b> <urn:c> }")  # SPARQLWrapper sends it as update=
    with pytest.raises(urllib.error.HTTPError) as caught:
        client.query()
    assert caught.value.code == 403
    assert caught.value.read().decode() == ("this endpoint is read-only: SPARQL updates are refused "
                                            "(start the server with --allow-update to accept them)\n")


# --- rdflib's SPARQLStore -----------------------------------------------------------------------------------


def test_rdflib_sparqlstore_reads_the_endpoint(server, default_store):
    from rdflib import Graph, Literal, URIRef
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = Graph(store=SPARQLStore(server.sparql, returnFormat="json"))
    rows = graph.query(FULL_SUPPORTS)
    assert [str(r.dx) for r in rows] == [kgraph.namespaces.iri(c)
                                         for c in kgraph.query(default_store, SUPPORTS).column("dx")]
    cpt = URIRef("https://w3id.org/kgraph/code/CPT/74360")
    code = URIRef("https://w3id.org/kgraph/ontology#code")
    # once per named graph that holds it: the default graph is the union, as kgraph.query sees it
    local = kgraph.query(default_store, "SELECT ?c WHERE { CPT:74360 kg:code ?c }").column("c")
    assert [str(o) for o in graph.objects(cpt, code)] == local and set(local) == {"74360"}
    assert (cpt, code, Literal("74360")) in graph


# --- curl ---------------------------------------------------------------------------------------------------


def test_curl_content_negotiation(server, default_store):
    get = f"{server.sparql}?query={urllib.parse.quote(SUPPORTS)}"
    status, headers, body = curl(get)
    assert (status, headers["content-type"]) == (200, "application/sparql-results+json")
    assert json.loads(body) == kgraph.query(default_store, SUPPORTS).json
    status, headers, body = curl("-H", "Accept: text/csv;q=0.5, application/sparql-results+xml", get)
    assert headers["content-type"] == "application/sparql-results+xml" and "<sparql" in body
    status, headers, body = curl("-H", "Accept: text/tab-separated-values", get)
    assert headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    construct = "CONSTRUCT { ?dx kg:supports CPT:74360 } WHERE { ?dx kg:supports CPT:74360 }"
    for accept, ctype, marker in [("*/*", "text/turtle", "@prefix"),
                                  ("application/n-triples", "application/n-triples", " .\n"),
                                  ("application/ld+json", "application/ld+json", '"@id"')]:
        status, headers, body = curl("-H", f"Accept: {accept}", "--data-urlencode", f"query={construct}",
                                     server.sparql)
        assert (status, headers["content-type"].split(";")[0]) == (200, ctype), accept
        assert marker in body and "ICD10CM" in body
    # direct POST body, and format= as SPARQLWrapper / Virtuoso send it
    status, headers, body = curl("-H", "Content-Type: application/sparql-query", "--data-binary", SUPPORTS,
                                 f"{server.sparql}?format=csv")
    assert (status, headers["content-type"]) == (200, "text/csv; charset=utf-8")
    assert body.splitlines()[0] == "dx" and "https://w3id.org/kgraph/code/ICD10CM/K22.2" in body


def test_curl_named_queries(server, default_store):
    status, headers, body = curl(f"{server.url}queries")
    listed = {q["name"]: q for q in json.loads(body)["queries"]}
    assert listed["diagnoses_supporting"]["params"] == {"code": "code, the procedure (CPT:74360 or a bare code)"}
    assert set(listed) == set(kgraph.named_queries())
    status, headers, body = curl("-H", "Accept: text/csv",
                                 f"{server.url}queries/ncci_conflicts?code=74360&date=2024-08-01")
    expected = kgraph.query(default_store, "ncci_conflicts", code="74360", date="2024-08-01")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert status == 200 and len(rows) == len(expected) > 0
    assert sorted(r["column2"] for r in rows) == sorted(kgraph.namespaces.iri(c) for c in expected.column("column2"))
    # a parameter is a term, never text pasted into the query
    status, _, body = curl(f"{server.url}queries/mue_limit?code=" + urllib.parse.quote("74360> } } #"))
    assert status == 400 and "74360> } } #" in body


def test_error_curl_bad_requests(server):
    status, _, body = curl("--data-urlencode", "query=SELECT ?x WHERE { ?x kg:supports }", server.sparql)
    assert (status, body.split(": ")[0]) == (400, "SPARQL syntax error at line 1, column 34")
    status, headers, body = curl("-H", "Accept: image/png", "--data-urlencode", "query=ASK {}", server.sparql)
    assert status == 406
    assert body == ("no acceptable format for the answer of this ASK query; this server offers "
                    "application/sparql-results+json, application/sparql-results+xml, text/csv, "
                    "text/tab-separated-values, application/json, application/xml\n")
    big = "ASK {} #" + "x" * 70_000
    status, _, body = curl("-H", "Content-Type: application/sparql-query", "--data-binary", big, server.sparql)
    assert (status, body) == (413, "the request body is larger than this server's limit of 65,536 bytes\n")
    status, _, body = curl("-H", "Content-Type: application/sparql-update", "--data-binary",
                           "DELETE WHERE { ?s ?p ?o }", server.sparql)
    assert status == 403
    status, _, body = curl("-H", "Content-Type: text/plain", "--data-binary", "ASK {}", server.sparql)
    assert status == 415
    status, _, body = curl("--data", "", server.sparql)
    assert (status, body) == (400, "give exactly one 'query' parameter (GET ?query=..., a POST form, or a POST "
                                   "body of type application/sparql-query); got 0\n")
    status, _, body = curl("-X", "DELETE", server.sparql)
    assert status == 405


def test_error_curl_path_traversal_in_named_queries(server):
    for path in ["queries/../../../etc/passwd", "queries/..%2F..%2Fkgraph%2Fqueries%2Fmue_limit",
                 "queries/%2e%2e/server.py", "queries/mue_limit.rq", "static/../server.py",
                 "static/%2e%2e%2Fserver.py"]:
        status, _, body = curl("--path-as-is", server.url + path)
        assert status == 404, path
        assert body.endswith(("no such named query; see /queries\n", ": not found\n")), path
        assert "root:" not in body and "import" not in body, path


def test_error_curl_slow_query_and_row_limit(server, default_store):
    status, _, body = curl("--data-urlencode", f"query={CARTESIAN}", server.sparql)
    assert (status, body) == (503, "query stopped after 2 s: the query did not finish in time; narrow it "
                                   "(bind a code, add LIMIT) or ask for a longer timeout\n")
    status, _, body = curl("--data-urlencode", "query=SELECT ?c WHERE { ?c a kg:ICD10CMCode }", server.sparql)
    assert (status, body) == (422, "the answer has more than 5,000 rows (the server's limit); add LIMIT, bind a "
                                   "code, or narrow the query\n")
    status, _, body = curl(f"{server.url}health")  # the killed worker was replaced
    health = json.loads(body)
    assert (status, health["status"], health["read_only"], health["workers"]) == (200, "ok", True, 2)
    assert health["build"] == default_store.build_dir.name


# --- the query page in Chromium -------------------------------------------------------------------------------


def wait_until(page, expression: str, timeout: float = 20.0):
    """Poll an expression through the DevTools protocol (the page's CSP forbids the eval that
    Playwright's wait_for_function uses)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {expression}")


# --- updates, when allowed -----------------------------------------------------------------------------------


def test_updates_when_allowed(briefing_store, tmp_path):
    copy = tmp_path / "kg.d" / briefing_store.build_dir.name
    shutil.copytree(briefing_store.build_dir, copy)
    (tmp_path / "kg").symlink_to(copy)
    s = Server(tmp_path / "kg", tmp_path / "server.log", allow_update=True)
    try:
        insert = "INSERT DATA { GRAPH <urn:kgraph:test> { CPT:74360 kg:note 'added by a test' } }"
        status, _, _ = curl("--data-urlencode", f"update={insert}", s.sparql)
        assert status == 204
        status, _, body = curl("--data-urlencode", "query=SELECT ?n WHERE { CPT:74360 kg:note ?n }", s.sparql)
        assert json.loads(body)["results"]["bindings"] == [{"n": {"type": "literal", "value": "added by a test"}}]
        status, _, body = curl("-H", "Origin: http://evil.example", "--data-urlencode", f"update={insert}", s.sparql)
        assert (status, body) == (403, "updates from origin http://evil.example are refused\n")
    finally:
        s.stop()
    assert kgraph.query(briefing_store, "SELECT ?n WHERE { CPT:74360 kg:note ?n }").rows == []
