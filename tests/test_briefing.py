"""The briefing reader on the real seed briefing, a second briefing of our own, and bad input."""

from __future__ import annotations

from collections import Counter

import pytest

from kgraph.records import Code, Edge, Fact, Gap, Problem
from kgraph.sources import briefing

from .conftest import BAD, SECOND, SEED


@pytest.fixture(scope="module")
def seed(registry):
    return list(briefing.read(SEED, payers=registry, display="data/briefings/cpt-74360.txt"))


def edges(records, relation=None):
    return [r for r in records if isinstance(r, Edge) and (relation is None or r.relation == relation)]


def by_line(records, cls):
    return {r.origin.line: r for r in records if isinstance(r, cls)}


def test_seed_has_no_problems(seed):
    assert [r for r in seed if isinstance(r, Problem)] == []


def test_seed_subject_and_key_values(seed):
    subject = next(r for r in seed if isinstance(r, Code))
    assert subject.curie == "CPT:74360"
    assert subject.origin.line == 2
    assert subject.label == "Imaging Supervision & Interpretation for Esophageal Balloon Dilation"
    facts = {f.property: f for f in seed if isinstance(f, Fact)}
    assert facts["serviceType"].value == "Imaging supervision and interpretation"
    assert facts["serviceType"].origin.line == 8
    assert facts["siteOfService"].value.startswith("Hospital outpatient department")


def test_seed_modifier_table_has_15_rows_with_79_as_a_gap(seed):
    modifiers = edges(seed, "modifierFor")
    gaps = [g for g in seed if isinstance(g, Gap) and g.subject.startswith("MOD:")]
    assert len(modifiers) == 14
    assert len(modifiers) + len(gaps) == 15
    (gap,) = gaps
    assert (gap.subject, gap.context, gap.field, gap.origin.line) == ("MOD:79", "CPT:74360", "modifierFor", 19)
    assert "MOD:79" not in {e.subject for e in modifiers}
    mod79 = next(c for c in seed if isinstance(c, Code) and c.curie == "MOD:79")
    assert mod79.label is None  # "(Not listed in provided modifiers)" is not a description
    assert all(e.object == "CPT:74360" for e in modifiers)
    qk = next(e for e in modifiers if e.subject == "MOD:QK")
    assert qk.qualifier_map()["statedDescription"].startswith("Medical direction of two")


def test_seed_taxonomy_rows(seed):
    reported = edges(seed, "reportedBy")
    assert [e.object for e in reported] == [
        "NUCC:207RG0100X", "NUCC:207Q00000X", "NUCC:208800000X", "NUCC:363L00000X", "NUCC:207L00000X"]
    assert reported[2].qualifier_map()["statedSpecialty"] == "Surgery - General"
    assert [e.origin.line for e in reported] == [33, 34, 35, 36, 37]


def test_seed_diagnoses_with_roles(seed):
    supports = edges(seed, "supports")
    assert len(supports) == 8
    roles = {e.subject: e.qualifier_map()["role"] for e in supports}
    assert roles == {
        "ICD10CM:K22.2": "indication", "ICD10CM:K22.8": "indication", "ICD10CM:K22.3": "complication",
        "ICD10CM:K21.0": "risk", "ICD10CM:I85.00": "risk", "ICD10CM:C15.9": "indication",
        "ICD10CM:R13.10": "symptom", "ICD10CM:K22.1": "risk"}
    k222 = next(e for e in supports if e.subject == "ICD10CM:K22.2")
    assert k222.origin.line == 41
    assert k222.qualifier_map()["relevanceText"].startswith("Direct indication for esophageal dilation")


def test_seed_related_codes_classified(seed):
    related = {e.object: e.relation for e in seed if isinstance(e, Edge)
               and e.relation in ("billedWith", "conflictsWith", "relatedTo")}
    assert related == {"CPT:43249": "billedWith", "CPT:43254": "billedWith", "CPT:77002": "billedWith",
                       "CPT:77003": "relatedTo", "CPT:99070": "billedWith"}
    e77003 = next(e for e in edges(seed, "relatedTo"))
    assert e77003.qualifier_map()["relationshipText"].startswith("Included here as a related")


