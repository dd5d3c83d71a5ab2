"""Exports read back by other tools: RDF into a fresh pyoxigraph store, GraphML with networkx and
python-igraph, GEXF with networkx and graphology-gexf (Gephi Lite's parser, run by node), CSV with
pandas. Expected values come from the store's own quads (read with pyoxigraph, not through the
export code) and from the raw CMS rows."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pandas as pd
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

import kgraph
from kgraph import namespaces as ns
from kgraph.cli import main
from kgraph.export import ExportError
from kgraph.traverse import DEFAULT_RELATIONS

ROOT = Path(__file__).resolve().parent.parent
GEXF_READER = Path(__file__).resolve().parent / "gexf"
PTP = ROOT / "data" / "ncci" / "ptp_practitioner_2024-07-01_flat.csv"
CROSSWALK = "crosswalk-cms-medicare-specialty-taxonomy-crosswalk-2025-01-02"
RDF = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
       "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}
DATASETS = ("nq", "trig")


def N(curie: str) -> ox.NamedNode:  # noqa: N802
    return ox.NamedNode(ns.iri(curie))


def ptp_row(col1: str, col2: str) -> tuple[int, dict[str, str]]:
    """The raw CMS PTP row of a pair and its 1-based line in the file."""
    with PTP.open(encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            if (row["col1"], row["col2"]) == (col1, col2):
                return line, row
    raise AssertionError(f"{col1}/{col2} is not in {PTP}")


def fresh(path: Path, fmt: str) -> ox.Store:
    """A new in-memory pyoxigraph store holding what the file says."""
    store = ox.Store()
    store.load(path=str(path), format=RDF[fmt])
    return store


def triples(quads) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in quads}


@pytest.fixture(scope="module")
def hood(default_store):
    return kgraph.neighborhood(default_store, "CPT:74360", depth=1)


# --- RDF -------------------------------------------------------------------------------------


@pytest.mark.slow  # the whole default build written and read back: 2.5M quads
def test_whole_store_nq_holds_every_quad(default_store, tmp_path):
    out = tmp_path / "all.nq"
    done = kgraph.export(default_store, out, format="nq")
    assert done.paths == [out] and done.scope == "the whole store"
    back = ox.Store(str(tmp_path / "db"))
    back.bulk_load(path=str(out), format=ox.RdfFormat.N_QUADS)
    assert len(back) == len(default_store.ox) == default_store.counts["quads"]
    assert set(back.named_graphs()) == set(default_store.ox.named_graphs())
    line, row = ptp_row("43214", "74360")
    graph = next(g for g in back.named_graphs() if "ncci-ptp" in g.value)
    assert ox.Quad(N("CPT:43214"), N("kg:conflictsWith"), N("CPT:74360"), graph) in back
    indicator = back.query(f"SELECT ?m WHERE {{ GRAPH ?g {{ ?r <{ns.KG}column1> <{ns.iri('CPT:43214')}> ; "
                           f"<{ns.KG}column2> <{ns.iri('CPT:74360')}> ; <{ns.KG}modifierIndicator> ?m }} }}")
    assert [r["m"].value for r in indicator] == [row["modifier_indicator"]]


@pytest.mark.slow  # the whole default build written and read back: 2.5M quads
def test_whole_store_nt_is_the_union_graph_each_triple_once(default_store, tmp_path):
    out = tmp_path / "all.nt"
    kgraph.export(default_store, out, format="nt")
    with out.open("rb") as fh:
        lines = sum(1 for _ in fh)
    count = ("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")
    distinct = int(next(iter(default_store.ox.query(count)))["n"].value)
    assert distinct < len(default_store.ox)  # some triples are stated by several sources
    assert lines == distinct
    back = ox.Store(str(tmp_path / "db"))
    back.bulk_load(path=str(out), format=ox.RdfFormat.N_TRIPLES)
    assert len(back) == distinct
    for s, p, o in [("ICD10CM:K22.2", "kg:supports", "CPT:74360"), ("CPT:43214", "kg:conflictsWith", "CPT:74360"),
                    ("ICD10CM:K22.2", "skos:broader", "ICD10CM:K22")]:
        assert ox.Quad(N(s), N(p), N(o), ox.DefaultGraph()) in back


@pytest.mark.parametrize("fmt", list(RDF))
def test_named_graph_reads_back_as_the_store_holds_it(default_store, tmp_path, fmt):
    graph = N(f"GRAPH:{CROSSWALK}")
    expected = set(default_store.ox.quads_for_pattern(None, None, None, graph))
    out = tmp_path / f"crosswalk.{fmt}"
    done = kgraph.export(default_store, out, format=fmt, graph=CROSSWALK)
    assert done.scope == f"GRAPH:{CROSSWALK}"
    back = fresh(out, fmt)
    if fmt in DATASETS:
        assert set(back) == expected
    else:
        assert triples(back) == triples(expected)
    assert ox.Triple(N("MSPEC:02"), N("kg:crosswalksTo"), N("NUCC:208600000X")) in triples(back)


@pytest.mark.parametrize("fmt", list(RDF))
def test_neighborhood_rdf_holds_its_edges_and_their_evidence(default_store, hood, tmp_path, fmt):
    out = tmp_path / f"74360.{fmt}"
    kgraph.export(default_store, out, format=fmt, focus="74360")
    back = fresh(out, fmt)
    if fmt in DATASETS:  # every quad as the store holds it, graph included
        assert all(q in default_store.ox for q in back)
    got = triples(back)
    # each triple is one the store holds (looked up one by one: a set of the store's 2.5M triples
    # took a minute per format)
    assert all(next(default_store.ox.quads_for_pattern(t.subject, t.predicate, t.object, None), None) is not None
               for t in got)
    for s, o, rel in hood.edges(keys=True):
        if default_store.ox.quads_for_pattern(N(s), N(rel), N(o), None):
            assert ox.Triple(N(s), N(rel), N(o)) in got, (s, rel, o)
    # the raw CMS row behind 43214 -> 74360, with its modifier indicator
    line, row = ptp_row("43214", "74360")
    node = ox.NamedNode(f"{ns.PREFIXES['ROW']}ncci-ptp-ptp-practitioner-2024-07-01-flat/L{line}")
    assert ox.Triple(node, N("kg:modifierIndicator"), ox.Literal(row["modifier_indicator"])) in got
    # the briefing line that says K22.2 supports 74360
    assertion = {t.subject for t in got if t.predicate == N("rdf:subject") and t.object == N("ICD10CM:K22.2")}
    assert any(ox.Triple(a, N("rdf:predicate"), N("kg:supports")) in got for a in assertion)
    assert any(t.subject in assertion and t.predicate == N("kg:line") for t in got)


def test_stdout_matches_the_file(default_store, tmp_path):
    out = tmp_path / "payers.ttl"
    kgraph.export(default_store, out, format="ttl", graph="GRAPH:payers-payers")
    result = CliRunner().invoke(main, ["export", "ttl", "--store", str(default_store.path),
                                       "--graph", "data/payers.csv", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == out.read_bytes()


# --- GraphML, GEXF -----------------------------------------------------------------------------


def _check_graph(read: nx.MultiDiGraph, hood: nx.MultiDiGraph) -> None:
    assert set(read.nodes) == set(hood.nodes)
    assert {(s, o, k) for s, o, k in read.edges(keys=True)} == set(hood.edges(keys=True))
    assert read.nodes["ICD10CM:K22.2"]["kind"] == "ICD-10-CM"
    assert read.nodes["CPT:74360"]["label"] == hood.nodes["CPT:74360"]["label"] != ""
    edge = read.get_edge_data("CPT:43214", "CPT:74360", key="kg:conflictsWith")
    line, row = ptp_row("43214", "74360")
    assert edge["relation"] == "kg:conflictsWith"
    assert edge["q.modifierIndicator"] == row["modifier_indicator"]
    assert json.loads(edge["qualifiers"])["rationale"] == row["rationale"]
    assert {"source": "data/ncci/ptp_practitioner_2024-07-01_flat.csv", "line": line} in json.loads(edge["evidence"])
    for s, o, k, d in hood.edges(keys=True, data=True):
        assert json.loads(read.get_edge_data(s, o, key=k)["qualifiers"]) == d["qualifiers"]


def test_graphml_reads_back_with_networkx_and_igraph(default_store, hood, tmp_path):
    import igraph

    out = tmp_path / "74360.graphml"
    done = kgraph.export(default_store, out, format="graphml", focus="CPT:74360")
    assert (done.nodes, done.edges) == (hood.number_of_nodes(), hood.number_of_edges())
    _check_graph(nx.read_graphml(out, force_multigraph=True), hood)
    g = igraph.Graph.Read_GraphML(str(out))
    assert g.is_directed() and (g.vcount(), g.ecount()) == (hood.number_of_nodes(), hood.number_of_edges())
    ids = g.vs["id"]
    pairs = {(ids[e.source], e["relation"], ids[e.target]) for e in g.es}
    assert pairs == {(s, k, o) for s, o, k in hood.edges(keys=True)}
    edge = next(e for e in g.es if (ids[e.source], ids[e.target]) == ("CPT:43214", "CPT:74360"))
    assert edge["q.modifierIndicator"] == ptp_row("43214", "74360")[1]["modifier_indicator"]
    assert g.vs[ids.index("ICD10CM:K22.2")]["kind"] == "ICD-10-CM"


@pytest.fixture(scope="session")
def gexf_reader() -> Path:
    """graphology-gexf installed with npm from tests/gexf/package-lock.json (fails without node and npm)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed for the second GEXF reader (graphology-gexf): apt-get install nodejs npm")
    if not (GEXF_READER / "node_modules" / "graphology-gexf").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=GEXF_READER, check=True, timeout=600)
    return GEXF_READER / "read.js"


