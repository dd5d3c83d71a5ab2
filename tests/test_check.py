"""Claim-line checking (kgraph.check) and its indexes (kgraph.indexes).

Claims are built from real rows, verified by hand against the files:

* data/ncci/ptp_practitioner_2024-07-01_flat.csv: line 1261 ``43214,74360,*,0,CPT Manual or CMS
  manual coding instruction``; line 2999 ``74328,74360,*,1,Mutually exclusive procedures``;
  line 3017 ``74360,74000,2017-12-31,1,Standards of medical/surgical practice``.
* data/ncci/ncci_mue_practitioner_2024-07-01.csv: ``43249,1,3`` (line 2), ``99070,0,3`` (line 7).
* data/ncci/ncci_add_on_code_edits_2024-06.csv: ``10160,77002,1`` (line 2): 77002 is an add-on
  code of edit type 1.
* data/mpfs/PPRRVU2025_Oct_nodesc.csv: 74360 PCTC 1, CO-SURG 0, ASST SURG 0; 99070 status B.
* data/icd10cm (order files): K21.0 billable in FY2020 only, a header from FY2021 (K21.00,
  K21.01 added); C81.0A first in FY2025; K21.09 in no year.
* data/briefings/cpt-74360.txt: K22.2 (line 41) and K21.0 (line 44) support 74360; taxonomies
  207RG0100X, 207Q00000X, 208800000X, 363L00000X, 207L00000X (lines 33-37); payers named in
  prose only (line 4).

The ``slow`` tests use the full build of ../shared/data (conftest ``full_store``).
"""

from __future__ import annotations

import io
import json
import pickle
import tracemalloc
from pathlib import Path

import pytest

import kgraph
from kgraph.check import BYPASS_MODIFIERS, ClaimError, check, check_many, parse_line_spec, read_claims
from kgraph.errors import KGraphError, StoreError
from kgraph.indexes import FORMAT, index_path, load_file, load_indexes, write_indexes

CLAIMS = Path(__file__).resolve().parent / "data" / "claims"
PTP_FILE = "data/ncci/ptp_practitioner_2024-07-01_flat.csv"


@pytest.fixture(scope="module")
def store(default_store):
    """The default build with its claim-check indexes (written here until kgraph.build writes them)."""
    if load_file(index_path(default_store.build_dir)) is None:
        write_indexes(default_store.ox, default_store.build_dir)
    return default_store


def claim(*lines, date="2024-08-01", **extra):
    """A claim of the given lines: a code string ("74360-26x2" form) or a line dict."""
    out = []
    for line in lines:
        if isinstance(line, str):
            line = {**parse_line_spec(line), "diagnoses": ["K22.2"]}
        out.append(line)
    return {"id": "t", "date": date, "payer": "medicare", "lines": out, **extra}


def rules(result, severity=None):
    return [f.rule for f in result.findings if severity is None or f.severity == severity]


def only(result, rule):
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, [str(f) for f in result.findings]
    return found[0]


# --- the INTERFACE example and the shape of a result ---------------------------------------------------


def test_interface_example_fails_on_the_real_ptp_edit_and_explains_it(store):
    result = check(store, json.loads((CLAIMS / "interface-example.json").read_text()))
    assert result.status == "fail"
    assert rules(result, "error") == ["ncci.ptp"]
    finding = only(result, "ncci.ptp")
    assert finding.codes == ["CPT:43214", "CPT:74360"] and finding.lines == [1, 2]
    assert "CPT:74360 (line 1) is denied when billed with CPT:43214 (line 2)" in finding.message
    (edge,) = finding.explanation
    assert edge == {"relation": "kg:conflictsWith", "subject": "CPT:43214", "object": "CPT:74360",
                    "source": PTP_FILE, "line": 1261,
                    "qualifiers": {"modifierIndicator": "0", "rationale": "CPT Manual or CMS manual coding instruction",
                                   "release": "2024-07-01",
                                   "row": "ROW:ncci-ptp-ptp-practitioner-2024-07-01-flat/L1261"}}
    data = result.to_json()
    assert list(data) == ["id", "status", "data_versions", "findings"]
    assert data["data_versions"]["ncci_ptp"] == "2024-07-01" and data["data_versions"]["icd10cm"] == "FY2024"
    assert {"severity", "rule", "codes", "message", "explanation"} <= set(data["findings"][0])
    json.dumps(data)  # plain JSON all the way down


