"""kgraph report (issue 18, item 4): one offline meeting page with the changes, the briefing rows
they made wrong, the open notes and a picture per briefing code; and the CLI of item 1.

The notes are written here as the notes helper's vocabulary says (``GRAPH:notes``,
``kg:ReviewNote``), into a copy of the default build (pyoxigraph, read-write on the copy only)."""

from __future__ import annotations

import json
import re
import zipfile
from html import unescape

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

import kgraph
from kgraph import namespaces as ns
from kgraph.cli import main
from kgraph.report import NOTES_GRAPH, write_report
from tests.conftest import DATA, SEED, clone_store

KG = ns.KG
NOTES = [  # (id, target, decision, text)
    ("n1", ns.iri("CPT:74360"), "question", "Does the 2026 fee schedule change the TC split?"),
    ("n2", ns.iri("CPT:74360"), "agree", "Fine as it is"),
    ("n3", None, "action", "Replace K22.8 by a billable child code"),
    ("n4", ns.iri("ICD10CM:Z00.999"), "question", "What about this one?"),
]


def _seed_line(code: str) -> int:
    return next(n for n, line in enumerate(SEED.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(code))


@pytest.fixture(scope="module")
def noted_store(default_store, tmp_path_factory):
    """A copy of the default build with four review notes in the notes graph."""
    path = clone_store(default_store, tmp_path_factory.mktemp("notes") / "kg")
    k228 = ns.iri("ICD10CM:K22.8")
    found = default_store.query(f"""SELECT ?a WHERE {{ ?a rdf:subject <{k228}> ; rdf:predicate kg:supports ;
      rdf:object <{ns.iri('CPT:74360')}> }}""")
    assertion = next(iter(found))["a"].value
    database = ox.Store(str(path.resolve() / "oxigraph"))
    graph = ox.NamedNode(NOTES_GRAPH)
    quads = []
    for n, (local, target, decision, text) in enumerate(NOTES):
        note = ox.NamedNode(f"https://example.org/note/{local}")
        on = ox.NamedNode(target or assertion)
        for p, o in ((ns.RDF + "type", ox.NamedNode(KG + "ReviewNote")), (KG + "noteOn", on),
                     (KG + "decision", ox.Literal(decision)), (KG + "noteText", ox.Literal(text)),
                     (KG + "author", ox.Literal("A. Reviewer")), (KG + "exportId", ox.Literal("export-1")),
                     (KG + "noteTime", ox.Literal(f"2026-11-0{n + 1}T10:00:00Z",
                                                  datatype=ox.NamedNode(ns.XSD + "dateTime")))):
            quads.append(ox.Quad(note, ox.NamedNode(p), o, graph))
    database.extend(quads)
    database.flush()
    del database
    return kgraph.open(path), assertion


def _order_line(fy: int, code: str) -> int:
    with zipfile.ZipFile(DATA / "icd10cm" / f"cms_{fy}_dx.zip") as z:
        member = next(n for n in z.namelist() if n.endswith(f"icd10cm_order_{fy}.txt"))
        lines = z.read(member).decode("latin-1").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line[6:13].strip() == code)


def test_the_meeting_page_holds_changes_findings_open_notes_and_a_picture(noted_store, tmp_path) -> None:
    store, _ = noted_store
    done = write_report(store, tmp_path / "meeting.html", since="FY2021", until="FY2022", briefing_codes=True)
    page = (tmp_path / "meeting.html").read_text(encoding="utf-8")
    outer = re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', page)
    # the change: K22.8 became a header in FY2022, with the order-file lines of both years
    assert "became a header" in outer and "ICD10CM:K22.8" in outer
    assert f"icd10cm_order_2021.txt:{_order_line(2021, 'K228')}" in outer
    assert f"icd10cm_order_2022.txt:{_order_line(2022, 'K228')}" in outer
    # the finding: the briefing row that says K22.8 supports 74360
    assert f"data/briefings/cpt-74360.txt:{_seed_line('K22.8')}" in outer
    # the open notes: question and action only, the edge named, a missing target said so
    assert done.notes == 3
    for _, _, decision, text in NOTES:
        assert (text in outer) == (decision in ("question", "action"))
    assert "ICD10CM:K22.8 kg:supports CPT:74360" in outer
    assert "ICD10CM:Z00.999 (not in this build)" in outer
    # one picture: the seed's code at depth 1, a whole page inside the iframe
    assert done.pictures == 1 and outer.count("<iframe") == 1
    inner = unescape(re.search(r'srcdoc="([^"]*)"', page)[1])
    assert inner.startswith("<!DOCTYPE html>") and "CPT:74360" in inner
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", outer + inner)


def test_the_meeting_page_makes_no_outside_request(browser, noted_store, tmp_path) -> None:
    store, _ = noted_store
    path = write_report(store, tmp_path / "meeting.html", since="FY2021", briefing_codes=True).path
    url, blocked, errors = path.resolve().as_uri(), [], []
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()

    def route(r) -> None:
        if r.request.url.startswith(("file:", "about:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    frame = page.frames[1]
    frame.wait_for_function("window.kgraph && window.kgraph.ready === true", timeout=30_000)
    nodes = frame.evaluate("kgraph.nodes.length")
    graph = kgraph.neighborhood(store, "CPT:74360", depth=1)
    assert nodes == graph.number_of_nodes()
    assert blocked == [] and errors == []
    context.close()


def test_cli_changes_and_validate_since(default_store, tmp_path) -> None:
    runner = CliRunner()
    codes = tmp_path / "codes.txt"
    codes.write_text("# the codes of a meeting\nICD10CM:K22.8\nCPT:74360\n", encoding="utf-8")
    result = runner.invoke(main, ["changes", "--since", "FY2021", "--until", "FY2022", "--codes", str(codes),
                                  "--format", "json", "--html", str(tmp_path / "c.html"),
                                  "--store", str(default_store.path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(c["change"], c["code"]) for c in data["changes"]] == [("became a header", "ICD10CM:K22.8")]
    assert any("only one release" in n for n in data["notes"])
    assert "ICD10CM:K22.8" in (tmp_path / "c.html").read_text(encoding="utf-8")
    result = runner.invoke(main, ["validate", "--since", "FY2021", "--format", "json",
                                  "--store", str(default_store.path)])
    assert result.exit_code == 1  # an error: a diagnosis the briefing bills became a header
    findings = json.loads(result.stdout)["findings"]
    k228 = [f for f in findings if f["rule"] == "since.icd10cm"]
    assert [(f["subject"], f["source"], f["line"]) for f in k228] == [
        ("ICD10CM:K22.8", "data/briefings/cpt-74360.txt", _seed_line("K22.8"))]
    result = runner.invoke(main, ["changes", "--since", "someday", "--store", str(default_store.path)])
    assert result.exit_code == 1 and "neither a loaded release nor a date" in result.output
