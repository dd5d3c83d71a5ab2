"""Interactive HTML pictures of a graph: one self-contained file that opens offline.

Input: a ``networkx`` graph as ``kgraph.neighborhood`` returns it (nodes are CURIEs with
``kind``, ``label``, ``description``; edges keyed by relation CURIE with ``relation``,
``qualifiers`` and ``evidence``), optional validation findings and the build's data versions.
Output: an HTML page (``to_html``), a file (``write_html``) or an inline notebook picture
(``notebook`` / ``display``).

pyvis builds the network data (a directed ``Network``, so parallel edges of different
relations between two codes all stay); the page is kgraph's own template
(``kgraph/templates/export.html``, its styles and script in ``export.css`` and ``export.js``,
read through ``importlib.resources``) with vis-network's JS and CSS (the copy pyvis ships)
inlined. pyvis's own templates are not used: its ``in_line`` mode still loads Bootstrap from a
CDN and its default mode writes a ``lib/`` folder. Nothing on the page is fetched from a network.

Every text from a source reaches the page as JSON data (``<`` ``>`` ``&`` escaped) or as
HTML-escaped text, and tooltips are built in the browser with ``textContent``: a label holding
``<script>`` shows as text. Every node gets its position here (``kgraph.layout``: by kind around
the focus up to 300 nodes, radial with code-only labels above) and physics is off; above
``max_nodes`` the export raises ``ExportError``. The page's ``picture.js`` draws sector titles,
the PNG and SVG downloads and the printed figure; ``print.css`` lays out the printed page.

This is the only module that imports pyvis. It does not query the store.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
import orjson

from kgraph import layout
from kgraph.errors import CurieError, KGraphError
from kgraph.namespaces import iri
from kgraph.rules.ptp import indicator_labels

__all__ = ["ExportError", "display", "notebook", "to_html", "write_html"]

DEFAULT_MAX_NODES = 2000
#: up to this many nodes the picture is laid out by kind (``kgraph.layout.sector_layout``: labels in
#: full, no two label boxes overlapping); above it a radial layout with code-only labels
SECTOR_MAX_NODES = layout.SECTOR_MAX_NODES
PHYSICS_MAX_NODES = SECTOR_MAX_NODES  # the name before issue 18, when smaller graphs ran vis physics
#: the vis-network build shipped inside the pyvis package
VIS_DIR = ("lib", "vis-9.1.2")

AMA_NOTICE = ("CPT\u00ae is a registered trademark of the American Medical Association (AMA). CPT codes and "
              "descriptions only are copyright American Medical Association. All rights reserved. Applicable "
              "FARS/DFARS restrictions apply to government use. This picture holds no official CPT descriptor "
              "text: labels of CPT codes come from the project's briefings.")
NUCC_NOTICE = ("The Health Care Provider Taxonomy code set is copyright American Medical Association on behalf "
               "of the National Uniform Claim Committee (NUCC), www.nucc.org. All rights reserved. Taxonomy "
               "codes and names are shown unaltered.")

# kind -> (vis shape, fill, border); shapes differ as well as colours, for colour-blind readers.
# Red and orange are kept for finding borders.
NODE_STYLES: dict[str, tuple[str, str, str]] = {
    "CPT": ("box", "#c6dbef", "#2c6aa6"),
    "HCPCS": ("ellipse", "#c7e9e6", "#2f8a83"),
    "ICD-10-CM": ("dot", "#74c476", "#2e7d32"),
    "modifier": ("diamond", "#f2d45c", "#9a7b00"),
    "taxonomy": ("triangle", "#c9a3c8", "#7b4f9d"),
    "payer": ("square", "#c49c80", "#7a5232"),
    "Medicare specialty": ("triangleDown", "#ffb3bd", "#c2566a"),
    "gap": ("hexagon", "#eeeeee", "#777777"),
}
DEFAULT_NODE_STYLE = ("dot", "#d0d0d0", "#666666")
#: vis-network shapes that hold their label (the others draw it below the shape)
INSIDE_SHAPES = frozenset({"box", "ellipse", "circle", "database", "text"})

# relation -> (colour, dashes or None, width)
EDGE_STYLES: dict[str, tuple[str, list[int] | None, float]] = {
    "kg:supports": ("#2e7d32", None, 1.5),
    "kg:conflictsWith": ("#d62728", None, 2.5),
    "kg:billedWith": ("#2c6aa6", None, 1.5),
    "kg:addOnTo": ("#7b4f9d", [8, 4], 1.5),
    "kg:relatedTo": ("#8c8c8c", [3, 4], 1.0),
    "kg:modifierFor": ("#b08c00", None, 1.0),
    "kg:reportedBy": ("#9467bd", [6, 3], 1.0),
    "kg:coveredBy": ("#7a5232", None, 1.0),
    "kg:partOf": ("#7a5232", [6, 3], 1.0),
    "kg:crosswalksTo": ("#c2566a", [6, 3], 1.0),
    "kg:hasGap": ("#999999", [2, 3], 1.0),
    "kg:context": ("#bbbbbb", [1, 4], 1.0),
    "skos:broader": ("#555555", [10, 4], 1.0),
}
DEFAULT_EDGE_STYLE: tuple[str, list[int] | None, float] = ("#999999", [4, 4], 1.0)

FINDING_BORDERS = {"error": "#d62728", "warning": "#ff7f0e"}
#: modifier indicator -> what it means (kgraph.rules: tables/ncci_indicators.csv)
MODIFIER_INDICATORS = indicator_labels()


class ExportError(KGraphError):
    """An export that was refused (too many nodes) or could not be written."""


def write_html(G: nx.Graph, path: str | Path, *, title: str | None = None, data_versions: Any = None,
               findings: Iterable[Any] | None = None, max_nodes: int | None = DEFAULT_MAX_NODES,
               notices: Iterable[str] | None = None, review: Mapping[str, Any] | None = None) -> Path:
    """Write the picture of ``G`` to ``path`` as one self-contained UTF-8 HTML file.

    Takes the keywords of ``to_html``; returns the path written. Raises ``ExportError``.

    >>> import kgraph, tempfile, pathlib
    >>> store = kgraph.open(DOCTEST_STORE)
    >>> G = kgraph.neighborhood(store, "CPT:74360", depth=1)
    >>> out = write_html(G, pathlib.Path(tempfile.mkdtemp()) / "74360.html", data_versions=store)
    >>> sorted(p.name for p in out.parent.iterdir())      # no lib/ folder next to it
    ['74360.html']
    """
    page = to_html(G, title=title, data_versions=data_versions, findings=findings, max_nodes=max_nodes,
                   notices=notices, review=review)
    out = Path(path)
    try:
        out.write_text(page, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise ExportError(f"{out}: cannot write the HTML export: {exc.strerror or exc}") from exc
    return out


def to_html(G: nx.Graph, *, title: str | None = None, data_versions: Any = None,
            findings: Iterable[Any] | None = None, max_nodes: int | None = DEFAULT_MAX_NODES,
            notices: Iterable[str] | None = None, review: Mapping[str, Any] | None = None) -> str:
    """The picture of ``G`` as the text of one self-contained HTML page.

    ``data_versions``: the build's sources (a ``Store``, ``store.info["sources"]`` or a mapping
    file -> release), shown in the header. ``findings``: dicts or ``Finding`` objects with
    ``severity``, ``rule``, ``subject``, ``message``; a node with an error gets a red border,
    with a warning an orange one, the messages in its tooltip. ``notices``: extra lines for the
    footer (the AMA CPT and NUCC notices are always there). ``review``: the export id and the stored
    review notes (``kgraph.notes.for_export``; by default an id from the build and view, no notes): the
    page's notes panel (``notes.js``) keeps browser notes under that id. Raises ``ExportError`` above
    ``max_nodes`` nodes (``None``: no limit).

    >>> G = nx.MultiDiGraph()
    >>> G.add_node("CPT:74360", kind="CPT", label="Imaging S&I <b>")
    >>> page = to_html(G, title="demo")
    >>> page.startswith("<!DOCTYPE html>"), "S&I <b>" in page, "Imaging S\\\\u0026I \\\\u003cb\\\\u003e" in page
    (True, False, True)
    """
    n = G.number_of_nodes()
    if max_nodes is not None and n > max_nodes:
        raise ExportError(
            f"the graph has {n:,} nodes, more than the limit of {max_nodes:,} for an HTML export; narrow it "
            f"with --focus CODE and a smaller --depth (or fewer --relation), or raise the limit (--max-nodes)")
    by_subject = _findings_by_subject(findings)
    focus = G.graph.get("focus")
    large = n > SECTOR_MAX_NODES
    sectors: list[dict[str, Any]] = []
    if large:
        positions = layout.radial_layout(G, focus)
    else:
        positions, sectors = layout.sector_layout(G, focus, lambda node: _look(G, node, focus))
    net = _network(G, by_subject, positions, focus, large)
    data = {
        "nodes": net.nodes,
        "edges": net.edges,
        "options": _options(large),
        "physics": False,
        "focus": focus if focus in G else None,
        "sectors": sectors,
        "name": _file_stem(focus),
        **_review(G, data_versions, review),
    }
    shown_title = title or (f"kgraph: neighbourhood of {focus}" if focus else "kgraph graph")
    exported = datetime.now(UTC).isoformat(timespec="seconds")
    parts = {
        "TITLE": _esc(shown_title),
        "SUMMARY": _summary(G, by_subject),
        "EXPORTED": _esc(exported),
        "VERSIONS": _versions_html(_versions(data_versions)),
        "LEGEND": _legend(G, by_subject),
        "FOOTER": "".join(f"<p>{_esc(t)}</p>" for t in [AMA_NOTICE, NUCC_NOTICE, *(notices or [])]),
        "DATA": _json_for_script(data),
        "VISCSS": _vis_asset("vis-network.css"),
        "VISJS": _vis_asset("vis-network.min.js"),
        "CSS": _template("export.css"),
        "APPJS": _template("export.js"),
        "NOTESCSS": _template("notes.css"),
        "NOTESJS": _template("notes.js"),
        "FINDINGS": _findings_html(G, by_subject, findings is not None),
        "PRINTCSS": _template("print.css"),
        "PICTUREJS": _template("picture.js"),
    }
    # one pass, so nothing inserted is scanned for placeholders again
    return re.sub(r"@@([A-Z]+)@@", lambda m: parts[m.group(1)], _template("export.html"))


def notebook(G: nx.Graph, *, height: str = "780px", **kwargs: Any) -> Any:
    """The picture as an ``IPython.display.HTML`` object, shown inline in Jupyter and JupyterLab.

    The page goes into an ``<iframe srcdoc=...>`` (so its script runs apart from the notebook's);
    takes the keywords of ``to_html``. Raises ``ExportError`` if IPython is not installed.
    """
    try:
        from IPython.display import HTML
    except ImportError as exc:
        raise ExportError("kgraph.viz.notebook needs IPython (pip install ipython); "
                          "use kgraph.write_html(G, path) outside a notebook") from exc
    page = to_html(G, **kwargs)
    # wrapped in a div: IPython warns about HTML objects that start with <iframe
    return HTML(f'<div class="kgraph-export"><iframe srcdoc="{html.escape(page, quote=True)}" '
                f'style="width:100%;height:{_esc(height)};border:1px solid #ddd" '
                f'sandbox="allow-scripts allow-downloads" title="kgraph graph"></iframe></div>')


def display(G: nx.Graph, **kwargs: Any) -> None:
    """Show the picture inline in a notebook (``IPython.display.display(notebook(G, ...))``)."""
    from IPython.display import display as show

    show(notebook(G, **kwargs))


# ---------------------------------------------------------------- network data (pyvis)

def _network(G: nx.Graph, by_subject: dict[str, list[dict[str, Any]]], positions: dict[Any, tuple[int, int]],
             focus: Any, large: bool) -> Any:
    from pyvis.network import Network

    class _Net(Network):
        # pyvis checks edge ends against a list of ids (O(n) per edge); its dict is O(1)
        def get_nodes(self) -> Any:
            return self.node_map

    net = _Net(directed=True)
    for node, attrs in G.nodes(data=True):
        kind = str(attrs.get("kind") or "")
        shape, fill, border = NODE_STYLES.get(kind, DEFAULT_NODE_STYLE)
        found = by_subject.get(str(node), [])
        worst = _worst(found)
        opts: dict[str, Any] = {
            "kind": kind,
            "tip": _node_tip(node, attrs, found),
            "borderWidth": 4 if worst in FINDING_BORDERS else 1.5,
            "size": 24 if node == focus else 14,
            "font": {"color": "#222222", "size": _font_size(node, focus)},
        }
        if shape not in INSIDE_SHAPES and not large:
            # a label below its shape stays legible where an edge passes behind it
            opts["font"]["background"] = "rgba(255,255,255,0.85)"
        if worst in FINDING_BORDERS:
            border = FINDING_BORDERS[worst]
            opts["finding"] = worst
        if kind == "gap":
            opts["shapeProperties"] = {"borderDashes": [5, 4]}
        if node in positions:
            opts["x"], opts["y"] = positions[node]
        if node_iri := _iri(node):
            opts["iri"] = node_iri
        color = {"background": fill, "border": border,
                 "highlight": {"background": fill, "border": "#000000"},
                 "hover": {"background": fill, "border": "#000000"}}
        net.add_node(str(node), label=_node_label(node, attrs, kind, large), shape=shape, color=color, **opts)
    edges = list(_edges(G))
    curves = _curves(edges)
    for i, (s, o, relation, attrs) in enumerate(edges):
        colour, dashes, width = EDGE_STYLES.get(relation, DEFAULT_EDGE_STYLE)
        opts = {
            "id": f"e{i}",
            "relation": relation,
            "tip": _edge_tip(s, o, relation, attrs),
            "color": {"color": colour, "highlight": colour, "hover": colour, "inherit": False},
            "width": width,
            "dashes": dashes or False,
        }
        indicator = _modifier_indicator(attrs)
        if relation == "kg:conflictsWith" and indicator is not None:
            opts["label"] = f"mod {indicator}"
        if i in curves:
            opts["smooth"] = curves[i]
        # a review note's target (kgraph.notes.edge_targets)
        if attrs.get("target") and (target := _iri(attrs["target"])):
            opts["target"] = target
        net.add_edge(str(s), str(o), **opts)
    return net


def _edges(G: nx.Graph) -> Iterable[tuple[Any, Any, str, dict[str, Any]]]:
    if G.is_multigraph():
        for s, o, key, attrs in G.edges(keys=True, data=True):
            yield s, o, str(attrs.get("relation") or key), attrs
    else:
        for s, o, attrs in G.edges(data=True):
            yield s, o, str(attrs.get("relation") or "kg:relatedTo"), attrs


def _curves(edges: list[tuple[Any, Any, str, dict[str, Any]]]) -> dict[int, dict[str, Any]]:
    """Curves for parallel edges (same two nodes, either direction), so that each one shows."""
    groups: dict[frozenset[str], list[int]] = defaultdict(list)
    for i, (s, o, _, _) in enumerate(edges):
        if s != o:
            groups[frozenset((str(s), str(o)))].append(i)
    out: dict[int, dict[str, Any]] = {}
    for members in groups.values():
        for rank, i in enumerate(members[1:], start=1):
            s, o = str(edges[i][0]), str(edges[i][1])
            side = rank % 2 == 1                # alternate sides, further out every second edge
            clockwise = side == (s <= o)        # curvedCW bends the other way for a reversed edge
            out[i] = {"enabled": True, "type": "curvedCW" if clockwise else "curvedCCW",
                      "roundness": round(0.25 * ((rank + 1) // 2), 2)}
    return out


def _font_size(node: Any, focus: Any) -> int:
    return 16 if node == focus else 13


def _look(G: nx.Graph, node: Any, focus: Any) -> layout.Look:
    """How ``_network`` will draw ``node`` (label lines, font, shape size), for the layout to measure."""
    attrs = G.nodes[node]
    kind = str(attrs.get("kind") or "")
    shape = NODE_STYLES.get(kind, DEFAULT_NODE_STYLE)[0]
    return layout.Look(lines=tuple(_node_label(node, attrs, kind, False).split("\n")),
                       font=_font_size(node, focus), size=24 if node == focus else 14,
                       inside=shape in INSIDE_SHAPES)


def _file_stem(focus: Any) -> str:
    """A file name for the picture's downloads: ``kgraph-CPT_74360``."""
    return "kgraph-" + (re.sub(r"[^A-Za-z0-9.-]+", "_", str(focus)).strip("_") if focus else "graph")


def _node_label(node: Any, attrs: Mapping[str, Any], kind: str, large: bool) -> str:
    label = str(attrs.get("label") or "")
    if kind == "gap":
        return label or "gap"
    if large or not label:
        return str(node)
    short = label if len(label) <= 28 else label[:27].rstrip() + "\u2026"
    return f"{node}\n{short}"


def _node_tip(node: Any, attrs: Mapping[str, Any], found: list[dict[str, Any]]) -> dict[str, Any]:
    lines = [["kind", str(attrs.get("kind") or "unknown")]]
    description = str(attrs.get("description") or attrs.get("label") or "")
    lines.append(["description", description or "(none in this build)"])
    notes = [[f["severity"], _finding_text(f)] for f in found]
    return {"head": str(node), "lines": lines, "notes": notes}


def _edge_tip(s: Any, o: Any, relation: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    lines = [["relation", relation]]
    indicator = _modifier_indicator(attrs)
    if indicator is not None:
        lines.append(["modifier indicator", f"{indicator} ({MODIFIER_INDICATORS.get(indicator, 'unknown')})"])
    for key, value in sorted((attrs.get("qualifiers") or {}).items(), key=lambda kv: str(kv[0])):  # any key type
        if key != "modifierIndicator":
            lines.append([str(key), str(value)])
    for ev in attrs.get("evidence") or []:
        where = f"{ev.get('source', '')}:{ev['line']}" if ev.get("line") else str(ev.get("source", ""))
        lines.append(["evidence", where])
    return {"head": f"{s} \u2192 {o}", "lines": lines, "notes": []}


def _iri(curie: Any) -> str | None:
    try:
        return iri(str(curie))
    except CurieError:
        return None


def _review(G: nx.Graph, data_versions: Any, review: Mapping[str, Any] | None) -> dict[str, Any]:
    """The page data of the notes panel: the export id and the notes of the store (read-only)."""
    from kgraph.notes import export_id

    review = review or {}
    info = getattr(data_versions, "info", None)
    build = info.get("id", "") if isinstance(info, Mapping) else ""
    g = G.graph
    return {"exportId": review.get("export_id") or export_id(build, g.get("focus"), g.get("depth"),
                                                            g.get("relations"), g.get("as_of")),
            "storedNotes": list(review.get("notes") or [])}


def _modifier_indicator(attrs: Mapping[str, Any]) -> str | None:
    qualifiers = attrs.get("qualifiers") or {}
    value = qualifiers.get("modifierIndicator", qualifiers.get("modifier_indicator"))
    return None if value is None else str(value)


# ---------------------------------------------------------------- findings

def _findings_by_subject(findings: Iterable[Any] | None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings or []:
        get = f.get if isinstance(f, Mapping) else (lambda k, _f=f: getattr(_f, k, None))
        severity = str(get("severity") or "info").lower()
        item = {"severity": severity if severity in ("error", "warning", "info") else "info",
                "rule": str(get("rule") or ""), "message": str(get("message") or ""),
                "source": get("source"), "line": get("line")}
        out[str(get("subject") or "")].append(item)
    return out


def _findings_html(G: nx.Graph, by_subject: dict[str, list[dict[str, Any]]], given: bool) -> str:
    """The findings about the picture's nodes as a table (shown on the printed page)."""
    rows = [(str(node), f) for node in sorted(G, key=str) for f in by_subject.get(str(node), [])]
    head = '<section id="kg-findings" class="kg-print-only" aria-label="findings"><h2>Findings</h2>'
    if not given:
        return (head + "<p>No validation findings were given with this export "
                "(kgraph export html --findings).</p></section>")
    if not rows:
        return head + "<p>Validation found nothing about the codes in this picture.</p></section>"
    body = "".join(
        f'<tr class="kg-{_esc(f["severity"])}"><td>{_esc(f["severity"])}</td><td><code>{_esc(node)}</code></td>'
        f'<td>{_esc(f["rule"])}</td><td>{_esc(f["message"])}</td><td>{_esc(_where(f))}</td></tr>'
        for node, f in rows)
    return (f'{head}<table><thead><tr><th>severity</th><th>code</th><th>rule</th><th>message</th><th>where</th></tr>'
            f'</thead><tbody>{body}</tbody></table></section>')


def _worst(found: list[dict[str, Any]]) -> str | None:
    if not found:
        return None
    for severity in ("error", "warning", "info"):
        if any(f["severity"] == severity for f in found):
            return severity
    return None


def _where(f: dict[str, Any]) -> str:
    return f"{f['source']}:{f['line']}" if f.get("source") and f.get("line") else str(f.get("source") or "")


def _finding_text(f: dict[str, Any]) -> str:
    where = f"{f['source']}:{f['line']}: " if f.get("source") and f.get("line") else ""
    rule = f" [{f['rule']}]" if f["rule"] else ""
    return f"{where}{f['severity']}: {f['message']}{rule}"


# ---------------------------------------------------------------- layout

def _options(large: bool) -> dict[str, Any]:
    # positions come from kgraph.layout: physics stays off (the page's checkbox can turn it on)
    return {
        "autoResize": True,
        "nodes": {"borderWidth": 1.5, "size": 14, "font": {"face": "sans-serif", "size": 13}},
        "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
                  "font": {"size": 11, "align": "middle", "face": "sans-serif"}},
        "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": large, "hideEdgesOnZoom": large,
                        "multiselect": True},
        "layout": {"improvedLayout": False, "randomSeed": 7},
        "physics": {"enabled": False} if large else {
            "enabled": False, "solver": "barnesHut", "stabilization": {"enabled": False},
            "barnesHut": {"gravitationalConstant": -9000, "centralGravity": 0.25, "springLength": 170,
                          "springConstant": 0.03, "avoidOverlap": 0.6}},
    }


# ---------------------------------------------------------------- page parts

def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


#: what ``json.dumps(default=str)`` writes as ``str(value)``, orjson too (it would write dates its own way)
_AS_STR = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _json_for_script(data: Any) -> str:
    # inside <script type="application/json">: no "</script>" or "<!--" can survive this
    try:  # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) does, 5-10x faster
        text = orjson.dumps(data, default=str, option=_AS_STR).decode("utf-8")
    except TypeError:  # a key that is not a string, an integer beyond 64 bits: the standard library's spelling
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    for ch, code in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                     ("\u2029", "\\u2029")):
        text = text.replace(ch, code)
    return text


