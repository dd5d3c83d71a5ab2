"""Manifest -> readers -> records -> a new store, swapped in atomically.

Input: a TOML manifest (default ``data/sources.toml``) listing sources as ``[[source]]`` tables
with ``kind``, ``path`` (relative to the manifest), ``licence``, optional ``release`` and optional
``scope`` (``complete``, the default, or ``excerpt``: a few rows of a release, which
``kgraph.rules.releases`` lets override only what they list), plus extra briefing files.
Output: the opened ``Store``. Every source is read completely before anything is written; a
build writes a new directory ``<store>.d/<build-id>/`` and only then swaps the ``<store>``
symlink with an atomic rename, so a failed or killed build leaves the previous store intact and
openable. Two builds of one store at once: the second is refused (the directory's life: ``kgraph.builds``).

Raises ``BuildError`` (with every problem of every source) when a source is refused (empty,
not UTF-8, no title line ...) unless ``keep_going``, or when ``strict`` and any row was
skipped; ``StoreError`` when the store is locked by another build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgraph import builds, description, incremental
from kgraph import namespaces as ns
from kgraph.errors import BuildError, Origin, StoreError
from kgraph.indexes import write_indexes
from kgraph.internal_queries import solutions
from kgraph.progress import Progress, total_bytes
from kgraph.progress import of as progress_of
from kgraph.ranges import Expander
from kgraph.records import Problem, Record
from kgraph.rules.releases import SCOPES
from kgraph.sources import payers
from kgraph.sources import registry as source_kinds
from kgraph.sources._io import counting
from kgraph.store import QuadWriter, Store, load_lines, store_path
from kgraph.store import open as open_store

DEFAULT_MANIFEST = Path("data") / "sources.toml"
NODE_KINDS = ("CPT", "HCPCS", "ICD-10-CM", "modifier", "taxonomy", "payer", "Medicare specialty", "gap")


@dataclass
class SourceSpec:
    """One entry of a manifest."""

    kind: str
    path: Path
    licence: str = ""
    release: str = ""
    #: "complete" (a whole release of its family) or "excerpt" (kgraph.rules.releases.SCOPES)
    scope: str = "complete"
    origin: Origin = field(default_factory=lambda: Origin("<command line>"))

    @property
    def display(self) -> str:
        if str(self.path).startswith(("pkg:", "builtin:")):
            return str(self.path)
        return shown_path(self.path)


def shown_path(path: Path) -> str:
    """A path as users see it in messages: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(rel: str, defaults: dict[str, Any], where: str) -> str:
    """``${NAME}`` in a manifest path: the environment's value, else the manifest's ``[variables]``."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = os.environ.get(name) or defaults.get(name)
        if not isinstance(found, str) or not found:
            raise BuildError(f"{where}: ${{{name}}} is neither set in the environment nor in the manifest's "
                             "[variables]")
        return found
    return _VARIABLE.sub(value, rel)


def read_manifest(manifest: str | os.PathLike[str]) -> list[SourceSpec]:
    """The sources of a manifest file; raises ``BuildError`` naming each bad entry.

    A path may hold ``${NAME}``: the environment variable's value, else the manifest's own
    ``[variables]`` table (data/full.toml: ``KGRAPH_SHARED_DATA``, by default ../shared/data next
    to the project). A relative result is relative to the manifest.
    """
    path = Path(manifest)
    shown = shown_path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(f"{shown}: manifest not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildError(f"{shown}: not a valid TOML manifest: {exc}") from None
    specs: list[SourceSpec] = []
    errors: list[str] = []
    defaults = data.get("variables", {})
    entries = data.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise BuildError(f"{shown}: no [[source]] entries")
    for number, entry in enumerate(entries, 1):
        where = f"{shown}: source #{number}"
        kind, rel = entry.get("kind"), entry.get("path")
        if kind != "briefings" and kind not in {k.name for k in source_kinds.kinds()}:
            errors.append(f"{where}: {source_kinds.unknown(kind)} (or \"briefings\": a folder of briefings)")
            continue
        if not isinstance(rel, str) or not rel:
            errors.append(f"{where}: no path")
            continue
        try:
            rel = _expand(rel, defaults if isinstance(defaults, dict) else {}, where)
        except BuildError as exc:
            errors.append(str(exc))
            continue
        scope = entry.get("scope", "complete")
        if scope not in SCOPES:
            errors.append(f"{where}: scope {scope!r} is not one of {', '.join(SCOPES)}")
            continue
        where_path = Path(rel) if rel.startswith(("pkg:", "builtin:")) else path.parent / rel
        if kind == "briefings":  # a folder: every briefing in it
            try:
                specs += briefing_specs(where_path, str(entry.get("licence", "")), Origin(shown))
            except BuildError as exc:
                errors.append(f"{where}: {exc}")
            continue
        specs.append(SourceSpec(kind, where_path, str(entry.get("licence", "")),
                                str(entry.get("release", "")), scope, Origin(shown)))
    if errors:
        raise BuildError("\n".join(errors))
    return specs


def briefing_specs(folder: Path, licence: str = "user-supplied briefing",
                   origin: Origin | None = None) -> list[SourceSpec]:
    """One briefing source per file of a folder whose name ends in a briefing extension (.txt, .md,
    .markdown, .html, .htm), in name order; hidden files and sub-folders are not read. Raises
    ``BuildError`` when the folder is missing or holds no briefing."""
    from kgraph.sources.briefing import EXTENSIONS

    if not folder.is_dir():
        raise BuildError(f"{shown_path(folder)}: briefing folder not found")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in EXTENSIONS)
    if not files:
        raise BuildError(f"{shown_path(folder)}: no briefing in this folder (files ending in "
                         f"{', '.join(EXTENSIONS)})")
    return [SourceSpec("briefing", f, licence, origin=origin or Origin("<command line>")) for f in files]


#: kinds read completely before anything is written (small; all their problems reported at once)
SMALL_KINDS = source_kinds.early()


@dataclass
class SourceResult:
    """What a build did with one source."""

    spec: SourceSpec
    id: str
    sha256: str
    problems: list[Problem] = field(default_factory=list)
    records: int = 0
    reused: bool = False
    #: problems of a reused source, as reported when it was read
    reused_texts: list[str] = field(default_factory=list)
    #: a briefing's reading report (tables, rows read and skipped, normalisations)
    reading: dict[str, Any] = field(default_factory=dict)

    def problem_texts(self) -> list[str]:
        return self.reused_texts if self.reused else [str(p) for p in self.problems]

    @property
    def refused(self) -> bool:
        return any(p.fatal for p in self.problems)


class _Refused(Exception):
    """Raised inside a record stream when a reader refuses its file."""


def sha256_of(path: Path) -> str:
    """The sha256 of a source: a file's bytes; for a folder, of its files' names and hashes; for
    ``pkg:`` and ``builtin:`` sources, of the file or module that provides the data."""
    text = str(path)
    if text.startswith("pkg:"):
        from kgraph.sources.icd10cm_tabular import locate

        located = locate(text)
        return sha256_of(located[0]) if isinstance(located, tuple) else ""
    if text.startswith("builtin:"):
        return hashlib.sha256((Path(__file__).parent / "sources" / "modifiers.py").read_bytes()).hexdigest()
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.iterdir() if p.is_file()):
            digest.update(f"{child.name}\0{sha256_of(child)}\n".encode())
        return digest.hexdigest()
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _fingerprint() -> str:
    """A hash of the code that turns sources into quads: reuse a graph only if it is unchanged."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    # the readers take documented values and the fiscal-year calendar from the rules (rules/readers.py)
    from kgraph.rules.readers import TABLES

    rules = [here / "rules" / name for name in ("readers.py", "tables.py", "icd.py")]
    rules += [here / "rules" / "tables" / f"{name}.csv" for name in TABLES]
    for module in sorted([*here.glob("sources/**/*.py"), *rules, here / "store.py", here / "namespaces.py"]):
        digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


