"""What every reader does before its row logic: open a file, decode it, read its CSV header.

Input: a path (plain, gzipped or zipped, as each reader accepts). Output: bytes or text, or a
``file refused`` Problem naming the file (and line, for bad bytes) that the reader yields as is.
Every byte a reader reads through ``open_binary`` or ``read_bytes`` is counted towards the build's
progress bar (``counting``). Does not know any layout: that is each reader's row logic.
"""

from __future__ import annotations

import csv
import gzip
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

from kgraph.errors import Origin
from kgraph.records import Problem

#: what reading a damaged zip raises: truncated or corrupt data, a compression method or encryption
#: zipfile cannot read, a member name flagged UTF-8 that is not
ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, zlib.error, lzma.LZMAError, NotImplementedError, RuntimeError,
              UnicodeDecodeError)

#: who is told how many bytes the readers read (``kgraph.build``'s progress bar); None: nobody
_COUNTER: ContextVar[Callable[[int], None] | None] = ContextVar("kgraph_bytes_read", default=None)


@contextmanager
def counting(advance: Callable[[int], None]) -> Iterator[None]:
    """Within this block, every byte read through this module is passed to ``advance``."""
    token = _COUNTER.set(advance)
    try:
        yield
    finally:
        _COUNTER.reset(token)


class _Counted(io.RawIOBase):
    """A binary file whose reads are counted (seeks are not: a zip's directory is read once)."""

    def __init__(self, raw: IO[bytes], advance: Callable[[int], None]) -> None:
        self.raw, self.advance = raw, advance

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[:len(data)] = data
        self.advance(len(data))
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def open_binary(path: str | Path) -> IO[bytes]:
    """The file opened for reading bytes, its reads counted; raises ``OSError`` as ``open`` does."""
    handle = open(path, "rb")  # noqa: SIM115 - returned open, closed by the caller
    advance = _COUNTER.get()
    return handle if advance is None else io.BufferedReader(_Counted(handle, advance), 1 << 16)


@contextmanager
def open_zip(path: str | Path) -> Iterator[zipfile.ZipFile]:
    """A zip archive, its reads counted; raises what ``zipfile.ZipFile`` raises (``ZIP_ERRORS``)."""
    with open_binary(path) as handle, zipfile.ZipFile(handle) as archive:
        yield archive


def open_text(path: str | Path, shown: str) -> tuple[IO[str] | None, Problem | None]:
    """A UTF-8 text stream over the file (a BOM dropped, newlines kept for ``csv``), gunzipped when
    it starts with the gzip magic bytes; or the Problem refusing an empty or unreadable file."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
        if not magic:
            return None, Problem(Origin(shown, 1), "empty file", action="file refused")
        raw = open_binary(path)
        if magic == b"\x1f\x8b":
            unzipped = gzip.GzipFile(fileobj=raw)
            # closed with it, as gzip.open(path) closes the file it opened
            unzipped.myfileobj = raw  # type: ignore[assignment]
            return io.TextIOWrapper(unzipped, encoding="utf-8-sig", newline=""), None
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), None
    except OSError as exc:
        return None, Problem(Origin(shown), f"cannot read file: {exc.strerror or exc}", action="file refused")


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, counted; raises ``OSError``."""
    data = Path(path).read_bytes()
    advance = _COUNTER.get()
    if advance is not None:
        advance(len(data))
    return data


def decode_text(data: bytes) -> tuple[str, str]:
    """Text and the encoding it was read in: UTF-8 (an optional BOM dropped), else Windows-1252.

    Older NUCC and CMS files are Windows-1252 (0x92 for an apostrophe); a byte Windows-1252
    leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) falls back to Latin-1, which decodes anything.

    >>> decode_text("master’s".encode("cp1252"))
    ('master’s', 'windows-1252')
    """
    for encoding, name in (("utf-8-sig", "utf-8"), ("cp1252", "windows-1252")):
        try:
            return data.decode(encoding), name
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def open_csv(path: str | Path, shown: str) -> tuple[CsvRows, list[str]] | Problem:
    """The rows and header of a small CSV in any of the encodings ``decode_text`` reads, or the
    Problem that refuses it (unreadable, empty, or a header the csv module cannot read).

    The CMS crosswalk and the modifier list are read this way.
    """
    try:
        data = read_bytes(path)
    except OSError as exc:
        return Problem(Origin(shown), f"cannot read file: {exc.strerror or exc}", action="file refused")
    if not data.strip():
        return Problem(Origin(shown, 1), "empty file", action="file refused")
    reader = CsvRows(csv.reader(io.StringIO(decode_text(data)[0], newline="")), shown)
    header = next(reader, [])
    return reader.problem or (reader, header)


#: the row logic of a small CSV reader: (path, shown, rows after the header, columns, release) -> records
TableRows = Callable[[str | Path, str, "CsvRows", dict[str, int], str | None], Iterator[Any]]


