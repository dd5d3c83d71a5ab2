"""Which code a briefing is about, its title and its date.

Input: the text blocks and front matter of a ``blocks.Document``. Output: ``Subject`` (kind, code,
title, line) found by the rules below, and a briefing date read from a ``Date:`` key. Pure; never
raises. The subject is, first found: a front-matter key (``code: 43254``, also ``cpt code``,
``hcpcs code``); a title line ``CPT 74360: <title>`` (also ``# CPT 74360 — ...`` and
``**CPT 74360** – ...`` once Markdown is reduced to text, ``HCPCS G0121 - ...``, or the code alone);
a ``Code: 45378`` line naming a valid code. A ``Code:`` subject takes its title from the front
matter, a heading, a ``Title:`` line or a short first line above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from kgraph.namespaces import is_valid
from kgraph.sources.briefing import blocks

TITLE_RE = re.compile(r"^\s*(CPT|HCPCS)\S*\s+(?:[Cc]ode\s+)?([0-9A-Za-z]{5})\s*(?:[:\u2013\u2014-]\s*(.*?))?\s*$")
SUBJECT_KEYS = ("code", "cpt code", "hcpcs code", "cpt", "hcpcs", "procedure code", "billing code", "subject code")
DATE_KEYS = ("date", "as of", "effective", "effective date", "last updated", "updated", "version date")
_DATE_FORMATS = ("%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%m/%d/%Y", "%Y/%m/%d")


@dataclass(frozen=True)
class Subject:
    kind: str  # CPT or HCPCS
    code: str
    title: str | None
    line: int  # of the title block or key (0: no line)


def find(doc: blocks.Document) -> Subject | None:
    """The subject of a briefing (see the module docstring), or None when it names none."""
    front = doc.front
    texts = [b for b in doc.blocks if isinstance(b, blocks.Text)]
    key = next((k for k in SUBJECT_KEYS if k in front), None)
    if key:
        value, line = front[key]
        kind, code = _procedure(value, key)
        title = front.get("title", ("", 0))[0] or next((b.text for b in texts if b.heading), None)
        return Subject(kind, code, title, line)
    for block in texts:
        match = TITLE_RE.match(block.text)
        if match:
            return Subject(match.group(1).upper(), match.group(2).upper(), match.group(3), block.line)
    for block in texts:
        name, sep, value = block.text.partition(":")
        if sep and name.strip().lower() in SUBJECT_KEYS and value.strip():
            kind, code = _procedure(value, name)
            if is_valid(kind, code):
                return Subject(kind, code, _title_near(texts, block.line), block.line)
    return None


def date_given(doc: blocks.Document) -> tuple[str, int] | None:
    """The briefing's date as written and its line: a front-matter key, else a ``Date:`` line."""
    front = doc.front
    when = next(((front[k][0], front[k][1]) for k in DATE_KEYS if k in front), None)
    for block in [b for b in doc.blocks if isinstance(b, blocks.Text)] if when is None else ():
        name, sep, value = block.text.partition(":")
        if sep and name.strip().lower() in DATE_KEYS and value.strip():
            return value.strip(), block.line
    return when


def parse_date(text: str) -> date | None:
    """A date as people write it: 2024-08-01, August 1, 2024, Aug 1, 2024, 1 August 2024, 08/01/2024.

    >>> parse_date("August 1, 2024"), parse_date("soon")
    (datetime.date(2024, 8, 1), None)
    """
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _title_near(texts: list[blocks.Text], code_line: int) -> str | None:
    """The title of a briefing whose code is a 'Code:' line: a heading, a 'Title:' line, else a short first line
    above the code line."""
    for block in texts:
        key, sep, value = block.text.partition(":")
        if block.heading or sep and key.strip().lower() == "title" and value.strip():
            return value.strip() if sep and not block.heading else block.text.strip()
    first = next((b for b in texts if b.text.strip()), None)
    if first and first.line < code_line and len(first.text) <= 80 and ":" not in first.text:
        return first.text.strip()
    return None


def _procedure(value: str, key: str) -> tuple[str, str]:
    """(kind, code) of a subject code given as a key's value: 'CPT 74360', '74360', 'G0121'."""
    text = value.strip().strip("*`")
    named = re.match(r"^(CPT|HCPCS)\S*\s+(?:code\s+)?", text, re.IGNORECASE)
    if named:
        return named.group(1).upper(), text[named.end():].strip().upper()
    code = text.upper()
    if "hcpcs" in key.lower() or is_valid("HCPCS", code):
        return "HCPCS", code
    return "CPT", code