def test_explanation_rows_are_the_rows_in_the_store(store):
    result = check(store, claim("43214", "74360-26", "99070x2", "77002"))
    rows = [e for f in result.findings for e in f.explanation if "row" in e["qualifiers"]]
    assert {e["relation"] for e in rows} >= {"kg:conflictsWith", "kg:MUELimit", "kg:addOnTo"}
    for e in rows:
        iri = kgraph.namespaces.iri(e["qualifiers"]["row"])
        ask = kgraph.query(store, f"ASK {{ <{iri}> ?p <{kgraph.namespaces.iri(e['subject'])}> }}")
        assert ask.json["boolean"], e


# --- NCCI PTP ------------------------------------------------------------------------------------------


def test_indicator_1_edit_denies_column_2_unless_a_ncci_modifier_is_on_either_line(store):
    plain = check(store, claim("74328", "74360"))
    assert only(plain, "ncci.ptp").severity == "error" and only(plain, "ncci.ptp").subject == "CPT:74360"
    assert only(plain, "ncci.ptp").explanation[0]["line"] == 2999
    for lines in (("74328", "74360-59"), ("74328-XS", "74360")):
        bypassed = only(check(store, claim(*lines)), "ncci.ptp-bypassed")
        assert bypassed.severity == "info" and bypassed.message.startswith("documentation required")
    assert rules(check(store, claim("74328", "74360-26")), "error") == ["ncci.ptp"]  # 26 is not NCCI-associated


def test_indicator_0_is_never_bypassed(store):
    result = check(store, claim("43214-59", "74360-XU"))
    assert only(result, "ncci.ptp").severity == "error"
    assert "no modifier bypasses" in only(result, "ncci.ptp").message


def test_bypass_modifiers_are_the_ncci_associated_ones_only():
    assert {"59", "XE", "XP", "XS", "XU", "LT", "RT", "25", "91", "E4", "F9", "T9"} <= BYPASS_MODIFIERS
    assert not {"26", "TC", "50", "51", "52", "53", "62", "66", "76", "77", "80"} & BYPASS_MODIFIERS


def test_a_deleted_edit_is_not_in_effect_after_its_deletion(store):
    assert "ncci.ptp" not in rules(check(store, claim("74360", "74000")))
    # 22526 / 77002: line 607 active (*), line 609 deleted 2008-09-30: only the active row applies
    (finding,) = [f for f in check(store, claim("22526", "77002")).findings if f.rule.startswith("ncci.ptp")]
    assert [e["line"] for e in finding.explanation] == [607]


def test_before_the_flat_files_date_an_edit_is_unknown_never_no_edit(store):
    result = check(store, claim("43214", "74360", date="2023-03-01"))
    finding = only(result, "ncci.ptp-unknown")
    assert finding.severity == "warning" and "unknown" in finding.message and finding.explanation[0]["line"] == 1261
    assert "ncci.ptp" not in rules(result)
    out_of_range = [f for f in result.findings if f.rule == "data.out-of-range" and f.subject == "ncci-ptp"]
    # issue 13: a date outside a loaded release is an info note naming the release used (ICD-10-CM: a warning)
    assert out_of_range[0].severity == "info" and "no effective dates" in out_of_range[0].message
    # the deleted edit of line 3017 may still have been in effect in 2017: unknown, not "no edit"
    assert rules(check(store, claim("74360", "74000", date="2017-06-01"))).count("ncci.ptp-unknown") == 1
    # line 3020, 74360 / 74363 deleted 1996-01-01 with indicator 9: CMS gives 9 only to edits that never applied
    assert not [r for r in rules(check(store, claim("74360", "74363", date="1995-06-01"))) if r.startswith("ncci.")]


