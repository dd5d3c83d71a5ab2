"""The code systems kgraph serves over FHIR, and how a FHIR code becomes a kgraph CURIE.

Input: a code system URL (``http://hl7.org/fhir/sid/icd-10-cm``) or resource id, and a code as a
client writes it (``K22.8``, ``K228``, ``74360:26``, ``207rg0100x``). Output: ``System`` rows and
CURIEs (``ICD10CM:K22.8``). Raises ``FhirError`` (404 for a code system kgraph does not hold, 400
for a code that cannot be a code of its system). The URLs are HL7 Terminology's where one exists;
CMS Medicare specialty codes have none, so kgraph names them under its own w3id namespace (the
CapabilityStatement says so). Does not query the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgraph import namespaces as ns
from kgraph.errors import KGraphError

#: kgraph's own namespace for FHIR canonical URLs (code systems without an HL7 URL, value sets, maps)
KGRAPH_FHIR = ns.BASE + "fhir/"
FHIR_VERSION = "4.0.1"


class FhirError(KGraphError):
    """An operation that cannot be answered: HTTP ``status`` and the OperationOutcome issue ``code``."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class System:
    """One code system: its FHIR id and canonical URL, the CURIE prefix of its codes and its kg: class."""

    id: str
    url: str
    prefix: str
    cls: str
    name: str
    title: str
    #: source kinds whose release is a version of this system (``kg:sourceKind``)
    kinds: tuple[str, ...]
    #: whether codes carry ``skos:broader`` parents ($subsumes, parent / child properties)
    hierarchical: bool = False
    #: whether displays may be shown (CPT descriptors are AMA-licensed: never)
    displays: bool = True
    publisher: str = ""
    copyright: str = ""


SYSTEMS: tuple[System, ...] = (
    System("icd-10-cm", "http://hl7.org/fhir/sid/icd-10-cm", "ICD10CM", "ICD10CMCode", "ICD10CM",
           "ICD-10-CM (one version per fiscal year)", ("icd10cm",), hierarchical=True,
           publisher="CMS / CDC National Center for Health Statistics",
           copyright="ICD-10-CM is a US Government work in the public domain."),
    System("cpt", "http://www.ama-assn.org/go/cpt", "CPT", "CPTCode", "CPT", "CPT (codes only)",
           ("mpfs", "ncci-ptp", "ncci-mue", "ncci-addon"), displays=False, publisher="American Medical Association",
           copyright="CPT codes and descriptors are (c) AMA; kgraph holds the codes as CMS files name them and "
                     "never shows a descriptor."),
    System("hcpcs", "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "HCPCS", "HCPCSCode", "HCPCS",
           "HCPCS Level II", ("hcpcs",), publisher="CMS", copyright="HCPCS Level II is public domain (CMS)."),
    System("nucc-provider-taxonomy", "http://nucc.org/provider-taxonomy", "NUCC", "Taxonomy", "NUCCProviderTaxonomy",
           "NUCC Health Care Provider Taxonomy", ("nucc",), hierarchical=True, publisher="NUCC",
           copyright="(c) AMA on behalf of the NUCC."),
    System("medicare-specialty", KGRAPH_FHIR + "CodeSystem/medicare-specialty", "MSPEC", "MedicareSpecialty",
           "MedicareSpecialty", "CMS Medicare provider/supplier specialty codes (no HL7 URL exists: a kgraph URL)",
           ("crosswalk",), publisher="CMS", copyright="CMS Medicare specialty crosswalk, public domain."),
)
BY_URL = {s.url: s for s in SYSTEMS}
BY_ID = {s.id: s for s in SYSTEMS}


def system_for(url: str | None) -> System:
    """The system of a canonical URL (``url|version`` accepted); ``FhirError`` 404 for one kgraph does not hold."""
    if not url:
        raise FhirError("give the code system: 'system' (or 'url') is missing", 400, "required")
    found = BY_URL.get(url.partition("|")[0])
    if found is None:
        known = ", ".join(s.url for s in SYSTEMS)
        raise FhirError(f"{url}: unknown code system; this server holds {known}", 404, "not-found")
    return found


def split_modifiers(system: System, code: str) -> tuple[str, list[str]]:
    """A procedure code and its modifiers, as HL7 writes CPT post-coordination (``74360:26``)."""
    if system.prefix in ("CPT", "HCPCS") and ":" in code:
        base, *mods = code.split(":")
        return base, [m.strip().upper() for m in mods]
    return code, []


def curie(system: System, code: str) -> str:
    """The CURIE of a code of ``system``, normalized as kgraph stores it; ``FhirError`` 400 if it cannot be one.

    >>> curie(BY_ID["icd-10-cm"], "k228"), curie(BY_ID["nucc-provider-taxonomy"], "207rg0100x")
    ('ICD10CM:K22.8', 'NUCC:207RG0100X')
    """
    text = (code or "").strip()
    if not text:
        raise FhirError("give a code: 'code' is missing or empty", 400, "required")
    try:
        return ns.normalize_code(text, prefix=system.prefix)
    except KGraphError:
        raise FhirError(f"{text!r} cannot be a code of {system.url} ({system.title})", 400, "code-invalid") from None


def local(curie_: str) -> str:
    """The code of a CURIE, as FHIR writes it (``ICD10CM:K22.8`` -> ``K22.8``)."""
    return curie_.partition(":")[2]


def system_of_curie(curie_: str) -> System | None:
    prefix = curie_.partition(":")[0]
    return next((s for s in SYSTEMS if s.prefix == prefix), None)
