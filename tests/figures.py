"""Figures the hardening tests measure (cases fuzzed, faults injected, requests served, memory).

A test calls ``record(name, **figures)``; when ``KGRAPH_ROBUSTNESS_DIR`` is set (by
``scripts/robustness.py``), the figures are written there as ``<name>.json`` and the script turns
them into ``docs/robustness.md``. In a plain ``make test`` nothing is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def record(name: str, **figures: Any) -> None:
    """Write one test's figures to $KGRAPH_ROBUSTNESS_DIR/<name>.json (merged with earlier ones)."""
    folder = os.environ.get("KGRAPH_ROBUSTNESS_DIR")
    if not folder:
        return
    path = Path(folder) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    path.write_text(json.dumps({**old, **figures}, indent=2, sort_keys=True), encoding="utf-8")