def test_lines_on_different_dates_are_not_a_pair(store):
    lines = [{"code": "43214", "diagnoses": ["K22.2"]}, {"code": "74360", "diagnoses": ["K22.2"], "date": "2024-08-02"}]
    assert "ncci.ptp" not in rules(check(store, claim(*lines)))


# --- MUE, add-on -----------------------------------------------------------------------------------------


def test_mue_indicator_3_sums_the_units_of_a_code_on_one_date(store):
    assert only(check(store, claim("43249x2")), "mue.units").lines == [1]
    both = only(check(store, claim("43249", "43249")), "mue.units")
    assert both.lines == [1, 2] and "2 units of CPT:43249" in both.message and "on appeal" in both.message
    apart = [{"code": "43249", "diagnoses": ["K22.2"]}, {"code": "43249", "diagnoses": ["K22.2"], "date": "2024-08-02"}]
    assert "mue.units" not in rules(check(store, claim(*apart)))
    assert "mue.units" not in rules(check(store, claim("43249")))


def test_mue_of_0_is_never_payable_and_status_b_is_bundled(store):
    result = check(store, claim("99070"))
    assert only(result, "mue.never-payable").severity == "error"
    assert only(result, "mue.never-payable").explanation[0]["line"] == 7
    status = only(result, "mpfs.status")
    assert status.severity == "warning" and "status B" in status.message


def test_add_on_type_1_without_a_listed_primary_is_an_error(store):
    alone = only(check(store, claim("77002")), "ncci.addon-without-primary")
    assert alone.severity == "error" and "edit type 1" in alone.message and "CPT:10160" in alone.suggestion
    assert "ncci.addon-without-primary" not in rules(check(store, claim("10160", "77002")))


# --- modifiers -------------------------------------------------------------------------------------------


def test_modifiers_unknown_ruled_out_by_the_fee_schedule_or_exclusive(store):
    # issue 13: the default build's modifier lists (HCPCS 2020, kgraph's CPT list) are not of 2024, so a
    # modifier missing from them may be newer than they are: a warning (the full build's 2024 list: an error)
    unknown = only(check(store, claim("74360-ZZ")), "modifier.unknown")
    assert unknown.severity == "warning" and unknown.subject == "MOD:ZZ" and "not of 2024" in unknown.message
    assert only(check(store, claim("74360-ZZ", date="2020-06-01")), "modifier.unknown").severity == "error"
    co_surgeon = only(check(store, claim("74360-62")), "mpfs.modifier-not-allowed")
    assert co_surgeon.severity == "error" and "CO-SURG 0" in co_surgeon.message
    assert only(check(store, claim("74360-80")), "mpfs.modifier-not-allowed").severity == "warning"
    both = check(store, claim("74360-26-TC"))
    assert only(both, "modifier.exclusive").severity == "error" and both.status == "fail"
    assert only(check(store, claim("74360-LT-RT")), "modifier.exclusive").severity == "warning"
    assert "modifier.exclusive" not in rules(check(store, claim("74360-26-59")))


# --- diagnoses ---------------------------------------------------------------------------------------------


def dx_claim(*diagnoses, date="2024-08-01", code="74360"):
    return claim({"code": code, "modifiers": ["26"], "diagnoses": list(diagnoses)}, date=date)


def test_k21_0_is_not_billable_on_a_2024_date_but_was_in_fy2020(store):
    finding = only(check(store, dx_claim("K21.0")), "icd10cm.not-billable")
    assert finding.severity == "error" and "FY2024" in finding.message and "since FY2021" in finding.message
    assert finding.suggestion == ["ICD10CM:K21.00", "ICD10CM:K21.01"]
    assert finding.explanation[0]["qualifiers"]["billableInFY"] == "FY2020"
    assert "icd10cm.not-billable" not in rules(check(store, dx_claim("K21.0", date="2020-06-01")))


