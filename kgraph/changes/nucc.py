"""NUCC taxonomy changes between two versions: codes added, deleted, renamed, redefined, or
marked deactivated in their definition or notes text.

Input: an open store whose NUCC source is the all-versions archive (``kgraph.sources.nucc_archive``
writes one ``kg:NUCCVersionRow`` per code and version, the row IRI naming the member and line)
and the ``--since`` / ``--until`` values (``24.0``, ``25.1`` or dates). Every version is a
complete release (``kgraph.rules.releases``). Output: ``Change`` rows with the two rows behind
each (``<archive>!nucc_taxonomy_240.csv:812``); a note when the build holds one version only (the
default build: v25.1). Does not compare groupings or sections.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from kgraph.changes.model import Change, Changes, begin
from kgraph.internal_queries import solutions
from kgraph.namespaces import curie
from kgraph.rules.releases import Release, release_start

#: how NUCC writes that a code is no longer to be used ("Deactivated", "marked inactive", "retired")
DEACTIVATED = re.compile(r"\bdeactivat|\bmarked inactive|\binactivated\b|\bretired\b", re.IGNORECASE)
_LINE = re.compile(r"/L(\d+)(?:-\d+)?$")


def _rows(store: Any) -> dict[str, dict[str, dict[str, str]]]:
    """release -> code -> {title, definition, notes, where} from the store's NUCCVersionRow rows."""
    found: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for row in solutions(store, "nucc_version_rows"):
        get = {k: (row[k].value if row[k] is not None else "") for k in ("release", "title", "definition", "notes")}
        line = _LINE.search(row["r"].value)
        # the archive reader reads only the members named so (nucc.RELEASE_RE); the row IRI holds a slug of it
        get["where"] = f"nucc_taxonomy_{get['release'].replace('.', '')}.csv:{line[1] if line else '?'}"
        found[get["release"]][curie(row["code"].value)] = get
    return found


def versions(store: Any, rows: dict[str, Any]) -> list[Release]:
    """One complete ``Release`` per NUCC version the store holds rows of."""
    source: dict[str, Any] = next((s for s in store.info.get("sources", []) if s.get("kind") == "nucc"), {})
    file = str(source.get("file", ""))
    return [Release(f"nucc#{v}", "nucc", file, v, release_start("nucc", v), "NUCC taxonomy CSV") for v in rows]


def compare(store: Any, out: Changes, since: str, until: str | None, codes: frozenset[str] | None) -> None:
    """Add the NUCC codes added, deleted, renamed, redefined or marked deactivated between two versions."""
    rows = _rows(store)
    loaded = versions(store, rows)
    if not loaded:
        from kgraph.indexes import load_indexes

        single = load_indexes(store).source("nucc")
        out.notes.append(f"NUCC taxonomy: only one version loaded ({', '.join(s.release for s in single)}); nothing "
                         "to compare it with (data/full.toml reads every version from the archive)" if single else
                         "NUCC taxonomy: no release loaded; not compared")
        return
    found = begin(out, "nucc", loaded, since, until)
    if found is None:
        return
    assert found.before.decides and found.after.decides
    a, b = found.before.decides, found.after.decides
    old, new = rows[a.release], rows[b.release]
    file = a.file

    def where(*entries: dict[str, str]) -> list[str]:
        return [f"{file}!{e['where']}" for e in entries]

    for code in sorted(set(old) | set(new)):
        if codes is not None and code not in codes:
            continue
        x, y = old.get(code), new.get(code)
        if x is None and y is not None:
            out.rows.append(Change("nucc", "added", code, a.release, b.release, "", "title", "", y["title"], where(y)))
        elif y is None and x is not None:
            out.rows.append(Change("nucc", "deleted", code, a.release, b.release, "", "title", x["title"], "",
                                   where(x)))
        elif x is not None and y is not None:
            if x["title"] != y["title"]:
                out.rows.append(Change("nucc", "renamed", code, a.release, b.release, "", "title", x["title"],
                                       y["title"], where(x, y)))
            text_x, text_y = f"{x['definition']} {x['notes']}", f"{y['definition']} {y['notes']}"
            if DEACTIVATED.search(text_y) and not DEACTIVATED.search(text_x):
                said = "definition" if DEACTIVATED.search(y["definition"]) else "notes"
                out.rows.append(Change("nucc", "marked deactivated", code, a.release, b.release, "", said,
                                       x[said], y[said], where(x, y)))
            elif x["definition"] != y["definition"]:
                out.rows.append(Change("nucc", "redefined", code, a.release, b.release, "", "definition",
                                       x["definition"], y["definition"], where(x, y)))