def _source_id(spec: SourceSpec, used: set[str]) -> str:
    # review notes, whatever their folder is called, go into GRAPH:notes (kgraph.notes)
    base = "notes" if spec.kind == "notes" else f"{spec.kind}-{ns.slug(spec.path.stem.rpartition(':')[2])}"
    sid, n = base, 1
    while sid in used:
        n += 1
        sid = f"{base}-{n}"
    used.add(sid)
    return sid


def _registry(specs: list[SourceSpec]) -> payers.PayerRegistry:
    registry = payers.PayerRegistry()
    for spec in specs:
        if spec.kind == "payers" and spec.path.exists():
            loaded = payers.load(spec.path, display=spec.display)
            registry.names.update(loaded.names)
            registry.by_key.update(loaded.by_key)
            registry.parents.update(loaded.parents)
    return registry


def _records(spec: SourceSpec, registry: payers.PayerRegistry) -> Iterator[Record]:
    kwargs: dict[str, Any] = {"display": spec.display, "payers": registry}
    if spec.release:
        kwargs["release"] = spec.release
    return source_kinds.get(spec.kind).reader(spec.path, **kwargs)


def _stream(records: Iterable[Record], result: SourceResult) -> Iterator[Record]:
    """Pass records on, keeping problems aside; stop the stream when the reader refuses the file."""
    for record in records:
        if isinstance(record, Problem):
            result.problems.append(record)
            if record.fatal:
                raise _Refused
            continue
        result.records += 1
        yield record