@lru_cache(maxsize=16)  # every file of kgraph/templates/ stays read: an export is timed in bench_viz.py
def _template(name: str) -> str:
    """A file of the page (``kgraph/templates/export.html|css|js``): the HTML holds ``@@PART@@`` placeholders."""
    return resources.files("kgraph").joinpath("templates", name).read_text(encoding="utf-8")


@lru_cache(maxsize=2)
def _vis_asset(name: str) -> str:
    ref = resources.files("pyvis").joinpath(*VIS_DIR, name)
    text = ref.read_text(encoding="utf-8")
    closing = "</script" if name.endswith(".js") else "</style"
    if closing in text.lower():  # would end the inline element early
        raise ExportError(f"pyvis {name}: contains {closing}; cannot inline it")
    return text


def _versions(data_versions: Any) -> list[dict[str, str]]:
    if data_versions is None:
        return []
    info = getattr(data_versions, "info", None)
    if isinstance(info, Mapping):
        from kgraph.validate import data_versions as stated

        # a release the reader read from the file itself (the April 2026 tabular's file name, the
        # ICD-10-CM fiscal years) is in the graph, not in the manifest: name it too
        named = stated(data_versions)
        data_versions = [{**s, "release": s.get("release") or named.get(s.get("kind", ""), "")}
                         for s in info.get("sources", [])]
    if isinstance(data_versions, Mapping):
        return [{"file": str(k), "release": str(v or "")} for k, v in data_versions.items()]
    out = []
    for item in data_versions:
        if isinstance(item, Mapping):
            out.append({k: str(item.get(k) or "") for k in ("file", "release", "kind", "sha256", "licence")})
        else:
            file, release = item
            out.append({"file": str(file), "release": str(release or "")})
    return out


