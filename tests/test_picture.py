"""The HTML export as a picture for a meeting (issue 18, item 2): nodes laid out by kind, labels that
do not overlap, PNG and SVG downloads, a printed page.

Label boxes are measured in Chromium (vis-network's own bounding box of each node, its label
included), never taken from kgraph.layout's estimate. Screenshots, the downloads and a PDF of the
printed page go to tests/artifacts/ for inspection.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import kgraph
from kgraph import layout, viz
from tests import test_viz
from tests.test_viz import ARTIFACTS, Visit, page_data, synthetic

SVG = "{http://www.w3.org/2000/svg}"
#: pairs of nodes whose vis-network bounding boxes (shape and label) intersect, and how many were measured
OVERLAPS = """() => { const n = kgraphNetwork, ids = kgraph.nodesView.getIds();
  const b = ids.map(id => [id, n.getBoundingBox(id)]), out = [];
  for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++) {
    const p = b[i][1], q = b[j][1];
    if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom) out.push([b[i][0], b[j][0]]);
  }
  return [ids.length, out]; }"""
#: nodes whose bounding box is narrower than their widest label line as the canvas measures it
NARROW = """() => { const ctx = document.createElement('canvas').getContext('2d'), out = [];
  kgraph.nodes.get().forEach(node => {
    ctx.font = node.font.size + 'px sans-serif';
    const b = kgraphNetwork.getBoundingBox(node.id);
    const w = Math.max(...String(node.label).split('\\n').map(t => ctx.measureText(t).width));
    if (b.right - b.left + 0.5 < w) out.push([node.id, b.right - b.left, w]);
  });
  return out; }"""


@pytest.fixture(scope="module")
def seed_graph(default_store):
    return kgraph.neighborhood(default_store, "CPT:74360", depth=1)


@pytest.fixture(scope="module")
def seed_graph2(default_store):
    return kgraph.neighborhood(default_store, "CPT:74360", depth=2)

visit = test_viz.visit  # the fixture: a page opened from file:// with every other request aborted


# ---------------------------------------------------------------- the layout, as the page's data

def test_each_kind_has_its_sector_around_the_focus(seed_graph):
    data = page_data(viz.to_html(seed_graph))
    nodes = {n["id"]: n for n in data["nodes"]}
    focus = nodes["CPT:74360"]
    sectors = {s["kind"]: s for s in data["sectors"]}
    kinds = {d["kind"] for _, d in seed_graph.nodes(data=True)}
    assert set(sectors) == kinds  # one sector per kind present (the focus's own kind: its neighbours)
    for node, attrs in seed_graph.nodes(data=True):
        if node == "CPT:74360":
            continue
        s, n = sectors[attrs["kind"]], nodes[node]
        assert s["x"] <= n["x"] <= s["x"] + s["w"] and s["y"] <= n["y"] <= s["y"] + s["h"], node
    fx, fy = focus["x"], focus["y"]
    assert sectors["ICD-10-CM"]["x"] + sectors["ICD-10-CM"]["w"] < fx < sectors["CPT"]["x"]  # diagnoses left
    assert sectors["modifier"]["y"] + sectors["modifier"]["h"] < fy < sectors["taxonomy"]["y"]  # modifiers above
    assert sectors["payer"]["x"] > fx and sectors["payer"]["y"] + sectors["payer"]["h"] < fy
    assert sectors["CPT"]["title"] == "Related procedures (CPT)"
    assert data["options"]["physics"]["enabled"] is False and data["physics"] is False


def test_positions_are_the_same_every_export(seed_graph):
    first, second = (page_data(viz.to_html(seed_graph)) for _ in range(2))
    assert [(n["id"], n["x"], n["y"]) for n in first["nodes"]] == [(n["id"], n["x"], n["y"]) for n in second["nodes"]]
    assert first["sectors"] == second["sectors"]


def test_above_the_limit_the_radial_layout_and_code_labels():
    data = page_data(viz.to_html(synthetic(layout.SECTOR_MAX_NODES + 1)))
    assert data["sectors"] == []
    assert all(n["label"] == n["id"] for n in data["nodes"] if not n["id"].startswith("GAP:"))
    within = page_data(viz.to_html(synthetic(layout.SECTOR_MAX_NODES)))
    assert len(within["sectors"]) == 6


@pytest.mark.slow  # validates the default build (5 s)
def test_findings_table_lists_the_findings_about_the_picture(seed_graph, default_store):
    findings = kgraph.validate(default_store)
    about = [f for f in findings if f.subject in seed_graph]
    assert about  # the seed briefing has findings (K22.8 is a header since FY2022)
    page = viz.to_html(seed_graph, findings=findings)
    table = page[page.index('<section id="kg-findings"'):]
    table = table[:table.index("</section>")]
    assert table.count("<tr class=") == len(about)
    assert "<code>ICD10CM:K22.8</code>" in table
    assert "No validation findings were given with this export" in viz.to_html(seed_graph)
    clean = viz.to_html(seed_graph, findings=[])
    assert "Validation found nothing about the codes in this picture." in clean


# ---------------------------------------------------------------- in Chromium

def _no_overlap(v: Visit, expected: int) -> None:
    measured, overlaps = v.js(OVERLAPS)
    assert measured == expected
    assert overlaps == []
    assert v.js(NARROW) == []  # the boxes measured hold the labels


def test_browser_seed_depth1_labels_do_not_overlap(visit, seed_graph, default_store, tmp_path):
    v = visit(viz.write_html(seed_graph, tmp_path / "74360.html", data_versions=default_store))
    _no_overlap(v, seed_graph.number_of_nodes())
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(ARTIFACTS / "picture-cpt-74360-depth1.png"))
    v.clean()


def test_browser_depth2_and_the_limit_labels_do_not_overlap(visit, seed_graph2, tmp_path):
    # the stated limit: up to SECTOR_MAX_NODES nodes, laid out by kind with no label boxes overlapping
    assert seed_graph2.number_of_nodes() <= layout.SECTOR_MAX_NODES
    v = visit(viz.write_html(seed_graph2, tmp_path / "74360-2.html"))
    _no_overlap(v, seed_graph2.number_of_nodes())
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(ARTIFACTS / "picture-cpt-74360-depth2.png"))
    v.clean()
    G = synthetic(layout.SECTOR_MAX_NODES)
    v = visit(viz.write_html(G, tmp_path / "limit.html"))
    _no_overlap(v, layout.SECTOR_MAX_NODES)
    v.clean()


def test_browser_png_and_svg_downloads(visit, seed_graph, tmp_path):
    v = visit(viz.write_html(seed_graph, tmp_path / "74360.html"))
    ARTIFACTS.mkdir(exist_ok=True)
    with v.page.expect_download() as got:
        v.page.locator("#kg-download-png").click()
    assert got.value.suggested_filename == "kgraph-CPT_74360.png"
    png = Path(got.value.path()).read_bytes()
    (ARTIFACTS / "picture-cpt-74360-download.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert [width, height] == v.js("(c => [c.width, c.height])(document.querySelector('#kg-network canvas'))")

    labels = {n["id"]: n["label"] for n in v.js("kgraph.nodes.get()")}
    with v.page.expect_download() as got:
        v.page.locator("#kg-download-svg").click()
    assert got.value.suggested_filename == "kgraph-CPT_74360.svg"
    svg = Path(got.value.path()).read_bytes()
    (ARTIFACTS / "picture-cpt-74360.svg").write_bytes(svg)
    root = ET.fromstring(svg)
    texts = {t.get("data-id"): "\n".join(s.text or "" for s in t.iter(f"{SVG}tspan"))
             for t in root.iter(f"{SVG}text") if t.get("class") == "kg-node-label"}
    assert len([t for t in root.iter(f"{SVG}text") if t.get("class") == "kg-node-label"]) == len(labels)
    assert texts == labels
    titles = {t.text for t in root.iter(f"{SVG}text") if t.get("class") == "kg-sector-title"}
    assert "Diagnoses (ICD-10-CM)" in titles and "Modifiers" in titles
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "kg-edge"]) == seed_graph.number_of_edges()

    # a hidden kind is left out of the drawing, as it is out of the picture
    v.page.locator('input.kg-kind-filter[data-kind="modifier"]').click()
    root = ET.fromstring(v.js("kgraph.pictureSVG()"))
    ids = {t.get("data-id") for t in root.iter(f"{SVG}text") if t.get("class") == "kg-node-label"}
    assert ids == {n for n, d in seed_graph.nodes(data=True) if d["kind"] != "modifier"}
    assert "Modifiers" not in {t.text for t in root.iter(f"{SVG}text") if t.get("class") == "kg-sector-title"}
    v.clean()


def test_browser_print_puts_picture_legend_versions_findings_on_the_page(visit, seed_graph, default_store,
                                                                         tmp_path):
    findings = kgraph.validate(default_store)
    about = [f for f in findings if f.subject in seed_graph]
    v = visit(viz.write_html(seed_graph, tmp_path / "74360.html", data_versions=default_store, findings=findings))
    page = v.page
    assert not page.locator("#kg-print-picture").is_visible() and not page.locator("#kg-findings").is_visible()
    # the printable area of landscape Letter (279 x 216 mm less 10 mm margins) at 96 px per inch, the
    # smaller of Letter and A4 in each direction
    page.set_viewport_size({"width": 980, "height": 718})
    page.emulate_media(media="print")
    for shown in ("#kg-print-picture svg", "#kg-legend", ".kg-versions", "#kg-findings table", "#kg-footer"):
        assert page.locator(shown).first.is_visible(), shown
    for hidden in ("#kg-network", "#kg-search-box", "#kg-download-png", "input.kg-kind-filter"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.locator("#kg-findings tbody tr").count() == len(about)
    assert page.locator("#kg-print-picture svg text.kg-node-label").count() == seed_graph.number_of_nodes()
    for source in default_store.info["sources"]:
        assert page.locator(".kg-versions").inner_text().count(source["file"]) >= 1
    assert "American Medical Association" in page.locator("#kg-footer").inner_text()
    # the picture and the legend fit on the first sheet
    bottoms = v.js("['kg-print-picture', 'kg-legend']"
                   ".map(id => document.getElementById(id).getBoundingClientRect().bottom)")
    assert max(bottoms) <= 718, bottoms
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "picture-cpt-74360-print.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (ARTIFACTS / "picture-cpt-74360-print.pdf").write_bytes(pdf)
    assert pdf[:5] == b"%PDF-"
    v.clean()
