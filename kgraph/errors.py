"""One error hierarchy for kgraph, and the origin of a record (file, 1-based line).

Messages are compiler style: ``path:line: CURIE: what is wrong``. The CLI prints a
``KGraphError`` as ``error: <message>`` and exits 1; anything else is a bug and keeps its
traceback. This module imports nothing from the rest of kgraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from: a file path (as shown to users) and a 1-based physical line."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


def located(origin: Origin | None, curie: str | None, message: str) -> str:
    """``path:line: CURIE: message``, leaving out the parts that are unknown."""
    parts = [str(origin)] if origin else []
    if curie:
        parts.append(curie)
    parts.append(message)
    return ": ".join(parts)


class KGraphError(Exception):
    """Base class of every error kgraph raises on purpose."""


class CurieError(KGraphError, ValueError):
    """A CURIE with an unknown prefix, or a value that cannot be a code of its kind."""


class SourceError(KGraphError):
    """A source file that cannot be read; ``problems`` lists every problem found in it."""

    def __init__(self, message: str, problems: Sequence[object] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class BuildError(KGraphError):
    """A build that was refused; the existing store is unchanged."""

    def __init__(self, message: str, problems: Sequence[object] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class StoreError(KGraphError):
    """A store that is missing, locked or damaged."""


class QueryError(KGraphError):
    """A query that cannot be run: syntax error, unknown name, bad parameter."""


class NotAcceptable(QueryError):
    """No media type the client accepts can carry this kind of answer; ``offers`` lists those that can."""

    def __init__(self, message: str, offers: Sequence[str]) -> None:
        super().__init__(message)
        self.offers = list(offers)
