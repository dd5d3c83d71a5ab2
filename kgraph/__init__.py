"""kgraph: a knowledge graph of medical billing-coding relationships.

The public API::

    import kgraph
    store = kgraph.build()                       # data/sources.toml -> .kgraph
    store = kgraph.open(".kgraph")               # read-only
    kgraph.query(store, "SELECT ...").rows       # SPARQL 1.1, CURIEs in rows
    store.rdflib()                               # rdflib.Dataset on the same Oxigraph store
    kgraph.changes(store, since="FY2021")        # what changed since a release, per code-set family

Each name is imported from its module the first time it is used (PEP 562), so ``import kgraph``
costs what the command in hand needs: ``kgraph describe`` does not load the build's readers, the
claim-check indexes' code or networkx. Five public functions share their module's name
(``build``, ``changes``, ``check``, ``export``, ``validate``); importing the module (``import
kgraph.build``) does not replace the function on the package, as the eager imports this replaces
did not either. ``kgraph.build`` the module stays ``sys.modules["kgraph.build"]``. Any other
submodule is imported when first named: ``import kgraph; kgraph.viz.write_html(...)`` works.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for readers and type checkers
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

#: public name -> the module that defines it
_HOMES = {
    "build": "kgraph.build",
    "Change": "kgraph.changes", "Changes": "kgraph.changes", "ChangesError": "kgraph.changes",
    "changes": "kgraph.changes",
    "CheckResult": "kgraph.check", "ClaimError": "kgraph.check", "check": "kgraph.check",
    "check_many": "kgraph.check",
    "BuildError": "kgraph.errors", "CurieError": "kgraph.errors", "KGraphError": "kgraph.errors",
    "QueryError": "kgraph.errors", "SourceError": "kgraph.errors", "StoreError": "kgraph.errors",
    "Exported": "kgraph.export", "export": "kgraph.export",
    "Table": "kgraph.sparql", "named_queries": "kgraph.sparql", "query": "kgraph.sparql",
    "Store": "kgraph.store", "open": "kgraph.store",
    "TraversalError": "kgraph.traverse", "neighborhood": "kgraph.traverse", "path": "kgraph.traverse",
    "to_networkx": "kgraph.traverse",
    "Finding": "kgraph.validate", "Findings": "kgraph.validate", "validate": "kgraph.validate",
    "ExportError": "kgraph.viz", "write_html": "kgraph.viz",
}

__all__ = [  # = _HOMES's keys (tests/test_project.py), written out for readers and linters
    "BuildError", "Change", "Changes", "ChangesError", "CheckResult", "ClaimError", "CurieError",
    "ExportError", "Exported", "Finding", "Findings", "KGraphError", "QueryError", "SourceError",
    "Store", "StoreError", "Table", "TraversalError", "build", "changes", "check", "check_many",
    "export", "named_queries", "neighborhood", "open", "path", "query", "to_networkx", "validate",
    "write_html",
]


class _Package(types.ModuleType):
    """The ``kgraph`` module: public names resolved on first use; a submodule import never
    replaces a public function of the same name (``kgraph.build`` stays the function)."""

    def __getattr__(self, name: str) -> Any:
        home = _HOMES.get(name)
        if home is None:
            # a submodule (kgraph.viz, kgraph.traverse ...), as the eager imports this replaces bound them
            if not name.startswith("_") and importlib.util.find_spec(f"kgraph.{name}") is not None:
                return importlib.import_module(f"kgraph.{name}")
            raise AttributeError(f"module 'kgraph' has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        types.ModuleType.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            self.__getattr__(name)  # the import system binding the submodule: keep the function
            return
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(_HOMES))


sys.modules[__name__].__class__ = _Package
