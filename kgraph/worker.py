"""SPARQL queries in worker processes that can be killed: the query timeout.

pyoxigraph cannot cancel a running query, so a query with a timeout runs in a separate process
(``python -m kgraph.worker``) that opens the store read-only once and then answers one request
at a time over a ``multiprocessing.connection`` (pickled dicts on a socket pair); when a query
runs past its timeout the process is killed and a fresh one started in the background. A
``Pool`` keeps a few such workers started, because a fresh process per query costs ~200 ms
(measured: interpreter + imports + opening the store) against well under a millisecond for a
typical named query.

Input: the store path, SPARQL text, parameters as N-Triples terms (``{"code": "<https://...>"}``),
a timeout in seconds and a result-size limit in rows. Output: ``run`` gives the W3C SPARQL 1.1
results JSON as a dict (equal to ``kgraph.query(...).json``); ``Pool.execute`` gives the answer
serialized in a media type chosen from an Accept list (for ``kgraph.server``). Every text is
checked by ``kgraph.guard`` before it reaches a worker. Raises ``QueryRefused`` (a shape over the
limits, a SERVICE or LOAD not allowed), ``QueryTimeout`` (stopped at the timeout),
``ResultTooLarge`` (over ``max_rows``), ``NotAcceptable`` (no format matches), ``QueryError``
(syntax errors with line and column, bad parameters, a worker that died), ``StoreError`` (a
store the worker cannot open). Does not speak HTTP (``kgraph.server``) nor name queries
(``kgraph.sparql``).
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph.binding import bind
from kgraph.builds import hold_build
from kgraph.errors import NotAcceptable, QueryError, StoreError
from kgraph.guard import DEFAULT, Limits, check, remote_failure
from kgraph.internal_queries import syntax_message
from kgraph.results import Cells

#: media types offered for SELECT / ASK answers, the first being the default
RESULT_TYPES: dict[str, ox.QueryResultsFormat | None] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/xml": ox.QueryResultsFormat.XML,
}
#: media types offered for CONSTRUCT / DESCRIBE answers, the first being the default
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
#: the W3C JSON dict of ``run`` (CONSTRUCT answers as a subject/predicate/object table)
TABLE_JSON = "kgraph/table+json"


class QueryTimeout(QueryError):
    """A query stopped because it ran past its timeout (its worker process was killed)."""


class ResultTooLarge(QueryError):
    """A query whose answer has more rows (or triples) than the limit."""


class WorkerError(QueryError):
    """A worker process that died or failed while answering (a server-side failure, not the query's)."""


@dataclass(frozen=True)
class Answer:
    """A serialized answer: its query form (select, ask, graph), media type, body and row count."""

    form: str
    media_type: str
    body: bytes
    rows: int


# --- the worker process ---------------------------------------------------------------------------


def _send(conn: Connection, message: Any) -> None:
    # plain pickle over the connection's framing: Connection.send's ForkingPickler took 6 us a message
    # against 1.5 us (measured; the workers need none of its reducers)
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _receive(conn: Connection) -> Any:
    return pickle.loads(conn.recv_bytes())  # noqa: S301 - messages come from our own processes only


def _parse_term(name: str, text: str) -> Any:
    """An N-Triples term (``<iri>``, ``"text"``, ``"1"^^<dt>``, ``"x"@en``) as a pyoxigraph term."""
    try:
        triple = next(iter(ox.parse(f"<urn:kgraph:s> <urn:kgraph:p> {text} .", format=ox.RdfFormat.N_TRIPLES)))
    except (SyntaxError, StopIteration):
        raise QueryError(f"parameter {name}: {text!r} is not an RDF term in N-Triples syntax") from None
    if isinstance(triple.object, ox.BlankNode):
        raise QueryError(f"parameter {name}: blank nodes cannot be bound")
    return triple.object


def _matches(accept: Sequence[str], offers: Sequence[str]) -> str | None:
    """The first offer matching the client's ranked media ranges (``type/sub``, ``type/*``, ``*/*``)."""
    for wanted in accept:
        major = wanted.split("/", 1)[0]
        for offer in offers:
            if wanted in ("*/*", "*") or wanted == offer or (wanted.endswith("/*") and offer.startswith(major + "/")):
                return offer
    return None


def _limit_error(max_rows: int, what: str) -> ResultTooLarge:
    return ResultTooLarge(f"the answer has more than {max_rows:,} {what} (the server's limit); "
                          "add LIMIT, bind a code, or narrow the query")


class _Worker:
    """The loop run in the worker process: one request in, one answer out."""

    def __init__(self, database: str, writable: bool) -> None:
        self.store = ox.Store(database) if writable else ox.Store.read_only(database)
        self.prefixes: dict[str, str] = {}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            if request["op"] == "hello":
                self.prefixes = request["prefixes"]
                return {"ok": True}
            if request["op"] == "update":
                self.store.update(request["text"], prefixes=self.prefixes)
                return {"ok": True, "answer": Answer("update", "text/plain", b"", 0)}
            return {"ok": True, "answer": self.query(request)}
        except SyntaxError as exc:
            return {"ok": False, "error": "syntax", "message": syntax_message(exc)}
        except NotAcceptable as exc:
            return {"ok": False, "error": "not-acceptable", "message": str(exc), "offers": exc.offers}
        except ResultTooLarge as exc:
            return {"ok": False, "error": "too-large", "message": str(exc)}
        except QueryError as exc:
            return {"ok": False, "error": "query", "message": str(exc)}
        except (OSError, RuntimeError, ValueError, TypeError) as exc:  # evaluation (a SERVICE call, a read)
            return {"ok": False, "error": "failed", "message": f"query failed: {exc}"}

    def query(self, request: dict[str, Any]) -> Answer:
        bindings = {ox.Variable(k): _parse_term(k, v) for k, v in (request.get("bindings") or {}).items()}
        dataset: dict[str, Any] = {"use_default_graph_as_union": True}
        if request.get("default_graph") or request.get("named_graphs"):
            dataset = {"default_graph": [ox.NamedNode(g) for g in request.get("default_graph") or []] or None,
                       "named_graphs": [ox.NamedNode(g) for g in request.get("named_graphs") or []] or None}
        text = bind(request["text"], bindings) if bindings else request["text"]  # index lookups, not filters
        result = self.store.query(text, prefixes=self.prefixes, **dataset)
        accept = request.get("accept") or [TABLE_JSON]
        max_rows = request.get("max_rows")
        if isinstance(result, ox.QueryBoolean):
            return self._boolean(bool(result), accept)
        if isinstance(result, ox.QueryTriples):
            return self._triples(result, accept, max_rows)
        return self._solutions(result, accept, max_rows)

    @staticmethod
    def _pick(accept: Sequence[str], offers: Sequence[str], form: str) -> str:
        if TABLE_JSON in accept:  # asked for by name only (kgraph.worker.run), never by a wildcard
            return TABLE_JSON
        chosen = _matches(accept, offers)
        if chosen is None:
            raise NotAcceptable(f"no acceptable format for the answer of this {form} query; this server offers "
                                f"{', '.join(offers)}", offers)
        return chosen

    def _boolean(self, value: bool, accept: Sequence[str]) -> Answer:
        media = self._pick(accept, list(RESULT_TYPES), "ASK")
        if media == TABLE_JSON or RESULT_TYPES[media] == ox.QueryResultsFormat.JSON:
            body = json.dumps({"head": {}, "boolean": value}).encode()
        else:
            data = json.dumps({"head": {}, "boolean": value}).encode()
            answer = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
            body = answer.serialize(format=RESULT_TYPES[media]) or b""
        return Answer("ask", media, body, 1)

    def _solutions(self, solutions: ox.QuerySolutions, accept: Sequence[str], max_rows: int | None) -> Answer:
        media = self._pick(accept, list(RESULT_TYPES), "SELECT")
        names = [v.value for v in solutions.variables]
        cell = Cells()
        bindings: list[dict[str, Any]] = []
        # iterating (rather than serializing in one call) lets the row limit stop a huge answer early
        for solution in solutions:
            if max_rows is not None and len(bindings) >= max_rows:
                raise _limit_error(max_rows, "rows")
            bindings.append({n: cell(t) for n, t in zip(names, solution, strict=True) if t is not None})
        body = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}},
                          ensure_ascii=False, separators=(",", ":")).encode()
        fmt = RESULT_TYPES.get(media)
        if fmt is not None and fmt != ox.QueryResultsFormat.JSON:
            # pyoxigraph writes XML, CSV and TSV with the escaping those formats need
            body = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON).serialize(format=fmt) or b""
        return Answer("select", media, body, len(bindings))

    def _triples(self, triples: ox.QueryTriples, accept: Sequence[str], max_rows: int | None) -> Answer:
        media = self._pick(accept, list(GRAPH_TYPES), "CONSTRUCT/DESCRIBE")
        found: list[ox.Triple] = []
        for triple in triples:
            if max_rows is not None and len(found) >= max_rows:
                raise _limit_error(max_rows, "triples")
            found.append(triple)
        if media == TABLE_JSON:
            cell = Cells()
            bindings = [{"subject": cell(t.subject), "predicate": cell(t.predicate), "object": cell(t.object)}
                        for t in found]
            body = json.dumps({"head": {"vars": ["subject", "predicate", "object"]},
                               "results": {"bindings": bindings}}).encode()
        else:
            fmt = GRAPH_TYPES[media]
            prefixes = self.prefixes if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
            body = ox.serialize(found, format=fmt, prefixes=prefixes) or b""
        return Answer("graph", media, body, len(found))