def csv_reader(names: Mapping[str, str], required: Iterable[str], what: str, expected: str
               ) -> Callable[[TableRows], Callable[..., Iterator[Any]]]:
    """Decorator making a reader ``read(path, *, display=None, release=None, **_)`` of a small CSV
    from its row logic: the file is opened (``open_csv``) and its header read (``columns`` of
    ``names``) first, and a file without every column of ``required`` is refused
    (``wrong_header``: "not a WHAT: expected a header with EXPECTED; found ..."). The CMS
    crosswalk and the modifier list are read this way."""
    def wrap(rows: TableRows) -> Callable[..., Iterator[Any]]:
        def read(path: str | Path, *, display: str | None = None, release: str | None = None,
                 **_: object) -> Iterator[Any]:
            shown = display or str(path)
            opened = open_csv(path, shown)
            if isinstance(opened, Problem):
                yield opened
                return
            reader, header = opened
            cols = columns(header, names)
            if any(c not in cols for c in required):
                yield wrong_header(shown, what, expected, header)
                return
            yield from rows(path, shown, reader, cols, release)

        read.__name__, read.__qualname__, read.__doc__ = "read", "read", rows.__doc__
        read.__module__ = rows.__module__
        return read
    return wrap


def year_in_name(name: str) -> str | None:
    """The year (19xx or 20xx, not part of a longer number) in a file name, the release of an annual file.

    >>> year_in_name("HCPC2026_JAN_ANWEB.zip"), year_in_name("modifiers-2025.csv"), year_in_name("x_120251.txt")
    ('2026', '2025', None)
    """
    m = _YEAR.search(name)
    return m.group(1) if m else None


_YEAR = re.compile(r"(?<!\d)(20\d\d|19\d\d)(?!\d)", re.ASCII)


def header_key(name: str) -> str:
    """How header cells are compared: case, spaces and punctuation do not matter (digits do).

    >>> header_key(" Display  Name"), header_key("COLUMN_1"), header_key("Modifier-2")
    ('displayname', 'column1', 'modifier2')
    """
    return re.sub(r"[^a-z0-9]", "", name.lower())


def columns(header: list[str], names: Mapping[str, str], *, first: bool = False) -> dict[str, int]:
    """Column name -> index of the header cells ``names`` knows (keyed by ``header_key``); a name
    that stands twice takes its last cell, or its first with ``first``.

    >>> columns(["Code", "Mod Type", "code"], {"code": "code", "modtype": "type"})
    {'code': 2, 'type': 1}
    """
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = header_key(cell)
        if key in names and not (first and names[key] in cols):
            cols[names[key]] = i
    return cols


def wrong_header(shown: str, what: str, expected: str, header: list[str]) -> Problem:
    """The ``file refused`` Problem of a file whose header is not the one a reader reads."""
    found = ", ".join(c.strip() for c in header) or "nothing"
    return Problem(Origin(shown, 1), f"not a {what}: expected a header with {expected}; found {found}",
                   action="file refused")


def numbered_rows(reader: CsvRows) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) of each row after the header that has a cell with text (a
    quoted cell may span lines); blank rows are passed over. ``reader.problem`` says afterwards
    whether the rows ended early."""
    line = reader.line_num
    for row in reader:
        start, line = line + 1, reader.line_num
        if any(cell.strip() for cell in row):
            yield start, row


def read_text(path: str | Path, shown: str) -> tuple[str, Problem | None]:
    """The file's text (UTF-8, an optional BOM dropped), or a ``file refused`` Problem.

    Refuses a missing or unreadable file, an empty one, and one that is not UTF-8 (naming the
    line and the byte), since a wrongly decoded code would silently become another code.
    """
    try:
        data = read_bytes(path)
    except OSError as exc:
        return "", Problem(Origin(shown), f"cannot read file: {exc.strerror or exc}", action="file refused")
    if not data.strip():
        return "", Problem(Origin(shown, 1), "empty file", action="file refused")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        msg = f"not UTF-8: byte 0x{byte:02x} at column {column}; save the file as UTF-8"
        return "", Problem(Origin(shown, line), msg, action="file refused")


class CsvRows:
    """The rows of a ``csv.reader`` up to the first one the csv module cannot read.

    That is a cell over the module's 131,072-character limit, nearly always a quote that is never
    closed. Iteration then ends and ``problem`` holds a ``file refused`` Problem naming the physical
    line reached; ``line_num`` is the reader's.
    """

    def __init__(self, reader: Iterator[list[str]], shown: str) -> None:
        self.reader = reader
        self.shown = shown
        self.problem: Problem | None = None

    @property
    def line_num(self) -> int:
        return self.reader.line_num  # type: ignore[attr-defined]

    def __iter__(self) -> CsvRows:
        return self

    def __next__(self) -> list[str]:
        if self.problem is not None:
            raise StopIteration
        try:
            return next(self.reader)
        except csv.Error as exc:
            msg = f"not readable as CSV: {exc}; a cell this long usually means a quote that is never closed"
            self.problem = Problem(Origin(self.shown, self.line_num), msg, action="file refused")
            raise StopIteration from None
