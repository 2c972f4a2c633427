"""FHIR R4 in: a Bundle (or single Patient / Observation / Condition / FamilyMemberHistory) → facts by code.

The JSON is validated with ``fhir.resources`` (its R4B models, which read R4 JSON for these
resources: FHIR 4.3 changed none of the elements used here), then each fact the risk models
need is read by its standard code (``data/fhir_codes.yaml``: LOINC, SNOMED CT, ICD-10, each row
cited), never by display text:

* age — from ``Patient.birthDate`` and the study date (or a given reference date);
* sex — ``Patient.gender`` (``male``/``female``; other values cannot be used by the models);
* smoking_status — LOINC 72166-2 with US Core's SNOMED CT answers;
* family_history — a ``FamilyMemberHistory`` with a lung-cancer condition code;
* emphysema — a ``Condition`` coded as pulmonary emphysema (its clinical status respected);
* tumour_size_mm, positive_nodes, grade, er_positive, pr_positive, estrogen_fmol, progesterone_fmol.

Each fact is ``{"name", "value", "source": "fhir", "evidence", "resource"}``; the names are the
argument names of :mod:`tools.clinical` (``tools.facts``). Contradictory resources (two smoking
statuses that disagree, ER positive and negative) give no fact but a problem; codes Galen does not
know, a value of the wrong type or unit, and an invalid resource are reported, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from galen.errors import InvalidInput, UnreadableFile, UnsupportedFile
from interop.fhir_json import load_json  # the reader of FHIR JSON files (fhir_deid uses it too)

CODES_FILE = Path(__file__).resolve().parent / "data" / "fhir_codes.yaml"
READABLE = ("Patient", "Observation", "Condition", "FamilyMemberHistory")
#: Observation.status values that are results (FHIR R4 ObservationStatus).
FINAL_STATUSES = {"final", "amended", "corrected", "preliminary"}


@lru_cache(maxsize=1)
def codes() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(CODES_FILE.read_text(encoding="utf-8"))


@dataclass
class FhirFacts:
    """What a FHIR attachment says: facts with their sources, and problems to show the person."""

    facts: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # resources read but holding nothing the models use

    def value(self, name: str) -> Any:
        return next((f["value"] for f in self.facts if f["name"] == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {f["name"]: f["value"] for f in self.facts}


# --- reading and validating -----------------------------------------------------------------------


def is_fhir_json(path: Path) -> bool:
    """True when the file is JSON with a FHIR ``resourceType`` (read cheaply: the first 64 kB)."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536).decode("utf-8", errors="ignore")
    except OSError:
        return False
    return head.lstrip().startswith("{") and '"resourceType"' in head


