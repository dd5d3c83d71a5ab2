"""ontology/kgraph.ttl and ontology/shapes.ttl: in sync with kgraph.namespaces and ARCHITECTURE.md.

(a) every kg: name of namespaces.py is declared in kgraph.ttl with its type, label and comment,
    and every kg: term declared there is listed in namespaces.py;
(b) relation domains / ranges follow the edge vocabulary table of ARCHITECTURE.md;
(c) a small graph written the way kgraph writes RDF conforms to shapes.ttl;
(d) each kind of defect makes pyshacl report the violation it should.
"""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import OWL, RDF, RDFS, SH, XSD, Graph, Literal, URIRef

from kgraph.namespaces import CLASSES, KG, ONTOLOGY_DIR, PROPERTIES, QUALIFIERS, RELATIONS, iri, kg
from kgraph.sources import TERMS as SOURCE_TERMS

ROOT = ONTOLOGY_DIR.parent


def K(local: str) -> URIRef:
    return URIRef(kg(local))


def C(curie: str) -> URIRef:
    return URIRef(iri(curie))


def S(value: str) -> Literal:
    """Codes and texts: always an explicit xsd:string, as kgraph writes them."""
    return Literal(value, datatype=XSD.string)


@pytest.fixture(scope="module")
def onto() -> Graph:
    return Graph().parse(ONTOLOGY_DIR / "kgraph.ttl", format="turtle")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(ONTOLOGY_DIR / "shapes.ttl", format="turtle")


# ---------------------------------------------------------------- (a) names in sync


DATATYPE_PROPERTIES = {"code", "alias", "serviceType", "siteOfService", "field", "gapText", "line",
                       "file", "sha256", "licence", "release", "sourceKind", "builtAt",
                       "effective", "notice", "layout", "scope", "history", "outDegree", "inDegree", "rank",
                       "writtenAs", "rangeKind", "rangeFirst", "rangeLast", "rangeStem", "expandedAgainst",
                       "memberCount"}
OBJECT_PROPERTIES = {"hasGap", "about", "context", "source", "graph", "degreeOf", "node", "topDegree", "member",
                     "inRange"}


def expected_types() -> dict[str, URIRef]:
    out = {name: OWL.Class for name in CLASSES}
    out |= {name: OWL.ObjectProperty for name in RELATIONS}
    out |= {name: OWL.DatatypeProperty for name in QUALIFIERS}
    out |= {name: OWL.DatatypeProperty for name in DATATYPE_PROPERTIES}
    out |= {name: OWL.ObjectProperty for name in OBJECT_PROPERTIES}
    for name, (kind, _) in SOURCE_TERMS.items():
        out[name] = OWL.Class if kind == "class" else OWL.ObjectProperty if kind == "object" else OWL.DatatypeProperty
    return out


