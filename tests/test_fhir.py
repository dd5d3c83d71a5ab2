"""kgraph.fhir on the default build: every answer parses as its FHIR resource with the R4B models of
``fhir.resources`` (nobody here wrote them), and the known facts come from the raw CMS files.

R4B against R4 (4.0.1): the resources used here (Parameters, OperationOutcome, CodeSystem,
ValueSet, ConceptMap, CapabilityStatement, TerminologyCapabilities) have the same elements in R4B
for what kgraph writes; ``ConceptMap`` ``equivalence`` is R4's and R4B's (R5 renamed it
``relationship``), and CapabilityStatement ``fhirVersion`` 4.0.1 is a valid R4B code.
"""

from __future__ import annotations

import csv
import zipfile
from datetime import date as Date
from pathlib import Path

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.conceptmap import ConceptMap
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.terminologycapabilities import TerminologyCapabilities
from fhir.resources.R4B.valueset import ValueSet

import kgraph
from kgraph import fhir
from kgraph.fhir import facts
from kgraph.fhir.maps import MAPS, concept_map

DATA = Path(__file__).resolve().parent.parent / "data"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
NUCC = "http://nucc.org/provider-taxonomy"
CPT = "http://www.ama-assn.org/go/cpt"
MSPEC = "https://w3id.org/kgraph/fhir/CodeSystem/medicare-specialty"
MODELS = {"Parameters": Parameters, "CodeSystem": CodeSystem, "ValueSet": ValueSet, "ConceptMap": ConceptMap,
          "CapabilityStatement": CapabilityStatement, "TerminologyCapabilities": TerminologyCapabilities}


def parsed(resource: dict) -> dict:
    """The resource after a round trip through its fhir.resources R4B model (raises if it is not one)."""
    model = MODELS[resource["resourceType"]].model_validate(resource)
    assert model.get_resource_type() == resource["resourceType"]
    return resource


def param(resource: dict, name: str):
    """The value of the first parameter called ``name`` (None when there is none)."""
    for p in resource["parameter"]:
        if p["name"] == name:
            return next((v for k, v in p.items() if k.startswith("value")), p.get("part"))
    return None


def props(resource: dict) -> dict[str, list]:
    out: dict[str, list] = {}
    for p in resource["parameter"]:
        if p["name"] == "property":
            code = p["part"][0]["valueCode"]
            out.setdefault(code, []).append(next(v for k, v in p["part"][1].items() if k.startswith("value")))
    return out


def cms_order_flag(fy: int, code: str) -> str | None:
    """The header flag (1 billable, 0 header) of a code in the CMS order file of a fiscal year, read
    without kgraph: columns 7-13 code, 15 the flag (CMS ICD10OrderFile.pdf)."""
    with zipfile.ZipFile(DATA / "icd10cm" / f"cms_{fy}_dx.zip") as archive:
        member = next(n for n in archive.namelist() if n.endswith(f"icd10cm_order_{fy}.txt"))
        for line in archive.read(member).decode("latin-1").splitlines():
            if line[6:13].strip() == code.replace(".", ""):
                return line[14]
    return None


@pytest.fixture(scope="module")
def store(default_store):
    return kgraph.open(default_store.path)


def test_k22_8_is_billable_in_fy2021_and_a_header_in_fy2022(store):
    assert (cms_order_flag(2021, "K22.8"), cms_order_flag(2022, "K22.8")) == ("1", "0")
    fy2021 = parsed(fhir.validate_code(store, ICD, "K22.8", date="2021-03-01"))
    assert param(fy2021, "result") is True and param(fy2021, "version") == "2021"
    fy2022 = parsed(fhir.validate_code(store, ICD, "K22.8", date="2021-10-01"))  # FY2022 starts October 1
    assert param(fy2022, "result") is False
    assert param(fy2022, "message").startswith("K22.8 is a header, not billable in FY2022")
    looked = parsed(fhir.lookup(store, ICD, "K22.8", date="2022-03-01"))
    assert props(looked)["billable"] == [False] and props(looked)["header-since"] == ["FY2022"]
    assert set(props(looked)["child"]) >= {"K22.81", "K22.89"}
    assert props(parsed(fhir.lookup(store, ICD, "K22.8", version="FY2021")))["billable"] == [True]


def test_no_icd_10_cm_code_is_valid_before_october_2015(store):
    # CMS: ICD-10-CM replaced ICD-9-CM for dates of service on or after 2015-10-01
    before = parsed(fhir.validate_code(store, ICD, "S72.001A", date="2015-09-30"))
    assert param(before, "result") is False and "ICD-9-CM" in param(before, "message")


@pytest.mark.parametrize("code", ["S72.001A", "T28.6XXA"])
def test_seventh_character_codes_are_valid(store, code):
    assert cms_order_flag(2024, code) == "1"
    answer = parsed(fhir.validate_code(store, "icd-10-cm", code.replace(".", ""), date="2024-05-01"))
    assert param(answer, "result") is True, param(answer, "message")
    looked = parsed(fhir.lookup(store, ICD, code, date="2024-05-01"))
    assert props(looked)["parent"] == [code[:-1].rstrip("X")]  # the code without its 7th character and placeholders
    assert param(looked, "display")


