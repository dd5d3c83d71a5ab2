"""CodeSystem ``$lookup``, ``$validate-code`` and ``$subsumes`` over the graph, as FHIR Parameters dicts.

Input: a ``Runner`` and ``Catalog`` (``kgraph.fhir.facts``), a code system URL, codes, and a
``version`` or ``date`` (ICD-10-CM: the fiscal year, ``2021`` or ``FY2021``, or the fiscal year of
the date by ``kgraph.rules.icd.fiscal_year``). Output: Parameters dicts. Whether a diagnosis is
valid is ``kgraph.rules.icd.code_status`` over the years of the ``code_history`` named query (listed
in the fiscal year, billable in it; none before ICD-10-CM took effect), with the messages of
``kgraph check`` (header, not in that fiscal year, unknown); procedure codes are valid when the
graph holds them and their modifiers (``74360:26``). Raises ``FhirError``: 400 for a bad
parameter, 404 for an unknown code system or code ($lookup), 422 for an operation the system does
not support. Does not speak HTTP (``kgraph.fhir.routes``).
"""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from kgraph import namespaces as ns
from kgraph.fhir import facts
from kgraph.fhir.facts import Catalog, Runner
from kgraph.fhir.resources import parameters, part, value
from kgraph.fhir.systems import BY_ID, FhirError, System, curie, local, split_modifiers, system_for
from kgraph.rules import hcpcs, icd, ptp

ICD = BY_ID["icd-10-cm"]
_SHORT_TITLE = {"system": "http://terminology.hl7.org/CodeSystem/designation-usage", "code": "display"}


def parse_day(text: str | None) -> Date | None:
    """A FHIR ``date`` / ``dateTime`` parameter as a date (its first ten characters)."""
    if not text:
        return None
    try:
        return Date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise FhirError(f"date={text!r}: not a FHIR date (YYYY-MM-DD)", 400, "invalid") from None


def icd_year(catalog: Catalog, version: str | None, day: Date | None) -> int:
    """The ICD-10-CM fiscal year asked for: by ``version``, by ``date``, else the newest loaded."""
    asked = None
    if version:
        text = version.strip().upper().removeprefix("FY")
        if not text.isdigit():
            raise FhirError(f"version={version!r}: an ICD-10-CM version is a fiscal year (2021 or FY2021)", 400)
        asked = int(text)
    if day is not None:
        fy = icd.fiscal_year(day)
        if asked is not None and asked != fy:
            raise FhirError(f"version {version} and date {day} (FY{fy}) disagree; give one of them", 400)
        return fy
    if asked is not None:
        return asked
    if not catalog.fiscal_years:
        raise FhirError("no ICD-10-CM fiscal year is loaded in this build", 422, "not-supported")
    return catalog.fiscal_years[-1]


def _display(system: System, code: str, found: dict[str, Any]) -> str:
    if not system.displays:
        return f"{system.name} {code} (descriptor not shown: AMA-licensed)"
    for key in ("officialTitle", "label", "medicareProviderType"):
        if found.get(key):
            return str(found[key][0])
    return code


def _prop(code: str, val: Any, kind: str | None = None) -> dict[str, Any]:
    return part("property", value("code", code, "code"), value("value", val, kind))


# --- $lookup ------------------------------------------------------------------------------------------------


def lookup(run: Runner, catalog: Catalog, system_url: str | None, code: str | None, *, version: str | None = None,
           date: str | None = None, properties: list[str] | None = None) -> dict[str, Any]:
    """``CodeSystem/$lookup``: display, designations and the graph's properties of one code."""
    system = system_for(system_url)
    base, _mods = split_modifiers(system, code or "")
    node = curie(system, base)
    wanted = set(properties or ())
    parts = tuple(name for name, props in _PARTS if not wanted or wanted & props) \
        if system.prefix in ("CPT", "HCPCS") else ()
    indexed = facts.indexed_parts(run, catalog, node, parts) if parts else None
    if indexed is not None:
        parts = tuple(p for p in parts if p not in indexed)
    found = facts.concept(run, node, years=system is ICD, parts=parts)
    if found is not None and indexed:
        found.update(indexed)
    if not found or f"kg:{system.cls}" not in found.get("type", []):
        raise FhirError(f"{local(node)}: not a code of {system.url} in this build", 404, "not-found")
    day = parse_day(date)
    out = [value("name", system.name)]
    props: list[dict[str, Any]] = []
    if system is ICD:
        fy = icd_year(catalog, version, day)
        out.append(value("version", str(fy)))
        props += _icd_props(run, node, fy, found)
    elif catalog.versions(system.kinds):
        out.append(value("version", catalog.versions(system.kinds)[-1]))
    out.append(value("display", _display(system, local(node), found)))
    if system.displays:
        for short in found.get("shortTitle", []):
            out.append(part("designation", value("use", _SHORT_TITLE, "Coding"), value("value", short)))
    if system.hierarchical and system is not ICD:
        props += [_prop("parent", local(p), "code") for p in found.get("broader", [])]
        props += [_prop("child", local(c), "code") for c in found.get("child", [])]
    for key, name in (("grouping", "grouping"), ("classification", "classification"),
                      ("specialization", "specialization"), ("medicareProviderType", "provider-type")):
        props += [_prop(name, v) for v in found.get(key, [])]
    if system.prefix in ("CPT", "HCPCS"):
        props += _procedure_props(run, catalog, node, day or Date.today(), found, wanted)
    if wanted:
        props = [p for p in props if p["part"][0]["valueCode"] in wanted]
    return parameters(*out, *props)


