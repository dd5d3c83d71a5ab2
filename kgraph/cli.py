"""The ``kgraph`` command line: each command opens the data and calls one library function.

Every command takes ``--store`` (default ``$KGRAPH_STORE``, else ``.kgraph``); commands that
print data take ``--format table|json|csv|tsv`` (table on a terminal, JSON otherwise). Data goes
to stdout, progress and problems to stderr. Exit codes: 0 ok, 1 bad input (a ``KGraphError``,
printed as ``error: <message>``), 2 usage error. Any other exception is a bug and keeps its
traceback. This is the only module that imports click.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import click

import kgraph
from kgraph import output
from kgraph.errors import KGraphError
from kgraph.output import FORMATS, emit, table_of


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """The one error path: a ``KGraphError`` prints its problems, then ``error: message``, exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KGraphError as exc:
            for problem in getattr(exc, "problems", []):
                click.echo(str(problem), err=True)
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def store_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--store", "store", type=click.Path(path_type=Path), default=None,
                        help="Store path (default: $KGRAPH_STORE, else .kgraph).")(func)


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                        help="Output format (default: table on a terminal, else json).")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(kgraph.__version__, prog_name="kgraph")
def main() -> None:
    """kgraph: a knowledge graph of billing-coding relationships (CPT, HCPCS, ICD-10-CM,
    modifiers, NUCC taxonomies, payers)."""
    # A full garbage collection scans every object the process holds, the modules it imported
    # included (16 ms of `export html`'s 200, 85 ms of `validate`'s 2.3 s on the default build); a
    # command's own garbage is young and goes in the younger collections, so full ones come after
    # 100 of those instead of CPython's 10 (this process only: the library leaves the setting alone)
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


def _counts_rows(counts: dict[str, Any]) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = [
        {"group": "node", "name": k, "count": str(v)} for k, v in counts.get("nodes", {}).items()]
    rows += [{"group": "relation", "name": k, "count": str(v)} for k, v in counts.get("relations", {}).items()]
    rows += [{"group": "total", "name": k, "count": str(counts[k])}
             for k in ("assertions", "sources", "quads") if k in counts]
    return rows


def _print_counts(info: dict[str, Any], fmt: str | None) -> None:
    counts = info.get("counts", {})
    emit(table_of(["group", "name", "count"], _counts_rows(counts)), output.resolve(fmt),
         {"build": info.get("id"), "built_at": info.get("built_at"), **counts, "refused": info.get("refused", []),
          "problems": len(info.get("problems", []))}, indent=2)


@main.command()
@click.option("--manifest", type=click.Path(path_type=Path), default=None,
              help="Sources manifest (default: data/sources.toml).")
@click.option("--briefing", "briefings", multiple=True, type=click.Path(path_type=Path),
              help="An extra briefing file to include (repeatable).")
@click.option("--briefing-dir", "briefing_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A folder of briefings (.txt, .md, .html) to include, every file of it (repeatable).")
@click.option("--keep-going", is_flag=True, help="Build without sources that cannot be read.")
@click.option("--strict", is_flag=True, help="Refuse the build if any row was skipped.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr (problems are still shown).")
@store_option
@format_option
@command
def build(manifest: Path | None, briefings: tuple[Path, ...], briefing_dirs: tuple[Path, ...], keep_going: bool,
          strict: bool, quiet: bool, store: Path | None, fmt: str | None) -> None:
    """Build the store from a manifest (and extra briefings); prints counts."""
    from kgraph.progress import for_stream

    say = output.progress()
    built = kgraph.build(manifest, store=store, briefings=tuple(str(b) for b in briefings),
                         briefing_dirs=tuple(str(d) for d in briefing_dirs), keep_going=keep_going,
                         strict=strict, progress=for_stream(quiet=quiet))
    for problem in built.info.get("problems", []):
        say(problem)
    for refused in built.info.get("refused", []):
        say(f"warning: {refused} was refused and left out of this build (--keep-going)")
    if not quiet:
        _say_readings(built.info, say)
    _print_counts(built.info, fmt)


