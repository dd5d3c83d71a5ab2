"""HTML exports: the page as text, then the page in a real browser (Debian's chromium, driven by Playwright).

The browser tests block and record every request that is not file:, and fail (never skip) when
Playwright or chromium (on PATH or $KGRAPH_CHROMIUM) is missing: run `bash scripts/install-chromium.sh` as root.
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import pytest

import kgraph
from kgraph import viz
from kgraph.viz import ExportError

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"
ARTIFACTS = ROOT / "tests" / "artifacts"
SCRIPT_LABEL = "<script>window.pwned = 1</script>"
IMG_LABEL = '<img src="x.png" onerror="window.pwned = 2">'


def synthetic(n: int, *, seed: int = 7) -> nx.MultiDiGraph:
    """A neighbourhood-shaped graph of n nodes: a focus CPT code, mixed kinds, some parallel edges."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph(focus="CPT:10000", depth=2)
    G.add_node("CPT:10000", kind="CPT", label="focus code", description="focus code")
    ids = ["CPT:10000"]
    plan = {"CPT": ("CPT:{:05d}", "kg:conflictsWith", True), "ICD-10-CM": ("ICD10CM:A{:05d}", "kg:supports", False),
            "modifier": ("MOD:M{}", "kg:modifierFor", False), "taxonomy": ("NUCC:{:09d}X", "kg:reportedBy", True),
            "payer": ("PAYER:p{}", "kg:coveredBy", True), "gap": ("GAP:g{}", "kg:hasGap", True)}
    for i in range(1, n):
        kind = rng.choice(["CPT", "CPT", "CPT", "ICD-10-CM", "modifier", "taxonomy", "payer", "gap"])
        pattern, relation, outward = plan[kind]
        node = pattern.format(10000 + i)
        G.add_node(node, kind=kind, label=f"label {i}", description=f"description {i}")
        parent = ids[0] if rng.random() < 0.6 else rng.choice(ids)
        s, o = (parent, node) if outward else (node, parent)
        qualifiers = {"modifierIndicator": rng.choice("019")} if relation == "kg:conflictsWith" else {}
        G.add_edge(s, o, key=relation, relation=relation, qualifiers=qualifiers,
                   evidence=[{"source": "synthetic.csv", "line": i}])
        if kind == "CPT" and rng.random() < 0.2:  # a parallel edge of another relation
            G.add_edge(s, o, key="kg:billedWith", relation="kg:billedWith", qualifiers={}, evidence=[])
        ids.append(node)
    return G


def page_data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', page, re.S)
    assert match, "no data block in the page"
    return json.loads(match.group(1))