def test_gexf_reads_back_with_networkx_and_graphology(default_store, hood, tmp_path, gexf_reader):
    out = tmp_path / "74360.gexf"
    kgraph.export(default_store, out, format="gexf", focus="CPT:74360")
    _check_graph(nx.read_gexf(out), hood)
    shown = subprocess.run([shutil.which("node") or "node", str(gexf_reader), str(out)], capture_output=True,
                           text=True, check=True, timeout=120)
    read = json.loads(shown.stdout)
    assert read["type"] == "directed" and read["multi"]
    assert {n for n, _ in read["nodes"]} == set(hood.nodes)
    assert sorted((s, a["relation"], o) for s, o, a in read["edges"]) == sorted(
        (s, k, o) for s, o, k in hood.edges(keys=True))
    nodes = dict(read["nodes"])
    assert nodes["ICD10CM:K22.2"]["kind"] == "ICD-10-CM"
    assert nodes["MOD:26"]["label"] == hood.nodes["MOD:26"]["label"]
    edge = next(a for s, o, a in read["edges"] if (s, o) == ("CPT:43214", "CPT:74360"))
    assert edge["q.modifierIndicator"] == ptp_row("43214", "74360")[1]["modifier_indicator"]


def test_named_graph_graphml_holds_its_edges_and_codes(default_store, tmp_path):
    out = tmp_path / "briefing.graphml"
    kgraph.export(default_store, out, format="graphml", graph="briefing-cpt-74360")
    read = nx.read_graphml(out, force_multigraph=True)
    relations = ", ".join(f"<{ns.iri(r)}>" for r in DEFAULT_RELATIONS)
    q = ("SELECT DISTINCT ?s ?p ?o WHERE { GRAPH GRAPH:briefing-cpt-74360 { ?s ?p ?o } "
         f"FILTER(isIRI(?o) && ?p IN ({relations})) }}")
    expected = {(ns.curie(r["s"].value), ns.curie(r["o"].value), ns.curie(r["p"].value))
                for r in default_store.ox.query(q, prefixes=ns.PREFIXES)}
    assert expected and set(read.edges(keys=True)) == expected
    assert read.nodes["ICD10CM:K22.2"]["kind"] == "ICD-10-CM"