def build(
    manifest: str | os.PathLike[str] | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
    briefings: list[str] | tuple[str, ...] = (),
    briefing_dirs: list[str] | tuple[str, ...] = (),
    keep_going: bool = False,
    strict: bool = False,
    reuse: bool = True,
    progress: Progress | Callable[[str], None] | None = None,
) -> Store:
    """Build a store from a manifest and extra briefings, and return it opened read-only.

    Sources whose file sha256 (and kgraph's reader code) is unchanged since the current build
    are copied from it instead of being read again, unless ``reuse=False``. ``progress`` (a
    ``kgraph.progress.Progress``, or a callable given each line) is told of each source as its
    bytes are read, then of compaction, degrees and indexes; by default nothing is said.

    >>> import kgraph, tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> st = kgraph.build("tests/data/small.toml", store=tmp / "kg")   # default: data/sources.toml
    >>> st.counts["relations"]["kg:supports"]
    8
    """
    report = progress_of(progress)
    say = report.line
    started = time.perf_counter()
    path = store_path(store)
    specs = read_manifest(manifest or DEFAULT_MANIFEST)
    specs += [SourceSpec("briefing", Path(b), "user-supplied briefing") for b in briefings]
    for folder in briefing_dirs:
        specs += briefing_specs(Path(folder))
    with builds.lock(path):
        if path.exists() and not path.is_symlink():
            raise StoreError(f"{path}: exists and is not a kgraph store symlink; remove it or choose --store")
        registry = _registry(specs)
        used_ids: set[str] = set()
        results = [SourceResult(spec, _source_id(spec, used_ids), sha256_of(spec.path)) for spec in specs]
        # Small sources are read completely first, so that every problem in them is reported
        # at once and a refused briefing stops the build before anything is written.
        early: dict[str, list[Record]] = {}
        for result in results:
            if result.spec.kind in SMALL_KINDS:
                records = _read_small(result, registry)
                result.problems = [r for r in records if isinstance(r, Problem)]
                early[result.id] = [r for r in records if not isinstance(r, Problem)]
        _check(path, results, keep_going, strict)
        built = _write(_Job(path, results, early, registry, keep_going, strict, reuse, report, started))
    say(f"built {built.build_dir.name} in {time.perf_counter() - started:.1f} s")
    return built