class _Refs(HTMLParser):
    """Every URL-valued attribute and every tag of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data", "poster", "xlink:href"):
                self.urls.append((tag, name, value or ""))


@pytest.fixture(scope="module")
def seed_graph(default_store) -> nx.MultiDiGraph:
    return kgraph.neighborhood(default_store, "CPT:74360", depth=1)


@pytest.fixture(scope="module")
def seed_page(seed_graph, default_store) -> str:
    return viz.to_html(seed_graph, data_versions=default_store)


# ---------------------------------------------------------------- the page as text

def test_page_fetches_nothing_from_a_network(seed_page):
    refs = _Refs()
    refs.feed(seed_page)
    remote = [u for u in refs.urls if re.match(r"\s*(https?:)?//", u[2], re.I)]
    assert remote == []
    assert [t for t, a in refs.tags if t == "script" and "src" in a] == []
    assert [a for t, a in refs.tags if t == "link" and "stylesheet" in a.get("rel", "")] == []
    # the vis-network CSS draws its icons from data: URLs only
    assert {u[:5] for u in re.findall(r"url\(\s*[\"']?([^\"')]+)", seed_page)} == {"data:"}
    assert "bootstrap" not in seed_page.lower()


def test_page_inlines_vis_network_and_has_a_legend(seed_page, seed_graph):
    scripts = re.findall(r"<script>(.*?)</script>", seed_page, re.S)
    assert any("@version 9.1.2" in s for s in scripts)  # vis-network itself
    assert any("new vis.Network(" in s for s in scripts)
    legend = re.search(r'<section id="kg-legend".*?</section>', seed_page, re.S).group(0)
    kinds = set(re.findall(r'class="kg-kind-filter" data-kind="([^"]+)"', legend))
    assert kinds == {d["kind"] for _, d in seed_graph.nodes(data=True)}
    assert kinds >= {"CPT", "ICD-10-CM", "modifier", "taxonomy", "payer", "gap"}  # what the seed briefing names
    relations = set(re.findall(r'class="kg-relation-filter" data-relation="([^"]+)"', legend))
    assert relations == {k for _, _, k in seed_graph.edges(keys=True)}


def test_file_is_utf8_and_alone(tmp_path):
    G = nx.MultiDiGraph()
    G.add_node("ICD10CM:K31.89", kind="ICD-10-CM", label="Ménétrier disease \u2013 gastritis")
    out = viz.write_html(G, tmp_path / "one.html")
    assert out == tmp_path / "one.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.html"]  # no lib/ folder
    text = out.read_bytes().decode("utf-8")
    assert '<meta charset="utf-8">' in text
    assert page_data(text)["nodes"][0]["tip"]["lines"][1] == ["description", "Ménétrier disease \u2013 gastritis"]
    assert not (ROOT / "lib").exists()


def test_source_text_is_escaped():
    G = nx.MultiDiGraph()
    G.add_node("CPT:74280", kind="CPT", label=SCRIPT_LABEL, description=SCRIPT_LABEL)
    G.add_node("ICD10CM:R19.7", kind="ICD-10-CM", label=IMG_LABEL)
    G.add_edge("ICD10CM:R19.7", "CPT:74280", key="kg:supports", relation="kg:supports",
               qualifiers={"relevanceText": "</script><script>window.pwned=3</script>"},
               evidence=[{"source": "<b>x.txt</b>", "line": 16}])
    page = viz.to_html(G, title="<i>review</i>", notices=["<u>notice</u>"])
    assert "<script>window.pwned" not in page and "<img src" not in page
    assert "<i>review</i>" not in page and "<u>" not in page and "<b>x.txt" not in page
    assert "<title>&lt;i&gt;review&lt;/i&gt;</title>" in page
    assert "\\u003cscript\\u003ewindow.pwned = 1\\u003c/script\\u003e" in page
    data = page_data(page)
    assert data["nodes"][0]["tip"]["lines"][1] == ["description", SCRIPT_LABEL]  # the text itself survives


def test_a_notebook_graph_with_any_qualifier_keys_and_values_exports():
    """A data scientist's own graph: qualifier keys of mixed types, an integer past 64 bits."""
    G = nx.MultiDiGraph()
    G.add_node("CPT:74280", kind="CPT", label="imaging")
    G.add_node("ICD10CM:R19.7", kind="ICD-10-CM", label="diarrhoea")
    G.add_edge("ICD10CM:R19.7", "CPT:74280", key="kg:supports", relation="kg:supports",
               qualifiers={"units": 2**70, 3: "three", "role": "primary"})
    tip = page_data(viz.to_html(G))["edges"][0]["tip"]["lines"]
    assert ["units", str(2**70)] in tip and ["3", "three"] in tip and ["role", "primary"] in tip


def test_error_too_many_nodes():
    with pytest.raises(ExportError) as err:
        viz.to_html(synthetic(2001))
    assert str(err.value) == (
        "the graph has 2,001 nodes, more than the limit of 2,000 for an HTML export; narrow it with --focus CODE "
        "and a smaller --depth (or fewer --relation), or raise the limit (--max-nodes)")
    with pytest.raises(ExportError, match="^the graph has 11 nodes, more than the limit of 10 "):
        viz.to_html(synthetic(11), max_nodes=10)
    assert isinstance(err.value, kgraph.KGraphError)


