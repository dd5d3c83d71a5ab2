"""Reading a source file as text, with the problems users actually hit reported by line."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from kgraph.errors import Origin
from kgraph.records import Problem


def read_text(path: str | Path, shown: str) -> tuple[str, Problem | None]:
    """The file's text (UTF-8, an optional BOM dropped), or a ``file refused`` Problem.

    Refuses a missing or unreadable file, an empty one, and one that is not UTF-8 (naming the
    line and the byte), since a wrongly decoded code would silently become another code.
    """
    try:
        data = Path(path).read_bytes()
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
