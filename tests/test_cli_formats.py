"""Every command that prints data gives each --format a reader can parse: JSON loads, csv and tsv
read with the csv module have the same columns as the table."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from kgraph.cli import main

from .conftest import ROOT

CLAIMS = ROOT / "tests" / "data" / "claims"
BRIEFING = ROOT / "tests" / "data" / "briefings" / "cpt-43249.txt"

#: each printing command with arguments that give it rows (the store is added when it takes one)
COMMANDS = {
    "stats": ["stats"],
    "queries": ["queries"],
    "query": ["query", "SELECT ?dx ?role WHERE { ?a rdf:subject ?dx ; rdf:object CPT:74360 ; kg:role ?role }"],
    "query-named-timeout": ["query", "--name", "diagnoses_supporting", "-p", "code=CPT:74360", "--timeout", "30"],
    "neighbors": ["neighbors", "CPT:74360"],
    "path": ["path", "ICD10CM:K22.2", "CPT:74360"],
    "validate": ["validate", "--fail-on", "info"],
    "rules": ["rules"],
    "briefing": ["briefing", str(BRIEFING)],
    "check-line": ["check", "--line", "74360", "--line", "43249-59x2", "--dx", "K22.2", "--date", "2025-06-01"],
    "check-batch": ["check", str(CLAIMS / "batch.jsonl")],
}
NO_STORE = {"queries", "rules"}


@pytest.fixture(scope="module")
def outputs(briefing_store):
    """{(command, format): stdout} for every command and format."""
    runner = CliRunner()
    found = {}
    for name, args in COMMANDS.items():
        store = [] if name in NO_STORE else ["--store", str(briefing_store.path)]
        for fmt in ("json", "csv", "tsv", "table"):
            result = runner.invoke(main, [*args, *store, "--format", fmt])
            assert result.exit_code in (0, 1), (name, fmt, result.output)
            assert "Traceback" not in result.output, (name, fmt)
            assert result.stdout, (name, fmt, result.stderr)
            found[name, fmt] = result.stdout
    return found


@pytest.mark.parametrize("name", COMMANDS)
def test_json_loads(outputs, name):
    text = outputs[name, "json"]
    if name == "check-batch":  # JSON Lines in, JSON Lines out: one result per claim
        results = [json.loads(line) for line in text.splitlines()]
        assert len(results) > 1
        assert all(r["status"] in ("pass", "fail", "error") for r in results)
    else:
        assert json.loads(text)


@pytest.mark.parametrize("name", COMMANDS)
def test_csv_and_tsv_have_the_table_columns(outputs, name):
    lines = outputs[name, "table"].splitlines()
    rule = next(i for i, line in enumerate(lines) if re.fullmatch(r"-+(  -+)*", line))  # under the header
    table_header = lines[rule - 1].split()
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        rows = list(csv.reader(io.StringIO(outputs[name, fmt]), delimiter=delimiter))
        assert rows[0] == table_header, (name, fmt)
        assert len(rows) > 1, (name, fmt)
        assert all(len(row) == len(table_header) for row in rows), (name, fmt)
