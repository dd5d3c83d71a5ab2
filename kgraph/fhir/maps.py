"""ConceptMap resources and ``ConceptMap/$translate`` over the graph's crosswalk edges.

Input: a ``Runner`` (``kgraph.fhir.facts``), a map (its url or id, or the source and target
systems), a code and ``reverse``. The maps:

- ``nucc-to-medicare-specialty``: NUCC taxonomy -> CMS Medicare specialty through the CMS
  crosswalk (``MSPEC:x kg:crosswalksTo NUCC:y``); ``reverse=true`` goes from specialty to taxonomies.
- ``icd-10-cm-to-procedure``: a diagnosis (or a code above it) that a briefing says supports a
  CPT / HCPCS code (``kg:supports`` statements), the role and the file:line as products;
  ``reverse=true`` lists the diagnoses that support a procedure.
- ``ncci-ptp``: column 1 -> column 2 procedures of the NCCI PTP edits in effect on ``date`` (the
  ``ncci_conflicts`` named query), mapped as ``disjoint`` (not billed together) with the modifier
  indicator, dates and status as products; ``reverse=true`` from column 2 to column 1.

Output: Parameters dicts (``result``, ``message``, ``match``) and ConceptMap dicts (no ``group``:
the maps are answered by $translate, not listed). Raises ``FhirError``: 404 unknown map, 400 bad
parameter. Does not speak HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from typing import Any

from kgraph.fhir import facts
from kgraph.fhir.facts import Runner
from kgraph.fhir.operations import parse_day
from kgraph.fhir.resources import coding, parameters, part, value
from kgraph.fhir.systems import BY_ID, KGRAPH_FHIR, FhirError, System, curie, local, system_for, system_of_curie
from kgraph.internal_queries import text as internal

PROPERTY = KGRAPH_FHIR + "property/"


@dataclass(frozen=True)
class Map:
    id: str
    title: str
    source: tuple[System, ...]
    target: tuple[System, ...]
    description: str

    @property
    def url(self) -> str:
        return f"{KGRAPH_FHIR}ConceptMap/{self.id}"


PROCEDURES = (BY_ID["cpt"], BY_ID["hcpcs"])
MAPS = (
    Map("nucc-to-medicare-specialty", "NUCC taxonomy to CMS Medicare specialty", (BY_ID["nucc-provider-taxonomy"],),
        (BY_ID["medicare-specialty"],), "The CMS Medicare provider/supplier specialty to taxonomy crosswalk."),
    Map("icd-10-cm-to-procedure", "Diagnoses that support a procedure", (BY_ID["icd-10-cm"],), PROCEDURES,
        "Briefing statements that a diagnosis (or a code above it) supports a CPT / HCPCS code."),
    Map("ncci-ptp", "NCCI procedure-to-procedure edits", PROCEDURES, PROCEDURES,
        "Column 1 / column 2 pairs of the NCCI PTP edits in effect on a date: not billed together (disjoint)."),
)
MAP_BY_ID = {m.id: m for m in MAPS}


def concept_map(found: Map) -> dict[str, Any]:
    return {"resourceType": "ConceptMap", "id": found.id, "url": found.url, "name": found.id.replace("-", "_"),
            "title": found.title, "status": "active", "experimental": False, "description": found.description,
            "sourceUri": found.source[0].url, "targetUri": found.target[0].url}


def map_for(url: str | None, source: System | None, target: str | None) -> Map:
    """The map named by ``url`` (or id), else the one map from ``source`` (to ``target`` when given)."""
    if url:
        found = MAP_BY_ID.get(url.rsplit("/", 1)[-1].partition("|")[0])
        if found is None or (url.startswith("http") and found.url != url.partition("|")[0]):
            raise FhirError(f"{url}: unknown ConceptMap; this server has {', '.join(m.url for m in MAPS)}", 404,
                            "not-found")
        return found
    fits = [m for m in MAPS if source in m.source + m.target and (not target or target in {s.url for s in
                                                                                           m.source + m.target})]
    if len(fits) != 1:
        raise FhirError("give the ConceptMap 'url' (several maps or none fit this source and target): "
                        + ", ".join(m.url for m in fits or MAPS), 400, "required")
    return fits[0]


def translate(run: Runner, url: str | None, system_url: str | None, code: str | None, *,
              target: str | None = None, reverse: bool = False, date: str | None = None) -> dict[str, Any]:
    """``ConceptMap/$translate``: the codes a code maps to (``reverse``: from)."""
    system = system_for(system_url)
    found = map_for(url, system, target)
    sources = found.target if reverse else found.source
    if system not in sources:
        raise FhirError(f"{system.url} is not a {'target' if reverse else 'source'} of {found.url}"
                        f"{'' if reverse else ' (use reverse=true to translate from its target)'}", 400)
    node = curie(system, code or "")
    matches = _MATCHERS[found.id](run, node, reverse, parse_day(date) or Date.today())
    message = "" if matches else f"{local(node)}: no mapping in {found.url}{' (reverse)' if reverse else ''}"
    return parameters(value("result", bool(matches)), value("message", message) if message else None, *matches)


def _coding(node: str) -> dict[str, Any]:
    system = system_of_curie(node)
    assert system is not None
    return coding(system, local(node))


def _match(equivalence: str, node: str, source: str, products: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    parts = [value("equivalence", equivalence, "code"), value("concept", _coding(node), "Coding")]
    parts += [part("product", value("property", PROPERTY + p, "uri"), value("concept", c, "Coding"))
              for p, c in products]
    parts.append(value("source", source, "uri"))
    return part("match", *parts)


def _label(name: str, text: str) -> dict[str, Any]:
    return {"system": PROPERTY + name, "code": text}


def _crosswalk(run: Runner, node: str, reverse: bool, _day: Date) -> list[dict[str, Any]]:
    q = internal("crosswalk_from" if reverse else "crosswalk_to")
    url = MAP_BY_ID["nucc-to-medicare-specialty"].url
    # the crosswalk lists a specialty for each taxonomy it names: the taxonomy is one kind of the specialty
    return [_match("specializes" if reverse else "wider", r["o"] or "", url, [])
            for r in run(q, {"c": facts.node(node)})]


def _supports(run: Runner, node: str, reverse: bool, _day: Date) -> list[dict[str, Any]]:
    q = internal("diagnoses_supporting_procedure" if reverse else "supported_by_diagnosis")
    url = MAP_BY_ID["icd-10-cm-to-procedure"].url
    out = []
    for r in run(q, {"c": facts.node(node)}):
        products = [("role", _label("role", r["role"]))] if r["role"] else []
        products.append(("evidence", _label("evidence", f"{r['file']}:{r['line']}")))
        out.append(_match("relatedto", r["o"] or "", url, products))
    return out


def _ptp(run: Runner, node: str, reverse: bool, day: Date) -> list[dict[str, Any]]:
    date = facts.ox.Literal(day.isoformat(), datatype=facts.ox.NamedNode(facts.ns.XSD + "date"))
    rows = run(facts.named("ncci_conflicts"), {"code": facts.node(node), "date": date})
    mine, other = ("column2", "column1") if reverse else ("column1", "column2")
    url = MAP_BY_ID["ncci-ptp"].url
    out = []
    for r in rows:
        if r[mine] != node:
            continue
        products = [("modifier-indicator", _label("modifier-indicator", r["modifierIndicator"] or "")),
                    ("status", _label("status", r["status"] or ""))]
        products += [(k, _label(k, r[k] or "")) for k in ("effective", "deletion") if r[k]]
        products.append(("evidence", _label("evidence", f"{r['source']}:{r['line']}")))
        out.append(_match("disjoint", r[other] or "", url, products))
    return out


_MATCHERS = {"nucc-to-medicare-specialty": _crosswalk, "icd-10-cm-to-procedure": _supports, "ncci-ptp": _ptp}
