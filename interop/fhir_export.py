"""FHIR R4 out: a turn's results as a collection Bundle that ``fhir.resources`` validates.

* one ``Observation`` per segmented nodule (SNOMED CT 27925004 Nodule, body site lung) with
  components: long and short axis, mean diameter (mm), volume (mm³), mean attenuation (HU);
* a ``RiskAssessment`` for the Brock probability (outcome SNOMED CT 363358000 malignant tumour
  of lung), its basis the nodule Observation, the model named in ``method``; and one for the
  breast-cancer metastasis risk when ``clinical_risk`` ran (5-year window);
* a ``DiagnosticReport`` (LOINC 24627-2 CT Chest Report, status ``preliminary``: no clinician has
  signed it) listing the Observations, referencing the imaging study by its DICOM UID, with the
  demo-model warning in its conclusion when it applies.

Codes are in ``data/fhir_codes.yaml`` (``export``). Tool calls are the plain dicts ``galen ask
--json`` prints.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from galen.errors import InvalidInput

UCUM = "http://unitsofmeasure.org"


def _code(key: str) -> dict[str, Any]:
    from interop.fhir_facts import codes

    row = codes()["export"][key]
    return {"coding": [{"system": row["system"], "code": row["code"], "display": row["display"]}]}


def _ok(tool_calls: list[dict], name: str) -> dict | None:
    for c in reversed(tool_calls or []):
        if c.get("name") == name and c.get("ok") and c.get("result"):
            return c["result"]
    return None


def _qty(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": round(float(value), 3), "unit": unit, "system": UCUM, "code": code}


def _model_inputs(data: dict) -> dict:
    """The values the Brock model ran on (``model_inputs``; older results kept them in ``inputs``)."""
    inputs = data.get("model_inputs") or data.get("inputs") or {}
    return inputs if isinstance(inputs, dict) else {f["name"]: f.get("value") for f in inputs if "name" in f}


def _subject(patient_facts: list[dict] | None) -> dict[str, Any]:
    refs = {f.get("resource") for f in patient_facts or [] if str(f.get("resource") or "").startswith("Patient/")}
    if len(refs) == 1:
        return {"reference": refs.pop()}
    return {"display": "the patient of this consultation (not identified in Galen)"}


def results_bundle(tool_calls: list[dict], patient_facts: list[dict] | None = None,
                   imaging_study_uid: str | None = None):
    """The results of one turn as a validated FHIR R4 (R4B models) ``Bundle``.

    Raises:
        InvalidInput: the turn has no result to export.
    """
    from fhir.resources.R4B.bundle import Bundle

    now = datetime.now(UTC).isoformat(timespec="seconds")
    subject = _subject(patient_facts)
    entries: list[dict[str, Any]] = []

    def add(resource: dict[str, Any]) -> str:
        url = f"urn:uuid:{uuid.uuid4()}"
        entries.append({"fullUrl": url, "resource": resource})
        return url

    study_ref = {"type": "ImagingStudy", "identifier": {"system": "urn:dicom:uid", "value": f"urn:oid:{imaging_study_uid}"}} \
        if imaging_study_uid else None
    seg, risk, clin = _ok(tool_calls, "segment_image"), _ok(tool_calls, "nodule_malignancy_risk"), \
        _ok(tool_calls, "clinical_risk")
    if not (seg or risk or clin):
        raise InvalidInput("This turn has no imaging or risk result to export as FHIR.")
    obs_urls: dict[int, str] = {}
    demo = bool(seg and seg.get("demo_model"))
    for les in (seg or {}).get("data", {}).get("lesions", []):
        comps = [("nodule_long_axis", les["long_axis_mm"], "mm", "mm"), ("nodule_short_axis", les["short_axis_mm"], "mm", "mm"),
                 ("nodule_diameter", les["mean_diameter_mm"], "mm", "mm"), ("nodule_volume", les["volume_mm3"], "mm3", "mm3")]
        if les.get("mean_hu") is not None:
            comps.append(("nodule_mean_hu", les["mean_hu"], "HU", "[hnsf'U]"))
        obs = {"resourceType": "Observation", "status": "preliminary",
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                         "code": "imaging", "display": "Imaging"}]}],
               "code": _code("nodule"), "subject": subject, "effectiveDateTime": now, "bodySite": _code("lung"),
               "note": [{"text": f"Nodule {les['id']} measured by Galen's segmentation model"
                                 + (" (demo model trained on synthetic phantoms; not for clinical use)" if demo else "")}],
               "component": [{"code": _code(key), "valueQuantity": _qty(v, unit, ucum)} for key, v, unit, ucum in comps]}
        if study_ref:
            obs["derivedFrom"] = [study_ref]
        obs_urls[int(les["id"])] = add(obs)
    if risk:
        d = risk["data"]
        largest = max((seg or {}).get("data", {}).get("lesions", []) or [{}],
                      key=lambda x: float(x.get("mean_diameter_mm") or 0)).get("id")
        ra = {"resourceType": "RiskAssessment", "status": "preliminary", "subject": subject, "occurrenceDateTime": now,
              "method": {"text": f"Brock (PanCan) full model with spiculation, McWilliams et al. NEJM 2013 "
                                 f"({risk.get('versions', {}).get('brock', d.get('model', ''))})"},
              "prediction": [{"outcome": _code("lung_cancer"), "probabilityDecimal": round(float(d["probability"]), 6)}],
              "note": [{"text": "Model inputs: " + ", ".join(f"{k} {v}" for k, v in _model_inputs(d).items())}]}
        if largest in obs_urls:
            ra["basis"] = [{"reference": obs_urls[largest]}]
        add(ra)
    if clin:
        d = clin["data"]
        add({"resourceType": "RiskAssessment", "status": "preliminary", "subject": subject, "occurrenceDateTime": now,
             "method": {"text": f"Galen distant-metastasis risk model ({clin.get('versions', {}).get('clinical_risk', '')})"},
             "prediction": [{"outcome": _code("metastasis"), "probabilityDecimal": round(float(d["risk_5y"]), 6),
                             "whenRange": {"high": {"value": 5, "unit": "years", "system": UCUM, "code": "a"}}}]})
    if seg:
        report = {"resourceType": "DiagnosticReport", "status": "preliminary", "code": _code("ct_report"),
                  "subject": subject, "effectiveDateTime": now, "issued": now,
                  "result": [{"reference": u} for u in obs_urls.values()],
                  "conclusion": (seg.get("summary") or "")[:1000]
                  + (" Demo model: not validated on patients; not for clinical decisions." if demo else "")}
        if study_ref:
            report["imagingStudy"] = [study_ref]
        add(report)
    from interop.fhir_facts import validate

    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": now, "entry": entries}
    validate(bundle, "the exported results")
    return Bundle.model_validate(bundle)
