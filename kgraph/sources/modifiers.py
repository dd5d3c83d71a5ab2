"""Modifier list reader: the CPT + HCPCS modifier CSV -> modifier Codes; and the built-in CPT list.

Input (``read``): ``modifiers_cpt_and_hcpcs_2024.csv`` with columns ``mod_code``, ``mod_type``
(``CPT`` or ``HCPCS``), ``mod_category`` (may be empty) and ``mod_description``, recognised by
header name. Output: one ``Code("MOD:<code>")`` per row, labelled with the description, props
``officialTitle``, ``modifierType`` and ``modifierCategory`` (when given). A code may have two
rows (2024: P1-P6 are listed as CPT and as HCPCS, KX under two categories): each row is kept,
so the node gets both types or categories. Meta ``release`` (argument, else the year in the file
name) and ``notice`` (CPT modifier descriptions are AMA content).

``read_builtin`` needs no file: it yields the CPT modifiers of ``CPT_MODIFIERS``, labelled in
kgraph's own words, so that a default build knows which CPT modifiers exist without
republishing the AMA's descriptors. Their labels are not official titles and are not stored as
``officialTitle``.

Problems: a file without the code, type and description columns is refused; a row whose code is
not two digits or capital letters, or whose type is not CPT or HCPCS, is skipped. Never raises
for bad input; imports no RDF library.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Code, Meta, Problem, Record
from kgraph.sources._io import CsvRows, csv_reader, numbered_rows, year_in_name

TERMS: dict[str, tuple[str, str]] = {
    "officialTitle": ("datatype:string", "The official title or description of a code, as its code set publishes it."),
    "modifierType": (
        "datatype:string",
        "Which code set defines a modifier: CPT (AMA, Level I) or HCPCS (CMS, Level II).",
    ),
    "modifierCategory": (
        "datatype:string",
        "The category a modifier list files a modifier under (General, Anesthesia, Anatomic Hand, ...).",
    ),
}

CPT_NOTICE = (
    "CPT modifier descriptions are American Medical Association content (CPT is a registered trademark "
    "of the AMA): use as reference, do not republish in bulk."
)
BUILTIN_NOTICE = (
    "CPT modifier codes with labels written for kgraph, not the AMA's descriptors. CPT is a "
    "registered trademark of the American Medical Association."
)

#: Every CPT modifier of the 2024 modifier list, with a short label in kgraph's own words.
CPT_MODIFIERS: dict[str, str] = {
    "22": "more work than the procedure usually takes",
    "23": "general anesthesia where usually none or local is used",
    "24": "E/M visit unrelated to the surgery, within its postoperative period",
    "25": "separate significant E/M visit on the day of a procedure",
    "26": "professional component only",
    "27": "additional hospital outpatient E/M encounter on the same date",
    "32": "service required by a third party such as a payer or court",
    "33": "service given as preventive care",
    "47": "anesthesia given by the operating surgeon",
    "50": "procedure done on both sides of the body",
    "51": "more than one procedure in the same session",
    "52": "service partly reduced at the clinician's choice",
    "53": "procedure stopped before it was completed",
    "54": "the operation only, without pre- or postoperative care",
    "55": "postoperative care only",
    "56": "preoperative care only",
    "57": "E/M visit at which the decision to operate was made",
    "58": "planned or related follow-on procedure in the postoperative period",
    "59": "distinct service not normally reported with the other",
    "62": "co-surgeons: two surgeons each doing a distinct part",
    "63": "procedure on an infant weighing under 4 kg",
    "66": "procedure done by a surgical team",
    "73": "outpatient or ASC procedure cancelled before anesthesia",
    "74": "outpatient or ASC procedure cancelled after anesthesia began",
    "76": "procedure repeated by the same clinician",
    "77": "procedure repeated by a different clinician",
    "78": "unplanned return to the operating room for a related procedure",
    "79": "unrelated procedure in the postoperative period",
    "80": "surgical assistant for the whole procedure",
    "81": "surgical assistant for part of the procedure",
    "82": "surgical assistant when no qualified resident is available",
    "90": "lab test sent to an outside laboratory",
    "91": "lab test repeated the same day to get a new result",
    "92": "lab test run on a portable or single-use kit",
    "93": "telemedicine by live audio only",
    "95": "telemedicine by live audio and video",
    "96": "service to build skills the patient never had",
    "97": "service to restore lost function",
    "99": "several modifiers apply to the line",
    "P1": "ASA physical status 1: healthy",
    "P2": "ASA physical status 2: mild illness",
    "P3": "ASA physical status 3: severe illness",
    "P4": "ASA physical status 4: life-threatening illness",
    "P5": "ASA physical status 5: not expected to survive without surgery",
    "P6": "ASA physical status 6: brain-dead organ donor",
    "1P": "quality measure excluded for medical reasons",
    "2P": "quality measure excluded for patient reasons",
    "3P": "quality measure excluded for system reasons",
    "8P": "quality measure action not done, reason not given",
}

COLUMNS = {"modcode": "code", "modtype": "type", "modcategory": "category", "moddescription": "description"}
REQUIRED = ("code", "type", "description")
EXPECTED = "mod_code, mod_type, mod_description (mod_category optional)"
TYPES = ("CPT", "HCPCS")


@csv_reader(COLUMNS, REQUIRED, "modifier list", EXPECTED)
def read(path: str | Path, shown: str, reader: CsvRows, cols: dict[str, int], release: str | None
         ) -> Iterator[Record]:
    """Modifier Codes, one per row of a CPT + HCPCS modifier CSV."""
    release = release or year_in_name(Path(path).name)
    if release:
        yield Meta("release", release, Origin(shown))
    yield Meta("notice", CPT_NOTICE, Origin(shown))
    for start, row in numbered_rows(reader):
        origin = Origin(shown, start)
        cells = {name: " ".join(row[i].split()) if i < len(row) else "" for name, i in cols.items()}
        code, kind = cells["code"].upper(), cells["type"].upper()
        if not is_valid("MOD", code):
            yield Problem(origin, f"modifier code {cells['code']!r} is not 2 digits or capital letters")
            continue
        if kind not in TYPES:
            yield Problem(origin, f"modifier type {cells['type']!r} is not CPT or HCPCS", curie=f"MOD:{code}")
            continue
        description = cells["description"]
        props = [("officialTitle", description), ("modifierType", kind)]
        if cells.get("category"):
            props.append(("modifierCategory", cells["category"]))
        yield Code(f"MOD:{code}", origin, label=description or None, props=tuple((k, v) for k, v in props if v))
    if reader.problem:
        yield reader.problem


def read_builtin(
    path: object = None, *, release: str | None = None, **_: object
) -> Iterator[Record]:
    """The CPT modifiers of ``CPT_MODIFIERS`` as Codes with kgraph's own labels (``path``, a manifest's
    ``builtin:`` entry, names no file: the Codes point at this list; release 2024 by default).

    >>> [c.label for c in read_builtin() if getattr(c, "curie", "") == "MOD:26"]
    ['professional component only']
    """
    origin = Origin("kgraph.sources.modifiers:CPT_MODIFIERS")
    yield Meta("release", release or "2024", origin)
    yield Meta("notice", BUILTIN_NOTICE, origin)
    for code, label in CPT_MODIFIERS.items():
        yield Code(f"MOD:{code}", origin, label=label, props=(("modifierType", "CPT"),))
