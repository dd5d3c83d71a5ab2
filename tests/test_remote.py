"""Pushing to, and querying, real SPARQL servers: the Oxigraph server (PyPI package ``oxigraph``)
and Virtuoso Open Source 7 (Debian's package, ``bash scripts/virtuoso.sh install``; its Graph Store
Protocol writes need HTTP digest auth). Both are started here on free loopback ports and stopped
at the end; a missing server fails the test with the command that installs it.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

import kgraph
from kgraph import remote, tools
from kgraph.errors import QueryError
from kgraph.remote import RemoteError, bind
from kgraph.sparql import named_queries, resolve
from kgraph.store import Store
from kgraph.traverse import to_json

ROOT = Path(__file__).resolve().parent.parent
KG_GRAPHS = "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/kgraph/'))"
#: named queries Virtuoso 7.2.5 refuses (FILTER NOT EXISTS with GRAPH inside a UNION branch)
VIRTUOSO_FAILS = {"briefing_codes_failing": "Virtuoso 42000 Error SQ200: Stack Overflow in cost model"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    """``oxigraph serve`` on a fresh database: (query endpoint, the same with union-default-graph)."""
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(exe).exists():
        pytest.fail("the Oxigraph server is missing: pip install oxigraph")
    port = free_port()
    proc = subprocess.Popen([exe, "serve", "--location", str(tmp_path_factory.mktemp("oxigraph")), "--bind",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}/query"
    wait_for(endpoint + "?query=ASK%7B%7D", proc)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A Virtuoso instance in a temp dir (scripts/virtuoso.sh start / stop): its /sparql endpoint."""
    if tools.virtuoso() is None:
        pytest.fail("Virtuoso's virtuoso-t is not on PATH (nor named by $KGRAPH_VIRTUOSO): "
                    "run `bash scripts/virtuoso.sh install` as root (make test does)")
    where = tmp_path_factory.mktemp("virtuoso")
    script = ROOT / "scripts" / "virtuoso.sh"
    started = subprocess.run(["bash", str(script), "start", str(where)], capture_output=True, text=True, timeout=120,
                             check=False)
    assert started.returncode == 0, started.stderr
    yield (where / "endpoint").read_text().strip()
    subprocess.run(["bash", str(script), "stop", str(where)], capture_output=True, timeout=60, check=False)


def graph_counts(endpoint: str, auth=None) -> dict[str, int]:
    store = remote.RemoteStore(endpoint, auth=auth)
    q = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {KG_GRAPHS} }} GROUP BY ?g"
    return {r["g"].value: int(r["n"].value) for r in store.query(q)}


def local_counts(store: Store) -> dict[str, int]:
    q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    return {r["g"].value: int(r["n"].value) for r in store.ox.query(q)}


def _rows(table) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in table.rows)


def _params(name: str) -> dict[str, str]:
    return dict(re.findall(r"-p\s+(\w+)=(\S+)", named_queries()[name].example))


# --- Oxigraph server ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pushed_oxigraph(oxigraph_server, briefing_store, tmp_path_factory):
    state = tmp_path_factory.mktemp("push") / "state.json"
    messages: list[str] = []
    report = remote.push(briefing_store, oxigraph_server, chunk_triples=200, progress=messages.append,
                         state_file=state)
    return report, messages


