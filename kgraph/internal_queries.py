"""The SPARQL kgraph runs for itself: ``kgraph/queries/internal/NAME.rq``, read once, and ``select``.

Input: a query name (a file of ``kgraph/queries/internal/``, each with a comment header saying
what it answers and what it is bound to) or SPARQL text, and bindings by variable name. A single
value (a CURIE string, an ``int``, or a pyoxigraph term) is bound as one RDF term
(``kgraph.binding.bind``); a list of values (or of tuples, for ``VALUES (?a ?b)``) fills the
query's empty ``VALUES ?name { }`` block. Every value is written by pyoxigraph in N-Triples syntax,
so no value can change the query; a CURIE is checked by ``kgraph.namespaces.iri`` first. ``None``
for a list removes its ``VALUES`` block (no restriction: every value). Output: rows as dicts of
strings (CURIEs for kgraph IRIs, the text of literals, ``None`` when unbound; ``required`` reads the
cells a query's pattern always binds as strings), or pyoxigraph's own
solutions (``solutions``; ``tuples`` for the indexes' loops over millions of terms). A ``LIMIT``
that varies is the caller's ``itertools.islice`` of ``solutions``: pyoxigraph yields solutions
lazily, so the query stops where the slice does. Raises ``QueryError``
for a syntax error (with line and column) or a query that cannot take its bindings. The named,
user-facing queries are ``kgraph/queries/*.rq`` (``kgraph.sparql``), not these.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.binding import bind, tokens
from kgraph.errors import QueryError

Row = dict[str, str | None]
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.S)


@cache
def text(name: str) -> str:
    """The text of ``kgraph/queries/internal/NAME.rq``; ``QueryError`` if there is none."""
    path = resources.files("kgraph") / "queries" / "internal" / f"{name}.rq"
    if not path.is_file():
        raise QueryError(f"{name}: no such internal query (kgraph/queries/internal/{name}.rq)")
    return path.read_text(encoding="utf-8")


def names() -> list[str]:
    """Every internal query's name."""
    folder = resources.files("kgraph") / "queries" / "internal"
    return sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".rq"))


def syntax_message(exc: SyntaxError) -> str:
    """pyoxigraph's syntax error as ``SPARQL syntax error at line L, column C: what``."""
    where = _SYNTAX.match(str(exc))
    if where:
        return f"SPARQL syntax error at line {where[1]}, column {where[2]}: {where[3]}"
    return f"SPARQL syntax error: {exc}"


def term(value: Any) -> Any:
    """A binding value as an RDF term: pyoxigraph terms as they are, ``int`` an integer literal,
    a string a CURIE (or IRI) of a kgraph namespace."""
    if isinstance(value, ox.NamedNode | ox.Literal):
        return value
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(ns.XSD + "integer"))
    return ox.NamedNode(value if value.startswith("http") else ns.iri(value))


def show(value: Any) -> str | None:
    """A pyoxigraph term as shown at the surface: a CURIE for kgraph IRIs, the text of a literal."""
    kind = type(value)  # every cell of every row passes here: the common kinds first, by identity
    if kind is ox.Literal:
        return value.value
    if kind is ox.NamedNode:
        return ns.curie(value.value)
    if value is None:
        return None
    if kind is ox.BlankNode:
        return "_:" + value.value
    return str(value)


@lru_cache(maxsize=1 << 16)
def _written(value: str | int) -> str:
    """A CURIE, IRI or ``int`` as the N-Triples text of its term (``term``), remembered: a walk fills
    the same nodes into a ``VALUES`` block for every relation it follows."""
    return str(term(value))


def _text(value: Any) -> str:
    return _written(value) if isinstance(value, str | int) else str(term(value))


