"""Source readers, one module per kind of input, each registered as a kind in ``kgraph.sources.registry``.

Every reader is ``read(path, *, display=None, release=None, payers=None, **_) -> Iterator[Record]``
(a reader ignores what it does not use) and never imports
rdflib or pyoxigraph: it only turns a file into records (``kgraph.records``), reporting bad
input as ``Problem`` records with file and line rather than raising. A manifest names a reader
by its kind; ``path`` is a file, a folder (ICD-10-CM: the CMS zips of several fiscal years),
``pkg:<package>`` (a file shipped inside an installed package) or ``builtin:<name>``.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from kgraph.sources import registry
from kgraph.sources.registry import Reader


def _lazy(module: str, function: str = "read") -> Reader:
    """A reader that imports ``kgraph.sources.MODULE`` when first called: importing the package (to
    ask the registry about kinds, or for one reader) does not load every reader (34-38 ms)."""

    def read(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(f"kgraph.sources.{module}"), function)(*args, **kwargs)

    read.__qualname__ = read.__name__ = f"{module}.{function}"
    return read


_KIND = registry.SourceKind
for _kind in (
    _KIND("payers", _lazy("payers"), "no release: the registry as it stands", early=True, own_label="payer registry"),
    _KIND("briefing", _lazy("briefing"), "no release: the date a briefing states", early=True, own_label="briefing"),
    _KIND("icd10cm", _lazy("icd10cm"), "the fiscal year in each file name (the latest is the release)",
          names=("ICD10CM",), lists=("ICD10CM",), defines=("ICD10CM",), family="icd10cm"),
    _KIND("icd10cm-tabular", _lazy("icd10cm_tabular"), "the month and year in the file name, else the XML's <version>",
          own_label="ICD-10-CM tabular"),
    _KIND("nucc", _lazy("nucc"), "the manifest's release, else the version in the file name",
          names=("NUCC",), lists=("NUCC",), defines=("NUCC",), family="nucc"),
    _KIND("crosswalk", _lazy("crosswalk"), "the manifest's release, else the date in the file name",
          own_label="specialty crosswalk"),
    _KIND("hcpcs", _lazy("hcpcs"), "the manifest's release, else the year in the (member's) file name",
          names=("HCPCS", "MOD"), lists=("HCPCS", "MOD"), defines=("HCPCS",), family="hcpcs"),
    _KIND("modifiers", _lazy("modifiers"), "the manifest's release, else the year in the file name",
          names=("MOD",), lists=("MOD",), family="modifiers"),
    _KIND("cpt-modifiers", _lazy("modifiers", "read_builtin"), "the manifest's release, else the built-in list's year",
          names=("MOD",), lists=("MOD",), family="cpt-modifiers"),
    # the fee schedule names modifiers 26, TC and 53 (a row of their own) but lists no other: a
    # modifier it names exists, one it does not name may still exist (kgraph.indexes, kgraph.validate)
    _KIND("mpfs", _lazy("mpfs"), "the manifest's release, else the file name or its notice lines",
          names=("CPT", "HCPCS", "MOD"), lists=("CPT", "HCPCS"), family="mpfs"),
    _KIND("ncci-ptp", _lazy("ncci", "read_ptp"), "the quarter in the file name or its header",
          names=("CPT", "HCPCS"), lists=("CPT", "HCPCS"), family="ncci-ptp"),
    _KIND("ncci-mue", _lazy("ncci", "read_mue"), "the quarter in the file name or its header",
          names=("CPT", "HCPCS"), lists=("CPT", "HCPCS"), family="ncci-mue"),
    _KIND("ncci-addon", _lazy("ncci", "read_addon"), "the quarter in the file name or its header",
          names=("CPT", "HCPCS"), lists=("CPT", "HCPCS"), family="ncci-addon"),
    _KIND("notes", _lazy("notes"), "no release: review notes are the reviewers' own", early=True,
          own_label="review notes"),
):
    registry.register(_kind)

#: kind (as written in a manifest) -> reader (the registry's readers, for callers that only read)
READERS: dict[str, Reader] = {kind.name: kind.reader for kind in registry.kinds()}


@functools.cache
def _terms() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for module in ("icd10cm", "icd10cm_tabular", "nucc", "crosswalk", "hcpcs", "modifiers", "ncci", "mpfs", "notes"):
        for name, spec in getattr(importlib.import_module(f"kgraph.sources.{module}"), "TERMS", {}).items():
            found.setdefault(name, spec)
    return found


def __getattr__(name: str) -> Any:
    """``TERMS``: every kg: term the readers use beyond kgraph.namespaces, with its kind and comment
    (the ontology's generated block; it imports every reader, so it is made when first asked for)."""
    if name == "TERMS":
        return _terms()
    raise AttributeError(f"module 'kgraph.sources' has no attribute {name!r}")
