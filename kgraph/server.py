"""The SPARQL 1.1 Protocol over a store, and the query page: ``serve(store)`` and ``create_app(pool)``.

Input: a built store (opened read-only by worker processes, ``kgraph.worker``) and HTTP requests.
A Starlette app under uvicorn. Routes (all in ``routes``; sub-apps such as ``/fhir``, the FHIR
terminology service of ``kgraph.fhir.routes``, are mounted through ``mounts`` and get the same limits):

- ``/sparql``: GET ``?query=``, POST form (``query=`` / ``update=``), POST ``application/sparql-query``
  and ``application/sparql-update`` bodies; ``default-graph-uri`` / ``named-graph-uri`` choose the
  dataset, else the default graph is the union of the named graphs. Answers by content
  negotiation (``Accept``, or ``format=json|xml|csv|tsv|turtle|ntriples|jsonld|rdfxml``): SPARQL
  JSON (the default), XML, CSV, TSV for SELECT / ASK; Turtle (the default), N-Triples, JSON-LD,
  RDF/XML for CONSTRUCT / DESCRIBE; 406 when nothing the client accepts fits the answer. A GET
  without parameters answers the SPARQL 1.1 Service Description (``kgraph.description``: Turtle,
  JSON-LD, N-Triples or RDF/XML), with the VoID statistics of each named graph from the build.
- ``/queries``: the named queries (JSON); ``/queries/NAME?param=value``: one run, parameters bound
  as RDF terms (``kgraph.sparql.resolve``), never pasted into the text.
- ``/health``: JSON status after a round trip through a worker; ``/`` and ``/static/``: the offline
  query page, YASGUI (``kgraph/static``, the vendored build in ``kgraph/static/yasgui``: no CDN, and a
  Content-Security-Policy that forbids loading anything else). ``Settings.cors`` adds CORS headers.

Statuses: 400 malformed query (the parser's message, with line and column) or bad parameter,
403 an update on a read-only server (or a cross-origin update), 404 unknown path or named query,
405 wrong method, 406 no acceptable format, 408 a body not received within ``body_timeout`` (the
connection is closed), 413 a body over ``max_body``, 415 unknown body type, 422 an answer over
``max_rows``, 500 a query worker that failed, 503 a query stopped at the timeout (or every worker
busy). Error bodies are ``text/plain``. The limits on the request (408, 413, read-only) are ASGI
middleware (``kgraph.middleware``); those on the answer (406, 422, 503) are the app's exception
handlers: both hold for every route. Queries wait on a worker in a thread pool. Does not build,
validate or push stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import os
import re
import signal
import socket
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

from kgraph import namespaces as ns
from kgraph.description import example_text, serialize, service_description
from kgraph.errors import KGraphError, QueryError
from kgraph.guard import Limits
from kgraph.middleware import (
    FORM,
    SPARQL_QUERY,
    SPARQL_UPDATE,
    AccessLog,
    BodyLimit,
    ReadOnly,
    SecurityHeaders,
    media_type,
    text,
)
from kgraph.sparql import _term, named_queries, resolve
from kgraph.worker import NotAcceptable, Pool, QueryTimeout, ResultTooLarge, WorkerError

STATIC = Path(str(resources.files("kgraph") / "static"))
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
# style attributes: YASGUI (CodeMirror, DataTables) sizes its panes with them; scripts stay 'self' only
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
       "img-src 'self' data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
#: headers of the query page's files
PAGE_HEADERS = {"content-security-policy": CSP, "referrer-policy": "no-referrer", "cache-control": "no-cache"}
_NAME = re.compile(r"[A-Za-z_][\w-]*")
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
_FORMAT_KEYS = ("format", "output", "results")


@dataclass(frozen=True)
class Settings:
    """What a server allows: updates, the query timeout (s), rows per answer, body bytes and seconds."""

    allow_update: bool = False
    timeout: float = 30.0
    max_rows: int | None = MAX_ROWS
    max_body: int = MAX_BODY
    body_timeout: float = BODY_TIMEOUT
    #: threads that wait on the query workers (more requests wait for a thread)
    threads: int = 32
    access_log: bool = False
    #: answer browsers of any origin (CORS); updates from another origin stay refused
    cors: bool = False


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


def as_json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False).encode("utf-8"), status, media_type="application/json")


class Endpoints:
    """The request handlers, over one pool of query workers; each is ``async (Request) -> Response``."""

    def __init__(self, pool: Pool, settings: Settings, *, store_info: dict[str, Any] | None = None,
                 store_path: str | os.PathLike[str] | None = None) -> None:
        self.pool = pool
        self.settings = settings
        self.info = store_info or {}
        self.store_path = Path(store_path) if store_path else None
        self.queries = named_queries()
        #: each named query as text an editor runs (its example's parameters written in)
        self.examples = {name: example_text(q) for name, q in self.queries.items()}
        self.index_html = (STATIC / "index.html").read_bytes()
        #: the threads that wait on the query workers (more requests wait for a thread)
        self.threads = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="kgraph-http")

    async def execute(self, text: str, bindings: dict[str, str] | None = None, **options: Any) -> Any:
        """``Pool.execute`` in a thread, with this server's timeout and row limit (raises its errors)."""
        options.setdefault("timeout", self.settings.timeout)
        options.setdefault("max_rows", self.settings.max_rows)
        call = functools.partial(self.pool.execute, text, bindings, **options)
        # a plain executor: anyio's to_thread (Starlette's run_in_threadpool) cost ~25 us more per request
        return await asyncio.get_running_loop().run_in_executor(self.threads, call)

    # --- pages and status -----------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        return Response(self.index_html, media_type=_STATIC_TYPES[".html"], headers=PAGE_HEADERS)

    async def list_queries(self, request: Request) -> Response:
        return as_json({"prefixes": ns.PREFIXES, "queries": [
            {"name": q.name, "description": q.description, "params": q.params, "example": q.example,
             "text": q.text, "example_text": self.examples[q.name]} for q in self.queries.values()]})

    async def health(self, request: Request) -> Response:
        started = time.perf_counter()
        settings = self.settings
        try:
            await self.execute("ASK {}", timeout=min(settings.timeout, 10.0), max_rows=None)
        except QueryError as exc:
            return as_json({"status": "unavailable", "message": str(exc)}, 503)
        pool = self.pool
        status = {"status": "ok", "build": self.info.get("id"), "built_at": self.info.get("built_at"),
                  "quads": self.info.get("counts", {}).get("quads"), "workers": pool.size,
                  "workers_running": pool.running, "workers_spare": pool.spares,
                  "workers_killed": pool.killed, "workers_died": pool.died,
                  "read_only": not settings.allow_update, "timeout_s": settings.timeout,
                  "max_rows": settings.max_rows, "limits": dataclasses.asdict(pool.limits),
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

    async def sparql(self, request: Request) -> Response:
        fields = url_params(request)
        if request.method == "POST":
            ctype = media_type(request.headers)
            body = await request.body()
            if ctype == FORM:
                fields += form_fields(body)
            elif ctype == SPARQL_QUERY:
                fields.append(("query", _utf8(body)))
            elif ctype == SPARQL_UPDATE:
                fields.append(("update", _utf8(body)))
            else:
                raise HTTPException(415, f"unsupported content type {ctype or '(none)'}; send "
                                         "application/sparql-query, application/sparql-update or an "
                                         "application/x-www-form-urlencoded form")
        if request.method == "GET" and not fields:
            return self.description(request)
        queries = [v for k, v in fields if k == "query"]
        updates = [v for k, v in fields if k == "update"]
        if updates:  # read-only servers and cross-origin updates were refused by ReadOnly
            if request.method != "POST":
                raise HTTPException(400, "SPARQL updates must be sent with POST")
            if queries or len(updates) != 1:
                raise HTTPException(400, "give exactly one 'update' parameter and no 'query'")
            await self.execute(updates[0], update=True, max_rows=None)
            return Response(status_code=204)
        if len(queries) != 1:
            raise HTTPException(400, "give exactly one 'query' parameter (GET ?query=..., a POST form, or a POST "
                                     f"body of type application/sparql-query); got {len(queries)}")
        default = _iris(fields, "default-graph-uri")
        named = _iris(fields, "named-graph-uri")
        return await self.answer(queries[0], {}, accept(request, fields), default, named)

    def description(self, request: Request) -> Response:
        """The SPARQL 1.1 Service Description (``kgraph.description``): Turtle, or what the client accepts."""
        endpoint = str(request.url.replace(query="", fragment=""))
        triples = service_description(endpoint, self.info, allow_update=self.settings.allow_update)
        body, ctype = serialize(triples, parse_accept(request.headers.get("accept")))
        return Response(body, headers={"vary": "Accept"}, media_type=ctype)

    async def named(self, request: Request) -> Response:
        name = request.path_params["name"]
        if not _NAME.fullmatch(name) or name not in self.queries:
            raise HTTPException(404, f"{name!r}: no such named query; see /queries")
        fields = url_params(request)
        params = {k: v for k, v in fields if k not in _FORMAT_KEYS}
        query = self.queries[name]
        if set(params) != set(query.params):
            resolve(name, params)  # raises the error that names the missing and unknown parameters
        # the same terms resolve() makes, from the queries read at start (not re-read per request)
        terms = {k: str(_term(v, query.params[k])) for k, v in params.items()}
        return await self.answer(query.text, terms, accept(request, fields), [], [])

    async def answer(self, query: str, bindings: dict[str, str], accepted: Sequence[str], default: Sequence[str],
                     named: Sequence[str]) -> Response:
        """A query's answer, serialized by a worker in the best format the client accepts."""
        answer = await self.execute(query, bindings, accept=accepted, default_graph=default, named_graphs=named)
        ctype = answer.media_type
        if ctype.startswith("text/") or ctype in ("application/n-triples",):
            ctype += "; charset=utf-8"
        return Response(answer.body, 200, headers={"vary": "Accept"}, media_type=ctype)


class QueryPage(StaticFiles):
    """The query page's files (``kgraph/static``) with its Content-Security-Policy; 404 names the path."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            return text(404, f"{scope['path']}: not found")

    def file_response(self, full_path: Any, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        ctype = _STATIC_TYPES.get(Path(str(full_path)).suffix)
        if ctype:
            response.headers["content-type"] = ctype
        response.headers.update(PAGE_HEADERS)
        return response


def routes(api: Endpoints, mounts: Mapping[str, ASGIApp] | None = None) -> list[BaseRoute]:
    """Every route of the server, in one place; ``mounts`` adds sub-apps under a path prefix."""
    return [
        Route("/sparql", api.sparql, methods=["GET", "POST"]),
        Route("/queries", api.list_queries, methods=["GET"]),
        Route("/queries/{name:path}", api.named, methods=["GET"]),
        Route("/health", api.health, methods=["GET"]),
        Route("/", api.index, methods=["GET"]),
        Route("/index.html", api.index, methods=["GET"]),
        Mount("/static", app=QueryPage(directory=STATIC), name="static"),
        *[Mount(prefix, app=app) for prefix, app in (mounts or {}).items()],
    ]


def create_app(pool: Pool, settings: Settings | None = None, *, store_info: dict[str, Any] | None = None,
               store_path: str | os.PathLike[str] | None = None,
               mounts: Mapping[str, ASGIApp] | None = None) -> Starlette:
    """The Starlette app over ``pool``: ``routes``, the limits of ``settings`` as middleware on every
    route (``kgraph.middleware``) and the query errors as statuses (``error_handlers``)."""
    settings = settings or Settings()
    api = Endpoints(pool, settings, store_info=store_info, store_path=store_path)
    from kgraph.fhir.routes import fhir_app  # the FHIR terminology service, on the same workers and limits

    mounts = {"/fhir": fhir_app(api), **(mounts or {})}

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        api.threads.shutdown(wait=False, cancel_futures=True)

    cors = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                       allow_headers=["Accept", "Content-Type"])] if settings.cors else []
    app = Starlette(routes=routes(api, mounts), lifespan=lifespan, exception_handlers=error_handlers(), middleware=[
        *cors,
        Middleware(SecurityHeaders),
        Middleware(AccessLog, enabled=settings.access_log),
        Middleware(BodyLimit, max_body=settings.max_body, body_timeout=settings.body_timeout),
        Middleware(ReadOnly, allow_update=settings.allow_update),
    ])
    app.router.redirect_slashes = False  # /sparql/ is not /sparql: 404, as any unknown path
    app.state.endpoints = api
    return app


# --- errors as statuses ------------------------------------------------------------------------------


def error_handlers() -> dict[Any, Callable[..., Any]]:
    """Exception class -> handler: the query errors of every route, and Starlette's HTTP errors, as text."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"{request.url.path}: not found; try /sparql, /queries or /"
        elif exc.status_code == 405:
            allowed = sorted(m.strip() for m in headers.pop("Allow", "GET").split(","))
            headers["allow"] = ", ".join(allowed)
            detail = f"{request.method} is not allowed on {request.url.path}"
        return text(exc.status_code, detail, headers)

    def status(code: int, prefix: str = "") -> Callable[..., Any]:
        async def handler(request: Request, exc: Exception) -> Response:
            if code == 503:
                print(f"kgraph serve: {exc}", file=sys.stderr)
            return text(code, f"{prefix}{exc}")
        return handler

    return {HTTPException: http_error, QueryTimeout: status(503, "query "), ResultTooLarge: status(422),
            NotAcceptable: status(406), WorkerError: status(500), KGraphError: status(400)}


# --- reading requests ----------------------------------------------------------------------------------


def url_params(request: Request) -> list[tuple[str, str]]:
    """The URL's parameters in order, strictly UTF-8 (Starlette's ``query_params`` replaces bad bytes)."""
    try:
        return urllib.parse.parse_qsl(request.scope.get("query_string", b"").decode("utf-8"),
                                      keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, f"the URL parameters are not valid UTF-8 URL encoding: {exc}") from None


def form_fields(body: bytes) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body's fields, strictly UTF-8.

    Not Starlette's ``Request.form()``: python-multipart decodes raw bytes as Latin-1 and bad
    escapes as U+FFFD, so ``query=... 'é'`` sent by ``curl --data`` would become ``'Ã©'`` unnoticed.
    """
    try:
        return urllib.parse.parse_qsl(_utf8(body), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, f"the form is not valid UTF-8 URL encoding: {exc}") from None


def accept(request: Request, fields: Iterable[tuple[str, str]]) -> list[str]:
    """The client's media ranges: ``format=`` / ``output=`` first, then the Accept header."""
    forced: list[str] = []
    for key, value in fields:
        if key in _FORMAT_KEYS and value:
            value = value.strip().lower()
            if "/" in value:
                forced.append(value)
            elif value in FORMATS:
                forced += FORMATS[value]
            else:
                raise HTTPException(400, f"{key}={value}: unknown format; use one of {', '.join(FORMATS)} "
                                         "or a media type")
    return forced or parse_accept(request.headers.get("accept"))


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"the request body is not UTF-8: {exc}") from None


