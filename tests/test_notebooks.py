"""The notebooks in notebooks/: each runs top to bottom against the default build and shows what
its markdown promises; the copies in git have their outputs cleared."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01-exploring-a-code.ipynb", "02-sparql-for-analysts.ipynb", "03-claim-checking.ipynb"]
#: ipykernel's own kernel spec: its argv starts with "python", which jupyter_client replaces with
#: sys.executable, so the notebooks run on the interpreter running the tests
KERNEL = "python3"


def _kernel_is_this_interpreter() -> None:
    argv = KernelSpecManager().get_kernel_spec(KERNEL).argv
    assert argv[0] in ("python", f"python{sys.version_info[0]}", sys.executable), (
        f"kernel spec {KERNEL!r} runs {argv[0]}, not this interpreter: remove that kernel spec or "
        "reinstall ipykernel in this environment")


@pytest.fixture(scope="module")
def execute(default_store) -> Callable[[str], Any]:
    """Run a notebook top to bottom, cwd notebooks/, with KGRAPH_STORE set to the default build."""
    _kernel_is_this_interpreter()
    env = {**os.environ, "KGRAPH_STORE": str(default_store.path)}

    def run(name: str) -> Any:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        # allow_errors=False (the default): a cell that raises fails the test with its traceback
        NotebookClient(nb, kernel_name=KERNEL, timeout=120,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute(env=env)
        return nb

    return run


def _outputs(nb: Any) -> list[str]:
    """The text of every output of every code cell: streams, plain text and HTML."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                found.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                found.extend(str(out.data[k]) for k in ("text/plain", "text/html") if k in out.data)
    return found


def _one_output_with(nb: Any, *texts: str) -> bool:
    return any(all(t in out for t in texts) for out in _outputs(nb))


def _images(nb: Any) -> int:
    return sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))


def _no_stderr(nb: Any) -> list[str]:
    return [o.text for c in nb.cells for o in c.get("outputs", [])
            if o.output_type == "stream" and o.name == "stderr"]


def test_exploring_a_code_shows_the_neighbourhood_picture_and_findings(execute):
    nb = execute("01-exploring-a-code.ipynb")
    assert _no_stderr(nb) == []
    # the edges table carries evidence as file:line
    assert _one_output_with(nb, "ICD10CM:K22.2", "kg:supports", "data/briefings/cpt-74360.txt:41")
    assert _one_output_with(nb, "CPT:43214", "kg:conflictsWith", "ptp_practitioner_2024-07-01_flat.csv:1261")
    # the briefing's billed-with 77002 is an NCCI edit too
    assert _one_output_with(nb, "'CPT:77002': ['kg:billedWith', 'kg:conflictsWith']")
    # two inline pictures, the second with the findings marked
    pictures = [o for o in _outputs(nb) if "<iframe srcdoc=" in o]
    assert len(pictures) == 2 and all("vis-network" in p and "CPT:74360" in p for p in pictures)
    # the findings table: K21.0 is a header, with its billable children, at the briefing's line
    assert _one_output_with(nb, "icd10cm.not-billable", "ICD10CM:K21.0", "data/briefings/cpt-74360.txt:44",
                            "ICD10CM:K21.00, ICD10CM:K21.01")
    assert _one_output_with(nb, "nucc.name-mismatch", "NUCC:208800000X", "Urology Physician")
    assert _one_output_with(nb, "became a header")


def test_sparql_for_analysts_runs_named_and_new_queries_and_plots(execute):
    nb = execute("02-sparql-for-analysts.ipynb")
    assert _no_stderr(nb) == []
    assert _one_output_with(nb, "diagnoses_supporting", "hubs_by_degree", "ncci_conflicts")
    # the flat PTP file: in effect after its date, unknown before, never "no edit"
    assert _one_output_with(nb, "in effect", "unknown: the file of 2024-07-01")
    assert _one_output_with(nb, "CurieError", "not a code of any known kind")
    # the new query's counts
    assert _one_output_with(nb, "Misuse of Column Two code with Column One code", "1618")
    assert _images(nb) == 1


def test_claim_checking_shows_findings_and_draws_an_explanation(execute):
    nb = execute("03-claim-checking.ipynb")
    assert _no_stderr(nb) == []
    # the status of every claim, the bad one included
    assert _one_output_with(nb, "c1", "fail", "c7", "error", "units 0 must be")
    # the NCCI finding and the row behind it
    assert _one_output_with(nb, "ncci.ptp", "CPT:43214, CPT:74360",
                            "data/ncci/ptp_practitioner_2024-07-01_flat.csv:1261")
    assert _one_output_with(nb, "icd10cm.not-billable", "ICD10CM:K21.0")
    assert _images(nb) == 1
    assert any("<iframe srcdoc=" in o and "CPT:43214" in o for o in _outputs(nb))


def test_notebooks_are_saved_without_outputs():
    found = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert set(NAMES) <= set(found)
    dirty = []
    for name in found:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL, name
        for n, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None
                                             or "execution" in cell.metadata):
                dirty.append(f"{name} cell {n}")
    assert dirty == [], "clear the outputs before committing (see notebooks/README.md)"


def test_readme_lists_every_notebook():
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS.glob("*.ipynb") if p.name not in readme]
    assert missing == []