def _icd_props(run: Runner, node: str, fy: int, found: dict[str, Any]) -> list[dict[str, Any]]:
    rows = found["years"]
    present = sorted({int(r["fy"] or 0) for r in rows})
    billable = {int(r["fy"] or 0) for r in rows if r["billable"] == "yes"}
    props = [_prop("parent", local(p), "code") for p in found.get("broader", [])]
    props += [_prop("child", local(c), "code") for c in found.get("child", [])]
    props.append(_prop("billable", fy in billable, "boolean"))
    props += [_prop("header-since", f"FY{int(r['fy'] or 0)}") for r in rows if r["event"] == "became a header"]
    if present:
        props += [_prop("valid-from", f"FY{present[0]}"), _prop("valid-to", f"FY{present[-1]}")]
    props.append(_prop("inactive", fy not in present, "boolean"))
    return props


#: the rows ``facts.concept`` adds for a procedure, and the properties they give
_PARTS = (("fee", {"fee-schedule-status", "fee-schedule-indicator"}),
          ("mue", {"mue-units", "mue-adjudication-indicator"}), ("briefing", {"briefing"}))


def _procedure_props(run: Runner, catalog: Catalog, node: str, day: Date, found: dict[str, Any],
                     wanted: set[str]) -> list[dict[str, Any]]:
    """The fee-schedule, MUE, add-on, NCCI and briefing properties of a procedure; only the groups of
    ``wanted`` when the client named properties (the NCCI count of a hub code is the slow part).
    The fee-schedule, MUE and briefing rows are those ``facts.concept`` read with the code (its
    ``parts``); add-on rows and NCCI counts come from the claim-check indexes when served."""

    def asked(*names: str) -> bool:
        return not wanted or bool(wanted.intersection(names))

    props = []
    for row in found.get("fee", []):
        if row["modifier"]:
            row_text = f"modifier {local(row['modifier'])} row: status {row['status']}"
            props.append(_prop("fee-schedule-indicator", row_text))
            continue
        props.append(_prop("fee-schedule-status", row["status"], "code"))
        for key in ("pctc", "globalDays", "multProc", "bilatSurg", "asstSurg", "coSurg", "teamSurg", "endoBase"):
            if row.get(key):
                props.append(_prop("fee-schedule-indicator", f"{key}={row[key]}"))
    for row in found.get("mue", []):
        props += [_prop("mue-units", int(row["units"] or 0), "integer"),
                  _prop("mue-adjudication-indicator", row["adjudicationIndicator"], "code")]
    addons = facts.addon_rows(run, catalog, node) if asked("add-on-type", "add-on-primary") else []
    props += [_prop("add-on-type", t, "code") for t in sorted({r["type"] for r in addons if r["type"]})]
    props += [_prop("add-on-primary", local(r["primary"]), "code") for r in addons if r["primary"]]
    if asked("ncci-edits-in-effect", "ncci-edits-unknown"):
        counts = facts.ncci_counts(run, catalog, node, day)
        props.append(_prop("ncci-edits-in-effect", counts.pop(ptp.IN_EFFECT, 0), "integer"))
        if counts:
            props.append(_prop("ncci-edits-unknown", sum(counts.values()), "integer"))
    props += [_prop("briefing", f) for f in found.get("briefing", [])]
    props += [_prop("added", d, "dateTime") for d in found.get("addedDate", [])]
    props += [_prop("terminated", d, "dateTime") for d in found.get("terminationDate", [])]
    return props


# --- $validate-code -------------------------------------------------------------------------------------------


