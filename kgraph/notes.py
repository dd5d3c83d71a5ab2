"""Review notes that come back: import a page's notes as a source, check their targets, show them again.

A reviewer writes notes in an HTML export (``kgraph/templates/notes.js``) and downloads them as JSON or
CSV; ``import_notes`` copies that file into the ``notes/`` folder beside the manifest, adds a
``kind = "notes"`` source for that folder to the manifest when it has none, and (unless told not to)
runs the build, which reads every notes file into the named graph ``GRAPH:notes``
(``https://w3id.org/kgraph/graph/notes``; reader: ``kgraph.sources.notes``). The store a server reads is
never written in place: the build writes a new one and swaps it in; notes are a small source
(``build.SMALL_KINDS``), so the rebuild reuses the code sets and updates degrees, counts and indexes
(``kgraph.incremental``).

``check_targets`` (run by the build) finds notes whose ``kg:noteOn`` is not in any other graph of the new
build: they are kept and reported (a build warning, the build's reading line, ``kgraph validate``).
``for_export`` gives an export its id, the target IRI of each edge and the stored notes of its nodes and
edges. ``export_id`` is a hash of the build id, focus, depth, relations and as-of date: the same view of the
same build gets the same id (its browser notes come back when it is exported again), another build or view
another. Raises ``NotesError`` for a notes file that cannot be imported. Does not write any store itself.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from kgraph import namespaces as ns
from kgraph.errors import CurieError, KGraphError
from kgraph.internal_queries import solutions
from kgraph.records import Problem
from kgraph.sources import notes as reader

GRAPH = ns.iri("GRAPH:notes")
FOLDER = "notes"


class NotesError(KGraphError):
    """A notes file that cannot be imported (not found, not JSON/CSV, bad notes)."""


def export_id(build_id: str, focus: Any, depth: Any, relations: Iterable[str] | None, as_of: Any) -> str:
    """A 16-hex-digit id for an export: the same for the same build and view.

    >>> export_id("b1", "CPT:74360", 1, None, None) == export_id("b1", "CPT:74360", 1, [], None)
    True
    >>> export_id("b1", "CPT:74360", 1, None, None) == export_id("b2", "CPT:74360", 1, None, None)
    False
    """
    key = "\n".join(["kgraph-export-1", str(build_id or ""), str(focus or ""), str(depth if depth is not None else ""),
                     ",".join(sorted(relations or [])), str(as_of or "")])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- import

def import_notes(file: str | Path, manifest: str | Path, *, build: bool = True, store: str | Path | None = None,
                 progress: Callable[[str], None] | None = None) -> tuple[Path, Any]:
    """Copy a notes file beside the manifest (``notes/``), name that folder in the manifest, then build.

    Returns (the file as placed, the new ``Store`` or None when ``build`` is False). Raises ``NotesError``
    when the file is missing, refused by the reader or holds a bad note (each with file and line):
    nothing is copied then. The same file imported twice is placed once.
    """
    say = progress or (lambda _m: None)
    source, manifest = Path(file), Path(manifest)
    if not source.is_file():
        raise NotesError(f"{source}: notes file not found")
    if source.suffix.lower() not in reader.EXTENSIONS:
        raise NotesError(f"{source}: a notes file ends in {' or '.join(reader.EXTENSIONS)} (the page's downloads)")
    if not manifest.is_file():
        raise NotesError(f"{manifest}: manifest not found")
    records = list(reader.read(source, display=str(source)))
    bad = [r for r in records if isinstance(r, Problem) and (r.fatal or r.severity == "error")]
    if bad:
        raise NotesError("notes not imported, nothing was copied:\n" + "\n".join(str(p) for p in bad))
    for warning in (r for r in records if isinstance(r, Problem)):
        say(f"warning: {warning}")
    count = sum(not isinstance(r, Problem) for r in records)
    if not count:
        raise NotesError(f"{source}: holds no note; nothing was copied")
    folder = manifest.parent / FOLDER
    folder.mkdir(exist_ok=True)
    placed = _place(source, folder)
    say(f"{count} notes in {placed}")
    if _add_source(manifest):
        say(f"{manifest}: added a notes source (kind = \"notes\", path = \"{FOLDER}\")")
    if not build:
        return placed, None
    from kgraph.build import build as run_build

    return placed, run_build(manifest, store=store, progress=say)


def _place(source: Path, folder: Path) -> Path:
    data = source.read_bytes()
    target, n = folder / source.name, 1
    while target.exists():
        if target.read_bytes() == data:
            return target
        n += 1
        target = folder / f"{source.stem}-{n}{source.suffix}"
    tmp = folder / f".{target.name}.tmp"
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return target


def _add_source(manifest: Path) -> bool:
    """Append a notes source to the manifest unless one names the notes folder already."""
    from kgraph.build import read_manifest

    folder = (manifest.parent / FOLDER).resolve()
    if any(s.kind == "notes" and Path(s.path).resolve() == folder for s in read_manifest(manifest)):
        return False
    text = manifest.read_text(encoding="utf-8")
    block = ("\n# Review notes written in HTML exports, added by `kgraph notes import` (README: Review notes)\n"
             f'[[source]]\nkind = "notes"\npath = "{FOLDER}"\n'
             'licence = "review notes: the authors\' own text, kept verbatim as data"\n')
    tmp = manifest.with_name(f".{manifest.name}.tmp")
    tmp.write_text(text + ("" if text.endswith("\n") else "\n") + block, encoding="utf-8")
    tmp.replace(manifest)
    return True


# ---------------------------------------------------------------- the build's check

def check_targets(database: Any) -> list[dict[str, str]]:
    """Notes of ``GRAPH:notes`` whose target is in no other graph of ``database`` (a pyoxigraph Store)."""
    return [{"note": ns.curie(r["n"].value), "target": ns.curie(r["t"].value), "file": r["file"].value,
             "line": r["line"].value} for r in solutions(database, "notes_without_target")]


def after_load(database: Any, result: Any, entry: dict[str, Any]) -> None:
    """Report the notes of a notes source whose target this build does not have (kept, never dropped), and
    write the source's reading line; updates ``result.problems`` and the build.json ``entry``."""
    from kgraph.errors import Origin

    display = result.spec.display
    gone = check_targets(database)
    for m in gone:
        origin = Origin(f"{display.rstrip('/')}/{m['file']}" if Path(result.spec.path).is_dir() else display,
                        int(m["line"]))
        result.problems.append(Problem(origin, f"note {m['note']} is on {m['target']}, which this build does not "
                                       "have; the note is kept", severity="warning", action="kept",
                                       curie=m["target"]))
    by = {r["d"].value: int(r["c"].value) for r in solutions(database, "note_decisions")}
    total, still = sum(by.values()), sum(by.get(d, 0) for d in reader.OPEN)
    line = (f"{display}: {total} note{'s' * (total != 1)} read ({still} open: question or action)"
            f"{f'; {len(gone)} on a target not in this build (kept, see the warnings)' if gone else ''}")
    entry.update(problems=len(result.problems), problem_texts=[str(p) for p in result.problems],
                 reading={"format": "notes", "notes": total, "open": still, "missing_targets": len(gone),
                          "line": line})


