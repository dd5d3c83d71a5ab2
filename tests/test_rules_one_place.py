"""Billing semantics are written once, in kgraph/rules/ (issue 13): a scan of every other module.

The scan reads the source of each module of the package outside ``kgraph/rules/`` (Python by its
syntax tree, the named SPARQL queries as text) and fails on what a copy of a rule looks like:

* a fee-schedule status letter compared with something, or used as a key of a dict or a member
  of a set of status letters (``status == "X"``, ``{"I": ..., "N": ...}``);
* an indicator value (0, 1, 2, 3, 9) compared with something or used as a dict key or a set of
  such values, in a module that speaks about indicators, edit types, statuses or adjudication;
* fiscal-year arithmetic: a comparison of a ``.month``, ``date(..., 10, 1)`` or ``(..., 9, 30)``,
  a string holding ``-10-01``, a function named like a fiscal-year or in-effect rule;
* a comparison of an ``effective`` or ``deletion`` date (the "edit in effect" rule);
* an order comparison (``<``, ``>``) of a HCPCS termination date (the "terminated code" rule of
  ``kgraph.rules.hcpcs``): one that names a ``term`` / ``termination`` date, or filters a
  comprehension over ``terminationDate`` values;
* in a ``.rq`` file, an indicator or status literal compared in SPARQL.

``ALLOWED`` lists the exceptions, each with the reason it is not a copy of a rule.
"""

from __future__ import annotations

import ast
import functools
import io
import re
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kgraph"
STATUS_LETTERS = set("ABCDEFGHIJMNPRTX")
INDICATOR_VALUES = {"0", "1", "2", "3", "9"}
#: names whose presence in a comparison makes an indicator value a billing indicator
INDICATOR_WORDS = re.compile(r"indicator|mai\b|edit_?type|status|pctc|mult|bilat|asst|surg|mi\b|modifierindicator",
                             re.I)
#: what a HCPCS termination date is called where it is compared (TERM DT)
TERMINATION_WORDS = re.compile(r"\bterm\b|terminat|\bended\b", re.I)
_ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)

#: names the old copies of rules had (fiscal_year, _fy, _in_effect, _status, _period, _release_date, _old)
RULE_FUNCTIONS = re.compile(r"^(_?(fiscal_year|fy|fy_used|in_effect|quarter_end)|_(status|period|release_date|old))$")

#: (module relative to kgraph/, what is found, why it is not a copy of a rule)
ALLOWED: dict[tuple[str, str], str] = {
    ("sources/ncci.py", "in-effect-function"): "in_effect is a one-line wrapper of kgraph.rules.readers.applies, "
                                               "kept for the reader's callers",
    ("queries/ncci_conflicts.rq", "sparql-indicator"): "the named query runs on remote SPARQL servers too, so it "
                                                       "states the in-effect rule in SPARQL; "
                                                       "tests/conformance/test_sparql_agrees.py proves it answers "
                                                       "as kgraph.rules.ptp.state on the conformance rows",
    ("queries/ncci_conflicts.rq", "sparql-dates"): "as above",
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "rules" not in p.relative_to(PACKAGE).parts[:1])


def _text(node: ast.AST, source: str) -> str:
    """``ast.get_source_segment`` of the node, given only the lines it spans (it splits the text it is
    given on every call: over a whole module, for every node, that was most of this scan's time)."""
    if getattr(node, "end_lineno", None) is None:
        return ""
    first, last = node.lineno - 1, node.end_lineno - 1
    span = SimpleNamespace(lineno=1, end_lineno=last - first + 1, col_offset=node.col_offset,
                           end_col_offset=node.end_col_offset)
    return ast.get_source_segment("".join(_lines(source)[first:last + 1]), span) or ""


@functools.lru_cache(maxsize=2)
def _lines(source: str) -> list[str]:
    """The source's lines with their ends, split where the parser splits them (\\n, \\r\\n, \\r)."""
    return io.StringIO(source, newline="").readlines()


