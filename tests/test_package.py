"""``import kgraph``: every public name there, each module loaded only when its name is used."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_every_public_name_resolves_to_what_its_module_defines():
    import importlib

    import kgraph

    assert sorted(kgraph.__all__) == sorted(kgraph._HOMES)
    for name, home in kgraph._HOMES.items():
        assert getattr(kgraph, name) is getattr(importlib.import_module(home), name), name
    assert "neighborhood" in dir(kgraph)


def test_importing_kgraph_loads_neither_the_build_nor_networkx():
    loaded = _run("import sys, kgraph; print(sorted(m for m in sys.modules if m.startswith(('kgraph', 'networkx'))))")
    assert "kgraph.build" not in loaded and "networkx" not in loaded and "kgraph.check" not in loaded


def test_a_submodule_import_leaves_the_public_function_of_its_name():
    out = _run("import kgraph.build, kgraph.check, kgraph.export, kgraph.changes, kgraph.validate, kgraph\n"
               "print(all(callable(getattr(kgraph, n)) and not isinstance(getattr(kgraph, n), type(kgraph))\n"
               "          for n in ('build', 'check', 'export', 'changes', 'validate')))")
    assert out.strip() == "True"


def test_an_unknown_name_is_an_attribute_error():
    import kgraph

    try:
        kgraph.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("kgraph.no_such_thing did not raise")


def test_a_submodule_is_reachable_from_the_package_alone():
    out = _run("import kgraph\n"
               "print(kgraph.viz.__name__, kgraph.notebook_helpers.__name__, callable(kgraph.viz.write_html))")
    assert out.split() == ["kgraph.viz", "kgraph.notebook_helpers", "True"]
