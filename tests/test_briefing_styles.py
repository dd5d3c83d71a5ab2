"""Briefings in the house styles people write them in (tests/data/styles), each with the findings it must produce.

Every briefing there has a sidecar, tests/data/styles/expected/<name>.toml, written by hand: its
format and subject, how many tables and body rows it holds (counted in the file), which rows must
be skipped, the normalisations, the reader's problems, the ranges' members (from the official
files) and the findings ``kgraph validate`` must make, each with the raw CMS row that justifies it.
The validation runs on the default build (data/sources.toml) with the folder added, as
``kgraph build --briefing-dir tests/data/styles`` would.
"""

from __future__ import annotations

import json
import tomllib

import pytest
from click.testing import CliRunner

import kgraph
from kgraph.cli import main
from kgraph.records import Edge
from kgraph.sources import briefing

from .conftest import TESTDATA

STYLES = TESTDATA / "styles"
FILES = sorted(p for p in STYLES.iterdir() if p.is_file())


def expected(path):
    return tomllib.loads((STYLES / "expected" / f"{path.stem}.toml").read_text(encoding="utf-8"))


def shown(path):
    return f"tests/data/styles/{path.name}"


def test_six_styles_each_with_its_expectations():
    assert len(FILES) >= 6
    assert {p.stem for p in FILES} == {p.stem for p in (STYLES / "expected").glob("*.toml")}
    assert {expected(p)["format"] for p in FILES} == {"text", "markdown", "html"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_reading_matches_what_the_file_holds(path, registry):
    want = expected(path)
    read = briefing.reading(path, payers=registry, display=shown(path))
    assert (read.format, read.subject) == (want["format"], want["subject"])
    for key in ("title", "date"):
        if key in want:
            assert getattr(read, "as_of" if key == "date" else key) == want[key]
    summary = read.summary()
    assert summary["tables"] == want["tables"]
    # every row of every table is either read or reported: none is dropped without a word
    assert summary["rows_read"] + summary["rows_skipped"] == want["rows"]
    assert summary["rows_skipped"] == want["rows_skipped"]
    assert set(read.normalisations) == set(want.get("normalisations", []))
    problems = [p for p in read.problems if p.severity != "info"]
    assert sorted((p.origin.line, p.severity) for p in problems) == sorted(
        (r["line"], r["severity"]) for r in want.get("reader", []))
    for r in want.get("reader", []):
        assert any(p.origin.line == r["line"] and r["contains"] in p.message for p in problems), r
    assert read.not_read == want.get("not_read", [])
    quals = {k for r in read.records if isinstance(r, Edge) for k, _ in r.qualifiers}
    assert set(want.get("columns", [])) <= quals
    lines = path.read_text(encoding="utf-8").count("\n") + 1
    assert all(1 <= r.origin.line <= lines for r in read.records), "every record names a line of the file"


@pytest.fixture(scope="module")
def findings(styles_store):
    return kgraph.validate(styles_store, as_of="2026-06-01")


@pytest.mark.slow  # validates the default build plus every style briefing (8 s)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_validate_flags_the_deliberate_mistakes(path, findings):
    got = {(f.line, f.rule, f.subject) for f in findings if f.source == shown(path) and f.severity != "info"}
    want = {(v["line"], v["rule"], v["subject"]) for v in expected(path).get("validate", [])}
    assert got == want


@pytest.mark.parametrize("path", [p for p in FILES if expected(p).get("range")], ids=lambda p: p.name)
def test_ranges_expand_to_the_codes_of_the_official_files(path, styles_store):
    for rng in expected(path)["range"]:
        rows = kgraph.query(styles_store, f"""SELECT ?m ?n WHERE {{ ?r a kg:CodeRange ;
            kg:writtenAs "{rng['written']}" ; kg:memberCount ?n ; kg:source/kg:file "{shown(path)}"
            OPTIONAL {{ ?r kg:member ?m }} }} ORDER BY ?m""").rows
        members = [r["m"] for r in rows if r["m"]]
        assert members == rng["members"], rng["why"]
        assert {r["n"] for r in rows} == {str(len(members))}


def test_range_members_are_edges_with_the_rows_evidence(styles_store):
    rows = kgraph.query(styles_store, """SELECT ?m ?line ?written WHERE { ?a a kg:Assertion ; rdf:subject ?m ;
        rdf:predicate kg:billedWith ; rdf:object CPT:43254 ; kg:inRange ?r ; kg:line ?line .
        ?r kg:writtenAs ?written . ?m kg:billedWith CPT:43254 } ORDER BY ?m""").rows
    assert rows == []  # billedWith runs from the subject of the briefing: CPT:43254 -> member
    rows = kgraph.query(styles_store, """SELECT ?m ?line WHERE { ?a a kg:Assertion ; rdf:subject CPT:43254 ;
        rdf:predicate kg:billedWith ; rdf:object ?m ; kg:inRange ?r ; kg:line ?line . CPT:43254 kg:billedWith ?m }
        ORDER BY ?m""").rows
    assert rows == [{"m": m, "line": "24"} for m in ("HCPCS:J1100", "HCPCS:J1110", "HCPCS:J1120", "HCPCS:J1130")]


def test_unknown_columns_are_qualifiers_of_their_own_namespace(styles_store):
    rows = kgraph.query(styles_store, """SELECT ?role ?said ?label WHERE { ?a rdf:subject ICD10CM:T18.128A ;
        rdf:object CPT:43249 ; kg:role ?role ; col:Role ?said . col:Role rdfs:label ?label ;
        rdfs:subPropertyOf kg:columnQualifier }""").rows
    assert rows == [{"role": "indication", "said": "Food bolus impaction", "label": "Role"}]


def test_build_reports_one_reading_line_per_briefing(styles_store):
    lines = {s["file"]: s["reading"]["line"] for s in styles_store.info["sources"] if s.get("reading")}
    assert lines["tests/data/styles/cpt-45378-keyvalue.txt"] == (
        "tests/data/styles/cpt-45378-keyvalue.txt: text, 4 tables read (1 not read), 8 rows read, 4 rows skipped, "
        "1 normalisations")
    assert set(lines) == {"data/briefings/cpt-74360.txt", *(shown(p) for p in FILES)}
    assert "tests/data/styles/hcpcs-g0121-wiki.html:26: 'K96-K99' holds no billable code of icd10cm FY2024 " \
           "(in force on 2024-08-01); check the range" in styles_store.info["problems"]


def test_cli_briefing_json_is_the_python_report(styles_store):
    from kgraph.briefing_report import explain

    path = STYLES / "cpt-43254-frontmatter.md"
    out = CliRunner().invoke(main, ["briefing", str(path), "--store", str(styles_store.path), "--format", "json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report == json.loads(json.dumps(explain(path, store=styles_store)))
    ranges = {r["written"]: r for r in report["ranges"]}
    assert ranges["J1100-J1130"]["members"] == ["HCPCS:J1100", "HCPCS:J1110", "HCPCS:J1120", "HCPCS:J1130"]
    assert "hcpcs 2020" in ranges["J1100-J1130"]["against"]
    unexpanded = json.loads(CliRunner().invoke(main, ["briefing", str(path), "--format", "json"]).stdout)
    assert [r["expanded"] for r in unexpanded["ranges"]] == [False, False]
    assert "members" not in unexpanded["ranges"][0]
