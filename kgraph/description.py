"""What a store holds, told to SPARQL tools: VoID statistics, the named queries as SHACL, the Service Description.

Input: a store being built (``void_statistics``, ``query_lines``) or a built store's ``build.json``
(``service_description``). Output: plain dicts and N-Quads lines at build time; an rdflib graph of
the SPARQL 1.1 Service Description at serve time, serialized as Turtle or JSON-LD.

- ``example_text(query)``: a named query as text any SPARQL client can run: its description and
  parameters as comments, ``PREFIX`` lines for the prefixes it uses, and the parameters of its
  ``example:`` line written into the text in place of their variables.
- ``query_lines()``: the named queries as ``sh:SPARQLSelectExecutable`` resources (``rdfs:comment``,
  ``sh:select``) in the graph ``GRAPH:queries``, as the SIB sparql-examples project publishes its
  examples (editors such as YASGUI or the SIB sparql-editor list them with one query).
- ``void_statistics(database)``: per named graph, triples, distinct subjects and objects, and the
  class and property partitions (VoID), computed at build time (``build.json`` ``"void"``).
- ``service_description(endpoint, info)``: ``sd:Service`` with the endpoint, SPARQL 1.1 Query (and
  Update when allowed), the result formats, and a default dataset whose default graph is the
  union of the named graphs, one ``sd:NamedGraph`` per graph with its VoID statistics.

``serialize`` raises ``kgraph.errors.NotAcceptable`` (HTTP 406) when no format fits the client.
Does not serve HTTP, nor run the named queries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.errors import NotAcceptable
from kgraph.internal_queries import solutions
from kgraph.sparql import NamedQuery, _term, named_queries

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
SH = "http://www.w3.org/ns/shacl#"
FORMATS = "http://www.w3.org/ns/formats/"
#: the graph of the named queries (SHACL executables)
QUERY_GRAPH = ns.iri("GRAPH:queries")
#: result formats of ``kgraph serve`` (W3C format IRIs)
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "JSON-LD", "RDF_XML")
#: media types of the Service Description, Turtle for anything
MEDIA_TYPES = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD,
               "application/n-triples": ox.RdfFormat.N_TRIPLES, "application/rdf+xml": ox.RdfFormat.RDF_XML,
               "*/*": ox.RdfFormat.TURTLE, "text/*": ox.RdfFormat.TURTLE, "application/*": ox.RdfFormat.JSON_LD}
#: a string, an IRI, a comment, a variable, or one other character: enough to find variables outside text
_TOKEN = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
                    r'|<[^<>"{}|^`\\\s]*>|#[^\n]*|[?$][A-Za-z_]\w*|[A-Za-z]+|[\s\S]')


def example_params(query: NamedQuery) -> dict[str, str]:
    """The ``-p name=value`` pairs of a query's ``example:`` line (``{}`` when it has none).

    >>> example_params(named_queries()["conflicts_between"])
    {'a': '74360', 'b': '77002'}
    """
    return {m.group(1): m.group(2) for m in re.finditer(r"-p\s+(\w+)=(\S+)", query.example)}


def example_text(query: NamedQuery, params: Mapping[str, str] | None = None) -> str:
    """``query`` as runnable text: description and parameters as comments, PREFIX lines, and each
    parameter (default: the example's) written in place of its variable.

    In a ``SELECT`` list the value becomes ``(value AS ?name)``, in ``ORDER BY`` / ``GROUP BY``
    ``(value)``, elsewhere the value itself, so the text answers as the query run with the
    parameters bound. Raises ``QueryError`` for a value that is not of the parameter's type.
    """
    params = example_params(query) if params is None else dict(params)
    values = {name: _sparql_term(_term(value, query.params.get(name, ""))) for name, value in params.items()}
    body = "".join(_substituted(_without_comments(query.text), values)).strip()
    lines = [f"# {query.name}: {query.description}"]
    lines += [f"# parameter ?{k}: {v} (here {params[k]})" if k in params else f"# parameter ?{k}: {v}"
              for k, v in query.params.items()]
    used = set(re.findall(r"(?<![\w<])([A-Za-z][\w-]*):", body))
    lines += [f"PREFIX {p}: <{iri}>" for p, iri in ns.PREFIXES.items() if p in used]
    return "\n".join(lines) + "\n" + body + "\n"


def _without_comments(text: str) -> str:
    return "".join(t for t in _TOKEN.findall(text) if not t.startswith("#"))


def _sparql_term(term: ox.NamedNode | ox.Literal) -> str:
    if isinstance(term, ox.NamedNode):
        return ns.curie(term.value) if ns.curie(term.value) != term.value else str(term)
    return str(term)


def _substituted(text: str, values: Mapping[str, str]) -> Iterator[str]:
    """The tokens of ``text`` with the variables in ``values`` replaced (see ``example_text``)."""
    clause, depth = "", 0
    for token in _TOKEN.findall(text):
        upper = token.upper()
        if upper == "SELECT":
            clause, depth = "select", 0
        elif upper in ("WHERE", "{") and clause == "select" and depth == 0:
            clause = ""
        elif upper in ("ORDER", "GROUP", "HAVING"):
            clause, depth = "modifier", 0
        elif upper in ("}", "LIMIT", "OFFSET", "VALUES"):
            clause = ""
        elif token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        name = token[1:]
        if token[:1] in "?$" and name in values:
            if clause == "select" and depth == 0:
                token = f"({values[name]} AS ?{name})"
            elif clause == "modifier" and depth == 0:
                token = f"({values[name]})"
            else:
                token = values[name]
        yield token


def query_lines(queries: Mapping[str, NamedQuery] | None = None) -> Iterator[str]:
    """N-Quads of the named queries as ``sh:SPARQLSelectExecutable`` resources in ``GRAPH:queries``."""
    graph = f"<{QUERY_GRAPH}>"
    for query in (queries or named_queries()).values():
        node = f"<{ns.BASE}query/{query.name}>"
        text = example_text(query)
        comment = query.description + "".join(f" Parameter ?{k}: {v}." for k, v in query.params.items())
        yield f"{node} <{ns.RDF}type> <{SH}SPARQLExecutable> {graph} .\n"
        yield f"{node} <{ns.RDF}type> <{SH}SPARQLSelectExecutable> {graph} .\n"
        yield f"{node} <{ns.RDFS}label> {ox.Literal(query.name)} {graph} .\n"
        yield f"{node} <{ns.RDFS}comment> {ox.Literal(comment)} {graph} .\n"
        yield f"{node} <{SH}select> {ox.Literal(text)} {graph} .\n"


def void_statistics(database: ox.Store,
                    known: Mapping[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Named graph IRI -> ``triples``, ``distinct_subjects``, ``distinct_objects``, ``classes``
    (class IRI -> instances) and ``properties`` (property IRI -> triples): VoID, for ``build.json``.

    ``known``: the statistics of graphs whose quads are unchanged since they were computed (a
    build's reused sources); they are kept, and only the other graphs are counted. Three aggregate
    queries (on the full build's 18.6M quads, 15 s for every graph; ``kgraph.build`` runs them in a thread
    while it writes the claim-check indexes).
    """
    present = {g.value for g in database.named_graphs() if isinstance(g, ox.NamedNode)}
    stats: dict[str, dict[str, Any]] = {g: dict(v) for g, v in (known or {}).items() if g in present}
    todo = sorted(present - set(stats))
    if not todo:
        return dict(sorted(stats.items()))
    # without known graphs, one pass over every graph; else only the others, by their index
    graphs = [ox.NamedNode(g) for g in todo] if stats else None

    def of(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> dict[str, Any]:
        return stats.setdefault(str(getattr(graph, "value", graph)), {
            "triples": 0, "distinct_subjects": 0, "distinct_objects": 0, "classes": {}, "properties": {}})

    for row in solutions(database, "void_graphs", g=graphs):
        of(row["g"]).update(triples=int(row["t"].value), distinct_subjects=int(row["s_"].value),
                            distinct_objects=int(row["o_"].value))
    for row in solutions(database, "void_properties", g=graphs):
        of(row["g"])["properties"][row["p"].value] = int(row["t"].value)
    for row in solutions(database, "void_classes", g=graphs):
        if isinstance(row["c"], ox.NamedNode):
            of(row["g"])["classes"][row["c"].value] = int(row["n"].value)
    return dict(sorted(stats.items()))


def service_description(endpoint: str, info: Mapping[str, Any], *, allow_update: bool = False) -> list[ox.Triple]:
    """The SPARQL 1.1 Service Description of ``endpoint`` serving the build ``info`` (its ``build.json``).

    The default graph is the union of the named graphs (``sd:UnionDefaultGraph``); each named graph
    is an ``sd:NamedGraph`` whose ``sd:graph`` is a ``void:Dataset`` with the statistics of
    ``void_statistics``. A build made before they were computed gets graphs without statistics
    (rebuild the store to add them).
    """
    def iri(value: str) -> ox.NamedNode:
        return ox.NamedNode(value)

    def integer(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=iri(ns.XSD + "integer"))

    a = iri(ns.RDF + "type")
    service, dataset, default = iri(endpoint), ox.BlankNode(), ox.BlankNode()
    triples = [
        ox.Triple(service, a, iri(SD + "Service")),
        ox.Triple(service, iri(SD + "endpoint"), service),
        ox.Triple(service, iri(SD + "supportedLanguage"), iri(SD + "SPARQL11Query")),
        ox.Triple(service, iri(SD + "feature"), iri(SD + "UnionDefaultGraph")),
        ox.Triple(service, iri(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, a, iri(SD + "Dataset")),
        ox.Triple(dataset, iri(SD + "defaultGraph"), default),
        ox.Triple(default, a, iri(SD + "Graph")),
        ox.Triple(default, iri(ns.RDFS + "comment"), ox.Literal("the union of the named graphs")),
    ]
    if allow_update:
        triples.append(ox.Triple(service, iri(SD + "supportedLanguage"), iri(SD + "SPARQL11Update")))
    triples += [ox.Triple(service, iri(SD + "resultFormat"), iri(FORMATS + f)) for f in RESULT_FORMATS]
    if info.get("id"):
        triples.append(ox.Triple(dataset, iri(ns.DCT + "identifier"), ox.Literal(str(info["id"]))))
    if info.get("built_at"):
        triples.append(ox.Triple(dataset, iri(ns.DCT + "modified"),
                                 ox.Literal(str(info["built_at"]), datatype=iri(ns.XSD + "dateTime"))))
    void: Mapping[str, Mapping[str, Any]] = info.get("void") or {}
    sources = {ns.iri(f"GRAPH:{s['id']}"): s for s in info.get("sources", []) if s.get("id")}
    for name in sorted(set(void) | set(sources)):
        entry, graph = ox.BlankNode(), ox.BlankNode()
        triples += [ox.Triple(dataset, iri(SD + "namedGraph"), entry), ox.Triple(entry, a, iri(SD + "NamedGraph")),
                    ox.Triple(entry, iri(SD + "name"), iri(name)), ox.Triple(entry, iri(SD + "graph"), graph),
                    ox.Triple(graph, a, iri(SD + "Graph")), ox.Triple(graph, a, iri(VOID + "Dataset"))]
        if name in sources:
            triples.append(ox.Triple(graph, iri(ns.DCT + "source"), ox.Literal(str(sources[name].get("file", "")))))
        stats = void.get(name)
        if not stats:
            continue
        for key, prop in (("triples", "triples"), ("distinct_subjects", "distinctSubjects"),
                          ("distinct_objects", "distinctObjects")):
            triples.append(ox.Triple(graph, iri(VOID + prop), integer(stats[key])))
        triples.append(ox.Triple(graph, iri(VOID + "classes"), integer(len(stats["classes"]))))
        triples.append(ox.Triple(graph, iri(VOID + "properties"), integer(len(stats["properties"]))))
        for cls, n in stats["classes"].items():
            part = ox.BlankNode()
            triples += [ox.Triple(graph, iri(VOID + "classPartition"), part),
                        ox.Triple(part, iri(VOID + "class"), iri(cls)),
                        ox.Triple(part, iri(VOID + "entities"), integer(n))]
        for prop, n in stats["properties"].items():
            part = ox.BlankNode()
            triples += [ox.Triple(graph, iri(VOID + "propertyPartition"), part),
                        ox.Triple(part, iri(VOID + "property"), iri(prop)),
                        ox.Triple(part, iri(VOID + "triples"), integer(n))]
    return triples


def serialize(triples: list[ox.Triple], accepted: Iterable[str]) -> tuple[bytes, str]:
    """``triples`` in the first of the ``accepted`` media ranges that ``MEDIA_TYPES`` knows: (body, Content-Type)."""
    for media in accepted:
        fmt = MEDIA_TYPES.get(media.split(";")[0].strip())
        if fmt is not None:
            prefixes = {"sd": SD, "void": VOID, "dct": ns.DCT, "xsd": ns.XSD, "rdfs": ns.RDFS, "formats": FORMATS}
            body = ox.serialize(triples, format=fmt, prefixes=prefixes if fmt is ox.RdfFormat.TURTLE else None)
            return body or b"", fmt.media_type + ("; charset=utf-8" if fmt is ox.RdfFormat.TURTLE else "")
    offers = [m for m in MEDIA_TYPES if "*" not in m]
    raise NotAcceptable("the service description is available as " + ", ".join(offers), offers)