def test_seed_prose_payers_resolved_with_gaps(seed):
    covered = edges(seed, "coveredBy")
    assert sorted(e.object for e in covered) == [
        "PAYER:aetna", "PAYER:bcbs", "PAYER:cigna", "PAYER:medicare", "PAYER:uhc"]
    assert {e.qualifier_map()["statedName"] for e in covered} >= {"Cigna Health", "Blue Cross Blue Shield"}
    assert all(e.qualifier_map()["position"] == "unknown" and e.origin.line == 4 for e in covered)
    payer_gaps = [g for g in seed if isinstance(g, Gap) and g.context and g.context.startswith("PAYER:")]
    assert sorted(g.context for g in payer_gaps) == sorted(e.object for e in covered)


def test_second_briefing_columns_in_another_order(registry):
    records = list(briefing.read(SECOND, payers=registry))
    assert [r for r in records if isinstance(r, Problem)] == []
    assert next(r for r in records if isinstance(r, Code)).curie == "CPT:43249"
    mods = {e.subject: e.qualifier_map() for e in edges(records, "modifierFor")}
    assert mods["MOD:59"]["statedDescription"] == "Separate and distinct procedure"
    assert mods["MOD:59"]["whenToUse"].startswith("When the dilation is a separate service")
    gap33 = [g for g in records if isinstance(g, Gap) and g.subject == "MOD:33"]
    assert [(g.field, g.context) for g in gap33] == [("whenToUse", "CPT:43249")]
    assert {e.object for e in edges(records, "reportedBy")} == {"NUCC:207RG0100X", "NUCC:208600000X", "NUCC:207Q00000X"}
    roles = {e.subject: e.qualifier_map()["role"] for e in edges(records, "supports")}
    assert roles["ICD10CM:K22.2"] == "indication"
    assert roles["ICD10CM:R13.10"] == "symptom"
    assert roles["ICD10CM:K21.9"] == "risk"
    assert roles["ICD10CM:K22.3"] == "complication"
    rel = {e.object: e.relation for e in records if isinstance(e, Edge) and e.subject == "CPT:43249"
           and e.relation in ("billedWith", "conflictsWith", "relatedTo")}
    assert rel == {"CPT:74360": "billedWith", "CPT:43235": "conflictsWith", "CPT:43220": "relatedTo"}


def test_second_briefing_payer_table_and_prose(registry):
    records = list(briefing.read(SECOND, payers=registry))
    covered = {e.object: e.qualifier_map() for e in edges(records, "coveredBy")}
    # Medicare and Aetna have table positions; Anthem (an Anthem / BCBS plan) is named in prose only
    assert covered["PAYER:medicare"]["position"] == "Covered when medically necessary"
    assert covered["PAYER:aetna"]["position"] == "Covered for symptomatic strictures"
    assert covered["PAYER:anthem"]["position"] == "unknown"
    assert covered["PAYER:anthem"]["statedName"] == "Anthem Blue Cross"
    assert covered["PAYER:uhc"]["notes"] == "No policy details were supplied"
    gaps = {(g.context, g.field) for g in records if isinstance(g, Gap) and g.subject == "CPT:43249"}
    assert ("PAYER:uhc", "position") in gaps
    assert ("PAYER:anthem", "position") in gaps
    assert ("PAYER:medicare", "position") not in gaps


def test_tables_without_pipes_separator_or_final_newline(registry):
    text = ("CPT 74360: test\n"
            "Relevance | ICD-10 Code\n"
            "Symptom that prompts it | r13.10\n"
            "| Payer | Notes |\n"
            "| Cigna Health | listed |\n"
            "| Blue Cross & Blue Shield | listed |")
    records = list(briefing.parse(text, "x.txt", payers=registry))
    assert [str(r) for r in records if isinstance(r, Problem)] == [
        "x.txt:3: written in lower case: 'r13.10' read as ICD10CM:R13.10"]  # info, once
    (dx,) = edges(records, "supports")
    assert (dx.subject, dx.qualifier_map()["role"], dx.origin.line) == ("ICD10CM:R13.10", "symptom", 3)
    assert [e.object for e in edges(records, "coveredBy")] == ["PAYER:cigna", "PAYER:bcbs"]


def test_unknown_payer_is_kept_with_a_warning(registry):
    text = "CPT 74360: test\nKey payers discussed include Aetna and Acme Health Plan.\n"
    records = list(briefing.parse(text, "x.txt", payers=registry))
    assert sorted(e.object for e in edges(records, "coveredBy")) == ["PAYER:acme-health-plan", "PAYER:aetna"]
    (warning,) = [r for r in records if isinstance(r, Problem)]
    assert warning.severity == "warning" and warning.action == "kept"
    assert str(warning).startswith("x.txt:2: PAYER:acme-health-plan: unknown payer 'Acme Health Plan'")