def validate(data: dict, name: str = "the FHIR resource"):
    """The resource as a validated ``fhir.resources`` (R4B) model, or ``InvalidInput`` naming the errors."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    rtype = data.get("resourceType")
    try:
        cls = get_fhir_model_class(str(rtype))
    except (KeyError, ValueError) as e:
        raise UnsupportedFile(f"{name}: '{rtype}' is not a FHIR R4 resource type.") from e
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg'].rstrip('.')}" for err in e.errors()[:5])
        more = f" (and {len(e.errors()) - 5} more)" if len(e.errors()) > 5 else ""
        raise InvalidInput(f"{name} is not valid FHIR R4 {rtype}: {problems}{more}.") from e


def resources(data: dict, name: str) -> list[tuple[str, Any]]:
    """``[(reference, validated resource)]`` from a Bundle (its entries) or a single resource."""
    model = validate(data, name)
    if data.get("resourceType") == "Bundle":
        out = []
        for i, entry in enumerate(model.entry or []):
            res = entry.resource
            if res is None:
                continue
            rid = getattr(res, "id", None)
            out.append((f"{res.get_resource_type()}/{rid}" if rid else f"{res.get_resource_type()} (entry {i + 1})", res))
        if not out:
            raise InvalidInput(f"{name} is a FHIR Bundle without resources.")
        return out
    rid = data.get("id")
    return [(f"{data['resourceType']}/{rid}" if rid else data["resourceType"], model)]


# --- code matching --------------------------------------------------------------------------------


def _codings(concept) -> list[tuple[str, str, str]]:
    return [(c.system or "", c.code or "", c.display or "") for c in (getattr(concept, "coding", None) or [])]


def _match(concept, table: list[dict]) -> dict | None:
    for system, code, _ in _codings(concept):
        for row in table:
            if system == row["system"] and (code == row["code"] or (row.get("prefix") and code.startswith(row["code"]))):
                return row
    return None


def _describe(concept) -> str:
    cs = _codings(concept)
    if not cs:
        return f"'{getattr(concept, 'text', '') or 'no code'}'"
    system, code, display = cs[0]
    short = {"http://loinc.org": "LOINC", "http://snomed.info/sct": "SNOMED CT"}.get(system, system)
    return f"{short} {code}" + (f" {display}" if display else "")


def _fact(name: str, value: Any, ref: str, evidence: str) -> dict[str, Any]:
    return {"name": name, "value": value, "source": "fhir", "evidence": f"{ref}: {evidence}", "resource": ref}


# --- per resource ---------------------------------------------------------------------------------


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _patient(ref: str, res, on: date | None, out: FhirFacts) -> None:
    if res.birthDate:
        birth = res.birthDate if isinstance(res.birthDate, date) else date.fromisoformat(str(res.birthDate)[:10])
        when = on or date.today()
        if birth > when:
            out.problems.append(f"{ref}: birth date {birth.isoformat()} is after the reference date {when.isoformat()}.")
        else:
            basis = "the study date" if on else "today (no study date given)"
            out.facts.append(_fact("age", _age(birth, when), ref, f"birthDate {birth.isoformat()}, age on {basis} "
                                                                  f"{when.isoformat()}"))
    else:
        from interop.fhir_deid import age_at_intake

        kept = age_at_intake(res)  # a record Galen de-identified: the age computed when it was stored
        if kept is not None:
            out.facts.append(_fact("age", kept[0], ref, f"age {kept[0]} on {kept[1]}, when the record was stored "
                                                          "(the birth date itself was removed)"))
        else:
            out.problems.append(f"{ref}: no birthDate, so the age is not known from FHIR.")
    gender = getattr(res, "gender", None)
    if gender in ("male", "female"):
        out.facts.append(_fact("sex", gender, ref, f"gender {gender}"))
    elif gender:
        out.problems.append(f"{ref}: gender '{gender}' cannot be used by the risk models (they need female or male).")


def _quantity(res, ref: str, name: str, spec: dict, out: FhirFacts) -> Any:
    q = getattr(res, "valueQuantity", None)
    if q is None or q.value is None:
        if spec.get("count") and getattr(res, "valueInteger", None) is not None:
            return int(res.valueInteger)
        out.problems.append(f"{ref}: {name} has no numeric value (valueQuantity).")
        return None
    value, unit = float(q.value), (q.code or q.unit or "").strip()
    if "unit_to_mm" in spec:
        factor = spec["unit_to_mm"].get(unit)
        if factor is None:
            out.problems.append(f"{ref}: {name} in unit '{unit or 'none'}' (expected mm or cm).")
            return None
        return round(value * factor, 3)
    if "unit" in spec and unit.lower() != spec["unit"]:
        out.problems.append(f"{ref}: {name} in unit '{unit or 'none'}' (expected {spec['unit']}).")
        return None
    if spec.get("count"):
        if value < 0 or value != int(value):
            out.problems.append(f"{ref}: {name} {value:g} is not a count.")
            return None
        return int(value)
    return value


def _observation(ref: str, res, out: FhirFacts) -> bool:
    table = codes()["observations"]
    for name, spec in table.items():
        if not _match(res.code, spec["codes"]):
            continue
        if res.status and res.status not in FINAL_STATUSES:
            out.problems.append(f"{ref}: {name.replace('_', ' ')} has status '{res.status}', not a result; ignored.")
            return True
        what = _describe(res.code)
        if "values" in spec:
            concept = getattr(res, "valueCodeableConcept", None)
            if concept is None and spec.get("integer") and getattr(res, "valueInteger", None) is not None:
                v = int(res.valueInteger)
                if v in (1, 2, 3):
                    out.facts.append(_fact(name, v, ref, f"{what} = {v}"))
                else:
                    out.problems.append(f"{ref}: {what} = {v} is not a grade 1-3.")
                return True
            row = _match(concept, spec["values"]) if concept is not None else None
            if row is None:
                got = _describe(concept) if concept is not None else "no coded value"
                out.problems.append(f"{ref}: {what} has a value Galen does not know ({got}); expected one of "
                                    + ", ".join(f"{r['code']} {r['display']}" for r in spec["values"][:4]) + ".")
            elif row["value"] is None:
                out.problems.append(f"{ref}: {what} = {row['display']}: the value is unknown.")
            else:
                out.facts.append(_fact(name, row["value"], ref, f"{what} = {row['code']} {row['display']}"))
            return True
        value = _quantity(res, ref, name.replace("_", " "), spec["quantity"], out)
        if value is not None:
            unit = res.valueQuantity.code or res.valueQuantity.unit if res.valueQuantity else ""
            shown = f"{res.valueQuantity.value} {unit}".strip() if res.valueQuantity else str(value)
            out.facts.append(_fact(name, value, ref, f"{what} = {shown}"))
        return True
    return False


def _status_code(res) -> str | None:
    status = getattr(res, "clinicalStatus", None)
    return _codings(status)[0][1] if status is not None and _codings(status) else None


def _condition(ref: str, res, out: FhirFacts) -> bool:
    row = _match(res.code, codes()["conditions"]["emphysema"]) if res.code else None
    if row is None:
        return False
    status = _status_code(res)
    verification = _codings(res.verificationStatus)[0][1] if res.verificationStatus and _codings(res.verificationStatus) \
        else None
    if verification in ("refuted", "entered-in-error"):
        out.facts.append(_fact("emphysema", False, ref, f"{_describe(res.code)}, verification {verification}"))
    elif status in (None, "active", "recurrence", "relapse"):
        out.facts.append(_fact("emphysema", True, ref, f"{_describe(res.code)}" + (f", {status}" if status else "")))
    else:
        out.problems.append(f"{ref}: emphysema with clinical status '{status}'; not counted as present.")
    return True


def _family(ref: str, res, out: FhirFacts) -> bool:
    table = codes()["family_history"]["lung_cancer"]
    hits = [c for c in (res.condition or []) if c.code is not None and _match(c.code, table)]
    relation = _describe(res.relationship) if res.relationship else "a relative"
    if res.status == "entered-in-error":
        return True
    if hits:
        out.facts.append(_fact("family_history", True, ref, f"{relation}: {_describe(hits[0].code)}"))
        return True
    if getattr(res, "dataAbsentReason", None) is None and res.condition:
        return False  # a relative's other conditions: not a lung-cancer history, not a negative either
    return False


def read_facts(data: dict, name: str = "the FHIR attachment", reference_date: date | None = None) -> FhirFacts:
    """Facts from a FHIR R4 resource or Bundle (already parsed JSON).

    Args:
        reference_date: the date the age is computed on (the study date); today when None.

    Raises:
        InvalidInput: not valid FHIR (with the validation errors), or a Bundle without resources.
        UnsupportedFile: not a FHIR resource type.
    """
    out = FhirFacts()
    patients = []
    for ref, res in resources(data, name):
        rtype = res.get_resource_type()
        if rtype == "Patient":
            patients.append(ref)
            _patient(ref, res, reference_date, out)
        elif rtype == "Observation":
            if not _observation(ref, res, out):
                out.ignored.append(f"{ref} ({_describe(res.code)})")
        elif rtype == "Condition":
            if not _condition(ref, res, out):
                out.ignored.append(f"{ref} ({_describe(res.code)})")
        elif rtype == "FamilyMemberHistory":
            if not _family(ref, res, out):
                out.ignored.append(f"{ref} (no lung-cancer condition)")
        else:
            out.ignored.append(f"{ref} ({rtype} is not read)")
    if len(patients) > 1:
        out.problems.append(f"The attachment describes {len(patients)} patients ({', '.join(patients)}); attach one "
                            "patient's resources.")
        out.facts = [f for f in out.facts if f["name"] not in ("age", "sex")]
    _resolve_conflicts(out)
    return out


def _resolve_conflicts(out: FhirFacts) -> None:
    """Two resources that disagree give no fact for that name and a problem naming both."""
    by_name: dict[str, list[dict]] = {}
    for f in out.facts:
        by_name.setdefault(f["name"], []).append(f)
    kept = []
    for name, fs in by_name.items():
        values = {json.dumps(f["value"]) for f in fs}
        if len(values) > 1:
            out.problems.append(f"Contradictory {name.replace('_', ' ')}: " + "; ".join(f["evidence"] for f in fs)
                                + ". Galen does not choose between them: state the right value.")
            continue
        kept.append(fs[0])
    out.facts = kept


def facts_from_attachment(path: Path, reference_date: date | None = None) -> list[dict[str, Any]]:
    """``[{"name", "value", "source", "evidence", "resource"}]`` from a FHIR JSON file; problems as a fact too.

    Problems (contradictions, unknown codes, wrong units) come back as entries named ``problem``
    with ``value`` None, so a caller that only shows facts still shows them.
    """
    path = Path(path)
    result = read_facts(load_json(path), path.name, reference_date)
    return result.facts + [{"name": "problem", "value": None, "source": "fhir", "evidence": p, "resource": None}
                           for p in result.problems]


def describe_attachment(path: Path, name: str | None = None) -> str:
    """One line for the intake summary: what the FHIR file holds and which facts it gives (validated).

    Raises:
        UnreadableFile, UnsupportedFile, InvalidInput: not JSON, not FHIR, or invalid FHIR (named ``name``).
    """
    from collections import Counter

    name = name or Path(path).name
    data = load_json(Path(path)) if name == Path(path).name else _load_named(Path(path), name)
    result = read_facts(data, name)
    kinds = Counter(ref.split("/")[0].split(" ")[0] for ref, _ in resources(data, name))
    what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    facts = ", ".join(f"{f['name'].replace('_', ' ')} {f['value']}" for f in result.facts if f["name"] != "age")
    text = f"FHIR R4 {data['resourceType']} ({what})"
    if facts:
        text += f"; facts: {facts}"
    if any(f["name"] == "age" for f in result.facts):
        text += "; age from the birth date (computed on the study date when one is known)"
    if result.problems:
        text += f"; {len(result.problems)} problem(s): " + " ".join(result.problems[:3])
    return text


def _load_named(path: Path, name: str) -> dict:
    try:
        return load_json(path)
    except (UnreadableFile, UnsupportedFile) as e:
        raise type(e)(e.message.replace(path.name, name), hint=e.hint) from e