# ---------------------------------------------------------------- reading them back

def stored(store: Any, targets: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The notes in a store (all, or those on ``targets``: CURIEs), oldest first, as the page shows them."""
    wanted = None
    if targets is not None:
        wanted = sorted(set(targets))
        if not wanted:
            return []
    out = []
    for r in solutions(store, "stored_notes", t=wanted):
        out.append({"note_id": ns.curie(r["n"].value), "target": r["t"].value, "target_curie": ns.curie(r["t"].value),
                    "decision": r["d"].value, "time": r["time"].value, "text": r["x"].value if r["x"] else "",
                    "author": r["a"].value if r["a"] else "", "target_label": r["label"].value if r["label"] else "",
                    "kind": r["kind"].value, "export_id": r["e"].value, "file": r["file"].value,
                    "line": int(r["line"].value)})
    return out


def missing(store: Any) -> set[str]:
    """The CURIEs of the stored notes whose target the store has in no other graph."""
    return {m["note"] for m in check_targets(store.ox)}


def edge_targets(store: Any, G: nx.MultiDiGraph) -> None:
    """Set ``target`` (a CURIE) on each edge of ``G`` that has a statement of its own: the first ``kg:Assertion``
    of a briefing edge, else the first code-set row of an NCCI / add-on edge (``traverse.ROW_FIELDS``)."""
    from kgraph.traverse import note_targets

    assertions, rows = note_targets(store, G)
    for s, o, k, attrs in G.edges(keys=True, data=True):
        target = assertions.get((s, k, o)) or rows.get((s, k, o))
        if target:
            attrs["target"] = target


def _is_curie(value: str) -> bool:
    try:
        ns.iri(value)
    except CurieError:
        return False
    return True


def for_export(store: Any, G: nx.MultiDiGraph) -> dict[str, Any]:
    """What an export of ``G`` needs for its notes: its id, each edge's target (set on ``G``) and the stored
    notes on its nodes and edges."""
    edge_targets(store, G)
    g = G.graph
    targets = {t for t in ({str(n) for n in G} | {a["target"] for _, _, a in G.edges(data=True) if a.get("target")})
               if _is_curie(t)}
    return {"export_id": export_id(store.info.get("id", ""), g.get("focus"), g.get("depth"), g.get("relations"),
                                   g.get("as_of")),
            "notes": stored(store, targets) if store.ox.contains_named_graph(ns.term("GRAPH:notes")) else []}
