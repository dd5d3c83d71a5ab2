"""Query shapes and federation checked before SPARQL reaches pyoxigraph: ``check(text, limits) -> Shape``.

pyoxigraph's parser recurses without a bound (5,000 nested groups end the process with a stack
overflow, ``SIGSEGV``, and a flat chain of 10,000 ``||`` too), and its planner takes seconds for a
hundred joined triple patterns. ``scan`` reads the text once, left to right, with a small state
machine and an explicit stack (it cannot recurse), and measures what hurts the parser and the
planner: the nesting depth of groups, parentheses and brackets together; the operators (``||``,
``&&``, comparisons, arithmetic, path ``/ | ^ * + ?``, ``UNION``, ``MINUS``); the triple patterns
(each pattern of a group, each step of a path sequence, each member of a collection twice); the
length. Strings, IRIs and comments are read as SPARQL reads them, so braces inside them count for
nothing, and a ``<`` is an operator exactly where the grammar allows one (after an operand inside
an expression's parentheses), an IRI elsewhere. ``check`` compares the shape with ``Limits`` and
refuses, naming the limit and the value found, and refuses ``SERVICE`` calls outside the
endpoints the limits allow and ``LOAD`` unless allowed: nothing else in SPARQL reaches the
network or the file system (``FROM`` only names graphs of the store).

The defaults (``DEFAULT``) come from thresholds measured on pyoxigraph 0.5 (docs/robustness.md,
"Query shapes"), with a margin. Raises ``QueryRefused`` (a ``QueryError``). Pure: no I/O, no
pyoxigraph. Does not parse SPARQL: a query that passes may still be malformed (the parser says so).
"""

from __future__ import annotations

import dataclasses
import re
import sys
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kgraph.errors import QueryError


@dataclass(frozen=True)
class Limits:
    """What a query may be and do. Shapes: the largest value allowed; ``allow_service``: endpoint
    URL prefixes a ``SERVICE`` may call (none: refused); ``allow_load``: whether ``LOAD`` may run."""

    #: characters of query text
    max_length: int = 1_000_000
    #: groups, parentheses and brackets open at once (crash: about 2,200 nested groups)
    max_depth: int = 128
    #: operators (crash: about 5,000-10,000 in one chain; 4,000 ``||`` take seconds to plan)
    max_operators: int = 1_000
    #: triple patterns, path steps and collection members (planning: seconds past about 80 joined)
    max_triples: int = 64
    allow_service: tuple[str, ...] = ()
    allow_load: bool = False

    def replace(self, **changes: Any) -> Limits:
        """A copy with some limits changed (``None`` values are ignored), e.g. from command-line options.

        >>> DEFAULT.replace(max_depth=500, max_triples=None).max_depth
        500
        """
        values: dict[str, Any] = {k: (tuple(v) if k == "allow_service" else v) for k, v in changes.items()
                                  if v is not None}
        return dataclasses.replace(self, **values)


DEFAULT = Limits()
#: the shape limits: field of ``Limits`` -> (what it counts, command-line option)
SHAPE_LIMITS = {
    "max_length": ("characters", "--max-length"),
    "max_depth": ("nesting depth (groups, parentheses and brackets open at once)", "--max-depth"),
    "max_operators": ("operators", "--max-operators"),
    "max_triples": ("triple patterns (with path steps and collection members)", "--max-triples"),
}


@dataclass(frozen=True)
class Shape:
    """What ``scan`` found: sizes, and the ``SERVICE`` and ``LOAD`` targets (``None``: a variable, a
    relative IRI or an unknown prefix, which no allowed prefix can match)."""

    length: int
    depth: int
    operators: int
    triples: int
    services: tuple[str | None, ...] = ()
    loads: tuple[str | None, ...] = ()


