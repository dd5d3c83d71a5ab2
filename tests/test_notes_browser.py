"""Notes that come back, end to end in Chromium: the seed's depth-1 export of CPT:74360 (default build), a note
on a node and one on an edge written through the page's panel, downloaded as JSON, `kgraph notes import`-ed and
built, then read back through SPARQL on the same code IRI and the same assertion; a later export shows them,
and a build where the edge's briefing line is gone reports the note on it and keeps it."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

import kgraph
from kgraph import namespaces as ns
from kgraph.cli import main

from .conftest import DATA, SEED, clone_store
from .test_viz import ARTIFACTS, Visit


def _cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _manifest(tmp_path):
    """data/sources.toml with its files named absolutely, and the seed briefing copied beside it."""
    (tmp_path / "briefings").mkdir()
    briefing = tmp_path / "briefings" / SEED.name
    briefing.write_bytes(SEED.read_bytes())
    text = (DATA / "sources.toml").read_text(encoding="utf-8")
    text = re.sub(r'^path = "(?!pkg:|builtin:)(.*)"$', lambda m: f'path = "{(DATA / m.group(1)).as_posix()}"', text,
                  flags=re.M)
    text = text.replace(f'path = "{(DATA / "briefings" / SEED.name).as_posix()}"', f'path = "{briefing.as_posix()}"')
    manifest = tmp_path / "sources.toml"
    manifest.write_text(text, encoding="utf-8")
    return manifest, briefing


def _click(v: Visit, point) -> None:
    box = v.page.locator("#kg-network").bounding_box()
    v.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def _write_note(v: Visit, decision: str, author: str, text: str) -> None:
    v.page.select_option("#kg-note-decision", decision)
    v.page.fill("#kg-note-author", author)
    v.page.fill("#kg-note-text", text)
    v.page.click("#kg-note-save")


def test_notes_written_in_chromium_come_back_through_sparql(browser, default_store, tmp_path):
    store = clone_store(default_store, tmp_path / "kg")
    manifest, briefing = _manifest(tmp_path)
    page = tmp_path / "74360.html"
    _cli("export", "html", "--focus", "CPT:74360", "--depth", "1", "--store", store, "-o", page)
    v = Visit(browser, page)

    # a diagnosis node, clicked on the canvas
    node = v.js("kgraph.nodes.get().filter(n => n.kind === 'ICD-10-CM').map(n => n.id).sort()[0]")
    _click(v, v.js(f"kgraphNetwork.canvasToDOM(kgraphNetwork.getPositions(['{node}'])['{node}'])"))
    assert v.js("kgraphNetwork.getSelectedNodes()") == [node]
    assert node in v.page.text_content("#kg-note-target")
    _write_note(v, "question", "Dr. Ana Ruiz", "Is this diagnosis still billable for 74360?")

    # an edge of a briefing statement, clicked half-way along its line
    candidates = v.js("kgraph.edges.get().filter(e => (e.target || '').indexOf('/assertion/') > 0 && "
                      "e.from === 'CPT:74360').map(e => e.id)")
    edge = None
    for cid in candidates:
        point = v.js(f"kgraphNetwork.canvasToDOM(kgraphNetwork.body.edges['{cid}'].edgeType.getPoint(0.5))")
        _click(v, point)
        if v.js("[kgraphNetwork.getSelectedNodes().length, kgraphNetwork.getSelectedEdges()]") == [0, [cid]]:
            edge = cid
            break
    assert edge is not None, "no briefing edge of CPT:74360 could be clicked on its own"
    data = v.js(f"kgraph.edges.get('{edge}')")
    _write_note(v, "action", "Dr. Ana Ruiz", "Ask the payer whether this pair needs modifier 59.")
    assert v.page.locator("#kg-notes-local li.kg-note").count() == 2
    with v.page.expect_download() as download:
        v.page.click("#kg-notes-json")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    ARTIFACTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(ARTIFACTS / "notes-panel.png"))
    v.clean()
    node_iri = v.js(f"kgraph.nodes.get('{node}').iri")
    v.close()

    doc = json.loads(saved.read_text(encoding="utf-8"))
    assert [(n["target"], n["kind"], n["decision"]) for n in doc["notes"]] == [
        (node_iri, "node", "question"), (data["target"], "edge", "action")]
    assert node_iri == ns.iri(node)

    # import, build; SPARQL on the new store returns both notes on the same IRIs
    result = _cli("notes", "import", saved, "--manifest", manifest, "--store", store)
    assert "2 notes read (2 open: question or action)" in result.stderr
    st = kgraph.open(store)
    # a quick rebuild: every code set reused from the exported build, degrees and counts updated
    assert st.info["incremental"] is True
    assert all(s["reused"] for s in st.info["sources"] if s["kind"] not in ("payers", "briefing", "notes"))
    rows = st.query("""SELECT ?t ?d ?text ?author ?e WHERE { GRAPH <https://w3id.org/kgraph/graph/notes> {
        ?n a kg:ReviewNote ; kg:noteOn ?t ; kg:decision ?d ; kg:noteText ?text ; kg:author ?author ; kg:exportId ?e } }
        ORDER BY ?d""")
    got = [(r["t"].value, r["d"].value, r["text"].value, r["author"].value, r["e"].value) for r in rows]
    who, export = "Dr. Ana Ruiz", doc["export_id"]
    assert got == [(data["target"], "action", "Ask the payer whether this pair needs modifier 59.", who, export),
                   (node_iri, "question", "Is this diagnosis still billable for 74360?", who, export)]
    # the same assertion: the statement of the briefing line between the two codes the clicked edge joined
    [stmt] = st.query(f"SELECT ?s ?o WHERE {{ <{data['target']}> a kg:Assertion ; rdf:subject ?s ; rdf:object ?o }}")
    assert (ns.curie(stmt["s"].value), ns.curie(stmt["o"].value)) == (data["from"], data["to"])
    line = int(data["target"].rpartition("/L")[2].partition("-")[0])
    stated = briefing.read_text(encoding="utf-8").splitlines()[line - 1]
    assert data["to"].partition(":")[2].lower() in stated.lower()

    # a later export shows them, apart from this browser's notes, and marks their node and edge
    later = tmp_path / "later.html"
    _cli("export", "html", "--focus", "CPT:74360", "--depth", "1", "--store", store, "-o", later)
    w = Visit(browser, later)
    assert w.page.locator("#kg-notes-stored li.kg-note-stored").count() == 2
    assert w.page.locator("#kg-notes-local li.kg-note").count() == 0
    assert w.js(f"kgraph.nodes.get('{node}').shadow.enabled") is True
    edge_later = w.js(f"kgraph.edges.get().filter(e => e.target === '{data['target']}').map(e => e.id)")
    assert len(edge_later) == 1 and w.js(f"kgraph.edges.get('{edge_later[0]}').shadow.enabled") is True
    w.page.locator("#kg-notes-stored li.kg-note-stored", has_text="action").click()
    assert w.js("kgraphNetwork.getSelectedEdges()") == edge_later
    assert w.page.locator("#kg-notes-stored li.kg-note-current").all_text_contents() == \
        w.page.locator("#kg-notes-stored li", has_text="action").all_text_contents()
    w.clean()
    w.close()

    # the edge's briefing line is gone in the next build: its note is reported, and kept
    lines = briefing.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = ""
    briefing.write_text("\n".join(lines), encoding="utf-8")
    rebuilt = _cli("build", "--manifest", manifest, "--store", store)
    assert "which this build does not have; the note is kept" in rebuilt.stderr
    assert ns.curie(data["target"]) in rebuilt.stderr
    st = kgraph.open(store)
    assert not st.query(f"ASK {{ <{data['target']}> a kg:Assertion }}")
    kept = st.query(f"ASK {{ GRAPH <https://w3id.org/kgraph/graph/notes> {{ ?n kg:noteOn <{data['target']}> }} }}")
    assert kept
    found = [(f.rule, f.subject) for f in kgraph.validate(st) if f.rule.startswith("notes.")]
    assert ("notes.target-missing", ns.curie(data["target"])) in found
    assert ("notes.open", node) in found