def test_fiscal_year_starts_on_october_1(store):
    assert "icd10cm.not-in-fy" in rules(check(store, dx_claim("C81.0A", date="2024-09-30")))
    october = rules(check(store, dx_claim("C81.0A", date="2024-10-01")))
    assert not {"icd10cm.not-in-fy", "icd10cm.unknown"} & set(october)


def test_a_code_in_no_fiscal_year_is_unknown_with_the_codes_near_it(store):
    finding = only(check(store, dx_claim("K21.09")), "icd10cm.unknown")
    assert finding.suggestion == ["ICD10CM:K21.00", "ICD10CM:K21.01"]


def test_a_diagnosis_supports_the_procedure_directly_or_through_the_hierarchy(store):
    assert not [r for r in rules(check(store, dx_claim("K22.2"))) if r.startswith("dx.")]
    assert "dx.unsupported" not in rules(check(store, dx_claim("K21.00")))  # K21.0 (briefing line 44) above it
    unsupported = only(check(store, dx_claim("K21.9")), "dx.unsupported")
    assert unsupported.severity == "warning" and "the graph holds no evidence" in unsupported.message
    assert ("data/briefings/cpt-74360.txt", 41) in {(e["source"], e["line"]) for e in unsupported.explanation}
    # issue 13: the absence of evidence is one info note per claim, not a warning per line
    none = only(check(store, claim(*[{"code": c, "diagnoses": ["K22.2"]} for c in ("43249", "43239")])),
                "dx.no-evidence")
    assert none.severity == "info" and "the graph holds no diagnosis evidence for CPT:43249, CPT:43239" in none.message
    assert none.lines == [1, 2]
    assert only(check(store, claim({"code": "74360"})), "dx.missing").severity == "warning"


# --- taxonomy, payer, claim type, data range, status ---------------------------------------------------------


def test_taxonomy_not_among_the_listed_specialties_is_info(store):
    assert "taxonomy.not-listed" not in rules(check(store, claim("74360-26", taxonomy="207Q00000X")))
    other = only(check(store, claim("74360-26", taxonomy="2085R0202X")), "taxonomy.not-listed")
    assert other.severity == "info" and len(other.explanation) == 5
    assert [e["line"] for e in other.explanation] == [33, 34, 35, 36, 37]


def test_payer_gaps_and_non_medicare_payers(store):
    aetna = check(store, claim("74360-26", payer="Aetna"))
    assert only(aetna, "payer.not-medicare").severity == "info"
    gap = only(aetna, "payer.gap")
    assert gap.severity == "info" and gap.message.startswith("policy not available")
    assert gap.explanation[0]["line"] == 4
    anthem = only(check(store, claim("74360-26", payer="Anthem")), "payer.gap")  # part of BCBS
    assert "PAYER:bcbs" in anthem.codes
    assert only(check(store, claim("74360-26", payer="Acme Health")), "payer.unknown").severity == "warning"
    assert "payer.not-medicare" not in rules(check(store, claim("74360-26", payer="CMS")))


def test_institutional_claims_get_a_warning(store):
    result = check(store, claim("74360-26", claim_type="institutional"))
    assert only(result, "claim.institutional").severity == "warning" and result.status == "warn"


def test_a_clean_claim_passes_and_names_its_data_versions(store):
    result = check(store, claim("74360-26", taxonomy="207Q00000X"))
    assert result.status == "pass", [str(f) for f in result.findings]
    assert {f.severity for f in result.findings} == {"info"}
    assert result.data_versions["icd10cm"] == "FY2024" and result.data_versions["mpfs"] == "2025-10"


def test_a_date_outside_the_data_names_the_version_used(store):
    result = check(store, dx_claim("K22.2", date="2019-06-01"))
    icd = [f for f in result.findings if f.rule == "data.out-of-range" and f.subject == "icd10cm"]
    assert icd[0].severity == "warning" and "checked against FY2020" in icd[0].message
    assert result.data_versions["icd10cm"] == "FY2020"
    fee = [f for f in result.findings if f.rule == "data.out-of-range" and f.subject == "mpfs"]
    assert fee[0].severity == "info" and "2025-10" in fee[0].message


