"""The registry of source kinds: what kgraph knows about each kind a manifest may name.

In the style of rdflib's plugin registry: ``register(kind)`` adds a ``SourceKind``, ``get(name)``
returns it (raising ``KeyError`` with the registered names when there is none), ``kinds()``
lists them. ``kgraph.sources`` registers the built-in kinds when imported; a new reader registers
its own. Everything that needs to know about kinds asks here: the build (which reader, which kinds
are read before the others), the claim-check indexes and range expansion (which kinds name
procedure codes and modifiers), the validator (which kinds list a code kind completely).

What a release of a kind *means* (its cadence, the period it answers for, how a date outside it
is reported) is billing semantics and stays in ``kgraph.rules.releases`` (``tables/families.csv``);
``SourceKind.family`` points at that row. Input and output are plain values; nothing here reads a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kgraph.records import Record
from kgraph.rules import releases

#: ``reader(path, *, display, release=None, payers=None) -> Iterator[Record]``
Reader = Callable[..., Iterator[Record]]


@dataclass(frozen=True)
class SourceKind:
    """One kind of source, as a manifest names it (``kind = "ncci-ptp"``)."""

    #: the name a manifest writes
    name: str
    #: the reader that turns a file of this kind into records
    reader: Reader
    #: how the reader finds the release (shown in docs and errors; the reader does the reading)
    release: str
    #: code kinds (CURIE prefixes) whose codes the files name: a code found there exists
    names: tuple[str, ...] = ()
    #: code kinds the files list completely: a code of that kind missing from them is unknown
    lists: tuple[str, ...] = ()
    #: the kind that defines a code kind (ICD-10-CM for ICD10CM): its release decides for the others
    defines: tuple[str, ...] = ()
    #: read completely before the others (small; all problems reported before anything is written)
    early: bool = False
    #: what users call it when the rules' families table has no name for it
    own_label: str = ""
    #: the row of ``kgraph/rules/tables/families.csv`` that says how its releases are selected
    family: str = ""

    @property
    def label(self) -> str:
        """What users call the kind ("NCCI PTP", "fee schedule", ...)."""
        return self.own_label or releases.name(self.family or self.name)


_KINDS: dict[str, SourceKind] = {}


def register(kind: SourceKind) -> SourceKind:
    """Add a kind; raises ``ValueError`` when another kind of that name is registered."""
    if kind.name in _KINDS and _KINDS[kind.name] != kind:
        raise ValueError(f"source kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> SourceKind:
    """The kind of that name; raises ``KeyError`` naming the registered kinds."""
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(unknown(name)) from None


def unknown(name: Any) -> str:
    """The message for a kind nobody registered."""
    return f"unknown kind {name!r}; known kinds: {', '.join(sorted(_KINDS))}"


def kinds() -> list[SourceKind]:
    """Every registered kind, in registration order."""
    return list(_KINDS.values())


def naming(*code_kinds: str) -> tuple[str, ...]:
    """The kinds whose files name codes of any of these code kinds, in registration order."""
    return tuple(k.name for k in _KINDS.values() if set(k.names) & set(code_kinds))


def listing(code_kind: str) -> tuple[str, ...]:
    """The kinds whose files list every code of this code kind, in registration order."""
    return tuple(k.name for k in _KINDS.values() if code_kind in k.lists)


def authority(code_kind: str) -> str | None:
    """The kind that defines a code kind (None for CPT: no official list is loaded, AMA licence)."""
    return next((k.name for k in _KINDS.values() if code_kind in k.defines), None)


def early() -> tuple[str, ...]:
    """The kinds read completely before the others."""
    return tuple(k.name for k in _KINDS.values() if k.early)
