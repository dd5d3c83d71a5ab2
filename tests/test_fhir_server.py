"""/fhir on a running ``kgraph serve``, driven by fhirpy (a FHIR client nobody here wrote) and curl:
the operations answer what ``kgraph.fhir`` answers, every body parses as its R4B resource, and the
errors are OperationOutcome with the statuses of the issue, under the same limits as /sparql.
"""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome as ClientOutcome
from fhirpy.base.exceptions import ResourceNotFound

import kgraph
from kgraph import fhir
from tests.test_fhir import CPT, ICD, NUCC, param, parsed
from tests.test_server import Server, curl


@pytest.fixture(scope="module")
def server(default_store, tmp_path_factory):
    s = Server(default_store.path, tmp_path_factory.mktemp("fhir") / "server.log", timeout=10.0, max_rows=1000,
               max_body=65536, workers=2)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    return SyncFHIRClient(server.url + "fhir")


def outcome(status: int, body: str) -> tuple[int, str]:
    """(status, the issue's code) of an OperationOutcome body, parsed by the R4B model."""
    model = OperationOutcome.model_validate_json(body)
    return status, model.issue[0].code


def test_lookup_and_validate_through_fhirpy_equal_the_python_functions(client, default_store):
    store = kgraph.open(default_store.path)
    looked = client.execute("CodeSystem/$lookup", method="get",
                            params={"system": ICD, "code": "K22.8", "date": "2021-03-01"})
    assert parsed(dict(looked)) == fhir.lookup(store, ICD, "K22.8", date="2021-03-01")
    for code, day, expected in (("K22.8", "2021-03-01", True), ("K22.8", "2022-03-01", False),
                                ("S72.001A", "2024-05-01", True), ("T28.6XXA", "2024-05-01", True),
                                ("K22.99", "2024-05-01", False)):
        body = {"resourceType": "Parameters", "parameter": [
            {"name": "url", "valueUri": ICD}, {"name": "code", "valueCode": code}, {"name": "date", "valueDate": day}]}
        answer = parsed(dict(client.execute("CodeSystem/$validate-code", method="post", data=body)))
        assert param(answer, "result") is expected, (code, day, param(answer, "message"))


def test_translate_subsumes_expand_through_fhirpy(client):
    coding = {"system": NUCC, "code": "207RG0100X"}
    body = {"resourceType": "Parameters", "parameter": [{"name": "coding", "valueCoding": coding}]}
    answer = parsed(dict(client.execute("ConceptMap/$translate", method="post", data=body)))
    assert "10" in {m["part"][1]["valueCoding"]["code"] for m in answer["parameter"] if m["name"] == "match"}
    sub = client.execute("CodeSystem/$subsumes", method="get", params={"system": ICD, "codeA": "K22", "codeB": "K22.8"})
    assert param(parsed(dict(sub)), "outcome") == "subsumes"
    page = client.execute("ValueSet/$expand", method="get",
                          params={"url": f"{ICD}?fhir_vs=isa/K22", "count": "3", "offset": "3"})
    assert len(parsed(dict(page))["expansion"]["contains"]) == 3
    systems = client.resources("CodeSystem").search(url=ICD).fetch_all()
    assert sorted(s["version"] for s in systems) == [str(y) for y in range(2020, 2027)]


def test_codeable_concept_and_value_set_resources(client):
    concept = {"coding": [{"system": "http://loinc.org", "code": "1-8"}, {"system": ICD, "code": "K22.8"}]}
    body = {"resourceType": "Parameters", "parameter": [{"name": "codeableConcept", "valueCodeableConcept": concept},
                                                        {"name": "date", "valueDate": "2022-03-01"}]}
    answer = parsed(dict(client.execute("CodeSystem/$validate-code", method="post", data=body)))
    assert param(answer, "result") is False and "header" in param(answer, "message")
    sets = client.resources("ValueSet").search().fetch_all()
    assert {v["id"] for v in sets} == {"icd-10-cm-billable", "diagnoses-supporting", "modifiers-for"}
    for v in sets:
        parsed(v.serialize())


def test_metadata(server):
    status, headers, body = curl(server.url + "fhir/metadata")
    assert status == 200 and headers["content-type"].startswith("application/fhir+json")
    assert parsed(json.loads(body))["fhirVersion"] == "4.0.1"
    status, _, body = curl(server.url + "fhir/metadata?mode=terminology")
    caps = parsed(json.loads(body))
    assert {s["uri"] for s in caps["codeSystem"]} >= {ICD, CPT, NUCC}
    for rid, version in (("icd-10-cm", "2026"), ("icd-10-cm-2021", "2021")):
        status, _, body = curl(server.url + f"fhir/CodeSystem/{rid}")
        read = parsed(json.loads(body))
        assert (status, read["id"], read["version"], read["url"]) == (200, rid, version, ICD)


def test_errors_are_operation_outcomes_with_their_status(client, server):
    base = server.url + "fhir/"
    with pytest.raises(ResourceNotFound):
        client.execute("CodeSystem/$lookup", method="get", params={"system": "http://loinc.org", "code": "1"})
    with pytest.raises(ClientOutcome):
        client.execute("CodeSystem/$lookup", method="get", params={"system": ICD, "code": "K22.8", "date": "soon"})
    assert outcome(*curl(base + f"CodeSystem/$lookup?system={ICD}&code=K22.99")[::2]) == (404, "not-found")
    assert outcome(*curl(base + f"CodeSystem/$lookup?system={ICD}&code=K22.8&colour=red")[::2])[0] == 400
    assert outcome(*curl("-X", "DELETE", base + "CodeSystem/icd-10-cm")[::2])[0] == 405
    assert outcome(*curl(base + "metadata?_format=xml")[::2])[0] == 406
    assert outcome(*curl("--data", "code=K22.8", base + "CodeSystem/$validate-code")[::2])[0] == 415
    assert outcome(*curl(base + f"CodeSystem/$subsumes?system={CPT}&codeA=74360&codeB=74361")[::2])[0] == 422
    # the server's row limit (1,000 here) holds under /fhir as under /sparql: ~2,700 CPT codes in one page
    assert outcome(*curl(base + f"ValueSet/$expand?url={CPT}%3Ffhir_vs")[::2]) == (422, "too-costly")
    status, _, body = curl(base + f"ValueSet/$expand?url={CPT}%3Ffhir_vs&count=1000")
    assert status == 200 and len(parsed(json.loads(body))["expansion"]["contains"]) == 1000


def test_a_query_past_the_timeout_is_503(default_store, tmp_path):
    s = Server(default_store.path, tmp_path / "server.log", timeout=0.2, workers=1)
    try:
        # a filter over every ICD-10-CM title: seconds of work, stopped at 0.2 s
        status, _, body = curl(s.url + f"fhir/ValueSet/$expand?url={ICD}%3Ffhir_vs&filter=esophag&count=5")
        assert outcome(status, body) == (503, "timeout")
    finally:
        s.stop()