def test_push_preserves_named_graphs(pushed_oxigraph, oxigraph_server, briefing_store):
    report, messages = pushed_oxigraph
    expected = local_counts(briefing_store)
    assert graph_counts(oxigraph_server) == expected
    assert (report.graphs, report.triples, report.sent) == (len(expected), sum(expected.values()),
                                                              sum(expected.values()))
    assert report.graph_store == oxigraph_server.removesuffix("/query") + "/store"
    assert report.chunks == sum(-(-n // 200) for n in expected.values())  # ceil: chunks of 200 lines
    assert messages[0].startswith(f"pushing {len(expected)} graphs of ")
    assert messages[-1].startswith(f"pushed {report.sent:,} triples in {report.chunks} chunks to ")


def test_named_queries_and_traversals_agree_with_the_local_store(pushed_oxigraph, oxigraph_server, briefing_store):
    rs = remote.open_remote(oxigraph_server + "?union-default-graph")
    for name in named_queries():
        params = _params(name)
        assert _rows(kgraph.query(rs, name, **params)) == _rows(kgraph.query(briefing_store, name, **params)), name
    local = to_json(kgraph.neighborhood(briefing_store, "CPT:74360"))
    assert to_json(kgraph.neighborhood(rs, "CPT:74360")) == local
    assert {"source": "ICD10CM:K22.2", "target": "CPT:74360", "relation": "kg:supports"}.items() <= {
        k: v for e in local["edges"] if e["source"] == "ICD10CM:K22.2" for k, v in e.items()}.items()
    assert kgraph.path(rs, "ICD10CM:K22.2", "MOD:26").graph["path"] == ["ICD10CM:K22.2", "CPT:74360", "MOD:26"]
    assert {s["file"] for s in rs.info["sources"]} == {s["file"] for s in briefing_store.info["sources"]}


def test_error_remote_malformed_query(pushed_oxigraph, oxigraph_server):
    rs = remote.open_remote(oxigraph_server + "?union-default-graph")
    with pytest.raises(QueryError) as caught:
        kgraph.query(rs, "SELECT ?x WHERE { ?x kg:supports }")
    assert str(caught.value).startswith(f"{oxigraph_server}?union-default-graph refused the query (HTTP 400): ")


def test_error_remote_default_graph_is_not_the_union(pushed_oxigraph, oxigraph_server):
    with pytest.raises(RemoteError) as caught:
        remote.open_remote(oxigraph_server)
    assert str(caught.value) == (
        f"{oxigraph_server}: the default graph does not include the named graphs, and kgraph's queries need the "
        "union: start Oxigraph with --union-default-graph (or add ?union-default-graph to the URL), set "
        "tdb2:unionDefaultGraph on Fuseki; Virtuoso, GraphDB and Neptune do this already")


def test_push_resumes_after_a_failure(oxigraph_server, briefing_store, tmp_path, monkeypatch):
    state = tmp_path / "state.json"
    gsp = oxigraph_server.removesuffix("/query") + "/store"
    calls = {"n": 0}
    real = requests.Session.request

    def flaky(self, method, url, *args, **kwargs):
        if method in ("PUT", "POST") and url.startswith(gsp):
            calls["n"] += 1
            if calls["n"] == 3:
                raise requests.ConnectionError("connection reset by a test")
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", flaky)
    with pytest.raises(RemoteError) as caught:
        remote.push(briefing_store, oxigraph_server, chunk_triples=100, state_file=state, retries=0)
    message = str(caught.value)
    assert message.startswith(f"POST {gsp}?graph=https%3A%2F%2Fw3id.org%2Fkgraph%2Fgraph%2F")
    assert message.endswith(": connection reset by a test; run the same push again to resume from this chunk")
    recorded = json.loads(state.read_text())[gsp]
    assert sum(recorded["done"].values()) == 2 and recorded["finished"] is None
    monkeypatch.setattr(requests.Session, "request", real)
    report = remote.push(briefing_store, oxigraph_server, chunk_triples=100, state_file=state)
    expected = local_counts(briefing_store)
    assert report.resumed and report.sent == sum(expected.values()) - 200 and report.triples == sum(expected.values())
    assert graph_counts(oxigraph_server) == expected
    again = remote.push(briefing_store, oxigraph_server, chunk_triples=100, state_file=state)
    assert not again.resumed and again.sent == sum(expected.values())  # a finished push starts over


def test_blank_nodes_cross_the_wire_as_skolem_iris(oxigraph_server, tmp_path):
    database = ox.Store()
    g = ox.NamedNode("https://w3id.org/kgraph/graph/blank-test")
    node = ox.BlankNode("b1")
    for p, o in [("https://w3id.org/kgraph/ontology#name", ox.Literal("one node")),
                 ("https://w3id.org/kgraph/ontology#code", ox.Literal("x"))]:
        database.add(ox.Quad(node, ox.NamedNode(p), o, g))
    store = Store(tmp_path / "kg", tmp_path, database, {"id": "blank-test"})
    report = remote.push(store, oxigraph_server, chunk_triples=1)  # the node's two triples in two requests
    assert report.chunks == 2
    rows = list(remote.RemoteStore(oxigraph_server).query(
        f"SELECT ?s WHERE {{ GRAPH <{g.value}> {{ ?s kg:name 'one node' ; kg:code 'x' }} }}"))
    assert len(rows) == 1
    assert isinstance(rows[0]["s"], ox.NamedNode)
    assert rows[0]["s"].value.startswith("https://w3id.org/kgraph/.well-known/genid/")
    assert json.loads((tmp_path / "kg.push.json").read_text())[report.graph_store]["finished"]


# --- Virtuoso -----------------------------------------------------------------------------------------------


def test_virtuoso_push_with_digest_auth_and_queries(virtuoso, briefing_store, tmp_path):
    report = remote.push(briefing_store, virtuoso, auth=("dba", "dba"), chunk_triples=250,
                         state_file=tmp_path / "state.json")
    assert report.graph_store == virtuoso + "-graph-crud-auth"
    expected = local_counts(briefing_store)
    assert graph_counts(virtuoso) == expected
    rs = remote.open_remote(virtuoso)  # Virtuoso's default graph is the union of all graphs
    for name in named_queries():
        params = _params(name)
        if name in VIRTUOSO_FAILS:  # a known limit of Virtuoso 7.2.5's SQL compiler, not of the protocol
            with pytest.raises(RemoteError, match=VIRTUOSO_FAILS[name]):
                kgraph.query(rs, name, **params)
            continue
        assert _rows(kgraph.query(rs, name, **params)) == _rows(kgraph.query(briefing_store, name, **params)), name
    assert to_json(kgraph.neighborhood(rs, "CPT:74360")) == to_json(kgraph.neighborhood(briefing_store, "CPT:74360"))


def test_error_virtuoso_push_without_credentials(virtuoso, briefing_store, tmp_path):
    with pytest.raises(RemoteError) as caught:
        remote.push(briefing_store, virtuoso, state_file=tmp_path / "state.json")
    message = str(caught.value)
    assert message.startswith(f"PUT {virtuoso}-graph-crud?graph=")
    assert "failed: HTTP 401" in message or "failed: HTTP 403" in message


# --- binding parameters by rewriting the query text -----------------------------------------------------------


def test_bind_replaces_variables_only_where_they_are_variables():
    code = {ox.Variable("code"): ox.NamedNode("https://w3id.org/kgraph/code/CPT/74360")}
    text = ('SELECT ?code (COUNT(?dx) AS ?n) WHERE {\n'
            '  # ?code in a comment stays\n'
            '  ?dx kg:supports ?code . FILTER(?label != "?code" && ?x != \'\'\'?code\'\'\')\n'
            '  { SELECT ?code WHERE { ?code kg:code ?c } }\n'
            '} GROUP BY ?code ORDER BY ?code')
    assert bind(text, code) == (
        'SELECT ?code (COUNT(?dx) AS ?n) WHERE { VALUES (?code) { (<https://w3id.org/kgraph/code/CPT/74360>) }\n'
        '  # ?code in a comment stays\n'
        '  ?dx kg:supports <https://w3id.org/kgraph/code/CPT/74360> . '
        'FILTER(?label != "?code" && ?x != \'\'\'?code\'\'\')\n'
        '  { SELECT ?code WHERE { <https://w3id.org/kgraph/code/CPT/74360> kg:code ?c } }\n'
        '} GROUP BY ?code ORDER BY ?code')
    literal = {ox.Variable("t"): ox.Literal('a "quoted"\nvalue } #')}
    assert bind("CONSTRUCT { ?s kg:t ?t } WHERE { ?s kg:t ?t }", literal) == (
        'CONSTRUCT { ?s kg:t ?t } WHERE { VALUES (?t) { ("a \\"quoted\\"\\nvalue } #") } '
        '?s kg:t "a \\"quoted\\"\\nvalue } #" }')
    assert bind("SELECT * WHERE { SELECT ?x WHERE { ?x ?p ?y } }", {ox.Variable("y"): ox.Literal("1")}) == (
        'SELECT * WHERE { VALUES (?y) { ("1") } { SELECT ?x WHERE { ?x ?p "1" } } }')


def test_bound_text_answers_as_pyoxigraph_substitutions_do(default_store):
    for name in ("diagnoses_supporting", "ncci_conflicts", "icd10cm_changes", "edits_effective_on", "modifiers_for"):
        text, bindings = resolve(name, _params(name))
        direct = default_store.query(text, substitutions=bindings)
        rewritten = default_store.query(bind(text, bindings))
        key = lambda s, vs: json.dumps([str(s[v]) for v in vs])  # noqa: E731
        assert sorted(key(s, direct.variables) for s in direct) == sorted(
            key(s, rewritten.variables) for s in rewritten), name


def test_error_graph_store_url_unknown():
    with pytest.raises(RemoteError) as caught:
        remote.guess_graph_store("http://example.org/endpoint")
    assert str(caught.value) == ("http://example.org/endpoint: cannot tell this server's Graph Store Protocol URL; "
                                 "give it (--graph-store URL)")
    assert remote.guess_graph_store("https://db.cluster-x.us-east-1.neptune.amazonaws.com:8182/sparql") == (
        "https://db.cluster-x.us-east-1.neptune.amazonaws.com:8182/sparql/gsp/")
    assert urllib.parse.urlsplit(remote.guess_graph_store("http://h:8890/sparql")).path == "/sparql-graph-crud"