def _read_small(result: SourceResult, registry: payers.PayerRegistry) -> list[Record]:
    """The records of a payer registry or a briefing; a briefing's reading report goes on the result."""
    if result.spec.kind != "briefing":
        return list(_records(result.spec, registry))
    from kgraph.sources.briefing import reading

    read = reading(result.spec.path, payers=registry, display=result.spec.display)
    result.reading = {"format": read.format, **read.summary(), "line": read.line()} if read.format else {}
    return read.records


def _check(path: Path, results: list[SourceResult], keep_going: bool, strict: bool) -> None:
    problems = [p for r in results for p in r.problems]
    refused = [r for r in results if r.refused]
    unchanged = f"the store at {path} is unchanged"
    if refused and not keep_going:
        names = ", ".join(r.spec.display for r in refused)
        raise BuildError(f"build refused: cannot read {names}; {unchanged}", problems)
    if strict and any(p.severity == "error" for p in problems):
        raise BuildError(f"build refused (--strict): rows were skipped; {unchanged}", problems)


def _previous(path: Path) -> tuple[ox.Store | None, dict[str, Any]]:
    """The current build (read-only) and its build.json, to reuse unchanged sources from."""
    try:
        old = open_store(path)
    except StoreError:
        return None, {}
    return old.ox, old.info


@dataclass
class _Job:
    """What one build was asked to do, and the directory it writes (``kgraph.builds``)."""

    path: Path
    results: list[SourceResult]
    #: the records of the kinds read first, by source id
    early: dict[str, list[Record]]
    registry: payers.PayerRegistry
    keep_going: bool
    strict: bool
    reuse: bool
    report: Progress
    started: float
    build_id: str = field(default_factory=builds.new_build_id)
    built_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    fingerprint: str = field(default_factory=_fingerprint)
    #: the VoID statistics being counted in a thread while the indexes are written (``_void_later``)
    void: Future[dict[str, dict[str, Any]]] | None = None

    @property
    def tmp(self) -> Path:
        return builds.temporary(self.path, self.build_id)


@dataclass
class _Reuse:
    """What the current build lends the new one: the graphs of sources that did not change."""

    old_store: ox.Store | None = None
    old_info: dict[str, Any] = field(default_factory=dict)
    old_build: Path | None = None
    #: source id -> its entry in the current build.json, for each source copied instead of read
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: only payers and briefings changed: degrees, counts and indexes are updated, not made again
    fast: bool = False