def _main(argv: Sequence[str]) -> None:
    """``python -m kgraph.worker FD DATABASE [--writable]``: requests in and answers out on the
    ``multiprocessing.connection`` socket ``FD`` (pickled dicts, framed by the connection)."""
    # Ctrl-C in a terminal reaches the whole process group: the parent decides, and closes the connection
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(argv[0]))
    database = argv[1]
    try:
        try:
            worker = _Worker(database, "--writable" in argv)
        except OSError as exc:
            _send(conn, {"ok": False, "error": "store", "message": f"{database}: cannot open the store: {exc}"})
            return
        _send(conn, {"ok": True, "pid": os.getpid()})
        while True:
            _send(conn, worker.handle(_receive(conn)))
    except (EOFError, OSError):  # the parent closed the connection or died: nothing more to do
        return


# --- the parent side ------------------------------------------------------------------------------


class _Process:
    """One worker process (``proc``) and the connection to it (one end of a ``multiprocessing.Pipe``)."""

    def __init__(self, database: Path, writable: bool, prefixes: dict[str, str]) -> None:
        self.conn, theirs = Pipe(duplex=True)
        try:
            cmd = [sys.executable, "-m", "kgraph.worker", str(theirs.fileno()), str(database)]
            # a fresh interpreter rather than a fork: the server holds threads and an event loop
            self.proc = subprocess.Popen(cmd + (["--writable"] if writable else []), stdin=subprocess.DEVNULL,
                                         pass_fds=[theirs.fileno()])
        except OSError:
            self.conn.close()
            raise
        finally:
            theirs.close()  # the worker's end lives on in the worker only: its exit closes the connection
        # one selector for the worker's life: Connection.poll builds one per call (13 us against 3 us, measured)
        self._readable = selectors.DefaultSelector()
        self._readable.register(self.conn, selectors.EVENT_READ)
        hello = self.receive(60.0)
        if not hello.get("ok"):
            self.kill()
            raise StoreError(hello["message"])
        self.send({"op": "hello", "prefixes": prefixes})
        self.receive(60.0)

    def _died(self) -> WorkerError:
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # alive but its connection broke: it cannot answer any more
            self.proc.kill()
            code = self.proc.wait()
        return WorkerError(f"the query worker died (exit code {code}); the query was not answered")

    def send(self, message: Any) -> None:
        try:
            _send(self.conn, message)
        except OSError:  # the worker died before it read the request (a broken pipe or a reset)
            raise self._died() from None

    def receive(self, timeout: float | None) -> dict[str, Any]:
        """The worker's next answer; ``TimeoutError`` if none has started to arrive within ``timeout`` s."""
        try:
            if self._readable.select(timeout):
                return _receive(self.conn)
        except (EOFError, OSError):  # the connection closed: the worker died (a crash, or killed)
            raise self._died() from None
        raise TimeoutError

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._readable.close()
        self.conn.close()