def validate_code(run: Runner, catalog: Catalog, system_url: str | None, code: str | None, *,
                  version: str | None = None, date: str | None = None, display: str | None = None) -> dict[str, Any]:
    """``CodeSystem/$validate-code``: result, message (why not), display."""
    system = system_for(system_url)
    base, mods = split_modifiers(system, code or "")
    node = curie(system, base)
    day = parse_day(date)
    found = facts.concept(run, node, years=system is ICD)
    known = found is not None and f"kg:{system.cls}" in found.get("type", [])
    shown = _display(system, local(node), found or {}) if known else None
    if system is ICD:
        fy = icd_year(catalog, version, day)
        ok, message = icd_verdict(run, catalog, node, fy, (found or {}).get("years", []), day)
    elif not known:
        ok, message = False, f"{local(node)} is not a code of {system.title} in this build"
    else:
        ok, message = _procedure_verdict(run, node, mods, day, found or {})
    if ok and display and system.displays and shown and display.strip().lower() != shown.lower():
        ok, message = False, f"display {display!r} is not the display of {local(node)}: {shown!r}"
    out = [value("result", ok), value("message", message) if message else None,
           value("display", shown) if shown else None, value("code", code.strip() if code else "", "code"),
           value("system", system.url, "uri")]
    if system is ICD:
        out.append(value("version", str(fy)))
    return parameters(*out)


def icd_verdict(run: Runner, catalog: Catalog, node: str, fy: int, rows: list[dict[str, Any]],
                day: Date | None = None) -> tuple[bool, str]:
    """(valid, message) of a diagnosis in a fiscal year from its ``code_history`` rows: the status is
    ``kgraph.rules.icd.code_status``, the messages are ``kgraph check``'s."""
    code = local(node)
    if day is not None and icd.before_icd10(day):
        return False, (f"{code} is an ICD-10-CM code, but the date {day.isoformat()} is before "
                       f"{icd.icd10_start().isoformat()}, when ICD-9-CM was in force")
    loaded = icd.describe_years(icd.fy_mask(catalog.fiscal_years))
    if fy not in catalog.fiscal_years:
        return False, f"FY{fy} is not loaded (this build holds ICD-10-CM {loaded}): {code} cannot be validated for it"
    present = icd.fy_mask(int(r["fy"] or 0) for r in rows)
    billable = icd.fy_mask(int(r["fy"] or 0) for r in rows if r["billable"] == "yes")
    status = icd.code_status(present, billable, fy)
    if status == "billable":
        return True, ""
    if status == "header":
        since = [f", since FY{r['fy']}" for r in rows if r["event"] == "became a header"]
        below = ", ".join(local(c) for c in facts.billable_below(run, node, fy)) or "none"
        return False, (f"{code} is a header, not billable in FY{fy}{''.join(since[:1])}; "
                       f"billable codes below it: {below}")
    if status == "not-in-fy":
        return False, f"{code} is not an ICD-10-CM code in FY{fy} (it is in {icd.describe_years(present)})"
    return False, f"{code} is not an ICD-10-CM code in any loaded fiscal year ({loaded})"


def _procedure_verdict(run: Runner, node: str, mods: list[str], day: Date | None,
                       found: dict[str, Any]) -> tuple[bool, str]:
    code = local(node)
    ended = [d for d in found.get("terminationDate", []) if day is not None and hcpcs.terminated(d, day)]
    if ended:
        return False, f"{code} was deleted: the HCPCS file ends it on {ended[0][:10]}"
    if mods:
        bad = [m for m in mods if not m or not ns.is_valid("MOD", m)]
        have = facts.exists(run, [f"MOD:{m}" for m in mods if m not in bad])
        unknown = bad + [m for m in mods if m not in bad and f"MOD:{m}" not in have]
        if unknown:
            return False, f"{code}: modifier {', '.join(unknown)} is not in the loaded modifier code sets"
    return True, ""


# --- $subsumes ------------------------------------------------------------------------------------------------


def subsumes(run: Runner, catalog: Catalog, system_url: str | None, code_a: str | None, code_b: str | None, *,
             version: str | None = None) -> dict[str, Any]:
    """``CodeSystem/$subsumes`` on the ICD-10-CM and NUCC hierarchies: equivalent, subsumes, subsumed-by
    or not-subsumed (A subsumes B when A is above B)."""
    system = system_for(system_url)
    if not system.hierarchical:
        raise FhirError(f"{system.url} has no hierarchy in this build: $subsumes answers for ICD-10-CM and NUCC",
                        422, "not-supported")
    if not code_a or not code_b:
        raise FhirError("give both codeA and codeB (or codingA and codingB)", 400, "required")
    a, b = curie(system, code_a), curie(system, code_b)
    have = facts.exists(run, [a, b])
    missing = [local(c) for c in (a, b) if c not in have]
    if missing:
        raise FhirError(f"{', '.join(missing)}: not a code of {system.url} in this build", 404, "not-found")
    if a == b:
        found = "equivalent"
    elif facts.is_a(run, b, a):
        found = "subsumes"
    elif facts.is_a(run, a, b):
        found = "subsumed-by"
    else:
        found = "not-subsumed"
    return parameters(value("outcome", found, "code"))
