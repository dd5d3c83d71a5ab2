"""Validation of the seed briefing against the official code sets (facts checked by hand).

Verified against the files in ../shared/data (FY2026 order file, NUCC v25.1, PPRRVU2025_Oct,
PTP 2024-07-01 flat, add-on edits 2024-06): K21.0 became a header in FY2021 (K21.00 and K21.01
added), K22.8 in FY2022 (K22.81/82/89), K22.1 is "Ulcer of esophagus" and a header in every year;
208800000X is Urology, 363L00000X Nurse Practitioner, 207L00000X Anesthesiology, 207Q00000X
Family Medicine; 74360 has PCTC 1 with 26 and TC rows, GLOB DAYS XXX, CO-SURG 0, ASST SURG 0;
PTP has 74360 / 77002 with indicator 1 and no edit between 43249 and 74360; 77002 and 77003
are add-on codes of edit type 1 whose primaries do not include the briefing's codes.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import kgraph
from kgraph.cli import main

from .conftest import TESTDATA, cached_rebuild


def by_rule(findings, rule):
    return {f.subject: f for f in findings if f.rule == rule}


@pytest.fixture(scope="module")
def findings(default_store):
    return kgraph.validate(default_store, as_of="2026-06-01")


def test_every_finding_names_its_source_line_and_the_data_versions(findings):
    assert findings.data_versions["icd10cm"] == "FY2026"
    assert findings.data_versions["nucc"] == "25.1"
    assert findings.data_versions["ncci_ptp"] == "2024-07-01"
    assert "ncci-ptp" not in findings.data_versions  # the same keys as kgraph check writes
    assert findings.data_versions["mpfs"] == "2025-10"
    for f in findings:
        assert f.source == "data/briefings/cpt-74360.txt" and f.line, f


def test_headers_are_not_billable(findings):
    headers = by_rule(findings, "icd10cm.not-billable")
    assert sorted(headers) == ["ICD10CM:K21.0", "ICD10CM:K22.1", "ICD10CM:K22.8"]
    k210 = headers["ICD10CM:K21.0"]
    assert k210.severity == "error" and k210.line == 44
    assert k210.message.startswith("K21.0 is a header, not billable, since FY2021")
    assert k210.suggestion == ["ICD10CM:K21.00", "ICD10CM:K21.01"]
    assert "since FY2022" in headers["ICD10CM:K22.8"].message


def test_billable_diagnoses_are_not_flagged(findings):
    flagged = {f.subject for f in findings}
    for ok in ("ICD10CM:K22.2", "ICD10CM:K22.3", "ICD10CM:I85.00", "ICD10CM:C15.9", "ICD10CM:R13.10"):
        assert ok not in flagged, ok


def test_description_that_names_another_code(findings):
    k221 = by_rule(findings, "icd10cm.description-mismatch")["ICD10CM:K22.1"]
    assert 'description "Diverticulum of esophagus" does not match the official "Ulcer of esophagus"' in k221.message
    assert "ICD10CM:K22.5" in k221.suggestion  # Diverticulum of esophagus, acquired
    assert len(by_rule(findings, "icd10cm.description-mismatch")) == 1


def test_specialty_names_checked_against_nucc(findings):
    names = by_rule(findings, "nucc.name-mismatch")
    assert sorted(names) == ["NUCC:207L00000X", "NUCC:207Q00000X", "NUCC:208800000X", "NUCC:363L00000X"]
    assert 'does not match the official "Urology Physician"' in names["NUCC:208800000X"].message
    assert "NUCC:2085R0204X" in names["NUCC:207L00000X"].suggestion  # Vascular & Interventional Radiology
    assert "NUCC:2085R0202X" in names["NUCC:207Q00000X"].suggestion  # Diagnostic Radiology
    assert "NUCC:207RG0100X" not in names  # Gastroenterology is right


def test_fee_schedule_rules_out_modifiers(findings):
    mods = by_rule(findings, "mpfs.modifier-not-allowed")
    assert {m: f.severity for m, f in mods.items()} == {
        "MOD:78": "error", "MOD:62": "error", "MOD:QK": "error", "MOD:QX": "error", "MOD:QY": "error",
        "MOD:80": "warning", "MOD:81": "warning", "MOD:AS": "warning"}
    assert "CO-SURG 0" in mods["MOD:62"].message
    assert "not an anesthesia code" in mods["MOD:QK"].message
    # 26 and TC are priced for 74360 (PC/TC indicator 1 with 26 and TC rows)
    assert "MOD:26" not in mods and "MOD:TC" not in mods


def test_ncci_contradictions(findings):
    bundled = by_rule(findings, "ncci.bundled")
    assert sorted(bundled) == ["CPT:77002"]
    assert "modifier indicator 1" in bundled["CPT:77002"].message
    assert bundled["CPT:77002"].severity == "warning"
    addons = by_rule(findings, "ncci.addon-without-primary")
    assert sorted(addons) == ["CPT:77002", "CPT:77003"]
    assert all(f.severity == "error" and "edit type 1" in f.message for f in addons.values())


def test_no_shacl_violations_in_the_seed(findings):
    assert not by_rule(findings, "shacl.violation")


@pytest.fixture(scope="module")
def unknown_store(default_store):
    """The default build plus a briefing naming codes that do not exist (``cached_rebuild``: a full rebuild,
    compacted, as ``kgraph build`` of a new briefing gives)."""
    unknown = TESTDATA / "briefings" / "cpt-74363-unknown-codes.txt"
    return cached_rebuild("unknown", default_store, incremental=False, briefings=[str(unknown)])


@pytest.mark.slow  # two validations searching the closest codes (11 s)
def test_unknown_codes_with_closest_candidates(unknown_store):
    found = kgraph.validate(unknown_store, as_of="2026-06-01")
    unknown = by_rule(found, "code.unknown")
    assert sorted(unknown) == ["HCPCS:G9999", "ICD10CM:K22.99", "MOD:Z9", "NUCC:2079Z0000X"]
    assert unknown["ICD10CM:K22.99"].severity == "error"
    assert unknown["ICD10CM:K22.99"].message.startswith("ICD10CM:K22.99 is not in icd10cm FY2026")
    assert "ICD10CM:K22.2" in unknown["ICD10CM:K22.99"].suggestion
    # HCPCS 2020 is older than a year before the reference date: a newer release may hold the code
    assert unknown["HCPCS:G9999"].severity == "warning"
    assert "the release may predate the code" in unknown["HCPCS:G9999"].message
    # after FY2026 ends, FY2027 may hold a code FY2026 lacks: the same finding becomes a warning
    later = by_rule(kgraph.validate(unknown_store, as_of="2026-12-01"), "code.unknown")
    assert later["ICD10CM:K22.99"].severity == "warning"
    assert unknown["NUCC:2079Z0000X"].severity == "error"
    assert unknown["MOD:Z9"].line == 17


@pytest.mark.slow  # validates the default build through the CLI (5 s)
def test_cli_validate_json_and_exit_codes(default_store):
    runner = CliRunner()
    out = runner.invoke(main, ["validate", "--store", str(default_store.path), "--format", "json"])
    assert out.exit_code == 1  # errors found
    data = json.loads(out.stdout)
    assert data["data_versions"]["icd10cm"] == "FY2026"
    k210 = next(f for f in data["findings"] if f["subject"] == "ICD10CM:K21.0")
    assert set(k210) == {"severity", "rule", "subject", "message", "source", "line", "suggestion"}
    assert data["counts"]["error"] == len([f for f in data["findings"] if f["severity"] == "error"])


def test_cli_validate_on_a_briefing_only_store_passes_with_info(briefing_store):
    out = CliRunner().invoke(main, ["validate", "--store", str(briefing_store.path), "--format", "json"])
    assert out.exit_code == 0, out.output
    rules = {f["rule"] for f in json.loads(out.stdout)["findings"]}
    assert rules == {"code.unchecked"}
