"""The named query ``ncci_conflicts`` restates the PTP in-effect rule in SPARQL (so that it also runs
on remote servers, tests/test_rules_one_place.py allows it): it must answer, row by row, what
``kgraph.rules.ptp.state`` answers, on every PTP row and date of the conformance cases."""

from __future__ import annotations

import pytest

import kgraph
from kgraph.indexes import load_indexes
from kgraph.rules import ptp
from tests.conformance.cases_ncci import CASES
from tests.conformance.conftest import Stores

#: (column 1 code, date) of every real-store PTP case
PROBES = sorted({(c.lines[0] if isinstance(c.lines[0], str) else c.lines[0]["code"], c.date)
                 for c in CASES if c.store == "real" and c.id.startswith(("ptp-", "excerpt-"))})


def _code(spec: str) -> str:
    return spec.split("-")[0].split("x")[0]


@pytest.mark.parametrize(("code", "day"), [(_code(c), d) for c, d in PROBES], ids=lambda v: str(v))
def test_ncci_conflicts_answers_as_the_rules(code: str, day: str, stores: Stores) -> None:
    from datetime import date

    store = stores["real"]
    ix = load_indexes(store)
    curie = f"CPT:{code}" if code[0].isdigit() else f"HCPCS:{code}"
    expected = set()
    for other in ix.codes:
        for a, b in ((curie, other), (other, curie)):
            for row in ix.ptp(a, b):
                found = ptp.state(row, date.fromisoformat(day))
                if found != ptp.NOT_IN_EFFECT:
                    expected.add((row.column1, row.column2, str(row.line), found))
    answered = {(r["column1"], r["column2"], r["line"], "in effect" if r["status"] == "in effect" else "unknown")
                for r in kgraph.query(store, "ncci_conflicts", code=curie, date=day)}
    assert answered == expected


#: (store, code, date) of every PTP case with several PTP releases loaded: the real store's flat file
#: and 2026 excerpt, the written store's two complete official releases and excerpt (both codes of a pair)
RELEASE_PROBES = sorted({("real", _code(c), d) for c, d in PROBES}
                        | {("written", _code(code), c.date) for c in CASES if c.store == "written"
                           and c.id.startswith("releases-")
                           for code in (ln if isinstance(ln, str) else ln["code"] for ln in c.lines)})


@pytest.mark.parametrize(("store_name", "code", "day"), RELEASE_PROBES, ids=lambda v: str(v))
def test_fhir_edit_counts_without_indexes_pick_the_release_in_force(store_name: str, code: str, day: str,
                                                                     stores: Stores) -> None:
    """With several PTP releases loaded, the FHIR ``$lookup`` NCCI counts read from SPARQL (a server
    without the claim-check indexes) count each pair once, from the release in force, as ``kgraph
    check`` reads the indexes; they used to count every release's row of a pair."""
    from datetime import date

    from kgraph import fhir
    from kgraph.fhir import facts

    store = stores[store_name]
    run, catalog = fhir._context(store)
    assert catalog.indexes is not None
    curie = f"CPT:{code}" if code[0].isdigit() else f"HCPCS:{code}"
    day_of = date.fromisoformat(day)
    assert facts.ncci_counts(run, facts.Catalog(), curie, day_of) == facts.ncci_counts(run, catalog, curie, day_of)