def _versions_html(versions: list[dict[str, str]]) -> str:
    if not versions:
        return '<p class="kg-versions">Data versions: not given with this export.</p>'
    items = []
    for v in versions:
        release = f"release {v['release']}" if v.get("release") else "no release stated"
        extra = [v[k] for k in ("kind",) if v.get(k)]
        if v.get("sha256"):
            extra.append(f"sha256 {v['sha256'][:12]}")
        if v.get("licence"):
            extra.append(v["licence"])
        tail = f' <span class="kg-dim">({_esc("; ".join(extra))})</span>' if extra else ""
        items.append(f"<li><code>{_esc(v['file'])}</code>: {_esc(release)}{tail}</li>")
    return (f'<details class="kg-versions" open><summary>Data versions ({len(versions)} sources)</summary>'
            f'<ul>{"".join(items)}</ul></details>')


def _summary(G: nx.Graph, by_subject: dict[str, list[dict[str, Any]]]) -> str:
    parts = [f"{G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges"]
    g = G.graph
    if g.get("focus"):
        parts.append(f"focus {g['focus']}" + (f", depth {g['depth']}" if g.get("depth") is not None else ""))
    if g.get("as_of"):
        parts.append(f"as of {g['as_of']}")
    shown = [f for node in G for f in by_subject.get(str(node), [])]
    if shown:
        counts = {s: sum(f["severity"] == s for f in shown) for s in ("error", "warning", "info")}
        parts.append("findings: " + ", ".join(f"{n} {s}{'s' if n > 1 else ''}" for s, n in counts.items() if n))
    return _esc(" \u00b7 ".join(parts))


