"""Remote SPARQL 1.1 servers: ``push(store, endpoint)`` and ``open_remote(url)``.

``push`` uploads every graph of a store with the SPARQL 1.1 Graph Store Protocol: each named
graph to ``GSP?graph=IRI`` (its first chunk by PUT, which replaces the graph, the next ones by
POST, which adds), as N-Triples in chunks of ``chunk_triples`` lines, skolemizing blank nodes to
``https://w3id.org/kgraph/.well-known/genid/...`` IRIs (a blank node split across two requests
would become two nodes). After each chunk it records its progress in ``<store>.push.json``, so a
push that failed resumes at the first chunk not sent (re-sending a chunk is harmless: a graph is a
set of triples). Then it checks each graph's triple count on the server.

``open_remote`` gives a ``RemoteStore``: the two things ``kgraph.query``, ``neighborhood`` and
``path`` use of a store (``query(text, substitutions=...)`` and ``info``) done over the SPARQL 1.1
Protocol, answering with pyoxigraph's own result types. Parameters are bound by rewriting the
query text (``bind``): the term, written in N-Triples syntax by pyoxigraph, replaces the variable
inside the WHERE group, and a ``VALUES`` block at the head of that group keeps the variable bound
for the projection, ORDER BY and GROUP BY (SEP-0007 substitution, as pyoxigraph does locally).
kgraph's prefixes are declared in front of every query the server gets.

Raises ``RemoteError`` (a ``KGraphError``) for refused requests and unreachable servers, naming
the URL, the HTTP status and the server's message, and ``QueryError`` for queries the server
rejects as malformed (HTTP 400). Does not start servers, nor serve (``kgraph.server``).
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import requests

from kgraph import internal_queries as iq
from kgraph import namespaces as ns
from kgraph.binding import bind, tokens  # noqa: F401  (re-exported: bind was first written here)
from kgraph.errors import KGraphError, QueryError
from kgraph.store import Store
from kgraph.store import open as open_store

SKOLEM = "https://w3id.org/kgraph/.well-known/genid/"
RESULTS_ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
                  "application/n-triples;q=0.8, text/turtle;q=0.7")
_RESULT_FORMATS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                   "application/json": ox.QueryResultsFormat.JSON,
                   "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                   "application/xml": ox.QueryResultsFormat.XML,
                   "text/csv": ox.QueryResultsFormat.CSV,
                   "text/tab-separated-values": ox.QueryResultsFormat.TSV}
_RDF_FORMATS = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
                "text/turtle": ox.RdfFormat.TURTLE, "application/rdf+xml": ox.RdfFormat.RDF_XML,
                "application/ld+json": ox.RdfFormat.JSON_LD, "application/n-quads": ox.RdfFormat.N_QUADS,
                "application/trig": ox.RdfFormat.TRIG}
Auth = tuple[str, str] | requests.auth.AuthBase | None


class RemoteError(KGraphError):
    """A remote server that refused a request or could not be reached."""


def with_prefixes(text: str) -> str:
    """kgraph's prefixes declared in front of a query (the query's own declarations win)."""
    declared = {m.group(1) for m in re.finditer(r"(?im)^\s*PREFIX\s+([\w-]*):", text)}
    lines = [f"PREFIX {p}: <{iri}>" for p, iri in ns.PREFIXES.items() if p not in declared]
    return "\n".join([*lines, text])


# --- queries on a remote endpoint -------------------------------------------------------------------


class _Http:
    """A ``requests`` session that answers a server's 401 challenge (Basic or Digest) with ``auth``."""

    def __init__(self, auth: Auth) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "kgraph (SPARQL 1.1 client)"
        self.credentials = auth

    def send(self, method: str, url: str, *, timeout: float, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=timeout, **kwargs)
            if response.status_code == 401 and self.credentials is not None and self.session.auth is None:
                if isinstance(self.credentials, requests.auth.AuthBase):
                    self.session.auth = self.credentials
                else:
                    challenge = response.headers.get("WWW-Authenticate", "").lower()
                    scheme = requests.auth.HTTPDigestAuth if challenge.startswith("digest") \
                        else requests.auth.HTTPBasicAuth
                    self.session.auth = scheme(*self.credentials)
                response = self.session.request(method, url, timeout=timeout, **kwargs)
            return response
        except requests.RequestException as exc:
            raise RemoteError(f"{method} {_shown(url)}: {exc}") from None


def _shown(url: str, limit: int = 160) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"


def _message(response: requests.Response) -> str:
    body = response.text.strip().replace("\r", "")
    return body[:600] + ("…" if len(body) > 600 else "") if body else response.reason or ""


