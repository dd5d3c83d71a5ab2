"""FHIR R4 (4.0.1) resources as plain dicts: Parameters, OperationOutcome, CodeSystem, ConceptMap,
CapabilityStatement and TerminologyCapabilities.

Input: ``Catalog`` facts (``kgraph.fhir.facts``) and values computed by ``kgraph.fhir.operations``.
Output: JSON-ready dicts that parse as their resource with the ``fhir.resources`` models (tested).
Raises ``FhirError`` for a CodeSystem id or version the store does not hold. Does not query the
store nor speak HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kgraph.fhir.facts import Catalog
from kgraph.fhir.systems import FHIR_VERSION, KGRAPH_FHIR, SYSTEMS, FhirError, System

#: the operations of each resource type, with their OperationDefinition canonical (HL7's own)
OPERATIONS = {
    "CodeSystem": [("lookup", "CodeSystem-lookup"), ("validate-code", "CodeSystem-validate-code"),
                   ("subsumes", "CodeSystem-subsumes")],
    "ValueSet": [("expand", "ValueSet-expand"), ("validate-code", "ValueSet-validate-code")],
    "ConceptMap": [("translate", "ConceptMap-translate")],
}
SEARCH = {"CodeSystem": ["url", "version", "name", "_id"], "ConceptMap": ["url", "_id"], "ValueSet": ["url", "_id"]}


def value(name: str, val: Any, kind: str | None = None) -> dict[str, Any]:
    """A Parameters parameter: ``valueBoolean`` / ``valueInteger`` / ``valueString`` by Python type,
    or ``value<Kind>`` when ``kind`` is given (``code``, ``Coding``, ``dateTime`` ...)."""
    if kind is None:
        kind = "Boolean" if isinstance(val, bool) else "Integer" if isinstance(val, int) else "String"
    return {"name": name, f"value{kind[0].upper()}{kind[1:]}": val}


def part(name: str, *parts: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "part": list(parts)}


def parameters(*params: dict[str, Any] | None) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [p for p in params if p is not None]}


def outcome(message: str, *, code: str = "invalid", severity: str = "error",
            expression: list[str] | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": message,
                             "details": {"text": message}}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def coding(system: System, code: str, display: str | None = None) -> dict[str, Any]:
    found = {"system": system.url, "code": code}
    if display:
        found["display"] = display
    return found


def code_system(system: System, catalog: Catalog, version: str | None = None) -> dict[str, Any]:
    """The CodeSystem resource of one system (and version: the newest loaded one by default).

    ``content`` is ``not-present``: the concepts are answered by $lookup and $expand, not listed in
    the resource (CPT's descriptors may never be shown; ICD-10-CM has ~98,000 codes per year).
    """
    versions = catalog.versions(system.kinds)
    if version is not None and version not in versions:
        raise FhirError(f"{system.url}: version {version!r} is not loaded; loaded: {', '.join(versions) or 'none'}",
                        404, "not-found")
    chosen = version or (versions[-1] if versions else None)
    found: dict[str, Any] = {
        "resourceType": "CodeSystem", "id": resource_id(system, chosen if system.kinds == ("icd10cm",) else None),
        "url": system.url, "name": system.name, "title": system.title, "status": "active",
        "experimental": False, "publisher": system.publisher, "copyright": system.copyright,
        "caseSensitive": True, "content": "not-present",
        "hierarchyMeaning": "is-a" if system.hierarchical else None,
        "count": catalog.counts.get(system.cls),
        "description": _description(system, catalog),
        "property": _properties(system),
    }
    if chosen:
        found["version"] = chosen
    return {k: v for k, v in found.items() if v not in (None, [], "")}


def resource_id(system: System, version: str | None) -> str:
    """``icd-10-cm`` (the newest version) or ``icd-10-cm-2021`` (one fiscal year)."""
    return f"{system.id}-{version}" if version else system.id


def _description(system: System, catalog: Catalog) -> str:
    files = sorted({f for k in system.kinds for f in catalog.files.get(k, [])})
    text = f"{system.title}, as loaded into kgraph build {catalog.build or '(unnamed)'}"
    if system.kinds == ("icd10cm",):
        text += " (version = fiscal year: FY N runs from October 1 of N-1 to September 30 of N)"
    return text + (f"; read from {', '.join(files)}" if files else "")


_PROPERTIES = {
    "ICD10CM": [("parent", "code"), ("child", "code"), ("billable", "boolean"), ("header-since", "string"),
                ("valid-from", "string"), ("valid-to", "string"), ("inactive", "boolean")],
    "CPT": [("fee-schedule-status", "code"), ("fee-schedule-indicator", "string"), ("mue-units", "integer"),
            ("mue-adjudication-indicator", "code"), ("add-on-type", "code"), ("add-on-primary", "code"),
            ("ncci-edits-in-effect", "integer"), ("ncci-edits-unknown", "integer"), ("briefing", "string")],
    "NUCC": [("parent", "code"), ("child", "code"), ("grouping", "string"), ("classification", "string"),
             ("specialization", "string")],
    "MSPEC": [("provider-type", "string")],
}
_PROPERTIES["HCPCS"] = [*_PROPERTIES["CPT"], ("added", "dateTime"), ("terminated", "dateTime")]


def _properties(system: System) -> list[dict[str, str]]:
    return [{"code": c, "uri": f"{KGRAPH_FHIR}property/{c}", "type": t} for c, t in _PROPERTIES.get(system.prefix, [])]


def capability_statement(base: str, catalog: Catalog) -> dict[str, Any]:
    """The server's CapabilityStatement: terminology operations, read and search, JSON only."""
    resources = []
    for kind in ("CodeSystem", "ValueSet", "ConceptMap"):
        resources.append({
            "type": kind, "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": n, "type": "token" if n == "_id" else "uri" if n == "url" else "string"}
                            for n in SEARCH[kind]],
            "operation": [{"name": name, "definition": f"http://hl7.org/fhir/OperationDefinition/{d}"}
                          for name, d in OPERATIONS[kind]]})
    return {
        "resourceType": "CapabilityStatement", "id": "kgraph", "status": "active", "date": _now(),
        "kind": "instance", "fhirVersion": FHIR_VERSION, "format": ["json"], "publisher": "kgraph",
        "name": "KgraphTerminologyServer", "title": "kgraph FHIR terminology service",
        "description": ("Read-only FHIR R4 terminology operations over a kgraph build. CMS Medicare specialty "
                        f"codes have no HL7 URL: this server names them {SYSTEMS[-1].url}. CPT descriptors are "
                        "AMA-licensed and never shown."),
        "software": {"name": "kgraph"},
        "implementation": {"description": f"kgraph build {catalog.build or '(unnamed)'}", "url": base},
        "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
        "rest": [{"mode": "server", "resource": resources,
                  "operation": [{"name": "versions", "definition": "http://hl7.org/fhir/OperationDefinition/"
                                 "CapabilityStatement-versions"}]}],
    }


def terminology_capabilities(catalog: Catalog) -> dict[str, Any]:
    """TerminologyCapabilities: each code system with its loaded versions (``?mode=terminology``)."""
    systems = []
    for system in SYSTEMS:
        versions = catalog.versions(system.kinds)
        entry: dict[str, Any] = {"uri": system.url, "subsumption": system.hierarchical}
        if versions:
            entry["version"] = [{"code": v, "isDefault": i == len(versions) - 1} for i, v in enumerate(versions)]
        systems.append(entry)
    return {
        "resourceType": "TerminologyCapabilities", "id": "kgraph", "status": "active", "date": _now(),
        "kind": "instance", "name": "KgraphTerminologyCapabilities", "software": {"name": "kgraph"},
        "codeSystem": systems,
        "expansion": {"hierarchical": False, "paging": True,
                      "parameter": [{"name": n} for n in ("filter", "count", "offset", "date")]},
        "validateCode": {"translations": False}, "translation": {"needsMap": False},
    }


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
