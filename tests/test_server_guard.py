"""kgraph serve against query shapes that crash or stall pyoxigraph, and against federation (issue 19).

A server in a subprocess (``tests.test_server.Server``) with the default limits and body size is sent
the shapes the issue reports, a fixed-seed corpus of 1,000 more (``tests.query_shapes``), and a
hundred of them among normal clients: every answer is 200 or 4xx, no query worker dies or is killed,
and normal clients see no failure. SERVICE and LOAD are refused (400) unless allowed; a worker that
dies anyway is counted in /health while the spare worker answers. Figures go to docs/robustness.md.
"""

from __future__ import annotations

import collections
import http.client
import http.server
import json
import shutil
import threading
import time
import urllib.parse

import pytest

from tests.figures import record
from tests.query_shapes import REPORTED, SHAPES, corpus
from tests.test_server import Server, curl
from tests.test_server_load import Client, address, children, expected_answers, healthy, one, run_clients

TIMEOUT = 10.0
SPARQL_QUERY = {"Content-Type": "application/sparql-query"}


class Code(str):
    """An option given to ``serve`` in the server's subprocess as Python code, not as a string."""

    def __repr__(self) -> str:
        return str(self)


def limits(**values: object) -> Code:
    return Code("__import__('kgraph.guard', fromlist=['Limits']).Limits(" +
                ", ".join(f"{k}={v!r}" for k, v in values.items()) + ")")


@pytest.fixture(scope="module")
def server(default_store, tmp_path_factory):
    s = Server(default_store.path, tmp_path_factory.mktemp("guard") / "server.log", timeout=TIMEOUT, workers=2)
    yield s
    s.stop()


def post(conn: http.client.HTTPConnection, text: str) -> tuple[int, bytes]:
    conn.request("POST", "/sparql", body=text.encode(), headers=SPARQL_QUERY)
    response = conn.getresponse()
    return response.status, response.read()


def test_error_reported_crash_shapes_are_answered_400_naming_the_limit(server):
    for name, n in REPORTED:
        status, body = one(server, "POST", "/sparql", SPARQL_QUERY, SHAPES[name](n).encode())
        text = body.decode()
        assert status == 400, (name, n, text[:200])
        assert text.startswith("query refused: its "), text
        assert any(f"({limit}; raise it with" in text for limit in ("max_depth", "max_operators", "max_triples"))
    health = healthy(server)
    assert (health["workers_died"], health["workers_killed"]) == (0, 0)


def test_error_service_is_refused(server):
    status, _, body = curl("--data-urlencode", "query=SELECT * WHERE { SERVICE <http://169.254.169.254/latest> "
                                               "{ ?s ?p ?o } }", server.sparql)
    assert (status, body) == (400, "query refused: SERVICE <http://169.254.169.254/latest> may not be called (no "
                                   "endpoint is allowed; --allow-service URL-PREFIX lists the endpoints a query may "
                                   "call)\n")


def test_health_shows_the_limits_and_the_workers(server):
    health = healthy(server)
    assert health["limits"] == {"max_length": 1_000_000, "max_depth": 128, "max_operators": 1_000, "max_triples": 64,
                                "allow_service": [], "allow_load": False}
    assert (health["workers"], health["workers_running"], health["workers_spare"]) == (2, 2, 1)


class Turtle(http.server.BaseHTTPRequestHandler):
    """Serves one Turtle document, for LOAD."""

    requests = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Turtle.requests += 1
        body = b'<urn:kgraph:loaded> <urn:kgraph:says> "loaded from the network" .\n'
        self.send_response(200)
        self.send_header("content-type", "text/turtle")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_error_load_is_refused_unless_allowed(briefing_store, tmp_path):
    copy = tmp_path / "kg.d" / briefing_store.build_dir.name
    shutil.copytree(briefing_store.build_dir, copy)
    (tmp_path / "kg").symlink_to(copy)
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Turtle)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{web.server_address[1]}/data.ttl"
    load = f"LOAD <{url}> INTO GRAPH <urn:kgraph:test>"
    try:
        s = Server(tmp_path / "kg", tmp_path / "updates.log", allow_update=True)
        try:
            status, _, body = curl("--data-urlencode", f"update={load}", s.sparql)
            assert (status, body) == (400, f"update refused: LOAD <{url}> fetches from outside the store; it is "
                                           "refused unless allowed (--allow-load)\n")
            assert Turtle.requests == 0
        finally:
            s.stop()
        s = Server(tmp_path / "kg", tmp_path / "load.log", allow_update=True, limits=limits(allow_load=True))
        try:
            status, _, _ = curl("--data-urlencode", f"update={load}", s.sparql)
            assert status == 204 and Turtle.requests == 1
            status, _, body = curl("--data-urlencode", "query=SELECT ?o WHERE { <urn:kgraph:loaded> ?p ?o }",
                                   s.sparql)
            assert json.loads(body)["results"]["bindings"] == [
                {"o": {"type": "literal", "value": "loaded from the network"}}]
        finally:
            s.stop()
    finally:
        web.shutdown()
        web.server_close()


