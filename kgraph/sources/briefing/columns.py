"""What a briefing table holds: the field of each column and the kind of the table.

Input: a table's header cells and body rows (plain text), the section heading above it and the
payer registry. Output: a ``Layout``: the table's kind (``modifier``, ``taxonomy``, ``icd``,
``procedure``, ``payer``) and why, its key column, the field of every other column (a kgraph
qualifier, or None for a column kgraph does not know, which the reader keeps under its own
header name), and notes on ambiguity; or the reason the table cannot be read. Pure; never raises.

How the kind is decided, first rule that applies:

1. a header that names a kind of code or payer (``HEADERS`` below: "ICD-10 Code", "Dx",
   "NUCC Taxonomy", "CPT/HCPCS", "Modifier", "Payor", ...; also any header containing "icd",
   "cpt", "hcpcs", "taxonomy", "nucc", "modifier", "payer", "payor");
2. a header of a general word ("Code", "Codes", "Diagnosis", "Procedure", "Service", "Item") whose
   values are codes: the kind their values can only be;
3. no header says it: the first column whose values are mostly codes, of the kind most of its
   values can only be (a value that fits two kinds, such as a dotless ``A0100``, HCPCS or
   ICD-10-CM, counts for neither and is reported); when no value decides, the section heading
   above the table ("Related Diagnoses", "Modifiers", ...) breaks the tie;
4. a column whose values are mostly payers of the registry: a payer table.

Otherwise the table is not read, and the reader says so with every row it holds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from kgraph.sources.briefing.codes import KINDS, NAMES, is_gap, shapes
from kgraph.sources.payers import PayerRegistry

#: field -> the header names people use for it (compared in lower case, letters and digits only)
HEADERS: dict[str, tuple[str, ...]] = {
    "modifier": ("modifier", "modifiers", "modifier code", "modifier codes", "mod", "mods", "mod code"),
    "taxonomy": ("taxonomy", "taxonomy code", "taxonomy codes", "nucc", "nucc code", "nucc taxonomy",
                 "nucc taxonomy code", "provider taxonomy", "provider taxonomy code", "taxonomy id"),
    "icd": ("icd", "icd 10", "icd-10", "icd-10-cm", "icd10", "icd10cm", "icd code", "icd-10 code", "icd-10-cm code",
            "diagnosis code", "diagnosis codes", "dx", "dx code", "dx codes", "related diagnosis code"),
    "cpt": ("cpt", "cpt code", "cpt codes", "cpt/hcpcs", "cpt/hcpcs code", "procedure code", "procedure codes",
            "related code", "related codes", "related cpt", "related cpt code", "service code", "billing code"),
    "hcpcs": ("hcpcs", "hcpcs code", "hcpcs codes", "hcpcs level ii", "hcpcs level ii code", "level ii code"),
    "payer": ("payer", "payers", "payor", "payors", "payer name", "payor name", "insurer", "insurance",
              "insurance company", "plan", "health plan", "carrier", "payer/plan"),
    "description": ("description", "descriptor", "short description", "long description", "code description",
                    "title", "name", "label", "meaning", "definition", "summary"),
    "whenToUse": ("when to use", "usage", "use when", "when used", "use", "applies when", "when to apply",
                  "when to append", "use case", "guidance", "usage guidance", "when to report"),
    "specialty": ("specialty", "specialty name", "provider specialty", "provider type", "classification",
                  "specialization", "provider", "provider specialty name"),
    "notes": ("notes", "note", "comments", "comment", "remarks", "details", "additional notes"),
    "relevance": ("clinical relevance", "relevance", "rationale", "reason", "why", "why it matters",
                  "clinical context", "clinical significance", "indication", "context"),
    "relationship": ("relationship", "relationship to this procedure", "relation", "how related",
                     "billing relationship", "reporting relationship", "bundling", "billing", "billing notes",
                     "billing note",
                     "reporting", "relationship to procedure"),
    "position": ("coverage", "coverage position", "position", "policy", "coverage policy", "coverage status",
                 "covered", "stance", "status"),
}
#: general words: a key column when the values are codes (of the kind given, or of the values' kind)
WEAK: dict[str, str | None] = {"code": None, "codes": None, "codecs": None, "item": None, "id": None,
                               "diagnosis": "icd", "diagnoses": "icd", "condition": "icd", "procedure": "procedure",
                               "procedures": "procedure", "service": "procedure", "services": "procedure"}
#: (words inside a header, field), tried in order when the whole header is not in HEADERS
CONTAINS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("payername", "payorname"), "payer"),
    (("description", "descriptor", "desc", "title", "label"), "description"),
    (("specialt",), "specialty"),
    (("relationship",), "relationship"),
    (("relevance",), "relevance"),
    (("whentouse", "whentoappend", "usage"), "whenToUse"),
    (("note", "comment", "remark"), "notes"),
    (("coverage", "policy"), "position"),
    (("icd", "diagnos"), "icd"),
    (("cpt", "hcpcs"), "cpt"),
    (("taxonomy", "nucc"), "taxonomy"),
    (("modifier",), "modifier"),
    (("payer", "payor", "insurer"), "payer"),
)
KEY_FIELDS = ("modifier", "taxonomy", "icd", "cpt", "hcpcs", "payer")
_KIND = {"cpt": "procedure", "hcpcs": "procedure", "modifier": "modifier", "taxonomy": "taxonomy", "icd": "icd",
         "payer": "payer"}
_SECTION_HINTS = ((re.compile(r"diagnos|icd|condition", re.I), "icd"),
                  (re.compile(r"modifier", re.I), "modifier"),
                  (re.compile(r"taxonom|specialt|provider", re.I), "taxonomy"),
                  (re.compile(r"procedure|cpt|hcpcs|related code|service", re.I), "procedure"))
_NORM = {re.sub(r"[^a-z0-9]", "", name): fld for fld, names in HEADERS.items() for name in names}


def header_field(name: str) -> str | None:
    """The field a header names, or None (an unknown column; a general word such as "Code" is None too).

    >>> header_field("ICD-10-CM Code"), header_field("Payor"), header_field("CPT Description"), header_field("Role")
    ('icd', 'payer', 'description', None)
    """
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    if key in _NORM:
        return _NORM[key]
    if not key or key in WEAK:
        return None
    for words, fld in CONTAINS:
        if any(w in key for w in words):
            return fld
    return None


@dataclass
class Layout:
    """How a table is read."""

    kind: str | None  # modifier, taxonomy, icd, procedure, payer; None: not read
    key: int = -1  # index of the key column
    label: str = ""  # how messages name the key column's kind ("cpt", "hcpcs", or the kind)
    fields: list[str | None] = field(default_factory=list)  # per column; the key column holds its kind
    why: str = ""
    notes: list[str] = field(default_factory=list)  # ambiguity, reported as info


def _values(rows: list[list[str]], j: int) -> list[str]:
    return [r[j].strip() for r in rows if j < len(r) and r[j].strip() and not is_gap(r[j])]


def _value_kind(values: list[str], hint: str | None) -> tuple[str | None, list[str], str]:
    """The kind most values can only be; the values that fit several kinds; how it was decided."""
    only: Counter[str] = Counter()
    both: list[str] = []
    for v in values:
        fits = shapes(v)
        if len(fits) == 1:
            only[next(iter(fits))] += 1
        elif len(fits) > 1:
            both.append(v)
    if only:
        kind, n = only.most_common(1)[0]
        return kind, both, f"{n} of its {len(values)} values can only be {NAMES[kind]} codes"
    if both and hint and all(hint in shapes(v) for v in both):
        return hint, both, f"its values fit several kinds; the section heading says {NAMES[hint]}"
    return None, both, ""


def _names_beside(out: Layout, header: list[str]) -> Layout:
    """A "Diagnosis", "Condition" or "Procedure" column beside the key column holds the codes' names."""
    for k, name in enumerate(header):
        if k != out.key and out.fields[k] is None and WEAK.get(re.sub(r"[^a-z0-9]", "", name.lower())):
            out.fields[k] = "description"
    return out


