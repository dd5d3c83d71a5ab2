"""How a briefing reads, without building: the report of ``kgraph briefing FILE``.

Input: a briefing file, optionally an opened ``Store`` (ranges and wildcards are then expanded
against its code sets, as a build would) and a payer registry (default: the store's, else the
payers of ``data/sources.toml`` when it is there). Output: a JSON-able dict: the format and why,
the subject, each table (its kind and why, its columns and what each becomes, every row with its
codes, edges and problems), the ranges with their members, every problem, and a summary whose
rows read plus rows skipped equal the rows of the tables. ``rows`` flattens it for a table.
Writes nothing; raises ``StoreError`` only through ``kgraph.open``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kgraph.records import CodeRange
from kgraph.sources import briefing, payers


def registry_for(store: Any = None, manifest: Path | None = None) -> payers.PayerRegistry:
    """The payer registry a build would use: the store's payer sources, else a manifest's payer files."""
    registry = payers.PayerRegistry()
    if store is not None:
        for row in store.select("payer_registry"):
            pid = row["code"] or ""
            for name in (pid, row["label"], row["alias"]):
                if name is not None:
                    registry.by_key.setdefault(payers.name_key(name), pid)
            if row["label"] is not None:
                registry.names[pid] = row["label"]
        return registry
    from kgraph.build import DEFAULT_MANIFEST, BuildError, _registry, read_manifest

    where = manifest or DEFAULT_MANIFEST
    if Path(where).exists():
        try:
            return _registry(read_manifest(where))
        except BuildError:
            return registry
    return registry


def explain(path: str | Path, *, store: Any = None, registry: payers.PayerRegistry | None = None,
            display: str | None = None) -> dict[str, Any]:
    """The reading report of one briefing (see the module docstring)."""
    from kgraph.build import shown_path

    shown = display or shown_path(Path(path))
    read = briefing.reading(path, payers=registry or registry_for(store), display=shown)
    ranges = []
    expander = None
    if store is not None:
        from kgraph.ranges import Expander

        expander = Expander(store.ox)
    for record in read.records:
        if isinstance(record, CodeRange):
            entry: dict[str, Any] = {"written": record.written, "line": record.origin.line, "kind": record.prefix,
                                     "relation": f"kg:{record.relation}", "other": record.other,
                                     "expanded": expander is not None}
            if expander is not None:
                found = expander.expand(record)
                entry.update(members=found.members, against=found.against, problem=found.problem or None)
            ranges.append(entry)
    return {
        "file": shown, "format": read.format, "why": read.why, "subject": read.subject, "title": read.title,
        "date": read.as_of, "refused": read.refused, "summary": read.summary(),
        "tables": [{"line": t.line, "header": t.header, "kind": t.kind, "why": t.why, "key": t.key,
                    "section": t.section, "columns": t.columns,
                    "rows": [vars(r) for r in t.rows]} for t in read.tables],
        "ranges": ranges,
        "normalisations": read.normalisations,
        "not_read": read.not_read,
        "problems": [{"line": p.origin.line, "severity": p.severity, "action": p.action, "message": str(p)}
                     for p in read.problems],
    }


def rows(report: dict[str, Any]) -> list[dict[str, str | None]]:
    """One row per table row (and per table that was not read) for ``--format table|csv|tsv``."""
    out: list[dict[str, str | None]] = []
    for table in report["tables"]:
        kind = table["kind"] or "not read"
        out.append({"line": str(table["line"]), "what": f"table: {kind}", "status": "",
                    "codes": table["key"] or "", "edges": table["why"], "problems": ""})
        for row in table["rows"]:
            out.append({"line": str(row["line"]), "what": "  row", "status": row["status"],
                        "codes": ", ".join(row["codes"]), "edges": "; ".join(row["edges"]),
                        "problems": "; ".join(p.split(": ", 1)[1] if ": " in p else p for p in row["problems"])})
    for rng in report["ranges"]:
        members = rng.get("members")
        shown = "not expanded (give --store)" if not rng["expanded"] else (
            f"{len(members)} codes ({rng['against']})" if members else rng.get("problem") or "")
        out.append({"line": str(rng["line"]), "what": "range", "status": "", "codes": rng["written"],
                    "edges": shown, "problems": ""})
    return out