def test_status_is_fail_warn_pass(store):
    assert check(store, claim("43214", "74360")).status == "fail"
    assert check(store, claim("74360-26-LT-RT", taxonomy="207Q00000X")).status == "warn"


# --- bad input ------------------------------------------------------------------------------------------------


def test_error_units_zero_negative_or_not_integers(store):
    with pytest.raises(ClaimError) as info:
        check(store, json.loads((CLAIMS / "bad-units.json").read_text()))
    assert str(info.value) == (
        "claim u1: line 1: units 0 must be a whole number, 1 or more; line 2: units -2 must be a whole number, "
        "1 or more; line 3: units 1.5 must be a whole number, 1 or more; line 4: units '2' must be a whole number, "
        "1 or more")
    assert isinstance(info.value, KGraphError) and info.value.claim_id == "u1" and len(info.value.problems) == 4


def test_error_codes_of_the_wrong_kind_and_bad_dates(store):
    with pytest.raises(ClaimError) as info:
        check(store, json.loads((CLAIMS / "bad-kinds.json").read_text()))
    assert info.value.problems == [
        "date '2024-13-01' is not a date (YYYY-MM-DD)",
        "taxonomy '207Q0000' is not a NUCC taxonomy code (10 characters ending in X)",
        "line 1: code 'K22.2' is an ICD-10-CM diagnosis code, not a CPT or HCPCS procedure code",
        "line 1: modifier '2' is not a modifier code (two letters or digits)",
        "line 1: diagnosis '74360' is not an ICD-10-CM code",
        "line 2: code 'LT' is a modifier, not a CPT or HCPCS procedure code"]


def test_error_no_lines_no_date_and_not_an_object(store):
    with pytest.raises(ClaimError, match=r"^claim x: no lines: 'lines' must be a list of at least one line$"):
        check(store, {"id": "x", "date": "2024-08-01", "lines": []})
    with pytest.raises(ClaimError, match=r"^claim claim: line 1: no date of service \(give the claim a date, or "
                                         r"the line its own\)$"):
        check(store, {"lines": [{"code": "74360"}]})
    with pytest.raises(ClaimError, match=r"^claim claim: not a JSON object but list$"):
        check(store, [])  # type: ignore[arg-type]


def test_error_line_spec():
    assert parse_line_spec("74360-26x2") == {"code": "74360", "modifiers": ["26"], "units": 2}
    assert parse_line_spec("G0008-LT-RTx3") == {"code": "G0008", "modifiers": ["LT", "RT"], "units": 3}
    with pytest.raises(ClaimError, match=r"^--line '74360xa': units 'a' after 'x' must be a whole number$"):
        parse_line_spec("74360xa")
    with pytest.raises(ClaimError, match=r"^--line '74360--26': expected CODE\[-MOD...\]\[xUNITS\], e.g. 74360-26x2$"):
        parse_line_spec("74360--26")
    # issue 13: a lower-case modifier starting with x is a modifier, not units
    assert parse_line_spec("43249-xs") == {"code": "43249", "modifiers": ["xs"], "units": 1}
    assert parse_line_spec("43249-xsx3") == {"code": "43249", "modifiers": ["xs"], "units": 3}


def test_error_a_cpt_code_with_the_hcpcs_prefix_says_so(store):
    with pytest.raises(ClaimError) as info:
        check(store, claim({"code": "HCPCS:74360", "diagnoses": ["K22.2"]}))
    assert info.value.problems == ["line 1: code 'HCPCS:74360' is written with the wrong prefix: 74360 is a CPT code "
                                   "(write CPT:74360 or 74360)"]
    # 43249-xs reads as modifier XS, which the HCPCS file lists
    assert "modifier.unknown" not in rules(check(store, claim({**parse_line_spec("43249-xs"), "diagnoses": ["K22.2"]})))


def test_unknown_fields_are_reported_not_dropped_silently(store):
    result = check(store, claim({"code": "74360", "modifiers": ["26"], "diagnosis": ["K22.2"]}))
    assert "'diagnosis' on line 1" in only(result, "claim.unknown-field").message
    assert "dx.missing" in rules(result)


