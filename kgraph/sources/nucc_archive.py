"""Every NUCC taxonomy version from one archive (``nucc_taxonomy_all_versions_v9.0-v25.1.tar.xz``).

Input: a tar archive (plain, ``.tar.xz``, ``.tar.gz`` / ``.tgz``) whose members are NUCC release
CSVs named ``nucc_taxonomy_NNN.csv`` (the release is the name's digits: ``240`` -> ``24.0``);
every member is read in place, never extracted, NUL padding and all (``nucc.read_data``).

Output: the newest version's records exactly as ``nucc.read`` gives them for that CSV alone (its
codes, hierarchy, notice, release, effective date), with origins ``<archive>!<member>``; for
every version, one ``Row("NUCCVersionRow")`` per code with ``release``, ``taxonomy``
(the code), ``officialTitle`` (Display Name, else ``Classification, Specialization``),
``definition`` and ``nuccNotes`` as that version prints them, origin the member and its
1-based physical line; Meta ``history`` (``9.0-25.1``). ``kgraph.changes.nucc`` compares them.

Problems, never raised: an unreadable or corrupt archive, or one without a release CSV, is
refused; a member without the NUCC columns is skipped, naming it; a row whose code does not fit
the NUCC pattern is skipped (the first data row of v9.0-v13.1 is the AMA notice, not a code).
Does not read other members (named in a warning) nor compare versions.
"""

from __future__ import annotations

import lzma
import tarfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Meta, Problem, Record, Ref, Row, Value
from kgraph.sources._io import numbered_rows

SUFFIXES = (".tar", ".tar.xz", ".txz", ".tar.gz", ".tgz")


def is_archive(path: str | Path) -> bool:
    """Whether ``path`` names a tar archive (by its name: a NUCC CSV is never one)."""
    return str(path).lower().endswith(SUFFIXES)


def _release_key(release: str) -> tuple[int, int]:
    major, _, minor = release.partition(".")
    return int(major), int(minor)


def read(path: Path, shown: str, read_data: Callable[..., Iterator[Record]]) -> Iterator[Record]:
    """The records of every version in the archive (module docstring); ``read_data`` is ``nucc.read_data``."""
    from kgraph.sources.nucc import release_of

    try:
        with tarfile.open(path) as tar:
            members = {}
            for member in tar.getmembers():
                release = release_of(member.name) if member.isfile() else None
                if release is None:
                    if member.isfile():
                        yield Problem(Origin(f"{shown}!{member.name}"),
                                      "not a NUCC release CSV (nucc_taxonomy_NNN.csv)", severity="warning",
                                      action="member not read")
                    continue
                members[release] = member
            versions = {rel: tar.extractfile(m).read() for rel, m in members.items()}  # type: ignore[union-attr]
    except (OSError, tarfile.TarError, lzma.LZMAError, zlib.error, EOFError) as exc:
        yield Problem(Origin(shown), f"cannot read the NUCC archive: {exc}", action="file refused")
        return
    if not versions:
        yield Problem(Origin(shown), "no NUCC release CSV (nucc_taxonomy_NNN.csv) in this archive",
                      action="file refused")
        return
    order = sorted(versions, key=_release_key)
    newest = order[-1]
    file_name = Path(members[newest].name).name
    yield from read_data(versions[newest], f"{shown}!{members[newest].name}", path.parent / file_name, newest)
    yield Meta("history", f"{order[0]}-{newest}", Origin(shown))
    for release in order:
        yield from version_rows(versions[release], f"{shown}!{members[release].name}", release)


def version_rows(data: bytes, shown: str, release: str) -> Iterator[Record]:
    """One ``NUCCVersionRow`` per code of one version's CSV bytes (a Problem for what is skipped)."""
    from kgraph.sources.nucc import EXPECTED, REQUIRED, built_name, open_rows

    reader, _, cols, _ = open_rows(data.rstrip(b"\x00"), shown)
    if reader.problem or any(c not in cols for c in REQUIRED):
        yield reader.problem or Problem(Origin(shown, 1), "not a NUCC taxonomy file: expected a header with "
                                        f"{EXPECTED}", action="version not read")
        return
    seen: set[str] = set()
    for start, row in numbered_rows(reader):
        cells = {name: " ".join(row[i].split()) if i < len(row) else "" for name, i in cols.items()}
        code = cells["code"]
        if code.lower().startswith("copyright") or code in seen:
            continue  # the AMA notice row of v9.0-v13.1; a repeated code is reported by nucc.read_data
        if not is_valid("NUCC", code):
            yield Problem(Origin(shown, start), f"taxonomy code {code!r} does not fit the NUCC pattern",
                          severity="warning")
            continue
        seen.add(code)
        name = cells.get("display") or built_name(cells["classification"], cells["specialization"])
        fields: list[tuple[str, Value]] = [
            ("release", release), ("taxonomy", Ref(f"NUCC:{code}")), ("officialTitle", name),
            ("definition", cells.get("definition", "")), ("nuccNotes", cells.get("notes", ""))]
        yield Row("NUCCVersionRow", Origin(shown, start), tuple((k, v) for k, v in fields if v))
    if reader.problem:
        yield reader.problem