def _legend(G: nx.Graph, by_subject: dict[str, list[dict[str, Any]]]) -> str:
    kinds: dict[str, int] = defaultdict(int)
    for _, attrs in G.nodes(data=True):
        kinds[str(attrs.get("kind") or "")] += 1
    relations: dict[str, int] = defaultdict(int)
    for _, _, relation, _ in _edges(G):
        relations[relation] += 1
    known = list(NODE_STYLES)
    kind_rows = []
    for kind in sorted(kinds, key=lambda k: (known.index(k) if k in known else len(known), k)):
        shape, fill, border = NODE_STYLES.get(kind, DEFAULT_NODE_STYLE)
        dashed = kind == "gap"
        kind_rows.append(
            f'<li><label><input type="checkbox" class="kg-kind-filter" data-kind="{_esc(kind)}" checked> '
            f'{_shape_svg(shape, fill, border, dashed)} {_esc(kind or "(no kind)")} '
            f'<span class="kg-count">{kinds[kind]}</span></label></li>')
    known_rel = list(EDGE_STYLES)
    rel_rows = []
    for rel in sorted(relations, key=lambda r: (known_rel.index(r) if r in known_rel else len(known_rel), r)):
        colour, dashes, width = EDGE_STYLES.get(rel, DEFAULT_EDGE_STYLE)
        note = " (label: modifier indicator)" if rel == "kg:conflictsWith" else ""
        rel_rows.append(
            f'<li><label><input type="checkbox" class="kg-relation-filter" data-relation="{_esc(rel)}" checked> '
            f'{_line_svg(colour, dashes, width)} {_esc(rel.removeprefix("kg:"))}{_esc(note)} '
            f'<span class="kg-count">{relations[rel]}</span></label></li>')
    marks = [f'<li>{_shape_svg("dot", "#ffffff", FINDING_BORDERS["error"], False, 3)} error finding</li>',
             f'<li>{_shape_svg("dot", "#ffffff", FINDING_BORDERS["warning"], False, 3)} warning finding</li>',
             f'<li>{_shape_svg("hexagon", "#eeeeee", "#777777", True)} dashed border: data not available (gap)</li>',
             "<li>larger node: the focus code</li>"]
    return ('<section id="kg-legend" class="kg-legend" aria-label="legend and filters"><h2>Legend and filters</h2>'
            f'<h3>Nodes</h3><ul id="kg-kinds">{"".join(kind_rows) or "<li>none</li>"}</ul>'
            f'<h3>Relations</h3><ul id="kg-relations">{"".join(rel_rows) or "<li>none</li>"}</ul>'
            f'<h3>Marks</h3><ul>{"".join(marks)}</ul></section>')


