"""The ``nodule_malignancy_risk`` tool: the Brock (PanCan) probability for every nodule of the case.

Arguments are read from the question and the thread (:mod:`tools.nodule_case`), each with its
source. The model runs on every nodule with the patient's facts and the scan's nodule count; the
result leads with the most suspicious nodule, which management follows (BTS 2015; Fleischner 2017
for multiple nodules). A "what if" re-runs the model with the changed inputs and shows before →
after; a fact that is not a model input (smoking) is named with the reason and changes nothing.

Result ``data`` (the UI, the confirmation step and the guideline decisions read it):

- ``probability``, ``probability_percent``, ``log_odds``, ``contributions``, ``model``, ``risk_band``,
  ``warnings``: the most suspicious nodule's result.
- ``model_inputs``: the nine values the model ran on for that nodule (``BrockInput`` as a dict).
- ``inputs``: every fact that fed the model, ``[{"name", "value", "source", "evidence"}]`` plus
  ``note`` (why it is assumed or unsettled), ``nodule`` (its nodule id, when there are several) and
  ``origin`` (first source of an ``earlier_result`` fact). Sources: see :data:`tools.facts.text.SOURCES`.
- ``context``: facts read that are not Brock inputs but matter to guidelines, same shape:
  ``smoking_status``, ``solid_component_mm``, ``mean_diameter_mm``, ``lobe``.
- ``sources`` (name → source) and ``assumed`` (names) for the most suspicious nodule's inputs.
- ``nodule_count``; ``nodules``: one row per nodule, most suspicious first: ``id``, ``label``,
  ``nodule_size_mm`` (longest diameter), ``mean_diameter_mm``, ``solid_component_mm``, ``nodule_type``,
  ``upper_lobe``, ``lobe``, ``spiculation``, ``probability``, ``probability_percent``, ``risk_band``,
  ``computed`` (False when a fact of that nodule is missing; then ``missing`` names it);
  ``index_nodule``: the id of the most suspicious one.
- ``case``: the actual case for later turns (``patient``, ``nodules``: entries as in ``inputs``).
- ``what_if``: None, or ``{"changed", "not_inputs", "unchanged"}`` (names), ``before`` / ``after``
  (name → value), ``reasons`` (name → why it is not an input), ``probability_before`` /
  ``probability_after``; then ``probability`` is the hypothetical one and ``case`` is still the
  actual patient.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from galen.errors import InvalidInput
from tools.base import GalenTool, ToolContext, ToolResult
from tools.facts.text import MissingClinicalFacts, describe
from tools.nodule_case import NODULE, NODULE_CONTEXT, PATIENT, Assembled, Case, Entry, assemble

REQUIRED = {"age": "age", "sex": "sex", "nodule_size_mm": "nodule size (mm)",
            "nodule_type": "nodule type (solid, part-solid or ground-glass)",
            "nodule_count": "nodule count (how many nodules on the scan)"}


class NoduleSpec(BaseModel):
    id: int = Field(description="Nodule number, in the order the nodules were described.")
    nodule_size_mm: float | None = Field(None, description="Longest diameter in mm.")
    nodule_type: str | None = Field(None, description="solid, part-solid or non-solid.")
    upper_lobe: bool = False
    spiculation: bool = False
    lobe: str | None = None
    solid_component_mm: float | None = None
    mean_diameter_mm: float | None = None


class NoduleRiskArgs(BaseModel):
    age: float = Field(description="Age in years (18-110).")
    sex: Literal["female", "male"] = Field(description="Sex.")
    nodule_size_mm: float = Field(description="Longest diameter of the whole nodule in mm (1-100); Brock was built on it.")
    nodule_type: str = Field(description="solid, part-solid or non-solid (ground-glass).")
    family_history: bool = Field(False, description="Family history of lung cancer.")
    emphysema: bool = Field(False, description="Emphysema on CT (COPD alone is not).")
    upper_lobe: bool = Field(False, description="Nodule in an upper lobe (the lingula counts).")
    nodule_count: int = Field(1, description="Number of nodules on the scan.")
    spiculation: bool = Field(False, description="Spiculated margin.")
    solid_component_mm: float | None = Field(None, description="Solid component of a part-solid nodule (not a Brock input).")
    mean_diameter_mm: float | None = Field(None, description="Mean of the long and short axes (Fleischner; not a Brock input).")
    lobe: str | None = Field(None, description="Lobe (RUL, LUL, RML, RLL, LLL, lingula).")
    smoking_status: Literal["current", "former", "never"] | None = Field(None, description="Not a Brock input.")
    nodules: list[NoduleSpec] = Field(default_factory=list, description="Every nodule of the case (empty: this one).")
    inputs: list[dict[str, Any]] = Field(default_factory=list, description="Each fact with its source and evidence.")
    context: list[dict[str, Any]] = Field(default_factory=list, description="Facts read that are not model inputs.")
    sources: dict[str, str] = Field(default_factory=dict, description="Where each input came from.")
    case: dict[str, Any] | None = Field(None, description="The actual case, kept for later turns.")
    what_if: dict[str, Any] | None = Field(None, description="A hypothetical change and the facts that are not inputs.")
    baseline: dict[str, Any] | None = Field(None, description="For a what-if: the actual case's arguments.")
    notes: list[str] = Field(default_factory=list, description="Caveats from reading the facts (lesions left out).")


def _values(entries: dict[str, Entry]) -> dict[str, Any]:
    return {k: e.get("value") for k, e in entries.items()}


def _defaults(case: Case) -> None:
    from specialists.clinical.brock import ASSUMED

    for k in ("family_history", "emphysema", "nodule_count"):
        if k not in case.patient or case.patient[k].get("value") is None:
            case.patient[k] = {"name": k, "value": ASSUMED[k][0], "source": "default", "evidence": "not stated",
                               "note": ASSUMED[k][1]}
    for n in case.nodules:
        for k in ("upper_lobe", "spiculation"):
            if k not in n:
                n[k] = {"name": k, "value": ASSUMED[k][0], "source": "default", "evidence": "not stated",
                        "note": ASSUMED[k][1]}


def _probability(patient: dict[str, Any], nodule: dict[str, Any]) -> float | None:
    from specialists.clinical.brock import BrockInput, brock_probability, normalise_type

    if any(nodule.get(k) is None for k in ("nodule_size_mm", "nodule_type")):
        return None
    return brock_probability(BrockInput(
        age=patient["age"], sex=patient["sex"], nodule_size_mm=nodule["nodule_size_mm"],
        nodule_type=normalise_type(nodule["nodule_type"]), family_history=bool(patient["family_history"]),
        emphysema=bool(patient["emphysema"]), upper_lobe=bool(nodule["upper_lobe"]),
        nodule_count=int(patient["nodule_count"]), spiculation=bool(nodule["spiculation"]))).probability


def arguments_for(case: Case, *, what_if: dict | None = None, baseline: dict | None = None,
                  keep_case: Case | None = None) -> dict[str, Any]:
    """Tool arguments for a case whose required facts are all known (the most suspicious nodule on top)."""
    patient = _values(case.patient)
    probs = [_probability(patient, _values(n)) for n in case.nodules]
    order = sorted(range(len(case.nodules)), key=lambda i: (probs[i] is None, -(probs[i] or 0.0)))
    case.index = order[0]
    many = len(case.nodules) > 1
    inputs: list[Entry] = [dict(case.patient[k]) for k in (*PATIENT, "nodule_count")]
    context: list[Entry] = [dict(case.patient["smoking_status"])] if "smoking_status" in case.patient else []
    specs = []
    for i in order:
        n = case.nodules[i]
        for k in (*NODULE, *NODULE_CONTEXT):
            if k in n:
                e = dict(n[k])
                if many:
                    e["nodule"] = i + 1
                (inputs if k in NODULE else context).append(e)
        specs.append({"id": i + 1, **{k: n[k]["value"] for k in (*NODULE, *NODULE_CONTEXT) if k in n}})
    top = case.nodules[case.index]
    args = {**patient, **{k: top[k]["value"] for k in (*NODULE, *NODULE_CONTEXT) if k in top}}
    args.pop("smoking_status", None)
    smoking = case.patient.get("smoking_status", {}).get("value")
    args.update(smoking_status=smoking if smoking in ("current", "former", "never") else None, nodules=specs,
                inputs=inputs, context=context, what_if=what_if, baseline=baseline,
                sources={e["name"]: e["source"] for e in inputs if e.get("nodule") in (None, case.index + 1)},
                case=(keep_case or case).to_data(), notes=list(case.warnings))
    return args


def check(case: Case, unsettled: dict[str, str]) -> None:
    """Ranges and required facts of the index nodule; raise what is wrong or missing."""
    from specialists.clinical.brock import AGE_RANGE, SIZE_RANGE_MM

    age = (case.patient.get("age") or {}).get("value")
    if age is not None and not AGE_RANGE[0] <= age <= AGE_RANGE[1]:
        raise InvalidInput(f"Age {age:g} years is outside what the Brock model accepts (18-110 years).",
                           hint="Check the age; it must be in years.")
    for n in case.nodules:
        size = (n.get("nodule_size_mm") or {}).get("value")
        if size is not None and not SIZE_RANGE_MM[0] <= size <= SIZE_RANGE_MM[1]:
            raise InvalidInput(f"Nodule size {size:g} mm is outside what the Brock model accepts (1-100 mm).",
                               hint="Give the nodule's longest diameter in millimetres (1 cm = 10 mm).")
    have = {k for k, e in case.patient.items() if e.get("value") is not None}
    sizes = [n for n in case.nodules if (n.get("nodule_size_mm") or {}).get("value") is not None]
    largest = max(sizes, key=lambda n: n["nodule_size_mm"]["value"]) if sizes else (case.nodules or [{}])[0]
    have |= {k for k, e in largest.items() if e.get("value") is not None}
    missing = [k for k in REQUIRED if k not in have and (k != "nodule_count" or k in unsettled)]
    if missing:
        why = [f"{REQUIRED[k]} ({unsettled[k]})" if k in unsettled else REQUIRED[k] for k in missing]
        read = [describe(e) for e in (*case.patient.values(), *largest.values()) if e.get("value") is not None]
        many = len(case.nodules) > 1
        inputs = [dict(e) for e in case.patient.values()]
        inputs += [dict(e, nodule=i + 1) if many else dict(e) for i, n in enumerate(case.nodules) for e in n.values()]
        raise MissingClinicalFacts(
            "The Brock nodule model needs: " + ", ".join(why) + ".", missing=[REQUIRED[k] for k in missing],
            inputs=inputs, hint=("Read so far: " + "; ".join(read) + ".") if read else None)


def extract_nodule_arguments(question: str, ctx: ToolContext) -> dict[str, Any]:
    """Brock arguments from the question and the thread, each fact with its source.

    Raises:
        InvalidInput: a stated value is out of range (age 300, size -4 mm).
        MissingFacts: age, sex, the largest nodule's size or type, or a count the text leaves open
            ("multiple nodules") is not known; ``inputs`` on the error holds what was read.
    """
    a: Assembled = assemble(question, ctx)
    check(a.case, a.unsettled)
    _defaults(a.case)
    if not a.hypothetical:
        return arguments_for(a.case)
    from specialists.clinical.brock import NOT_INPUTS

    _defaults(a.actual)
    base = arguments_for(a.actual)
    before, after = _values(a.actual.patient), _values(a.case.patient)
    changed = [k for k in (*PATIENT, "nodule_count") if before.get(k) != after.get(k)]
    b_top, h_top = _values(a.actual.nodules[a.actual.index]), _values(a.case.nodules[a.actual.index])
    changed += [k for k in NODULE if b_top.get(k) != h_top.get(k)]
    asked = [e for e in (*a.case.patient.values(), *a.case.nodules[a.actual.index].values()) if e["source"] == "what_if"]
    what = {"changed": changed, "not_inputs": [f.name for f in a.not_inputs],
            "unchanged": [e["name"] for e in asked if e["name"] not in changed],
            "before": {k: {**before, **b_top}.get(k) for k in changed},
            "after": {k: {**after, **h_top}.get(k) for k in changed},
            "reasons": {f.name: NOT_INPUTS[f.name][1] for f in a.not_inputs if f.name in NOT_INPUTS},
            "evidence": a.evidence}
    return arguments_for(a.case, what_if=what, baseline={k: v for k, v in base.items() if k not in ("case", "baseline")},
                         keep_case=a.actual)


def nodule_arguments_from_inputs(arguments: dict[str, Any], inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Brock arguments rebuilt from confirmed or corrected ``inputs`` (and the earlier ``context``).

    A what-if (``arguments["what_if"]``) stays one: its actual case and baseline are kept.

    Raises:
        InvalidInput / MissingFacts: as :func:`extract_nodule_arguments`.
    """
    case = Case()
    for e in [*inputs, *(arguments.get("context") or [])]:
        if e["name"] in NODULE or e["name"] in NODULE_CONTEXT:
            k = int(e.get("nodule") or 1) - 1
            while len(case.nodules) <= k:
                case.nodules.append({})
            case.nodules[k][e["name"]] = dict(e)
        else:
            case.patient[e["name"]] = dict(e)
    case.nodules = case.nodules or [{}]
    check(case, {})
    _defaults(case)
    if arguments.get("what_if") is not None and arguments.get("case"):
        # a confirmed what-if stays a what-if: the patient's actual case is kept apart from it
        return arguments_for(case, what_if=arguments["what_if"], baseline=arguments.get("baseline"),
                             keep_case=Case.from_data(arguments["case"]))
    return arguments_for(case)


class NoduleMalignancyRiskTool(GalenTool):
    name = "nodule_malignancy_risk"
    description = ("Brock (PanCan) probability that a lung nodule is malignant, from age, sex, family history, "
                   "emphysema, nodule size, type, upper-lobe location, nodule count and spiculation, for every nodule "
                   "of the case with each factor's contribution; uses segmented/classified nodules from earlier in "
                   "the thread, and answers 'what if' questions.")
    args_model = NoduleRiskArgs
    version = "0.2.0"

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        return extract_nodule_arguments(question, ctx)

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from tools.nodule_result import brock_result

        assert isinstance(args, NoduleRiskArgs)
        return brock_result(args)