def test_a_long_line_of_payer_words_reads_cleanly_and_still_finds_the_list(registry):
    # 200,000 characters of "payer payer ..." with no full stop (once quadratic: minutes), then a list
    text = "CPT 74360: t\n" + "payer " * 33_000 + "\nKey payers discussed include Aetna and Humana.\n"
    records = list(briefing.parse(text, "x.txt", payers=registry))
    assert [r for r in records if isinstance(r, Problem)] == []
    assert sorted(e.object for e in edges(records, "coveredBy")) == ["PAYER:aetna", "PAYER:humana"]


def test_blue_cross_and_blue_shield_is_one_payer(registry):
    text = "CPT 74360: t\nKey payers discussed include Blue Cross and Blue Shield, and Humana.\n"
    records = list(briefing.parse(text, "x.txt", payers=registry))
    assert sorted(e.object for e in edges(records, "coveredBy")) == ["PAYER:bcbs", "PAYER:humana"]


def test_hcpcs_code_in_a_cpt_column_becomes_hcpcs(registry):
    text = "CPT 74360: t\n| CPT Code | Relationship |\n| A4649 | supplies may be billed separately |\n"
    (edge,) = edges(list(briefing.parse(text, "x.txt", payers=registry)))
    assert (edge.object, edge.relation) == ("HCPCS:A4649", "billedWith")


# --- bad input: one fixture per defect (tests/data/README.md) -------------------------------


def problems_of(name, registry):
    records = list(briefing.read(BAD / name, payers=registry, display=f"tests/data/bad/{name}"))
    return records, [r for r in records if isinstance(r, Problem)]


def test_error_malformed_row_is_skipped_and_the_rest_kept(registry):
    records, problems = problems_of("malformed-row.txt", registry)
    assert [str(p) for p in problems] == [
        "tests/data/bad/malformed-row.txt:16: malformed row: 2 cells under a header of 3 (line 13) (row skipped)"]
    assert sorted(e.subject for e in edges(records, "supports")) == ["ICD10CM:K22.0", "ICD10CM:K22.2"]


def test_error_unknown_header_skips_that_table_only(registry):
    records, problems = problems_of("unknown-header.txt", registry)
    assert len(problems) == 1
    assert str(problems[0]).startswith("tests/data/bad/unknown-header.txt:8: unknown table header "
                                       "(Widget | Colour | Size)")
    assert problems[0].action == "table skipped"
    assert sorted(e.subject for e in edges(records, "modifierFor")) == ["MOD:26", "MOD:TC"]


def test_error_truncated_file_keeps_complete_rows(registry):
    records, problems = problems_of("truncated.txt", registry)
    assert [(p.origin.line, p.action) for p in problems] == [(16, "row skipped")]
    assert [e.subject for e in edges(records, "supports")] == ["ICD10CM:K22.2"]


@pytest.mark.parametrize(("name", "line", "message"), [
    ("empty.txt", 1, "empty file"),
    ("not-utf8.txt", 15, "not UTF-8: byte 0xe9 at column 37; save the file as UTF-8"),
    ("no-title.txt", 1, "no title line such as 'CPT 74360: <title>' or 'Code: 74360'; cannot tell which code the "
     "briefing is about"),
])
def test_error_file_refused(registry, name, line, message):
    records, problems = problems_of(name, registry)
    assert records == problems
    (problem,) = problems
    assert problem.fatal
    assert str(problem) == f"tests/data/bad/{name}:{line}: {message} (file refused)"


def test_error_values_that_cannot_be_codes(registry):
    records, problems = problems_of("bad-code.txt", registry)
    assert [str(p) for p in problems] == [
        "tests/data/bad/bad-code.txt:11: '2' cannot be a modifier code (row skipped)",
        "tests/data/bad/bad-code.txt:16: 'XYZ' cannot be an ICD-10-CM code (row skipped)"]
    assert [e.subject for e in edges(records, "supports")] == ["ICD10CM:K56.60"]
    assert [e.subject for e in edges(records, "modifierFor")] == ["MOD:26"]


def test_every_seed_record_has_an_origin(seed):
    lines = Counter(r.origin.path for r in seed)
    assert set(lines) == {"data/briefings/cpt-74360.txt"}
    assert all(r.origin.line >= 1 for r in seed)


# --- briefings written in other styles (issue 14) --------------------------------------------


