"""Progress of build, validate and batch check on stderr: bars on a terminal, lines elsewhere, none with --quiet."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys

from click.testing import CliRunner

import kgraph
from kgraph.cli import main
from kgraph.progress import Lines, Progress, for_stream
from tests.conftest import ROOT

MPFS = ROOT / "data" / "mpfs" / "PPRRVU2025_Oct_nodesc.csv"
PAYERS = ROOT / "data" / "payers.csv"


def _manifest(tmp_path):
    manifest = tmp_path / "sources.toml"
    manifest.write_text(f'[[source]]\nkind = "payers"\npath = "{PAYERS.as_posix()}"\n\n'
                        f'[[source]]\nkind = "mpfs"\npath = "{MPFS.as_posix()}"\nrelease = "2025-10"\n',
                        encoding="utf-8")
    return manifest


def test_a_quiet_build_writes_nothing_to_stderr_and_the_same_counts(tmp_path):
    manifest = _manifest(tmp_path)
    runner = CliRunner()
    quiet = runner.invoke(main, ["build", "--manifest", str(manifest), "--store", str(tmp_path / "a"),
                                 "--format", "json", "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    loud = runner.invoke(main, ["build", "--manifest", str(manifest), "--store", str(tmp_path / "b"),
                                "--format", "json"])
    def counts(out: str) -> dict:
        return {k: v for k, v in json.loads(out).items() if k not in ("build", "built_at", "seconds")}

    assert counts(quiet.stdout) == counts(loud.stdout)


def test_a_build_off_a_terminal_writes_plain_lines_naming_each_source(tmp_path):
    manifest = _manifest(tmp_path)
    result = CliRunner().invoke(main, ["build", "--manifest", str(manifest), "--store", str(tmp_path / "kg")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert not any("\r" in line or "\x1b" in line for line in lines)  # no terminal control off a terminal
    for name in ("payers.csv", "PPRRVU2025_Oct_nodesc.csv"):
        assert any(line.startswith("read ") and name in line for line in lines), lines
    # the source read record by record is announced once as it begins, then summed up
    assert sum("PPRRVU2025_Oct_nodesc.csv" in line for line in lines) == 2, lines
    assert "compacting the store ..." in lines and "counting degrees ..." in lines


def test_a_build_on_a_terminal_draws_a_bar_by_bytes(tmp_path):
    manifest = _manifest(tmp_path)
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "kgraph", "build", "--manifest", str(manifest),
                             "--store", str(tmp_path / "kg")], stdout=subprocess.DEVNULL, stderr=slave,
                            cwd=ROOT, env=env)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait() == 0, seen.decode(errors="replace")
    text = seen.decode("utf-8", errors="replace")
    assert "reading " in text and "PPRRVU2025_Oct_nodesc.csv" in text
    assert "━" in text  # rich's bar
    assert "MB" in text or "kB" in text  # sized in bytes: the file is 2.6 MB


def test_the_library_says_nothing_unless_asked(tmp_path, capsys):
    kgraph.build(_manifest(tmp_path), store=tmp_path / "kg")
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_callable_still_gets_every_line(tmp_path):
    said: list[str] = []
    kgraph.build(_manifest(tmp_path), store=tmp_path / "kg", progress=said.append)
    assert any(line.startswith("read ") and "PPRRVU" in line for line in said)
    assert any(line.startswith("built ") for line in said)


def test_what_a_command_shows_depends_on_the_stream():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert type(for_stream(io.StringIO(), quiet=True)) is Progress
    assert isinstance(for_stream(io.StringIO()), Lines)
    assert not isinstance(for_stream(Terminal()), Lines) and type(for_stream(Terminal())) is not Progress


def test_validate_and_a_batch_check_tell_their_progress_unless_quiet(briefing_store, tmp_path):
    runner = CliRunner()
    loud = runner.invoke(main, ["validate", "--store", str(briefing_store.path), "--format", "json"])
    assert "validate: checking the rules ..." in loud.stderr.splitlines()
    quiet = runner.invoke(main, ["validate", "--store", str(briefing_store.path), "--format", "json", "--quiet"])
    assert quiet.stderr == "" and quiet.stdout == loud.stdout
    claims = tmp_path / "claims.jsonl"
    claims.write_text('{"id": "a", "date": "2025-11-03", "lines": [{"code": "74360"}]}\n', encoding="utf-8")
    batch = runner.invoke(main, ["check", str(claims), "--store", str(briefing_store.path), "--format", "json"])
    assert f"checking {claims} ..." in batch.stderr.splitlines()
    silent = runner.invoke(main, ["check", str(claims), "--store", str(briefing_store.path), "--format", "json",
                                  "-q"])
    assert silent.stderr == "" and silent.stdout == batch.stdout
