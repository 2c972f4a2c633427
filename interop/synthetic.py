"""Synthetic patients for tests, demos and the harness: FHIR R4 Bundles plus matching CT phantoms as DICOM.

The people are invented (``data/synthetic_patients.yaml``); nothing is committed but that table:
:func:`write_patient` generates the Bundle (validated by ``fhir.resources``) and the phantom
series on demand, and :func:`bundle_for` builds one in memory. The DICOM study carries the
patient's identifier, name, sex, birth date, study date and accession, so a PACS query by
patient ID or accession finds it and the Bundle's facts line up with the image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from galen.errors import InvalidInput

PATIENTS_FILE = Path(__file__).resolve().parent / "data" / "synthetic_patients.yaml"
LOINC, SNOMED = "http://loinc.org", "http://snomed.info/sct"


@lru_cache(maxsize=1)
def patients() -> list[dict[str, Any]]:
    import yaml

    return yaml.safe_load(PATIENTS_FILE.read_text(encoding="utf-8"))["patients"]


def patient(pid: str) -> dict[str, Any]:
    for p in patients():
        if p["id"] == pid:
            return p
    raise InvalidInput(f"No synthetic patient {pid}; known: {', '.join(p['id'] for p in patients())}.")


def _display(system: str, code: str) -> str:
    from interop.fhir_facts import codes

    table = codes()
    rows = [r for spec in table["observations"].values() for r in spec.get("values", [])]
    rows += [r for rs in table["conditions"].values() for r in rs] + [r for rs in table["family_history"].values()
                                                                      for r in rs]
    return next((r["display"] for r in rows if r["system"] == system and r["code"] == code), code)


def _obs(oid: str, pid: str, loinc: str, display: str, when: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": loinc, "display": display}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when, **value}


def _coded(code: str, system: str = SNOMED) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": _display(system, code)}]}


def bundle_for(p: dict[str, Any]) -> dict[str, Any]:
    """The patient's FHIR R4 collection Bundle as JSON-able data."""
    pid, when = p["id"], p["study_date"]
    res: list[dict[str, Any]] = [{
        "resourceType": "Patient", "id": pid,
        "identifier": [{"system": "urn:galen:synthetic", "value": pid}],
        "name": [{"family": p["name"]["family"], "given": [p["name"]["given"]]}],
        "gender": p["gender"], "birthDate": p["birth_date"]}]
    res.append(_obs(f"{pid}-smoking", pid, "72166-2", "Tobacco smoking status", when,
                    valueCodeableConcept=_coded(p["smoking"])))
    if p.get("family_history_lung_cancer"):
        res.append({"resourceType": "FamilyMemberHistory", "id": f"{pid}-fh", "status": "completed",
                    "patient": {"reference": f"Patient/{pid}"},
                    "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                                 "code": {"mother": "MTH", "father": "FTH"}.get(
                                                     p["family_history_lung_cancer"], "FAMMEMB"),
                                                 "display": p["family_history_lung_cancer"]}]},
                    "condition": [{"code": _coded("363358000")}]})
    if p.get("emphysema"):
        res.append({"resourceType": "Condition", "id": f"{pid}-emphysema",
                    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                   "code": "active"}]},
                    "code": _coded("87433001"), "subject": {"reference": f"Patient/{pid}"}})
    b = p.get("breast")
    if b:
        res.append(_obs(f"{pid}-size", pid, "21889-1", "Size Tumor", when,
                        valueQuantity={"value": b["tumour_size_mm"], "unit": "mm", "system": "http://unitsofmeasure.org",
                                       "code": "mm"}))
        res.append(_obs(f"{pid}-nodes", pid, "21893-3", "Regional lymph nodes positive [#] Specimen", when,
                        valueQuantity={"value": b["positive_nodes"], "unit": "{#}", "system": "http://unitsofmeasure.org",
                                       "code": "{#}"}))
        res.append(_obs(f"{pid}-grade", pid, "33732-9", "Histology grade [Identifier] in Cancer specimen", when,
                        valueCodeableConcept=_coded(b["grade"])))
        res.append(_obs(f"{pid}-er", pid, "16112-5", "Estrogen receptor [Interpretation] in Tissue", when,
                        valueCodeableConcept=_coded(b["er"])))
        res.append(_obs(f"{pid}-pr", pid, "16113-3", "Progesterone receptor [Interpretation] in Tissue", when,
                        valueCodeableConcept=_coded(b["pr"])))
        for key, loinc, display in (("estrogen_fmol", "14130-9", "Estrogen receptor [Moles/mass] in Tissue"),
                                    ("progesterone_fmol", "31207-4", "Progesterone receptor [Moles/mass] in Tissue")):
            res.append(_obs(f"{pid}-{key.replace('_', '-')}", pid, loinc, display, when,
                            valueQuantity={"value": b[key], "unit": "fmol/mg", "system": "http://unitsofmeasure.org",
                                           "code": "fmol/mg"}))
    return {"resourceType": "Bundle", "id": f"{pid}-bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:galen:{r['resourceType']}/{r['id']}", "resource": r} for r in res]}


@dataclass(frozen=True)
class WrittenPatient:
    id: str
    bundle: Path
    dicom: Path | None
    study_uid: str | None


def write_patient(pid: str, folder: Path, with_images: bool = True) -> WrittenPatient:
    """Write ``<pid>.fhir.json`` (validated) and, for lung cases, the CT phantom series ``<pid>_ct/``."""
    from interop.fhir_facts import validate

    p = patient(pid)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = bundle_for(p)
    validate(data, f"the synthetic bundle of {pid}")
    bundle_path = folder / f"{pid}.fhir.json"
    bundle_path.write_text(json.dumps(data, indent=2))
    dicom, study_uid = None, None
    if with_images and p.get("phantom"):
        from pydicom.uid import generate_uid

        from specialists.imaging.phantom import WORKING_SPACING, make_phantom, write_phantom_dicom

        ph_spec = p["phantom"]
        ph = make_phantom(int(ph_spec["seed"]), shape=tuple(ph_spec["shape"]), spacing=WORKING_SPACING,
                          diameters_mm=list(ph_spec["diameters_mm"]), kinds=list(ph_spec["kinds"]),
                          shapes=list(ph_spec["shapes"]))
        study_uid = generate_uid()
        dicom = write_phantom_dicom(ph, folder / f"{pid}_ct", patient_name=f"{p['name']['family']}^{p['name']['given']}",
                                    patient_id=pid, birth_date=p["birth_date"].replace("-", ""),
                                    sex={"female": "F", "male": "M"}.get(p["gender"], "O"),
                                    study_date=p["study_date"].replace("-", ""), accession=p["accession"],
                                    study_uid=study_uid, description="CT chest (synthetic phantom)")
    return WrittenPatient(pid, bundle_path, dicom, study_uid)
