"""Query shapes and federation checked before pyoxigraph parses a query (kgraph.guard), on the local paths.

What a user would check: a query that would end the process with a stack overflow is refused with a
message naming the limit instead (and does crash a subprocess once the limit is raised past it);
braces in strings, IRIs and comments are no structure, and a ``<`` is read where the grammar reads
it; every named and internal query passes; SERVICE and LOAD reach nothing unless allowed, and a
remote failure is summarised, not echoed. The thresholds behind the defaults are measured here in
subprocesses (``test_default_limits_keep_a_margin_below_the_measured_thresholds``, figures in
docs/robustness.md).
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

import kgraph
from kgraph import guard
from kgraph.guard import DEFAULT, Limits, QueryRefused, check, scan
from tests.figures import record
from tests.query_shapes import DECOYS, SHAPES

ROOT = Path(__file__).resolve().parent.parent
DEEP = SHAPES["groups"](5_000)  # ends the process with SIGSEGV when parsed (pyoxigraph 0.5)


# --- the scanner ----------------------------------------------------------------------------------------


def test_braces_in_strings_iris_and_comments_are_no_structure(briefing_store):
    for text in DECOYS:
        shape = check(text)
        assert shape.depth <= 2 and shape.operators <= 2, (text[:60], shape)
        assert kgraph.query(briefing_store, text).rows == []  # and pyoxigraph runs it: the store has no urn:p


N = 60
NESTED = "{" * N + " ?s ?p ?o " + "}" * N
PARENS = "(" * N + "1" + ")" * N
#: texts pyoxigraph parses where a scanner reading tokens without the grammar would miss structure:
#: a "<" that is an operator although "<...>" looks like an IRI, and an IRI holding "#" or "'" where
#: a comment or a string would hide what follows
CONTEXTS = {
    "less-than before parentheses in FILTER": f"SELECT * WHERE {{ ?s ?p ?a FILTER(?a<{PARENS}&&?b>0) }}",
    "less-than in FILTER fn(...)": f"SELECT * WHERE {{ ?s ?p ?a FILTER regex(?a<{PARENS}&&?b>0, 'x') }}",
    "less-than in BIND": f"SELECT * WHERE {{ ?s ?p ?a BIND(?a<{PARENS}&&?b>0 AS ?z) }}",
    "less-than in the projection": f"SELECT (?a<{PARENS}&&?b>0 AS ?z) WHERE {{ ?s ?p ?a }}",
    "less-than in ORDER BY": f"SELECT * WHERE {{ ?s ?p ?a }} ORDER BY (?a<{PARENS}&&?b>0)",
    "less-than in HAVING": f"SELECT ?a WHERE {{ ?s ?p ?a }} GROUP BY ?a HAVING (?a<{PARENS}&&?b>0)",
    "less-than in a sub-select's GROUP BY": f"SELECT * WHERE {{ {{ SELECT ?a WHERE {{ ?s ?p ?a }} GROUP BY ?a "
                                            f"(?a<{PARENS}&&?b>0) }} }}",
    "an IRI with # in a collection": f"SELECT * WHERE {{ ?s <urn:p> (<urn:a> <urn:b#x>) . {NESTED} }}",
    "an IRI with # in a path": f"SELECT * WHERE {{ ?s (<urn:a#b>|<urn:c>) ?o . {NESTED} }}",
    "an IRI with # in a VALUES row": f"SELECT * WHERE {{ VALUES (?a ?b) {{ (<urn:a> <urn:b#c>) }} {NESTED} }}",
    "an IRI with # in IN (...)": f"SELECT * WHERE {{ ?s ?p ?o FILTER(?o IN (<urn:a#b>, <urn:c>)) {NESTED} }}",
    "an IRI with # after less-than": f"SELECT * WHERE {{ ?s ?p ?a FILTER(?a < <urn:x#y>) {NESTED} }}",
    "an IRI with \\u escapes and #": f"SELECT * WHERE {{ ?s <urn:a\\u0041#x> ?o . {NESTED} }}",
    "a prefixed name with an escaped #": f"PREFIX ex: <urn:ex:> SELECT * WHERE {{ ?s ex:a\\#b ?o . {NESTED} }}",
    "an IRI with '": f"SELECT * WHERE {{ ?s <urn:it's> ?o . {NESTED} ?x <urn:p> 'x' }}",
    "quotes in a long string": f"SELECT * WHERE {{ ?s ?p '''a'b''c''' . {NESTED} }}",
    "an escaped quote": f"SELECT * WHERE {{ ?s ?p 'a\\'b' . {NESTED} }}",
}


@pytest.mark.parametrize("name", CONTEXTS)
def test_nesting_is_counted_where_sparql_reads_it(name):
    text = CONTEXTS[name]
    ox.Store().query(text)  # the text is SPARQL pyoxigraph parses (60 deep is far from any crash)
    assert scan(text).depth >= N, name


def test_operators_triples_and_length_are_counted():
    # the "*" of SELECT * is counted too (as any "*": the scanner does not tell a path's from a product's)
    assert scan(SHAPES["or_chain"](300)).operators == 1 + 300 + 299  # 300 "=" and 299 "||"
    assert scan(SHAPES["union_chain"](300)).operators == 1 + 299
    assert scan(SHAPES["not_chain"](300)).operators == 1 + 300
    assert scan(SHAPES["star_join"](70)).triples == 70
    assert scan(SHAPES["path_sequence"](70)).triples >= 70  # each step is one more joined pattern
    assert scan(SHAPES["values_block"](50_000)).triples == 1  # data, not patterns
    assert scan(SHAPES["in_list"](50_000)).operators == 1  # the "*" alone: the list is operands
    assert scan("SELECT * WHERE { ?s <urn:p> (1 2 3 4 5) }").triples >= 10  # rdf:first and rdf:rest each


def test_error_messages_name_the_limit_and_the_value():
    cases = {
        "max_depth": (SHAPES["groups"](500), "nesting depth (groups, parentheses and brackets open at once)"),
        "max_operators": (SHAPES["or_chain"](600), "operators"),
        "max_triples": (SHAPES["star_join"](100), "triple patterns (with path steps and collection members)"),
    }
    for name, (text, what) in cases.items():
        with pytest.raises(QueryRefused) as caught:
            check(text)
        option = "--" + name.replace("_", "-")
        assert caught.value.limit == name
        assert re.fullmatch(rf"query refused: its {re.escape(what)} (is|reaches) [\d,]+.*over the limit of "
                            rf"{getattr(DEFAULT, name):,} \({name}; raise it with {option}.*\)", str(caught.value))
    with pytest.raises(QueryRefused) as caught:
        check("ASK {}" + " " * 1_000_000)
    assert str(caught.value) == ("query refused: its characters is 1,000,006, over the limit of 1,000,000 "
                                 "(max_length; raise it with --max-length)")


def test_a_long_refused_query_is_read_only_up_to_the_limit():
    with pytest.raises(QueryRefused) as caught:
        check(SHAPES["groups"](200_000))  # 400 KB: refused at the 129th "{"
    assert str(caught.value).startswith("query refused: its nesting depth (groups, parentheses and brackets open at "
                                        "once) reaches 129 at line 1, column 272, over the limit of 128")


# --- every query kgraph itself runs passes ----------------------------------------------------------------


def test_every_named_query_passes_with_room():
    shapes = {name: check(q.text) for name, q in kgraph.named_queries().items()}
    widest = {k: max(getattr(s, k) for s in shapes.values()) for k in ("depth", "operators", "triples", "length")}
    record("query_limits", named_queries=len(shapes), named_max_depth=widest["depth"],
           named_max_operators=widest["operators"], named_max_triples=widest["triples"],
           named_max_length=widest["length"])
    assert widest["depth"] * 4 <= DEFAULT.max_depth and widest["operators"] * 4 <= DEFAULT.max_operators
    assert widest["triples"] * 2 <= DEFAULT.max_triples


@pytest.fixture()
def internal_queries(monkeypatch) -> Iterator[list[str]]:
    """Every SPARQL text kgraph runs on a store while the test runs (Store.query, and every internal
    query, the build's and the indexes' on a database being built included)."""
    import kgraph.internal_queries
    import kgraph.store

    seen: list[str] = []
    original = kgraph.store.Store.query

    def store_query(self, sparql, *args, **kwargs):
        seen.append(sparql)
        return original(self, sparql, *args, **kwargs)

    monkeypatch.setattr(kgraph.store.Store, "query", store_query)
    database_query = kgraph.internal_queries.prepare

    def prepared(*args, **kwargs):  # the internal queries run on a database being built
        seen.append(database_query(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(kgraph.internal_queries, "prepare", prepared)
    yield seen


def test_every_internal_query_file_passes():
    """Each kgraph/queries/internal/*.rq (its VALUES blocks empty, as written) parses and passes the
    default limits; run with its values it is also in test_every_internal_query_passes."""
    import pyoxigraph as ox

    from kgraph import internal_queries

    names = internal_queries.names()
    assert len(names) >= 20
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "kgraph").rglob("*.py"))
    unused = [n for n in names if f'"{n}"' not in code and f"'{n}'" not in code]
    assert unused == [], f"internal queries no module names: {unused}"
    for name in names:
        text = internal_queries.text(name)
        assert text.startswith("# "), f"{name}.rq: no comment header saying what it answers"
        check(text, prefixes=kgraph.namespaces.PREFIXES)
        ox.Store().query(text, prefixes=kgraph.namespaces.PREFIXES)  # parses (no answer wanted)


@pytest.mark.slow  # runs every kind of query kgraph makes (7 s)
def test_every_internal_query_passes(internal_queries, default_store, tmp_path):
    kgraph.build(ROOT / "tests" / "data" / "small.toml", store=tmp_path / "kg")
    for focus in ("CPT:74360", "ICD10CM:K21.0", "MOD:26", "NUCC:2085R0202X"):
        kgraph.neighborhood(default_store, focus, depth=2)
    kgraph.neighborhood(default_store, "CPT:77002", depth=1)  # a hub of NCCI edits: long VALUES blocks
    kgraph.neighborhood(default_store, "CPT:74360", depth=1, as_of="2024-08-01")
    kgraph.path(default_store, "ICD10CM:K22.2", "CPT:74360")
    claim = json.loads((ROOT / "tests" / "data" / "claims" / "interface-example.json").read_text())
    kgraph.check(default_store, claim)
    kgraph.validate(default_store)
    assert len(internal_queries) > 50
    for text in set(internal_queries):
        check(text, prefixes=kgraph.namespaces.PREFIXES)
    record("query_limits", internal_queries=len(internal_queries), internal_distinct=len(set(internal_queries)),
           internal_max_depth=max(scan(t).depth for t in internal_queries),
           internal_max_triples=max(scan(t).triples for t in internal_queries),
           internal_max_length=max(len(t) for t in internal_queries))


# --- the local paths --------------------------------------------------------------------------------------


def _python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def test_error_kgraph_query_refuses_what_would_end_the_process(default_store, tmp_path):
    deep = tmp_path / "deep.rq"
    deep.write_text(DEEP)
    code = f"""
        import kgraph
        store = kgraph.open({str(default_store.path)!r})
        store.limits = store.limits.replace(max_depth=MAX_DEPTH)
        try:
            kgraph.query(store, open({str(deep)!r}).read())
        except kgraph.QueryError as exc:
            print(exc)
        """
    refused = _python(code.replace("MAX_DEPTH", "None"))
    assert (refused.returncode, refused.stdout.split(" at line")[0]) == (
        0, "query refused: its nesting depth (groups, parentheses and brackets open at once) reaches 129")
    # the limit is what keeps the process alive: raised past the crash, the same query kills it
    crashed = _python(code.replace("MAX_DEPTH", "10_000"))
    assert crashed.returncode == -11, (crashed.returncode, crashed.stderr[-300:])
    cli = subprocess.run([sys.executable, "-m", "kgraph", "query", "--store", str(default_store.path), "--file",
                          str(deep)], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1 and cli.stdout == ""
    assert cli.stderr.startswith("error: query refused: its nesting depth")
    timed = subprocess.run([sys.executable, "-m", "kgraph", "query", "--store", str(default_store.path), "--file",
                            str(deep), "--timeout", "10"], capture_output=True, text=True, timeout=120)
    assert timed.returncode == 1 and timed.stderr.startswith("error: query refused: its nesting depth")


def test_users_may_raise_the_limits(default_store):
    text = SHAPES["groups"](200)
    with pytest.raises(QueryRefused):
        kgraph.query(default_store, text)
    store = kgraph.open(default_store.path)
    store.limits = store.limits.replace(max_depth=300)
    assert kgraph.query(store, text).rows == []
    assert list(store.rdflib().query(text)) == []
    cli = subprocess.run([sys.executable, "-m", "kgraph", "query", "--store", str(default_store.path),
                          "--max-depth", "300", "--format", "json", text], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and json.loads(cli.stdout)["results"]["bindings"] == []


def test_error_rdflib_queries_and_updates_are_guarded(default_store):
    dataset = default_store.rdflib()
    with pytest.raises(QueryRefused) as caught:
        dataset.query(DEEP)
    assert caught.value.limit == "max_depth"
    with pytest.raises(QueryRefused) as caught:
        dataset.query("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert caught.value.limit == "allow_service"
    with pytest.raises(QueryRefused) as caught:
        dataset.update("LOAD <http://127.0.0.1:9/data.ttl>")
    assert str(caught.value) == ("update refused: LOAD <http://127.0.0.1:9/data.ttl> fetches from outside the "
                                 "store; it is refused unless allowed (--allow-load)")


# --- SERVICE, LOAD and the network ----------------------------------------------------------------------------


class Remote:
    """A SPARQL endpoint on 127.0.0.1 that counts its requests: it answers one row, or fails with a secret."""

    def __init__(self, fail: bool = False) -> None:
        self.requests = 0
        remote = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.answer()

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.answer()

            def answer(self) -> None:
                remote.requests += 1
                if fail:
                    body = b"SECRET internal detail of the remote server"
                    self.send_response(500)
                    self.send_header("content-type", "text/plain")
                else:
                    body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
                        {"x": {"type": "literal", "value": "from the remote"}}]}}).encode()
                    self.send_response(200)
                    self.send_header("content-type", "application/sparql-results+json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def remote() -> Iterator[Remote]:
    r = Remote()
    yield r
    r.close()


def test_error_service_is_refused_unless_its_endpoint_is_allowed(default_store, remote):
    store = kgraph.open(default_store.path)
    query = f"SELECT ?x WHERE {{ SERVICE <{remote.url}sparql> {{ ?x ?p ?o }} }}"
    variants = [query, query.replace("SERVICE", "service SILENT"),
                f"PREFIX r: <{remote.url}> SELECT ?x WHERE {{ SERVICE r:sparql {{ ?x ?p ?o }} }}",
                "SELECT ?x WHERE { BIND(<" + remote.url + "sparql> AS ?e) SERVICE ?e { ?x ?p ?o } }",
                f"BASE <{remote.url}> SELECT ?x WHERE {{ SERVICE <sparql> {{ ?x ?p ?o }} }}"]
    for text in variants:
        with pytest.raises(QueryRefused) as caught:
            kgraph.query(store, text)
        assert caught.value.limit == "allow_service", text
    assert str(caught.value) == ("query refused: SERVICE a variable, relative or unknown-prefix endpoint may not be "
                                 "called (no endpoint is allowed; --allow-service URL-PREFIX lists the endpoints a "
                                 "query may call)")
    assert remote.requests == 0
    store.limits = store.limits.replace(allow_service=[remote.url])
    assert kgraph.query(store, query).column("x") == ["from the remote"]
    assert kgraph.query(store, variants[2]).column("x") == ["from the remote"]
    assert remote.requests == 2
    port = remote.url.rsplit(":", 1)[1]
    store.limits = store.limits.replace(allow_service=[f"http://127.0.0.1.evil.example:{port}"])
    with pytest.raises(QueryRefused):
        kgraph.query(store, query)
    assert remote.requests == 2


def test_error_a_failed_service_call_is_summarised_not_echoed(default_store):
    failing = Remote(fail=True)
    try:
        store = kgraph.open(default_store.path)
        store.limits = store.limits.replace(allow_service=[failing.url])
        with pytest.raises(kgraph.QueryError) as caught:
            kgraph.query(store, f"SELECT ?x WHERE {{ SERVICE <{failing.url}sparql> {{ ?x ?p ?o }} }}")
    finally:
        failing.close()
    assert str(caught.value) == (f"a SERVICE call failed: HTTP 500 from {failing.url}sparql (the remote answer is "
                                 "not shown)")
    assert "SECRET" not in str(caught.value)


def test_nothing_else_reaches_the_network(default_store, remote):
    # FROM and FROM NAMED name graphs of the store (the default graph stays the union): nothing is fetched
    for text in [f"SELECT * FROM <{remote.url}graph> WHERE {{ ?s ?p ?o }} LIMIT 1",
                 f"SELECT * FROM NAMED <{remote.url}graph> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT 1",
                 f"SELECT * WHERE {{ GRAPH <{remote.url}graph> {{ ?s ?p ?o }} }}",
                 f"DESCRIBE <{remote.url}thing>",
                 f"SELECT * WHERE {{ BIND(IRI('{remote.url}x') AS ?i) ?i ?p ?o }}"]:
        kgraph.query(default_store, text)
    time.sleep(0.2)
    assert remote.requests == 0


# --- the thresholds behind the defaults (subprocesses: a crash ends only the probe) --------------------------------

PROBE = """
import sys, time, pyoxigraph as ox
sys.path.insert(0, {root!r})
from tests.query_shapes import SHAPES
text = SHAPES[sys.argv[1]](int(sys.argv[2]))
started = time.perf_counter()
result = ox.Store().query(text)
print(round(time.perf_counter() - started, 4))
"""


def _probe(shape: str, n: int, timeout: float = 60) -> float | None:
    """Seconds pyoxigraph takes to parse and plan ``SHAPES[shape](n)``; ``None`` if the process crashed."""
    try:
        done = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT)), shape, str(n)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return float(timeout)
    if done.returncode < 0:
        return None
    assert done.returncode == 0, done.stderr[-500:]
    return float(done.stdout)


def _crash_size(shape: str, low: int, high: int) -> int:
    """The smallest size (within 5%) that crashes the parser, between ``low`` (parses) and ``high`` (crashes)."""
    assert _probe(shape, low) is not None and _probe(shape, high) is None, shape
    while high > low * 1.05:
        middle = (low + high) // 2
        if _probe(shape, middle) is None:
            high = middle
        else:
            low = middle
    return high


@pytest.mark.slow
def test_default_limits_keep_a_margin_below_the_measured_thresholds():
    crashes = {"groups": _crash_size("groups", 500, 20_000), "parens": _crash_size("parens", 500, 40_000),
               "or_chain": _crash_size("or_chain", 1_000, 20_000),
               "not_chain": _crash_size("not_chain", 1_000, 40_000),
               "union_chain": _crash_size("union_chain", 1_000, 20_000)}
    planning = {f"{shape} x{n}": _probe(shape, n) for shape, n in [
        ("star_join", 32), ("star_join", DEFAULT.max_triples), ("star_join", 2 * DEFAULT.max_triples),
        ("optional_chain", DEFAULT.max_triples), ("chain_join", 2 * DEFAULT.max_triples),
        ("or_chain", DEFAULT.max_operators // 2), ("union_chain", DEFAULT.max_operators),
        ("brackets", DEFAULT.max_triples)]}
    # the crash sizes as the scanner counts them: nesting depth, operators
    depth_crash = min(scan(SHAPES[s](crashes[s])).depth for s in ("groups", "parens"))
    operator_crash = min(scan(SHAPES[s](crashes[s])).operators for s in ("or_chain", "not_chain", "union_chain"))
    record("query_thresholds", crash_sizes=crashes, crash_depth=depth_crash, crash_operators=operator_crash,
           planning_seconds=planning, default_limits={k: getattr(DEFAULT, k) for k in guard.SHAPE_LIMITS},
           depth_margin=round(depth_crash / DEFAULT.max_depth, 1),
           operator_margin=round(operator_crash / DEFAULT.max_operators, 1))
    # the defaults stay several times below the crash on this machine's 8 MB stack
    assert depth_crash >= 8 * DEFAULT.max_depth
    assert operator_crash >= 4 * DEFAULT.max_operators


def test_limits_are_frozen_and_replace_checks_names():
    with pytest.raises(TypeError):
        DEFAULT.replace(max_deepness=3)
    assert DEFAULT.replace(allow_service=["http://a/"]).allow_service == ("http://a/",)
    assert Limits().max_depth == DEFAULT.max_depth
