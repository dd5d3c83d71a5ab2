"""The command line matches the Python API, reports bad input with exit 1 and usage errors with 2."""

from __future__ import annotations

import json
import re

import click
import pytest
from click.testing import CliRunner

import kgraph
from kgraph.cli import main

from .conftest import BAD, ROOT, SMALL


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(main, [str(a) for a in args])


def test_build_then_stats_json_match_the_python_api(runner, tmp_path):
    store = tmp_path / "kg"
    built = run(runner, "build", "--manifest", SMALL, "--store", store, "--format", "json")
    assert built.exit_code == 0, built.output
    counts = json.loads(built.stdout)
    stats = json.loads(run(runner, "stats", "--store", store, "--format", "json").stdout)
    assert counts["nodes"] == stats["nodes"] == kgraph.open(store).counts["nodes"]
    assert stats["relations"]["kg:supports"] == 8
    assert "read data/briefings/cpt-74360.txt: 79 records, 0 problems" in built.stderr


def test_stats_table_lists_every_node_kind(runner, briefing_store):
    out = run(runner, "stats", "--store", briefing_store.path, "--format", "table").stdout
    for kind in ("CPT", "HCPCS", "ICD-10-CM", "modifier", "taxonomy", "payer", "gap"):
        assert re.search(rf"^node\s+{re.escape(kind)}\s+\d+$", out, re.M), kind
    assert re.search(r"^relation\s+kg:supports\s+8$", out, re.M)


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "table"])
def test_query_formats_match_the_python_api(runner, briefing_store, fmt):
    sparql = "SELECT ?dx ?role WHERE { ?a rdf:subject ?dx ; rdf:object CPT:74360 ; kg:role ?role } ORDER BY ?dx"
    result = run(runner, "query", sparql, "--store", briefing_store.path, "--format", fmt)
    assert result.exit_code == 0, result.output
    table = kgraph.query(briefing_store, sparql)
    if fmt == "json":
        assert json.loads(result.stdout) == table.json
    elif fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        lines = result.stdout.splitlines()
        assert lines[0] == f"dx{sep}role"
        assert lines[1:] == [f"{r['dx']}{sep}{r['role']}" for r in table.rows]
    else:
        assert re.search(r"^ICD10CM:K22.2 +indication$", result.stdout, re.M)
        assert result.stdout.rstrip().endswith("(8 rows)")


def test_query_from_file(runner, briefing_store, tmp_path):
    q = tmp_path / "q.rq"
    q.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?m kg:modifierFor CPT:74360 }")
    result = run(runner, "query", "--file", q, "--store", briefing_store.path, "--format", "csv")
    assert result.stdout.splitlines() == ["n", "14"]


def test_error_syntax_error_exit_1_with_position(runner, briefing_store):
    result = run(runner, "query", "SELECT ?x WHERE { ?x ?y }", "--store", briefing_store.path)
    assert result.exit_code == 1
    assert re.match(r"error: SPARQL syntax error at line 1, column \d+: ", result.stderr)


def test_error_missing_store_exit_1(runner, tmp_path):
    result = run(runner, "stats", "--store", tmp_path / "none")
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'none'}: no store here; run 'kgraph build' first\n"


def test_error_refused_briefing_lists_problems_and_exit_1(runner, tmp_path):
    store = tmp_path / "kg"
    assert run(runner, "build", "--manifest", SMALL, "--store", store).exit_code == 0
    result = run(runner, "build", "--manifest", SMALL, "--store", store, "--briefing", BAD / "not-utf8.txt")
    assert result.exit_code == 1
    assert "tests/data/bad/not-utf8.txt:15: not UTF-8: byte 0xe9 at column 37" in result.stderr
    assert "error: build refused: cannot read tests/data/bad/not-utf8.txt" in result.stderr
    assert "Traceback" not in result.output
    assert json.loads(run(runner, "stats", "--store", store, "--format", "json").stdout)["nodes"]["CPT"] == 6


def test_usage_error_exit_2(runner, briefing_store):
    assert run(runner, "query", "--store", briefing_store.path).exit_code == 2
    assert run(runner, "stats", "--format", "yaml").exit_code == 2
    assert run(runner, "frobnicate").exit_code == 2


def test_every_command_has_help_and_is_in_the_readme(runner):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert isinstance(main, click.Group)
    for name, cmd in main.commands.items():
        assert cmd.help, name
        assert run(runner, name, "--help").exit_code == 0
        assert f"kgraph {name}" in readme, f"'kgraph {name}' is not documented in README.md"


def test_python_m_kgraph_runs(briefing_store):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "kgraph", "stats", "--store", str(briefing_store.path),
                          "--format", "json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["relations"]["kg:reportedBy"] == 5
