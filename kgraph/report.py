"""``kgraph report``: one self-contained offline HTML page for a coding review meeting.

Input: an open store, ``since`` (the release or date of the last meeting), optionally ``until``
and a selection of codes (``kgraph.changes.selection``). Output: ``write_report`` writes one
UTF-8 HTML file holding, in order, the releases compared and the changes (``kgraph.changes``),
the briefing rows a change made wrong (``kgraph validate --since``), the review notes still open
(decision ``question`` or ``action``, read from the notes graph ``GRAPH:notes``: ``kg:ReviewNote``
with ``kg:noteOn``, ``kg:decision``, ``kg:noteText``, ``kg:author``, ``kg:noteTime``,
``kg:exportId``; a note whose target is not in this build is listed as such), and a picture per
briefing code (the focus code at depth 1 drawn by ``kgraph.viz.to_html``, in an ``iframe srcdoc``:
its scripts and styles are inline). Nothing is fetched from the network. Raises ``ChangesError``
for a bad ``since``; does not write to the store.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph import namespaces as ns
from kgraph.changes import changes as find_changes
from kgraph.changes import output
from kgraph.changes.since import validate_since
from kgraph.internal_queries import ask, solutions

NOTES_GRAPH = ns.PREFIXES["GRAPH"] + "notes"
#: the decisions a meeting still has to deal with
OPEN = ("question", "action")
FINDING_COLUMNS = ("severity", "rule", "subject", "where", "message")
NOTE_COLUMNS = ("decision", "on", "text", "author", "time", "export")


@dataclass(frozen=True)
class Written:
    """What ``write_report`` put in the page."""

    path: Path
    changes: int
    findings: int
    notes: int
    pictures: int


def open_notes(store: Any) -> list[dict[str, str]]:
    """The notes whose decision is question or action, oldest first; ``on`` names the code, or the
    edge of an assertion (``CPT:74360 kg:supports ICD10CM:K22.2 (file:line)``), or says that the
    target is not in this build."""
    out = []
    for row in solutions(store, "open_notes", decision=[ox.Literal(d) for d in OPEN]):
        get = {k: (row[k].value if row[k] is not None else "") for k in ("text", "author", "time", "export",
                                                                        "decision")}
        out.append({**get, "on": _target(store, row["on"].value)})
    return out


def _target(store: Any, iri: str) -> str:
    if iri.startswith(ns.PREFIXES["ASSERTION"]):
        for row in solutions(store, "assertion_edge", a=ox.NamedNode(iri)):
            where = f" ({row['file'].value}:{row['line'].value})" if row["file"] is not None else ""
            return f"{ns.curie(row['s'].value)} {ns.curie(row['p'].value)} {ns.curie(row['o'].value)}{where}"
        return f"{ns.curie(iri)} (not in this build)"
    found = ask(store, "node_described", n=ox.NamedNode(iri))
    return ns.curie(iri) + ("" if found else " (not in this build)")


def briefing_subjects(store: Any) -> list[str]:
    """The code each loaded briefing is about, in file order: the code that takes part in the most
    of its statements (the briefing's own code is in nearly all of them; its diagnoses, modifiers
    and payers each in a few)."""
    best: dict[str, str] = {}
    for row in solutions(store, "briefing_code_counts"):
        best.setdefault(row["file"].value, ns.curie(row["c"].value))
    return list(dict.fromkeys(best.values()))


def _table(columns: tuple[str, ...], rows: list[dict[str, str]], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _picture(store: Any, code: str, findings: Any) -> str:
    from kgraph.traverse import neighborhood
    from kgraph.viz import to_html

    graph = neighborhood(store, code, depth=1)
    page = to_html(graph, title=f"{code}: depth 1", data_versions=store, findings=findings)
    return (f"<section class='picture'><h3>{escape(code)}</h3><p>{graph.number_of_nodes()} nodes, "
            f"{graph.number_of_edges()} edges (depth 1).</p>"
            f"<iframe title='{escape(code)}' srcdoc=\"{escape(page, quote=True)}\"></iframe></section>")


def write_report(store: Any, path: str | Path, *, since: str, until: str | None = None, codes: Any = None,
                 focus: str | None = None, depth: int = 1, briefing_codes: bool = False) -> Written:
    """Write the meeting page to ``path`` (module docstring) and say what it holds."""
    found = find_changes(store, since, until, codes=codes, focus=focus, depth=depth, briefing_codes=briefing_codes)
    findings = validate_since(store, since, until)
    notes = open_notes(store)
    pictures = ([focus] if focus else []) + (briefing_subjects(store) if briefing_codes else [])
    pictures = list(dict.fromkeys(pictures))
    finding_rows = [{"severity": f.severity, "rule": f.rule, "subject": f.subject,
                     "where": f"{f.source}:{f.line}" if f.source else "", "message": f.message} for f in findings]
    title = f"Review meeting: changes since {since}"
    versions = ", ".join(f"{k} {v}" for k, v in findings.data_versions.items())
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>",
        f"<style>{output.STYLE}</style></head><body><h1>{escape(title)}</h1>",
        f"<p>Build {escape(Path(store.build_dir).name)}; data versions: {escape(versions)}; written "
        f"{datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}.</p>",
        output.html_section(found, heading=f"Changes ({len(found)})"),
        f"<section class='findings'><h2>Briefing rows a change made wrong ({len(findings)})</h2>",
        _table(FINDING_COLUMNS, finding_rows, "No briefing row is made wrong by these changes.") + "</section>",
        f"<section class='notes'><h2>Open notes ({len(notes)})</h2>",
        _table(NOTE_COLUMNS, notes, "No note is open (question or action).") + "</section>",
        f"<section class='pictures'><h2>Pictures ({len(pictures)})</h2>",
        *(_picture(store, code, findings) for code in pictures),
        "</section></body></html>\n",
    ]
    out = Path(path)
    out.write_text("\n".join(parts), encoding="utf-8")
    return Written(out, len(found), len(findings), len(notes), len(pictures))
