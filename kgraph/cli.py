"""The ``kgraph`` command line: each command opens the data and calls one library function.

Every command takes ``--store`` (default ``$KGRAPH_STORE``, else ``.kgraph``); commands that
print data take ``--format table|json|csv|tsv`` (table on a terminal, JSON otherwise). Data goes
to stdout, progress and problems to stderr. Exit codes: 0 ok, 1 bad input (a ``KGraphError``,
printed as ``error: <message>``), 2 usage error. Any other exception is a bug and keeps its
traceback. This is the only module that imports click.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import kgraph
from kgraph.errors import BuildError, KGraphError
from kgraph.sparql import Table

FORMATS = ("table", "json", "csv", "tsv")


def _fail(exc: KGraphError) -> None:
    for problem in getattr(exc, "problems", []):
        click.echo(str(problem), err=True)
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turns a ``KGraphError`` into ``error: message`` and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KGraphError as exc:
            _fail(exc)

    return wrapper


def store_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--store", "store", type=click.Path(path_type=Path), default=None,
                        help="Store path (default: $KGRAPH_STORE, else .kgraph).")(func)


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                        help="Output format (default: table on a terminal, else json).")(func)


def _fmt(fmt: str | None) -> str:
    return fmt or ("table" if sys.stdout.isatty() else "json")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(kgraph.__version__, prog_name="kgraph")
def main() -> None:
    """kgraph: a knowledge graph of billing-coding relationships (CPT, HCPCS, ICD-10-CM,
    modifiers, NUCC taxonomies, payers)."""


def _counts_rows(counts: dict[str, Any]) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = [
        {"group": "node", "name": k, "count": str(v)} for k, v in counts.get("nodes", {}).items()]
    rows += [{"group": "relation", "name": k, "count": str(v)} for k, v in counts.get("relations", {}).items()]
    rows += [{"group": "total", "name": k, "count": str(counts[k])}
             for k in ("assertions", "sources", "quads") if k in counts]
    return rows


def _print_counts(info: dict[str, Any], fmt: str) -> None:
    counts = info.get("counts", {})
    if fmt == "json":
        click.echo(json.dumps({"build": info.get("id"), "built_at": info.get("built_at"), **counts,
                               "refused": info.get("refused", []),
                               "problems": len(info.get("problems", []))}, indent=2))
        return
    table = Table(["group", "name", "count"], {}, _counts_rows(counts))
    if fmt in ("csv", "tsv"):
        click.echo(table.to_csv("," if fmt == "csv" else "\t"), nl=False)
    else:
        click.echo(table.to_text())


@main.command()
@click.option("--manifest", type=click.Path(path_type=Path), default=None,
              help="Sources manifest (default: data/sources.toml).")
@click.option("--briefing", "briefings", multiple=True, type=click.Path(path_type=Path),
              help="An extra briefing file to include (repeatable).")
@click.option("--keep-going", is_flag=True, help="Build without sources that cannot be read.")
@click.option("--strict", is_flag=True, help="Refuse the build if any row was skipped.")
@store_option
@format_option
@command
def build(manifest: Path | None, briefings: tuple[Path, ...], keep_going: bool, strict: bool,
          store: Path | None, fmt: str | None) -> None:
    """Build the store from a manifest (and extra briefings); prints counts."""
    tty = sys.stderr.isatty()

    def say(message: str) -> None:
        # progress lines ("  file: 1,500,000 records") rewrite one terminal line, like a progress bar
        if tty and message.startswith("  "):
            click.echo(f"\r{message}\x1b[K", nl=False, err=True)
        else:
            click.echo(("\r\x1b[K" if tty else "") + message, err=True)

    try:
        built = kgraph.build(manifest, store=store, briefings=tuple(str(b) for b in briefings),
                             keep_going=keep_going, strict=strict, progress=say)
    except BuildError as exc:
        _fail(exc)
        return
    for problem in built.info.get("problems", []):
        say(problem)
    for refused in built.info.get("refused", []):
        say(f"warning: {refused} was refused and left out of this build (--keep-going)")
    _print_counts(built.info, _fmt(fmt))


@main.command()
@store_option
@format_option
@command
def stats(store: Path | None, fmt: str | None) -> None:
    """Counts by node kind and by relation for an existing store."""
    _print_counts(kgraph.open(store).info, _fmt(fmt))


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"parameter {pair!r} is not KEY=VALUE")
        params[key] = value
    return params


def print_table(table: Table, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(table.json, indent=1))
    elif fmt in ("csv", "tsv"):
        click.echo(table.to_csv("," if fmt == "csv" else "\t"), nl=False)
    else:
        click.echo(table.to_text())


@main.command()
@click.argument("sparql", required=False)
@click.option("--name", help="Run the named query NAME (see 'kgraph queries').")
@click.option("-p", "--param", "params", multiple=True, help="A parameter of a named query, KEY=VALUE.")
@click.option("--file", "file", type=click.File("r", encoding="utf-8"), help="Read the SPARQL from a file.")
@store_option
@format_option
@command
def query(sparql: str | None, name: str | None, params: tuple[str, ...], file: Any, store: Path | None,
          fmt: str | None) -> None:
    """Run SPARQL 1.1 (or a named query) on the store. kgraph prefixes are predeclared."""
    given = [x for x in (sparql, name, file) if x]
    if len(given) != 1:
        raise click.UsageError("give exactly one of SPARQL, --name NAME or --file FILE")
    text = name or (file.read() if file else sparql)
    assert text is not None
    print_table(kgraph.query(kgraph.open(store), text, **_params(params)), _fmt(fmt))


@main.command()
@format_option
@command
def queries(fmt: str | None) -> None:
    """List the named queries with their parameters."""
    rows: list[dict[str, str | None]] = [
        {"name": q.name, "parameters": ", ".join(f"{k}: {v}" for k, v in q.params.items()),
         "description": q.description}
        for q in kgraph.named_queries().values()]
    table = Table(["name", "parameters", "description"], {}, rows)
    if _fmt(fmt) == "json":
        click.echo(json.dumps(rows, indent=1))
    else:
        print_table(table, _fmt(fmt))


def _print_graph(graph: Any, fmt: str) -> None:
    from kgraph.traverse import to_json

    data = to_json(graph)
    if fmt == "json":
        click.echo(json.dumps(data, indent=1))
        return
    rows: list[dict[str, str | None]] = [
        {"source": e["source"], "relation": e["relation"], "target": e["target"],
         "qualifiers": "; ".join(f"{k}={v}" for k, v in sorted(e["qualifiers"].items())),
         "evidence": ", ".join(f"{ev['source']}:{ev['line']}" for ev in e["evidence"])}
        for e in data["edges"]]
    print_table(Table(["source", "relation", "target", "qualifiers", "evidence"], {}, rows), fmt)


@main.command()
@click.argument("code")
@click.option("--depth", type=click.IntRange(0, 6), default=1, show_default=True)
@click.option("--relation", "relations", multiple=True,
              help="Follow only this relation (repeatable), e.g. kg:supports.")
@click.option("--as-of", "as_of", help="Only codes and edges in effect on this date (YYYY-MM-DD).")
@click.option("--max-edges", type=int, default=5000, show_default=True)
@store_option
@format_option
@command
def neighbors(code: str, depth: int, relations: tuple[str, ...], as_of: str | None, max_edges: int,
              store: Path | None, fmt: str | None) -> None:
    """The neighbourhood of a code (CURIE or bare code) with qualifiers and evidence."""
    graph = kgraph.neighborhood(kgraph.open(store), code, depth=depth, relations=list(relations) or None,
                                as_of=as_of, max_edges=max_edges)
    _print_graph(graph, _fmt(fmt))


@main.command()
@click.argument("source")
@click.argument("target")
@click.option("--relation", "relations", multiple=True, help="Follow only this relation (repeatable).")
@store_option
@format_option
@command
def path(source: str, target: str, relations: tuple[str, ...], store: Path | None, fmt: str | None) -> None:
    """The shortest typed path between two codes."""
    _print_graph(kgraph.path(kgraph.open(store), source, target, relations=list(relations) or None), _fmt(fmt))


@main.command()
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True,
              help="Exit 1 when a finding at or above this severity is found.")
@click.option("--as-of", "as_of", help="Reference date (YYYY-MM-DD) for judging code-set releases; default today.")
@store_option
@format_option
@command
def validate(fail_on: str, as_of: str | None, store: Path | None, fmt: str | None) -> None:
    """Check the briefings against the official code sets, SHACL shapes and NCCI edits."""
    findings = kgraph.validate(kgraph.open(store), as_of=as_of)
    fmt = _fmt(fmt)
    if fmt == "json":
        click.echo(findings.dumps())
    else:
        rows: list[dict[str, str | None]] = [
            {"severity": f.severity, "rule": f.rule, "subject": f.subject,
             "where": f"{f.source}:{f.line}" if f.source else "", "message": f.message,
             "suggestion": " ".join(f.suggestion)} for f in findings]
        columns = ["severity", "rule", "subject", "where", "message", "suggestion"]
        table = Table(columns, {}, rows)
        if fmt in ("csv", "tsv"):
            click.echo(table.to_csv("," if fmt == "csv" else "\t"), nl=False)
        else:
            click.echo(table.to_text(max_width=200 if not sys.stdout.isatty() else 90))
            versions = ", ".join(f"{k} {v}" for k, v in findings.data_versions.items())
            click.echo(f"data versions: {versions}", err=True)
    if findings.at_least(fail_on):
        sys.exit(1)


@main.group()
def export() -> None:
    """Export pictures of the graph."""


@export.command("html")
@click.option("--focus", required=True, help="The code at the centre (CURIE or bare code).")
@click.option("--depth", type=click.IntRange(0, 6), default=1, show_default=True)
@click.option("--relation", "relations", multiple=True, help="Follow only this relation (repeatable).")
@click.option("--as-of", "as_of", help="Only codes and edges in effect on this date (YYYY-MM-DD).")
@click.option("--max-nodes", type=click.IntRange(1), default=2000, show_default=True,
              help="Refuse exports with more nodes than this.")
@click.option("--title", help="Page title (default: the focus code).")
@click.option("--findings/--no-findings", "with_findings", default=False,
              help="Run kgraph validate and mark codes with findings.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@store_option
@command
def export_html(focus: str, depth: int, relations: tuple[str, ...], as_of: str | None, max_nodes: int,
                title: str | None, with_findings: bool, output: Path, store: Path | None) -> None:
    """One self-contained, offline HTML picture of a code's neighbourhood."""
    from kgraph.viz import write_html

    st = kgraph.open(store)
    graph = kgraph.neighborhood(st, focus, depth=depth, relations=list(relations) or None, as_of=as_of)
    findings = kgraph.validate(st) if with_findings else None
    out = write_html(graph, output, title=title, data_versions=st, findings=findings, max_nodes=max_nodes)
    click.echo(f"wrote {out}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges")
