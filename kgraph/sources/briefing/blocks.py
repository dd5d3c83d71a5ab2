"""A briefing file as blocks: text lines, headings, list items and tables, with their line numbers.

Input: the text of a briefing. Output: a ``Document``: the format (``text``, ``markdown``,
``html``) and why it was chosen, front-matter keys, and the blocks in reading order, each with
the 1-based physical line it starts on. The format is chosen by the content, never by the file
name alone (``detect``):

* HTML when the text starts with an HTML tag or doctype (a wiki export); parsed with the
  standard library's ``html.parser`` (headings, paragraphs split at ``<br>``, list items,
  definition lists, ``<table>`` rows of ``<th>`` / ``<td>`` cells), line numbers from ``getpos``;
  ``<script>``, ``<style>`` and ``<head>`` (except ``<title>``) are not read;
* Markdown when it shows Markdown syntax: front matter, ``#`` headings, ``**bold**``, list
  items, links, fenced code, block quotes; parsed with markdown-it-py (CommonMark and GFM
  tables), whose tokens carry their source lines; inline markup is reduced to its text; HTML
  tables inside Markdown are parsed as HTML;
* plain text otherwise (the seed's family): lines with ``|`` are table rows, the others text.

Front matter (a first line ``---``, ``key: value`` lines, a closing ``---``) is read in every
format. The module does not decide what a block means (``reader``) and never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

SEPARATOR_RE = re.compile(r"^\s*:?-{2,}:?\s*$")
_HTML_START = re.compile(r"\s*<(?:!doctype\s+html|html|head|body|!--|meta|div|section|article|main|h[1-6]|table|p"
                         r"|title|ul|ol)\b", re.IGNORECASE)
_MD_SIGNS = (
    (re.compile(r"^#{1,6}\s+\S"), "a '#' heading"),
    (re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"), "**bold** text"),
    (re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+\S"), "a list item"),
    (re.compile(r"\[[^\]\n]+\]\([^)\n]+\)"), "a [link](...)"),
    (re.compile(r"^\s{0,3}(?:```|~~~)"), "a fenced code block"),
    (re.compile(r"^\s{0,3}>\s"), "a block quote"),
)
_FRONT_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _-]{0,40}?)\s*:\s*(.*?)\s*$")


@dataclass
class Row:
    cells: list[str]
    line: int
    separator: bool = False
    #: why the row cannot be a row of its table as written (a Markdown line without '|' ...)
    defect: str = ""
    #: number of cells as written when the parser padded or cut the row (Markdown)
    written: int | None = None


@dataclass
class Table:
    rows: list[Row]
    line: int


@dataclass
class Text:
    text: str
    line: int
    heading: int = 0  # 1-6 for an explicit heading (Markdown, HTML), 0 otherwise
    item: bool = False  # a list item


Block = Text | Table


@dataclass
class Document:
    format: str
    why: str
    blocks: list[Block] = field(default_factory=list)
    front: dict[str, tuple[str, int]] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, what was not read)


def split_row(line: str) -> list[str]:
    """The cells of a pipe-table line; leading and trailing pipes are optional.

    >>> split_row("| K22.2 | Esophageal obstruction |")
    ['K22.2', 'Esophageal obstruction']
    >>> split_row("26 | Professional component | When billing")
    ['26', 'Professional component', 'When billing']
    """
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|"):
        text = text[:-1]
    return [cell.strip() for cell in text.split("|")]


def _is_separator(cells: list[str]) -> bool:
    return any(cells) and all(SEPARATOR_RE.match(c) for c in cells if c)


def front_matter(lines: list[str]) -> tuple[dict[str, tuple[str, int]], int]:
    """Front-matter keys (lower case) -> (value, line), and how many lines it takes (0 if none)."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    found: dict[str, tuple[str, int]] = {}
    for i in range(1, min(len(lines), 60)):
        if lines[i].strip() in ("---", "..."):
            return found, i + 1
        m = _FRONT_KEY.match(lines[i])
        if not m and lines[i].strip():
            return {}, 0  # not key: value lines: a thematic break, not front matter
        if m:
            found[m.group(1).strip().lower()] = (m.group(2).strip().strip("'\""), i + 1)
    return {}, 0


