"""kgraph: a knowledge graph of medical billing-coding relationships.

The public API::

    import kgraph
    store = kgraph.build()                       # data/sources.toml -> .kgraph
    store = kgraph.open(".kgraph")               # read-only
    kgraph.query(store, "SELECT ...").rows       # SPARQL 1.1, CURIEs in rows
    store.rdflib()                               # rdflib.Dataset on the same Oxigraph store
    kgraph.changes(store, since="FY2021")        # what changed since a release, per code-set family
"""

from kgraph.build import build
from kgraph.changes import Change, Changes, ChangesError, changes
from kgraph.check import CheckResult, ClaimError, check, check_many
from kgraph.errors import BuildError, CurieError, KGraphError, QueryError, SourceError, StoreError
from kgraph.export import Exported, export
from kgraph.sparql import Table, named_queries, query
from kgraph.store import Store
from kgraph.store import open as open  # noqa: PLC0414 - kgraph.open is the public name
from kgraph.traverse import TraversalError, neighborhood, path, to_networkx
from kgraph.validate import Finding, Findings, validate
from kgraph.viz import ExportError, write_html

__version__ = "0.1.0"

__all__ = [
    "Change",
    "Changes",
    "ChangesError",
    "CheckResult",
    "ClaimError",
    "check",
    "check_many",
    "export",
    "BuildError",
    "CurieError",
    "ExportError",
    "Exported",
    "Finding",
    "Findings",
    "KGraphError",
    "QueryError",
    "SourceError",
    "Store",
    "StoreError",
    "Table",
    "TraversalError",
    "build",
    "changes",
    "named_queries",
    "neighborhood",
    "open",
    "path",
    "query",
    "to_networkx",
    "validate",
    "write_html",
]
