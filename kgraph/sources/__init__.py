"""Source readers, one module per kind of input, registered by name in ``READERS``.

Every reader is ``read(path, *, display=..., **context) -> Iterator[Record]`` and never imports
rdflib or pyoxigraph: it only turns a file into records (``kgraph.records``), reporting bad
input as ``Problem`` records with file and line rather than raising. A manifest names a reader
by its kind; ``path`` is a file, a folder (ICD-10-CM: the CMS zips of several fiscal years),
``pkg:<package>`` (a file shipped inside an installed package) or ``builtin:<name>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kgraph.records import Record
from kgraph.sources import (
    briefing,
    crosswalk,
    hcpcs,
    icd10cm,
    icd10cm_tabular,
    modifiers,
    mpfs,
    ncci,
    notes,
    nucc,
    payers,
)

Reader = Callable[..., Iterator[Record]]


def _briefing(path: Path, *, display: str, payers: payers.PayerRegistry | None = None,
              **_: Any) -> Iterator[Record]:
    return briefing.read(path, display=display, payers=payers)


def _payers(path: Path, *, display: str, **_: Any) -> Iterator[Record]:
    return payers.read(path, display=display)


def _tabular(path: Path, *, display: str, **_: Any) -> Iterator[Record]:
    return icd10cm_tabular.read(str(path), display=None if str(path).startswith("pkg:") else display)


def _cpt_modifiers(path: Path, *, display: str, **kw: Any) -> Iterator[Record]:
    release = kw.get("release")
    return modifiers.read_builtin(**({"release": release} if release else {}))


#: kind (as written in a manifest) -> reader
READERS: dict[str, Reader] = {
    "briefing": _briefing,
    "payers": _payers,
    "icd10cm": icd10cm.read,
    "icd10cm-tabular": _tabular,
    "nucc": nucc.read,
    "crosswalk": crosswalk.read,
    "hcpcs": hcpcs.read,
    "modifiers": modifiers.read,
    "cpt-modifiers": _cpt_modifiers,
    "ncci-ptp": ncci.read_ptp,
    "ncci-mue": ncci.read_mue,
    "ncci-addon": ncci.read_addon,
    "mpfs": mpfs.read,
    "notes": notes.read,
}

#: every kg: term the readers use beyond kgraph.namespaces, with its kind and comment
TERMS: dict[str, tuple[str, str]] = {}
for _module in (icd10cm, icd10cm_tabular, nucc, crosswalk, hcpcs, modifiers, ncci, mpfs, notes):
    for _name, _spec in getattr(_module, "TERMS", {}).items():
        TERMS.setdefault(_name, _spec)
