"""SPARQL on a store: ``query(store, name_or_sparql, **params) -> Table``.

Input: SPARQL 1.1 text (every kgraph prefix is predeclared: ``kg:``, ``CPT:``, ``ICD10CM:`` ...)
or the name of a stored query in ``kgraph/queries/NAME.rq``, with parameters bound as RDF terms
(pyoxigraph substitutions), never pasted into the query text. Output: a ``Table`` whose
``json`` is the W3C SPARQL 1.1 results JSON (full IRIs) and whose ``rows`` show CURIEs.
Raises ``QueryError`` for a syntax error (with line and column), an unknown name or a bad
parameter. Does not open stores or print anything.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.errors import CurieError, QueryError
from kgraph.store import Store

QUERY_DIR = Path(__file__).resolve().parent / "queries"


@dataclass
class Table:
    """Query results: ``columns``, ``rows`` (dicts of CURIE strings), and the W3C JSON."""

    columns: list[str]
    json: dict[str, Any]
    rows: list[dict[str, str | None]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Table:
        if "boolean" in data:
            return cls(["boolean"], data, [{"boolean": "true" if data["boolean"] else "false"}])
        columns = list(data["head"].get("vars", []))
        rows = [{c: _show(b.get(c)) for c in columns} for b in data["results"]["bindings"]]
        return cls(columns, data, rows)

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
    """Every stored query in ``kgraph/queries``, by name."""
    found: dict[str, NamedQuery] = {}
    for path in sorted(QUERY_DIR.glob("*.rq")):
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


def query(store: Store, name_or_sparql: str, **params: Any) -> Table:
    """Run SPARQL (or a named query) on a store and return a ``Table``.

    >>> import kgraph
    >>> st = kgraph.open(DOCTEST_STORE)
    >>> t = kgraph.query(st, "SELECT ?dx WHERE { ?dx kg:supports CPT:74360 } ORDER BY ?dx LIMIT 2")
    >>> t.column("dx")
    ['ICD10CM:C15.9', 'ICD10CM:I85.00']
    """
    text, bindings = resolve(name_or_sparql, params)
    try:
        result = store.query(text, substitutions=bindings or None)
    except SyntaxError as exc:
        where = re.match(r"error at (\d+):(\d+): (.*)", str(exc), re.S)
        if where:
            raise QueryError(f"SPARQL syntax error at line {where[1]}, column {where[2]}: {where[3]}") from None
        raise QueryError(f"SPARQL syntax error: {exc}") from None
    except (OSError, RuntimeError) as exc:
        raise QueryError(f"query failed: {exc}") from None
    if isinstance(result, ox.QueryTriples):
        data = json.loads(_triples_json(result))
    else:
        data = json.loads(result.serialize(format=ox.QueryResultsFormat.JSON).decode("utf-8"))
    return Table.from_json(data)


def _triples_json(triples: ox.QueryTriples) -> str:
    """CONSTRUCT / DESCRIBE results as a subject / predicate / object table in W3C JSON form."""
    def cell(t: Any) -> dict[str, str]:
        if isinstance(t, ox.NamedNode):
            return {"type": "uri", "value": t.value}
        if isinstance(t, ox.BlankNode):
            return {"type": "bnode", "value": t.value}
        return {"type": "literal", "value": t.value}

    bindings = [{"subject": cell(t.subject), "predicate": cell(t.predicate), "object": cell(t.object)}
                for t in triples]
    return json.dumps({"head": {"vars": ["subject", "predicate", "object"]}, "results": {"bindings": bindings}})
