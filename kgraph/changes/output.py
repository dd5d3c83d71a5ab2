"""``Changes`` as a table (``kgraph.sparql.Table``: text, CSV, TSV), JSON, or an HTML section for
a meeting page (``kgraph report``) or a file of its own (``kgraph changes --html``).

Input: ``Changes``. Output: a ``Table`` of ``model.COLUMNS``, a JSON-ready dict, or HTML text
(every value escaped; no script, no outside resource). Does not compute changes.
"""

from __future__ import annotations

from html import escape

from kgraph.changes.model import COLUMNS, Changes
from kgraph.sparql import Table

STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}th,td{border:1px solid #ccc;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f0f0f0}td.evidence{font:12px monospace;color:#555}
.note{color:#7a4b00}h1,h2,h3{margin:.8em 0 .3em}iframe{width:100%;height:640px;border:1px solid #ccc}
@media print{iframe{height:180mm;page-break-inside:avoid}}"""


def table(found: Changes) -> Table:
    """The changes as a ``Table`` of ``COLUMNS`` (``print_table`` prints it)."""
    return Table(list(COLUMNS), None, [c.row() for c in found.rows])


def html_section(found: Changes, *, heading: str = "Changes", level: int = 2) -> str:
    """An HTML section: the releases compared per family, the notes, then a table of the changes."""
    h = f"h{level}"
    parts = [f"<section class='changes'><{h}>{escape(heading)}</{h}>"]
    if found.compared:
        items = "".join(f"<li>{escape(f)}: {escape(a)} &rarr; {escape(b)}</li>" for f, (a, b) in found.compared.items())
        parts.append(f"<p>Releases compared:</p><ul>{items}</ul>")
    if found.notes:
        items = "".join(f"<li class='note'>{escape(n)}</li>" for n in found.notes)
        parts.append(f"<ul class='notes'>{items}</ul>")
    if found.rows:
        head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
        body = []
        for change in found.rows:
            row = change.row()
            cells = "".join(f"<td class='{c}'>{escape(row[c] or '')}</td>" for c in COLUMNS)
            body.append(f"<tr>{cells}</tr>")
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    else:
        parts.append("<p>No change for the codes selected.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def html_page(found: Changes, title: str) -> str:
    """A self-contained page of the changes alone (``kgraph changes --html``)."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{html_section(found)}</body></html>\n")