def test_error_graphml_above_the_node_limit(default_store, tmp_path):
    out = tmp_path / "all.graphml"
    with pytest.raises(ExportError) as err:
        kgraph.export(default_store, out, format="graphml")
    assert str(err.value) == (
        "the whole store: more than 50,000 nodes, above the GraphML limit of 50,000; narrow it with --focus CODE "
        "--depth N, --relation REL or --graph NAME, or raise --max-nodes")
    with pytest.raises(ExportError, match=r"^the depth-1 neighbourhood of CPT:74360: 63 nodes, above the GEXF limit"):
        kgraph.export(default_store, out, format="gexf", focus="CPT:74360", max_nodes=10)
    assert list(tmp_path.iterdir()) == []


# --- CSV -----------------------------------------------------------------------------------------


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_csv_neighborhood_edge_and_node_lists(default_store, hood, tmp_path):
    done = kgraph.export(default_store, tmp_path / "74360.csv", format="csv", focus="CPT:74360")
    assert done.paths == [tmp_path / "74360.edges.csv", tmp_path / "74360.nodes.csv"]
    edges, nodes = _read_csv(done.paths[0]), _read_csv(done.paths[1])
    assert list(edges.columns) == ["source", "relation", "target", "qualifiers", "evidence"]
    assert list(nodes.columns) == ["id", "kind", "label", "description"]
    assert len(edges) == hood.number_of_edges() and set(nodes["id"]) == set(hood.nodes)
    line, row = ptp_row("43214", "74360")
    hit = edges[(edges.source == "CPT:43214") & (edges.target == "CPT:74360")].iloc[0]
    assert json.loads(hit.qualifiers)["modifierIndicator"] == row["modifier_indicator"]
    assert {"source": "data/ncci/ptp_practitioner_2024-07-01_flat.csv", "line": line} in json.loads(hit.evidence)
    assert nodes.set_index("id").loc["ICD10CM:K22.2", "kind"] == "ICD-10-CM"


