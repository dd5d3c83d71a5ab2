"""Whether a diagnosis is a valid, billable ICD-10-CM code in a fiscal year, with the codes to
suggest instead: the diagnosis part of ``kgraph.checker``.

Input: ``Indexes`` (fiscal-year masks, parents, header-since years) and a diagnosis CURIE with
the fiscal year ``kgraph.rules.icd.fy_used`` chose. Output: None for a billable code, else
(rule, severity, message, suggestion, evidence). ``kgraph.rules.icd.code_status`` decides; this
module words the finding and looks for billable codes below the nearest existing one. Raises
nothing; reads nothing but the indexes.
"""

from __future__ import annotations

from typing import Any

from kgraph import namespaces as ns
from kgraph.indexes import Indexes, SourceInfo
from kgraph.records import Severity
from kgraph.rules import icd

Verdict = tuple[str, Severity, str, list[str], dict[str, Any]]


def dx_verdict(ix: Indexes, source: SourceInfo | None, dx: str, fy: int) -> Verdict | None:
    """(rule, severity, message, suggestion, evidence) for a diagnosis in a fiscal year; None if billable."""
    found = _problem(ix, dx, fy)
    if found is None:
        return None
    present, billable = ix.icd_years.get(dx, (0, 0))
    evidence = {"relation": "kg:billableInFY" if present & icd.fy_bit(fy) else "kg:inFY", "subject": dx,
                "object": None, "source": source.file if source else None, "line": None,
                "qualifiers": {k: v for k, v in {
                    "fiscalYear": f"FY{fy}", "inFY": icd.describe_years(present),
                    "billableInFY": icd.describe_years(billable), "headerSinceFY": ix.icd_header_since.get(dx),
                    "release": source.release if source else None}.items() if v not in (None, "")}}
    return (*found, evidence)


def _problem(ix: Indexes, dx: str, fy: int) -> tuple[str, Severity, str, list[str]] | None:
    present, billable = ix.icd_years.get(dx, (0, 0))
    status = icd.code_status(present, billable, fy)
    local = dx.partition(":")[2]
    if status == "billable":
        return None
    if status == "header":
        since = ix.icd_header_since.get(dx)
        kids = billable_below(ix, dx, fy)
        when = f", since FY{since}" if since else ""
        return ("icd10cm.not-billable", "error", f"{local} is a header, not billable in FY{fy}{when}; billable "
                f"codes below it: {', '.join(k.partition(':')[2] for k in kids[:8]) or 'none'}", kids[:8])
    if status == "not-in-fy":
        return ("icd10cm.not-in-fy", "error", f"{local} is not an ICD-10-CM code in FY{fy} (it is in "
                f"{icd.describe_years(present)})", billable_below(ix, nearest(ix, dx, fy), fy)[:5])
    loaded = icd.describe_years(icd.fy_mask(ix.icd_fys))
    return ("icd10cm.unknown", "error", f"{local} is not an ICD-10-CM code in any loaded fiscal year ({loaded})",
            billable_below(ix, nearest(ix, dx, fy), fy)[:5])


def nearest(ix: Indexes, dx: str, fy: int) -> str:
    """The longest existing code of ``fy`` that ``dx`` starts with (K21.09 -> K21.0)."""
    bit = icd.fy_bit(fy)
    code = dx.partition(":")[2].replace(".", "")
    while len(code) > 3:
        code = code[:-1]
        curie = "ICD10CM:" + ns.icd10cm_with_dot(code)
        if ix.icd_years.get(curie, (0, 0))[0] & bit:
            return curie
    curie = "ICD10CM:" + code
    return curie if ix.icd_years.get(curie, (0, 0))[0] & bit else ""


def billable_below(ix: Indexes, dx: str, fy: int) -> list[str]:
    """Up to 20 codes below ``dx`` that are billable in ``fy``, nearest first."""
    if not dx:
        return []
    bit = icd.fy_bit(fy)
    out: list[str] = []
    todo = list(ix.icd_children(dx))
    while todo and len(out) < 20:
        code = todo.pop(0)
        present, billable = ix.icd_years.get(code, (0, 0))
        if billable & bit:
            out.append(code)
        elif present & bit:
            todo.extend(ix.icd_children(code))
    return out