def test_code_set_terms_are_in_the_ontology() -> None:
    """kgraph.sources TERMS and the generated block of kgraph.ttl agree (scripts/sync_ontology.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sync_ontology", ROOT / "scripts" / "sync_ontology.py")
    assert spec and spec.loader
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    text = (ROOT / "ontology" / "kgraph.ttl").read_text(encoding="utf-8")
    assert sync.synced(text) == text, "run: python scripts/sync_ontology.py"
    clash = set(SOURCE_TERMS) & {*CLASSES, *RELATIONS, *QUALIFIERS, *PROPERTIES}
    assert not clash, f"reader TERMS redeclare kgraph.namespaces names: {clash}"


def test_column_namespace_is_declared_in_the_ontology(onto: Graph) -> None:
    """Briefing columns kgraph does not know live in their own namespace (col:Role is not kg:role):
    namespaces.py mints it, the ontology binds the same prefix and declares their parent property."""
    from kgraph.namespaces import PREFIXES

    assert dict(onto.namespaces())["col"] == URIRef(PREFIXES["col"])
    assert not PREFIXES["col"].startswith(KG)
    assert (K("columnQualifier"), RDF.type, OWL.DatatypeProperty) in onto


def test_property_kinds_cover_namespaces() -> None:
    assert set(PROPERTIES) == DATATYPE_PROPERTIES | OBJECT_PROPERTIES
    names = [*CLASSES, *RELATIONS, *QUALIFIERS, *PROPERTIES]
    assert len(names) == len(set(names)), "a kg: name is listed twice in namespaces.py"


@pytest.mark.parametrize("name", [*CLASSES, *RELATIONS, *QUALIFIERS, *PROPERTIES, *SOURCE_TERMS])
def test_term_declared_with_type_label_comment(onto: Graph, name: str) -> None:
    term = K(name)
    assert (term, RDF.type, expected_types()[name]) in onto
    assert list(onto.objects(term, RDFS.label)), f"kg:{name} has no rdfs:label"
    assert list(onto.objects(term, RDFS.comment)), f"kg:{name} has no rdfs:comment"


def test_every_declared_term_is_in_namespaces(onto: Graph) -> None:
    declared = {str(s)[len(KG):] for s in onto.subjects() if isinstance(s, URIRef) and str(s).startswith(KG)}
    used = {str(o)[len(KG):] for o in onto.objects() if isinstance(o, URIRef) and str(o).startswith(KG)}
    assert declared | used == set(expected_types())


def test_ontology_header(onto: Graph) -> None:
    (ontology,) = onto.subjects(RDF.type, OWL.Ontology)
    assert onto.value(ontology, OWL.versionInfo) == Literal("0.1.0")


def test_class_hierarchy(onto: Graph) -> None:
    parents = {str(s)[len(KG):]: str(o) for s, o in onto.subject_objects(RDFS.subClassOf)}
    assert parents == {
        "ProcedureCode": kg("Code"), "ICD10CMCode": kg("Code"), "Modifier": kg("Code"),
        "Taxonomy": kg("Code"), "MedicareSpecialty": kg("Code"),
        "CPTCode": kg("ProcedureCode"), "HCPCSCode": kg("ProcedureCode"),
        "Assertion": str(RDF.Statement),
    }


def test_qualifiers_are_strings_of_assertions(onto: Graph) -> None:
    for name in QUALIFIERS:
        assert onto.value(K(name), RDFS.domain) == K("Assertion"), name
        assert onto.value(K(name), RDFS.range) == XSD.string, name


def test_property_ranges(onto: Graph) -> None:
    assert onto.value(K("source"), RDFS.range) == K("Source")
    assert onto.value(K("line"), RDFS.range) == XSD.integer
    assert onto.value(K("builtAt"), RDFS.range) == XSD.dateTime
    for name in ("line", "outDegree", "inDegree", "rank", "memberCount"):
        assert onto.value(K(name), RDFS.range) == XSD.integer, name
    for name in DATATYPE_PROPERTIES - {"line", "builtAt", "outDegree", "inDegree", "rank", "memberCount"}:
        assert onto.value(K(name), RDFS.range) == XSD.string, name


# ---------------------------------------------------------------- (b) edge vocabulary

# ARCHITECTURE.md, "Edge vocabulary": relation -> (domain, range)
EDGE_TABLE = {
    "supports": ("ICD10CMCode", "ProcedureCode"),
    "conflictsWith": ("Code", "Code"),
    "billedWith": ("ProcedureCode", "ProcedureCode"),
    "addOnTo": ("ProcedureCode", "ProcedureCode"),
    "relatedTo": ("ProcedureCode", "ProcedureCode"),
    "modifierFor": ("Modifier", "ProcedureCode"),
    "reportedBy": ("ProcedureCode", "Taxonomy"),
    "coveredBy": ("ProcedureCode", "Payer"),
    "partOf": ("Payer", "Payer"),
    "crosswalksTo": ("MedicareSpecialty", "Taxonomy"),
}


def test_edge_table_covers_relations() -> None:
    assert set(EDGE_TABLE) == set(RELATIONS)


@pytest.mark.parametrize("relation", RELATIONS)
def test_relation_domain_range(onto: Graph, relation: str) -> None:
    domain, range_ = EDGE_TABLE[relation]
    assert set(onto.objects(K(relation), RDFS.domain)) == {K(domain)}
    assert set(onto.objects(K(relation), RDFS.range)) == {K(range_)}


def test_only_billed_with_is_symmetric(onto: Graph) -> None:
    assert set(onto.subjects(RDF.type, OWL.SymmetricProperty)) == {K("billedWith")}


# ---------------------------------------------------------------- (c) a conforming graph

SOURCE = URIRef(iri("SOURCE:briefing-cpt-74360"))
ASSERTION = URIRef(iri("ASSERTION:briefing-cpt-74360-41"))
GAP = URIRef(iri("GAP:briefing-cpt-74360-33"))
SHA = "0123456789abcdef" * 4


def add_code(g: Graph, curie: str, cls: str, label: str | None = None) -> URIRef:
    node = C(curie)
    g.add((node, RDF.type, K(cls)))
    g.add((node, K("code"), S(curie.partition(":")[2])))
    if label:
        g.add((node, RDFS.label, S(label)))
    return node


def add_edge(g: Graph, s: URIRef, relation: str, o: URIRef, line: int, node: URIRef | None = None,
             **qualifiers: str) -> URIRef:
    node = node or URIRef(iri(f"ASSERTION:briefing-cpt-74360-{line}"))
    g.add((s, K(relation), o))
    g.add((node, RDF.type, K("Assertion")))
    g.add((node, RDF.subject, s))
    g.add((node, RDF.predicate, K(relation)))
    g.add((node, RDF.object, o))
    g.add((node, K("source"), SOURCE))
    g.add((node, K("line"), Literal(line, datatype=XSD.integer)))
    for name, value in qualifiers.items():
        g.add((node, K(name), S(value)))
    return node


def conforming_graph() -> Graph:
    g = Graph()
    g.add((SOURCE, RDF.type, K("Source")))
    g.add((SOURCE, K("file"), S("data/briefings/cpt-74360.txt")))
    g.add((SOURCE, K("sha256"), S(SHA)))
    g.add((SOURCE, K("sourceKind"), S("briefing")))
    g.add((SOURCE, K("licence"), S("internal briefing, not for redistribution")))
    g.add((SOURCE, K("release"), S("2024")))
    g.add((SOURCE, K("builtAt"), Literal("2025-01-02T03:04:05Z", datatype=XSD.dateTime)))

    cpt = add_code(g, "CPT:74360", "CPTCode", "Intraluminal dilation of strictures")
    cpt2 = add_code(g, "CPT:0001U", "CPTCode")
    hcpcs = add_code(g, "HCPCS:G0008", "HCPCSCode", "Administration of influenza virus vaccine")
    icd = add_code(g, "ICD10CM:K22.2", "ICD10CMCode", "Esophageal obstruction")
    icd2 = add_code(g, "ICD10CM:K22", "ICD10CMCode")
    mod26 = add_code(g, "MOD:26", "Modifier", "Professional component")
    modtc = add_code(g, "MOD:TC", "Modifier", "Technical component")
    nucc = add_code(g, "NUCC:207RG0100X", "Taxonomy", "Gastroenterology")
    mspec = add_code(g, "MSPEC:10", "MedicareSpecialty", "Gastroenterology")
    aetna = C("PAYER:aetna")
    g.add((aetna, RDF.type, K("Payer")))
    g.add((aetna, K("code"), S("aetna")))
    g.add((aetna, RDFS.label, S("Aetna")))
    g.add((aetna, K("alias"), S("Aetna Health")))
    bcbs = add_code(g, "PAYER:bcbs", "Payer", "Blue Cross Blue Shield")
    anthem = add_code(g, "PAYER:anthem", "Payer", "Anthem")

    add_edge(g, icd, "supports", cpt, 41, node=ASSERTION, role="indication",
             relevanceText="Dilation treats the obstruction")
    add_edge(g, icd, "supports", hcpcs, 42, role="risk")
    add_edge(g, cpt, "billedWith", cpt2, 50, relationshipText="often billed together")
    add_edge(g, cpt, "relatedTo", hcpcs, 51, relationshipText="alternative")
    add_edge(g, cpt2, "addOnTo", cpt, 52)
    add_edge(g, cpt, "conflictsWith", hcpcs, 53)
    add_edge(g, icd, "conflictsWith", icd2, 54, notes="Excludes1")
    add_edge(g, mod26, "conflictsWith", modtc, 55, reason="26 vs TC")
    add_edge(g, mod26, "modifierFor", cpt, 60, whenToUse="professional component only")
    add_edge(g, cpt, "reportedBy", nucc, 70, statedSpecialty="Gastroenterology", notes="billed by GI")
    add_edge(g, cpt, "coveredBy", aetna, 80, position="covered", statedName="Aetna Health", section="Payers")
    add_edge(g, anthem, "partOf", bcbs, 3)
    add_edge(g, mspec, "crosswalksTo", nucc, 4)

    g.add((GAP, RDF.type, K("Gap")))
    g.add((GAP, K("about"), modtc))
    g.add((GAP, K("context"), cpt))
    g.add((GAP, K("field"), S("whenToUse")))
    g.add((GAP, K("gapText"), S("Data not available in the input")))
    g.add((GAP, K("source"), SOURCE))
    g.add((GAP, K("line"), Literal(33, datatype=XSD.integer)))
    g.add((modtc, K("hasGap"), GAP))
    return g


def violations(g: Graph, shapes: Graph) -> set[tuple[str, str | None, str]]:
    """(focus node, result path, constraint component) of each violation, as readable strings."""
    conforms, report, text = pyshacl.validate(g, shacl_graph=shapes, inference="none")
    found = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        assert report.value(result, SH.resultMessage), f"violation without a message:\n{text}"
        path = report.value(result, SH.resultPath)
        component = report.value(result, SH.sourceConstraintComponent)
        found.add((str(report.value(result, SH.focusNode)), None if path is None else str(path),
                   str(component).rpartition("#")[2]))
    assert conforms == (not found)
    return found


def test_shapes_parse(shapes: Graph) -> None:
    assert len(set(shapes.subjects(RDF.type, SH.NodeShape))) >= 9
    targets = set(shapes.objects(None, SH.targetClass))
    # kg:Degree nodes are computed by the build, not read from sources: no shape
    assert {K(c) for c in CLASSES} - {K("Code"), K("ProcedureCode"), K("Degree")} <= targets


def test_shape_patterns_match_namespaces(shapes: Graph) -> None:
    from kgraph.namespaces import PATTERNS

    prefix_of = {"CPTCode": "CPT", "HCPCSCode": "HCPCS", "ICD10CMCode": "ICD10CM", "Modifier": "MOD",
                 "Taxonomy": "NUCC", "MedicareSpecialty": "MSPEC", "Payer": "PAYER"}
    for cls, prefix in prefix_of.items():
        (shape,) = shapes.subjects(SH.targetClass, K(cls))
        patterns = {str(shapes.value(p, SH.pattern)) for p in shapes.objects(shape, SH.property)
                    if shapes.value(p, SH.path) == K("code")}
        assert patterns == {PATTERNS[prefix].pattern}, cls


def test_conforming_graph(shapes: Graph) -> None:
    assert violations(conforming_graph(), shapes) == set()


def test_conforming_graph_after_oxigraph_round_trip(shapes: Graph) -> None:
    """The store gives literals back as explicit xsd:string; the shapes must still hold."""
    store = ox.Store()
    store.load(conforming_graph().serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES)
    g = Graph().parse(data=store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()),
                      format="nt")
    assert len(g) == len(conforming_graph())
    assert violations(g, shapes) == set()


# ---------------------------------------------------------------- (d) defects


def replace(g: Graph, s: URIRef, p: URIRef, value: Literal) -> None:
    g.remove((s, p, None))
    g.add((s, p, value))


CPT = str(C("CPT:74360"))


def bad_cpt_pattern(g: Graph) -> None:
    replace(g, C("CPT:74360"), K("code"), S("7436"))


def code_as_integer(g: Graph) -> None:
    replace(g, C("CPT:74360"), K("code"), Literal(74360, datatype=XSD.integer))


def supports_from_cpt(g: Graph) -> None:
    g.add((C("CPT:74360"), K("supports"), C("CPT:0001U")))


def assertion_without_line(g: Graph) -> None:
    g.remove((ASSERTION, K("line"), None))


def source_bad_sha256(g: Graph) -> None:
    replace(g, SOURCE, K("sha256"), S("ABC123"))


def assertion_without_triple(g: Graph) -> None:
    g.remove((C("ICD10CM:K22.2"), K("supports"), C("CPT:74360")))


def conflicts_across_kinds(g: Graph) -> None:
    g.add((C("MOD:26"), K("conflictsWith"), C("CPT:74360")))


def gap_not_attached(g: Graph) -> None:
    g.remove((C("MOD:TC"), K("hasGap"), GAP))


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        (bad_cpt_pattern, {(CPT, kg("code"), "PatternConstraintComponent")}),
        (code_as_integer, {(CPT, kg("code"), "DatatypeConstraintComponent")}),
        (supports_from_cpt, {(CPT, None, "ClassConstraintComponent")}),
        (assertion_without_line, {(str(ASSERTION), kg("line"), "MinCountConstraintComponent")}),
        (source_bad_sha256, {(str(SOURCE), kg("sha256"), "PatternConstraintComponent")}),
        (assertion_without_triple, {(str(ASSERTION), None, "SPARQLConstraintComponent")}),
        (conflicts_across_kinds, {(str(C("MOD:26")), None, "OrConstraintComponent")}),
        (gap_not_attached, {(str(GAP), None, "EqualsConstraintComponent")}),
    ],
    ids=lambda v: v.__name__ if callable(v) else "",
)
def test_defect_is_reported(shapes: Graph, defect: Callable[[Graph], None],
                            expected: set[tuple[str, str | None, str]]) -> None:
    g = conforming_graph()
    defect(g)
    found = violations(g, shapes)
    assert _matches(found, expected), found


def _matches(found: set[tuple[str, str | None, str]], expected: set[tuple[str, str | None, str]]) -> bool:
    """Every expected violation is reported, and nothing else (path None = any path)."""
    def hit(f: tuple[str, str | None, str], e: tuple[str, str | None, str]) -> bool:
        return f[0] == e[0] and f[2] == e[2] and (e[1] is None or f[1] == e[1])

    return all(any(hit(f, e) for f in found) for e in expected) and all(
        any(hit(f, e) for e in expected) for f in found)
