"""Review-notes reader: the JSON or CSV a reviewer downloaded from an HTML export -> ``kg:ReviewNote`` resources.

Input: a file (``.json`` or ``.csv``) or a folder of them (the ``notes/`` folder beside a manifest that
``kgraph notes import`` fills; read in name order, hidden files and other extensions left out). Every note
has the columns of the page's CSV download (``COLUMNS``): ``export_id, note_id, target`` (the full IRI of a
code, or of the ``kg:Assertion`` / code-set row of an edge), ``target_label``, ``kind`` (node|edge),
``decision`` (agree|disagree|question|action), ``author``, ``time`` (ISO-8601) and ``text``. The JSON is the
page's download: ``{"format": "kgraph-notes", "export_id": ..., "notes": [{...}, ...]}`` (a bare list of notes
is read too).

Output: one ``Resource`` per note, ``ROW:notes/<export id>/<note id>`` typed ``kg:ReviewNote`` with
``kg:noteOn`` (the target, kept even when the build has no such node: ``kgraph.notes`` reports it),
``kg:decision``, ``kg:noteText``, ``kg:author``, ``kg:noteTime`` (xsd:dateTime), ``kg:exportId``,
``kg:targetLabel``, ``kg:noteKind``, ``kg:noteFile`` and the evidence ``kg:source`` / ``kg:line``.
A bad note (no id, an unknown decision, a target that is not a kgraph IRI, a time that is not ISO-8601)
is a ``Problem`` with its file and line and is not stored; a file that is not JSON / CSV or has no
``notes`` is refused. The same note read twice (an export downloaded again after more notes were
written) is stored once: the newer ``time`` is kept, and a warning names the other line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kgraph import namespaces as ns
from kgraph.errors import CurieError, Origin
from kgraph.records import Problem, Record, Ref, Resource
from kgraph.sources._io import CsvRows, read_text

COLUMNS = ("export_id", "note_id", "target", "target_label", "kind", "decision", "author", "time", "text")
REQUIRED = ("note_id", "target", "decision")
DECISIONS = ("agree", "disagree", "question", "action")
#: decisions that leave something to do: ``kgraph validate`` lists them as open
OPEN = ("question", "action")
EXTENSIONS = (".json", ".csv")
#: CURIE prefixes of an edge's target (a briefing's assertion, a code-set row)
EDGE_PREFIXES = ("ASSERTION", "ROW")
#: CURIE prefixes a note's target may have: a code, a payer, a gap, or an edge's
TARGET_PREFIXES = (*ns.CODE_KINDS, "PAYER", "GAP", *EDGE_PREFIXES)

TERMS: dict[str, tuple[str, str]] = {
    "ReviewNote": ("class", "A review meeting's note on a node or an edge of an HTML export, written in the "
                   "page and imported with kgraph notes import."),
    "noteOn": ("object", "What a review note is about: a code IRI (a node) or the kg:Assertion or code-set "
               "row IRI of an edge. Kept when a later build no longer has it (then reported)."),
    "decision": ("data:string", "A review note's decision: agree, disagree, question or action."),
    "noteText": ("data:string", "A review note's comment, as the reviewer wrote it."),
    "author": ("data:string", "Who wrote a review note, as typed in the page."),
    "noteTime": ("data:dateTime", "When a review note was last saved in the page (ISO-8601, UTC)."),
    "exportId": ("data:string", "The id of the HTML export a review note was written in (a hash of the "
                 "build id, focus, depth, relations and as-of date of that export)."),
    "targetLabel": ("data:string", "The label the export showed for a review note's target."),
    "noteKind": ("data:string", "Whether a review note is on a node or an edge."),
    "noteFile": ("data:string", "The notes file (in the notes folder) a review note was read from."),
}


def read(path: str | Path, *, display: str | None = None, **_: Any) -> Iterator[Record]:
    """The notes of a file or of every notes file of a folder; problems as ``Problem`` records."""
    base = Path(path)
    shown = display or str(path)
    if base.is_dir():
        files = sorted(p for p in base.iterdir() if p.is_file() and not p.name.startswith(".")
                       and p.suffix.lower() in EXTENSIONS)
        pairs = [(f, f"{shown.rstrip('/')}/{f.name}") for f in files]
    else:
        pairs = [(base, shown)]
    seen: dict[tuple[str, str], tuple[datetime, Origin, Resource]] = {}
    for file, where in pairs:
        for item in _file(file, where):
            if isinstance(item, Problem):
                yield item
                continue
            origin, note, when = item
            key = (note["export_id"], note["note_id"])
            resource = _resource(note, when, origin, file.name)
            if key in seen:
                before, at = seen[key][:2]
                newer = when > before
                yield Problem(origin, f"note {note['note_id']!r} of export {note['export_id']!r} was read "
                              f"already at {at}; kept the {'one here' if newer else 'one there'} (newer time)",
                              severity="warning", action="kept")
                if not newer:
                    continue
            seen[key] = (when, origin, resource)
    for _when, _origin, resource in seen.values():
        yield resource


def _file(path: Path, shown: str) -> Iterator[Problem | tuple[Origin, dict[str, str], datetime]]:
    text, problem = read_text(path, shown)
    if problem:
        yield problem
        return
    rows = _json_rows(text, shown) if path.suffix.lower() == ".json" else _csv_rows(text, shown)
    for origin, cells in rows:
        if isinstance(cells, Problem):
            yield cells
            continue
        yield _check(origin, cells)


def _check(origin: Origin, cells: dict[str, str]) -> Problem | tuple[Origin, dict[str, str], datetime]:
    note = {c: str(cells.get(c) if cells.get(c) is not None else "").strip() for c in COLUMNS}
    note["text"] = str(cells.get("text") or "")  # the comment as written, spaces and line breaks kept
    missing = [c for c in (*REQUIRED, "export_id") if not note[c]]
    if missing:
        return Problem(origin, f"note has no {', '.join(missing)}")
    if note["decision"].lower() not in DECISIONS:
        return Problem(origin, f"decision {note['decision']!r} is not one of {', '.join(DECISIONS)}")
    note["decision"] = note["decision"].lower()
    try:
        target = ns.curie(note["target"]) if "://" in note["target"] else note["target"]
        ns.iri(target)
    except CurieError:
        target = ""
    if not target or target.partition(":")[0] not in TARGET_PREFIXES:
        return Problem(origin, f"target {note['target']!r} is not the IRI of a kgraph node or assertion")
    note["target"] = target
    kind = note["kind"].lower() or ("edge" if target.partition(":")[0] in EDGE_PREFIXES else "node")
    if kind not in ("node", "edge"):
        return Problem(origin, f"kind {note['kind']!r} is not node or edge")
    note["kind"] = kind
    try:
        when = datetime.fromisoformat(note["time"].replace("Z", "+00:00")) if note["time"] else None
    except ValueError:
        return Problem(origin, f"time {note['time']!r} is not an ISO-8601 date and time (2026-12-06T19:30:00Z)")
    if when is None:
        return Problem(origin, "note has no time")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return origin, note, when.astimezone(UTC)


def _resource(note: dict[str, str], when: datetime, origin: Origin, file: str) -> Resource:
    curie = f"ROW:notes/{ns.slug(note['export_id'])}/{ns.slug(note['note_id'])}"
    fields: list[tuple[str, Any]] = [
        ("noteOn", Ref(note["target"])), ("decision", note["decision"]), ("noteTime", when),
        ("exportId", note["export_id"]), ("noteKind", note["kind"]), ("noteFile", file)]
    fields += [(name, note[col]) for name, col in (("noteText", "text"), ("author", "author"),
                                                   ("targetLabel", "target_label")) if note[col]]
    return Resource(curie, "ReviewNote", origin, tuple(fields))


def _csv_rows(text: str, shown: str) -> Iterator[tuple[Origin, dict[str, str] | Problem]]:
    reader = CsvRows(csv.reader(io.StringIO(text, newline="")), shown)
    header: list[str] | None = None
    end = 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if header is None:
            header = [c.strip().lower().lstrip("\ufeff") for c in cells]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                yield Origin(shown, 1), Problem(Origin(shown, 1), f"notes file has no column {', '.join(missing)} "
                                                f"(header: {', '.join(cells)}); expected {', '.join(COLUMNS)}",
                                                action="file refused")
                return
            continue
        if not any(c.strip() for c in cells):
            continue
        origin = Origin(shown, start)
        if len(cells) > len(header):
            yield origin, Problem(origin, f"{len(cells)} cells, more than the {len(header)} columns of the header")
            continue
        yield origin, dict(zip(header, cells, strict=False))
    if reader.problem:
        yield Origin(shown, end), reader.problem
    elif header is None:
        yield Origin(shown, 1), Problem(Origin(shown, 1), "empty notes file", action="file refused")


def _json_rows(text: str, shown: str) -> Iterator[tuple[Origin, dict[str, str] | Problem]]:
    """Each note of the JSON with the line its object starts on."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Origin(shown, exc.lineno), Problem(Origin(shown, exc.lineno), f"not valid JSON: {exc.msg} "
                                                 f"(column {exc.colno})", action="file refused")
        return
    notes = data.get("notes") if isinstance(data, dict) else data
    if not isinstance(notes, list):
        yield Origin(shown, 1), Problem(Origin(shown, 1), 'not a notes file: expected {"notes": [...]} or a list '
                                        "of notes", action="file refused")
        return
    file_export = str(data.get("export_id") or "") if isinstance(data, dict) else ""
    for note, line in zip(notes, _item_lines(text, isinstance(data, dict)), strict=False):
        origin = Origin(shown, line)
        if not isinstance(note, dict):
            yield origin, Problem(origin, f"a note must be an object, not {type(note).__name__}")
            continue
        cells = {k: "" if v is None else str(v) for k, v in note.items()}
        cells.setdefault("export_id", file_export)
        if not cells["export_id"]:
            cells["export_id"] = file_export
        yield origin, cells


def _item_lines(text: str, wrapped: bool) -> Iterator[int]:
    """The line each item of the notes list starts on (the list is the document or its "notes" value)."""
    decoder = json.JSONDecoder()
    i = _skip(text, 0)
    if wrapped:  # walk the object's members to the (last, as json.loads keeps) "notes" value
        j, start = _skip(text, i + 1), i
        while text[j] != "}":
            key, j = decoder.raw_decode(text, j)
            j = _skip(text, _skip(text, j) + 1)  # past ':'
            if key == "notes":
                start = j
            _, j = decoder.raw_decode(text, j)
            j = _skip(text, j)
            if text[j] == ",":
                j = _skip(text, j + 1)
        i = start
    i = _skip(text, i + 1)  # past '['
    while i < len(text) and text[i] != "]":
        yield text.count("\n", 0, i) + 1
        _, i = decoder.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i
