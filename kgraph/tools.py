"""Where the external programs that tests, benches and scripts drive are: never a fixed path.

``find(env, *names)`` returns ``$env`` when it is set, else the first of ``names`` found on
``PATH`` by ``shutil.which``, else None. kgraph itself runs none of these programs; they are
Debian's chromium (browser tests of the HTML export and the query page, scripts/install-chromium.sh)
and Virtuoso's ``virtuoso-t`` (remote-endpoint tests, scripts/virtuoso.sh).
"""

from __future__ import annotations

import os
import shutil

CHROMIUM = ("KGRAPH_CHROMIUM", "chromium", "chromium-browser")
VIRTUOSO = ("KGRAPH_VIRTUOSO", "virtuoso-t")


def find(env: str, *names: str) -> str | None:
    """The program named by ``$env``, else the first of ``names`` on PATH, else None."""
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        if found := shutil.which(name):
            return found
    return None


def chromium() -> str | None:
    """Chromium's executable: ``$KGRAPH_CHROMIUM`` or ``chromium`` / ``chromium-browser`` on PATH."""
    return find(*CHROMIUM)


def virtuoso() -> str | None:
    """Virtuoso's server ``virtuoso-t``: ``$KGRAPH_VIRTUOSO`` or on PATH."""
    return find(*VIRTUOSO)