def _say_readings(info: dict[str, Any], say: Callable[[str], None]) -> None:
    """The build's last lines: how each briefing was read (tables, rows read and skipped, normalisations)."""
    for source in info.get("sources", []):
        if source.get("reading"):
            say(f"{'notes' if source.get('kind') == 'notes' else 'briefing'} {source['reading']['line']}")


@main.command("briefing")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--store", "store", type=click.Path(path_type=Path), default=None,
              help="Expand ranges and wildcards against this built store (without it they are shown unexpanded).")
@click.option("--strict", is_flag=True, help="Exit 1 when any table or row was not read.")
@format_option
@command
def briefing_cmd(file: Path, store: Path | None, strict: bool, fmt: str | None) -> None:
    """How a briefing is read, without building: each table, its kind and why, each row's edges and problems."""
    from kgraph.briefing_report import explain, rows

    report = explain(file, store=kgraph.open(store) if store else None)
    fmt = output.resolve(fmt)
    if report["refused"] and fmt != "json":
        raise KGraphError(report["problems"][-1]["message"])
    if fmt != "json":
        click.echo(f"{report['file']}: {report['format']} ({report['why']}); subject {report['subject'] or 'none'}"
                   + (f", dated {report['date']}" if report["date"] else ""), err=fmt != "table")
    emit(table_of(["line", "what", "status", "codes", "edges", "problems"], rows(report)), fmt, report)
    if fmt == "table":
        s = report["summary"]
        for problem in report["problems"]:
            click.echo(f"{problem['severity']}: {problem['message']}", err=True)
        click.echo(f"{s['tables_read']} of {s['tables']} tables read; {s['rows_read']} rows read + "
                   f"{s['rows_skipped']} rows skipped = {s['rows']} rows; {s['normalisations']} normalisations",
                   err=True)
    if report["refused"] or strict and (report["summary"]["rows_skipped"] or
                                        report["summary"]["tables_read"] < report["summary"]["tables"]):
        sys.exit(1)


@main.command()
@store_option
@format_option
@command
def stats(store: Path | None, fmt: str | None) -> None:
    """Counts by node kind and by relation for an existing store."""
    _print_counts(kgraph.open(store).info, fmt)


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"parameter {pair!r} is not KEY=VALUE")
        params[key] = value
    return params


def _auth(user: str | None) -> tuple[str, str] | None:
    """``--user USER[:PASSWORD]``; the password may come from $KGRAPH_REMOTE_PASSWORD instead."""
    if not user:
        return None
    name, sep, password = user.partition(":")
    if not sep:
        password = os.environ.get("KGRAPH_REMOTE_PASSWORD", "")
        if not password and sys.stdin.isatty():
            password = click.prompt(f"password for {name}", hide_input=True, err=True)
    return name, password


