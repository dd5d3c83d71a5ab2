"""Source readers, one module per kind of input, each registered as a kind in ``kgraph.sources.registry``.

Every reader is ``read(path, *, display=None, release=None, payers=None, **_) -> Iterator[Record]``
(a reader ignores what it does not use) and never imports
rdflib or pyoxigraph: it only turns a file into records (``kgraph.records``), reporting bad
input as ``Problem`` records with file and line rather than raising. A manifest names a reader
by its kind; ``path`` is a file, a folder (ICD-10-CM: the CMS zips of several fiscal years),
``pkg:<package>`` (a file shipped inside an installed package) or ``builtin:<name>``.
"""

from __future__ import annotations

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
    registry,
)
from kgraph.sources.registry import Reader

_KIND = registry.SourceKind
for _kind in (
    _KIND("payers", payers.read, "no release: the registry as it stands", early=True, own_label="payer registry"),
    _KIND("briefing", briefing.read, "no release: the date a briefing states", early=True, own_label="briefing"),
    _KIND("icd10cm", icd10cm.read, "the fiscal year in each file name (the latest is the release)",
          names=("ICD10CM",), lists=("ICD10CM",), defines=("ICD10CM",), family="icd10cm"),
    _KIND("icd10cm-tabular", icd10cm_tabular.read, "the month and year in the file name, else the XML's <version>",
          own_label="ICD-10-CM tabular"),
    _KIND("nucc", nucc.read, "the manifest's release, else the version in the file name",
          names=("NUCC",), lists=("NUCC",), defines=("NUCC",), family="nucc"),
    _KIND("crosswalk", crosswalk.read, "the manifest's release, else the date in the file name",
          own_label="specialty crosswalk"),
    _KIND("hcpcs", hcpcs.read, "the manifest's release, else the year in the (member's) file name",
          names=("HCPCS", "MOD"), lists=("HCPCS", "MOD"), defines=("HCPCS",), family="hcpcs"),
    _KIND("modifiers", modifiers.read, "the manifest's release, else the year in the file name",
          names=("MOD",), lists=("MOD",), family="modifiers"),
    _KIND("cpt-modifiers", modifiers.read_builtin, "the manifest's release, else the built-in list's year",
          names=("MOD",), lists=("MOD",), family="cpt-modifiers"),
    # the fee schedule names modifiers 26, TC and 53 (a row of their own) but lists no other: a
    # modifier it names exists, one it does not name may still exist (kgraph.indexes, kgraph.validate)
    _KIND("mpfs", mpfs.read, "the manifest's release, else the file name or its notice lines",
          names=("CPT", "HCPCS", "MOD"), lists=("CPT", "HCPCS"), family="mpfs"),
    _KIND("ncci-ptp", ncci.read_ptp, "the quarter in the file name or its header",
          names=("CPT", "HCPCS"), lists=("CPT", "HCPCS"), family="ncci-ptp"),
    _KIND("ncci-mue", ncci.read_mue, "the quarter in the file name or its header",
          names=("CPT", "HCPCS"), lists=("CPT", "HCPCS"), family="ncci-mue"),
    _KIND("ncci-addon", ncci.read_addon, "the quarter in the file name or its header",
          names=("CPT", "HCPCS"), lists=("CPT", "HCPCS"), family="ncci-addon"),
    _KIND("notes", notes.read, "no release: review notes are the reviewers' own", early=True,
          own_label="review notes"),
):
    registry.register(_kind)

#: kind (as written in a manifest) -> reader (the registry's readers, for callers that only read)
READERS: dict[str, Reader] = {kind.name: kind.reader for kind in registry.kinds()}

#: every kg: term the readers use beyond kgraph.namespaces, with its kind and comment
TERMS: dict[str, tuple[str, str]] = {}
for _module in (icd10cm, icd10cm_tabular, nucc, crosswalk, hcpcs, modifiers, ncci, mpfs, notes):
    for _name, _spec in getattr(_module, "TERMS", {}).items():
        TERMS.setdefault(_name, _spec)