def _fill(sparql: str, lists: dict[str, list[Any] | None]) -> str:
    """``VALUES ?name { }`` (or ``VALUES (?a ?b) { }``) blocks of the text filled with the terms;
    a block whose list is ``None`` is removed."""
    toks = tokens(sparql)
    filled: set[str] = set()
    significant = [i for i, (kind, _) in enumerate(toks) if kind not in ("ws", "comment")]
    for n, i in enumerate(significant):
        if toks[i][0] != "word" or toks[i][1].upper() != "VALUES":
            continue
        j = n + 1
        if toks[significant[j]][1] == "(":
            header = []
            while toks[significant[j + 1]][0] == "var":
                header.append(toks[significant[j + 1]][1][1:])
                j += 1
            j += 2  # the closing parenthesis, then the brace
            key = " ".join(header)
        else:
            key = toks[significant[j]][1][1:]
            j += 1
        if key not in lists or toks[significant[j]][1] != "{" or toks[significant[j + 1]][1] != "}":
            continue
        filled.add(key)
        values = lists[key]
        if values is None:
            for k in range(i, significant[j + 1] + 1):
                toks[k] = ("ws", "")
            continue
        rows = [" ".join(_text(v) for v in row) if isinstance(row, tuple) else _text(row) for row in values]
        if " " in key:
            rows = [f"({r})" for r in rows]
        toks[significant[j]] = ("punct", "{ " + " ".join(rows))
    missing = set(lists) - filled
    if missing:
        raise QueryError(f"no empty VALUES block for {', '.join(sorted(missing))} in the query")
    return "".join(v for _, v in toks)


def prepare(name_or_sparql: str, bindings: dict[str, Any]) -> str:
    """The text to run: the internal query or text, its lists and single values bound."""
    sparql = text(name_or_sparql) if _NAME.fullmatch(name_or_sparql) else name_or_sparql
    lists = {k: None if v is None else list(v) for k, v in bindings.items()
             if v is None or isinstance(v, list | tuple | set | frozenset)}
    if lists:
        sparql = _fill(sparql, {k.replace(",", " "): v for k, v in lists.items()})
    single = {ox.Variable(k): term(v) for k, v in bindings.items() if k not in lists}
    return bind(sparql, single) if single else sparql


def solutions(target: Any, name_or_sparql: str, **bindings: Any) -> Any:
    """pyoxigraph's answer (``QuerySolutions``, ``QueryBoolean`` or ``QueryTriples``) from a
    ``Store`` or ``RemoteStore`` (their ``query``), or from a pyoxigraph database being built (on
    the union of its named graphs), every kgraph prefix declared."""
    sparql = prepare(name_or_sparql, bindings)
    try:
        if isinstance(target, ox.Store):
            return target.query(sparql, prefixes=ns.PREFIXES, use_default_graph_as_union=True)
        return target.query(sparql)
    except SyntaxError as exc:
        raise QueryError(syntax_message(exc)) from None


def select(target: Any, name_or_sparql: str, **bindings: Any) -> list[Row]:
    """A SELECT's rows as dicts of strings (``None`` where a variable is unbound)."""
    result = solutions(target, name_or_sparql, **bindings)
    columns = [v.value for v in result.variables]
    return [dict(zip(columns, map(show, solution), strict=True)) for solution in result]


def required(row: Row, query: str, *names: str) -> tuple[str, ...]:
    """The cells ``names`` of a row of ``query`` (a name or a label for SPARQL text), for variables
    its pattern always binds (not inside ``OPTIONAL``): ``kind, release = required(row,
    "source_releases", "kind", "release")``. Raises ``QueryError`` naming the query and the variable
    if one is unbound (the query was edited so that it no longer binds it). Cells that may be
    unbound are read from the row itself, ``None`` handled by the caller."""
    cells: list[str] = []
    for name in names:
        cell = row[name]
        if cell is None:
            raise QueryError(f"{query}: ?{name} is unbound in a row, but kgraph reads it as always bound "
                             "by the query's pattern")
        cells.append(cell)
    return tuple(cells)


def tuples(target: Any, name_or_sparql: str, **bindings: Any) -> Iterator[tuple[Any, ...]]:
    """A SELECT's solutions as tuples of pyoxigraph terms in the order of its projection (``None``
    where unbound): the claim-check indexes and the build's counts read millions of them."""
    result = solutions(target, name_or_sparql, **bindings)
    return map(tuple, result)  # a solution iterates over its terms


def ask(target: Any, name_or_sparql: str, **bindings: Any) -> bool:
    """An ASK's answer."""
    return bool(solutions(target, name_or_sparql, **bindings))