def test_k22_99_is_no_icd_10_cm_code(store):
    assert all(cms_order_flag(fy, "K22.99") is None for fy in (2020, 2026))
    answer = parsed(fhir.validate_code(store, ICD, "K22.99", date="2024-05-01"))
    assert param(answer, "result") is False
    assert "not an ICD-10-CM code in any loaded fiscal year (FY2020-FY2026)" in param(answer, "message")
    with pytest.raises(fhir.FhirError) as err:
        fhir.lookup(store, ICD, "K22.99")
    assert err.value.status == 404


def test_nucc_taxonomy_translates_to_medicare_specialty_10(store):
    with (DATA / "nucc" / "cms_medicare_specialty_taxonomy_crosswalk_2025-01-02.csv").open(encoding="utf-8") as f:
        expected = {r[0] for r in csv.reader(f) if len(r) > 2 and r[2].strip() == "207RG0100X"}
    assert "10" in expected
    answer = parsed(fhir.translate(store, NUCC, "207RG0100X"))
    matched = {m["part"][1]["valueCoding"]["code"] for m in answer["parameter"] if m["name"] == "match"}
    assert matched == expected
    back = parsed(fhir.translate(store, MSPEC, "10", reverse=True))
    assert "207RG0100X" in {m["part"][1]["valueCoding"]["code"] for m in back["parameter"] if m["name"] == "match"}


def test_subsumes_on_icd_10_cm_and_nucc(store):
    assert param(parsed(fhir.subsumes(store, ICD, "K22", "K22.81")), "outcome") == "subsumes"
    assert param(parsed(fhir.subsumes(store, ICD, "S72.001A", "S72")), "outcome") == "subsumed-by"
    assert param(parsed(fhir.subsumes(store, ICD, "K22.8", "K22.8")), "outcome") == "equivalent"
    assert param(parsed(fhir.subsumes(store, ICD, "K22.8", "K21.0")), "outcome") == "not-subsumed"
    assert param(parsed(fhir.subsumes(store, NUCC, "207R00000X", "207RG0100X")), "outcome") == "subsumes"
    with pytest.raises(fhir.FhirError) as err:
        fhir.subsumes(store, CPT, "74360", "74361")
    assert err.value.status == 422


def test_cpt_lookup_shows_no_descriptor_and_the_mue_of_the_cms_row(store):
    with (DATA / "ncci" / "ncci_mue_practitioner_2024-07-01.csv").open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["hcpcs_code"] == "74360")
    answer = parsed(fhir.lookup(store, CPT, "74360", date="2024-08-01"))
    assert "AMA" in param(answer, "display") and "esoph" not in param(answer, "display").lower()
    found = props(answer)
    assert found["mue-units"] == [int(row["mue_units"])]
    assert found["mue-adjudication-indicator"] == [row["mue_mai"]]
    assert found["ncci-edits-in-effect"][0] > 0
    assert found["briefing"] == ["data/briefings/cpt-74360.txt"]


def cms_ptp_edits(code: str, day: str) -> int:
    """Rows of the CMS PTP file naming ``code`` in either column that apply on ``day``, by the CMS
    definition: modifier indicator 9 never applies, a row applies through its deletion date ("*":
    not deleted); the flat file has no effective dates (its own date is 2024-07-01)."""
    with (DATA / "ncci" / "ptp_practitioner_2024-07-01_flat.csv").open(encoding="utf-8") as f:
        return sum(1 for r in csv.DictReader(f) if code in (r["col1"], r["col2"]) and r["modifier_indicator"] != "9"
                   and (r["deletion_date"] == "*" or day <= r["deletion_date"]))


@pytest.mark.parametrize("code", ["77002", "74360", "43239"])
def test_ncci_edit_count_is_the_cms_rows_in_effect(store, code):
    found = props(parsed(fhir.lookup(store, CPT, code, date="2024-08-01", properties=["ncci-edits-in-effect"])))
    assert found["ncci-edits-in-effect"] == [cms_ptp_edits(code, "2024-08-01")]
    assert found["ncci-edits-in-effect"][0] > 0
    # the claim-check indexes (what the server reads) and the ncci_conflicts named query agree
    run, catalog = fhir._context(store)
    assert facts.ncci_counts(run, catalog, f"CPT:{code}", Date(2008, 1, 1)) == facts.ncci_counts(
        run, facts.Catalog(), f"CPT:{code}", Date(2008, 1, 1))


def test_ncci_edits_before_the_flat_file_are_unknown_not_absent(store):
    """The flat file (dated 2024-07-01) cannot say which of its edits were in effect earlier."""
    found = props(parsed(fhir.lookup(store, CPT, "77002", date="2024-03-01")))
    assert found["ncci-edits-in-effect"] == [0]
    assert found["ncci-edits-unknown"] == [cms_ptp_edits("77002", "2024-03-01")]