def _iris(fields: Iterable[tuple[str, str]], key: str) -> list[str]:
    iris = [v for k, v in fields if k == key]
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise HTTPException(400, f"{key}={iri!r}: not an IRI") from None
    return iris


# --- serve ----------------------------------------------------------------------------------------


def _loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def serve(store: str | os.PathLike[str] | None = None, host: str = "127.0.0.1", port: int = 7878, *,
          allow_update: bool = False, timeout: float = 30.0, max_rows: int | None = MAX_ROWS,
          max_body: int = MAX_BODY, workers: int | None = None, access_log: bool = False,
          body_timeout: float = BODY_TIMEOUT, limits: Limits | None = None, spare: int = 1, cors: bool = False,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve a store over HTTP until interrupted (Ctrl-C or SIGTERM).

    ``port=0`` picks a free port; the URL is printed to stderr (and given to ``ready``) once the
    query workers are up. Binds to 127.0.0.1 unless ``host`` says otherwise. ``workers`` query
    processes (default: two per core, at most 8) answer, and ``spare`` more wait to take the place
    of one that is killed or dies; HTTP requests wait for them in threads. A request body not
    received within ``body_timeout`` seconds is answered 408 and its connection closed. ``limits``
    (``kgraph.guard.Limits``, default ``DEFAULT``): query shapes, and the SERVICE endpoints and LOAD
    a query may use; a query over them is answered 400.
    """
    import uvicorn

    from kgraph.store import open as open_store

    opened = open_store(store)  # a clear StoreError before anything starts
    pool = Pool(opened.path, workers=workers, writable=allow_update, limits=limits or Limits(), spare=spare)
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
    settings = Settings(allow_update=allow_update, timeout=timeout, max_rows=max_rows, max_body=max_body,
                        body_timeout=body_timeout, threads=max(16, 4 * pool.size), access_log=access_log,
                        cors=cors)
    app = create_app(pool, settings, store_info=opened.info, store_path=opened.path)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", server_header=False,
                            timeout_keep_alive=30)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/"
    mode = "read-write (updates allowed)" if allow_update else "read-only"
    print(f"kgraph serve: {opened.path} (build {opened.info.get('id', '?')}, {mode}, {pool.size} workers, "
          f"timeout {timeout:g} s) at {url}  SPARQL: {url}sparql  FHIR: {url}fhir", file=sys.stderr, flush=True)
    if pool.limits.allow_service or pool.limits.allow_load:
        print(f"kgraph serve: queries may call SERVICE {', '.join(pool.limits.allow_service) or '(none)'}; "
              f"LOAD {'allowed' if pool.limits.allow_load else 'refused'}", file=sys.stderr, flush=True)
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