def _const(node: ast.AST) -> set[str]:
    """String constants of a node: a constant, or a tuple / set / list / frozenset(...) of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Tuple | ast.Set | ast.List):
        found = set()
        for elt in node.elts:
            if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                found.add(elt.value)
        return found
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("frozenset", "set") and node.args:
        return _const(node.args[0])
    return set()


def findings(path: Path) -> list[tuple[str, int, str]]:
    """(kind, line, text) of every rule-like construct in a Python module."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    out: list[tuple[str, int, str]] = []
    for comp in ast.walk(tree):  # [d for d in found["terminationDate"] if d < day]: the test sits in the ifs
        if isinstance(comp, ast.comprehension) and TERMINATION_WORDS.search(_text(comp.iter, source)):
            for test in comp.ifs:
                for node in ast.walk(test):
                    if isinstance(node, ast.Compare) and any(isinstance(op, _ORDER) for op in node.ops):
                        out.append(("termination-compare", node.lineno, _text(node, source)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            text = _text(node, source)
            consts = set().union(*(_const(s) for s in sides))
            if consts and consts <= STATUS_LETTERS and re.search(r"status", text, re.I):
                out.append(("status-compare", node.lineno, text))
            if consts and consts <= INDICATOR_VALUES and INDICATOR_WORDS.search(text):
                out.append(("indicator-compare", node.lineno, text))
            if any(isinstance(s, ast.Attribute) and s.attr == "month" for s in sides):
                out.append(("fiscal-month", node.lineno, text))
            if re.search(r"\b(effective|deletion|dele|eff)\b", text) and not re.search(r"is None|is not None", text):
                out.append(("date-compare", node.lineno, text))
            if any(isinstance(op, _ORDER) for op in node.ops) and TERMINATION_WORDS.search(text):
                out.append(("termination-compare", node.lineno, text))
        elif isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            if len(keys & STATUS_LETTERS) >= 2 and keys <= STATUS_LETTERS:
                out.append(("status-dict", node.lineno, _text(node, source)[:80]))
            if len(keys & INDICATOR_VALUES) >= 2 and keys <= INDICATOR_VALUES:
                out.append(("indicator-dict", node.lineno, _text(node, source)[:80]))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "date":
            args = [a.value for a in node.args[1:3] if isinstance(a, ast.Constant)]
            if args in ([10, 1], [9, 30]):
                out.append(("fiscal-date", node.lineno, _text(node, source)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if len(set(node.value) & STATUS_LETTERS) >= 8 and set(node.value) <= STATUS_LETTERS:
                out.append(("status-letters", node.lineno, node.value))
            if re.search(r"(?<!\d{4})-10-01\b|(?<!\d{4}-)\b09-30\b", node.value):
                out.append(("fiscal-string", node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr) and re.search(r"\}-10-01|9, 30", _text(node, source)):
            out.append(("fiscal-string", node.lineno, _text(node, source)))
        elif isinstance(node, ast.FunctionDef) and RULE_FUNCTIONS.match(node.name):
            kind = "in-effect-function" if "effect" in node.name else "rule-function"
            out.append((kind, node.lineno, node.name))
    return out


SPARQL_RULES = [
    ("sparql-indicator", re.compile(r'\?(modifierIndicator|adjudicationIndicator|editType|status)\s*!?=\s*"\w"')),
    ("sparql-dates", re.compile(r"\?(effective|deletion)\s*[<>]=?|[<>]=?\s*\?(effective|deletion)")),
    ("sparql-fiscal", re.compile(r"MONTH\(|-10-01")),
]


def sparql_findings(path: Path) -> list[tuple[str, int, str]]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for kind, pattern in SPARQL_RULES:
            if pattern.search(line):
                out.append((kind, number, line.strip()))
    return out


def test_no_billing_rule_is_written_outside_kgraph_rules() -> None:
    found = []
    used: set[tuple[str, str]] = set()
    scans = [(path, findings) for path in _modules()]
    scans += [(path, sparql_findings) for path in sorted((PACKAGE / "queries").glob("*.rq"))]
    for path, scan in scans:
        rel = str(path.relative_to(PACKAGE))
        for kind, line, text in scan(path):
            if (rel, kind) in ALLOWED:
                used.add((rel, kind))
                continue
            found.append(f"kgraph/{rel}:{line}: {kind}: {text}")
    assert not found, "billing rules outside kgraph/rules/:\n" + "\n".join(found)
    assert used == set(ALLOWED), f"allow-list entries that no longer match anything: {set(ALLOWED) - used}"


def test_the_scan_finds_the_copies_it_is_meant_to_find(tmp_path: Path) -> None:
    """The scan is not blind: each kind of copy the old modules held is found in a sample."""
    sample = tmp_path / "sample.py"
    sample.write_text('''
from datetime import date
STATUS = {"I": "not valid", "N": "not covered"}
BYPASS = {"0": "never", "1": "with a modifier"}
def fiscal_year(day):
    return day.year + 1 if day.month >= 10 else day.year
def check(row, dos, edit_type):
    if row.status == "X":
        pass
    if row.indicator == "9" and dos > row.deletion:
        pass
    severity = "error" if edit_type == "1" else "info"
    ended = [d for d in row.get("terminationDate", []) if d and d[:10] < dos.isoformat()]
    return date(dos.year, 10, 1), f"{dos.year - 1}-10-01"
''', encoding="utf-8")
    kinds = {kind for kind, _, _ in findings(sample)}
    assert kinds >= {"status-dict", "indicator-dict", "rule-function", "fiscal-month", "status-compare",
                     "indicator-compare", "date-compare", "fiscal-date", "fiscal-string", "termination-compare"}
    ranges = tmp_path / "ranges.py"
    ranges.write_text("def keep(term, reference):\n    return not (term and term < reference)\n", encoding="utf-8")
    assert {kind for kind, _, _ in findings(ranges)} == {"termination-compare"}
    rq = tmp_path / "q.rq"
    rq.write_text('SELECT * WHERE { FILTER(?modifierIndicator = "9" && ?date <= ?deletion) }\n', encoding="utf-8")
    assert {k for k, _, _ in sparql_findings(rq)} == {"sparql-indicator", "sparql-dates"}