def rvu_rows() -> list[dict[str, str]]:
    """The rows of the default build's fee-schedule file, read without kgraph: the header is the
    line starting ``HCPCS,MOD`` (the RVU file's record layout; the lines above it are titles)."""
    lines = (DATA / "mpfs" / "PPRRVU2025_Oct_nodesc.csv").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("HCPCS,MOD"))
    header = lines[start].split(",")
    names = [f"{a} {b}".strip() if a else b for a, b in zip(lines[start - 1].split(","), header, strict=False)]
    return [dict(zip(names, r, strict=False)) for r in csv.reader(lines[start + 1:]) if r and r[0]]


def test_fee_mue_and_briefing_properties_read_beside_the_store_are_the_stores(store):
    """A served $lookup reads a procedure's fee-schedule and MUE rows from the claim-check indexes
    and its briefings from a map read once (fast); they must be what the store's queries give for
    the code, for every code of the RVU file, and the indicators those of the CMS row (ENDO BASE of
    43249 is 43235)."""
    run, with_indexes = fhir._context(store)
    without = facts.catalog(run)  # no indexes: the rows come from fee_schedule_indicators / mue_limit
    from kgraph.fhir import operations

    wanted = {"fee-schedule-status", "fee-schedule-indicator", "mue-units", "mue-adjudication-indicator", "briefing"}
    rows = rvu_rows()
    for code in sorted({r["HCPCS"] for r in rows}):
        fast = props(parsed(operations.lookup(run, with_indexes, CPT, code, date="2024-08-01")))
        slow = props(operations.lookup(run, without, CPT, code, date="2024-08-01"))
        assert {k: v for k, v in fast.items() if k in wanted} == {k: v for k, v in slow.items() if k in wanted}, code
        own = next(r for r in rows if r["HCPCS"] == code and not r["MOD"])
        assert fast["fee-schedule-status"] == [own["STATUS CODE"]], code
        if own["ENDO BASE"]:
            assert f"endoBase=CPT:{own['ENDO BASE']}" in fast["fee-schedule-indicator"], code
    assert any(r["ENDO BASE"] for r in rows)  # the file has an endoscopic base code to compare
    assert props(operations.lookup(run, with_indexes, CPT, "74360"))["briefing"] == ["data/briefings/cpt-74360.txt"]


def test_add_on_primaries_are_the_cms_rows(store):
    with (DATA / "ncci" / "ncci_add_on_code_edits_2024-06.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["add_on_code"] == "77002"]
    found = props(parsed(fhir.lookup(store, CPT, "77002", properties=["add-on-primary", "add-on-type"])))
    assert rows and sorted(found["add-on-primary"]) == sorted(r["primary_code"] for r in rows)
    assert found["add-on-type"] == sorted({r["aoc_edit_type"] for r in rows})


def test_cpt_modifier_expressions(store):
    assert param(parsed(fhir.validate_code(store, CPT, "74360:26")), "result") is True
    bad = parsed(fhir.validate_code(store, CPT, "74360:Z9"))
    assert param(bad, "result") is False and "Z9" in param(bad, "message")


def test_expand_pages_and_filters(store):
    url = "http://hl7.org/fhir/sid/icd-10-cm?fhir_vs=isa/K22"
    whole = parsed(fhir.expand(store, url))["expansion"]
    codes = [c["code"] for c in whole["contains"]]
    assert whole["total"] == len(codes) and {"K22", "K22.8", "K22.81"} <= set(codes)
    pages = [parsed(fhir.expand(store, url, count=5, offset=o))["expansion"] for o in range(0, whole["total"], 5)]
    assert sorted(c["code"] for p in pages for c in p.get("contains", [])) == sorted(codes)
    billable = "https://w3id.org/kgraph/fhir/ValueSet/icd-10-cm-billable?under=K22.8"
    assert [c["code"] for c in parsed(fhir.expand(store, billable, date="2021-03-01"))["expansion"]["contains"]] \
        == ["K22.8"]
    fy2022 = [c["code"] for c in fhir.expand(store, billable, date="2022-03-01")["expansion"]["contains"]]
    assert "K22.8" not in fy2022 and "K22.81" in fy2022
    filtered = parsed(fhir.expand(store, url, filter="polyp"))["expansion"]
    assert filtered["total"] >= 1 and all("polyp" in c["display"].lower() for c in filtered["contains"])
    mods = fhir.validate_code_in_value_set(store, "https://w3id.org/kgraph/fhir/ValueSet/modifiers-for?procedure=74360",
                                           CPT, "26")
    assert param(parsed(mods), "result") is True


def test_resources_parse(store):
    parsed(fhir.capability_statement(store))
    caps = parsed(fhir.terminology_capabilities(store))
    icd = next(s for s in caps["codeSystem"] if s["uri"] == ICD)
    assert [v["code"] for v in icd["version"]] == [str(y) for y in range(2020, 2027)]
    assert parsed(fhir.code_system(store, ICD, "2021"))["version"] == "2021"
    assert parsed(fhir.code_system(store, CPT))["content"] == "not-present"
    for m in MAPS:
        parsed(concept_map(m))
