"""SPARQL on a store: ``query(store, name_or_sparql, **params) -> Table``.

Input: SPARQL 1.1 text (every kgraph prefix is predeclared: ``kg:``, ``CPT:``, ``ICD10CM:`` ...)
or the name of a stored query in ``kgraph/queries/NAME.rq``, with parameters bound as RDF terms
(``kgraph.binding``: each value becomes one term written by pyoxigraph, so it can never change
the query). Output: a ``Table`` whose
``json`` is the W3C SPARQL 1.1 results JSON (full IRIs) and whose ``rows`` show CURIEs.
Raises ``QueryError`` for a syntax error (with line and column), an unknown name or a bad
parameter, and ``QueryRefused`` for a text over the store's limits (``kgraph.guard``: nesting,
operators, triple patterns, length; SERVICE and LOAD) before pyoxigraph parses it. Does not open
stores or print anything.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.errors import CurieError, QueryError
from kgraph.guard import check, remote_failure
from kgraph.internal_queries import show, syntax_message
from kgraph.results import Cells
from kgraph.store import Store

QUERY_DIR = Path(__file__).resolve().parent / "queries"


class Table:
    """Query results: ``columns``, ``rows`` (dicts of CURIE strings), and the W3C JSON (``json``).

    Rows are made straight from pyoxigraph's terms; the W3C JSON is written from the same terms
    the first time it is asked for (a JSON round trip for every query cost up to a third of a
    fast query's time).
    """

    def __init__(self, columns: list[str], json: dict[str, Any] | None = None,
                 rows: list[dict[str, str | None]] | None = None) -> None:
        self.columns = columns
        self._json = json
        self.rows = rows if rows is not None else []
        self._terms: list[tuple[Any, ...]] | None = None

    @property
    def json(self) -> dict[str, Any]:
        """The W3C SPARQL 1.1 results JSON (full IRIs)."""
        if self._json is None:
            cell = Cells()
            bindings = [{c: cell(t) for c, t in zip(self.columns, terms, strict=True) if t is not None}
                        for terms in self._terms or []]
            self._json = {"head": {"vars": list(self.columns)}, "results": {"bindings": bindings}}
        return self._json

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Table:
        if "boolean" in data:
            return cls(["boolean"], data, [{"boolean": "true" if data["boolean"] else "false"}])
        columns = list(data["head"].get("vars", []))
        rows = [{c: _show(b.get(c)) for c in columns} for b in data["results"]["bindings"]]
        return cls(columns, data, rows)

    @classmethod
    def from_terms(cls, columns: list[str], solutions: Iterable[Sequence[Any]]) -> Table:
        """A table of pyoxigraph terms (rows of ``None`` or ``NamedNode`` / ``BlankNode`` / ``Literal``)."""
        table = cls(columns)
        table._terms = [tuple(s) for s in solutions]
        table.rows = [{c: show(t) for c, t in zip(columns, terms, strict=True)} for terms in table._terms]
        return table

    def __repr__(self) -> str:
        return f"<kgraph.Table {len(self.rows)} rows: {', '.join(self.columns)}>"

    def __iter__(self) -> Iterator[dict[str, str | None]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[str | None]:
        return [row[name] for row in self.rows]

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (pandas is an optional dependency)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)

    def to_csv(self, delimiter: str = ",") -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if row[c] is None else row[c] for c in self.columns])
        return out.getvalue()

    def to_text(self, max_width: int = 60) -> str:
        """A plain-text table for terminals."""
        cells = [[("" if r[c] is None else str(r[c])).replace("\n", " ") for c in self.columns] for r in self.rows]
        cells = [[v if len(v) <= max_width else v[: max_width - 1] + "…" for v in row] for row in cells]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(self.columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
        lines.append(f"({len(self.rows)} row{'s' if len(self.rows) != 1 else ''})")
        return "\n".join(lines)


def _show(binding: dict[str, str] | None) -> str | None:
    """A W3C JSON binding as shown at the surface: CURIE for kgraph IRIs, the text of literals."""
    if binding is None:
        return None
    if binding["type"] == "uri":
        return ns.curie(binding["value"])
    if binding["type"] == "bnode":
        return "_:" + binding["value"]
    return binding["value"]


@dataclass(frozen=True)
class NamedQuery:
    """A stored query: its text, description and parameters (name -> type and help)."""

    name: str
    text: str
    description: str
    params: dict[str, str]
    example: str


def named_queries() -> dict[str, NamedQuery]:
    """Every stored query in ``kgraph/queries``, by name (read again only when a file changes)."""
    paths = sorted(QUERY_DIR.glob("*.rq"))
    key = tuple((p.name, p.stat().st_mtime_ns) for p in paths)
    if _CACHE.get("key") != key:
        _CACHE.update(key=key, queries=_read_queries(paths))
    return dict(_CACHE["queries"])


_CACHE: dict[str, Any] = {}


def _read_queries(paths: list[Path]) -> dict[str, NamedQuery]:
    found: dict[str, NamedQuery] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        header = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("#")]
        description = " ".join(h for h in header if not re.match(r"^(param|example)\b", h, re.I)).strip()
        params: dict[str, str] = {}
        example = ""
        for h in header:
            if m := re.match(r"^param\s+(\w+)\s*:\s*(.*)$", h, re.I):
                params[m.group(1)] = m.group(2)
            elif m := re.match(r"^example\s*:\s*(.*)$", h, re.I):
                example = m.group(1)
        found[path.stem] = NamedQuery(path.stem, text, description, params, example)
    return found


def _term(value: Any, kind: str) -> ox.NamedNode | ox.Literal:
    """A parameter value as an RDF term: codes and IRIs become IRIs, everything else a literal."""
    if isinstance(value, ox.NamedNode | ox.Literal):
        return value
    text = str(value)
    kind = kind.lower()
    if kind.startswith(("curie", "code", "iri")):
        try:
            return ox.NamedNode(ns.iri(ns.normalize_code(text) if not text.startswith("http") else text))
        except ValueError as exc:  # an IRI pyoxigraph will not accept
            if isinstance(exc, CurieError):
                raise
            raise QueryError(f"{text!r}: not a valid IRI") from None
    if kind.startswith("date"):
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
            raise QueryError(f"{text!r}: not a date (YYYY-MM-DD)")
        return ox.Literal(text, datatype=ox.NamedNode(ns.XSD + "date"))
    if kind.startswith("int"):
        if not re.match(r"^-?\d+$", text):
            raise QueryError(f"{text!r}: not an integer")
        return ox.Literal(text, datatype=ox.NamedNode(ns.XSD + "integer"))
    return ox.Literal(text)


def resolve(name_or_sparql: str, params: dict[str, Any]) -> tuple[str, dict[ox.Variable, Any]]:
    """The SPARQL text and bound parameters for a query name or text."""
    text = name_or_sparql.strip()
    if re.fullmatch(r"[A-Za-z_][\w-]*", text):
        queries = named_queries()
        if text not in queries:
            raise QueryError(f"{text}: no such named query; known: {', '.join(queries) or '(none)'}")
        q = queries[text]
        missing = sorted(set(q.params) - set(params))
        extra = sorted(set(params) - set(q.params))
        if missing or extra:
            parts = [f"missing parameter {', '.join(missing)}" if missing else "",
                     f"unknown parameter {', '.join(extra)}" if extra else ""]
            wanted = ", ".join(f"{k} ({v})" for k, v in q.params.items()) or "none"
            raise QueryError(f"{text}: {'; '.join(p for p in parts if p)}; parameters: {wanted}")
        return q.text, {ox.Variable(k): _term(v, q.params[k]) for k, v in params.items()}
    if params:
        return text, {ox.Variable(k): _term(v, "literal" if not isinstance(v, str) or ":" not in v else "curie")
                      for k, v in params.items()}
    return text, {}


def query(store: Store, name_or_sparql: str, *, timeout: float | None = None, **params: Any) -> Table:
    """Run SPARQL (or a named query) on a store and return a ``Table``.

    With ``timeout`` (seconds) the query runs in a worker process that is killed at the timeout
    (``kgraph.worker``: ``QueryTimeout``), under the store's limits; a remote endpoint takes its
    timeout when it is opened (``kgraph.remote.open_remote``).

    >>> import kgraph
    >>> st = kgraph.open(DOCTEST_STORE)
    >>> t = kgraph.query(st, "SELECT ?dx WHERE { ?dx kg:supports CPT:74360 } ORDER BY ?dx LIMIT 2")
    >>> t.column("dx")
    ['ICD10CM:C15.9', 'ICD10CM:I85.00']
    """
    text, bindings = resolve(name_or_sparql, params)
    if timeout is not None and isinstance(store, Store):
        from kgraph.worker import run

        terms = {k.value: str(v) for k, v in bindings.items()}
        return Table.from_json(run(store.path, text, terms, timeout=timeout, limits=store.limits))
    # the shape limits and SERVICE / LOAD rules of the store (a remote endpoint guards itself)
    shape = check(text, store.limits) if isinstance(store, Store) else None
    try:
        result = store.query(text, substitutions=bindings or None)
        if isinstance(result, ox.QueryTriples):
            return Table.from_terms(["subject", "predicate", "object"],
                                    ((t.subject, t.predicate, t.object) for t in result))
        if isinstance(result, ox.QuerySolutions):
            return Table.from_terms([v.value for v in result.variables], result)
        return Table.from_json({"head": {}, "boolean": bool(result)})
    except SyntaxError as exc:
        raise QueryError(syntax_message(exc)) from None
    except (OSError, RuntimeError) as exc:
        if shape is not None and shape.services:
            raise QueryError(remote_failure(str(exc), shape)) from None
        raise QueryError(f"query failed: {exc}") from None
