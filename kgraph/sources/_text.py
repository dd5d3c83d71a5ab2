"""Reading a source file as text, with the problems users actually hit reported by line."""

from __future__ import annotations

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
