"""A folder of briefings: --briefing-dir, [[source]] kind = "briefings", --keep-going, and the reading lines."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

import kgraph
from kgraph.cli import main
from kgraph.errors import BuildError

from .conftest import BAD, DATA, SECOND, TESTDATA


@pytest.fixture
def folder(tmp_path):
    """Two briefings, a PDF and a hidden file (not briefings), and a sub-folder (not read)."""
    docs = tmp_path / "briefings"
    docs.mkdir()
    shutil.copy(SECOND, docs / "cpt-43249.txt")
    shutil.copy(TESTDATA / "styles" / "cpt-43249-markdown.md", docs / "cpt-43249-markdown.md")
    (docs / "minutes.pdf").write_bytes(b"%PDF-1.4")
    (docs / ".cpt-99999.txt").write_text("CPT 99999: hidden draft\n")
    (docs / "old").mkdir()
    shutil.copy(SECOND, docs / "old" / "cpt-43249.txt")
    return docs


def test_manifest_kind_briefings_reads_every_briefing_of_the_folder(tmp_path, folder):
    (tmp_path / "m.toml").write_text(
        f'[[source]]\nkind = "payers"\npath = "{DATA / "payers.csv"}"\nlicence = "x"\n\n'
        '[[source]]\nkind = "briefings"\npath = "briefings"\nlicence = "our own briefings"\n')
    built = kgraph.build(tmp_path / "m.toml", store=tmp_path / "kg")
    briefings = [s for s in built.info["sources"] if s["kind"] == "briefing"]
    assert [s["file"].rsplit("/", 1)[1] for s in briefings] == ["cpt-43249-markdown.md", "cpt-43249.txt"]
    assert {s["licence"] for s in briefings} == {"our own briefings"}
    assert [s["reading"]["format"] for s in briefings] == ["markdown", "text"]
    # both say K22.2 supports 43249, each with its own line
    rows = kgraph.query(built, """SELECT ?line WHERE { ?a rdf:subject ICD10CM:K22.2 ; rdf:object CPT:43249 ;
        kg:line ?line } ORDER BY ?line""").column("line")
    assert rows == ["24", "28"]


def test_error_manifest_folder_missing_or_empty(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "m.toml").write_text('[[source]]\nkind = "briefings"\npath = "nowhere"\n\n'
                                     '[[source]]\nkind = "briefings"\npath = "empty"\n')
    with pytest.raises(BuildError) as err:
        kgraph.build(tmp_path / "m.toml", store=tmp_path / "kg")
    assert "m.toml: source #1: " in str(err.value) and "nowhere: briefing folder not found" in str(err.value)
    assert "source #2: " in str(err.value) and "empty: no briefing in this folder" in str(err.value)


def test_briefing_dir_with_a_bad_file_refuses_unless_keep_going(tmp_path, folder):
    shutil.copy(BAD / "empty.txt", folder / "empty.txt")
    runner = CliRunner()
    small = TESTDATA / "small.toml"
    refused = runner.invoke(main, ["build", "--manifest", str(small), "--store", str(tmp_path / "kg"),
                                   "--briefing-dir", str(folder), "--format", "json"])
    assert refused.exit_code == 1
    assert "empty.txt:1: empty file (file refused)" in refused.stderr
    assert not (tmp_path / "kg").exists()
    kept = runner.invoke(main, ["build", "--manifest", str(small), "--store", str(tmp_path / "kg"),
                                "--briefing-dir", str(folder), "--keep-going", "--format", "json"])
    assert kept.exit_code == 0, kept.output
    assert "empty.txt was refused and left out of this build (--keep-going)" in kept.stderr
    # the build ends with one line per briefing read
    last = kept.stderr.strip().splitlines()[-3:]
    assert last[0] == "briefing data/briefings/cpt-74360.txt: text, 4 tables read, 33 rows read, 0 rows skipped, " \
                      "0 normalisations"
    assert last[1].startswith("briefing ") and last[1].endswith("cpt-43249-markdown.md: markdown, 3 tables read, "
                                                                 "13 rows read, 1 rows skipped, 3 normalisations")
    assert last[2].endswith("cpt-43249.txt: text, 5 tables read, 19 rows read, 0 rows skipped, 0 normalisations")


def test_error_kgraph_briefing_on_a_refused_file_exits_1():
    out = CliRunner().invoke(main, ["briefing", str(BAD / "no-title.txt"), "--format", "table"])
    assert out.exit_code == 1
    assert out.stderr == ("error: tests/data/bad/no-title.txt:1: no title line such as 'CPT 74360: <title>' or "
                          "'Code: 74360'; cannot tell which code the briefing is about (file refused)\n")
    strict = CliRunner().invoke(main, ["briefing", str(TESTDATA / "styles" / "cpt-45378-keyvalue.txt"), "--strict",
                                       "--format", "json"])
    assert strict.exit_code == 1  # rows and a table were not read