class QueryRefused(QueryError):
    """A query refused before it was parsed: its shape is over a limit, or it calls out (SERVICE, LOAD)."""

    def __init__(self, message: str, limit: str, value: object = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


# --- the scanner ----------------------------------------------------------------------------------

# a token by its first character; "<" is decided by the scanner (an IRI or an operator), never here
_WS = re.compile(r"\s+")
_EOL = re.compile(r"[\n\r]")
_STRINGS = {
    "'": re.compile(r"'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''|'[^'\\\n\r]*(?:\\.[^'\\\n\r]*)*'"),
    '"': re.compile(r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""|"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"'),
}
_VAR = re.compile(r"[?$][\w\u00b7\u0300-\u036f\u203f\u2040]+")
_NUMBER = re.compile(r"[0-9]+\.[0-9]*[eE][+-]?[0-9]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?")
_LANG = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*")
# a blank node label, a prefixed name (PN_LOCAL_ESC escapes such as \# are part of it), or a bare word
_WORD = re.compile(r"""_:[\w\-]+(?:\.[\w\-]+)*
  |(?:[^\W\d][\w\-]*(?:\.[\w\-]+)*)?:(?:[\w\-:%\u00b7]|\\[_~.\-!$&'()*+,;=/?\#@%]|\.(?=[\w\-:%\\]))*
  |[^\W\d][\w\-]*""", re.X)
_OPERATORS_2 = {"||", "&&", "!=", ">=", "^^"}
_OPERATORS_1 = set("=!+-*/|^?>")


def _token(text: str, pos: int) -> tuple[str, str, int]:
    """The token at ``pos`` (not whitespace, a comment or "<"): its kind, text and end."""
    c = text[pos]
    found = None
    if c in _STRINGS:
        found, kind = _STRINGS[c].match(text, pos), "string"
    elif c in "?$":
        found, kind = _VAR.match(text, pos), "var"
    elif c in "0123456789" or (c == "." and text[pos + 1:pos + 2].isdigit()):
        found, kind = _NUMBER.match(text, pos), "number"
    elif c == "@":
        found, kind = _LANG.match(text, pos), "lang"
    elif c.isalpha() or c in "_:":
        found, kind = _WORD.match(text, pos), "word"
    if found is not None and found.end() > pos:
        return kind, found.group(), found.end()
    two = text[pos:pos + 2]
    if two in _OPERATORS_2:
        return "op", two, pos + 2
    return ("op" if c in _OPERATORS_1 else "punct"), c, pos + 1


_IRI = re.compile(r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>")
# a simple term: an IRI, a string without escapes (with its language or datatype), a number, a name
_SIMPLE = r"""(?:<[^<>"{}|^`\\\x00-\x20]*+>|"[^"\\\n\r]*+"|'[^'\\\n\r]*+'|[\w:.\-+@^]++)"""
#: the rest of a VALUES data block made of simple terms and rows, up to its "}" (one regex, no backtracking)
_DATA_BODY = re.compile(rf"(?:\s++|{_SIMPLE}|\((?:\s++|{_SIMPLE})*+\))*+\}}")
_OPERAND = r"""(?:[?$][\w]++|[0-9]++(?:\.[0-9]++)?+|<[^<>"{}|^`\\\x00-\x20]*+>|"[^"\\\n\r]*+"|'[^'\\\n\r]*+'
  |[\w\-]*+:[\w\-:%]*+)"""
#: the rest of an expression's parentheses holding only a list of operands, up to its ")": IN (...), fn(?a, ?b)
_ARGUMENTS = re.compile(rf"\s*+(?:{_OPERAND}(?:\s*+,\s*+{_OPERAND})*+)?+\s*+\)", re.X)
# stack entries: a pattern group, a VALUES data block, a blank node's [ ], an expression's ( ), a collection's
# or a path's ( ) (or a VALUES row), and the query's top level
PATTERN, DATA, BNODE, EXPR, LIST, TOP = range(6)
# what a level of braces (or the query's top) is in: its pattern, a projection, solution modifiers
IN_PATTERN, IN_PROJECTION, IN_MODIFIERS = range(3)
_CLAUSES = {"SELECT": IN_PROJECTION, "CONSTRUCT": IN_PROJECTION, "DESCRIBE": IN_PROJECTION,
            "ASK": IN_PROJECTION, "WHERE": IN_PATTERN, "GROUP": IN_MODIFIERS, "ORDER": IN_MODIFIERS,
            "HAVING": IN_MODIFIERS, "LIMIT": IN_MODIFIERS, "OFFSET": IN_MODIFIERS}
#: words that end the triple before them in a group (they do not count as its terms)
_PATTERN_WORDS = {"FILTER", "OPTIONAL", "MINUS", "UNION", "BIND", "VALUES", "GRAPH", "SERVICE", "SILENT",
                  "SELECT", "WHERE", "DISTINCT", "REDUCED", "FROM", "NAMED", "NOT", "EXISTS", "UNDEF",
                  *_CLAUSES}
#: words after which an expression expects an operand (so a "<" there starts an IRI)
_NOT_OPERANDS = {"IN", "NOT", "AS", "DISTINCT", "SEPARATOR", "FILTER", "BIND", "HAVING", "BY", "ASC", "DESC"}
_OPERATOR_WORDS = {"UNION", "MINUS"}


def scan(text: str, prefixes: Mapping[str, str] | None = None, limits: Limits | None = None) -> Shape:
    """The shape of SPARQL ``text`` (a query or an update), read once with an explicit stack.

    ``prefixes`` resolve prefixed ``SERVICE`` and ``LOAD`` targets (``PREFIX`` lines in the text too).
    With ``limits``, the scan stops at the first shape limit passed and raises ``QueryRefused``
    naming it and where (a refused text costs no more than its first offending part).

    >>> scan("SELECT ?s WHERE { ?s ?p '{{{' . FILTER(?o < 3 || ?o > 5) } # }}}")
    Shape(length=64, depth=2, operators=3, triples=1, services=(), loads=())
    >>> scan("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }").services
    ('http://example.org/sparql',)
    """
    big = sys.maxsize
    max_depth, max_operators, max_triples = ((limits.max_depth, limits.max_operators, limits.max_triples)
                                             if limits else (big, big, big))
    known = dict(prefixes or {})
    stack: list[list[int]] = []  # [kind, clause, terms of the pattern being read]
    top = [TOP, IN_PATTERN, 0]
    depth = operators = triples = 0
    services: list[str | None] = []
    loads: list[str | None] = []
    previous = ""  # the last significant token's kind ("word:UPPER" for a word an operand cannot follow)
    expression_next = 0  # a "(" within this many tokens opens an expression (after FILTER, BIND)
    values_next = False  # the next "(" or "{" is a VALUES header or data block
    target: str | None = None  # "service", "load", "prefix": the token after this keyword is its target
    prefix_name: str | None = None
    pos, end = 0, len(text)
    while pos < end:
        c = text[pos]
        if c.isspace():
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            continue
        if c == "#":
            eol = _EOL.search(text, pos)
            pos = eol.start() if eol else end
            continue
        level = stack[-1] if stack else top
        kind_here = level[0]
        start = pos
        if c == "<":
            operator = kind_here == EXPR and previous in ("var", "string", "number", "iri", "close", "word")
            found = None if operator else _IRI.match(text, pos)
            if found is None:  # "<" or "<=": a comparison
                pos += 2 if text.startswith("<=", pos) else 1
                operators += 1
                if operators > max_operators:
                    raise _over("max_operators", operators, max_operators, text, start)
                previous, expression_next = "op", max(0, expression_next - 1)
                continue
            kind, value, pos = "iri", found.group(), found.end()
        else:
            kind, value, pos = _token(text, pos)
        expecting, expression_next = expression_next, max(0, expression_next - 1)
        upper = value.upper() if kind == "word" and ":" not in value else ""
        if target is not None and not (upper == "SILENT" and target != "prefix"):
            if target == "prefix" and prefix_name is None and kind == "word":
                prefix_name = value[:-1] if value.endswith(":") else value
                previous = "word"
                continue
            resolved = _target(kind, value, known)
            if target == "prefix" and prefix_name is not None and resolved is not None:
                known[prefix_name] = resolved
            elif target == "service":
                services.append(resolved)
            elif target == "load":
                loads.append(resolved)
            target = prefix_name = None
        terms_counted = kind_here in (PATTERN, BNODE)
        if kind == "punct" and value in "{[(":
            if value == "{":
                new = DATA if values_next else PATTERN
                if terms_counted and level[2] >= 2:
                    triples += 1
                level[2] = 0
            elif value == "[":
                new = BNODE
                if terms_counted:
                    level[2] += 1
            elif values_next or kind_here == DATA:  # VALUES (?a ?b) { (1 2) ... }: a header, rows
                new = DATA
            elif kind_here == EXPR or expecting or (level[1] != IN_PATTERN and kind_here in (PATTERN, TOP)):
                new = EXPR
            else:
                new = LIST
                if terms_counted:
                    level[2] += 1
            values_next = values_next and value == "("  # after the header comes its data block
            expression_next = 0
            # the bulk of a long query is often a flat list: a VALUES block, the arguments of IN (...)
            flat = (_DATA_BODY if new == DATA and value == "{" else _ARGUMENTS if new == EXPR else None)
            found = flat.match(text, pos) if flat is not None else None
            opened = len(stack) + 1 + (found is not None and value == "{" and "(" in found.group())
            if opened > depth:
                depth = opened
                if depth > max_depth:
                    raise _over("max_depth", depth, max_depth, text, start)
            if found is not None:
                pos = found.end()
                previous = "close"
            else:
                stack.append([new, IN_PATTERN, 0])
                previous = "open"
            continue
        if kind == "punct" and value in "}])":
            if stack:
                closed = stack.pop()
                if closed[0] in (PATTERN, BNODE) and closed[2] >= 1:
                    triples += 1
            previous = "close"
        elif kind == "op":
            if value != "^^":
                operators += 1
                if value == "/" and kind_here != EXPR:  # a path sequence: one more joined pattern
                    triples += 1
            previous = "op"
        elif kind == "punct" and value in ".;,":
            if terms_counted and level[2] >= 1:
                triples += 1
            level[2] = 0
            previous = "sep"
        elif upper and upper in _PATTERN_WORDS:
            if upper in _OPERATOR_WORDS:
                operators += 1
            if upper in _CLAUSES and kind_here in (PATTERN, TOP):
                level[1] = _CLAUSES[upper]
            if upper in ("FILTER", "BIND"):
                expression_next = 3 if upper == "FILTER" else 1  # FILTER ( or FILTER fn( or FILTER <fn> (
            elif upper == "VALUES":
                values_next = True
            elif upper == "SERVICE":
                target = "service"
            if terms_counted and level[2] >= 2:
                triples += 1
            level[2] = 0
            previous = "word:" + upper if upper in _NOT_OPERANDS else "keyword"
        else:
            if upper in ("LOAD", "PREFIX"):
                target = upper.lower()
            previous = ("word:" + upper if upper in _NOT_OPERANDS else "word") if upper else (
                kind if kind != "lang" else "string")
            if terms_counted:
                level[2] += 1
            elif kind_here == LIST and kind in ("var", "iri", "string", "number", "word"):
                triples += 2  # a collection member: rdf:first and rdf:rest
        if operators > max_operators:
            raise _over("max_operators", operators, max_operators, text, start)
        if triples > max_triples:
            raise _over("max_triples", triples, max_triples, text, start)
    return Shape(len(text), depth, operators, triples, tuple(services), tuple(loads))


def _target(kind: str, value: str, prefixes: Mapping[str, str]) -> str | None:
    """The absolute IRI a SERVICE / LOAD / PREFIX token names, or ``None`` (a variable, a relative IRI,
    an unknown prefix)."""
    if kind == "iri":
        iri = _unescape(value[1:-1])
    elif kind == "word" and ":" in value and not value.startswith("_:"):
        prefix, _, local = value.partition(":")
        if prefix not in prefixes:
            return None
        iri = prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
    else:
        return None
    return iri if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", iri) else None


def _unescape(iri: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})", lambda m: chr(int(m[1] or m[2], 16)), iri)


# --- the check ------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _scan_cached(text: str) -> Shape:
    return scan(text)


def check(text: str, limits: Limits = DEFAULT, *, prefixes: Mapping[str, str] | None = None) -> Shape:
    """The shape of ``text``, or ``QueryRefused`` naming the first limit it is over, or the ``SERVICE``
    endpoint or ``LOAD`` it may not call. Repeated texts (named and internal queries) are scanned once.

    A SERVICE or LOAD target written with a prefix is resolved by the text's own ``PREFIX`` lines and
    ``prefixes`` (none by default: a target under a predeclared prefix is refused, as unknown).

    >>> try:
    ...     check("SELECT * WHERE " + "{" * 500 + "}" * 500)
    ... except QueryRefused as exc:
    ...     print(exc)
    query refused: its nesting depth (groups, parentheses and brackets open at once) is 500, over the limit of 128 \
(max_depth; raise it with --max-depth)
    """
    if len(text) > limits.max_length:
        raise _over("max_length", len(text), limits.max_length)
    if len(text) > 4_000:  # read until the first limit passed (a long refused text costs little)
        shape = scan(text, prefixes, limits)
    else:  # short texts (the named queries) are read once, and their whole shape reported
        shape = scan(text, prefixes) if prefixes else _scan_cached(text)
        for name in ("max_depth", "max_operators", "max_triples"):
            value = getattr(shape, name.removeprefix("max_"))
            if value > getattr(limits, name):
                raise _over(name, value, getattr(limits, name))
    for endpoint in shape.services:
        if not service_allowed(endpoint, limits.allow_service):
            shown = f"<{endpoint}>" if endpoint else "a variable, relative or unknown-prefix endpoint"
            allowed = (f"allowed: {', '.join(limits.allow_service)}" if limits.allow_service
                       else "no endpoint is allowed")
            raise QueryRefused(f"query refused: SERVICE {shown} may not be called ({allowed}; "
                               "--allow-service URL-PREFIX lists the endpoints a query may call)",
                               "allow_service", endpoint)
    if shape.loads and not limits.allow_load:
        shown = f"<{shape.loads[0]}>" if shape.loads[0] else "its target"
        raise QueryRefused(f"update refused: LOAD {shown} fetches from outside the store; it is refused unless "
                           "allowed (--allow-load)", "allow_load", shape.loads[0])
    return shape


def _over(name: str, value: int, limit: int, text: str | None = None, pos: int = 0) -> QueryRefused:
    what, option = SHAPE_LIMITS[name]
    if text is None:
        return QueryRefused(f"query refused: its {what} is {value:,}, over the limit of {limit:,} "
                            f"({name}; raise it with {option})", name, value)
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return QueryRefused(f"query refused: its {what} reaches {value:,} at line {line}, column {column}, over the "
                        f"limit of {limit:,} ({name}; raise it with {option}; the rest was not read)", name, value)


def service_allowed(endpoint: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether ``endpoint`` is under one of the ``allowed`` URL prefixes: the same scheme, host and port,
    and a path that starts with the prefix's (``http://a.org`` does not allow ``http://a.org.evil.com``).

    >>> service_allowed("http://example.org/sparql", ("http://example.org/",))
    True
    >>> service_allowed("http://example.org.evil.com/sparql", ("http://example.org",))
    False
    """
    if endpoint is None:
        return False
    try:
        got = urllib.parse.urlsplit(endpoint)
        where = (got.scheme.lower(), got.hostname or "", got.port)
    except ValueError:  # not a URL (a port that is no number): nothing allows it
        return False
    for prefix in allowed:
        try:
            want = urllib.parse.urlsplit(prefix)
            allowed_where = (want.scheme.lower(), want.hostname or "", want.port)
        except ValueError:
            continue
        if where == allowed_where and got.path.startswith(want.path) and not (want.query and got.query != want.query):
            return True
    return False


def remote_failure(message: str, shape: Shape) -> str:
    """A ``SERVICE`` call's failure, summarised: the status and endpoint, never the remote's reply.

    >>> remote_failure("Error 500 Internal Server Error returned by http://x.org/sparql with payload: secret",
    ...                Shape(0, 0, 0, 0, ("http://x.org/sparql",)))
    'a SERVICE call failed: HTTP 500 from http://x.org/sparql (the remote answer is not shown)'
    """
    status = re.search(r"\b([1-5]\d\d)\b", message)
    where = re.search(r"returned by (\S+)", message)
    endpoint = where[1] if where else ", ".join(s for s in shape.services if s) or "the remote endpoint"
    detail = f"HTTP {status[1]} from {endpoint}" if status else f"calling {endpoint}"
    return f"a SERVICE call failed: {detail} (the remote answer is not shown)"
