"""De-identifying a FHIR record before it is stored (the DICOM rule, applied to JSON).

What the risk models need stays: coded facts (Observations, Conditions, FamilyMemberHistory),
gender, and the **age** — computed from ``Patient.birthDate`` on the day the record is stored and
kept as an extension (``urn:galen:age-at-intake``, with that date), because the birth date itself
is an identifier (HIPAA Safe Harbor: dates more specific than the year). Removed from every
resource: names, telecom, addresses, photos, contacts, identifiers, narrative text, and every free
text string scrubbed; resource ids (often record numbers) are replaced by keyed hashes, and
references rewritten to match so the record still holds together.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

AGE_URL = "urn:galen:age-at-intake"
DEID_TAG = {"system": "urn:galen:deid", "code": "deidentified",
            "display": "names, contacts, identifiers, narrative and birth date removed by Galen"}
_DROP = {"name", "telecom", "address", "photo", "contact", "identifier", "text", "link", "generalPractitioner",
         "managingOrganization", "maritalStatus", "communication", "deceasedDateTime", "multipleBirthInteger"}
_KEEP_STRINGS = {"resourceType", "system", "code", "unit", "status", "gender", "url", "version", "type", "reference",
                 "valueCode", "clinicalStatus", "verificationStatus", "id", "fullUrl", "effectiveDateTime",
                 "issued", "onsetDateTime", "recordedDate", "date", "valueDateTime", "valueString"}


def _new_id(old: str, salt: str) -> str:
    return "deid-" + hashlib.sha256((salt + old).encode()).hexdigest()[:16]


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _clean(value: Any, ids: dict[str, str], key: str = "") -> Any:
    from galen.privacy import scrub

    if isinstance(value, dict):
        return {k: _clean(v, ids, k) for k, v in value.items() if k not in _DROP}
    if isinstance(value, list):
        return [_clean(v, ids, key) for v in value]
    if isinstance(value, str):
        if key == "reference" and "/" in value:
            kind, _, rid = value.rpartition("/")
            return f"{kind.split('/')[-1]}/{ids.get(rid, rid)}"
        if key in ("id",):
            return ids.get(value, value)
        if key == "fullUrl":
            return "urn:uuid:" + hashlib.sha256(value.encode()).hexdigest()[:32]
        if key in ("display", "valueString") or key not in _KEEP_STRINGS:
            return scrub(value)
        return value
    return value


def deidentify(data: dict[str, Any], today: date | None = None, salt: str = "") -> dict[str, Any]:
    """A de-identified copy of a FHIR resource or Bundle (see the module docstring)."""
    today = today or date.today()
    resources = [e.get("resource") for e in data.get("entry") or [] if isinstance(e, dict)] \
        if data.get("resourceType") == "Bundle" else [data]
    ids = {r["id"]: _new_id(str(r["id"]), salt) for r in [*resources, data] if isinstance(r, dict) and r.get("id")}
    out = _clean(data, ids)
    cleaned = [e.get("resource") for e in out.get("entry") or []] if out.get("resourceType") == "Bundle" else [out]
    originals = {ids.get(str(r.get("id")), r.get("id")): r for r in resources if isinstance(r, dict)}
    for res in cleaned:
        if not isinstance(res, dict):
            continue
        meta = res.setdefault("meta", {})
        meta["tag"] = [t for t in meta.get("tag", []) if t.get("system") != DEID_TAG["system"]] + [dict(DEID_TAG)]
        if res.get("resourceType") != "Patient":
            continue
        birth = (originals.get(res.get("id")) or {}).get("birthDate")
        res.pop("birthDate", None)
        if birth:
            try:
                born = date.fromisoformat(str(birth)[:10])
            except ValueError:
                continue
            ext = [x for x in res.get("extension", []) if x.get("url") != AGE_URL]
            ext.append({"url": AGE_URL, "extension": [
                {"url": "age", "valueAge": {"value": _age(born, today), "unit": "a", "system": "http://unitsofmeasure.org",
                                            "code": "a"}},
                {"url": "on", "valueDate": today.isoformat()}]})
            res["extension"] = ext
    return out


def deidentify_file(src: Path, dst: Path, today: date | None = None) -> Path:
    """Write the de-identified copy of the FHIR JSON ``src`` to ``dst`` (owner-only, atomically)."""
    from galen.files import write_private
    from interop.fhir_json import load_json

    data = load_json(Path(src))
    salt = hashlib.sha256(Path(src).read_bytes()).hexdigest()[:16]
    return write_private(dst, json.dumps(deidentify(data, today, salt), indent=1, ensure_ascii=False))


def age_at_intake(patient: Any) -> tuple[int, str] | None:
    """``(age, date)`` from a de-identified Patient's extension (a resource model or a dict), else None."""
    exts = patient.get("extension") if isinstance(patient, dict) else getattr(patient, "extension", None)
    for x in exts or []:
        url = x.get("url") if isinstance(x, dict) else getattr(x, "url", None)
        if url != AGE_URL:
            continue
        parts = x.get("extension") if isinstance(x, dict) else getattr(x, "extension", None)
        age = on = None
        for p in parts or []:
            purl = p.get("url") if isinstance(p, dict) else getattr(p, "url", None)
            if purl == "age":
                v = p.get("valueAge") if isinstance(p, dict) else getattr(p, "valueAge", None)
                age = (v.get("value") if isinstance(v, dict) else getattr(v, "value", None)) if v is not None else None
            elif purl == "on":
                on = p.get("valueDate") if isinstance(p, dict) else getattr(p, "valueDate", None)
        if age is not None:
            return int(float(age)), str(on or "")
    return None
