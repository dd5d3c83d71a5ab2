"""Where the official code-set files are (../shared/data next to the project, or
$KGRAPH_SHARED_DATA, which you set for a clone that has no ../shared beside it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("KGRAPH_SHARED_DATA") or ROOT.parent / "shared" / "data")


def require(path: Path = SHARED_DATA) -> Path:
    """The path, or a failed test saying where the files were looked for (never a silent skip)."""
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests on real code sets need ../shared/data next to the project "
                    "or KGRAPH_SHARED_DATA pointing at it (`make test` passes ../shared/data on as an absolute path)")
    return path


#: a test (or class) that reads the official files: fails, never skips, when they are missing
needs_data = pytest.mark.usefixtures("shared_data")
