"""The phrase tables of kgraph.sources.briefing.phrases on phrasings found in real coding guides and briefings.

Expected relations follow what each sentence says about reporting the two codes together (the
NCCI policy manual's wording: "not separately reportable", "column 2", "mutually exclusive";
payer and coder phrasings: "only with modifier 25", "report X instead of Y"), not what the
classifier happened to answer.
"""

from __future__ import annotations

import pytest

from kgraph.sources.briefing.phrases import classify_role, relationship

NOT_TOGETHER = [
    "Not billed with 43235 on the same date",
    "Never reported together with the diagnostic EGD",
    "Do not report 43235 in addition to 43249",
    "Do not report in conjunction with 43239",
    "Should not be reported with the primary procedure",
    "Must not be billed on the same claim",
    "Cannot be billed with the endoscopy",
    "Can't be reported separately",
    "Not separately reportable",
    "Not separately payable when performed with the dilation",
    "Bundled into the primary procedure",
    "Included in the global surgical package",
    "Mutually exclusive with 43239",
    "Column 2 code of an NCCI edit with 43249",
    "NCCI PTP edit: the two are never paid together",
    "A component of the comprehensive procedure",
    "Integral to the procedure and not reported separately",
    "Reporting both would be unbundling",
    "No separate payment is made for the guidance",
    "Report one or the other, not both",
    "The fluoroscopy is denied when billed with the EGD",
    "Don't bill the supply separately",
    "Do not append modifier 59 to bypass this edit",
    "These codes conflict under NCCI",
    "Is not reportable with 74360",
]
TOGETHER = [
    "Billed separately when applicable",
    "May be billed with 43249 when a separate lesion is treated",
    "Can be reported in addition to the primary code",
    "Reported together when both are documented",
    "Add-on code: report with the primary procedure",
    "Reported in conjunction with the primary EGD",
    "Separately reportable by the radiologist",
    "Report both codes when both services are performed",
    "Also billed by the facility for the supplies",
    "Commonly billed alongside the dilation",
    "Coded with 43249 when the stricture is dilated",
    "Should be reported with the imaging code",
    "Paired with the S&I code on the same claim",
]
ONLY_WITH_MODIFIER = [
    ("Report 99213 only with modifier 25 on the same day", "25"),
    ("Only with modifier 25 when a separate visit is documented", "25"),
    ("Billable together only when modifier 59 is appended", "59"),
    ("Append modifier XS when the lesions are at separate sites", "XS"),
    ("Requires modifier 59 to be paid with 43249", "59"),
    ("Not billed together unless modifier 59 is appended", "59"),
    ("Reported with the -59 modifier for a separate lesion", "59"),
    ("Modifier 25 is required on the visit", "25"),
    ("Use modifier XU for an unusual non-overlapping service", "XU"),
    ("Except with modifier PT when a screening becomes diagnostic", "PT"),
]
ALTERNATIVE = [
    "Report 43235 instead of 43249 when no dilation is done",
    "Use G0105 instead of G0121 for a high-risk patient",
    "Reported in place of 45378 for a screening",
    "Use 43233 rather than 43249 for balloons of 30 mm or more",
    "An alternative to 43249 when a bougie is used",
    "Alternatively report 43220 for esophagoscopy",
    "Replaced by 43233 since 2014",
    "Used in lieu of the diagnostic code",
]
RELATED_ONLY = [
    "Included here as a related fluoroscopy guidance concept though primarily cardiovascular",
    "Same anatomic region",
    "Often discussed in the same policy",
    "Related imaging code",
    "A code of the same family",
]


@pytest.mark.parametrize("text", NOT_TOGETHER)
def test_negations_and_bundling_conflict(text):
    assert relationship(text).relation == "conflictsWith"


@pytest.mark.parametrize("text", TOGETHER)
def test_billed_together(text):
    found = relationship(text)
    assert (found.relation, found.qualifiers) == ("billedWith", ())


@pytest.mark.parametrize(("text", "modifier"), ONLY_WITH_MODIFIER)
def test_only_with_a_modifier_is_billed_with_that_modifier_required(text, modifier):
    found = relationship(text)
    assert (found.relation, dict(found.qualifiers)) == ("billedWith", {"requiredModifier": modifier})


@pytest.mark.parametrize("text", ALTERNATIVE)
def test_instead_of_is_an_alternative(text):
    found = relationship(text)
    assert (found.relation, dict(found.qualifiers)) == ("relatedTo", {"relationKind": "alternative"})


@pytest.mark.parametrize("text", RELATED_ONLY)
def test_otherwise_related(text):
    assert relationship(text).relation == "relatedTo"
    assert relationship(text).qualifiers == ()


ROLES = [
    ("Direct indication for esophageal dilation guided by imaging", "indication"),
    ("Primary reason for the screening", "indication"),
    ("Symptom code commonly associated with evaluation", "symptom"),
    ("Presenting complaint that leads to the study", "symptom"),
    ("Signs of obstruction such as food sticking", "symptom"),
    ("Relevant as a complication to identify during the procedure", "complication"),
    ("Post-procedural stricture after surgery", "complication"),
    ("Adverse event of an earlier dilation", "complication"),
    ("Chronic reflux can lead to peptic strictures", "risk"),
    ("May complicate dilation decisions", "risk"),
    ("Comorbid condition that raises anesthesia risk", "risk"),
    ("Contraindication to balloon dilation: check first", "risk"),
    ("Does not support medical necessity for this procedure", None),
    ("Not an indication for the diagnostic colonoscopy", None),
    ("Not medically necessary for a screening", None),
    ("Should not be used as the primary diagnosis", None),
]


@pytest.mark.parametrize(("text", "role"), ROLES)
def test_diagnosis_roles(text, role):
    assert classify_role(text) == role


def test_at_least_sixty_phrasings_are_held():
    assert len(NOT_TOGETHER) + len(TOGETHER) + len(ONLY_WITH_MODIFIER) + len(ALTERNATIVE) + len(RELATED_ONLY) \
        + len(ROLES) >= 60
