"""docs/architecture.md is the map of the package: its module table matches the tree."""

from __future__ import annotations

import re

from tests.conftest import ROOT

ROW = re.compile(r"^\| `(kgraph/[\w/]+\.py)` \| (.+) \|$", re.M)


def test_module_table_lists_every_module_once_and_no_other():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = [m.group(1) for m in ROW.finditer(text)]
    on_disk = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "kgraph").rglob("*.py"))
    assert sorted(set(listed)) == on_disk, "docs/architecture.md's module table differs from kgraph/"
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert all(m.group(2).strip() for m in ROW.finditer(text)), "every module needs its one line"
