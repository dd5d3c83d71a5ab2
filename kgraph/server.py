"""The SPARQL 1.1 Protocol over a store, and the query page: ``serve(store)``.

Input: a built store (opened read-only by worker processes, ``kgraph.worker``) and HTTP requests.
Routes:

- ``/sparql``: GET ``?query=``, POST form (``query=`` / ``update=``), POST ``application/sparql-query``
  and ``application/sparql-update`` bodies; ``default-graph-uri`` / ``named-graph-uri`` choose the
  dataset, else the default graph is the union of the named graphs. Answers by content
  negotiation (``Accept``, or ``format=json|xml|csv|tsv|turtle|ntriples|jsonld|rdfxml``): SPARQL
  JSON (the default), XML, CSV, TSV for SELECT / ASK; Turtle (the default), N-Triples, JSON-LD,
  RDF/XML for CONSTRUCT / DESCRIBE; 406 when nothing the client accepts fits the answer.
- ``/queries``: the named queries (JSON); ``/queries/NAME?param=value``: one run, parameters bound
  as RDF terms (``kgraph.sparql.resolve``), never pasted into the text.
- ``/health``: JSON status after a round trip through a worker; ``/``: the offline query page
  (``kgraph/static``: no CDN, and a Content-Security-Policy that forbids loading anything else).

Statuses: 400 malformed query (the parser's message, with line and column) or bad parameter,
403 an update on a read-only server (or a cross-origin update), 404 unknown path or named query,
405 wrong method, 406 no acceptable format, 408 a body not received within ``body_timeout`` (the
connection is closed), 413 a body over ``max_body``, 415 unknown body type, 422 an answer over
``max_rows``, 503 a query stopped at the timeout (or every worker busy).
Error bodies are ``text/plain``. Runs on uvicorn: ``asgi_app`` adapts the framework-free ``App``
(whose calls block on a query worker, so they run in a thread pool). Does not build, validate or
push stores.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.errors import KGraphError, QueryError
from kgraph.sparql import _term, named_queries, resolve
from kgraph.worker import (
    NotAcceptable,
    Pool,
    QueryTimeout,
    ResultTooLarge,
    WorkerError,
)

STATIC = Path(__file__).resolve().parent / "static"
MAX_ROWS = 100_000
MAX_BODY = 1 << 20
#: seconds a client has to send its whole request body (a client that stalls would hold its connection forever)
BODY_TIMEOUT = 30.0
#: ``format=`` / ``output=`` values (as SPARQLWrapper, Fuseki and Virtuoso send them) -> media types
FORMATS = {
    "json": ["application/sparql-results+json", "application/ld+json"],
    "xml": ["application/sparql-results+xml", "application/rdf+xml"],
    "csv": ["text/csv"], "tsv": ["text/tab-separated-values"],
    "turtle": ["text/turtle"], "ttl": ["text/turtle"], "n3": ["text/turtle"],
    "ntriples": ["application/n-triples"], "nt": ["application/n-triples"],
    "jsonld": ["application/ld+json"], "json-ld": ["application/ld+json"],
    "rdfxml": ["application/rdf+xml"], "rdf": ["application/rdf+xml"],
}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_NAME = re.compile(r"[A-Za-z_][\w-]*")
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass
class Request:
    """An HTTP request as the app sees it: lower-case header names, URL parameters decoded."""

    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def all_headers(self) -> list[tuple[str, str]]:
        return [("content-type", self.content_type), ("content-length", str(len(self.body))),
                ("x-content-type-options", "nosniff"), *self.headers]


def text(status: int, message: str, **headers: str) -> Response:
    return Response(status, (message.rstrip("\n") + "\n").encode("utf-8"),
                    headers=[(k.replace("_", "-"), v) for k, v in headers.items()])


def as_json(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")


class BadRequest(KGraphError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_accept(header: str | None) -> list[str]:
    """Media ranges of an Accept header, best first (q=0 dropped; ties keep their order).

    >>> parse_accept("text/csv;q=0.5, application/sparql-results+json, */*;q=0.1")
    ['application/sparql-results+json', 'text/csv', '*/*']
    """
    if not header or not header.strip():
        return ["*/*"]
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        media, *options = [p.strip() for p in part.split(";")]
        q = 1.0
        for option in options:
            key, _, value = option.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranked.append((-q, i, media.lower()))
    return [m for _, _, m in sorted(ranked)]


class App:
    """The request handler, free of any server framework: ``handle(Request) -> Response``."""

    def __init__(self, pool: Pool, *, store_info: dict[str, Any] | None = None, allow_update: bool = False,
                 timeout: float = 30.0, max_rows: int | None = MAX_ROWS, max_body: int = MAX_BODY,
                 store_path: str | os.PathLike[str] | None = None) -> None:
        self.pool = pool
        self.store_path = Path(store_path) if store_path else None
        self.info = store_info or {}
        self.allow_update = allow_update
        self.timeout = timeout
        self.max_rows = max_rows
        self.max_body = max_body
        self.queries = named_queries()
        self.static = {p.name: p.read_bytes() for p in STATIC.iterdir() if p.suffix in _STATIC_TYPES}

    # --- routing ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except BadRequest as exc:
            return text(exc.status, str(exc))

    def _route(self, request: Request) -> Response:
        path = request.path
        if path == "/sparql":
            return self.sparql(request)
        if request.method not in ("GET", "HEAD"):
            return text(405, f"{request.method} is not allowed on {path}", allow="GET, HEAD")
        if path in ("/", "/index.html"):
            return self.page("index.html")
        if path.startswith("/static/"):
            return self.page(path.removeprefix("/static/"))
        if path == "/health":
            return self.health()
        if path == "/queries":
            return as_json({"prefixes": ns.PREFIXES, "queries": [
                {"name": q.name, "description": q.description, "params": q.params, "example": q.example,
                 "text": q.text} for q in self.queries.values()]})
        if path.startswith("/queries/"):
            return self.named(request, path.removeprefix("/queries/"))
        return text(404, f"{path}: not found; try /sparql, /queries or /")

    def page(self, name: str) -> Response:
        # only the files shipped in kgraph/static, by exact name: no path ever reaches the file system
        body = self.static.get(name)
        if body is None:
            return text(404, f"/static/{name}: not found")
        ctype = _STATIC_TYPES[Path(name).suffix]
        return Response(200, body, ctype, [("content-security-policy", CSP), ("referrer-policy", "no-referrer"),
                                           ("cache-control", "no-cache")])

    def health(self) -> Response:
        started = time.perf_counter()
        try:
            self.pool.execute("ASK {}", timeout=min(self.timeout, 10.0))
        except QueryError as exc:
            return as_json({"status": "unavailable", "message": str(exc)}, 503)
        status = {"status": "ok", "build": self.info.get("id"), "built_at": self.info.get("built_at"),
                  "quads": self.info.get("counts", {}).get("quads"), "workers": self.pool.size,
                  "workers_running": self.pool.running,
                  "read_only": not self.allow_update, "timeout_s": self.timeout, "max_rows": self.max_rows,
                  "round_trip_ms": round((time.perf_counter() - started) * 1000, 2)}
        if self.pool.last_error:
            status["worker_error"] = self.pool.last_error
        if self.store_path is not None:
            # a rebuild swaps the store's symlink; this server keeps the build it opened until restarted
            newest = self.store_path.resolve().name
            if newest != status["build"]:
                status.update(newest_build=newest, note="a newer build exists: restart kgraph serve to serve it")
        return as_json(status)

    # --- SPARQL 1.1 Protocol ------------------------------------------------------------------------

    def sparql(self, request: Request) -> Response:
        fields = list(request.params)
        if request.method == "POST":
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "application/x-www-form-urlencoded":
                fields += _form(request.body)
            elif ctype == "application/sparql-query":
                fields.append(("query", _utf8(request.body)))
            elif ctype == "application/sparql-update":
                fields.append(("update", _utf8(request.body)))
            else:
                return text(415, f"unsupported content type {ctype or '(none)'}; send application/sparql-query, "
                                 "application/sparql-update or an application/x-www-form-urlencoded form")
        elif request.method not in ("GET", "HEAD"):
            return text(405, f"{request.method} is not allowed on /sparql", allow="GET, POST")
        queries = [v for k, v in fields if k == "query"]
        updates = [v for k, v in fields if k == "update"]
        if updates:
            return self.update(request, queries, updates, fields)
        if len(queries) != 1:
            return text(400, "give exactly one 'query' parameter (GET ?query=..., a POST form, or a POST body "
                             f"of type application/sparql-query); got {len(queries)}")
        default = _iris(fields, "default-graph-uri")
        named = _iris(fields, "named-graph-uri")
        return self.run(queries[0], {}, self.accept(request, fields), default, named)

    def update(self, request: Request, queries: list[str], updates: list[str],
               fields: list[tuple[str, str]]) -> Response:
        if not self.allow_update:
            return text(403, "this endpoint is read-only: SPARQL updates are refused "
                             "(start the server with --allow-update to accept them)")
        if request.method != "POST":
            return text(400, "SPARQL updates must be sent with POST")
        if queries or len(updates) != 1:
            return text(400, "give exactly one 'update' parameter and no 'query'")
        origin = request.headers.get("origin")
        if origin and urllib.parse.urlsplit(origin).netloc != request.headers.get("host", ""):
            # a form posted from another site's page (CSRF): updates come from this server's origin only
            return text(403, f"updates from origin {origin} are refused")
        try:
            self.pool.execute(updates[0], timeout=self.timeout, update=True)
        except QueryTimeout as exc:
            return text(503, str(exc))
        except WorkerError as exc:
            return text(500, str(exc))
        except QueryError as exc:
            return text(400, str(exc))
        return Response(204)

    def accept(self, request: Request, fields: Iterable[tuple[str, str]]) -> list[str]:
        """The client's media ranges: ``format=`` / ``output=`` first, then the Accept header."""
        forced: list[str] = []
        for key, value in fields:
            if key in ("format", "output", "results") and value:
                value = value.strip().lower()
                if "/" in value:
                    forced.append(value)
                elif value in FORMATS:
                    forced += FORMATS[value]
                else:
                    raise BadRequest(400, f"{key}={value}: unknown format; use one of {', '.join(FORMATS)} "
                                          "or a media type")
        return forced or parse_accept(request.headers.get("accept"))

    def named(self, request: Request, name: str) -> Response:
        if not _NAME.fullmatch(name) or name not in self.queries:
            return text(404, f"{name!r}: no such named query; see /queries")
        params = {k: v for k, v in request.params if k not in ("format", "output", "results")}
        query = self.queries[name]
        try:
            if set(params) != set(query.params):
                resolve(name, params)  # raises the error that names the missing and unknown parameters
            # the same terms resolve() makes, from the queries read at start (not re-read per request)
            terms = {k: str(_term(v, query.params[k])) for k, v in params.items()}
        except KGraphError as exc:
            return text(400, str(exc))
        return self.run(query.text, terms, self.accept(request, request.params), [], [])

    def run(self, query: str, bindings: dict[str, str], accept: Sequence[str], default: Sequence[str],
            named: Sequence[str]) -> Response:
        try:
            answer = self.pool.execute(query, bindings, timeout=self.timeout, max_rows=self.max_rows,
                                       accept=accept, default_graph=default, named_graphs=named)
        except QueryTimeout as exc:
            print(f"kgraph serve: {exc}", file=sys.stderr)
            return text(503, f"query {exc}")
        except ResultTooLarge as exc:
            return text(422, str(exc))
        except NotAcceptable as exc:
            return text(406, str(exc))
        except WorkerError as exc:
            return text(500, str(exc))
        except QueryError as exc:
            return text(400, str(exc))
        ctype = answer.media_type
        if ctype.startswith("text/") or ctype in ("application/n-triples",):
            ctype += "; charset=utf-8"
        return Response(200, answer.body, ctype, [("vary", "Accept")])


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(400, f"the request body is not UTF-8: {exc}") from None


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        return urllib.parse.parse_qsl(_utf8(body), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(400, f"the form is not valid UTF-8 URL encoding: {exc}") from None


def _iris(fields: Iterable[tuple[str, str]], key: str) -> list[str]:
    iris = [v for k, v in fields if k == key]
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise BadRequest(400, f"{key}={iri!r}: not an IRI") from None
    return iris


def params_of(query_string: str) -> list[tuple[str, str]]:
    try:
        return urllib.parse.parse_qsl(query_string, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(400, f"the URL parameters are not valid UTF-8 URL encoding: {exc}") from None


# --- the ASGI adapter (kgraph serves it with uvicorn) ------------------------------------------------------


def asgi_app(app: App, *, threads: int = 32, access_log: bool = False,
             body_timeout: float = BODY_TIMEOUT) -> Callable[..., Any]:
    """An ASGI application around ``app``; requests run in a thread pool (they wait on a worker)."""
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kgraph-http")

    async def respond(send: Callable[..., Any], response: Response) -> None:
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.all_headers()]})
        await send({"type": "http.response.body", "body": response.body})

    async def application(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    executor.shutdown(wait=False, cancel_futures=True)
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            name, v = key.decode("latin-1").lower(), value.decode("latin-1")
            headers[name] = f"{headers[name]}, {v}" if name in headers else v
        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            await respond(send, text(400, "Content-Length is not a number"))
            return
        if declared > app.max_body:
            await respond(send, _too_large(app.max_body))
            return
        body = bytearray()
        more = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + body_timeout
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                await respond(send, text(408, f"the request body did not arrive within {body_timeout:g} s",
                                         connection="close"))
                return
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > app.max_body:
                await respond(send, _too_large(app.max_body))
                return
            more = message.get("more_body", False)
        started = time.perf_counter()
        try:
            params = params_of(scope.get("query_string", b"").decode("utf-8"))
        except UnicodeDecodeError:
            await respond(send, text(400, "the URL parameters are not UTF-8"))
            return
        except BadRequest as exc:
            await respond(send, text(exc.status, str(exc)))
            return
        request = Request(scope["method"], scope["path"], params, headers, bytes(body))
        response = await asyncio.get_running_loop().run_in_executor(executor, app.handle, request)
        if scope["method"] == "HEAD":
            response = Response(response.status, b"", response.content_type, response.headers)
        await respond(send, response)
        if access_log:
            client = (scope.get("client") or ("-",))[0]
            print(f"{client} {scope['method']} {scope['path']} {response.status} {len(response.body)} "
                  f"{(time.perf_counter() - started) * 1000:.1f}ms", file=sys.stderr, flush=True)

    return application


def _too_large(limit: int) -> Response:
    return text(413, f"the request body is larger than this server's limit of {limit:,} bytes")


# --- serve ----------------------------------------------------------------------------------------


def _loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def serve(store: str | os.PathLike[str] | None = None, host: str = "127.0.0.1", port: int = 7878, *,
          allow_update: bool = False, timeout: float = 30.0, max_rows: int | None = MAX_ROWS,
          max_body: int = MAX_BODY, workers: int | None = None, access_log: bool = False,
          body_timeout: float = BODY_TIMEOUT, ready: Callable[[str], None] | None = None) -> None:
    """Serve a store over HTTP until interrupted (Ctrl-C or SIGTERM).

    ``port=0`` picks a free port; the URL is printed to stderr (and given to ``ready``) once the
    query workers are up. Binds to 127.0.0.1 unless ``host`` says otherwise. ``workers`` query
    processes (default: two per core, at most 8) answer; HTTP requests wait for them in threads. A
    request body not received within ``body_timeout`` seconds is answered 408 and its connection closed.
    """
    import uvicorn

    from kgraph.store import open as open_store

    opened = open_store(store)  # a clear StoreError before anything starts
    pool = Pool(opened.path, workers=workers, writable=allow_update)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else Nagle adds 40 ms per answer)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        pool.close()
        sock.close()
        raise KGraphError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = sock.getsockname()[1]
    app = App(pool, store_info=opened.info, allow_update=allow_update, timeout=timeout, max_rows=max_rows,
              max_body=max_body, store_path=opened.path)
    config = uvicorn.Config(asgi_app(app, threads=max(16, 4 * pool.size), access_log=access_log,
                                     body_timeout=body_timeout),
                            log_level="warning", access_log=False, lifespan="on", server_header=False,
                            timeout_keep_alive=30)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/"
    mode = "read-write (updates allowed)" if allow_update else "read-only"
    print(f"kgraph serve: {opened.path} (build {opened.info.get('id', '?')}, {mode}, {pool.size} workers, "
          f"timeout {timeout:g} s) at {url}  SPARQL: {url}sparql", file=sys.stderr, flush=True)
    if not _loopback(host):
        print(f"kgraph serve: warning: listening on {host}, not only on this machine", file=sys.stderr, flush=True)
    if ready:
        ready(url)
    # uvicorn shuts down on SIGINT / SIGTERM, then re-raises the signal it caught: ours ends here cleanly
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        print("kgraph serve: stopped", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        pool.close()
        sock.close()


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
