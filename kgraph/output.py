"""What the command line prints: one table as table, json, csv or tsv, and progress lines.

Input: a ``Table`` (``kgraph.sparql``), the format a command was given (``None``: table on a
terminal, JSON otherwise) and, where a command's JSON is not the W3C results JSON, the data to
print as JSON. Output: text on stdout (data) or stderr (progress, data versions). A new command
prints through ``emit`` (one table) or ``Rows`` (tables written as they come, e.g. one per checked
claim), so that every command offers the same four formats the same way. Does not import click's
commands nor decide what a command shows; raises nothing of its own.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click

from kgraph.sparql import Table

FORMATS = ("table", "json", "csv", "tsv")
#: what a cell is cut to in a table for a terminal (most commands)
NARROW = 60


def resolve(fmt: str | None) -> str:
    """The format to print in: the one given, else table on a terminal and JSON otherwise."""
    return fmt or ("table" if sys.stdout.isatty() else "json")


def wide() -> int:
    """The cell width of a table of messages (validate, check): 90 on a terminal, 200 in a file."""
    return 200 if not sys.stdout.isatty() else 90


def _delimiter(fmt: str) -> str:
    return "," if fmt == "csv" else "\t"


def emit(table: Table, fmt: str, data: Any = None, *, indent: int = 1, width: int = NARROW) -> None:
    """Print ``table`` in ``fmt``; as JSON, ``data`` (default: the table's W3C results JSON).

    ``data`` given as a ``str`` is printed as it is (a result's own ``dumps()``).
    """
    if fmt == "json":
        data = table.json if data is None else data
        click.echo(data if isinstance(data, str) else json.dumps(data, indent=indent))
    elif fmt in ("csv", "tsv"):
        click.echo(table.to_csv(_delimiter(fmt)), nl=False)
    else:
        click.echo(table.to_text(max_width=width))


def data_versions(versions: dict[str, str]) -> None:
    """The ``data versions: ...`` line under a table of findings (stderr)."""
    click.echo(f"data versions: {', '.join(f'{k} {v}' for k, v in versions.items())}", err=True)


class Rows:
    """Tables of the same columns printed one after the other (one per checked claim): csv/tsv
    under one header, a text table each. JSON is each result's own text, printed by the command."""

    def __init__(self, columns: list[str], fmt: str) -> None:
        self.columns = columns
        self._csv = csv.DictWriter(sys.stdout, columns, delimiter=_delimiter(fmt), lineterminator="\n") \
            if fmt in ("csv", "tsv") else None
        if self._csv:
            self._csv.writeheader()

    def write(self, rows: list[dict[str, str | None]]) -> None:
        if self._csv:
            self._csv.writerows(rows)
        else:
            click.echo(Table(self.columns, {}, rows).to_text(max_width=wide()))


def progress() -> Callable[[str], None]:
    """A ``say(message)`` for stderr: on a terminal, lines starting with two spaces ("  file:
    1,500,000 records") rewrite one line, like a progress bar; every other line stays."""
    tty = sys.stderr.isatty()

    def say(message: str) -> None:
        if tty and message.startswith("  "):
            click.echo(f"\r{message}\x1b[K", nl=False, err=True)
        else:
            click.echo(("\r\x1b[K" if tty else "") + message, err=True)

    return say


def table_of(columns: list[str], rows: Iterable[dict[str, str | None]]) -> Table:
    """A ``Table`` of ready rows (strings), for commands whose answer is not a query's."""
    return Table(columns, {}, list(rows))