def test_batch_reports_bad_lines_and_goes_on(store):
    with (CLAIMS / "batch.jsonl").open(encoding="utf-8") as handle:
        results = list(check_many(store, read_claims(handle, display="tests/data/claims/batch.jsonl")))
    assert [(r.id, r.status, r.input_line) for r in results] == [
        ("b1", "pass", 1), (None, "error", 2), ("b3", "error", 3), ("b5", "error", 5), (None, "error", 6),
        ("b7", "fail", 7)]
    assert results[1].error == "tests/data/claims/batch.jsonl:2: not valid JSON: Expecting ',' delimiter (column 74)"
    assert results[2].error == "claim b3: line 1: units 0 must be a whole number, 1 or more"
    assert results[4].error == "tests/data/claims/batch.jsonl:6: a claim must be a JSON object, not list"
    assert results[1].to_json()["input_line"] == 2 and results[1].to_json()["data_versions"]["ncci_ptp"]


@pytest.mark.slow  # checks 10,000 claims under tracemalloc (10 s)
def test_a_batch_streams_in_bounded_memory(store):
    def claims(n):
        for i in range(n):
            yield {"id": f"s{i}", "date": "2024-08-01",
                   "lines": [{"code": "43214", "diagnoses": ["K22.2"]}, {"code": "74360", "modifiers": ["26"],
                                                                         "diagnoses": ["K21.0"], "units": 1 + i % 2}]}

    source = claims(10_000)
    results = check_many(store, source)
    first = next(results)
    assert first.id == "s0" and first.status == "fail"
    assert next(source)["id"] == "s1"  # the generator was read one claim ahead, not to its end
    tracemalloc.start()
    counts = {first.status: 1}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
        json.dumps(result.to_json())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert counts == {"fail": 9_999}  # s1 was taken from the generator above
    assert peak < 2_000_000, peak  # results are not kept: 10k of them hold tens of MB


# --- indexes ---------------------------------------------------------------------------------------------------


def test_index_holds_every_ptp_row_of_the_store(store):
    ix = load_indexes(store)
    table = kgraph.query(store, "SELECT ?a ?b ?mi ?d WHERE { ?r a kg:PTPEdit ; kg:column1 ?a ; kg:column2 ?b ; "
                                "kg:modifierIndicator ?mi OPTIONAL { ?r kg:deletionDate ?d } }")
    assert len(table) == len(ix.ptp_keys) == 3585  # the file's 3,586 lines less its header
    for row in table.rows[:: 37]:
        found = {(r.indicator, r.deletion and r.deletion.isoformat()) for r in ix.ptp(row["a"], row["b"])}
        assert (row["mi"], row["d"]) in found


def test_index_file_is_written_atomically_with_a_format_version(briefing_store, tmp_path):
    path = write_indexes(briefing_store.ox, tmp_path)
    assert path == tmp_path / "indexes" / "check.pickle"
    assert [p.name for p in path.parent.iterdir()] == ["check.pickle"]  # no temporary file left
    with path.open("rb") as handle:
        assert pickle.load(handle)["format"] == FORMAT
    supports = load_file(path).supports["CPT:74360"]
    assert ("ICD10CM:K22.2", "data/briefings/cpt-74360.txt", 41) in {e[:3] for e in supports}
    path.write_bytes(pickle.dumps({"format": FORMAT - 1, "indexes": {}}))
    assert load_file(path) is None  # another version: computed from the store instead


def test_error_damaged_index(tmp_path):
    path = tmp_path / "check.pickle"
    path.write_bytes(b"\x80\x05not a pickle")
    with pytest.raises(StoreError, match=r"damaged claim-check index .*; rebuild the store$"):
        load_file(path)


# --- CLI (kgraph check), once it is wired into kgraph/cli.py ---------------------------------------------------

cli = pytest.importorskip("kgraph.cli")
needs_cli = pytest.mark.skipif("check" not in cli.main.commands, reason="kgraph check is not in kgraph/cli.py yet")