def test_error_unwritable_path(tmp_path):
    with pytest.raises(ExportError) as err:
        viz.write_html(synthetic(3), tmp_path / "missing" / "x.html")
    target = tmp_path / "missing" / "x.html"
    assert str(err.value) == f"{target}: cannot write the HTML export: No such file or directory"


def test_hundred_node_graph_exports_with_parallel_edges():
    G = synthetic(100)
    data = page_data(viz.to_html(G))
    assert len(data["nodes"]) == 100 and len(data["edges"]) == G.number_of_edges()
    assert len({e["id"] for e in data["edges"]}) == len(data["edges"])
    pairs: dict[tuple, list] = {}
    for e in data["edges"]:
        pairs.setdefault((e["from"], e["to"]), []).append(e)
    parallel = [es for es in pairs.values() if len(es) > 1]
    assert parallel, "the synthetic graph should hold parallel edges"
    for es in parallel:  # both relations kept, the second one curved so that it shows
        assert {e["relation"] for e in es} == {"kg:conflictsWith", "kg:billedWith"}
        assert sum("smooth" in e for e in es) == len(es) - 1
    conflicts = [e for e in data["edges"] if e["relation"] == "kg:conflictsWith"]
    assert all(re.fullmatch(r"mod [019]", e["label"]) for e in conflicts)
    # positions from kgraph.layout (issue 18): physics off, every node placed, each on its own spot
    assert data["options"]["physics"]["enabled"] is False
    assert len({(n["x"], n["y"]) for n in data["nodes"]}) == 100


def test_findings_and_gaps_stand_out(seed_graph):
    findings = [{"severity": "error", "rule": "code.unknown", "subject": "ICD10CM:K22.2", "message": "not in FY2026"},
                # an object with attributes, as kgraph.validate returns them
                SimpleNamespace(severity="warning", rule="nucc.name-mismatch", subject="NUCC:207RG0100X",
                                message="name differs", source="data/briefings/cpt-74360.txt", line=33),
                {"severity": "error", "rule": "code.unknown", "subject": "CPT:99999", "message": "not shown"}]
    page = viz.to_html(seed_graph, findings=findings)
    nodes = {n["id"]: n for n in page_data(page)["nodes"]}
    k222 = nodes["ICD10CM:K22.2"]
    assert (k222["finding"], k222["color"]["border"], k222["borderWidth"]) == ("error", "#d62728", 4)
    assert k222["tip"]["notes"] == [["error", "error: not in FY2026 [code.unknown]"]]
    assert nodes["NUCC:207RG0100X"]["color"]["border"] == "#ff7f0e"
    assert nodes["NUCC:207RG0100X"]["tip"]["notes"] == [
        ["warning", "data/briefings/cpt-74360.txt:33: warning: name differs [nucc.name-mismatch]"]]
    assert "finding" not in nodes["CPT:74360"]
    gaps = [n for n in nodes.values() if n["kind"] == "gap"]
    assert gaps and all(n["shapeProperties"] == {"borderDashes": [5, 4]} for n in gaps)
    assert "findings: 1 error, 1 warning" in page


def test_large_graph_gets_positions_and_no_physics():
    data = page_data(viz.to_html(synthetic(400)))
    assert data["options"]["physics"] == {"enabled": False}
    positions = {(n["x"], n["y"]) for n in data["nodes"]}
    assert len(positions) == 400  # every node placed, no two on the same spot
    focus = next(n for n in data["nodes"] if n["id"] == "CPT:10000")
    assert focus["size"] == 24


def test_header_shows_versions_date_and_notices(seed_page, default_store):
    header = re.search(r"<header.*?</header>", seed_page, re.S).group(0)
    for source in default_store.info["sources"]:
        assert f"<code>{source['file']}</code>" in header
    assert "release 2026-11" in header  # data/payers.csv in data/sources.toml
    today = datetime.now(UTC).date().isoformat()
    assert re.search(rf'<time id="kg-exported" datetime="{today}T\d\d:\d\d:\d\d\+00:00">', header)
    footer = re.search(r"<footer.*?</footer>", seed_page, re.S).group(0)
    assert "CPT codes and descriptions only are copyright American Medical Association. All rights reserved." in footer
    assert "National Uniform Claim Committee (NUCC)" in footer


