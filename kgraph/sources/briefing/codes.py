"""Codes as people write them in a briefing cell, read into CURIEs, ranges and wildcards.

Input: one cell's text and the kind of code its column holds (``icd``, ``procedure``,
``modifier``, ``taxonomy``), or no kind (``shapes``: which kinds a value could be). Output: a
``Cell``: the codes (CURIEs), the ranges and wildcards kept as written (``Span``), text that
followed a code, the normalisations made (each a ``Note``) and, for a value that cannot be a
code of the column's kind, an error message. Pure functions; nothing is raised.

What is read, beyond a code written as in its code set (``K22.2``, ``43249``, ``G0121``, ``26``,
``207RG0100X``):

* lower case (``k22.2``, ``tc``), an ICD-10-CM code without its dot (``K222`` is K22.2), X
  placeholders and a 7th character (``T36.0x1a`` is T36.0X1A, ``S72.001A``);
* the code-set name before the code (``CPT 43249``, ``ICD-10: K22.2``, ``modifier 59``, ``-26``);
* text after the code (``K22.2 - Esophageal obstruction``), kept as the stated description;
* several codes in one cell (``K22.2, K22.3``): one edge each;
* ranges ``K20-K22``, ``K22.0 - K22.2``, ``J1100-J1130``, ``43200 to 43259`` and wildcards
  ``K22.x``, ``K22.*``, ``K22.-``, ``9921x``: kept as written (a ``Span``); the build expands them
  against the code sets it loads (``kgraph.ranges``).

A value that fits two kinds (a dotless ``A0100`` is a HCPCS code and ICD-10-CM A01.00) is read
as the kind of its column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kgraph.namespaces import icd10cm_with_dot, is_valid

KINDS = ("icd", "procedure", "modifier", "taxonomy")
#: how messages name a kind ("'XYZ' cannot be an ICD-10-CM code")
LABELS = {"icd": "an ICD-10-CM", "cpt": "a CPT or HCPCS", "hcpcs": "a HCPCS or CPT", "procedure": "a CPT or HCPCS",
          "modifier": "a modifier", "taxonomy": "a NUCC taxonomy"}
NAMES = {"icd": "ICD-10-CM", "procedure": "CPT or HCPCS", "modifier": "modifier", "taxonomy": "NUCC taxonomy"}

_NAMED = re.compile(r"^(?:cpt|hcpcs(?:\s+level\s+ii)?|icd[- ]?10(?:[- ]?cm)?|nucc|taxonomy|mod(?:ifier)?|code)"
                    r"[®\s]*(?:code)?\s*[:#]?\s*(?=\S)", re.IGNORECASE)
_RANGE = re.compile(r"^(\S+?)\s*(?:-|\u2013|\u2014|\bto\b|\bthrough\b|\bthru\b)\s*(\S+)$", re.IGNORECASE)
_WILD = re.compile(r"^(.+?)(?:\.?x+|\.?\*+|\.-|-)$")
_SPLIT = re.compile(r"\s*(?:[,;/]|\band\b|\bor\b)\s*", re.IGNORECASE)
GAP_RE = re.compile(
    r"^\(?\s*(?:data\s+)?not\s+(?:available|listed|provided|specified)\b|^\(?\s*(?:n/?a|unknown)\s*\)?\.?$",
    re.IGNORECASE,
)
_TEXT = re.compile(r"^(\S+?)(?:\s*[-\u2013\u2014:(]\s*|\s+)(.*[A-Za-z].*?)\)?$")


def is_gap(cell: str) -> bool:
    """Whether a cell says the data is missing rather than giving it ("Data not available in the input")."""
    return bool(GAP_RE.match(cell.strip()))


@dataclass(frozen=True)
class Note:
    """A normalisation: its key (one report per file), what was written and what it was read as."""

    key: str
    written: str
    read_as: str


@dataclass(frozen=True)
class Span:
    """A range (``first``..``last``) or wildcard (``stem``) of codes, kept as written."""

    prefix: str  # ICD10CM, CPT or HCPCS
    written: str
    first: str = ""
    last: str = ""
    stem: str = ""

    @property
    def wildcard(self) -> bool:
        return bool(self.stem)


@dataclass
class Cell:
    """What one code cell holds."""

    codes: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    text: str = ""
    notes: list[Note] = field(default_factory=list)
    error: str = ""


def _clean(raw: str) -> str:
    text = raw.strip().strip("`").strip()
    while len(text) > 4 and text[:2] == text[-2:] and text[:2] in ("**", "__"):
        text = text[2:-2].strip()  # bold left in a plain-text briefing
    return text.rstrip(",;").strip().removesuffix(".") if not text.endswith(".-") else text


def code_of(kind: str, value: str) -> str | None:
    """The CURIE of a bare value read as ``kind`` (after case and dot normalisation), else None."""
    upper = value.upper()
    if kind == "icd":
        dotted = icd10cm_with_dot(upper)
        return f"ICD10CM:{dotted}" if is_valid("ICD10CM", dotted) else None
    if kind == "procedure":
        prefix = next((p for p in ("CPT", "HCPCS") if is_valid(p, upper)), None)
        return f"{prefix}:{upper}" if prefix else None
    if kind == "modifier":
        upper = upper.lstrip("-")
        return f"MOD:{upper}" if is_valid("MOD", upper) else None
    if kind == "taxonomy":
        return f"NUCC:{upper}" if is_valid("NUCC", upper) else None
    return None


def _notes_for(kind: str, written: str, curie: str) -> list[Note]:
    local = curie.partition(":")[2]
    notes = []
    if any(c.islower() for c in written):
        notes.append(Note("lower case", written, curie))
    if kind == "icd" and "." not in written and "." in local:
        notes.append(Note("without the dot", written, curie))
    if kind == "modifier" and written.startswith("-"):
        notes.append(Note("with a leading hyphen", written, curie))
    return notes


def _span(kind: str, text: str) -> Span | None:
    """A range or wildcard of ``kind`` written as ``text``, else None."""
    if kind not in ("icd", "procedure"):
        return None
    match = _RANGE.match(text)
    if match:
        first, last = code_of(kind, match.group(1)), code_of(kind, match.group(2))
        if first and last and first.partition(":")[0] == last.partition(":")[0]:
            prefix, a, b = first.partition(":")[0], first.partition(":")[2], last.partition(":")[2]
            if prefix != "ICD10CM" and (len(a) != len(b) or a[0].isalpha() != b[0].isalpha()
                                        or a[-1].isalpha() != b[-1].isalpha()):
                return None
            return Span(prefix, text, first=a, last=b)
    return _wildcard(kind, text)


def _wildcard(kind: str, text: str) -> Span | None:
    """``K22.x``, ``K22.*``, ``K22.-``, ``9921x``, ``J11xx``: every code under the stem. Only a lower-case
    x is a wildcard in ICD-10-CM: an upper-case X is a placeholder, part of the code (J09.X is a code)."""
    match = _WILD.match(text if kind == "icd" else text.replace("X", "x"))
    if not match or kind == "procedure" and "." in text:
        return None
    stem = match.group(1).upper().rstrip(".")
    if kind == "icd" and re.fullmatch(r"([A-Z][0-9]|QA)[0-9A-Z](\.?[0-9A-Z]{0,3})?", stem):
        return Span("ICD10CM", text, stem=icd10cm_with_dot(stem))
    if kind == "procedure" and re.fullmatch(r"[0-9]{2,4}|[A-V][0-9]{1,3}", stem):
        return Span("HCPCS" if stem[0].isalpha() else "CPT", text, stem=stem)
    return None


def _one(kind: str, text: str, cell: Cell) -> bool:
    """Read one code, range or wildcard into ``cell``; False when ``text`` is none of them."""
    named = _NAMED.match(text)
    if named and code_of(kind, text[named.end():].strip()) or named and _span(kind, text[named.end():].strip()):
        rest = text[named.end():].strip()
        cell.notes.append(Note("with its code-set name", text, rest))
        text = rest
    wild = _wildcard(kind, text)
    if wild:
        cell.spans.append(wild)
        cell.notes.append(Note("wildcard", text, "kept as written"))
        if any(c.islower() for c in text.rstrip("xX*-.")):
            cell.notes.append(Note("lower case", text, f"{wild.stem} and the codes under it"))
        return True
    curie = code_of(kind, text)
    if curie:
        cell.codes.append(curie)
        cell.notes.extend(_notes_for(kind, text, curie))
        return True
    span = _span(kind, text)
    if span:
        cell.spans.append(span)
        cell.notes.append(Note("wildcard" if span.wildcard else "range", text, "kept as written"))
        return True
    return False


def _listed(cell: Cell) -> str:
    return ", ".join([*cell.codes, *(s.written for s in cell.spans)])


def read_cell(raw: str, kind: str, label: str | None = None) -> Cell:
    """The codes, ranges and text of a code cell of a column of ``kind``.

    >>> read_cell("k222", "icd").codes
    ['ICD10CM:K22.2']
    >>> c = read_cell("K20-K22", "icd"); (c.spans[0].first, c.spans[0].last)
    ('K20', 'K22')
    >>> read_cell("A0100", "procedure").codes, read_cell("A0100", "icd").codes
    (['HCPCS:A0100'], ['ICD10CM:A01.00'])
    >>> read_cell("XYZ", "icd").error
    "'XYZ' cannot be an ICD-10-CM code"
    """
    cell = Cell()
    text = _clean(raw)
    what = LABELS[label or kind]
    if not text:
        cell.error = f"empty {what.split(' ', 1)[1]} code"
        return cell
    if _one(kind, text, cell):
        return cell
    parts = [p for p in _SPLIT.split(text) if p]
    if len(parts) > 1:
        trial = Cell()
        if all(_one(kind, _clean(p), trial) for p in parts):
            trial.notes.append(Note("several codes in one cell", text, _listed(trial)))
            return trial
    match = _TEXT.match(text)
    if match:
        trial = Cell()
        if _one(kind, _clean(match.group(1)), trial):
            trial.text = match.group(2).strip()
            trial.notes.append(Note("with text after the code", text, _listed(trial)))
            return trial
    others = [k for k in KINDS if k != kind and shapes(text) & {k}]
    hint = f" (it has the shape of {LABELS[others[0]]} code)" if others else ""
    cell.error = f"{raw.strip()!r} cannot be {what} code{hint}"
    return cell


def shapes(raw: str) -> set[str]:
    """The kinds a value could be (empty when it is no code): ``{'procedure', 'icd'}`` for ``A0100``.

    >>> sorted(shapes("A0100")), sorted(shapes("K222")), sorted(shapes("43249")), sorted(shapes("Aetna"))
    (['icd', 'procedure'], ['icd'], ['procedure'], [])
    """
    text = _clean(raw)
    found = set()
    for kind in KINDS:
        if kind == "modifier" and any(c.islower() for c in text):
            continue  # "No", "Ok": words, not modifiers, in a column that does not say it holds modifiers
        cell = Cell()
        if _one(kind, text, cell):
            found.add(kind)
            continue
        parts = [p for p in _SPLIT.split(text) if p]
        if len(parts) > 1 and all(_one(kind, _clean(p), Cell()) for p in parts):
            found.add(kind)
    return found