def remote_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--endpoint URL`` and ``--user USER[:PASSWORD]``: run on a remote SPARQL 1.1 endpoint instead."""
    func = click.option("--user", help="USER[:PASSWORD] for the endpoint (Basic or Digest, as it asks); the "
                                       "password may come from $KGRAPH_REMOTE_PASSWORD.")(func)
    return click.option("--endpoint", metavar="URL", help="Run on this SPARQL 1.1 query endpoint instead of the "
                                                          "store (see 'kgraph push').")(func)


def limit_options(load: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--max-depth N`` ... and ``--allow-service URL-PREFIX`` (and ``--allow-load``): the query limits of
    ``kgraph.guard``, given to the command as one ``limits`` argument."""
    from kgraph.guard import DEFAULT, SHAPE_LIMITS

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            shapes = {name: kwargs.pop(name) for name in SHAPE_LIMITS}
            kwargs["limits"] = DEFAULT.replace(**shapes, allow_service=kwargs.pop("allow_service") or None,
                                               allow_load=kwargs.pop("allow_load", None) or None)
            return func(*args, **kwargs)

        options = [click.option(option, name, type=click.IntRange(1), default=getattr(DEFAULT, name),
                                show_default=True, metavar="N",
                                help=f"Refuse a query with more {what} before it is parsed (HTTP 400 when served).")
                   for name, (what, option) in SHAPE_LIMITS.items()]
        options.append(click.option("--allow-service", "allow_service", multiple=True, metavar="URL-PREFIX",
                                    help="Let SERVICE call endpoints under this URL prefix (repeatable; none "
                                         "by default: SERVICE is refused)."))
        if load:
            options.append(click.option("--allow-load", "allow_load", is_flag=True,
                                        help="Let updates run LOAD <url> (refused by default)."))
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def _target(store: Path | None, endpoint: str | None, user: str | None, timeout: float | None = None) -> Any:
    """The local store, or a remote endpoint that kgraph.query / neighborhood / path accept the same way."""
    if endpoint:
        from kgraph.remote import open_remote

        return open_remote(endpoint, auth=_auth(user), timeout=timeout or 120.0)
    return kgraph.open(store)


@main.command()
@click.argument("sparql", required=False)
@click.option("--name", help="Run the named query NAME (see 'kgraph queries').")
@click.option("-p", "--param", "params", multiple=True, help="A parameter of a named query, KEY=VALUE.")
@click.option("--file", "file", type=click.File("r", encoding="utf-8"), help="Read the SPARQL from a file.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop the query after SECONDS (it runs in a worker process that is killed then; with "
                   "--endpoint, how long to wait for the server).")
@remote_options
@limit_options()
@store_option
@format_option
@command
def query(sparql: str | None, name: str | None, params: tuple[str, ...], file: Any, timeout: float | None,
          endpoint: str | None, user: str | None, limits: Any, store: Path | None, fmt: str | None) -> None:
    """Run SPARQL 1.1 (or a named query) on the store or a remote endpoint. kgraph prefixes are predeclared."""
    given = [x for x in (sparql, name, file) if x]
    if len(given) != 1:
        raise click.UsageError("give exactly one of SPARQL, --name NAME or --file FILE")
    text = name or (file.read() if file else sparql)
    assert text is not None
    target = _target(store, endpoint, user, timeout)
    if not endpoint:  # a remote endpoint applies its own limits (and its own timeout, given above)
        target.limits = limits
    table = kgraph.query(target, text, timeout=None if endpoint else timeout, **_params(params))
    emit(table, output.resolve(fmt))


@main.command()
@format_option
@command
def queries(fmt: str | None) -> None:
    """List the named queries with their parameters."""
    rows: list[dict[str, str | None]] = [
        {"name": q.name, "parameters": ", ".join(f"{k}: {v}" for k, v in q.params.items()),
         "description": q.description}
        for q in kgraph.named_queries().values()]
    emit(table_of(["name", "parameters", "description"], rows), output.resolve(fmt), rows)


def _print_graph(graph: Any, fmt: str | None) -> None:
    from kgraph.traverse import to_json

    data = to_json(graph)
    rows: list[dict[str, str | None]] = [
        {"source": e["source"], "relation": e["relation"], "target": e["target"],
         "qualifiers": "; ".join(f"{k}={v}" for k, v in sorted(e["qualifiers"].items())),
         "evidence": ", ".join(f"{ev['source']}:{ev['line']}" for ev in e["evidence"])}
        for e in data["edges"]]
    emit(table_of(["source", "relation", "target", "qualifiers", "evidence"], rows), output.resolve(fmt), data)


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
    _print_graph(graph, fmt)


@main.command()
@click.argument("source")
@click.argument("target")
@click.option("--relation", "relations", multiple=True, help="Follow only this relation (repeatable).")
@store_option
@format_option
@command
def path(source: str, target: str, relations: tuple[str, ...], store: Path | None, fmt: str | None) -> None:
    """The shortest typed path between two codes."""
    _print_graph(kgraph.path(kgraph.open(store), source, target, relations=list(relations) or None), fmt)


