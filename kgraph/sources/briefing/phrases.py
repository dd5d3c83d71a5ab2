"""What a briefing's words say: related-code relationship text and diagnosis relevance text.

Input: the text of one cell (the "Relationship to This Procedure" of a related-code row, the
"Clinical Relevance" of a diagnosis row). Output: a ``Reading`` of the relation (``billedWith``,
``conflictsWith``, ``relatedTo``) with extra qualifiers, or a diagnosis role. Both are decided by
the ordered phrase tables below, first match wins; the tables are the documentation (README
"How a briefing is read" summarises them) and tests/test_briefing_phrases.py holds over 60
real-world phrasings. Pure functions: nothing is read or raised.

Relationship, in this order:

0. ``conflictsWith`` when the text forbids the modifier that would let them go together: "do
   not append modifier 59 to bypass the edit";
1. ``billedWith`` with ``requiredModifier`` when the codes go together only with a modifier:
   "only with modifier 25", "append modifier 59", "unless modifier XS is appended", "with a -59
   modifier";
2. ``relatedTo`` with ``relationKind`` = ``alternative`` when one code is reported instead of the
   other: "instead of", "in place of", "rather than", "alternative to", "replaced by";
3. ``conflictsWith`` when the text denies reporting them together: a negation near billed /
   reported ("not billed with", "should not be reported", "never reported together", "do not
   report ... in addition", "cannot be billed"), "bundled", "included in", "mutually exclusive",
   "not separately payable", "no separate payment", "unbundling", "column 2", "NCCI edit",
   "component of", "integral to", "not both";
4. ``billedWith`` when it says they are billed together: "billed / reported separately /
   together / with / when / alongside / in addition", "may / can be billed", "add-on", "in
   addition to", "in conjunction with", "separately reportable", "report both";
5. ``relatedTo`` otherwise.

Diagnosis role, in this order: no role at all (the row says the diagnosis does *not* support the
procedure: "does not support", "not an indication", "not medically necessary", "not a covered
diagnosis"), then ``complication``, ``symptom``, ``risk``, else ``indication``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.IGNORECASE
_MOD = r"(?:modifiers?|mod\.?)\s*-?\s*([0-9A-Za-z]{2})\b"

#: (relation, qualifiers, pattern, what it catches); a pattern's group 1, if any, is the modifier
RELATIONSHIP_PHRASES: tuple[tuple[str, dict[str, str], re.Pattern[str], str], ...] = (
    ("conflictsWith", {}, re.compile(
        r"\b(?:not|never|n't|cannot)\s+(?:be\s+)?(?:append|add|use|attach)\w*\s+(?:a\s+|an\s+|the\s+|any\s+)?"
        r"(?:modifier|-?[0-9A-Za-z]{2}\s+modifier)", _I), "do not append a modifier (to bypass an edit)"),
    ("billedWith", {"requiredModifier": ""}, re.compile(
        r"\b(?:only|unless|except)\b[^.;]{0,40}?\b" + _MOD, _I), "only with / unless modifier NN"),
    ("billedWith", {"requiredModifier": ""}, re.compile(
        r"\b(?:append(?:ing|ed)?|add(?:ing)?|attach(?:ing)?|requires?|requiring|need(?:s|ing)?|use|using)\s+"
        r"(?:a\s+|an\s+|the\s+)?" + _MOD, _I), "append / requires modifier NN"),
    ("billedWith", {"requiredModifier": ""}, re.compile(
        r"\b(?:with|append|appending|add|using|requires?)\s+(?:a\s+|an\s+|the\s+)?-?([0-9A-Za-z]{2})\s+modifier\b", _I),
     "with a -NN modifier"),
    ("billedWith", {"requiredModifier": ""}, re.compile(
        r"\b" + _MOD + r"\s+(?:is\s+|must\s+be\s+|should\s+be\s+)?(?:required|appended|attached|needed)\b", _I),
     "modifier NN is required / appended"),
    ("relatedTo", {"relationKind": "alternative"}, re.compile(
        r"\binstead\b|\bin place of\b|\brather than\b|\balternative\b|\balternatively\b|\breplace[sd]?\b"
        r"|\bsubstitute[sd]?\b|\bin lieu of\b", _I), "instead of / in place of / alternative"),
    ("conflictsWith", {}, re.compile(
        r"\b(?:not|never|no longer)\b[^.;]{0,30}\b(?:billed|billable|reported|reportable|separately|coded|payable"
        r"|together|submitted|allowed|paid)\b", _I), "not / never ... billed, reported, together"),
    ("conflictsWith", {}, re.compile(
        r"\b(?:do|does|did|should|must|may|can|will)\s*(?:not|n't)\s+(?:be\s+)?(?:bill|report|code|submit|use"
        r"|append|claim|charge)", _I), "do not / should not (be) report ..."),
    ("conflictsWith", {}, re.compile(r"\b(?:cannot|can't|can ?not)\s+(?:be\s+)?(?:bill|report|code|submit|claim)",
                                     _I), "cannot be billed"),
    ("conflictsWith", {}, re.compile(
        r"\bbundled\b|\bbundles\b|\bincluded in\b|\bmutually exclusive\b|\bconflict|\bunbundl|\bno separate"
        r"\s+(?:payment|reporting|billing|charge)\b|\bcolumn\s*(?:2|two)\b|\bncci\b[^.;]{0,30}\bedit|\bptp\s+edit"
        r"|\bcomponent of\b|\bintegral (?:part )?(?:to|of)\b|\bnot both\b|\bdenied\b|\bprohibited\b", _I),
     "bundled / included in / mutually exclusive / column 2 / NCCI edit"),
    ("billedWith", {}, re.compile(
        r"\b(?:billed|billable|reported|reportable|coded|submitted|claimed)\b[^.;]{0,20}\b(?:separately|together"
        r"|with|when|alongside|in addition|in conjunction)\b", _I), "billed / reported ... separately, together"),
    ("billedWith", {}, re.compile(
        r"\b(?:may|can|should|must|will)\s+(?:also\s+)?(?:be\s+)?(?:billed|reported|coded|submitted)\b"
        r"|\badd-?on\b|\bin addition to\b|\bin conjunction with\b|\bseparately (?:billable|reportable|payable)\b"
        r"|\b(?:report|bill|code)\s+(?:both|each|them together|it with|also)\b|\balso (?:billed|reported|bill|report)\b"
        r"|\bpaired with\b|\balong with\b|\baccompan(?:y|ies|ying)\b", _I), "may be billed / add-on / in addition to"),
)

ROLE_PHRASES: tuple[tuple[str | None, re.Pattern[str], str], ...] = (
    (None, re.compile(
        r"\bdoes(?: not|n't)\s+support\b|\bnot\s+(?:an?\s+)?(?:valid\s+|appropriate\s+|covered\s+|supporting\s+)?"
        r"(?:indication|diagnosis|reason)\b|\bnot\s+medically\s+necessary\b|\bnot\s+support(?:ed)?\b"
        r"|\bshould\s+not\s+be\s+(?:used|reported|coded|billed)\b|\bdo\s+not\s+(?:use|report|code)\b", _I),
     "the diagnosis does not support the procedure"),
    ("complication", re.compile(r"\bcomplication|\badverse\s+event|\biatrogenic\b|\bpost-?procedur", _I),
     "complication / adverse event / post-procedural"),
    ("symptom", re.compile(r"\bsymptom|\bpresenting\b|\bsigns?\s+(?:of|and)\b|\bcomplaint\b", _I),
     "symptom / presenting / sign of"),
    ("risk", re.compile(r"\brisk|\bcan lead to\b|\bmay complicate\b|\bpredispos|\bimpact(?:s|ing|ed)?\b|\baffect"
                        r"|\bcontraindicat|\bcomorbid|\bcaution\b", _I),
     "risk / can lead to / may complicate / predisposes / affects / contraindication / comorbidity"),
)


@dataclass(frozen=True)
class Relationship:
    """What a relationship text says: the relation and the qualifiers it adds."""

    relation: str
    qualifiers: tuple[tuple[str, str], ...] = ()
    phrase: str = "no phrase matched"


def relationship(text: str) -> Relationship:
    """The relation a related-code row's text expresses, with its extra qualifiers.

    >>> found = relationship("Report 99213 only with modifier 25 on the same day")
    >>> found.relation, found.qualifiers
    ('billedWith', (('requiredModifier', '25'),))
    >>> relationship("Use 43235 instead of 43249 when no dilation is done").qualifiers
    (('relationKind', 'alternative'),)
    """
    for relation, extra, pattern, what in RELATIONSHIP_PHRASES:
        match = pattern.search(text)
        if match:
            quals = {k: (match.group(1).upper() if k == "requiredModifier" else v) for k, v in extra.items()}
            return Relationship(relation, tuple(sorted(quals.items())), what)
    return Relationship("relatedTo")


def classify_relationship(text: str) -> str:
    """The kg: relation a Related CPT row's relationship text expresses.

    >>> classify_relationship("Bundled into the primary procedure; not billed separately")
    'conflictsWith'
    >>> classify_relationship("The S&I is billed separately when applicable")
    'billedWith'
    >>> classify_relationship("Included here as a related concept")
    'relatedTo'
    """
    return relationship(text).relation


def role(text: str) -> tuple[str | None, str]:
    """The role of a diagnosis supporting a procedure and the phrase that decided it; role None when the
    text says the diagnosis does not support the procedure."""
    for name, pattern, what in ROLE_PHRASES:
        if pattern.search(text):
            return name, what
    return "indication", "no phrase matched"


def classify_role(text: str) -> str | None:
    """The role of a diagnosis that supports a procedure, from its clinical relevance text.

    >>> classify_role("Symptom code commonly associated with evaluation")
    'symptom'
    >>> classify_role("Chronic reflux can lead to peptic strictures")
    'risk'
    >>> classify_role("Does not support medical necessity for this procedure") is None
    True
    """
    return role(text)[0]