def _codes_share(values: list[str]) -> float:
    return sum(1 for v in values if shapes(v)) / len(values) if values else 0.0


def layout(header: list[str], rows: list[list[str]], section: str | None, payers: PayerRegistry) -> Layout:
    """How to read a table with this header and these body rows (see the module docstring)."""
    fields = [header_field(h) for h in header]
    hint = next((kind for pattern, kind in _SECTION_HINTS if section and pattern.search(section)), None)
    strong = [(j, f) for j, f in enumerate(fields) if f in KEY_FIELDS]
    kinds = {_KIND[f] for _, f in strong}
    if len(kinds) > 1:
        return Layout(None, fields=fields, why=f"table header names more than one code column "
                      f"({', '.join(sorted({f for _, f in strong}))})")
    if strong:
        j, f = strong[0]
        out = Layout(_KIND[f], j, f, fields, f"column {header[j]!r} names {_NAMES_OF[f]}")
        for k, other in strong[1:]:
            out.fields[k] = None
            out.notes.append(f"column {header[k]!r} also names {_NAMES_OF[other]}; kept as a qualifier")
        return _names_beside(out, header)
    # general words ("Code", "Diagnosis") and then any column: decided by the values
    order = [j for j, h in enumerate(header) if re.sub(r"[^a-z0-9]", "", h.lower()) in WEAK]
    order += [j for j in range(len(header)) if j not in order and fields[j] is None]
    for j in order:
        values = _values(rows, j)
        if not values or _codes_share(values) <= 0.5:
            continue
        word = WEAK.get(re.sub(r"[^a-z0-9]", "", header[j].lower()))
        kind, both, how = _value_kind(values, word or hint)
        if kind is None:
            return Layout(None, fields=fields, why=f"column {header[j]!r} holds values such as {both[0]!r} that fit "
                          f"several kinds of code ({', '.join(sorted(NAMES[k] for k in shapes(both[0])))}) and no "
                          "value or heading decides; name the column (e.g. 'HCPCS Code' or 'ICD-10 Code')")
        out = Layout(kind, j, kind, fields, f"column {header[j]!r}: {how}")
        out.fields[j] = kind
        if both:
            shown = ", ".join(both[:3]) + (f" and {len(both) - 3} more" if len(both) > 3 else "")
            fits = " and ".join(sorted(NAMES[k] for k in shapes(both[0])))
            out.notes.append(f"column {header[j]!r}: {shown} fit{'s' if len(both) == 1 else ''} the shapes of {fits} "
                             f"codes; read as {NAMES[kind]} codes like the column's other values")
        return _names_beside(out, header)
    for j, h in enumerate(header):
        values = _values(rows, j)
        if values and fields[j] in (None, "description") and \
                sum(1 for v in values if payers.resolve(v)) / len(values) > 0.5:
            out = Layout("payer", j, "payer", fields, f"column {h!r}: most values are payers of the registry")
            out.fields[j] = "payer"
            return out
    return Layout(None, fields=fields, why="expected a column named Modifier, Taxonomy Code, ICD-10 Code, CPT Code, "
                  "HCPCS Code or Payer, or a column of codes")


_NAMES_OF = {"modifier": "modifiers", "taxonomy": "NUCC taxonomies", "icd": "ICD-10-CM codes",
             "cpt": "CPT / HCPCS codes", "hcpcs": "HCPCS / CPT codes", "payer": "payers"}
assert set(KINDS) <= set(_KIND.values())