def detect(text: str, lines: list[str]) -> tuple[str, str]:
    """The format of a briefing and why: ('html' | 'markdown' | 'text', reason)."""
    if _HTML_START.match(text):
        tag = _HTML_START.match(text).group(0).strip()  # type: ignore[union-attr]
        return "html", f"it starts with the HTML tag {tag}...>"
    front, end = front_matter(lines)
    if end:
        return "markdown", f"front matter on lines 1-{end}"
    for number, line in enumerate(lines, 1):
        for pattern, what in _MD_SIGNS:
            if pattern.search(line):
                return "markdown", f"{what} on line {number}"
    return "text", "no HTML tag or Markdown syntax: lines with '|' are table rows"


def parse(text: str) -> Document:
    """The blocks of a briefing's text (see the module docstring)."""
    lines = [ln.rstrip("\r") for ln in text.split("\n")]  # physical lines; not splitlines (form feeds)
    fmt, why = detect(text, lines)
    front, end = front_matter(lines)
    doc = Document(fmt, why, front=front)
    body = [""] * end + lines[end:]  # front matter blanked, line numbers kept
    if fmt == "html":
        _html("\n".join(body), doc, 0)
    elif fmt == "markdown":
        _markdown(body, doc)
    else:
        _text(body, doc)
    return doc


def _text(lines: list[str], doc: Document) -> None:
    table: Table | None = None
    for number, line in enumerate(lines, 1):
        if "|" not in line:
            table = None
            doc.blocks.append(Text(line, number))
            continue
        cells = split_row(line)
        if table is None:
            table = Table([], number)
            doc.blocks.append(table)
        table.rows.append(Row(cells, number, separator=_is_separator(cells)))


# --- Markdown ---------------------------------------------------------------------------------------


def _inline_text(token: object) -> list[str]:
    """The plain text of an inline token, one string per source line (soft and hard breaks split)."""
    out = [""]
    for child in getattr(token, "children", None) or []:
        kind = child.type
        if kind in ("softbreak", "hardbreak"):
            out.append("")
        elif kind in ("text", "code_inline"):
            out[-1] += child.content
        elif kind == "html_inline" and re.match(r"<br\s*/?>", child.content, re.IGNORECASE):
            out.append("")
        elif kind == "image":
            out[-1] += child.content
    return out


def _cells_written(line: str) -> int:
    """Cells of a Markdown table line as written: '|' outside code spans and not escaped."""
    text, count, tick = line.strip(), 1, False
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    for i, ch in enumerate(text):
        if ch == "`":
            tick = not tick
        elif ch == "|" and not tick and (i == 0 or text[i - 1] != "\\"):
            count += 1
    return count


def _markdown(lines: list[str], doc: Document) -> None:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse("\n".join(lines))
    heading, item_depth, table, row = 0, 0, None, None
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading = int(token.tag[1])
        elif kind == "heading_close":
            heading = 0
        elif kind == "list_item_open":
            item_depth += 1
        elif kind == "list_item_close":
            item_depth -= 1
        elif kind == "table_open" and token.map:
            table = Table([], token.map[0] + 1)
            doc.blocks.append(table)
        elif kind == "table_close":
            table = None
        elif kind == "tr_open" and table is not None and token.map:
            number = token.map[0] + 1
            source = lines[number - 1]
            row = Row([], number)
            if "|" not in source:
                row.defect = ("a line without '|' that Markdown takes into the table above (a table ends at a "
                              "blank line); add a blank line after the table")
            else:
                row.written = _cells_written(source)
            table.rows.append(row)
        elif kind == "tr_close" and table is not None and row is not None:
            if len(table.rows) == 1:  # the header row: GFM requires a separator line under it
                table.rows.append(Row([], row.line + 1, separator=True))
            if _is_separator(row.cells):
                row.separator = True
            row = None
        elif kind == "inline" and row is not None:
            row.cells.append(" ".join(t.strip() for t in _inline_text(token)).strip())
        elif kind == "inline" and token.map:
            for i, text in enumerate(_inline_text(token)):
                doc.blocks.append(Text(text, token.map[0] + 1 + i, heading=heading, item=item_depth > 0))
        elif kind == "html_block" and token.map:
            if re.search(r"<t[rdh]\b", token.content, re.IGNORECASE):
                _html(token.content, doc, token.map[0])
            elif not token.content.lstrip().startswith("<!--"):
                doc.skipped.append((token.map[0] + 1, "an HTML block without a table"))
        elif kind in ("fence", "code_block") and token.map:
            doc.skipped.append((token.map[0] + 1, "a code block"))


