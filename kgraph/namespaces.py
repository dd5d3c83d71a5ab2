"""Every IRI kgraph mints, and the CURIE <-> IRI mapping used at the surface.

Input: CURIEs such as ``CPT:74360``, ``ICD10CM:K22.2``, ``MOD:26``, ``PAYER:medicare``,
or bare codes whose kind is unambiguous. Output: IRI strings (``iri``), CURIEs (``curie``),
the kind of a code (``kind_of``) and ready-made pyoxigraph terms (``term``).
Raises ``CurieError`` for an unknown prefix or a value that cannot be a code of its kind.
Does not touch any store; ``tests/test_ontology.py`` keeps the ``kg:`` names here in sync
with ``ontology/kgraph.ttl``.

>>> iri("ICD10CM:K22.2")
'https://w3id.org/kgraph/code/ICD10CM/K22.2'
>>> curie(iri("CPT:74360"))
'CPT:74360'
>>> normalize_code("k222")
'ICD10CM:K22.2'
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pyoxigraph as ox

from kgraph.errors import CurieError

BASE = "https://w3id.org/kgraph/"
KG = BASE + "ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
DCT = "http://purl.org/dc/terms/"

ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"

#: CURIE prefix -> IRI namespace, for codes and the other things kgraph mints.
PREFIXES: dict[str, str] = {
    "kg": KG,
    "CPT": BASE + "code/CPT/",
    "HCPCS": BASE + "code/HCPCS/",
    "ICD10CM": BASE + "code/ICD10CM/",
    "MOD": BASE + "code/MOD/",
    "NUCC": BASE + "code/NUCC/",
    "MSPEC": BASE + "code/MSPEC/",
    "PAYER": BASE + "payer/",
    "GAP": BASE + "gap/",
    "ASSERTION": BASE + "assertion/",
    "SOURCE": BASE + "source/",
    "GRAPH": BASE + "graph/",
    "ROW": BASE + "row/",
    # briefing columns kgraph does not know, kept under their own header name (col:Role, never kg:role)
    "col": BASE + "column/",
    "skos": SKOS,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "dct": DCT,
}

#: CURIE prefix of a code -> its node kind, as shown by ``kgraph stats``.
CODE_KINDS: dict[str, str] = {
    "CPT": "CPT",
    "HCPCS": "HCPCS",
    "ICD10CM": "ICD-10-CM",
    "MOD": "modifier",
    "NUCC": "taxonomy",
    "PAYER": "payer",
    "MSPEC": "Medicare specialty",
}

#: node kind -> the kg: class of such nodes
KIND_CLASSES: dict[str, str] = {
    "CPT": KG + "CPTCode",
    "HCPCS": KG + "HCPCSCode",
    "ICD-10-CM": KG + "ICD10CMCode",
    "modifier": KG + "Modifier",
    "taxonomy": KG + "Taxonomy",
    "payer": KG + "Payer",
    "Medicare specialty": KG + "MedicareSpecialty",
    "gap": KG + "Gap",
}

# Code patterns, as in ontology/shapes.ttl.
PATTERNS: dict[str, re.Pattern[str]] = {
    "CPT": re.compile(r"^[0-9]{4}[0-9AFMTU]$"),
    "HCPCS": re.compile(r"^[A-V][0-9]{4}$"),
    # FY2026 added category QA0, the only one with a letter in position 2
    "ICD10CM": re.compile(r"^([A-Z][0-9]|QA)[0-9A-Z](\.[0-9A-Z]{1,4})?$"),
    "NUCC": re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$"),
    "MOD": re.compile(r"^[0-9A-Z]{2}$"),
    "MSPEC": re.compile(r"^[0-9A-Z]{2,3}$"),
    "PAYER": re.compile(r"^[a-z0-9][a-z0-9-]*$"),
}

# The relations of the edge vocabulary (ARCHITECTURE.md), as kg: local names.
RELATIONS: tuple[str, ...] = (
    "supports",
    "conflictsWith",
    "billedWith",
    "addOnTo",
    "relatedTo",
    "modifierFor",
    "reportedBy",
    "coveredBy",
    "partOf",
    "crosswalksTo",
)

# Qualifiers an edge can carry (data properties of kg:Assertion).
QUALIFIERS: tuple[str, ...] = (
    "role",
    "relevanceText",
    "relationshipText",
    "statedDescription",
    "statedSpecialty",
    "whenToUse",
    "notes",
    "position",
    "section",
    "statedName",
    "reason",
    "requiredModifier",
    "relationKind",
    "columnQualifier",
)

# Other kg: terms the code writes.
CLASSES: tuple[str, ...] = (
    "Code",
    "ProcedureCode",
    "CPTCode",
    "HCPCSCode",
    "ICD10CMCode",
    "Modifier",
    "Taxonomy",
    "Payer",
    "MedicareSpecialty",
    "Gap",
    "Assertion",
    "Source",
    "Degree",
    "CodeRange",
)
PROPERTIES: tuple[str, ...] = (
    "code",
    "alias",
    "serviceType",
    "siteOfService",
    "hasGap",
    "about",
    "context",
    "field",
    "gapText",
    "source",
    "line",
    "file",
    "sha256",
    "licence",
    "release",
    "sourceKind",
    "builtAt",
    "effective",
    "notice",
    "layout",
    "scope",
    "history",
    "graph",
    "degreeOf",
    "node",
    "outDegree",
    "inDegree",
    "rank",
    "topDegree",
    "writtenAs",
    "rangeKind",
    "rangeFirst",
    "rangeLast",
    "rangeStem",
    "expandedAgainst",
    "member",
    "memberCount",
    "inRange",
)


def kg(local: str) -> str:
    """The IRI of a term of the kgraph ontology."""
    return KG + local


def iri(value: str) -> str:
    """The IRI of a CURIE (``CPT:74360``) or of an IRI given in full."""
    if value.startswith(("http://", "https://", "urn:")):
        return value
    prefix, sep, local = value.partition(":")
    if not sep or prefix not in PREFIXES:
        raise CurieError(f"{value}: unknown CURIE prefix; known prefixes: {', '.join(PREFIXES)}")
    return PREFIXES[prefix] + local


@functools.lru_cache(maxsize=1 << 16)
def curie(value: str) -> str:
    """The CURIE of an IRI minted by kgraph (or of a well-known vocabulary); other IRIs unchanged.

    Cached: query results repeat the same codes, and every cell of every result passes here.
    """
    best = ""
    for prefix, ns in PREFIXES.items():
        if value.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    if not best:
        return value
    return f"{best}:{value[len(PREFIXES[best]):]}"


def kind_of(code_curie: str) -> str:
    """The node kind (``CPT``, ``ICD-10-CM``, ``modifier`` ...) of a code CURIE."""
    prefix = code_curie.partition(":")[0]
    try:
        return CODE_KINDS[prefix]
    except KeyError:
        raise CurieError(f"{code_curie}: not a code CURIE; code prefixes: {', '.join(CODE_KINDS)}") from None


def is_valid(prefix: str, code: str) -> bool:
    """Whether ``code`` has the shape of a code of ``prefix``'s kind."""
    pattern = PATTERNS.get(prefix)
    return bool(pattern and pattern.match(code))