def database_of(store: str | os.PathLike[str] | None) -> Path:
    """The Oxigraph database directory of a store path (``.kgraph`` -> the newest build's ``oxigraph/``)."""
    from kgraph.store import open as open_store

    return open_store(store).build_dir / "oxigraph"


class Pool:
    """Started worker processes over one store (default: two per core, at most 8); a worker that runs
    past a timeout is killed and replaced in the background.

    ``workers`` processes answer at once; more requests wait for a free worker (at most their
    timeout). ``spare`` more are started and kept idle: one takes the place of a worker that is
    killed or dies at once, so the pool keeps answering while the replacement starts. With
    ``writable=True`` there is one worker and no spare, and it opens the store for writing (for
    SPARQL updates): RocksDB allows a single writer and read-only openers do not see its writes.
    Every text is checked against ``limits`` (``kgraph.guard``) before it reaches a worker.
    """

    def __init__(self, store: str | os.PathLike[str] | None, *, workers: int | None = None,
                 writable: bool = False, limits: Limits = DEFAULT, spare: int = 0) -> None:
        from kgraph import namespaces as ns

        self.database = database_of(store)
        # held until close: a rebuild that prunes old builds keeps this one, which restarted workers reopen
        self._hold = hold_build(self.database.parent)
        self.writable = writable
        self.limits = limits
        # two per core overlap one query's pipe and JSON work with another's evaluation (measured on 2
        # cores: 1 worker 960 requests/s, 2: 1,100, 4: 1,330); each opens the store (~115 MB resident)
        self.size = 1 if writable else max(1, workers or min(2 * (os.cpu_count() or 1), 8))
        self.spare = 0 if writable else max(0, spare)
        self._prefixes = dict(ns.PREFIXES)
        self._idle: queue.Queue[_Process] = queue.Queue()
        self._all: set[_Process] = set()  # the workers that answer (idle or busy)
        self._spares: list[_Process] = []
        self._lock = threading.Lock()
        self._closed = False
        #: workers killed at the timeout, and workers that died while answering (a crash, a kill from outside)
        self.killed = 0
        self.died = 0
        #: why the last worker that was restarting could not start (None while all start)
        self.last_error: str | None = None
        errors: list[BaseException] = []
        starters = [threading.Thread(target=self._start_one, args=(errors,)) for _ in range(self.size + self.spare)]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        if errors:
            self.close()
            raise errors[0]

    def _start_one(self, errors: list[BaseException] | None = None, attempts: int = 4) -> None:
        for attempt in range(attempts if errors is None else 1):
            try:
                proc = _Process(self.database, self.writable, self._prefixes)
                break
            except BaseException as exc:  # noqa: BLE001 - reported to the caller, or kept for /health
                if errors is not None:
                    errors.append(exc)
                    return
                self.last_error = f"a query worker could not restart: {exc}"
                if self._closed or attempt == attempts - 1:
                    return  # the pool runs with one worker fewer; ``running`` and /health say so
                time.sleep(0.5 * 2 ** attempt)
        self.last_error = None
        with self._lock:
            answering = len(self._all) < self.size
            if self._closed or not (answering or len(self._spares) < self.spare):
                proc.kill()
                return
            if answering:
                self._all.add(proc)
            else:
                self._spares.append(proc)
        if answering:
            self._idle.put(proc)

    @property
    def running(self) -> int:
        """How many workers answer (fewer than ``size`` while one restarts with no spare, or if it could not)."""
        with self._lock:
            return len(self._all)

    @property
    def spares(self) -> int:
        """How many spare workers are ready."""
        with self._lock:
            return len(self._spares)

    def _replace(self, proc: _Process) -> None:
        with self._lock:
            self._all.discard(proc)
            promoted = self._spares.pop() if self._spares and not self._closed else None
            if promoted is not None:
                self._all.add(promoted)
        proc.kill()
        if promoted is not None:
            self._idle.put(promoted)
        if not self._closed:
            threading.Thread(target=self._start_one, daemon=True).start()

    def execute(self, text: str, bindings: dict[str, str] | None = None, *, timeout: float = 30.0,
                max_rows: int | None = None, accept: Sequence[str] = (TABLE_JSON,),
                default_graph: Sequence[str] = (), named_graphs: Sequence[str] = (),
                update: bool = False, limits: Limits | None = None) -> Answer:
        """Run a query (or an update) in a worker; stop it at ``timeout`` seconds.

        The text is checked first against ``limits`` (default: the pool's): ``QueryRefused``.
        """
        if self._closed:
            raise WorkerError("the query pool is closed")
        shape = check(text, limits or self.limits)
        started = time.monotonic()
        try:
            proc = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise QueryTimeout(f"stopped after {timeout:g} s: every query worker stayed busy "
                               f"({self.size} running); try again later") from None
        request = {"op": "update" if update else "query", "text": text, "bindings": dict(bindings or {}),
                   "accept": list(accept), "max_rows": max_rows, "default_graph": list(default_graph),
                   "named_graphs": list(named_graphs)}
        try:
            proc.send(request)
            reply = proc.receive(max(0.0, timeout - (time.monotonic() - started)))
        except TimeoutError:
            self.killed += 1
            self._replace(proc)
            raise QueryTimeout(f"stopped after {timeout:g} s: the query did not finish in time; narrow it "
                               "(bind a code, add LIMIT) or ask for a longer timeout") from None
        except (QueryError, OSError) as exc:
            self.died += 1
            self._replace(proc)
            if isinstance(exc, QueryError):
                raise
            raise WorkerError(f"the query worker failed: {exc}") from None
        self._idle.put(proc)
        if reply["ok"]:
            return reply["answer"]
        kind = reply["error"]
        if kind == "too-large":
            raise ResultTooLarge(reply["message"])
        if kind == "not-acceptable":
            raise NotAcceptable(reply["message"], reply["offers"])
        if kind == "failed" and shape.services:  # the remote's reply stays on this side
            raise QueryError(remote_failure(reply["message"], shape))
        raise QueryError(reply["message"])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            procs = [*self._all, *self._spares]
            self._all.clear()
            self._spares.clear()
        for proc in procs:
            proc.kill()
        hold, self._hold = self._hold, None
        if hold is not None:
            os.close(hold)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


