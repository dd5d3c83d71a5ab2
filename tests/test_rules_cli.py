"""``kgraph rules`` lists the rules of kgraph.rules, and the README's rule table is its output."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from kgraph.cli import main
from kgraph.rules import registry
from tests.shared import ROOT


def _cli(*args: str) -> str:
    out = CliRunner().invoke(main, ["rules", *args])
    assert out.exit_code == 0, out.output
    return out.output


def test_rules_json_is_the_registry() -> None:
    rows = json.loads(_cli("--format", "json"))
    assert rows == [r._asdict() for r in registry()]
    assert {"ncci.ptp", "mpfs.status", "modifier.em-only", "icd10cm.before-icd10", "dx.no-evidence"} <= \
        {r["id"] for r in rows}
    assert all(r["source"] and r["meaning"] and r["severity"] for r in rows)


def test_readme_rule_table_equals_kgraph_rules() -> None:
    listed = [dict(r) for r in csv.DictReader(io.StringIO(_cli("--format", "csv")))]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    header = "| rule | command | severity | meaning | source |"
    assert header in readme, "README.md has no rule table"
    lines = readme[readme.index(header):].splitlines()[2:]
    table = []
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        table.append({"id": cells[0].strip("`"), "command": cells[1], "severity": cells[2], "meaning": cells[3],
                      "source": cells[4]})
    assert table == listed


def test_rules_table_format_names_every_rule() -> None:
    text = _cli("--format", "table")
    assert all(r.id in text for r in registry())