def run_cli(store, *args, input=None):
    from click.testing import CliRunner

    return CliRunner().invoke(cli.main, ["check", "--store", str(store.path), *args], input=input)


@needs_cli
def test_cli_flags_give_the_python_answer(store):
    out = run_cli(store, "--line", "74360-26", "--line", "43214", "--dx", "K22.2", "--payer", "medicare",
                  "--date", "2024-08-01", "--format", "json")
    assert out.exit_code == 1, out.output
    data = json.loads(out.output)
    expected = check(store, claim("74360-26", "43214")).to_json()
    assert data["status"] == expected["status"] == "fail"
    assert [f["rule"] for f in data["findings"]] == [f["rule"] for f in expected["findings"]]


@needs_cli
def test_cli_batch_streams_json_lines_and_exits_1(store):
    out = run_cli(store, str(CLAIMS / "batch.jsonl"), "--format", "json")
    assert out.exit_code == 1
    # stdout holds the JSON lines; the progress line ("checking FILE ...") goes to stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["status"] for x in lines] == ["pass", "error", "error", "error", "error", "fail"]
    ok = run_cli(store, "-", "--format", "json", input=(CLAIMS / "batch.jsonl").read_text().splitlines()[0])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["id"] == "b1"


@needs_cli
def test_cli_errors_and_table(store):
    bad = run_cli(store, "--line", "74360x0", "--date", "2024-08-01")
    assert bad.exit_code == 1 and "units 0 must be a whole number" in bad.output
    assert run_cli(store, "--line", "74360--26").exit_code == 2
    assert run_cli(store).exit_code == 2
    broken = run_cli(store, str(CLAIMS / "bad-json.json"))
    assert broken.exit_code == 1 and "bad-json.json:2: not valid JSON" in broken.output
    table = run_cli(store, str(CLAIMS / "interface-example.json"), "--format", "table")
    assert table.exit_code == 1 and "ncci.ptp" in table.output and f"{PTP_FILE}:1261" in table.output


# --- full build (slow) ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full(full_store):
    """The full build (conftest) with its claim-check indexes (written here until kgraph.build writes them)."""
    if load_file(index_path(full_store.build_dir)) is None:
        write_indexes(full_store.ox, full_store.build_dir)
    return full_store


@pytest.mark.slow
def test_full_official_effective_dates_answer_what_the_flat_file_cannot(full):
    # ccipra excerpt: 0001A / 36591 effective 2022-01-01, deleted 2023-12-31, indicator 0; the flat
    # 2024-07-01 file lists it too (deletion 2023-12-31) but without an effective date
    during = only(check(full, claim("0001A", "36591", date="2023-06-01")), "ncci.ptp")
    assert during.severity == "error"
    assert {e["source"].rsplit("/", 1)[-1] for e in during.explanation} == {"ccipra-official-layout-excerpt.txt"}
    assert "ncci.ptp" not in rules(check(full, claim("0001A", "36591", date="2024-02-01")))
    # 0001A / 90473: effective = deletion = 2022-01-01 with indicator 9: never applied
    assert not [r for r in rules(check(full, claim("0001A", "90473", date="2022-01-01"))) if r.startswith("ncci.ptp")]
    # 0001U / 0417U effective 2025-01-01, indicator 1
    assert "ncci.ptp" not in rules(check(full, claim("0001U", "0417U", date="2024-12-31")))
    assert only(check(full, claim("0001U", "0417U", date="2025-02-01")), "ncci.ptp").severity == "error"


@pytest.mark.slow
def test_full_mue_indicator_1_counts_per_line_and_2_per_date(full):
    # 99486,4,1 and 0001U,1,2 in ncci_mue_practitioner_2024-07-01.csv
    assert only(check(full, claim("99486x5")), "mue.units").lines == [1]
    assert "mue.units" not in rules(check(full, claim("99486x3", "99486x3")))
    assert only(check(full, claim("0001U", "0001U")), "mue.units").lines == [1, 2]


