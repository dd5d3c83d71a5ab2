"""Queries in killable worker processes: the timeout, the row limit, and answers equal kgraph.query's."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

import kgraph
from kgraph import worker
from kgraph.errors import QueryError, StoreError
from kgraph.sparql import named_queries, resolve

# every triple joined with every other one, twice: billions of rows, never finishes in seconds
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def pool(default_store):
    with worker.Pool(default_store.path, workers=2) as p:
        yield p


def _bound(name: str, **params: str) -> tuple[str, dict[str, str]]:
    text, bindings = resolve(name, params)
    return text, {k.value: str(v) for k, v in bindings.items()}


def test_named_queries_answer_as_kgraph_query_does(pool, default_store):
    for name, q in named_queries().items():
        if name in ("briefing_codes_failing", "hubs_by_degree"):
            continue  # seconds each on the default build; the others cover every query shape
        params = dict(re.findall(r"-p\s+(\w+)=(\S+)", q.example))
        text, terms = _bound(name, **params)
        answer = pool.execute(text, terms, timeout=60)
        expected = kgraph.query(default_store, name, **params).json
        got = json.loads(answer.body)
        key = lambda b: json.dumps(b, sort_keys=True)  # noqa: E731 - order is only fixed with ORDER BY
        assert sorted(map(key, got["results"]["bindings"])) == sorted(map(key, expected["results"]["bindings"])), name
        assert got["head"] == expected["head"], name


def test_run_returns_the_w3c_json_of_kgraph_query(default_store):
    text = "SELECT ?code ?dx ?role WHERE { ?a rdf:subject ?dx ; rdf:object ?code ; kg:role ?role } ORDER BY ?dx ?role"
    bindings = {"code": "<https://w3id.org/kgraph/code/CPT/74360>"}
    got = worker.run(default_store.path, text, bindings, timeout=30)
    expected = kgraph.query(default_store, text, code="CPT:74360").json
    assert got == expected
    assert {"code": {"type": "uri", "value": "https://w3id.org/kgraph/code/CPT/74360"},
            "dx": {"type": "uri", "value": "https://w3id.org/kgraph/code/ICD10CM/K22.2"},
            "role": {"type": "literal", "value": "indication"}} in got["results"]["bindings"]
    construct = "CONSTRUCT { ?dx kg:supports CPT:74360 } WHERE { ?dx kg:supports CPT:74360 }"
    assert worker.run(default_store.path, construct, timeout=30) == kgraph.query(default_store, construct).json


def test_a_cartesian_product_is_stopped_at_the_timeout(pool, default_store):
    pids = {p.proc.pid for p in pool._all}
    started = time.monotonic()
    with pytest.raises(worker.QueryTimeout) as caught:
        pool.execute(CARTESIAN, timeout=1.5)
    elapsed = time.monotonic() - started
    assert str(caught.value) == ("stopped after 1.5 s: the query did not finish in time; narrow it "
                                 "(bind a code, add LIMIT) or ask for a longer timeout")
    assert 1.5 <= elapsed < 3.0
    assert isinstance(caught.value, QueryError)
    # the worker that ran it is gone (killed, not left computing); a fresh one takes its place
    gone = [pid for pid in pids if not os.path.exists(f"/proc/{pid}") or _zombie(pid)]
    assert len(gone) == 1
    deadline = time.monotonic() + 20
    while len(pool._all) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(pool._all) == 2
    text, terms = _bound("mue_limit", code="74360")
    assert json.loads(pool.execute(text, terms, timeout=30).body) == kgraph.query(default_store, "mue_limit",
                                                                                    code="74360").json


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ")[1].startswith("Z")
    except OSError:
        return True


def test_error_row_limit(pool):
    with pytest.raises(worker.ResultTooLarge) as caught:
        pool.execute("SELECT ?c WHERE { ?c a kg:ICD10CMCode }", timeout=30, max_rows=100)
    assert str(caught.value) == ("the answer has more than 100 rows (the server's limit); add LIMIT, bind a code, "
                                 "or narrow the query")
    assert pool.execute("SELECT ?c WHERE { ?c a kg:ICD10CMCode } LIMIT 100", timeout=30, max_rows=100).rows == 100


def test_error_syntax(pool):
    with pytest.raises(QueryError) as caught:
        pool.execute("SELECT ?x WHERE { ?x kg:supports }", timeout=30)
    assert str(caught.value).startswith("SPARQL syntax error at line 1, column 34: ")


def test_error_parameter_not_a_term(pool):
    with pytest.raises(QueryError) as caught:
        pool.execute("SELECT ?x WHERE { ?x kg:supports ?code }", {"code": "CPT:74360"}, timeout=30)
    assert str(caught.value) == "parameter code: 'CPT:74360' is not an RDF term in N-Triples syntax"


def test_error_no_acceptable_format(pool):
    with pytest.raises(worker.NotAcceptable) as caught:
        pool.execute("ASK { ?s ?p ?o }", timeout=30, accept=["text/turtle"])
    assert str(caught.value) == (
        "no acceptable format for the answer of this ASK query; this server offers application/sparql-results+json, "
        "application/sparql-results+xml, text/csv, text/tab-separated-values, application/json, application/xml")


def test_formats_are_chosen_from_the_accept_list(pool):
    select = "SELECT ?code WHERE { VALUES ?code { 'a,b' 'c\"d' } }"
    csv = pool.execute(select, timeout=30, accept=["image/png", "text/csv"])
    assert (csv.media_type, csv.body) == ("text/csv", b'code\r\n"a,b"\r\n"c""d"\r\n')
    construct = "CONSTRUCT { CPT:74360 kg:code ?c } WHERE { CPT:74360 kg:code ?c }"
    nt = pool.execute(construct, timeout=30, accept=["application/sparql-results+json", "text/*"])
    assert pool.execute(select, timeout=30, accept=["*/*"]).media_type == "application/sparql-results+json"
    assert nt.media_type == "text/turtle" and nt.form == "graph"
    assert pool.execute(construct, timeout=30, accept=["application/n-triples"]).body == (
        b'<https://w3id.org/kgraph/code/CPT/74360> <https://w3id.org/kgraph/ontology#code> "74360" .\n')


def test_error_store_missing(tmp_path):
    with pytest.raises(StoreError) as caught:
        worker.Pool(tmp_path / "nothing")
    assert str(caught.value) == f"{tmp_path / 'nothing'}: no store here; run 'kgraph build' first"


def test_a_worker_that_dies_is_reported_and_replaced(default_store):
    with worker.Pool(default_store.path, workers=1) as p:
        (proc,) = p._all
        proc.proc.kill()
        with pytest.raises(worker.WorkerError) as caught:
            p.execute("ASK {}", timeout=10)
        assert str(caught.value) == "the query worker died (exit code -9); the query was not answered"
        deadline = time.monotonic() + 20
        while not p._all and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(p.execute("ASK { CPT:74360 kg:code '74360' }", timeout=10).body)["boolean"] is True


def test_a_worker_that_cannot_restart_is_counted_and_explained(default_store, tmp_path):
    # the store a worker must reopen has gone (a build removed by hand): the pool keeps serving with
    # the workers it has, and says how many run and why the other could not start
    with worker.Pool(default_store.path, workers=2) as p:
        p.database = tmp_path / "gone" / "oxigraph"
        victim = next(iter(p._all))
        victim.proc.kill()
        with pytest.raises(worker.WorkerError):
            while True:  # the idle queue hands out the dead worker at some point
                p.execute("ASK {}", timeout=10)
        deadline = time.monotonic() + 20
        while p.last_error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert p.running == 1 and p.size == 2
        assert "could not restart" in p.last_error and "gone" in p.last_error
        assert json.loads(p.execute("ASK { CPT:74360 kg:code '74360' }", timeout=10).body)["boolean"] is True
