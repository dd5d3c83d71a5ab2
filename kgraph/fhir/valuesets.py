"""Implicit value sets: ``ValueSet/$expand`` (with ``filter``, ``count``, ``offset``) and ``ValueSet/$validate-code``.

Input: a ``Runner`` and ``Catalog`` (``kgraph.fhir.facts``), a value set URL, and the expansion
parameters. The value sets (``KG`` = ``https://w3id.org/kgraph/fhir/ValueSet/``):

- ``<system url>?fhir_vs``: every code of a code system (FHIR's implicit value set); for
  ICD-10-CM with ``date`` or ``systemVersion``, the codes listed in that fiscal year.
- ``<system url>?fhir_vs=isa/<code>``: the code and every code below it (ICD-10-CM, NUCC).
- ``KG icd-10-cm-billable?under=<code>``: the ICD-10-CM codes under a category (and itself) that
  are billable in the fiscal year of ``date`` / ``systemVersion`` (``kg:billableInFY``; default the newest).
- ``KG diagnoses-supporting?procedure=<code>``: the diagnoses a briefing says support a procedure,
  with every code below them (as the ``diagnoses_supporting`` named query).
- ``KG modifiers-for?procedure=<code>``: the modifiers a briefing lists for a procedure, and those
  the fee schedule prices a row for (as ``modifiers_for``).

Paging and filtering run in SPARQL (``LIMIT`` / ``OFFSET`` in the store's index order, the same
on every request to one build; the codes of a page are sorted), so the server's row limit applies
to one page. Output: ValueSet dicts with an ``expansion`` (``total``, ``offset``,
``contains``), and Parameters for $validate-code. Raises ``FhirError`` (404 unknown value set, 400
bad parameter). Does not speak HTTP.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.fhir import facts
from kgraph.fhir.facts import Catalog, Runner
from kgraph.fhir.operations import ICD, icd_year, parse_day
from kgraph.fhir.resources import parameters, value
from kgraph.fhir.systems import BY_ID, BY_URL, KGRAPH_FHIR, FhirError, System, curie, local

KG_VS = KGRAPH_FHIR + "ValueSet/"
NAMED = {
    "icd-10-cm-billable": ("under", "ICD-10-CM codes under a category billable in a fiscal year"),
    "diagnoses-supporting": ("procedure", "Diagnoses that support a procedure (briefing evidence)"),
    "modifiers-for": ("procedure", "Modifiers a briefing lists for a procedure or the fee schedule prices"),
}
_DISPLAY = "OPTIONAL { ?c kg:officialTitle ?t } OPTIONAL { ?c rdfs:label ?l } BIND(COALESCE(?t, ?l) AS ?d)"


def _int(name: str, text: str | None, default: int | None) -> int | None:
    if text is None or text == "":
        return default
    if not text.strip().isdigit():
        raise FhirError(f"{name}={text!r}: not a whole number >= 0", 400)
    return int(text)


def _fy_literal(fy: int) -> ox.Literal:
    return ox.Literal(str(fy), datatype=ox.NamedNode(ns.XSD + "integer"))


def _pattern(catalog: Catalog, url: str, version: str | None, date: str | None) -> tuple[str, dict[str, Any], str]:
    """(SPARQL group binding ?c and ?d, its terms, a title) for a value set URL."""
    base, _, query = url.partition("?")
    args = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if base in BY_URL and "fhir_vs" in args:
        system = BY_URL[base]
        body = f"?c a kg:{system.cls} ."
        terms: dict[str, Any] = {}
        title = f"All codes of {system.title}"
        if args["fhir_vs"]:
            op, _, code = args["fhir_vs"].partition("/")
            if op != "isa" or not system.hierarchical:
                raise FhirError(f"{url}: only fhir_vs and fhir_vs=isa/<code> (on ICD-10-CM and NUCC) are served", 422,
                                "not-supported")
            # the path first: from "?c a kg:ICD10CMCode" Oxigraph walks ~98,000 codes (8 s against 5 ms)
            body = "?c skos:broader* ?top ."
            terms["top"] = facts.node(curie(system, code))
            title = f"{code} and the codes below it in {system.title}"
        if system is ICD and (version or date):
            body += " ?c kg:inFY ?year FILTER(?year = ?fy)"
            terms["fy"] = _fy_literal(icd_year(catalog, version, parse_day(date)))
        return body, terms, title
    name = base.removeprefix(KG_VS)
    if not base.startswith(KG_VS) or name not in NAMED:
        raise FhirError(f"{url}: unknown value set; this server expands <code system url>?fhir_vs[=isa/<code>] and "
                        + ", ".join(f"{KG_VS}{n}?{p}=<code>" for n, (p, _) in NAMED.items()), 404, "not-found")
    key, title = NAMED[name]
    if not args.get(key):
        raise FhirError(f"{url}: give the {key} in the URL ({KG_VS}{name}?{key}=<code>)", 400, "required")
    if name == "icd-10-cm-billable":
        fy = icd_year(catalog, version, parse_day(date))
        return ("?c skos:broader* ?top ; kg:billableInFY ?year FILTER(?year = ?fy)",
                {"top": facts.node(curie(ICD, args[key])), "fy": _fy_literal(fy)}, f"{title} (FY{fy})")
    proc = _procedure(args[key])
    if name == "diagnoses-supporting":
        return ("?a rdf:object ?p ; rdf:predicate kg:supports ; rdf:subject ?via . ?c skos:broader* ?via .",
                {"p": proc}, title)
    return ("{ ?a rdf:object ?p ; rdf:predicate kg:modifierFor ; rdf:subject ?c } UNION "
            "{ ?r kg:procedure ?p ; kg:modifier ?c ; a kg:FeeScheduleRow }", {"p": proc}, title)


def _procedure(code: str) -> ox.NamedNode:
    try:
        return facts.node(ns.normalize_code(code if ":" in code and code[:1].isalpha() else code, prefix=None))
    except ns.CurieError:
        raise FhirError(f"{code!r}: not a CPT or HCPCS code", 400, "code-invalid") from None


def _coding_of(node: str, modifier_type: str | None) -> tuple[System, str]:
    prefix, _, code = node.partition(":")
    if prefix == "MOD":
        return (BY_ID["cpt"] if (modifier_type or ("CPT" if code.isdigit() else "")) == "CPT" else BY_ID["hcpcs"]), code
    system = next(s for s in BY_URL.values() if s.prefix == prefix)
    return system, code


def expand(run: Runner, catalog: Catalog, url: str | None, *, filter: str | None = None, count: str | None = None,
           offset: str | None = None, version: str | None = None, date: str | None = None,
           code: str | None = None) -> dict[str, Any]:
    """``ValueSet/$expand``: one page of the value set's codes (sorted within the page), with the total."""
    if not url:
        raise FhirError("give the value set: 'url' is missing", 400, "required")
    body, terms, title = _pattern(catalog, url, version, date)
    first, size = _int("offset", offset, 0) or 0, _int("count", count, None)
    where = body
    if filter:
        where += (f" {_DISPLAY} FILTER(CONTAINS(LCASE(STR(?c)), ?needle) "
                  "|| CONTAINS(LCASE(COALESCE(?d, \"\")), ?needle))")
        terms["needle"] = ox.Literal(filter.strip().lower())
    if code is not None:
        where += " FILTER(?c = ?wanted)"
        terms["wanted"] = facts.node(code)
    total = int(run(f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ {where} }}", terms)[0]["n"] or 0)
    page = f" LIMIT {size}" if size is not None else ""
    # the page is picked before its displays are fetched (joining titles to ~98,000 codes first took
    # 20 s), in the store's index order, the same on every request to one build: Oxigraph sorts
    # 98,000 codes in 9 s, so only the codes of a page are sorted
    q = (f"SELECT ?c (SAMPLE(?d) AS ?display) (SAMPLE(?mt) AS ?type) WHERE {{ "
         f"{{ SELECT DISTINCT ?c WHERE {{ {where} }} OFFSET {first}{page} }} "
         f"{_DISPLAY} OPTIONAL {{ ?c kg:modifierType ?mt }} }} GROUP BY ?c")
    contains = []
    for r in sorted(run(q, terms), key=lambda r: r["c"] or ""):
        system, local_code = _coding_of(r["c"] or "", r["type"])
        entry = {"system": system.url, "code": local_code}
        if r["display"] and system.displays or (r["display"] and (r["c"] or "").startswith("MOD:")):
            entry["display"] = r["display"]
        contains.append(entry)
    params = [{"name": k, f"value{t}": v} for k, t, v in (("offset", "Integer", first), ("count", "Integer", size),
                                                          ("filter", "String", filter)) if v is not None]
    expansion: dict[str, Any] = {"identifier": f"urn:uuid:{_uuid()}", "timestamp": _now(), "total": total,
                                 "offset": first, "parameter": params, "contains": contains}
    return {"resourceType": "ValueSet", "url": url, "status": "active", "title": title,
            "expansion": {k: v for k, v in expansion.items() if v != []}}