@pytest.mark.slow
def test_full_fee_status_and_add_on_types(full):
    # PPRRVU2025_Oct: A4570 status I (line 13269), G0008 status X (line 14756)
    status_i = only(check(full, claim("A4570")), "mpfs.status")
    assert status_i.severity == "error" and status_i.explanation[0]["line"] == 13269
    # issue 13: status X (statutory exclusion) is paid outside the fee schedule, not denied
    g0008 = only(check(full, claim("G0008")), "mpfs.status")
    assert g0008.severity == "info" and "vaccine administration" in g0008.message
    # add-on edits: 20701 type 3 (primaries 11010 ...), 0054T type 2 (CCCCC)
    assert only(check(full, claim("20701")), "ncci.addon-without-primary").severity == "warning"
    assert "ncci.addon-without-primary" not in rules(check(full, claim("11010", "20701")))
    assert only(check(full, claim("0054T")), "ncci.addon-without-primary").severity == "info"


@pytest.mark.slow
def test_full_index_holds_every_ptp_edit(full):
    # how fast it loads is a figure of bench/bench_check.py ("index load"), not an assertion
    ix = load_file(index_path(full.build_dir))
    assert len(ix.ptp_keys) > 2_500_000
    assert ix.ptp("CPT:43214", "CPT:74360")[0].line == 1396019  # zcat ...flat.csv.gz | grep -n ^43214,74360


def test_ptp_rows_read_from_the_store_equal_those_read_again_from_the_file(store, monkeypatch):
    from kgraph import indexes

    def rows():
        sources = indexes._sources(store.ox)
        builder = indexes._PTPBuilder(sources)
        indexes._ptp(store.ox, sources, builder, lambda _msg: None)
        return sorted(zip((builder.codes[k >> 32] for k in builder.keys),
                          (builder.codes[k & 0xFFFFFFFF] for k in builder.keys), builder.indicator,
                          builder.deletion, (list(builder.rationale_id)[r] for r in builder.rationale), builder.line,
                          strict=True))

    from_file = rows()
    monkeypatch.setattr(indexes, "_source_file", lambda database, source: None)  # as if the file had moved
    from_store = rows()
    assert len(from_store) == 3585 and from_store == from_file


def test_batches_on_two_processes_give_the_same_lines_in_order(store):
    from kgraph import check_batch

    lines = [json.dumps(claim("43214", "74360-26x2", date=f"2024-08-{1 + i % 28:02d}") | {"id": f"p{i}"})
             for i in range(1200)] + ["not json", json.dumps(claim("74360x0"))]
    text = "\n".join(lines) + "\n"
    one = list(check_batch.check_jsonl(store, io.StringIO(text), workers=1))
    two = list(check_batch.check_jsonl(store, io.StringIO(text), workers=2))
    assert one == two and len(one) == 1202  # 1202 claims in 3 chunks of up to 512, back in input order
    assert [json.loads(t)["id"] for t, _ in two[:3]] == ["p0", "p1", "p2"]
    assert two[-2][1] == "error" and json.loads(two[-2][0])["input_line"] == 1201
    out = run_cli(store, "-", "--format", "json", "--workers", "2", input=text)
    stdin = [t for t, _ in check_batch.check_jsonl(store, io.StringIO(text), display="<stdin>")]
    assert out.exit_code == 1 and out.stdout.splitlines() == stdin


def test_a_large_batch_file_is_checked_on_every_usable_core_by_default(tmp_path, monkeypatch):
    from kgraph import check_batch

    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_text(json.dumps(claim("43214")) + "\n")
    large.write_bytes(b"\n" * check_batch.AUTO_BYTES)
    monkeypatch.setattr(check_batch.os, "sched_getaffinity", lambda _pid: {0, 1, 2}, raising=False)
    assert check_batch.default_workers(large) == 3  # one per CPU this process may run on
    assert check_batch.default_workers(small) == 1  # starting workers costs more than they save
    assert check_batch.default_workers(None) == 1  # stdin: the size is unknown