@dataclass
class RemoteStore:
    """A SPARQL 1.1 endpoint used where kgraph expects a ``Store`` (``query`` and ``info``)."""

    url: str
    auth: Auth = None
    timeout: float = 120.0

    def __post_init__(self) -> None:
        self.http = _Http(self.auth)
        self._info: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        return self.url

    def query(self, sparql: str, *, substitutions: dict[Any, Any] | None = None) -> Any:
        """Run SPARQL on the endpoint; pyoxigraph ``QuerySolutions`` / ``QueryBoolean`` / ``QueryTriples``."""
        text = with_prefixes(bind(sparql, substitutions))
        response = self.http.send("POST", self.url, timeout=self.timeout, data={"query": text},
                         headers={"Accept": RESULTS_ACCEPT})
        if response.status_code == 400:
            raise QueryError(f"{self.url} refused the query (HTTP 400): {_message(response)}")
        if response.status_code != 200:
            raise RemoteError(f"{self.url} answered HTTP {response.status_code}: {_message(response)}")
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media in _RESULT_FORMATS:
            try:
                return ox.parse_query_results(response.content, format=_RESULT_FORMATS[media])
            except SyntaxError as exc:
                raise RemoteError(f"{self.url}: unreadable {media} answer: {exc}") from None
        if media in _RDF_FORMATS:
            # pyoxigraph's QueryTriples come from a query: load the triples into a scratch store and ask it
            scratch = ox.Store()
            try:
                scratch.load(response.content, format=_RDF_FORMATS[media])
            except SyntaxError as exc:
                raise RemoteError(f"{self.url}: unreadable {media} answer: {exc}") from None
            return iq.solutions(scratch, "all_triples")
        raise RemoteError(f"{self.url} answered in an unexpected format {media or '(none)'}")

    @property
    def info(self) -> dict[str, Any]:
        """What the endpoint's ``kg:Source`` nodes say about the build (``sources``: id, file, release, ...)."""
        if self._info is None:
            sources = []
            for row in iq.solutions(self, "endpoint_sources"):
                source = {"id": row["s"].value.removeprefix(ns.PREFIXES["SOURCE"]), "file": row["file"].value}
                for key in ("release", "kind", "sha"):
                    if row[key] is not None:
                        source["sha256" if key == "sha" else key] = row[key].value
                sources.append(source)
            self._info = {"endpoint": self.url, "sources": sources}
        return self._info

    @property
    def counts(self) -> dict[str, Any]:
        return {}

    def check_union_default_graph(self) -> None:
        """Raise if the endpoint's default graph is empty while its named graphs hold kgraph data."""
        if iq.ask(self, "has_source"):
            return
        if iq.ask(self, "has_source_in_named_graph"):
            raise RemoteError(
                f"{self.url}: the default graph does not include the named graphs, and kgraph's queries need "
                "the union: start Oxigraph with --union-default-graph (or add ?union-default-graph to the URL), "
                "set tdb2:unionDefaultGraph on Fuseki; Virtuoso, GraphDB and Neptune do this already")
        raise RemoteError(f"{self.url}: no kgraph data on this endpoint (no kg:Source); run 'kgraph push' first")

    def __repr__(self) -> str:
        return f"<kgraph.RemoteStore {self.url}>"


def open_remote(url: str, *, auth: Auth = None, timeout: float = 120.0, check: bool = True) -> RemoteStore:
    """A remote SPARQL 1.1 endpoint that ``kgraph.query``, ``neighborhood`` and ``path`` accept as a store.

    With ``check`` (the default) it asks the endpoint once whether it holds kgraph data in a
    default graph that is the union of the named graphs, and says how to fix it if not.
    """
    remote = RemoteStore(url, auth=auth, timeout=timeout)
    if check:
        remote.check_union_default_graph()
    return remote


# --- push ---------------------------------------------------------------------------------------------


def guess_graph_store(endpoint: str, *, authenticated: bool = False) -> str:
    """The Graph Store Protocol URL of a query endpoint, for the servers whose layout is known.

    >>> guess_graph_store("http://127.0.0.1:7878/query")               # Oxigraph
    'http://127.0.0.1:7878/store'
    >>> guess_graph_store("http://localhost:3030/kg/sparql")           # Apache Jena Fuseki
    'http://localhost:3030/kg/data'
    >>> guess_graph_store("http://localhost:8890/sparql", authenticated=True)   # Virtuoso
    'http://localhost:8890/sparql-graph-crud-auth'
    >>> guess_graph_store("http://localhost:7200/repositories/kg")     # GraphDB, RDF4J
    'http://localhost:7200/repositories/kg/rdf-graphs/service'
    """
    parts = urllib.parse.urlsplit(endpoint)
    path = parts.path.rstrip("/")
    if parts.hostname and parts.hostname.endswith(".neptune.amazonaws.com") and path == "/sparql":
        new = "/sparql/gsp/"
    elif path == "/query":
        new = "/store"
    elif path == "/sparql":
        new = "/sparql-graph-crud-auth" if authenticated else "/sparql-graph-crud"
    elif re.fullmatch(r"/.+/(sparql|query)", path):
        new = path.rsplit("/", 1)[0] + "/data"
    elif re.fullmatch(r"(/.*)?/repositories/[^/]+", path):
        new = path + "/rdf-graphs/service"
    else:
        raise RemoteError(f"{endpoint}: cannot tell this server's Graph Store Protocol URL; give it "
                          "(--graph-store URL)")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, new, "", ""))