def test_csv_named_graph_is_streamed_from_the_store(default_store, tmp_path):
    (tmp_path / "dir").mkdir()
    done = kgraph.export(default_store, tmp_path / "dir", format="csv", graph=CROSSWALK)
    assert done.paths == [tmp_path / "dir" / "edges.csv", tmp_path / "dir" / "nodes.csv"]
    edges, nodes = _read_csv(done.paths[0]), _read_csv(done.paths[1])
    g = N(f"GRAPH:{CROSSWALK}")
    expected = {(ns.curie(q.subject.value), relation, ns.curie(q.object.value))
                for relation in ("kg:crosswalksTo", "kg:hasGap")  # the crosswalk's gaps: rows it could not read
                for q in default_store.ox.quads_for_pattern(None, N(relation), None, g)}
    got = list(zip(edges.source, edges.relation, edges.target, strict=True))
    assert len(got) == len(set(got)) and set(got) == expected
    typed = {ns.curie(q.subject.value) for q in default_store.ox.quads_for_pattern(
        None, N("rdf:type"), N("kg:MedicareSpecialty"), g)}
    assert typed and typed <= set(nodes["id"]) and nodes["id"].is_unique
    assert set(edges.source) | set(edges.target) <= set(nodes["id"])
    assert nodes.set_index("id").loc["MSPEC:02", "kind"] == "Medicare specialty"  # codes stay text: "02"