def _write(job: _Job) -> Store:
    """The build, step by step: what can be reused, the database started from it, every other source
    read into it, degrees / counts / indexes, build.json; then the swap. A failure removes the
    temporary directory and leaves the current build as it was."""
    reuse = _reusable(job)
    removed = incremental.Snapshot()
    try:
        job.tmp.mkdir(parents=True)
        database = _start(job, reuse, removed)
        sources, written = _load_sources(job, database, reuse)
        _notes_after_load(job, database, sources)
        _check(job.path, job.results, keep_going=True, strict=job.strict)
        counts = _summarise(job, database, reuse, removed, written)
        info = _info(job, database, reuse, sources, counts)
        del database
        (job.tmp / "build.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        builds.swap(job.path, job.build_id)
    except BaseException:
        if job.void is not None:  # let the counting thread stop reading before its files go
            job.void.cancel()
            _wait_quietly(job.void)
        shutil.rmtree(job.tmp, ignore_errors=True)
        raise
    builds.prune(job.path)
    return open_store(job.path)


def _notes_after_load(job: _Job, database: ox.Store, sources: list[dict[str, Any]]) -> None:
    """Notes on a target this build does not have: reported, kept (``kgraph.notes``)."""
    for entry in sources:
        result = next(r for r in job.results if r.id == entry["id"])
        if result.spec.kind == "notes":
            from kgraph.notes import after_load

            after_load(database, result, entry)


def _reusable(job: _Job) -> _Reuse:
    """The sources of the current build read from the same file, release, licence, scope and reader code."""
    old_store, old_info = _previous(job.path) if job.reuse else (None, {})
    old_sources = {(s.get("kind"), s.get("file"), s.get("sha256"), s.get("fingerprint"), s.get("release"),
                    s.get("licence"), s.get("scope", "complete")): s for s in old_info.get("sources", [])}
    found = {r.id: old_sources.get((r.spec.kind, r.spec.display, r.sha256, job.fingerprint, r.spec.release,
                                    r.spec.licence, r.spec.scope)) for r in job.results}
    kinds = {r.id: r.spec.kind for r in job.results}
    reused = {sid: prev for sid, prev in found.items() if prev and prev.get("id") == sid
              and old_store is not None and kinds[sid] not in SMALL_KINDS}
    old_build = job.path.resolve() if old_store is not None else None
    fast = bool(reused) and incremental.eligible(old_store, old_info, old_build, job.results, set(reused), SMALL_KINDS)
    return _Reuse(old_store, old_info, old_build, reused, fast)


def _start(job: _Job, reuse: _Reuse, removed: incremental.Snapshot) -> ox.Store:
    """The new database: a checkpoint of the current build (hard links: instant) keeping only the graphs
    of unchanged sources, or an empty one; then the ontology and the named queries."""
    location = str(job.tmp / "oxigraph")
    if reuse.sources and reuse.old_store is not None:
        reuse.old_store.backup(location)
        database = ox.Store(location)
        keep = {ns.iri(f"GRAPH:{sid}") for sid in reuse.sources}
        if reuse.fast:
            keep.add(incremental.DEGREES.value)
        for graph in list(database.named_graphs()):
            if graph.value not in keep:
                if reuse.fast:
                    removed.add(database, graph)
                database.remove_graph(graph)
    else:
        database = ox.Store(location)
    ontology = ns.ONTOLOGY_DIR / "kgraph.ttl"
    if ontology.exists():
        database.bulk_load(path=str(ontology), format=ox.RdfFormat.TURTLE, to_graph=ns.term("GRAPH:ontology"))
    load_lines(database, description.query_lines())  # the named queries, as SHACL, for SPARQL editors
    return database


def _load_sources(job: _Job, database: ox.Store, reuse: _Reuse) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every source's graph (read, or kept from the current build) and its build.json entry, in the
    manifest's order; also the graphs written (for an incremental update)."""
    sources: list[dict[str, Any]] = []
    written = [ns.term("GRAPH:ontology"), ns.term("GRAPH:queries")]
    expander = None
    # code sets first: briefing ranges (K20-K22) expand against them; the list keeps the manifest's order
    order = {r.id: i for i, r in enumerate(job.results)}
    for result in sorted(job.results, key=lambda r: (r.spec.kind in SMALL_KINDS, order[r.id])):
        spec = result.spec
        meta = {"file": spec.display, "sha256": result.sha256, "kind": spec.kind, "licence": spec.licence,
                "release": spec.release, "scope": spec.scope, "built_at": job.built_at}
        previous = reuse.sources.get(result.id)
        if previous:
            result.records, result.reused = previous.get("records", 0), True
            result.reused_texts = list(previous.get("problem_texts", []))
            meta["built_at"] = previous.get("built_at", job.built_at)
            job.report.line(f"reused {spec.display} (unchanged, sha256 {result.sha256[:12]})")
        elif result.refused:
            continue
        else:
            writer = QuadWriter(result.id)
            if not _load(job, database, result, writer):
                continue
            if writer.ranges:
                expander = expander or Expander(database)
                load_lines(database, _range_lines(writer, expander, result))
            load_lines(database, writer.source_lines(meta))
            written.append(writer.graph)
            job.report.line(f"read {spec.display}: {result.records:,} records, {len(result.problems)} problems")
        sources.append({**meta, "id": result.id, "records": result.records, "problems": len(result.problem_texts()),
                        "fingerprint": job.fingerprint, "reused": result.reused,
                        "problem_texts": result.problem_texts(), **({"reading": result.reading}
                                                                     if result.reading else {})})
    sources.sort(key=lambda entry: order[str(entry["id"])])
    return sources, written


def _load(job: _Job, database: ox.Store, result: SourceResult, writer: QuadWriter) -> bool:
    """One source's records into its graph; False when its reader refused the file (the graph is dropped,
    and the build stops unless ``keep_going``)."""
    try:
        if result.id in job.early:
            result.records = len(job.early[result.id])
            load_lines(database, writer.lines(job.early[result.id]))
        else:
            # the bar advances by the bytes the reader reads (kgraph.sources._io counts them)
            with (job.report.task(f"reading {result.spec.display}", total_bytes([result.spec.path])) as advance,
                  counting(advance)):
                load_lines(database, writer.lines(_stream(_records(result.spec, job.registry), result)))
    except _Refused:
        database.clear_graph(writer.graph)
        _check(job.path, job.results, job.keep_going, job.strict)
        return False
    return True


def _summarise(job: _Job, database: ox.Store, reuse: _Reuse, removed: incremental.Snapshot,
               written: list[Any]) -> dict[str, Any]:
    """Degrees, counts and claim-check indexes: updated when only payers and briefings changed, else made."""
    if reuse.fast:
        assert reuse.old_store is not None and reuse.old_build is not None
        return incremental.update(database, reuse.old_store, reuse.old_info, reuse.old_build, removed, written,
                                  job.tmp, job.build_id, job.report.line)
    # Compact before counting degrees: the degree and count queries run about 10x faster on
    # the compacted store than on the freshly bulk-loaded files (measured on the full build).
    job.report.step("compacting the store ...")
    database.remove_graph(ns.term("GRAPH:degrees"))
    database.flush()
    database.optimize()
    job.report.step("counting degrees ...")
    table: dict[str, dict[str, tuple[int, int]]] = {}
    load_lines(database, degree_lines(database, table))
    incremental.save_table(job.tmp, table)
    job.void = _void_later(database, reuse)  # every graph is written: count them beside the indexes
    counts = count(database)
    job.report.step("writing the claim-check indexes ...")
    write_indexes(database, job.tmp, build=job.build_id, progress=job.report.line)  # of this build only
    return counts


def _info(job: _Job, database: ox.Store, reuse: _Reuse, sources: list[dict[str, Any]],
          counts: dict[str, Any]) -> dict[str, Any]:
    """The build's build.json: sources, problems, counts, VoID statistics."""
    # VoID per graph, for the Service Description of kgraph serve; graphs of reused code sets keep theirs
    void = (job.void or _void_later(database, reuse)).result()
    return {
        "id": job.build_id,
        "built_at": job.built_at,
        "sources": sources,
        "refused": [r.spec.display for r in job.results if r.refused],
        "problems": [text for r in job.results for text in r.problem_texts()],
        "counts": counts,
        # True: only payers and briefings changed; degrees, counts and indexes were updated (kgraph.incremental)
        "incremental": reuse.fast,
        "void": void,
        "seconds": round(time.perf_counter() - job.started, 3),
    }


def _void_later(database: ox.Store, reuse: _Reuse) -> Future[dict[str, dict[str, Any]]]:
    """The VoID statistics of every graph (graphs of reused code sets keep theirs), counted in a
    thread: pyoxigraph evaluates the aggregate queries without the GIL, so on a second core they
    run while the claim-check indexes are written (full build: 15 s of its wall time)."""
    unchanged = {ns.iri(f"GRAPH:{sid}") for sid in reuse.sources}
    known = {g: v for g, v in reuse.old_info.get("void", {}).items() if g in unchanged}
    pool = ThreadPoolExecutor(1, thread_name_prefix="kgraph-void")
    try:
        return pool.submit(description.void_statistics, database, known)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


def _wait_quietly(future: Future[Any]) -> None:
    """Wait for ``future`` to end, whatever it ends with (a build that failed is unwinding)."""
    with contextlib.suppress(BaseException):  # cancelled, or interrupted again: nothing left to wait for
        future.exception()


def _range_lines(writer: QuadWriter, expander: Expander, result: SourceResult) -> Iterator[str]:
    """A briefing's ranges expanded against the code sets already written; a problem for each that is empty."""
    for rng in writer.ranges:
        found = expander.expand(rng)
        if found.problem:
            result.problems.append(Problem(rng.origin, found.problem, severity=found.severity,  # type: ignore[arg-type]
                                           action="kept"))
        yield from writer.range_lines(rng, found.members, found.against)


#: how many of a relation's best-connected nodes its ``kg:topDegree`` lists
TOP_DEGREES = 1000


def degree_lines(database: ox.Store, table: dict[str, dict[str, tuple[int, int]]] | None = None) -> Iterator[str]:
    """N-Quads of a ``kg:Degree`` node per (node, relation): distinct out- and in-neighbours.

    Precomputed so that ``hubs_by_degree`` reads counts instead of aggregating 1.7M NCCI edges.
    ``table`` (relation IRI -> node IRI -> (out, in)) is filled with the same counts, for the next
    rebuild to update (``kgraph.incremental``).
    """
    graph = f"<{ns.iri('GRAPH:degrees')}>"
    integer = f"<{ns.XSD}integer>"
    for relation in [f"kg:{r}" for r in ns.RELATIONS] + ["skos:broader"]:
        rel = ns.iri(relation)
        counts: dict[str, list[int]] = {}
        for position, q in enumerate(("out_degrees", "in_degrees")):
            for row in solutions(database, q, rel=rel):
                node = row["n"]
                if isinstance(node, ox.NamedNode):
                    counts.setdefault(node.value, [0, 0])[position] = int(row["k"].value)
        local = relation.replace(":", "-")
        if table is not None:
            table[rel] = {node: (out, into) for node, (out, into) in counts.items()}
        ranked = sorted(counts.items(), key=lambda item: (-sum(item[1]), ns.curie(item[0])))
        for rank, (node, (out, into)) in enumerate(ranked, 1):
            d = f"<{ns.PREFIXES['ROW']}degrees/{local}/{ns.slug(ns.curie(node))}>"
            yield f"{d} <{ns.RDF}type> <{ns.KG}Degree> {graph} .\n"
            yield f"{d} <{ns.KG}degreeOf> <{rel}> {graph} .\n"
            yield f"{d} <{ns.KG}node> <{node}> {graph} .\n"
            yield f'{d} <{ns.KG}outDegree> "{out}"^^{integer} {graph} .\n'
            yield f'{d} <{ns.KG}inDegree> "{into}"^^{integer} {graph} .\n'
            yield f'{d} <{ns.KG}rank> "{rank}"^^{integer} {graph} .\n'
            if rank <= TOP_DEGREES:
                # read by hubs_by_degree from the relation: sorting 15,537 NCCI nodes took 570 ms
                yield f"<{rel}> <{ns.KG}topDegree> {d} {graph} .\n"


def count(database: ox.Store) -> dict[str, Any]:
    """Counts by node kind and by relation (CURIEs), precomputed at build time for ``stats``."""
    kinds = {kind: 0 for kind in NODE_KINDS}
    class_kind = {cls: kind for kind, cls in ns.KIND_CLASSES.items()}
    others: dict[str, int] = {}
    for row in solutions(database, "class_counts"):
        cls, k = row["c"].value, int(row["k"].value)
        if cls in class_kind:
            kinds[class_kind[cls]] = k
        else:
            others[ns.curie(cls)] = k
    relations = {f"kg:{r}": 0 for r in ns.RELATIONS}
    relations["skos:broader"] = 0
    for row in solutions(database, "relation_counts", p=list(relations)):
        relations[ns.curie(row["p"].value)] = int(row["k"].value)
    return {
        "nodes": kinds,
        "relations": relations,
        "assertions": others.get("kg:Assertion", 0),
        "sources": others.get("kg:Source", 0),
        "quads": len(database),
    }