def test_a_value_that_fits_two_kinds_takes_the_kind_of_its_column(registry):
    text = ("CPT 74360: t\n| HCPCS Code | Relationship |\n| A0100 | related transport |\n"
            "\n| ICD-10 Code | Relevance |\n| A0100 | indication |\n")
    records = list(briefing.parse(text, "x.txt", payers=registry))
    assert {e.relation: (e.subject, e.object) for e in edges(records)} == {
        "relatedTo": ("CPT:74360", "HCPCS:A0100"), "supports": ("ICD10CM:A01.00", "CPT:74360")}


def test_a_column_of_unknown_kind_takes_what_its_values_can_only_be_and_says_so(registry):
    text = "CPT 74360: t\n| Code | Why |\n| K222 | obstruction |\n| J1100 | listed by a template |\n"
    records = list(briefing.parse(text, "x.txt", payers=registry))
    assert [e.subject for e in edges(records, "supports")] == ["ICD10CM:K22.2", "ICD10CM:J11.00"]
    info = [str(p) for p in records if isinstance(p, Problem) and p.severity == "info"]
    assert "x.txt:2: column 'Code': J1100 fits the shapes of CPT or HCPCS and ICD-10-CM codes; read as " \
           "ICD-10-CM codes like the column's other values" in info


def test_markdown_heading_title_bold_keys_and_table_lines(registry):
    text = ("# CPT 43249 — Balloon dilation\n\n**Service type:** Therapeutic endoscopy\n\n## Diagnoses\n\n"
            "| Dx | Relevance |\n|---|---|\n| `K22.2` | **Direct** indication |\n| R13.10 | symptom |\n")
    records = list(briefing.parse(text, "x.md", payers=registry))
    subject = next(r for r in records if isinstance(r, Code))
    assert (subject.curie, subject.label, subject.origin.line) == ("CPT:43249", "Balloon dilation", 1)
    assert [(f.property, f.value, f.origin.line) for f in records if isinstance(f, Fact)] == [
        ("serviceType", "Therapeutic endoscopy", 3)]
    assert [(e.subject, e.origin.line, e.qualifier_map()["section"]) for e in edges(records, "supports")] == [
        ("ICD10CM:K22.2", 9, "Diagnoses"), ("ICD10CM:R13.10", 10, "Diagnoses")]


def test_html_lines_come_from_the_parser_and_scripts_are_not_read(registry):
    text = ("<html><head><title>x</title><script>var t = 'CPT 99999: no';</script></head>\n<body>\n"
            "<h1>CPT 74360: Imaging</h1>\n<table>\n<tr><th>ICD-10</th><th>Relevance</th></tr>\n"
            "<tr>\n<td>K22.2</td><td>indication</td></tr>\n</table></body></html>\n")
    reading = briefing.reading_of_text(text, "x.html", payers=registry)
    assert (reading.format, reading.subject) == ("html", "CPT:74360")
    (edge,) = edges(reading.records, "supports")
    assert (edge.subject, edge.origin.line) == ("ICD10CM:K22.2", 6)


def test_a_table_without_a_header_row_is_read_by_position(registry):
    text = "CPT 74360: t\nRelated CPT Codes\n|---|---|\n43249 | billed separately |\n77002 | related |\n"
    records = list(briefing.parse(text, "x.txt", payers=registry))
    assert {e.object: e.relation for e in edges(records)} == {"CPT:43249": "billedWith", "CPT:77002": "relatedTo"}
    (warning,) = [p for p in records if isinstance(p, Problem) and p.severity == "warning"]
    assert warning.origin.line == 4 and "table without a header row" in warning.message


@pytest.mark.parametrize(("name", "text", "fmt"), [
    ("wiki-export.txt", "<!DOCTYPE html>\n<h1>CPT 74360: Imaging</h1>\n<table><tr><th>ICD-10</th></tr>"
                        "<tr><td>K22.2</td></tr></table>\n", "html"),
    ("notes.txt", "# CPT 74360 — Imaging\n\n| ICD-10 |\n|---|\n| K22.2 |\n", "markdown"),
    ("cpt-74360.md", "CPT 74360: Imaging\nDiagnoses\nICD-10 | Relevance\nK22.2 | indication\n", "text"),
])
def test_the_format_comes_from_the_content_not_the_file_name(registry, name, text, fmt):
    reading = briefing.reading_of_text(text, name, payers=registry)
    assert (reading.format, reading.subject) == (fmt, "CPT:74360")
    assert [e.subject for e in edges(reading.records, "supports")] == ["ICD10CM:K22.2"]
