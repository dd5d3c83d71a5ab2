"""The project as a clone: nothing in it names a path of the machine it was written on."""

from __future__ import annotations

import re
import subprocess
import tomllib

from tests.conftest import ROOT

#: an absolute path into a home, a work or a tool directory of one machine, wherever it stands (in a
#: URL too: a reader cannot tell); a shebang's /usr/bin/env finds the interpreter anywhere, so it is allowed
#: (/usr/sbin/policy-rc.d in scripts/virtuoso.sh is the place Debian policy fixes for every machine)
MACHINE_PATH = re.compile(r"/(?:work|home|root|Users|mnt|opt|usr/local|usr/bin)/(?!env\b)[\w./-]*")


def tracked_text_files():
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in names.splitlines():
        path = ROOT / name
        if path.suffix in {".zip", ".gz", ".png", ".xlsx"} or not path.is_file():
            continue
        try:
            yield name, path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue


def test_no_machine_path_in_tracked_files():
    found = [f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}"
             for name, text in tracked_text_files() for m in MACHINE_PATH.finditer(text)]
    assert found == [], "machine paths in the project (find tools with shutil.which, data at ../shared/data):\n" \
        + "\n".join(found)


def test_licence_is_an_spdx_expression_with_its_text():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / project["license-files"][0]).read_text()
