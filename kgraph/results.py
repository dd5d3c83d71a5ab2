"""pyoxigraph terms as W3C SPARQL 1.1 results JSON cells (``{"type": "uri", "value": ...}``).

Shared by ``kgraph.query`` (``Table.json``) and the query workers, which answer in that JSON; kept
free of kgraph's heavier modules so that a worker starts quickly.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class Cells:
    """pyoxigraph terms as W3C JSON cells, cached: code-set answers repeat the same IRIs."""

    def __init__(self) -> None:
        self.cache: dict[Any, dict[str, Any]] = {}

    def __call__(self, term: Any) -> dict[str, Any]:
        found = self.cache.get(term)
        if found is not None:
            return found
        if isinstance(term, ox.NamedNode):
            found = {"type": "uri", "value": term.value}
        elif isinstance(term, ox.BlankNode):
            found = {"type": "bnode", "value": term.value}
        elif isinstance(term, ox.Literal):
            found = {"type": "literal", "value": term.value}
            if term.language:
                found["xml:lang"] = term.language
            elif term.datatype.value != XSD_STRING:
                found["datatype"] = term.datatype.value
        else:  # an RDF 1.2 triple term
            found = {"type": "triple", "value": {"subject": self(term.subject), "predicate": self(term.predicate),
                                                 "object": self(term.object)}}
        if len(self.cache) < 200_000:
            self.cache[term] = found
        return found