def test_csv_of_the_ptp_graph_carries_each_row(default_store, hood, tmp_path):
    graph = next(s["id"] for s in default_store.info["sources"] if s["kind"] == "ncci-ptp")
    done = kgraph.export(default_store, tmp_path / "ptp.csv", format="csv", graph=graph)
    edges = _read_csv(done.paths[0])
    plain = {(ns.curie(q.subject.value), ns.curie(q.object.value)) for q in default_store.ox.quads_for_pattern(
        None, N("kg:conflictsWith"), None, N(f"GRAPH:{graph}"))}
    assert set(zip(edges.source, edges.target, strict=True)) == plain and len(edges) == len(plain)
    by_pair = edges.set_index(["source", "target"])
    line, row = ptp_row("43214", "74360")
    hit = by_pair.loc[("CPT:43214", "CPT:74360")]
    assert json.loads(hit.qualifiers)["modifierIndicator"] == row["modifier_indicator"]
    assert json.loads(hit.evidence) == [{"source": "data/ncci/ptp_practitioner_2024-07-01_flat.csv", "line": line}]
    # the same edges as the neighbourhood walk reads them
    for s, o, k, d in hood.edges(keys=True, data=True):
        if k == "kg:conflictsWith" and (s, o) in plain:
            assert json.loads(by_pair.loc[(s, o)].qualifiers) == d["qualifiers"]
            assert json.loads(by_pair.loc[(s, o)].evidence) == d["evidence"]


# --- errors, atomic writes, CLI ----------------------------------------------------------------


def test_error_unknown_graph_lists_the_graphs(default_store, tmp_path):
    with pytest.raises(ExportError) as err:
        kgraph.export(default_store, tmp_path / "x.nq", format="nq", graph="briefing-nope")
    message = str(err.value)
    assert message.startswith(f"briefing-nope: no such named graph in {default_store.path}; the graphs are: ")
    for source in default_store.info["sources"]:
        assert source["id"] in message
    assert not (tmp_path / "x.nq").exists()


def test_error_unwritable_path_writes_nothing(default_store, tmp_path):
    target = tmp_path / "missing" / "x.ttl"
    with pytest.raises(ExportError) as err:
        kgraph.export(default_store, target, format="ttl", graph="payers-payers")
    assert str(err.value) == f"{target}: cannot write: No such file or directory"


def test_a_failed_write_leaves_the_old_file_and_no_part_file(default_store, tmp_path, monkeypatch):
    target = tmp_path / "74360.graphml"
    target.write_text("the previous export\n")

    def disk_full(G, path, **kwargs):
        Path(path).write_bytes(b"<?xml version='1.0'?><graphml>")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nx, "write_graphml", disk_full)
    with pytest.raises(ExportError) as err:
        kgraph.export(default_store, target, format="graphml", focus="CPT:74360")
    assert str(err.value) == f"{target}: cannot write: No space left on device"
    assert target.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["74360.graphml"]


def test_networkx_graph_in_python(hood, tmp_path):
    done = kgraph.export(hood, tmp_path / "g.gexf", format="gexf")
    assert set(nx.read_gexf(done.paths[0]).nodes) == set(hood.nodes)
    with pytest.raises(ExportError, match="RDF is written from the store"):
        kgraph.export(hood, tmp_path / "g.ttl", format="ttl")


def test_cli_export_csv_matches_python_and_reports_errors(default_store, tmp_path):
    run = CliRunner().invoke
    store = ["--store", str(default_store.path)]
    result = run(main, ["export", "csv", *store, "--focus", "74360", "-o", str(tmp_path / "cli.csv")])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'cli.edges.csv'} (csv, the depth-1 neighbourhood of CPT:74360: 63 nodes" in result.stderr
    kgraph.export(default_store, tmp_path / "py.csv", format="csv", focus="CPT:74360")
    for part in ("edges", "nodes"):
        assert (tmp_path / f"cli.{part}.csv").read_bytes() == (tmp_path / f"py.{part}.csv").read_bytes()
    bad = run(main, ["export", "nq", *store, "--graph", "nope", "-o", str(tmp_path / "x.nq")])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: nope: no such named graph")
    both = run(main, ["export", "gexf", *store, "--graph", "payers-payers", "--focus", "74360", "-o", "x.gexf"])
    assert both.exit_code == 2 and "give --graph NAME or --focus CODE, not both" in both.stderr
    dash = run(main, ["export", "csv", *store, "--focus", "74360", "-o", "-"])
    assert dash.exit_code == 1 and "CSV writes two files" in dash.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cli.edges.csv", "cli.nodes.csv", "py.edges.csv", "py.nodes.csv"]