@main.command()
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True,
              help="Exit 1 when a finding at or above this severity is found.")
@click.option("--as-of", "as_of", help="Reference date (YYYY-MM-DD) for judging code-set releases; default today.")
@click.option("--since", metavar="RELEASE", help="Instead: the briefing rows a change since this release or date "
                                                 "made wrong (kgraph changes).")
@click.option("--until", metavar="RELEASE", help="With --since: compare up to this release or date (default newest).")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr (problems are still shown).")
@store_option
@format_option
@command
def validate(fail_on: str, as_of: str | None, since: str | None, until: str | None, quiet: bool,
             store: Path | None, fmt: str | None) -> None:
    """Check the briefings against the official code sets, SHACL shapes and NCCI edits."""
    if since:
        from kgraph.changes.since import validate_since

        findings = validate_since(kgraph.open(store), since, until)
    else:
        from kgraph.progress import for_stream

        findings = kgraph.validate(kgraph.open(store), as_of=as_of, progress=for_stream(quiet=quiet))
    fmt = output.resolve(fmt)
    rows: list[dict[str, str | None]] = [
        {"severity": f.severity, "rule": f.rule, "subject": f.subject,
         "where": f"{f.source}:{f.line}" if f.source else "", "message": f.message,
         "suggestion": " ".join(f.suggestion)} for f in findings]
    table = table_of(["severity", "rule", "subject", "where", "message", "suggestion"], rows)
    emit(table, fmt, findings.dumps() if fmt == "json" else None, width=output.wide())
    if fmt == "table":
        output.data_versions(findings.data_versions)
    if findings.at_least(fail_on):
        sys.exit(1)