def test_notebook_wraps_the_page_in_an_iframe(seed_graph):
    shown = viz.notebook(seed_graph, height="500px")
    assert type(shown).__name__ == "HTML"
    assert shown.data.startswith('<div class="kgraph-export"><iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert "<script" not in shown.data and 'height:500px' in shown.data


# ---------------------------------------------------------------- the page in a real browser

class Visit:
    """A page opened from file:// with every other request aborted and recorded."""

    def __init__(self, browser, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.blocked: list[str] = []
        self.files: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("dialog", self._dialog)
        self.page.goto(self.url)
        self.page.wait_for_function("window.kgraph && window.kgraph.ready === true", timeout=30_000)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith("file:"):
            self.files.append(url)
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def drawn(self) -> tuple[set, set]:
        """Ids of the nodes and edges vis-network holds now (what it draws)."""
        nodes, edges = self.js("[kgraphNetwork.body.nodeIndices, kgraphNetwork.body.edgeIndices]")
        return set(nodes), set(edges)

    def clean(self) -> None:
        assert self.blocked == [] and self.errors == [] and self.dialogs == []
        assert self.files == [self.url]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser):
    opened: list[Visit] = []

    def open_(path: Path) -> Visit:
        opened.append(Visit(browser, path))
        return opened[-1]

    yield open_
    for v in opened:
        v.close()


def test_browser_loads_offline_with_counts_and_legend(visit, seed_graph, default_store, tmp_path):
    v = visit(viz.write_html(seed_graph, tmp_path / "74360.html", data_versions=default_store))
    v.clean()
    counts = v.js("[kgraph.nodes.length, kgraph.edges.length, kgraphNetwork.body.nodeIndices.length, "
                  "kgraphNetwork.body.edgeIndices.length]")
    n, e = seed_graph.number_of_nodes(), seed_graph.number_of_edges()
    assert counts == [n, e, n, e]
    assert v.page.locator("#kg-legend").is_visible()
    assert v.page.locator("input.kg-kind-filter").count() == len({d["kind"] for _, d in seed_graph.nodes(data=True)})
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(ARTIFACTS / "viz-cpt-74360.png"))
    v.clean()


def test_browser_filters_hide_exactly_what_they_name(visit, seed_graph, tmp_path):
    v = visit(viz.write_html(seed_graph, tmp_path / "74360.html"))
    ids = v.js("kgraph.edges.get().map(e => [e.id, e.from, e.to, e.relation])")
    kind = {n: d["kind"] for n, d in seed_graph.nodes(data=True)}
    v.page.locator('input.kg-kind-filter[data-kind="modifier"]').click()
    nodes, edges = v.drawn()
    assert nodes == {n for n in seed_graph if kind[n] != "modifier"}
    assert edges == {i for i, s, o, _ in ids if "modifier" not in (kind[s], kind[o])}
    v.page.locator('input.kg-relation-filter[data-relation="kg:supports"]').click()
    nodes2, edges2 = v.drawn()
    assert nodes2 == nodes  # hiding a relation leaves every node in place
    assert edges2 == {i for i, s, o, r in ids if "modifier" not in (kind[s], kind[o]) and r != "kg:supports"}
    v.page.locator("#kg-show-all").click()
    assert v.drawn() == (set(seed_graph), {i for i, *_ in ids})
    v.clean()