def _shape_svg(shape: str, fill: str, border: str, dashed: bool, width: float = 1.5) -> str:
    dash = ' stroke-dasharray="3 2"' if dashed else ""
    style = f'fill="{fill}" stroke="{border}" stroke-width="{width}"{dash}'
    body = {
        "box": f'<rect x="2" y="5" width="16" height="10" rx="2" {style}/>',
        "ellipse": f'<ellipse cx="10" cy="10" rx="8" ry="5.5" {style}/>',
        "diamond": f'<polygon points="10,2 18,10 10,18 2,10" {style}/>',
        "triangle": f'<polygon points="10,2 18,17 2,17" {style}/>',
        "triangleDown": f'<polygon points="2,3 18,3 10,18" {style}/>',
        "square": f'<rect x="3" y="3" width="14" height="14" {style}/>',
        "hexagon": f'<polygon points="5,3 15,3 19,10 15,17 5,17 1,10" {style}/>',
    }.get(shape, f'<circle cx="10" cy="10" r="7" {style}/>')
    return f'<svg class="kg-swatch" width="20" height="20" viewBox="0 0 20 20" aria-hidden="true">{body}</svg>'


def _line_svg(colour: str, dashes: list[int] | None, width: float) -> str:
    dash = f' stroke-dasharray="{" ".join(map(str, dashes))}"' if dashes else ""
    return ('<svg class="kg-swatch" width="28" height="12" viewBox="0 0 28 12" aria-hidden="true">'
            f'<line x1="1" y1="6" x2="23" y2="6" stroke="{colour}" stroke-width="{max(width, 1.5)}"{dash}/>'
            f'<polygon points="22,2 27,6 22,10" fill="{colour}"/></svg>')