def test_a_worker_that_dies_anyway_is_counted_and_the_spare_answers(default_store, tmp_path):
    # limits raised past the crash: the query reaches a worker and ends it with a stack overflow
    s = Server(default_store.path, tmp_path / "server.log", workers=1, limits=limits(max_depth=100_000))
    try:
        status, body = one(s, "POST", "/sparql", SPARQL_QUERY, SHAPES["groups"](5_000).encode())
        assert (status, body) == (500, b"the query worker died (exit code -11); the query was not answered\n")
        # the spare took the dead worker's place at once: the next query is answered, not queued behind a restart
        status, body = one(s, "GET", "/sparql?query=" + urllib.parse.quote("ASK { CPT:74360 kg:code '74360' }"))
        assert (status, json.loads(body)["boolean"]) == (200, True)
        health = healthy(s)
        assert (health["workers_died"], health["workers_killed"], health["workers"]) == (1, 0, 1)
    finally:
        s.stop()


def test_1000_shapes_are_answered_200_or_4xx_without_a_worker_dying(server):
    shapes = corpus()
    assert len(shapes) == 1_000
    workers_before = children(server.proc.pid)
    statuses: collections.Counter[int] = collections.Counter()
    refused: collections.Counter[str] = collections.Counter()
    wrong: list[str] = []
    seconds: list[float] = []
    conn = http.client.HTTPConnection(*address(server), timeout=TIMEOUT + 30)
    started = time.monotonic()
    try:
        for label, text in shapes:
            sent = time.monotonic()
            status, body = post(conn, text)
            seconds.append(time.monotonic() - sent)
            statuses[status] += 1
            answer = body.decode("utf-8", "replace")
            if status == 400 and answer.startswith("query refused: "):
                refused[answer.split("(")[-1].split(";")[0]] += 1
            elif status == 400 and answer.startswith("SPARQL syntax error"):
                refused["syntax error"] += 1
            if not (status == 200 or 400 <= status < 500):
                wrong.append(f"{label}: {status} {answer[:200]}")
    finally:
        conn.close()
    health = healthy(server)
    workers_after = children(server.proc.pid)
    record("query_corpus", shapes=len(shapes), seed=19, answered_200=statuses[200],
           answered_4xx=sum(n for s, n in statuses.items() if 400 <= s < 500),
           other_statuses=len(wrong), refused_by=dict(refused), workers_died=health["workers_died"],
           workers_killed=health["workers_killed"], seconds=round(time.monotonic() - started, 1),
           slowest_s=round(max(seconds), 2), median_ms=round(sorted(seconds)[len(seconds) // 2] * 1000, 1),
           timeout_s=TIMEOUT)
    assert wrong == []
    assert statuses[200] > 0 and refused["max_depth"] > 0 and refused["max_operators"] > 0
    assert refused["max_triples"] > 0
    assert (health["workers_died"], health["workers_killed"]) == (0, 0)
    assert workers_after == workers_before


def test_a_hundred_shapes_among_normal_clients(server):
    expected = expected_answers(server)
    reported = [(f"{n} x{k}", SHAPES[n](k)) for n, k in REPORTED]
    shapes = reported + corpus(seed=191, count=100 - len(reported))
    done = threading.Event()
    normal = [Client(server, expected) for _ in range(4)]
    answers: list[int] = []

    def work(n: int) -> None:
        if n < 2:  # two clients send fifty shapes each
            conn = http.client.HTTPConnection(*address(server), timeout=TIMEOUT + 30)
            try:
                for _, text in shapes[n::2]:
                    answers.append(post(conn, text)[0])
            finally:
                conn.close()
            if len(answers) == len(shapes):
                done.set()
        else:
            i = 0
            while not done.is_set() and i < 20_000:
                normal[n - 2].send(i)
                i += 1

    seconds = run_clients(2 + len(normal), work)
    for c in normal:
        c.close()
    errors = [e for c in normal for e in c.errors]
    latencies = [x for c in normal for x in c.latencies]
    health = healthy(server)
    record("query_corpus_mixed", shapes=len(shapes), shapes_200_or_4xx=sum(s == 200 or 400 <= s < 500 for s in answers),
           normal_answered=sum(c.answered for c in normal), normal_errors=len(errors),
           normal_max_ms=round(max(latencies) * 1000, 1) if latencies else None, seconds=round(seconds, 2),
           workers_died=health["workers_died"], workers_killed=health["workers_killed"])
    assert len(answers) == 100 and all(s == 200 or 400 <= s < 500 for s in answers)
    assert errors == [], errors[:5]
    assert sum(c.answered for c in normal) > 0
    assert (health["workers_died"], health["workers_killed"]) == (0, 0)
