"""FHIR R4 in (facts by code, with their source) and out (a Bundle the library validates); bad bundles explained."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from galen.errors import InvalidInput, UnreadableFile, UnsupportedFile


def _bundle(*resources) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _patient(**kw) -> dict:
    return {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-05-01", **kw}


def _obs(oid: str, loinc: str, **value) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]}, **value}


def _snomed(code: str) -> dict:
    return {"coding": [{"system": "http://snomed.info/sct", "code": code}]}


def test_synthetic_bundles_give_facts_with_their_sources(tmp_path):
    from interop.fhir_facts import facts_from_attachment
    from interop.synthetic import write_patient

    w = write_patient("galen-synth-001", tmp_path, with_images=False)
    facts = {f["name"]: f for f in facts_from_attachment(w.bundle, date(2026, 2, 10))}
    assert {k: f["value"] for k, f in facts.items()} == {"age": 64, "sex": "female", "smoking_status": "former",
                                                         "family_history": True, "emphysema": True}
    assert facts["age"]["resource"] == "Patient/galen-synth-001" and "birthDate 1961-03-14" in facts["age"]["evidence"]
    assert facts["smoking_status"]["evidence"].endswith("LOINC 72166-2 Tobacco smoking status = 8517006 Ex-smoker")
    assert facts["family_history"]["resource"] == "FamilyMemberHistory/galen-synth-001-fh"
    assert all(f["source"] == "fhir" for f in facts.values())
    breast = {f["name"]: f["value"] for f in facts_from_attachment(
        write_patient("galen-synth-003", tmp_path, with_images=False).bundle, date(2026, 1, 20))}
    assert breast == {"age": 57, "sex": "female", "smoking_status": "never", "tumour_size_mm": 22.0, "positive_nodes": 2,
                      "grade": 2, "er_positive": True, "pr_positive": True, "estrogen_fmol": 85.0,
                      "progesterone_fmol": 40.0}


def test_single_resources_and_age_on_the_study_date():
    from interop.fhir_facts import read_facts

    r = read_facts(_patient(birthDate="1960-05-01"), "p.json", date(2026, 4, 30))
    assert r.as_dict() == {"age": 65, "sex": "female"}  # the day before the 66th birthday
    r = read_facts(_obs("s", "72166-2", valueCodeableConcept=_snomed("449868002")), "o.json")
    assert r.as_dict() == {"smoking_status": "current"}


def test_missing_contradictory_and_wrongly_coded_data_are_explained():
    from interop.fhir_facts import read_facts

    r = read_facts(_bundle(
        {"resourceType": "Patient", "id": "p1", "gender": "unknown"},
        _obs("s1", "72166-2", valueCodeableConcept=_snomed("8517006")),
        _obs("s2", "72166-2", valueCodeableConcept=_snomed("449868002")),
        _obs("er", "16112-5", valueCodeableConcept=_snomed("999999999")),
        _obs("size", "21889-1", valueQuantity={"value": 1.2, "unit": "inch", "code": "[in_i]"}),
        _obs("hb", "718-7", valueQuantity={"value": 13, "unit": "g/dL"}),
        {**_obs("g", "33732-9", valueInteger=2), "status": "cancelled"},
    ), "case.json")
    text = " | ".join(r.problems)
    assert r.facts == []
    assert "Patient/p1: no birthDate" in text and "gender 'unknown' cannot be used" in text
    assert "Contradictory smoking status: Observation/s1" in text and "Observation/s2" in text
    assert "Observation/er: LOINC 16112-5 has a value Galen does not know (SNOMED CT 999999999)" in text
    assert "Observation/size: tumour size mm in unit '[in_i]' (expected mm or cm)" in text
    assert "status 'cancelled', not a result" in text
    assert r.ignored == ["Observation/hb (LOINC 718-7)"]


def test_invalid_fhir_and_not_fhir(tmp_path):
    from interop.fhir_facts import facts_from_attachment

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_patient(birthDate="1960-13-45")))
    with pytest.raises(InvalidInput, match=r"bad.json is not valid FHIR R4 Patient: birthDate: .*does not match"):
        facts_from_attachment(bad)
    odd = tmp_path / "odd.json"  # fhir.resources checks structure, not the gender value set: Galen does
    odd.write_text(json.dumps(_patient(gender="woman")))
    [problem] = [f for f in facts_from_attachment(odd) if f["name"] == "problem"]
    assert "gender 'woman' cannot be used" in problem["evidence"]
    notjson = tmp_path / "notes.json"
    notjson.write_text("{not json")
    with pytest.raises(UnreadableFile, match="notes.json is not valid JSON"):
        facts_from_attachment(notjson)
    other = tmp_path / "expr.json"
    other.write_text(json.dumps({"probe_1": 2.0}))
    with pytest.raises(UnsupportedFile, match="not a FHIR resource"):
        facts_from_attachment(other)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"resourceType": "Bundle", "type": "collection"}))
    with pytest.raises(InvalidInput, match="Bundle without resources"):
        facts_from_attachment(empty)


def test_bundle_gives_the_same_brock_probability_as_typed_facts(tmp_path, ctx):
    """The FHIR path and the typed path reach the same model inputs and the same probability."""
    from interop.fhir_facts import facts_from_attachment
    from interop.synthetic import write_patient
    from specialists.clinical.brock import BrockInput, brock_probability
    from tools.clinical import NoduleMalignancyRiskTool

    w = write_patient("galen-synth-001", tmp_path, with_images=False)
    f = {x["name"]: x["value"] for x in facts_from_attachment(w.bundle, date(2026, 2, 10))}
    from_bundle = brock_probability(BrockInput(age=f["age"], sex=f["sex"], nodule_size_mm=9.0, nodule_type="solid",
                                               family_history=f["family_history"], emphysema=f["emphysema"],
                                               upper_lobe=True, nodule_count=1, spiculation=False)).probability
    tool = NoduleMalignancyRiskTool()
    typed = "64 year old woman, ex-smoker, her mother had lung cancer, has emphysema; 9 mm solid nodule in the RUL, " \
            "smooth margin, solitary"
    c = ctx(question=typed)
    result = tool.run(tool.validate_arguments(tool.extract_arguments(typed, c)), c)
    assert result.data["probability"] == pytest.approx(from_bundle, rel=1e-12)


def test_results_export_bundle_validates(tmp_path, ctx):
    from fhir.resources.R4B.bundle import Bundle

    from interop.fhir_export import results_bundle
    from tools.clinical import NoduleMalignancyRiskTool

    tool = NoduleMalignancyRiskTool()
    q = "70 year old man, 12 mm part-solid nodule, spiculated, upper lobe, one nodule"
    c = ctx(question=q)
    r = tool.run(tool.validate_arguments(tool.extract_arguments(q, c)), c)
    calls = [{"name": tool.name, "ok": True, "result": r.model_dump(mode="json")}]
    bundle = results_bundle(calls, patient_facts=[{"name": "age", "resource": "Patient/p1"}])
    again = Bundle.model_validate_json(bundle.model_dump_json())
    [ra] = [e.resource for e in again.entry]
    assert ra.get_resource_type() == "RiskAssessment" and ra.subject.reference == "Patient/p1"
    assert float(ra.prediction[0].probabilityDecimal) == pytest.approx(r.data["probability"], rel=1e-5)
    assert ra.prediction[0].outcome.coding[0].code == "363358000" and "Brock" in ra.method.text
    with pytest.raises(InvalidInput, match="no imaging or risk result"):
        results_bundle([])


def test_codes_table_rows_are_complete():
    from interop.fhir_facts import codes

    t = codes()
    for name, spec in t["observations"].items():
        assert spec["codes"], name
        for row in spec["codes"]:
            assert row["system"] == "http://loinc.org" and row["code"] and row["display"] and row["source"], row
    assert Path(__file__).exists()


def test_an_attached_record_feeds_the_tool_with_its_source(tmp_path, ctx):
    """A FHIR bundle in the thread gives the patient facts the question leaves out (source "fhir"),
    and the question's own words still win; the probability equals the typed case's."""
    from interop.synthetic import write_patient
    from tools.base import Attachment
    from tools.clinical import NoduleMalignancyRiskTool

    w = write_patient("galen-synth-001", tmp_path, with_images=False)
    tool = NoduleMalignancyRiskTool()
    record = [Attachment(path=w.bundle, name="record.json", kind="fhir")]
    q = "9 mm solid nodule in the RUL, smooth margin, solitary"
    c = ctx(attachments=record, question=q)
    args = tool.extract_arguments(q, c)
    by = {e["name"]: e for e in args["inputs"]}
    assert by["age"]["source"] == "fhir" and "Patient" in by["age"]["evidence"]
    assert by["sex"]["source"] == "fhir" and by["family_history"]["source"] == "fhir"
    from_record = tool.run(tool.validate_arguments(args), c).data["probability"]
    typed = f"{by['age']['value']} year old woman, her mother had lung cancer, has emphysema; " + q  # age: today's
    t = ctx(question=typed)
    assert tool.run(tool.validate_arguments(tool.extract_arguments(typed, t)), t).data["probability"] == \
        pytest.approx(from_record, rel=1e-9)
    # The clinician's words win over the record.
    q2 = "a 70-year-old man, " + q
    by2 = {e["name"]: e for e in tool.extract_arguments(q2, ctx(attachments=record, question=q2))["inputs"]}
    assert by2["age"]["value"] == 70 and by2["age"]["source"] == "question" and by2["sex"]["value"] == "male"


def test_a_stored_record_is_de_identified_and_keeps_the_age(tmp_path):
    import json as _json

    from agent.workspace import store_attachment
    from galen.settings import Settings
    from interop.fhir_facts import facts_from_attachment
    from interop.synthetic import write_patient

    w = write_patient("galen-synth-001", tmp_path, with_images=False)
    raw = _json.loads(w.bundle.read_text())
    patient = next(e["resource"] for e in raw["entry"] if e["resource"]["resourceType"] == "Patient")
    planted = {"Zorbamina", "Quellington", "555-303-1212", patient["birthDate"], "galen-synth-001"}
    patient["name"] = [{"family": "Quellington", "given": ["Zorbamina"]}]
    patient["telecom"] = [{"system": "phone", "value": "555-303-1212"}]
    w.bundle.write_text(_json.dumps(raw))
    before = {f["name"]: f["value"] for f in facts_from_attachment(w.bundle)}
    stored = store_attachment(w.bundle, Settings(data_dir=tmp_path / "data"))
    text = stored.path.read_text()
    assert stored.kind == "fhir" and not [p for p in planted if p in text]
    after = {f["name"]: f["value"] for f in facts_from_attachment(stored.path)}
    assert after == before  # every fact the models use survives de-identification, the age included