# --- HTML -------------------------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "title", "caption", "blockquote",
               "pre", "section", "article", "header", "footer", "main", "body", "ul", "ol", "dl", "figcaption"}
_SKIP_TAGS = {"script", "style", "noscript", "template"}


class _HTMLBlocks(HTMLParser):
    def __init__(self, doc: Document, offset: int) -> None:
        super().__init__(convert_charrefs=True)
        self.doc, self.first_line = doc, offset  # not self.offset: HTMLParser keeps its column there
        self.buffer: list[str] = []
        self.line = 0
        self.skip = 0  # inside <script>, <style> ...
        self.in_head = False
        self.in_title = False
        self.heading = 0
        self.items = 0
        self.tables: list[tuple[Table, Row | None, list[str] | None]] = []
        self.dt: tuple[str, int] | None = None

    def _where(self) -> int:
        return self.getpos()[0] + self.first_line

    def _flush(self, tag: str = "") -> None:
        text = " ".join("".join(self.buffer).split())
        if text:
            if tag == "dt":
                self.dt = (text, self.line)
            elif tag == "dd" and self.dt:
                self.doc.blocks.append(Text(f"{self.dt[0]}: {text}", self.dt[1], item=True))
                self.dt = None
            else:
                self.doc.blocks.append(Text(text, self.line, heading=self.heading or (1 if self.in_title else 0),
                                            item=self.items > 0))
        self.buffer = []
        self.line = 0

    @property
    def reading(self) -> bool:
        return not self.skip and (not self.in_head or self.in_title)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self.in_head = True
            return
        if tag in _SKIP_TAGS:
            self.skip += 1
            return
        if tag == "title":
            self._flush()
            self.in_title = True
            return
        if not self.reading:
            return
        if tag == "table":
            self._flush()
            self.tables.append((Table([], self._where()), None, None))
            self.doc.blocks.append(self.tables[-1][0])
        elif tag == "tr" and self.tables:
            table, _, _ = self.tables[-1]
            row = Row([], self._where())
            table.rows.append(row)
            self.tables[-1] = (table, row, None)
        elif tag in ("td", "th") and self.tables and self.tables[-1][1] is not None:
            self.tables[-1] = (self.tables[-1][0], self.tables[-1][1], [])
        elif tag == "br":
            if self.tables and self.tables[-1][2] is not None:
                self.tables[-1][2].append(" ")
            else:
                self._flush()
        elif tag in _BLOCK_TAGS:
            self._flush()
            if re.fullmatch(r"h[1-6]", tag):
                self.heading = int(tag[1])
            if tag == "li":
                self.items += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
            return
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "title":
            self._flush()
            self.in_title = False
            return
        if not self.reading:
            return
        if tag in ("td", "th") and self.tables and self.tables[-1][2] is not None:
            table, row, cell = self.tables[-1]
            assert row is not None and cell is not None
            row.cells.append(" ".join("".join(cell).split()))
            self.tables[-1] = (table, row, None)
        elif tag == "tr" and self.tables:
            table, _, _ = self.tables[-1]
            self.tables[-1] = (table, None, None)
        elif tag == "table" and self.tables:
            self.tables.pop()
        elif tag in _BLOCK_TAGS:
            self._flush(tag)
            if re.fullmatch(r"h[1-6]", tag):
                self.heading = 0
            if tag == "li":
                self.items = max(0, self.items - 1)

    def handle_data(self, data: str) -> None:
        if not self.reading:
            return
        if self.tables and self.tables[-1][2] is not None:
            self.tables[-1][2].append(data)
            return
        if self.tables and self.tables[-1][1] is not None:
            return  # text between cells
        if data.strip() and not self.line:
            lead = data[: len(data) - len(data.lstrip())]
            self.line = self._where() + lead.count("\n")
        self.buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def _html(text: str, doc: Document, offset: int) -> None:
    parser = _HTMLBlocks(doc, offset)
    parser.feed(text)
    parser.close()