def selection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--focus --depth --codes --briefing-codes``: the codes ``changes`` and ``report`` look at."""
    options = [
        click.option("--focus", metavar="CODE", help="Only the codes within --depth steps of this code."),
        click.option("--depth", type=click.IntRange(0, 6), default=1, show_default=True, help="Steps from --focus."),
        click.option("--codes", "codes_file", type=click.File("r", encoding="utf-8"),
                     help="Only the codes of this file (one CURIE a line, # comments)."),
        click.option("--briefing-codes", is_flag=True, help="Only the codes the loaded briefings name."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _codes(codes_file: Any) -> list[str] | None:
    if codes_file is None:
        return None
    return [line.split("#")[0].strip() for line in codes_file if line.split("#")[0].strip()]


@main.command()
@click.option("--since", required=True, metavar="RELEASE",
              help="The older release (FY2021, 24.0, 2024-07-01) or a date.")
@click.option("--until", metavar="RELEASE", help="The newer release or date (default: the newest loaded).")
@click.option("--family", "families", multiple=True,
              type=click.Choice(["icd10cm", "ncci-ptp", "ncci-mue", "mpfs", "nucc"]),
              help="Only this family (repeatable).")
@selection_options
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the changes as one self-contained HTML page.")
@store_option
@format_option
@command
def changes(since: str, until: str | None, families: tuple[str, ...], focus: str | None, depth: int, codes_file: Any,
            briefing_codes: bool, html_out: Path | None, store: Path | None, fmt: str | None) -> None:
    """What changed between two releases or dates: ICD-10-CM, NCCI PTP and MUE, fee schedule, NUCC."""
    from kgraph.changes import output as changes_output

    found = kgraph.changes(kgraph.open(store), since, until, codes=_codes(codes_file), focus=focus, depth=depth,
                           briefing_codes=briefing_codes, families=families or None)
    emit(changes_output.table(found), output.resolve(fmt), found.to_json())
    for note in found.notes:
        click.echo(f"note: {note}", err=True)
    if html_out:
        html_out.write_text(changes_output.html_page(found, f"Changes since {since}"), encoding="utf-8")
        click.echo(f"wrote {html_out}: {len(found)} changes", err=True)


@main.command()
@click.option("--since", required=True, metavar="RELEASE", help="The release or date of the last meeting.")
@click.option("--until", metavar="RELEASE", help="The newer release or date (default: the newest loaded).")
@selection_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@store_option
@command
def report(since: str, until: str | None, focus: str | None, depth: int, codes_file: Any, briefing_codes: bool,
           output: Path, store: Path | None) -> None:
    """One self-contained offline HTML page for a review meeting: changes, findings, open notes, pictures."""
    from kgraph.report import write_report

    done = write_report(kgraph.open(store), output, since=since, until=until, codes=_codes(codes_file), focus=focus,
                        depth=depth, briefing_codes=briefing_codes)
    click.echo(f"wrote {output}: {done.changes} changes, {done.findings} findings, {done.notes} open notes, "
               f"{done.pictures} pictures", err=True)


RULE_COLUMNS = ["id", "command", "severity", "meaning", "source"]


@main.command("rules")
@format_option
@command
def rules_command(fmt: str | None) -> None:
    """Every billing rule of check and validate: id, severity, meaning and the CMS document it comes from."""
    from kgraph.rules import registry

    rows: list[dict[str, str | None]] = [dict(r._asdict()) for r in registry()]
    emit(table_of(RULE_COLUMNS, rows), output.resolve(fmt), rows)


@main.group()
def export() -> None:
    """Export the graph: a picture (html), or the store, a named graph or a neighbourhood in a standard format."""


def neighborhood_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--focus --depth --relation --as-of --max-edges``: the neighbourhood an export takes (every export)."""
    options = [
        click.option("--focus", metavar="CODE", help="The code at the centre of a neighbourhood (CURIE or bare code)."),
        click.option("--depth", type=click.IntRange(0, 6), default=1, show_default=True,
                     help="Hops from the focus code."),
        click.option("--relation", "relations", multiple=True,
                     help="Follow only this relation (repeatable), e.g. kg:supports."),
        click.option("--as-of", "as_of", help="Only codes and edges in effect on this date (YYYY-MM-DD)."),
        click.option("--max-edges", type=click.IntRange(1), default=None,
                     help="Refuse a neighbourhood walk past this many edges (default 5,000), or a whole-store or "
                          "named-graph GraphML/GEXF projection (default 500,000)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@export.command("html")
@neighborhood_options
@click.option("--max-nodes", type=click.IntRange(1), default=2000, show_default=True,
              help="Refuse exports with more nodes than this.")
@click.option("--title", help="Page title (default: the focus code).")
@click.option("--findings/--no-findings", "with_findings", default=False,
              help="Run kgraph validate and mark codes with findings.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@store_option
@command
def export_html(focus: str | None, depth: int, relations: tuple[str, ...], as_of: str | None,
                max_edges: int | None, max_nodes: int, title: str | None, with_findings: bool, output: Path,
                store: Path | None) -> None:
    """One self-contained, offline HTML picture of a code's neighbourhood (--focus is required)."""
    from kgraph.viz import write_html

    if not focus:
        raise click.UsageError("Missing option '--focus': an HTML picture shows a code's neighbourhood")
    st = kgraph.open(store)
    graph = kgraph.neighborhood(st, focus, depth=depth, relations=list(relations) or None, as_of=as_of,
                                max_edges=max_edges or 5000)
    findings = kgraph.validate(st) if with_findings else None
    from kgraph.notes import for_export

    out = write_html(graph, output, title=title, data_versions=st, findings=findings, max_nodes=max_nodes,
                     review=for_export(st, graph))
    click.echo(f"wrote {out}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges")


@main.group()
def notes() -> None:
    """Review notes written in HTML exports: import them as a source of the build."""


@notes.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The manifest whose notes/ folder receives the file (default: data/sources.toml).")
@click.option("--no-build", is_flag=True, help="Place the file and name it in the manifest; build later.")
@store_option
@command
def notes_import(file: Path, manifest: Path | None, no_build: bool, store: Path | None) -> None:
    """Add a notes file (the page's JSON or CSV download) to the build and rebuild (kgraph.notes)."""
    from kgraph.build import DEFAULT_MANIFEST
    from kgraph.notes import import_notes

    placed, built = import_notes(file, manifest or DEFAULT_MANIFEST, build=not no_build, store=store,
                                 progress=lambda m: click.echo(m, err=True))
    if built is not None:
        for problem in built.info.get("problems", []):
            click.echo(problem, err=True)
        _say_readings(built.info, lambda m: click.echo(m, err=True))
    click.echo(f"imported {placed}" + ("" if built is not None else "; run kgraph build to read it"))


EXPORT_HELP = {
    "ttl": "Turtle: the union graph (each triple once), one named graph (--graph), or a neighbourhood (--focus).",
    "nt": "N-Triples: the union graph (each triple once), one named graph, or a neighbourhood.",
    "nq": "N-Quads: every named graph (pyoxigraph's Store.dump), one named graph, or a neighbourhood's quads.",
    "trig": "TriG: every named graph, one named graph, or a neighbourhood's quads, graphs kept.",
    "jsonld": "JSON-LD: the union graph (each triple once), one named graph, or a neighbourhood.",
    "graphml": "GraphML for Cytoscape, Gephi, networkx, igraph: a named graph or a neighbourhood (--max-nodes).",
    "gexf": "GEXF for Gephi: a named graph or a neighbourhood (--max-nodes).",
    "csv": "CSV edge list (qualifiers, evidence) and node list: -o NAME.csv writes NAME.edges.csv and "
           "NAME.nodes.csv, -o DIR (an existing directory) DIR/edges.csv and DIR/nodes.csv.",
}


def _export_format(fmt: str) -> None:
    """Register ``kgraph export FMT``: the shared selection options, ``-o`` and ``--store``."""
    from kgraph.export import DEFAULT_MAX_NODES

    def run(graph: str | None, focus: str | None, depth: int, relations: tuple[str, ...], as_of: str | None,
            max_edges: int | None, output: Path, store: Path | None, max_nodes: int = DEFAULT_MAX_NODES) -> None:
        if graph and focus:
            raise click.UsageError("give --graph NAME or --focus CODE, not both")
        if not focus and (relations or as_of or depth != 1):
            raise click.UsageError("--depth, --relation and --as-of select a neighbourhood: give --focus CODE too")
        done = kgraph.export(kgraph.open(store), output, format=fmt, graph=graph, focus=focus, depth=depth,
                             relations=list(relations) or None, as_of=as_of, max_edges=max_edges,
                             max_nodes=max_nodes)
        counts = f": {done.nodes:,} nodes, {done.edges:,} edges" if done.nodes is not None else ""
        for path in done.paths:
            click.echo(f"wrote {path} ({fmt}, {done.scope}{counts}, {path.stat().st_size:,} bytes)", err=True)

    run = command(run)
    run = store_option(run)
    run = click.option("-o", "--output", required=True, metavar="FILE" if fmt != "csv" else "FILE|DIR",
                       type=click.Path(dir_okay=fmt == "csv", allow_dash=fmt != "csv", path_type=Path),
                       help="The file to write" + (" (- for stdout)." if fmt != "csv" else "."))(run)
    if fmt in ("graphml", "gexf"):
        run = click.option("--max-nodes", type=click.IntRange(1), default=DEFAULT_MAX_NODES, show_default=True,
                           help="Refuse exports with more nodes than this.")(run)
    run = neighborhood_options(run)
    run = click.option("--graph", metavar="NAME",
                       help="One named graph: a source id (briefing-cpt-74360), GRAPH:<id>, its IRI or the "
                            "source's file.")(run)
    export.command(fmt, help=EXPORT_HELP[fmt])(run)


for _fmt_name in EXPORT_HELP:
    _export_format(_fmt_name)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 or :: opens it to the network).")
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True, help="0 picks a free port.")
@click.option("--allow-update", is_flag=True,
              help="Accept SPARQL updates (the store is opened for writing by a single worker).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              metavar="SECONDS", help="Stop a query after SECONDS (HTTP 503).")
@click.option("--max-rows", type=click.IntRange(1), default=100_000, show_default=True,
              help="Refuse answers with more rows or triples (HTTP 422).")
@click.option("--max-body", type=click.IntRange(1), default=1 << 20, show_default=True, metavar="BYTES",
              help="Refuse larger request bodies (HTTP 413).")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Query worker processes (default: two per core, at most 8).")
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
@click.option("--cors", is_flag=True,
              help="Answer browser pages of other origins (CORS; updates from them stay refused).")
@limit_options(load=True)
@store_option
@command
def serve(host: str, port: int, allow_update: bool, timeout: float, max_rows: int, max_body: int,
          workers: int | None, access_log: bool, cors: bool, limits: Any, store: Path | None) -> None:
    """SPARQL 1.1 Protocol endpoint at /sparql (its Service Description without a query) and YASGUI at /,
    until Ctrl-C (read-only by default)."""
    from kgraph.server import serve as serve_store

    serve_store(store, host, port, allow_update=allow_update, timeout=timeout, max_rows=max_rows,
                max_body=max_body, workers=workers, access_log=access_log, limits=limits, cors=cors)


@main.command()
@click.option("--endpoint", required=True, metavar="URL",
              help="The server's SPARQL query endpoint, e.g. http://localhost:7878/query (Oxigraph).")
@click.option("--graph-store", "graph_store", metavar="URL",
              help="Its Graph Store Protocol URL, when kgraph cannot tell it from the endpoint.")
@click.option("--user", help="USER[:PASSWORD] (Basic or Digest, as the server asks); the password may come "
                             "from $KGRAPH_REMOTE_PASSWORD.")
@click.option("--chunk", type=click.IntRange(1), default=50_000, show_default=True, help="Triples per request.")
@click.option("--no-verify", is_flag=True, help="Do not count each graph's triples on the server afterwards.")
@store_option
@format_option
@command
def push(endpoint: str, graph_store: str | None, user: str | None, chunk: int, no_verify: bool,
         store: Path | None, fmt: str | None) -> None:
    """Upload the store to a SPARQL 1.1 server (Graph Store Protocol), named graphs kept; run it again to
    resume a push that failed."""
    from kgraph.remote import push as push_store

    report = push_store(kgraph.open(store), endpoint, graph_store_url=graph_store, auth=_auth(user),
                        chunk_triples=chunk, progress=output.progress(), verify=not no_verify)
    summary = {"endpoint": report.endpoint, "graph_store": report.graph_store, "graphs": report.graphs,
               "triples": report.triples, "sent": report.sent, "chunks": report.chunks, "resumed": report.resumed,
               "seconds": round(report.seconds, 2), "triples_per_second": round(report.triples_per_second)}
    rows: list[dict[str, str | None]] = [{"name": k, "value": str(v)} for k, v in summary.items()]
    emit(table_of(["name", "value"], rows), output.resolve(fmt), summary)


CHECK_COLUMNS = ["claim", "status", "severity", "rule", "lines", "message", "evidence"]


@main.command()
@click.argument("claims", required=False, type=click.Path(path_type=Path, allow_dash=True))
@click.option("--line", "line_specs", multiple=True, metavar="CODE[-MOD...][xUNITS]",
              help="A claim line, e.g. 74360-26 or 43249-59x2 (repeatable).")
@click.option("--dx", "diagnoses", multiple=True, help="A diagnosis for every --line (repeatable), e.g. K22.2.")
@click.option("--taxonomy", help="The rendering provider's NUCC taxonomy code.")
@click.option("--payer", help="Payer id or name (default: Medicare).")
@click.option("--date", "service_date", help="Date of service, YYYY-MM-DD (default: today).")
@click.option("--claim-type", type=click.Choice(["professional", "institutional"]), default="professional",
              show_default=True)
@click.option("--id", "claim_id", default="cli", show_default=True, help="The claim id shown in the result.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Processes checking a JSON Lines batch written as JSON (default: one per CPU for a file of 1 MB "
                   "or more, else 1; the same output either way).")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr (problems are still shown).")
@store_option
@format_option
@command
def check(claims: Path | None, line_specs: tuple[str, ...], diagnoses: tuple[str, ...], taxonomy: str | None,
          payer: str | None, service_date: str | None, claim_type: str, claim_id: str, workers: int | None,
          quiet: bool, store: Path | None, fmt: str | None) -> None:
    """Check claim lines (NCCI PTP, MUE, add-on, modifiers, diagnoses, fee schedule) and explain each finding.

    CLAIMS is a JSON claim, or a JSON Lines batch (.jsonl / .ndjson, or - for stdin) checked as it
    streams: one result per claim, a bad claim reported and the batch going on. Or give --line
    (with --dx, --payer, --date ...) for one claim. Exits 1 when a claim fails or cannot be read.
    """
    import contextlib
    import datetime

    from kgraph.check import ClaimError, check_many, dumps_line, parse_line_spec, read_claim_file, read_claims

    if bool(claims) == bool(line_specs):
        raise click.UsageError("give a claims file (CLAIMS) or --line CODE ..., not both")
    fmt = output.resolve(fmt)
    st = kgraph.open(store)
    batch = False
    files = contextlib.ExitStack()
    if line_specs:
        try:
            lines = [{**parse_line_spec(spec), "diagnoses": list(diagnoses)} for spec in line_specs]
        except ClaimError as exc:
            raise click.BadParameter(str(exc), param_hint="--line") from None
        claim = {"id": claim_id, "date": service_date or datetime.date.today().isoformat(), "lines": lines,
                 "claim_type": claim_type, **({"payer": payer} if payer else {}),
                 **({"taxonomy": taxonomy} if taxonomy else {})}
        results = iter([kgraph.check(st, claim)])
    else:
        assert claims is not None
        if str(claims) == "-" or claims.suffix.lower() in (".jsonl", ".ndjson"):
            batch = True
            stdin = str(claims) == "-"
            handle = sys.stdin if stdin else files.enter_context(claims.open(encoding="utf-8"))
            display = "<stdin>" if stdin else str(claims)
            from kgraph.progress import for_stream

            # the lines of the file as they are read (only iterated below), advancing a bar by their size
            handle = cast(Any, for_stream(quiet=quiet).lines(handle, f"checking {display}"))
            if fmt == "json":  # JSON Lines in, JSON Lines out: the batch path, on --workers processes
                from kgraph.check_batch import check_blocks, default_workers

                if workers is None:
                    workers = default_workers(None if stdin else claims)
                failed = False
                with files:
                    for text, statuses in check_blocks(st, handle, display=display, workers=workers):
                        failed = failed or "fail" in statuses or "error" in statuses
                        sys.stdout.write(text)
                if failed:
                    sys.exit(1)
                return
            results = check_many(st, read_claims(handle, display=display))
        else:
            data = read_claim_file(claims)
            batch = isinstance(data, list)
            results = check_many(st, data) if batch else iter([kgraph.check(st, data)])
    bad = False
    printed = output.Rows(CHECK_COLUMNS, fmt)
    with files:
        for result in results:
            bad = bad or result.status in ("fail", "error")
            if fmt == "json":
                click.echo(dumps_line(result) if batch else result.dumps(indent=1))
                continue
            printed.write(result.rows())
            if fmt == "table":
                output.data_versions(result.data_versions)
    if bad:
        sys.exit(1)
