"""ICD-10-CM Excludes1 notes from the CDC tabular XML -> ``Excludes1Note`` rows and conflict edges.

Input: the CDC "ICD-10-CM Tabular List" XML (``icd10cm-tabular-*.xml``). By default the copy
shipped inside the PyPI package ``simple-icd-10-cm`` (``simple_icd_10_cm/data/
icd10c-tabular-April-1-2026.xml``, located without importing the package; nothing is copied
into kgraph). ``path`` may be None, ``pkg:simple_icd_10_cm`` (or ``pkg:<package>/<file>``, or
another package that ships such a file), the bare package name, or the path of an XML file.

Output: for every ``<note>`` of an ``<excludes1>`` directly under a ``<diag>`` (a category such
as K22 or any code below it; the diag's ``<name>`` is the code the note is on):

* ``Row("Excludes1Note")`` with ``about`` (the code), ``noteText`` (as written), one ``target``
  per single code or category the note names in parentheses (``(K20.-)`` -> ICD10CM:K20,
  ``(Q39.4)``, ``(K22.7-)`` -> ICD10CM:K22.7), one ``targetRange`` per range (``(C00-D49)``,
  ``(B38.0-B38.2)``), and one ``targetPattern`` per target written with a character rule
  (``(E08-E13 with .42)``, ``(S06.0X- with seventh character A)``), kept as written.
  Ranges, categories and patterns are stored as written, never expanded into codes: a note on
  a category applies to its descendants, which ``covers`` answers at query time;
* ``Edge(about, "conflictsWith", target, statement=False)`` for each single target (not for
  ranges or patterns);
* the codes of the release, when the CDC code list of the same release lies beside the XML
  (``code-list-April-2026.txt``, as the package ships it): ``Fact(code, "inRelease", effective
  date)`` for each code and ``billableInRelease`` for each code no other listed code extends
  (the claim check uses them from that date to the end of its fiscal year, ``kgraph.rules.icd``);
  without one, an info problem says the release's codes were not read;
* Meta ``release`` ("April 2026") and ``effective`` ("2026-04-01") from the file name, else
  ``release`` from the XML's ``<version>``. The CDC XML carries no licence notice (US Government
  work), so no ``notice`` is yielded.

Origins are the 1-based line of the note's closing tag (the parser is fed line by line, so this
is exact for the one-line notes the CDC writes). Only parenthesised codes are targets: a code
written bare in the text ("hearing loss as classified in H90.-", about 20 notes in April 2026)
or a note that names none ("certain localized infections - see body system-related chapters") keeps
its text with no target. A parenthesised word is a target only if it has the strict code shape
(letter, digit, ...) or is a code of this tabular (FY2026's QA0): ``(HIV)`` or ``(G6PD)`` is not.

Not read: Excludes1 notes on chapters and sections (154 notes in April 2026, e.g. on block
G50-G59; their subject is a block, not a code; one ``info`` problem counts them), Excludes2,
Includes, Code first / Use additional code notes, and the hierarchy (the CMS order files give
it, see ``icd10cm``).

Problems (never raised): a missing file or package, XML that is not well formed (naming the
line) or whose root is not ``<ICD10CM.tabular>`` refuse the file and nothing else is yielded;
a note on a diag whose name is not a code is skipped; a single target that names no code of
this tabular is kept with a warning.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

from kgraph import namespaces as ns
from kgraph.errors import Origin
from kgraph.namespaces import is_valid
from kgraph.records import Edge, Fact, Meta, Problem, Record, Ref, Row, Value
from kgraph.rules import icd as icd_rules
from kgraph.sources._io import open_binary

#: kg: terms this reader writes that are not in kgraph.namespaces (merged into the ontology)
TERMS: dict[str, tuple[str, str]] = {
    "Excludes1Note": ("class", "An ICD-10-CM Excludes1 note ('NOT CODED HERE') as written in the CDC "
                      "tabular list: kg:about the code it is on, kg:noteText, and the codes, ranges and "
                      "patterns it names. A note on a category applies to the category's descendants."),
    "noteText": ("datatype:string", "The text of a tabular-list note, as written."),
    "target": ("object", "A code or category an Excludes1 note names (a category stands for itself "
               "and its descendants; not expanded)."),
    "targetRange": ("datatype:string", "A range of categories or codes an Excludes1 note names, as "
                    "written (\"C00-D49\", \"B38.0-B38.2\"); not expanded."),
    "inRelease": ("datatype:date", "The effective date of a mid-year ICD-10-CM release (the April 1 update) "
                  "whose CDC code list lists the code."),
    "billableInRelease": ("datatype:date", "The effective date of a mid-year ICD-10-CM release in which the "
                          "code is billable (listed, with no code below it)."),
    "targetPattern": ("datatype:string", "A target an Excludes1 note writes with a character rule, as "
                      "written (\"E08-E13 with .42\"); not resolved to codes."),
}

PACKAGE = "simple_icd_10_cm"
ROOT_TAG = "ICD10CM.tabular"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
RELEASE_RE = re.compile(r"tabular-([A-Za-z]+)-(\d{1,2})-(\d{4})", re.IGNORECASE | re.ASCII)
PAREN_RE = re.compile(r"\(([^()]*)(?:\)|$)")
_CODE = r"[A-Z][0-9A-Z]{2}(?:\.[0-9A-Z]{1,4})?"
SINGLE_RE = re.compile(rf"^({_CODE})-?$")
RANGE_RE = re.compile(rf"^({_CODE})-?\s*-\s*({_CODE})-?$")
SPLIT_RE = re.compile(r",|\band\b")  # "(C91.-, C92.-)", "(A00-R94 and T80-T88.6, T88.8)"
PATTERN_RE = re.compile(r"^[A-Z][0-9A-Z]{2}[-.0-9A-Z\s]*with\b")


@dataclass(slots=True)
class _Note:
    about: str
    text: str
    line: int


def read(path: str | Path | None = None, *, display: str | None = None, **_: object) -> Iterator[Record]:
    """Excludes1 rows and ``conflictsWith`` edges of a tabular XML (default: the packaged one)."""
    located = locate(path)
    if isinstance(located, str):
        yield Problem(Origin(display or str(path or f"pkg:{PACKAGE}")), located, action="file refused")
        return
    file, default_shown = located
    # a package's file is shown by where it lies in the package, not as the manifest's pkg: entry
    shown = default_shown if not display or display.startswith("pkg:") else display
    parsed = _parse(file, shown)
    if isinstance(parsed, Problem):
        yield parsed
        return
    notes, names, version, skipped = parsed
    release = RELEASE_RE.search(file.name)
    origin = Origin(shown)
    effective = _effective(release) if release else None
    if release and effective:
        yield Meta("release", f"{release.group(1).capitalize()} {release.group(3)}", origin)
        yield Meta("effective", effective, origin)
    elif version:
        yield Meta("release", version, origin)
    for note in notes:
        yield from _note_records(note, names, shown)
    if release and effective:
        yield from _code_list(file, release, effective, shown)
    if skipped:
        yield Problem(origin, f"{skipped} Excludes1 notes on chapters and sections not read: their subject "
                      "is a block of categories, not a code", severity="info", action="kept")


def _code_list(file: Path, release: re.Match[str], effective: str, shown: str) -> Iterator[Record]:
    """``inRelease`` / ``billableInRelease`` facts (the release's effective date) for every code of
    the CDC code list beside the XML (``code-list-April-2026.txt``: chapter numbers, blocks such as
    ``A00-A09`` and codes without dots, one a line; a code is billable when no code below it is
    listed, ``kgraph.rules.icd.listed_billable``). Without such a file, one info problem says the
    release's codes were not read (diagnoses are then judged by the fiscal-year files alone)."""
    name = f"code-list-{release.group(1).capitalize()}-{release.group(3)}.txt"
    path = file.parent / name
    where = str(Path(shown).parent / name) if "/" in shown else name
    if not path.is_file():
        yield Problem(Origin(shown), f"no code list {name} beside this file: the codes of this release were not "
                      "read, so claims are judged by the fiscal-year code files alone", severity="info", action="kept")
        return
    lines: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield Problem(Origin(where), f"cannot read the code list: {exc}", action="file refused")
        return
    for number, raw in enumerate(text.splitlines(), 1):
        token = raw.split(maxsplit=1)[0] if raw.strip() else ""
        if not token or token.isdigit() or "-" in token:
            continue  # a chapter number or a block of categories, not a code
        if not ns.is_icd10cm_code(ns.icd10cm_with_dot(token)):
            yield Problem(Origin(where, number), f"{token!r} is not an ICD-10-CM code; line skipped",
                          severity="warning", action="skipped")
            continue
        lines.setdefault(token, number)
    day = date.fromisoformat(effective)
    for code, billable in icd_rules.listed_billable(lines).items():
        curie = f"ICD10CM:{ns.icd10cm_with_dot(code)}"
        origin = Origin(where, lines[code])
        yield Fact(curie, "inRelease", day, origin)
        if billable:
            yield Fact(curie, "billableInRelease", day, origin)


def _effective(release: re.Match[str]) -> str | None:
    """The ISO date a file name such as ``...-April-1-2026.xml`` gives; None if there is no such day.

    >>> [_effective(RELEASE_RE.search(f"icd10cm-tabular-April-{day}-2026.xml")) for day in (1, 99)]
    ['2026-04-01', None]
    """
    name = release.group(1).capitalize()
    if name not in MONTHS:
        return None
    try:
        return date(int(release.group(3)), MONTHS.index(name) + 1, int(release.group(2))).isoformat()
    except ValueError:
        return None


def locate(path: str | Path | None) -> tuple[Path, str] | str:
    """The XML file and how to show it, or why it cannot be found.

    A package is found with ``importlib.util.find_spec``, which does not import it: importing
    simple_icd_10_cm loads its whole code tree (1.7 s) that this reader does not use.
    """
    text = str(path) if path is not None else ""
    marker = text.find("pkg:")
    package, inner = "", ""
    if path is None:
        package = PACKAGE
    elif marker >= 0:
        package, _, inner = text[marker + 4:].partition("/")
    elif Path(text).name.replace("-", "_") == PACKAGE and not Path(text).exists():
        package = PACKAGE
    if not package:
        file = Path(text)
        return (file, text) if file.is_file() else "no such file"
    module = package.replace("-", "_")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return f"package {module} is not installed (pip install {module.replace('_', '-')})"
    root = Path(next(iter(spec.submodule_search_locations)))
    if inner:
        found = [root / inner] if (root / inner).is_file() else []
    else:
        found = sorted(p for folder in (root, root / "data") if folder.is_dir() for p in folder.iterdir()
                       if re.match(r"icd10c\w*-tabular.*\.xml$", p.name, re.IGNORECASE))
    if not found:
        return f"package {module} holds no ICD-10-CM tabular XML ({inner or 'icd10c*-tabular*.xml'})"
    file = found[-1]
    return file, f"{module}/{file.relative_to(root).as_posix()}"


def _parse(file: Path, shown: str) -> tuple[list[_Note], set[str], str, int] | Problem:
    """Stream the XML: Excludes1 notes on diags, every diag name, <version>, notes not on a diag."""
    parser: ET.XMLPullParser = ET.XMLPullParser(events=("start", "end"))
    stack: list[str] = []
    diags: list[str] = []
    notes: list[_Note] = []
    names: set[str] = set()
    version, skipped, number = "", 0, 0
    try:
        with open_binary(file) as handle:
            for number, raw in enumerate(handle, 1):
                parser.feed(raw)
                for pair in parser.read_events():
                    event, elem = cast(tuple[str, ET.Element], pair)
                    if event == "start":
                        if not stack and elem.tag != ROOT_TAG:
                            return Problem(Origin(shown, number), f"not an ICD-10-CM tabular XML: expected root "
                                           f"<{ROOT_TAG}>, found <{elem.tag}>", action="file refused")
                        stack.append(elem.tag)
                        if elem.tag == "diag":
                            diags.append("")
                        continue
                    stack.pop()
                    tag, parent = elem.tag, stack[-1] if stack else ""
                    if tag == "note" and parent == "excludes1":
                        if len(stack) > 1 and stack[-2] == "diag":
                            notes.append(_Note(diags[-1], "".join(elem.itertext()).strip(), number))
                        else:
                            skipped += 1  # on a chapter or section: a block, not a code
                    elif tag == "name" and parent == "diag":
                        diags[-1] = (elem.text or "").strip()
                        names.add(diags[-1])
                    elif tag == "diag":
                        diags.pop()
                    elif tag == "version" and parent == ROOT_TAG:
                        version = (elem.text or "").strip()
                    elem.clear()
            parser.close()
    except OSError as exc:
        return Problem(Origin(shown), f"cannot read file: {exc.strerror or exc}", action="file refused")
    except (LookupError, ValueError) as exc:  # encoding="no-such" or "cp932" (expat reads 1-byte ones only)
        return Problem(Origin(shown, number), f"the XML declaration names an encoding that cannot be read: {exc}",
                       action="file refused")
    except ET.ParseError as exc:
        line, column = exc.position if exc.position else (number, 0)
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        if reason == "no element found":
            message = "empty file" if not number else "the XML ends before its root element does (truncated?)"
        else:
            message = f"not well-formed XML: {reason} (column {column + 1})"
        return Problem(Origin(shown, line or number), message, action="file refused")
    return notes, names, version, skipped


def targets(text: str, known: set[str] | frozenset[str] = frozenset()) -> tuple[list[str], list[str], list[str]]:
    """The single codes, ranges and patterns a note names in parentheses, in order, as written.

    A category written ``K20.-`` or ``K22.7-`` is the code ``K20`` / ``K22.7``; a stray dot
    before the dash (``D29.2.-``) is dropped. ``known`` (codes of the tabular) admits codes with
    a letter in position 2 such as QA0; otherwise only the strict shape (letter, digit) counts.

    >>> targets("esophageal varices (I85.-)")
    (['I85'], [], [])
    >>> targets("leukemia (C91.-, C92.-), neoplasms (C00-D49), diabetes (E08-E13 with .42)")
    (['C91', 'C92'], ['C00-D49'], ['E08-E13 with .42'])
    >>> targets("adverse effects (A00-R94 and T80-T88.6, T88.8)")
    (['T88.8'], ['A00-R94', 'T80-T88.6'], [])
    >>> targets("deficiency (G6PD) (D55.0) and (HIV)")
    (['D55.0'], [], [])
    """
    singles: list[str] = []
    ranges: list[str] = []
    patterns: list[str] = []
    for group in PAREN_RE.findall(text):
        for written in SPLIT_RE.split(group):
            part = written.strip()
            normal = re.sub(r"\.-", "-", part)
            single, span = SINGLE_RE.match(normal), RANGE_RE.match(normal)
            if single and _shaped(single.group(1), known):
                _add(singles, single.group(1))
            elif span and _shaped(span.group(1), known) and _shaped(span.group(2), known):
                _add(ranges, f"{span.group(1)}-{span.group(2)}")
            elif PATTERN_RE.match(part):
                _add(patterns, part)
    return singles, ranges, patterns


def _shaped(code: str, known: set[str] | frozenset[str]) -> bool:
    return is_valid("ICD10CM", code) or code in known


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _note_records(note: _Note, names: set[str], shown: str) -> Iterator[Record]:
    origin = Origin(shown, note.line)
    if not ns.is_icd10cm_code(note.about):
        yield Problem(origin, f"Excludes1 note on {note.about!r}, which is not an ICD-10-CM code")
        return
    about = f"ICD10CM:{note.about}"
    singles, ranges, patterns = targets(note.text, names)
    fields: list[tuple[str, Value]] = [("about", Ref(about)), ("noteText", note.text)]
    fields += [("target", Ref(f"ICD10CM:{code}")) for code in singles]
    fields += [("targetRange", span) for span in ranges]
    fields += [("targetPattern", rule) for rule in patterns]
    yield Row("Excludes1Note", origin, fields=tuple(fields))
    for code in singles:
        if code not in names:
            yield Problem(origin, f"Excludes1 note names {code}, which is not a code of this tabular list",
                          severity="warning", action="kept", curie=about)
        yield Edge(about, "conflictsWith", f"ICD10CM:{code}", origin, statement=False)


def covers(note_target: str, code: str) -> bool:
    """Whether a note target (a code, a category, or a range) covers ``code`` through the hierarchy.

    A code or category covers itself and its descendants (``K22`` covers K22.70, ``K22.7-``
    covers K22.71); a range covers the codes whose leading characters, as many as the range's
    ends have, fall inside it (``K20-K31`` covers K21.00; ``B38.0-B38.2`` covers B38.1 but not
    B38.81 nor the category B38 itself). Dots, a trailing ``-`` and an ``ICD10CM:`` prefix are
    ignored. Raises ValueError for a target that is neither (``E08-E13 with .42``).

    >>> covers("K22", "K22.70"), covers("K22", "K21.0"), covers("ICD10CM:K20.-", "ICD10CM:K20.81")
    (True, False, True)
    >>> covers("K20-K31", "K21.00"), covers("K20-K31", "K31"), covers("K20-K31", "K35.2")
    (True, True, False)
    >>> covers("C00-D49", "D49.9"), covers("C00-D49", "B99.9")
    (True, False)
    >>> covers("B38.0-B38.2", "B38.1"), covers("B38.0-B38.2", "B38.81"), covers("B38.0-B38.2", "B38")
    (True, False, False)
    """
    target = _bare(note_target)
    subject = _bare(code)
    start, sep, end = target.partition("-")
    if not start or (sep and not end) or not re.fullmatch(r"[A-Z][0-9A-Z]{2,6}", start) or (
            sep and not re.fullmatch(r"[A-Z][0-9A-Z]{2,6}", end)):
        raise ValueError(f"{note_target!r} is not a code, a category or a range of them")
    if not sep:
        return subject.startswith(start)
    return start <= subject[:len(start)] and subject[:len(end)] <= end


def _bare(value: str) -> str:
    """``ICD10CM:K20.-`` -> ``K20``; ``F98.2.-F98.3`` -> ``F982-F983``."""
    text = value.strip().upper()
    if text.startswith("ICD10CM:"):
        text = text[8:]
    text = text.replace(".", "").replace(" ", "")
    return text[:-1] if text.endswith("-") else text