def procedure_curie(code: str) -> str | None:
    """``CPT:code`` or ``HCPCS:code`` for a bare procedure code by its shape, else None."""
    for prefix in ("CPT", "HCPCS"):
        if is_valid(prefix, code):
            return f"{prefix}:{code}"
    return None


# FY2026 opened category QA0 (genetic neurodevelopmental disorders), the first code with a letter
# in position 2; PATTERNS["ICD10CM"] (and ontology/shapes.ttl) allow QA only. The readers of the
# official ICD-10-CM files accept any letter there, so that the next such category is read rather
# than its official codes dropped.
_ICD10CM_WIDE = re.compile(r"^[A-Z][0-9A-Z][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def is_icd10cm_code(code: str) -> bool:
    """Whether ``code`` (with its dot) has the shape of an ICD-10-CM code as the official files
    may write it (``is_valid``, or a letter in position 2 as FY2026's ``QA0``).

    >>> is_icd10cm_code("K21.00"), is_icd10cm_code("QA0.0101"), is_icd10cm_code("123.4"), is_icd10cm_code("K21.")
    (True, True, False, False)
    """
    return is_valid("ICD10CM", code) or bool(_ICD10CM_WIDE.match(code))


def icd10cm_with_dot(code: str) -> str:
    """``K222`` -> ``K22.2``; codes of three characters or already dotted are unchanged."""
    code = code.strip().upper()
    if "." not in code and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


def normalize_code(value: str, *, prefix: str | None = None) -> str:
    """A CURIE for ``value``: a CURIE, or a bare code whose kind is unambiguous.

    With ``prefix`` the bare code is read as that kind. Raises ``CurieError`` when the
    value fits no kind, or more than one (``AS`` could be a modifier only; ``0001U`` is CPT).
    """
    value = value.strip()
    if ":" in value:
        pre, _, local = value.partition(":")
        if pre not in PREFIXES:
            raise CurieError(f"{value}: unknown CURIE prefix; known prefixes: {', '.join(PREFIXES)}")
        if pre == "ICD10CM":
            local = icd10cm_with_dot(local)
        elif pre in ("CPT", "HCPCS", "MOD", "NUCC", "MSPEC"):
            local = local.upper()
        if pre in PATTERNS and not is_valid(pre, local):
            raise CurieError(f"{value}: not a valid {CODE_KINDS.get(pre, pre)} code")
        return f"{pre}:{local}"
    if prefix is not None:
        code = icd10cm_with_dot(value) if prefix == "ICD10CM" else value.upper()
        if not is_valid(prefix, code):
            raise CurieError(f"{value}: not a valid {CODE_KINDS.get(prefix, prefix)} code")
        return f"{prefix}:{code}"
    upper = value.upper()
    fits = [p for p in ("CPT", "HCPCS", "NUCC", "MOD") if is_valid(p, upper)]
    icd = icd10cm_with_dot(upper)
    if is_valid("ICD10CM", icd):
        fits.append("ICD10CM")
    if len(fits) == 1:
        return f"{fits[0]}:{icd if fits[0] == 'ICD10CM' else upper}"
    if not fits:
        raise CurieError(f"{value}: not a code of any known kind (CPT, HCPCS, ICD-10-CM, NUCC, modifier)")
    raise CurieError(f"{value}: ambiguous bare code, could be {' or '.join(fits)}; write it as a CURIE")


def term(value: str) -> ox.NamedNode:
    """A pyoxigraph NamedNode for a CURIE or IRI."""
    return ox.NamedNode(iri(value))


def slug(text: str) -> str:
    """A lower-case IRI-safe identifier: ``Blue Cross Blue Shield`` -> ``blue-cross-blue-shield``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def sparql_prefixes() -> str:
    """PREFIX declarations for every CURIE prefix, for queries sent to other servers."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
