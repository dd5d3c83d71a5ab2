"""FHIR R4 terminology operations over a kgraph store, as dicts: the same resources ``/fhir`` answers.

Input: an open ``kgraph.Store`` and the operation's parameters (a code system by its canonical URL
or its id: ``http://hl7.org/fhir/sid/icd-10-cm`` or ``icd-10-cm``). Output: FHIR R4 resources as
JSON-ready dicts (Parameters, ValueSet, CodeSystem, ConceptMap, CapabilityStatement,
TerminologyCapabilities). Raises ``FhirError`` (a ``KGraphError`` with the HTTP ``status`` the
server answers and the OperationOutcome issue ``code``). Runs the queries in this process, without
the server's timeout and row limit. Does not speak HTTP (``kgraph.fhir.routes``, mounted under
``/fhir`` by ``kgraph serve``).

>>> import kgraph
>>> from kgraph import fhir
>>> store = kgraph.open(DOCTEST_STORE)
>>> answer = fhir.validate_code(store, "icd-10-cm", "K22.8", date="2022-03-01")
>>> [(p["name"], p.get("valueBoolean")) for p in answer["parameter"]][:1]
[('result', False)]
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from kgraph.fhir import facts, maps, operations, resources, valuesets
from kgraph.fhir.systems import BY_ID, FhirError, system_for
from kgraph.indexes import load_indexes

__all__ = ["FhirError", "capability_statement", "code_system", "expand", "lookup", "subsumes",
           "terminology_capabilities", "translate", "validate_code", "validate_code_in_value_set"]

_CATALOGS: dict[str, facts.Catalog] = {}
_LOCK = threading.Lock()


def _url(system: str | None) -> str | None:
    return BY_ID[system].url if system in BY_ID else system


def _context(store: Any) -> tuple[facts.Runner, facts.Catalog]:
    run = facts.store_runner(store)
    key = str(Path(store.build_dir).resolve())
    with _LOCK:
        found = _CATALOGS.get(key)
        if found is None:
            found = _CATALOGS[key] = facts.catalog(run)
            found.build = Path(store.build_dir).name
            found.indexes = functools.partial(load_indexes, store)
        return run, found


def lookup(store: Any, system: str, code: str, *, version: str | None = None, date: str | None = None,
           properties: list[str] | None = None) -> dict[str, Any]:
    """``CodeSystem/$lookup``: a Parameters dict (name, version, display, designation, property)."""
    run, catalog = _context(store)
    return operations.lookup(run, catalog, _url(system), code, version=version, date=date, properties=properties)


def validate_code(store: Any, system: str, code: str, *, version: str | None = None, date: str | None = None,
                  display: str | None = None) -> dict[str, Any]:
    """``CodeSystem/$validate-code``: a Parameters dict (result, message, display)."""
    run, catalog = _context(store)
    return operations.validate_code(run, catalog, _url(system), code, version=version, date=date, display=display)


def subsumes(store: Any, system: str, code_a: str, code_b: str) -> dict[str, Any]:
    """``CodeSystem/$subsumes``: a Parameters dict whose ``outcome`` is equivalent, subsumes, subsumed-by or
    not-subsumed."""
    run, catalog = _context(store)
    return operations.subsumes(run, catalog, _url(system), code_a, code_b)


def translate(store: Any, system: str, code: str, *, url: str | None = None, target: str | None = None,
              reverse: bool = False, date: str | None = None) -> dict[str, Any]:
    """``ConceptMap/$translate``: a Parameters dict (result, message, match)."""
    run, _catalog = _context(store)
    return maps.translate(run, url, _url(system), code, target=_url(target), reverse=reverse, date=date)


def expand(store: Any, url: str, *, filter: str | None = None, count: int | None = None, offset: int | None = None,
           version: str | None = None, date: str | None = None) -> dict[str, Any]:
    """``ValueSet/$expand``: a ValueSet dict with one page of its ``expansion``."""
    run, catalog = _context(store)
    return valuesets.expand(run, catalog, url, filter=filter, count=None if count is None else str(count),
                            offset=None if offset is None else str(offset), version=version, date=date)


def validate_code_in_value_set(store: Any, url: str, system: str, code: str, *, version: str | None = None,
                               date: str | None = None) -> dict[str, Any]:
    """``ValueSet/$validate-code``: a Parameters dict (result, message, display)."""
    run, catalog = _context(store)
    return valuesets.validate_code(run, catalog, url, _url(system), code, version=version, date=date)


def code_system(store: Any, system: str, version: str | None = None) -> dict[str, Any]:
    """The CodeSystem resource of a system (one fiscal year of ICD-10-CM with ``version``)."""
    _run, catalog = _context(store)
    return resources.code_system(system_for(_url(system)), catalog, version)


def capability_statement(store: Any, base: str = "http://127.0.0.1:7878/fhir") -> dict[str, Any]:
    _run, catalog = _context(store)
    return resources.capability_statement(base, catalog)


def terminology_capabilities(store: Any) -> dict[str, Any]:
    _run, catalog = _context(store)
    return resources.terminology_capabilities(catalog)