def _name(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> ox.NamedNode | ox.DefaultGraph:
    """A graph's name on the wire: a blank-node graph name becomes a skolem IRI too."""
    return ox.NamedNode(SKOLEM + graph.value) if isinstance(graph, ox.BlankNode) else graph


def _graph_url(gsp: str, graph: ox.NamedNode | ox.DefaultGraph) -> str:
    sep = "&" if "?" in gsp else "?"
    if isinstance(graph, ox.DefaultGraph):
        return f"{gsp}{sep}default"
    return f"{gsp}{sep}{urllib.parse.urlencode({'graph': graph.value})}"


class _Chunks:
    """A file-like sink for ``Store.dump``: cuts N-Triples into chunks of ``size`` whole lines and
    hands each to ``deliver(index, data, lines)``; the first ``skip`` chunks are counted, not sent."""

    def __init__(self, size: int, skip: int, deliver: Callable[[int, bytes, int], None]) -> None:
        self.size, self.skip, self.deliver = size, skip, deliver
        self.buffer: list[bytes] = []
        self.lines = 0
        self.index = 0
        self.total = 0

    def write(self, data: bytes) -> int:
        data = bytes(data)
        written = len(data)
        while data:
            need = self.size - self.lines
            count = data.count(b"\n")
            if count < need:
                self.buffer.append(data)
                self.lines += count
                break
            cut = -1
            for _ in range(need):
                cut = data.index(b"\n", cut + 1)
            self.buffer.append(data[: cut + 1])
            self.lines += need
            self._flush()
            data = data[cut + 1:]
        return written

    def flush(self) -> None:
        return None

    def finish(self) -> None:
        if self.buffer:
            tail = b"".join(self.buffer)
            if not tail.endswith(b"\n"):
                self.buffer.append(b"\n")
                self.lines += 1
            self._flush()

    def _flush(self) -> None:
        lines, data = self.lines, b"".join(self.buffer)
        self.buffer, self.lines = [], 0
        self.total += lines
        if self.index >= self.skip:
            self.deliver(self.index, _skolemize(data) if b"_:" in data else data, lines)
        self.index += 1


def _skolemize(data: bytes) -> bytes:
    """Blank nodes as skolem IRIs (RDF 1.1 section 3.5), so a node split across chunks stays one."""
    out = []
    for line in data.splitlines(keepends=True):
        if b"_:" not in line:
            out.append(line)
            continue
        (triple,) = list(ox.parse(line, format=ox.RdfFormat.N_TRIPLES))
        terms = [ox.NamedNode(SKOLEM + t.value) if isinstance(t, ox.BlankNode) else t
                 for t in (triple.subject, triple.predicate, triple.object)]
        out.append(f"{terms[0]} {terms[1]} {terms[2]} .\n".encode())
    return b"".join(out)


def _state_path(store: Store) -> Path:
    return Path(str(store.path) + ".push.json")


def _load_state(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class PushReport:
    """What a push did: graphs and triples sent (and skipped as already sent), time, throughput."""

    endpoint: str
    graph_store: str
    graphs: int
    triples: int
    sent: int
    chunks: int
    resumed: bool
    seconds: float

    @property
    def triples_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def push(store: Store | str | os.PathLike[str] | None, endpoint: str, *, graph_store_url: str | None = None,
         auth: Auth = None, chunk_triples: int = 50_000, progress: Callable[[str], None] | None = None,
         state_file: str | os.PathLike[str] | None = None, verify: bool = True, timeout: float = 300.0,
         retries: int = 2) -> PushReport:
    """Upload every graph of a store to a SPARQL 1.1 server with the Graph Store Protocol.

    ``endpoint`` is the server's query endpoint; ``graph_store_url`` its Graph Store Protocol URL
    when ``guess_graph_store(endpoint)`` cannot tell it. ``auth`` is ``(user, password)`` (Basic or
    Digest, as the server asks) or a ``requests`` auth object. A push that failed resumes where it
    stopped when run again on the same build (``<store>.push.json`` records the chunks sent).
    """
    opened = store if isinstance(store, Store) else open_store(store)
    if chunk_triples < 1:
        raise ValueError("chunk_triples must be at least 1")
    gsp = graph_store_url or guess_graph_store(endpoint, authenticated=auth is not None)
    say = progress or (lambda _message: None)
    http = _Http(auth)
    state_path = Path(state_file) if state_file else _state_path(opened)
    states = _load_state(state_path)
    build = opened.info.get("id") or opened.build_dir.name
    state = states.get(gsp, {})
    resumed = bool(state) and state.get("build") == build and state.get("chunk_triples") == chunk_triples \
        and not state.get("finished")
    if not resumed:
        state = {"build": build, "chunk_triples": chunk_triples, "endpoint": endpoint, "done": {}, "finished": None}
    states[gsp] = state
    graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = []
    graphs += sorted(opened.ox.named_graphs(), key=str)
    if any(True for _ in opened.ox.quads_for_pattern(None, None, None, ox.DefaultGraph())):
        graphs.insert(0, ox.DefaultGraph())
    started = time.perf_counter()
    sent = total = chunks = 0
    say(f"pushing {len(graphs)} graphs of {opened.path} (build {build}) to {gsp}"
        + (" (resuming)" if resumed else ""))
    for graph in graphs:
        wire = _name(graph)
        key = wire.value if isinstance(wire, ox.NamedNode) else "default"
        done = int(state["done"].get(key, 0))
        url = _graph_url(gsp, wire)
        name = key.removeprefix(ns.PREFIXES["GRAPH"])
        graph_sent = 0

        def deliver(index: int, data: bytes, lines: int, url: str = url, key: str = key, name: str = name,
                    done: int = done) -> None:
            nonlocal sent, chunks, graph_sent
            method = "PUT" if index == 0 else "POST"  # the first chunk replaces what the server held
            _upload(http, method, url, data, timeout=timeout, retries=retries,
                    hint=f"chunk {index + 1} of graph {key}")
            state["done"][key] = index + 1
            _save_state(state_path, states)
            sent += lines
            graph_sent += lines
            chunks += 1
            say(f"  {name}: {graph_sent + done * chunk_triples:,} triples sent")

        sink = _Chunks(chunk_triples, done, deliver)
        # pyoxigraph writes the graph into the sink as it reads it: no copy of a graph in memory or on disk
        opened.ox.dump(sink, format=ox.RdfFormat.N_TRIPLES, from_graph=graph)  # type: ignore[arg-type]
        sink.finish()
        if sink.total == 0 and done == 0:
            _upload(http, "PUT", url, b"", timeout=timeout, retries=retries, hint=f"empty graph {key}")
        total += sink.total
        if verify:
            _verify(http, endpoint, wire, sink.total, timeout)
    state["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _save_state(state_path, states)
    seconds = time.perf_counter() - started
    report = PushReport(endpoint, gsp, len(graphs), total, sent, chunks, resumed, seconds)
    say(f"pushed {sent:,} triples in {chunks} chunks to {gsp} in {seconds:.1f} s "
        f"({report.triples_per_second:,.0f} triples/s)")
    return report


def _upload(http: _Http, method: str, url: str, data: bytes, *, timeout: float, retries: int,
            hint: str) -> None:
    last = ""
    for attempt in range(retries + 1):
        try:
            response = http.send(method, url, timeout=timeout, data=data,
                             headers={"Content-Type": "application/n-triples"})
        except RemoteError as exc:
            last = str(exc)
        else:
            if response.status_code in (200, 201, 204):
                return
            last = f"HTTP {response.status_code}: {_message(response)}"
            if response.status_code < 500 and response.status_code != 429:
                break  # a refusal (auth, bad request) does not get better by trying again
        if attempt < retries:
            time.sleep(0.5 * 2 ** attempt)
    raise RemoteError(f"{method} {_shown(url)} ({hint}) failed: {last}; run the same push again to resume "
                      "from this chunk")


def _verify(http: _Http, endpoint: str, graph: ox.NamedNode | ox.DefaultGraph, expected: int,
            timeout: float) -> None:
    count = iq.prepare("triple_count", {}) if isinstance(graph, ox.DefaultGraph) else \
        iq.prepare("graph_triple_count", {"g": graph})
    response = http.send("POST", endpoint, timeout=timeout, data={"query": count},
                     headers={"Accept": "application/sparql-results+json, application/sparql-results+xml;q=0.9"})
    if response.status_code != 200:
        raise RemoteError(f"{endpoint}: counting the triples of {graph} failed: HTTP {response.status_code}: "
                          f"{_message(response)}")
    media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    answer = ox.parse_query_results(response.content, format=_RESULT_FORMATS.get(media, ox.QueryResultsFormat.JSON))
    rows = list(answer) if isinstance(answer, ox.QuerySolutions) else []
    found = int(rows[0]["n"].value) if rows and rows[0]["n"] is not None else 0
    if found != expected:
        raise RemoteError(f"{endpoint}: graph {graph} holds {found:,} triples after the push, expected {expected:,}")