def validate_code(run: Runner, catalog: Catalog, url: str | None, system_url: str | None, code: str | None, *,
                  version: str | None = None, date: str | None = None) -> dict[str, Any]:
    """``ValueSet/$validate-code``: whether a code (of ``system``) is in the value set."""
    if not system_url or system_url.partition("|")[0] not in BY_URL:
        raise FhirError(f"give the code's 'system' (one of {', '.join(BY_URL)})", 400, "required")
    system = BY_URL[system_url.partition("|")[0]]
    if system.prefix in ("CPT", "HCPCS") and url and "/modifiers-for" in url:
        try:
            node = ns.normalize_code(code or "", prefix="MOD")
        except ns.CurieError as exc:
            raise FhirError(str(exc), 400, "code-invalid") from None
    else:
        node = curie(system, code or "")
    found = expand(run, catalog, url, version=version, date=date, code=node)
    ok = found["expansion"]["total"] > 0
    message = "" if ok else f"{local(node)} ({system.url}) is not in the value set {url}"
    shown = found["expansion"].get("contains", [{}])[0].get("display") if ok else None
    return parameters(value("result", ok), value("message", message) if message else None,
                      value("display", shown) if shown else None, value("code", code or "", "code"),
                      value("system", system.url, "uri"))


def value_sets() -> list[dict[str, Any]]:
    """The kgraph value sets as ValueSet resources (their code is a URL parameter: expand with ``url=...?p=code``)."""
    return [{"resourceType": "ValueSet", "id": name, "url": KG_VS + name, "name": name.replace("-", "_"),
             "title": title, "status": "active", "experimental": False,
             "description": f"{title}. Expand {KG_VS}{name}?{key}=<code> with ValueSet/$expand."}
            for name, (key, title) in NAMED.items()]


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
