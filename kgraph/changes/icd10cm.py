"""ICD-10-CM changes between two fiscal years: codes added, deleted, retitled, turned header or
billable.

Input: an open store (its claim-check indexes: the fiscal years each code is listed and billable
in, from the CMS order files; its ``kg:TitleChange`` rows) and the two fiscal years. Output:
``Change`` rows whose evidence is the order-file line of the code in each year
(``<folder>/cms_2022_dx.zip!.../icd10cm_order_2022.txt:13546``), read from the source folder when
it is still there with the sha256 the build recorded (else the member without a line, and a note).
What a code is in a fiscal year (billable, header, not listed) is ``kgraph.rules.icd.code_status``.
Does not compare mid-year (April) releases.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from kgraph.changes.model import Change, Changes, begin, in_selection
from kgraph.indexes import load_indexes
from kgraph.internal_queries import solutions
from kgraph.rules import icd
from kgraph.rules.releases import Release

ORDER_RE = re.compile(r"(?:^|/)icd10cm_order_(\d{4})\.txt$", re.IGNORECASE)


def fiscal_releases(store: Any) -> tuple[list[Release], Release | None]:
    """One ``Release`` per loaded fiscal year (all complete, in force from October 1), and the source."""
    ix = load_indexes(store)
    source = next(iter(ix.source("icd10cm")), None)
    if source is None:
        return [], None
    return [Release(f"{source.id}#FY{fy}", "icd10cm", source.file, f"FY{fy}", icd.fy_start(fy), source.layout)
            for fy in ix.icd_fys], source


def _recorded_sha(store: Any, source: Release) -> str:
    for s in store.info.get("sources", []):
        if s.get("file") == source.file and s.get("kind") == "icd10cm":
            return str(s.get("sha256", ""))
    return ""


def order_lines(folder: Path, fy: int, codes: set[str]) -> tuple[str, dict[str, int]]:
    """The order file of ``fy`` in ``folder`` (``zip!member``) and the 1-based line of each code
    (CURIEs) it lists; ("", {}) when no zip of that year is there."""
    wanted = {c.partition(":")[2].replace(".", ""): c for c in codes}
    for path in sorted(folder.glob("cms_*_dx.zip")):
        try:
            with zipfile.ZipFile(path) as z:
                member = next((n for n in z.namelist() if (m := ORDER_RE.search(n)) and int(m[1]) == fy), None)
                if member is None:
                    continue
                found: dict[str, int] = {}
                with z.open(member) as handle:
                    for n, raw in enumerate(handle, 1):
                        code = raw[6:13].decode("latin-1").strip()
                        if code in wanted:
                            found[wanted[code]] = n
                return f"{path.name}!{member}", found
        except (OSError, zipfile.BadZipFile):
            continue
    return "", {}


def compare(store: Any, out: Changes, since: str, until: str | None, codes: frozenset[str] | None) -> None:
    """Add the ICD-10-CM changes between the fiscal years in force on ``since`` and ``until``."""
    from kgraph.build import sha256_of

    loaded, source = fiscal_releases(store)
    found = begin(out, "icd10cm", loaded, since, until)
    if found is None:
        return
    assert source is not None and found.before.decides and found.after.decides
    a, b = found.before.decides, found.after.decides
    fy_a, fy_b = int(a.release[2:]), int(b.release[2:])
    ix = load_indexes(store)
    titles = _titles(store, fy_a, fy_b)
    rows: list[Change] = []
    for code, (present, billable) in ix.icd_years.items():
        if codes is not None and code not in codes:
            continue
        was, now = icd.code_status(present, billable, fy_a), icd.code_status(present, billable, fy_b)
        what = _what(was, now)
        if what:
            rows.append(Change("icd10cm", what, code, a.release, b.release, field="status", before=was, after=now))
        if code in titles and was in ("billable", "header") and now in ("billable", "header"):
            rows.append(Change("icd10cm", "retitled", code, a.release, b.release, field="title",
                               before=titles[code][0], after=titles[code][1]))
    rows = [r for r in rows if in_selection(r, codes)]
    folder = Path(source.file)
    if folder.is_dir() and _recorded_sha(store, source) in ("", sha256_of(folder)):
        wanted = {r.code for r in rows}
        for fy in (fy_a, fy_b):
            member, lines = order_lines(folder, fy, wanted)
            for r in rows:
                if r.code in lines:
                    r.evidence.append(f"{source.file}/{member}:{lines[r.code]}")
    elif rows:
        out.notes.append(f"ICD-10-CM: {source.file} is not there as built; evidence names the fiscal year, "
                         "not the line")
        for r in rows:
            r.evidence.append(f"{source.file} (FY{fy_a}, FY{fy_b})")
    out.rows += sorted(rows, key=lambda r: (r.change, r.code))


def _what(was: str, now: str) -> str:
    listed = ("billable", "header")
    if was not in listed and now in listed:
        return "added"
    if was in listed and now not in listed:
        return "deleted"
    if was == "billable" and now == "header":
        return "became a header"
    if was == "header" and now == "billable":
        return "became billable"
    return ""


def _titles(store: Any, fy_a: int, fy_b: int) -> dict[str, tuple[str, str]]:
    """code -> (title in fy_a, title in fy_b) for codes retitled in a year after fy_a up to fy_b."""
    found: dict[str, tuple[str, str]] = {}
    for row in solutions(store, "icd10cm_title_changes", after=fy_a, until=fy_b):
        code = _curie(row["code"].value)
        first = found.get(code, (row["previous"].value, ""))[0]
        found[code] = (first, row["title"].value)
    return {c: t for c, t in found.items() if t[0] != t[1]}


def _curie(iri: str) -> str:
    from kgraph.namespaces import curie

    return curie(iri)