_POOLS: dict[tuple[Path, bool], Pool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(store: str | os.PathLike[str] | None) -> Pool:
    """A shared pool for a store (started on first use, closed at exit)."""
    key = (database_of(store), False)
    with _POOLS_LOCK:
        found = _POOLS.get(key)
        if found is None or found._closed:
            found = _POOLS[key] = Pool(store, workers=2)
        return found


@atexit.register
def _close_pools() -> None:
    for p in list(_POOLS.values()):
        p.close()
    _POOLS.clear()


def run(store: str | os.PathLike[str] | None, text: str, bindings: dict[str, str] | None = None, *,
        timeout: float = 30.0, max_rows: int | None = None, limits: Limits | None = None) -> dict[str, Any]:
    """Run SPARQL on a store in a worker process; the W3C JSON results as a dict.

    ``bindings`` maps variable names to N-Triples terms (``{"code": "<https://...>"}``). Answers
    equal ``kgraph.query(store, text).json``; CONSTRUCT / DESCRIBE come back as a subject /
    predicate / object table. Raises ``QueryRefused`` for a text over ``limits`` (default
    ``kgraph.guard.DEFAULT``), ``QueryTimeout`` past ``timeout`` seconds and ``ResultTooLarge``
    past ``max_rows`` rows.

    >>> run(DOCTEST_STORE, "ASK { ?dx kg:supports ?code }", {"code": "<https://w3id.org/kgraph/code/CPT/74360>"},
    ...     timeout=30)
    {'head': {}, 'boolean': True}
    """
    answer = pool_for(store).execute(text, bindings, timeout=timeout, max_rows=max_rows, limits=limits)
    return json.loads(answer.body)


if __name__ == "__main__":
    # run the loop from the importable module, so that pickled answers name kgraph.worker.Answer
    from kgraph.worker import _main as main

    main(sys.argv[1:])
