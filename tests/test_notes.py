"""Review notes: the reader (JSON and CSV as the page downloads them, bad rows), `kgraph notes import` and what
a build, `kgraph validate` and SPARQL make of them (the payer registry and seed briefing only: fast)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import kgraph
from kgraph import namespaces as ns
from kgraph.cli import main
from kgraph.records import Problem, Ref, Resource
from kgraph.sources import notes as reader

from .conftest import ROOT, SEED

HEADER = "export_id,note_id,target,target_label,kind,decision,author,time,text\n"
CPT = "https://w3id.org/kgraph/code/CPT/74360"
NOTES_GRAPH = "https://w3id.org/kgraph/graph/notes"


def _read(path: Path) -> tuple[list[Resource], list[Problem]]:
    records = list(reader.read(path, display=path.name))
    return [r for r in records if isinstance(r, Resource)], [r for r in records if isinstance(r, Problem)]


def _fields(resource: Resource) -> dict:
    return dict(resource.fields)


def test_csv_notes_are_read_with_every_column(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text(HEADER + f'e1,n1,{CPT},CPT:74360,node,question,Ann Lee,2026-12-06T19:00:00Z,'
                    '"Is this, ""really"" it?\nsecond line"\n', encoding="utf-8")
    notes, problems = _read(path)
    assert problems == []
    [note] = notes
    assert note.curie == "ROW:notes/e1/n1" and note.kind == "ReviewNote" and note.origin.line == 2
    f = _fields(note)
    assert f["noteOn"] == Ref("CPT:74360")
    assert f["decision"] == "question" and f["author"] == "Ann Lee" and f["exportId"] == "e1"
    assert f["noteText"] == 'Is this, "really" it?\nsecond line'
    assert f["noteTime"] == datetime(2026, 12, 6, 19, 0, tzinfo=UTC)
    assert f["noteKind"] == "node" and f["noteFile"] == "n.csv"


def test_json_notes_name_the_line_of_each_note(tmp_path):
    doc = {"format": "kgraph-notes", "title": "x", "export_id": "e9", "notes": [
        {"note_id": "a", "target": CPT, "kind": "node", "decision": "agree", "author": "A",
         "time": "2026-12-06T10:00:00Z", "text": ""},
        {"note_id": "b", "target": "https://w3id.org/kgraph/assertion/briefing-cpt-74360/L52-1", "decision": "action",
         "author": "B", "time": "2026-12-06T11:00:00+01:00", "text": "ask the payer"}]}
    path = tmp_path / "n.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    notes, problems = _read(path)
    assert problems == []
    a, b = notes
    # each note's line is where its object opens in the file
    assert lines[a.origin.line - 1].strip() == "{" and '"note_id": "a"' in lines[a.origin.line]
    assert '"note_id": "b"' in lines[b.origin.line]
    assert _fields(a)["exportId"] == "e9"   # the file's export id when a note has none
    assert _fields(b)["noteOn"] == Ref("ASSERTION:briefing-cpt-74360/L52-1")
    assert _fields(b)["noteKind"] == "edge"   # an assertion is an edge's target
    assert _fields(b)["noteTime"] == datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("row, message", [
    (f"e1,,{CPT},x,node,agree,A,2026-12-06T10:00:00Z,", "no note_id"),
    (f"e1,n1,{CPT},x,node,maybe,A,2026-12-06T10:00:00Z,", "decision 'maybe' is not one of"),
    ("e1,n1,https://example.org/x,x,node,agree,A,2026-12-06T10:00:00Z,", "is not the IRI of a kgraph node"),
    ("e1,n1,kg:Assertion,x,node,agree,A,2026-12-06T10:00:00Z,", "is not the IRI of a kgraph node"),
    (f"e1,n1,{CPT},x,node,agree,A,yesterday,", "time 'yesterday' is not an ISO-8601"),
    (f"e1,n1,{CPT},x,vertex,agree,A,2026-12-06T10:00:00Z,", "kind 'vertex' is not node or edge"),
    (f"e1,n1,{CPT},x,node,agree,A,2026-12-06T10:00:00Z,text,extra", "more than the 9 columns"),
])
def test_bad_csv_rows_are_skipped_with_file_and_line(tmp_path, row, message):
    path = tmp_path / "bad.csv"
    good = f"e1,ok,{CPT},x,node,agree,A,2026-12-06T10:00:00Z,fine\n"
    path.write_text(HEADER + good + row + "\n", encoding="utf-8")
    notes, problems = _read(path)
    assert [n.curie for n in notes] == ["ROW:notes/e1/ok"]
    [problem] = problems
    assert str(problem).startswith("bad.csv:3: ") and message in str(problem) and problem.action == "row skipped"


def test_unreadable_files_are_refused_with_their_line(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"notes": [\n  {"note_id": "a",}\n]}', encoding="utf-8")
    [problem] = _read(broken)[1]
    assert problem.fatal and str(problem).startswith("broken.json:2: not valid JSON")
    headless = tmp_path / "h.csv"
    headless.write_text("id,text\n1,x\n", encoding="utf-8")
    [problem] = _read(headless)[1]
    assert problem.fatal and "no column note_id, target, decision" in str(problem)


def test_a_note_downloaded_twice_is_stored_once_the_newer_kept(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + f"e1,n1,{CPT},x,node,question,A,2026-12-06T10:00:00Z,first\n")
    (folder / "b.csv").write_text(HEADER + f"e1,n1,{CPT},x,node,agree,A,2026-12-06T12:00:00Z,answered\n")
    (folder / "readme.txt").write_text("not a notes file")
    notes, problems = _read(folder)
    [note] = notes
    assert _fields(note)["noteText"] == "answered" and _fields(note)["noteFile"] == "b.csv"
    [warning] = problems
    assert warning.severity == "warning" and "read already at notes/a.csv:2" in str(warning)


# ---------------------------------------------------------------- import, build, validate, SPARQL

@pytest.fixture
def manifest(tmp_path):
    """The payers and the seed briefing, in a manifest of its own folder."""
    path = tmp_path / "m.toml"
    text = (ROOT / "tests" / "data" / "small.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("../../data/", f"{(ROOT / 'data').as_posix()}/"), encoding="utf-8")
    return path


def test_import_places_the_file_names_the_folder_and_builds_the_notes_graph(manifest, tmp_path):
    notes = tmp_path / "meeting.csv"
    notes.write_text(HEADER + f"e1,n1,{CPT},74360,node,action,Ann,2026-12-06T10:00:00Z,call the payer\n"
                     "e1,n2,https://w3id.org/kgraph/code/CPT/00001,gone,node,agree,Bob,2026-12-06T10:05:00Z,\n")
    store = tmp_path / "kg"
    result = CliRunner().invoke(main, ["notes", "import", str(notes), "--manifest", str(manifest),
                                       "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert (manifest.parent / "notes" / "meeting.csv").read_bytes() == notes.read_bytes()
    assert 'kind = "notes"' in manifest.read_text() and 'path = "notes"' in manifest.read_text()
    # the note on a code this build lacks is reported by the build, kept in the graph
    assert "note ROW:notes/e1/n2 is on CPT:00001, which this build does not have; the note is kept" in result.stderr
    assert "2 notes read (1 open: question or action); 1 on a target not in this build" in result.stderr
    st = kgraph.open(store)
    rows = st.query("""SELECT ?n ?t ?d ?text ?time ?g WHERE { GRAPH ?g { ?n a kg:ReviewNote ; kg:noteOn ?t ;
        kg:decision ?d ; kg:noteTime ?time OPTIONAL { ?n kg:noteText ?text } } } ORDER BY ?n""")
    got = [(ns.curie(r["n"].value), ns.curie(r["t"].value), r["d"].value, r["text"].value if r["text"] else None,
            r["time"].value, r["g"].value) for r in rows]
    assert got == [("ROW:notes/e1/n1", "CPT:74360", "action", "call the payer", "2026-12-06T10:00:00Z", NOTES_GRAPH),
                   ("ROW:notes/e1/n2", "CPT:00001", "agree", None, "2026-12-06T10:05:00Z", NOTES_GRAPH)]
    findings = {(f.rule, f.subject, f.source, f.line) for f in kgraph.validate(st) if f.rule.startswith("notes.")}
    folder = str((manifest.parent / "notes").resolve())
    assert findings == {("notes.open", "CPT:74360", f"{folder}/meeting.csv", 2),
                        ("notes.target-missing", "CPT:00001", f"{folder}/meeting.csv", 3)}
    # importing the same file again places it once
    again = CliRunner().invoke(main, ["notes", "import", str(notes), "--manifest", str(manifest), "--no-build"])
    assert again.exit_code == 0 and sorted(p.name for p in (manifest.parent / "notes").iterdir()) == ["meeting.csv"]
    assert manifest.read_text().count('kind = "notes"') == 1


def test_import_refuses_a_file_with_a_bad_note_and_copies_nothing(manifest, tmp_path):
    notes = tmp_path / "bad.csv"
    notes.write_text(HEADER + f"e1,n1,{CPT},x,node,agree,A,2026-12-06T10:00:00Z,\ne1,n2,{CPT},x,node,perhaps,A,"
                     "2026-12-06T10:00:00Z,\n")
    before = manifest.read_text()
    result = CliRunner().invoke(main, ["notes", "import", str(notes), "--manifest", str(manifest),
                                       "--store", str(tmp_path / "kg")])
    assert result.exit_code == 1
    assert f"{notes}:3: decision 'perhaps' is not one of agree, disagree, question, action" in result.stderr
    assert not (manifest.parent / "notes").exists() and manifest.read_text() == before
    assert not (tmp_path / "kg").exists()


def test_the_export_id_is_the_same_for_the_same_view_of_the_same_build(briefing_store):
    from kgraph.notes import for_export

    G = kgraph.neighborhood(briefing_store, "CPT:74360", depth=1)
    first, second = for_export(briefing_store, G), for_export(briefing_store, kgraph.neighborhood(
        briefing_store, "CPT:74360", depth=1))
    deeper = for_export(briefing_store, kgraph.neighborhood(briefing_store, "CPT:74360", depth=2))
    assert first["export_id"] == second["export_id"] != deeper["export_id"]
    # every briefing edge of the seed points at its assertion: the line of the seed that states it
    seed = SEED.read_text(encoding="utf-8").splitlines()
    for s, o, attrs in G.edges(data=True):
        if "GAP:" in s + o:  # a gap's edges have no statement: a note goes on the gap node
            assert "target" not in attrs
            continue
        assert attrs["target"].startswith("ASSERTION:briefing-cpt-74360/L")
        line = int(attrs["target"].rpartition("/L")[2].partition("-")[0])
        stated = seed[line - 1].lower()
        if o.startswith("PAYER:"):  # a payer is named as written ("Blue Cross Blue Shield")
            continue
        assert o.partition(":")[2].lower() in stated or s.partition(":")[2].lower() in stated, (s, o, line)


@pytest.mark.parametrize(("focus", "depth", "relations", "kind"), [
    ("CPT:74360", 2, None, "ASSERTION:"),  # briefing edges: a note goes on their assertion
    ("CPT:43214", 1, ["kg:conflictsWith", "kg:addOnTo"], "ROW:"),  # NCCI and add-on edges: on a code-set row
])
def test_note_targets_read_by_the_walk_are_what_the_store_answers(default_store, focus, depth, relations, kind):
    """An export's edge targets come from what the walk read (no second pair of queries); a graph
    the walk did not make (a copy, or one narrowed after the walk) is read for its own edges: both
    give every edge the same target."""
    from kgraph.notes import edge_targets

    G = kgraph.neighborhood(default_store, focus, depth=depth, relations=relations)
    asked = G.copy()  # not made by a walk: its targets come from the store's queries
    edge_targets(default_store, G)
    edge_targets(default_store, asked)
    got = {(s, k, o): a.get("target") for s, o, k, a in G.edges(keys=True, data=True)}
    expected = {(s, k, o): a.get("target") for s, o, k, a in asked.edges(keys=True, data=True)}
    assert got == expected
    assert sum(1 for t in got.values() if t and t.startswith(kind)) >= 2
