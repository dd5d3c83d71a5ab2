"""Parameters bound into SPARQL text: ``bind(text, {Variable: term}) -> text``.

Each term, written in N-Triples syntax by pyoxigraph (so quotes, braces, ``>`` or ``UNION`` in a
value stay inside one escaped term and cannot change the query), replaces its variable inside the
WHERE group, and a ``VALUES`` block at the head of that group keeps the variable bound for the
projection, ORDER BY and GROUP BY (SEP-0007 substitution). Used for every query with parameters,
local and remote: pyoxigraph's own ``substitutions`` filter the answers after evaluation instead of
using the value in the index lookups (measured on the full build: ``mue_limit`` 280 ms bound with
``substitutions``, 0.2 ms bound here). Raises ``QueryError`` for text it cannot bind into.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from kgraph.errors import QueryError

_TOKENS = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'''(?:[^'\\]|\\.|'(?!''))*'''
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<word>[^\s{}()\[\];,.?$<>"'\#=!&|*/+^-][^\s{}()\[\];,<>"'\#=!&|*/+^?$]*|\.)
  | (?P<punct>.)
""", re.X | re.S)


def tokens(text: str) -> list[tuple[str, str]]:
    """SPARQL text as (kind, text) tokens: ws, comment, string, iri, var, word, punct."""
    out: list[tuple[str, str]] = []
    for m in _TOKENS.finditer(text):
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group()))
    return out


def _matching(toks: list[tuple[str, str]], start: int) -> int:
    """The index of the ``}`` closing the ``{`` at ``start``."""
    depth = 0
    for i in range(start, len(toks)):
        kind, value = toks[i]
        if kind == "punct" and value == "{":
            depth += 1
        elif kind == "punct" and value == "}":
            depth -= 1
            if depth == 0:
                return i
    raise QueryError("unbalanced braces in the query")


def _where_group(toks: list[tuple[str, str]]) -> tuple[int, bool]:
    """The index of the ``{`` opening the WHERE group, and whether the query is ``CONSTRUCT WHERE {}``."""
    significant = [(i, k, v) for i, (k, v) in enumerate(toks) if k not in ("ws", "comment")]
    i = 0
    while i < len(significant):
        index, kind, value = significant[i]
        if kind == "word" and value.upper() == "CONSTRUCT" and i + 1 < len(significant):
            nxt_index, nxt_kind, nxt_value = significant[i + 1]
            if nxt_kind == "punct" and nxt_value == "{":  # the template, then the WHERE group
                end = _matching(toks, nxt_index)
                rest = [s for s in significant if s[0] > end and s[1] == "punct" and s[2] == "{"]
                if not rest:
                    raise QueryError("CONSTRUCT without a WHERE group")
                return rest[0][0], False
            if nxt_kind == "word" and nxt_value.upper() == "WHERE":
                return significant[i + 2][0], True
        if kind == "punct" and value == "{":
            return index, False
        i += 1
    raise QueryError("parameters can only be bound in a query with a WHERE group")


def bind(text: str, substitutions: dict[Any, Any] | None) -> str:
    """The query with parameters bound: each variable replaced by its term inside the WHERE group
    (not after ``AS``, not in a ``VALUES`` header, a sub-select's projection or solution modifiers),
    plus ``VALUES`` at the head of the group so the variable stays bound in the answer.

    >>> import pyoxigraph as ox
    >>> print(bind("SELECT ?dx WHERE { ?dx kg:supports ?code }", {ox.Variable("code"): ox.NamedNode("urn:x")}))
    SELECT ?dx WHERE { VALUES (?code) { (<urn:x>) } ?dx kg:supports <urn:x> }
    """
    if not substitutions:
        return text
    terms: dict[str, str] = {}
    for variable, term in substitutions.items():
        name = variable.value if isinstance(variable, ox.Variable) else str(variable).lstrip("?$")
        if isinstance(term, ox.BlankNode):
            raise QueryError(f"parameter {name}: blank nodes cannot be bound")
        terms[name] = str(term)  # N-Triples syntax, escaped by pyoxigraph
    names = tuple(terms)
    if len(text) > _TEMPLATE_MAX or _SLOT in text:
        return _bind(text, terms)
    pieces = _template(text, names)  # odd pieces are the numbers of the names bound there
    return "".join(terms[names[int(p)]] if i % 2 else p for i, p in enumerate(pieces))


#: marks where a term goes in a cached template; N-Triples escapes control characters in terms
_SLOT = "\x00"
#: texts longer than this are bound without a template (a server caches the queries it repeats)
_TEMPLATE_MAX = 20_000


@lru_cache(maxsize=512)
def _template(text: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """``_bind`` of a text once per set of names: the text cut where each term goes (tokenising
    costs 0.2-0.4 ms a query, more than Oxigraph takes to answer a bound look-up)."""
    return tuple(_bind(text, {n: f"{_SLOT}{i}{_SLOT}" for i, n in enumerate(names)}).split(_SLOT))


def _bind(text: str, terms: dict[str, str]) -> str:
    toks = tokens(text)
    start, short_form = _where_group(toks)
    end = _matching(toks, start)
    previous = ""
    in_values = in_projection = in_modifier = False
    for i in range(start + 1, end):
        kind, value = toks[i]
        upper = value.upper() if kind == "word" else ""
        if kind == "word":
            if upper == "VALUES":
                in_values = True
            elif upper == "SELECT":
                in_projection = True
            elif upper == "WHERE":
                in_projection = False
            elif upper in ("GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET"):
                in_modifier = True
        elif kind == "punct" and value in "{}":
            in_values = in_projection = False
            in_modifier = False
        elif kind == "var" and value[1:] in terms and previous != "AS" \
                and not (in_values or in_projection or in_modifier):
            toks[i] = ("iri", terms[value[1:]])
        if kind not in ("ws", "comment"):
            previous = upper or value
    names = list(terms)
    values = f" VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(terms[n] for n in names)}) }}"
    if not short_form:
        first = next((v.upper() for k, v in toks[start + 1:end] if k not in ("ws", "comment")), "")
        if first == "SELECT":  # a group that is a sub-select takes no other pattern: nest it
            toks[end] = ("punct", "} }")
            values += " {"
        toks[start] = ("punct", "{" + values)
    return "".join(v for _, v in toks)
