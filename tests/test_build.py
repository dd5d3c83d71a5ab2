"""Building, opening and querying stores: evidence, shared nodes, atomic swaps, the rdflib view."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest

import kgraph
from kgraph.builds import lock
from kgraph.errors import BuildError, StoreError

from .conftest import BAD, DATA, SECOND, SEED, SMALL

EVIDENCE = """
SELECT ?file ?line ?role WHERE {
  ?a rdf:subject ICD10CM:K22.2 ; rdf:predicate kg:supports ; rdf:object ?proc ;
     kg:line ?line ; kg:role ?role ; kg:source ?src .
  ?src kg:file ?file .
} ORDER BY ?file"""


@pytest.fixture(scope="module")
def two_briefings(tmp_path_factory):
    path = tmp_path_factory.mktemp("two") / "kg"
    os.chdir(DATA.parent)
    return kgraph.build(SMALL, store=path, briefings=[str(SECOND)])


def test_default_build_counts(briefing_store):
    counts = briefing_store.counts
    assert counts["nodes"]["modifier"] == 15
    assert counts["nodes"]["taxonomy"] == 5
    assert counts["nodes"]["ICD-10-CM"] == 8
    assert counts["nodes"]["payer"] == len((DATA / "payers.csv").read_text().splitlines()) - 1
    assert counts["relations"]["kg:supports"] == 8
    assert counts["relations"]["kg:modifierFor"] == 14
    assert counts["relations"]["kg:coveredBy"] == 5
    assert counts["relations"]["kg:partOf"] == 1  # Anthem is part of BCBS
    assert counts["nodes"]["gap"] == 6  # modifier 79 and the five prose-only payers


def test_k222_supports_74360_with_its_evidence_line(briefing_store):
    table = kgraph.query(briefing_store, EVIDENCE.replace("?proc", "CPT:74360"))
    assert table.rows == [{"file": "data/briefings/cpt-74360.txt", "line": "41", "role": "indication"}]
    ask = kgraph.query(briefing_store, "ASK { ICD10CM:K22.2 kg:supports CPT:74360 }")
    assert ask.json["boolean"] is True


def test_query_json_is_w3c_sparql_results(briefing_store):
    table = kgraph.query(briefing_store, "SELECT ?m WHERE { ?m kg:modifierFor CPT:74360 } ORDER BY ?m LIMIT 1")
    assert table.json["head"]["vars"] == ["m"]
    assert table.json["results"]["bindings"][0]["m"] == {
        "type": "uri", "value": "https://w3id.org/kgraph/code/MOD/22"}
    assert table.rows == [{"m": "MOD:22"}]


def test_codes_are_strings_never_numbers(briefing_store):
    table = kgraph.query(briefing_store, "SELECT DISTINCT (DATATYPE(?c) AS ?t) WHERE { ?n kg:code ?c }")
    assert table.column("t") == ["xsd:string"]


def test_source_records_file_sha256_and_licence(briefing_store):
    rows = kgraph.query(briefing_store, """SELECT ?file ?sha ?licence ?kind WHERE {
        ?s a kg:Source ; kg:file ?file ; kg:sha256 ?sha ; kg:licence ?licence ; kg:sourceKind ?kind }
        ORDER BY ?file""").rows
    assert [r["file"] for r in rows] == ["data/briefings/cpt-74360.txt", "data/payers.csv"]
    assert rows[0]["sha"] == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert all(r["licence"] for r in rows)


def test_each_source_is_a_named_graph_and_the_default_graph_is_their_union(briefing_store):
    graphs = kgraph.query(briefing_store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s kg:supports ?o } }")
    assert graphs.column("g") == ["GRAPH:briefing-cpt-74360"]
    payer_graph = kgraph.query(briefing_store, "SELECT ?g WHERE { GRAPH ?g { PAYER:anthem kg:partOf PAYER:bcbs } }")
    assert payer_graph.column("g") == ["GRAPH:payers-payers"]
    # both facts answer without naming a graph: the default graph is the union
    both = "ASK { ICD10CM:K22.2 kg:supports CPT:74360 . PAYER:anthem kg:partOf PAYER:bcbs }"
    assert kgraph.query(briefing_store, both).json["boolean"] is True


def test_gap_for_modifier_79_is_queryable(briefing_store):
    rows = kgraph.query(briefing_store, """SELECT ?field ?line WHERE {
        ?g a kg:Gap ; kg:about MOD:79 ; kg:context CPT:74360 ; kg:field ?field ; kg:line ?line }""").rows
    assert rows == [{"field": "modifierFor", "line": "19"}]


def test_second_briefing_shares_nodes_with_the_first(two_briefings):
    table = kgraph.query(two_briefings, EVIDENCE.replace("?proc", "?p"))
    assert [(r["file"], r["line"]) for r in table.rows] == [
        ("data/briefings/cpt-74360.txt", "41"), ("tests/data/briefings/cpt-43249.txt", "28")]
    procs = kgraph.query(two_briefings, "SELECT ?p WHERE { ICD10CM:K22.2 kg:supports ?p } ORDER BY ?p")
    assert procs.column("p") == ["CPT:43249", "CPT:74360"]
    # one node per code: 74360 is the subject of one briefing and a related code of the other
    nodes = kgraph.query(two_briefings, "SELECT (COUNT(DISTINCT ?n) AS ?k) WHERE { ?n kg:code \"74360\" }")
    assert nodes.rows == [{"k": "1"}]
    both = kgraph.query(two_briefings, "ASK { CPT:74360 kg:billedWith CPT:43249 . CPT:43249 kg:billedWith CPT:74360 }")
    assert both.json["boolean"] is True


def test_rdflib_view_answers_the_same(briefing_store):
    dataset = briefing_store.rdflib()
    rows = list(dataset.query("SELECT ?dx WHERE { ?dx kg:supports CPT:74360 } ORDER BY ?dx"))
    expected = kgraph.query(briefing_store, "SELECT ?dx WHERE { ?dx kg:supports CPT:74360 } ORDER BY ?dx")
    assert [str(r[0]) for r in rows] == [kgraph.namespaces.iri(c) for c in expected.column("dx")]
    assert len(rows) == 8


def test_open_missing_store_says_build_first(tmp_path):
    with pytest.raises(StoreError, match="no store here; run 'kgraph build' first"):
        kgraph.open(tmp_path / "nothing")


def test_failed_build_leaves_previous_store_intact(tmp_path):
    store = tmp_path / "kg"
    first = kgraph.build(SMALL, store=store)
    before = os.readlink(store)
    for name in ("empty.txt", "not-utf8.txt", "no-title.txt"):
        with pytest.raises(BuildError, match=f"build refused: cannot read tests/data/bad/{name}; "
                                             f"the store at {store} is unchanged"):
            kgraph.build(SMALL, store=store, briefings=[str(BAD / name)])
    assert os.readlink(store) == before
    again = kgraph.open(store)
    assert again.build_dir == first.build_dir
    assert kgraph.query(again, "ASK { ICD10CM:K22.2 kg:supports CPT:74360 }").json["boolean"]
    assert not list((tmp_path / "kg.d").glob(".tmp-*"))


def test_a_failure_while_the_indexes_are_written_leaves_the_previous_store(tmp_path, monkeypatch):
    """The VoID statistics are counted in a thread beside the claim-check indexes: when writing the
    indexes fails, the build still unwinds whole (the thread has ended, the store is the one before)."""
    import importlib
    import threading

    build_module = importlib.import_module("kgraph.build")  # the module; kgraph.build is the function
    store = tmp_path / "kg"
    first = kgraph.build(SMALL, store=store)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(build_module, "write_indexes", broken)
    with pytest.raises(OSError, match="disk full"):
        kgraph.build(SMALL, store=store)
    assert not [t for t in threading.enumerate() if t.name.startswith("kgraph-void")]
    assert kgraph.open(store).build_dir == first.build_dir
    assert not list((tmp_path / "kg.d").glob(".tmp-*"))
    assert first.info["void"], "the statistics of the first build are there"


def test_keep_going_builds_without_the_refused_file(tmp_path):
    built = kgraph.build(SMALL, store=tmp_path / "kg", briefings=[str(BAD / "empty.txt")], keep_going=True)
    assert built.info["refused"] == ["tests/data/bad/empty.txt"]
    assert built.counts["relations"]["kg:supports"] == 8


def test_skipped_rows_are_reported_and_strict_refuses(tmp_path):
    built = kgraph.build(SMALL, store=tmp_path / "kg", briefings=[str(BAD / "malformed-row.txt")])
    assert "tests/data/bad/malformed-row.txt:16: malformed row: 2 cells under a header of 3 (line 13) " \
           "(row skipped)" in built.info["problems"]
    with pytest.raises(BuildError, match="--strict"):
        kgraph.build(SMALL, store=tmp_path / "kg", briefings=[str(BAD / "malformed-row.txt")], strict=True)


def test_rebuild_swaps_the_symlink_and_keeps_two_builds(tmp_path):
    store = tmp_path / "kg"
    ids = [kgraph.build(SMALL, store=store).build_dir.name for _ in range(3)]
    assert len(set(ids)) == 3
    assert os.readlink(store).endswith(ids[-1])
    assert sorted(p.name for p in (tmp_path / "kg.d").iterdir() if not p.name.startswith(".")) == ids[1:]
    info = json.loads((tmp_path / "kg.d" / ids[-1] / "build.json").read_text())
    assert info["id"] == ids[-1]


def test_a_second_build_at_once_is_refused(tmp_path):
    store = tmp_path / "kg"
    with lock(store), pytest.raises(StoreError, match="another build of this store is running"):
        kgraph.build(SMALL, store=store)


def test_store_path_that_is_a_real_directory_is_not_replaced(tmp_path):
    (tmp_path / "kg").mkdir()
    (tmp_path / "kg" / "precious.txt").write_text("keep me")
    with pytest.raises(StoreError, match="is not a kgraph store symlink"):
        kgraph.build(SMALL, store=tmp_path / "kg")
    assert (tmp_path / "kg" / "precious.txt").read_text() == "keep me"


def test_bad_manifest_names_the_entry(tmp_path):
    manifest = tmp_path / "m.toml"
    manifest.write_text('[[source]]\nkind = "nonsense"\npath = "x"\n[[source]]\nkind = "briefing"\n')
    with pytest.raises(BuildError) as err:
        kgraph.build(manifest, store=tmp_path / "kg")
    assert "source #1: unknown kind 'nonsense'" in str(err.value)
    assert "source #2: no path" in str(err.value)


def test_manifest_paths_are_relative_to_the_manifest(tmp_path):
    (tmp_path / "b").mkdir()
    shutil.copy(SEED, tmp_path / "b" / "one.txt")
    (tmp_path / "m.toml").write_text('[[source]]\nkind = "briefing"\npath = "b/one.txt"\nlicence = "x"\n')
    built = kgraph.build(tmp_path / "m.toml", store=tmp_path / "kg")
    # without the payer registry, prose payers are kept under their own names, with warnings
    assert built.counts["relations"]["kg:supports"] == 8
    assert any("unknown payer 'Cigna Health'" in p for p in built.info["problems"])


def test_manifest_variables_come_from_the_environment_else_the_manifest(tmp_path, monkeypatch):
    from kgraph.build import read_manifest

    (tmp_path / "m.toml").write_text('[variables]\nDOCS = "b"\n\n[[source]]\nkind = "briefing"\n'
                                     'path = "${DOCS}/one.txt"\n')
    monkeypatch.delenv("DOCS", raising=False)
    assert read_manifest(tmp_path / "m.toml")[0].path == tmp_path / "b" / "one.txt"
    monkeypatch.setenv("DOCS", str(tmp_path / "elsewhere"))
    assert read_manifest(tmp_path / "m.toml")[0].path == tmp_path / "elsewhere" / "one.txt"
    (tmp_path / "n.toml").write_text('[[source]]\nkind = "briefing"\npath = "${NO_SUCH_KGRAPH_VAR}/x.txt"\n')
    with pytest.raises(BuildError, match=r"n.toml: source #1: \$\{NO_SUCH_KGRAPH_VAR\} is neither set"):
        read_manifest(tmp_path / "n.toml")


def test_built_graph_conforms_to_the_shapes(two_briefings):
    import pyoxigraph as ox
    import pyshacl
    import rdflib

    from kgraph.namespaces import ONTOLOGY_DIR, iri

    data = rdflib.Graph()
    ontology_graph = ox.NamedNode(iri("GRAPH:ontology"))
    for quad in two_briefings.ox.quads_for_pattern(None, None, None, None):
        if quad.graph_name != ontology_graph:
            data.parse(data=str(ox.Triple(quad.subject, quad.predicate, quad.object)) + " .", format="nt")
    shapes = rdflib.Graph().parse(ONTOLOGY_DIR / "shapes.ttl")
    conforms, _, report = pyshacl.validate(data, shacl_graph=shapes)
    assert conforms, report
