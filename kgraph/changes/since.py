"""``kgraph validate --since RELEASE``: the briefing rows a change made wrong.

Input: an open store, the release or date a briefing was written against (``since``) and
optionally ``until`` (default: the newest loaded releases). Output: ``Findings`` (the shape of
``kgraph.validate``), one per briefing row and change: a diagnosis the row names that became a
header or was deleted, a PTP edit added or re-indicated between the two codes of a
``billedWith`` row, an MUE or fee-schedule value changed for a code it names, a taxonomy deleted,
renamed, redefined or marked deactivated. Each finding names the briefing file and line, the
change, both releases and the official rows behind it. Rule ids and severities are those of
``kgraph.rules`` (``since.*`` in ``tables/rules.csv``). Does not write to the store.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kgraph.changes import changes
from kgraph.changes.model import Change
from kgraph.validate import Finding, Findings, data_versions

#: (family, change) -> severity; any other change of a family is a warning
SEVERITY = {("icd10cm", "became a header"): "error", ("icd10cm", "deleted"): "error",
            ("ncci-ptp", "edit added"): "error", ("nucc", "deleted"): "error"}
#: changes that make no briefing row wrong (a code now billable, an edit gone, a code added)
HARMLESS = {("icd10cm", "became billable"), ("icd10cm", "added"), ("ncci-ptp", "edit deleted"), ("nucc", "added"),
            ("icd10cm", "retitled"), ("ncci-mue", "MUE added"), ("mpfs", "row added")}


def _statements(store: Any) -> list[dict[str, str]]:
    from kgraph.internal_queries import solutions
    from kgraph.namespaces import curie

    return [{"s": curie(r["s"].value), "p": curie(r["p"].value), "o": curie(r["o"].value), "file": r["file"].value,
             "line": r["line"].value} for r in solutions(store, "briefing_statements")]


def _message(change: Change, row: dict[str, str]) -> str:
    what = change.change
    if change.field and (change.before or change.after):
        what += f" ({change.field} {change.before or 'none'} -> {change.after or 'none'})"
    pair = f"{change.code} / {change.other}: " if change.family == "ncci-ptp" else ""
    said = f"this row says {row['s']} {row['p'].removeprefix('kg:')} {row['o']}"
    rows = "; ".join(change.evidence) or "no row"
    return f"{pair}{what} from {change.since} to {change.until}; {said}; official rows: {rows}"


def validate_since(store: Any, since: str, until: str | None = None) -> Findings:
    """The briefing rows a change between ``since`` and ``until`` made wrong (module docstring)."""
    statements = _statements(store)
    codes = {c for row in statements for c in (row["s"], row["o"])}
    found = changes(store, since, until, codes=codes)
    by_code: dict[str, list[Change]] = defaultdict(list)
    for change in found:
        if (change.family, change.change) in HARMLESS:
            continue
        for code in change.codes():
            by_code[code].append(change)
    out: list[Finding] = []
    seen: set[tuple[str, int, int]] = set()
    for row in statements:
        pair = {row["s"], row["o"]}
        for code in (row["s"], row["o"]):
            for change in by_code.get(code, []):
                if change.family == "ncci-ptp" and (row["p"] != "kg:billedWith" or set(change.codes()) != pair):
                    continue
                key = (row["file"], int(row["line"]), id(change))
                if key in seen:
                    continue
                seen.add(key)
                severity: Any = SEVERITY.get((change.family, change.change), "warning")
                out.append(Finding(severity, f"since.{change.family}", code, _message(change, row), row["file"],
                                   int(row["line"]), list(change.evidence)))
    findings = Findings(out, data_versions(store))
    for note in found.notes:
        findings.append(Finding("info", "since.not-compared", "", note))
    return findings
