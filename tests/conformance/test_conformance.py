"""The conformance suite: every case's claim gives the outcome its CMS row or definition says, and
every raw row a case names is in its file with the values the case relies on."""

from __future__ import annotations

from typing import Any

import pytest

from kgraph.check import check
from kgraph.rules import severities
from tests.conformance import cases_codes, cases_fee, cases_ncci
from tests.conformance.conftest import Case, Raw, Stores, case_id, ptp_evidence_line, raw_path, raw_values

CASES: list[Case] = cases_fee.CASES + cases_ncci.CASES + cases_codes.CASES
#: the code sets whose versions a result names, by store (what each store's manifest loads)
VERSIONS = {"real": {"ncci_ptp", "ncci_mue", "ncci_addon", "mpfs", "icd10cm", "modifiers", "nucc"},
            "written": {"ncci_ptp", "ncci_mue", "mpfs", "hcpcs", "cpt_modifiers"}}


def _matches(finding: Any, spec: str) -> bool:
    """``rule``, ``rule:severity`` or ``rule:severity:subject`` (severity may be empty)."""
    rule, _, rest = spec.partition(":")
    severity, _, subject = rest.partition(":")
    return finding.rule == rule and (not severity or finding.severity == severity) and (
        not subject or finding.subject == subject)


def verify(case: Case, result: Any, stores: Stores) -> list[str]:
    """What in ``result`` disagrees with ``case`` (empty when it conforms)."""
    problems = []
    found = result.findings
    for expected in case.expect:
        rule, severity, *subject = expected
        hits = [f for f in found if f.rule == rule and f.severity == severity and (not subject or
                                                                                  f.subject == subject[0])]
        if not hits:
            problems.append(f"expected {rule} ({severity}{', ' + subject[0] if subject else ''})")
    for spec in case.absent:
        if any(_matches(f, spec) for f in found):
            problems.append(f"unexpected {spec}")
    if case.status and result.status != case.status:
        problems.append(f"status {result.status}, expected {case.status}")
    first = [f for f in found if case.expect and f.rule == case.expect[0][0]]
    for words in case.contains:
        if not any(words in f.message for f in first):
            problems.append(f"no {case.expect[0][0]} finding says {words!r}")
    if case.line is not None:
        want = ptp_evidence_line(stores, case.basis[0]) if case.basis else case.line
        if not any(e.get("line") == want for f in first for e in f.explanation):
            problems.append(f"no {case.expect[0][0]} finding points at line {want}")
    for f in found:
        if f.severity not in severities(f.rule, "check"):
            problems.append(f"{f.rule} {f.severity}: not a severity its registry row allows")
    if set(result.data_versions) != VERSIONS[case.store]:
        problems.append(f"data_versions {sorted(result.data_versions)}, expected {sorted(VERSIONS[case.store])}")
    return problems


def run(case: Case, stores: Stores) -> list[str]:
    result = check(stores[case.store], case.claim())
    return verify(case, result, stores)


def test_the_suite_has_300_cases_each_with_its_cms_basis() -> None:
    ids = [c.id for c in CASES]
    assert len(CASES) >= 300, len(CASES)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(c.definition for c in CASES), [c.id for c in CASES if not c.definition]
    assert all(c.expect or c.absent or c.status for c in CASES), [c.id for c in CASES if not (c.expect or c.absent)]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case(case: Case, stores: Stores) -> None:
    problems = run(case, stores)
    assert not problems, f"{case.id} ({case.definition}): " + "; ".join(problems)


RAWS = sorted({raw for case in CASES for raw in case.basis}, key=lambda r: (r.file, r.line, r.values))


@pytest.mark.parametrize("raw", RAWS, ids=lambda r: f"{r.file}:{r.line}")
def test_raw_rows_are_there(raw: Raw, stores: Stores) -> None:
    """Each raw row a case names is in its file, at that line, with those values."""
    if raw.file.startswith("written/"):
        stores["written"]
    values = dict(raw.values)
    found = raw_values(raw_path(raw, stores), raw.line, values.get("code", ""))
    for key, value in values.items():
        want = "absent" if value == "absent" else value
        got = found.get(key)
        if want == "absent":
            assert got == "absent", f"{raw.file}: {values.get('code')} is listed"
        else:
            assert got == want, f"{raw.file}:{raw.line}: {key} is {got!r}, the case relies on {want!r}"
