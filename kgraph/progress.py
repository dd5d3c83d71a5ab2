"""Progress of a long command (build, validate, a batch check), told to whoever asked for it.

The library reports through a ``Progress`` passed in (``kgraph.build(..., progress=...)``); the
default, ``Progress()``, says nothing. Three things are reported: a ``line`` (a fact worth keeping:
"read data/x.csv: 1,200 records, 0 problems"), a ``step`` (a phase begins: compaction, degrees,
indexes, a validation rule) and a ``task`` (work of a known size: a source's bytes, a batch's
claims) that advances as it goes.

``for_stream(stream, quiet=...)`` picks what a command line shows: nothing when quiet; on a
terminal, rich's progress bars (bytes read, rate, time left) with the lines printed above them;
elsewhere (tests, CI, a log file) plain lines: one when a step or task begins, none while it
advances. A bare callable ``f(message)`` (the API before this module) is accepted wherever a
``Progress`` is, and gets the lines and steps. Does not time anything itself beyond the bar's rate.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

#: advance a task by this many units (bytes, claims)
Advance = Callable[[int], None]


def _nothing(_amount: int) -> None:
    return None


class Progress:
    """Reports nothing: the default of every library call."""

    def line(self, message: str) -> None:
        """A line worth keeping (a source read, a problem, the build's end)."""

    def step(self, message: str) -> None:
        """A phase of the work begins ("compacting the store", "counting degrees")."""
        self.line(message)

    @contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "bytes") -> Iterator[Advance]:
        """A piece of work of ``total`` units (None: unknown); yields ``advance(units)``."""
        yield _nothing

    def lines(self, handle: IO[str], description: str) -> Iterator[str]:
        """The lines of a text file, advancing a task by their length (about bytes for JSON Lines)."""
        with self.task(description, _size(handle)) as advance:
            for text in handle:
                advance(len(text))
                yield text


class Lines(Progress):
    """Plain lines, each given to ``write`` (a stream's printer, or a caller's callable): each line,
    each step and the start of each task."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def line(self, message: str) -> None:
        self.write(message)

    @contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "bytes") -> Iterator[Advance]:
        self.write(f"{description} ...")
        yield _nothing


class Bars(Progress):  # pragma: no cover - drawn on a terminal only; tests drive it through a pty
    """rich progress bars on a terminal: one per task, by bytes (or claims) with rate and time left."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console

        self.console = Console(file=stream, highlight=False, markup=False)

    def line(self, message: str) -> None:
        self.console.print(message, soft_wrap=True)

    @contextmanager
    def task(self, description: str, total: int | None = None, unit: str = "bytes") -> Iterator[Advance]:
        from rich import progress as rp

        size: list[rp.ProgressColumn] = ([rp.DownloadColumn(), rp.TransferSpeedColumn()] if unit == "bytes" else
                                         [rp.MofNCompleteColumn(), rp.TextColumn(f"{unit}")])
        columns = [rp.TextColumn("{task.description}"), rp.BarColumn(), *size, rp.TimeRemainingColumn()]
        with rp.Progress(*columns, console=self.console, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda amount: bar.advance(task, amount)


def of(progress: Progress | Callable[[str], None] | None) -> Progress:
    """A ``Progress`` from what a caller passed: itself, a callable wrapped, or the silent default."""
    if progress is None:
        return Progress()
    if isinstance(progress, Progress):
        return progress
    return Lines(progress)


def for_stream(stream: IO[str] | None = None, *, quiet: bool = False) -> Progress:
    """What a command shows on ``stream`` (default stderr): nothing, bars on a terminal, else lines."""
    stream = stream or sys.stderr
    if quiet:
        return Progress()
    if stream.isatty() and os.environ.get("TERM") != "dumb":
        return Bars(stream)
    return Lines(lambda message: print(message, file=stream, flush=True))


def _size(handle: IO[Any]) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size or None
    except (OSError, AttributeError, ValueError):
        return None


def total_bytes(paths: Iterable[Any]) -> int | None:
    """The bytes of files (a folder: of the files in it); None when none can be measured."""
    total = 0
    for path in paths:
        try:
            files = [p for p in path.iterdir() if p.is_file()] if path.is_dir() else [path]
            total += sum(p.stat().st_size for p in files)
        except OSError:
            continue
    return total or None