def test_browser_search_selects_and_focuses_the_code(visit, seed_graph, tmp_path):
    v = visit(viz.write_html(seed_graph, tmp_path / "74360.html"))
    box = v.page.locator("#kg-search")
    for typed, curie in (("k222", "ICD10CM:K22.2"), ("CPT:74360", "CPT:74360"), ("  mod:26 ", "MOD:26")):
        box.fill(typed)
        box.press("Enter")
        assert v.js("kgraphNetwork.getSelectedNodes()") == [curie]
        v.page.wait_for_function(
            "id => { const n = kgraphNetwork, p = n.getPositions([id])[id], c = n.getViewPosition();"
            " return Math.hypot(p.x - c.x, p.y - c.y) < 2 && n.getScale() >= 1.29; }", arg=curie, timeout=5_000)
        assert v.page.locator("#kg-details-body .kg-tip-head").inner_text() == curie
    # a code of a hidden kind is shown again before it is focused
    v.page.locator('input.kg-kind-filter[data-kind="modifier"]').click()
    box.fill("26")
    box.press("Enter")
    assert v.js("kgraphNetwork.getSelectedNodes()") == ["MOD:26"] and "MOD:26" in v.drawn()[0]
    box.fill("Z99.9")
    box.press("Enter")
    assert v.page.locator("#kg-search-status").inner_text() == "No code \u201cZ99.9\u201d in this picture."
    v.clean()


def test_browser_script_in_a_briefing_cell_shows_as_text(visit, tmp_path):
    # payers and the briefing only: the diagnosis keeps the briefing's text as its label (no ICD-10-CM set)
    manifest = tmp_path / "sources.toml"
    manifest.write_text(f'[[source]]\nkind = "payers"\npath = "{ROOT / "data" / "payers.csv"}"\n', encoding="utf-8")
    store = kgraph.build(manifest, store=tmp_path / "kg", briefings=[str(BAD / "script-cell.txt")])
    G = kgraph.neighborhood(store, "CPT:74280", depth=1)
    G.add_node("CPT:74281", kind="CPT", label=SCRIPT_LABEL, description=IMG_LABEL)
    G.add_edge("CPT:74280", "CPT:74281", key="kg:relatedTo", relation="kg:relatedTo",
               qualifiers={"relationshipText": IMG_LABEL}, evidence=[])
    v = visit(viz.write_html(G, tmp_path / "script.html", title=SCRIPT_LABEL, data_versions=store))
    assert v.js("typeof window.pwned") == "undefined"
    assert v.page.locator("#kg-title").inner_text() == SCRIPT_LABEL
    # hover the diagnosis whose briefing cell holds <script>: the tooltip shows the text
    x, y = v.js("""id => { const n = kgraphNetwork, p = n.canvasToDOM(n.getPositions([id])[id]),
                   r = document.getElementById('kg-network').getBoundingClientRect();
                   return [r.left + p.x, r.top + p.y]; }""", "ICD10CM:R19.7")
    v.page.mouse.move(x, y)
    tip = v.page.locator("div.vis-tooltip")
    tip.wait_for(state="visible", timeout=5_000)
    assert "Loose stools <script>alert(1)</script>" in tip.inner_text()
    assert v.js("document.querySelectorAll('div.vis-tooltip script, div.vis-tooltip img').length") == 0
    v.page.locator("#kg-search").fill("74281")
    v.page.locator("#kg-search").press("Enter")
    assert IMG_LABEL in v.page.locator("#kg-details-body").inner_text()
    assert v.js("typeof window.pwned") == "undefined"
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(ARTIFACTS / "viz-script-cell.png"))
    v.clean()  # no alert dialog, no request for x.png


def test_browser_draws_a_2000_node_export(visit, tmp_path):
    G = synthetic(2000)
    v = visit(viz.write_html(G, tmp_path / "big.html"))
    assert v.js("[kgraphNetwork.body.nodeIndices.length, kgraphNetwork.body.edgeIndices.length]") == [
        2000, G.number_of_edges()]
    assert v.js("kgraph.timings.drawn - kgraph.timings.start") < 15_000
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(ARTIFACTS / "viz-synthetic-2000.png"))
    v.clean()


def test_browser_empty_graph_is_ready(visit, tmp_path):
    v = visit(viz.write_html(nx.MultiDiGraph(), tmp_path / "empty.html", title="nothing found"))
    assert v.js("[kgraph.nodes.length, kgraphNetwork.body.nodeIndices.length]") == [0, 0]
    v.clean()
