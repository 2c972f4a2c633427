"""Clinical tools: ``nodule_malignancy_risk`` (Brock), ``clinical_risk`` and ``treatment_benefit``.

Arguments come from the question (deterministic extractors in :mod:`tools.extract`) and, for
the nodule, from earlier ``segment_image`` / ``classify_image`` results in the same thread.
Facts a model cannot do without raise ``MissingFacts``; minor facts that are not stated get a
documented default that the result's warnings name.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from galen.errors import InvalidInput, MissingFacts
from tools.base import GalenTool, ToolContext, ToolResult
from tools.extract import (
    find_count,
    find_er_status,
    find_flag,
    find_fmol,
    find_grade,
    find_length_mm,
    find_menopausal_status,
    find_nodule_type,
    find_patient_age,
    find_positive_nodes,
    find_sex,
)

# --- nodule malignancy (Brock) ---------------------------------------------------------------

#: Facts the Brock model needs that a person may leave out, the value assumed, and why.
NODULE_DEFAULTS: dict[str, tuple[Any, str]] = {
    "family_history": (False, "no family history of lung cancer"),
    "emphysema": (False, "no emphysema"),
    "upper_lobe": (False, "not in an upper lobe"),
    "nodule_count": (1, "a solitary nodule (1 nodule; the higher-risk assumption)"),
    "spiculation": (False, "no spiculation"),
}


class NoduleRiskArgs(BaseModel):
    age: float = Field(description="Age in years (18-110).")
    sex: Literal["female", "male"] = Field(description="Sex.")
    nodule_size_mm: float = Field(description="Mean nodule diameter in mm (1-100).")
    nodule_type: str = Field(description="solid, part-solid or non-solid (ground-glass).")
    family_history: bool = Field(False, description="Family history of lung cancer.")
    emphysema: bool = Field(False, description="Emphysema on CT.")
    upper_lobe: bool = Field(False, description="Nodule in an upper lobe.")
    nodule_count: int = Field(1, description="Number of nodules on the scan.")
    spiculation: bool = Field(False, description="Spiculated margin.")
    sources: dict[str, str] = Field(default_factory=dict,
                                    description="Where each fact came from: question, segment_image, classify_image, default.")


def _nodule_facts_from_text(q: str) -> dict[str, Any]:
    spic = find_flag(q, r"spicul")
    if spic is None and re.search(r"\bsmooth(ly)?\b|well[\s-]defined|lobulated", q, re.IGNORECASE):
        spic = False
    upper = find_flag(q, r"upper[\s-]lobe|\bRUL\b|\bLUL\b|right upper|left upper")
    if upper is None and re.search(r"lower[\s-]lobe|middle[\s-]lobe|\bRLL\b|\bLLL\b|\bRML\b|right lower|left lower|"
                                   r"right middle", q, re.IGNORECASE):
        upper = False
    fam = find_flag(q, r"family history|(?:father|mother|brother|sister|sibling|parent)\w* (?:had|has|with|died of) "
                       r"lung cancer", negated_after=r"\s*(?:of lung cancer)?\s*(?::|is|was)?\s*(?:none|negative|no)\b")
    return {"age": find_patient_age(q), "sex": find_sex(q), "nodule_size_mm": find_length_mm(q),
            "nodule_type": find_nodule_type(q), "family_history": fam, "emphysema": find_flag(q, r"emphysema"),
            "upper_lobe": upper, "nodule_count": find_count(q, "nodule"), "spiculation": spic}


def _largest_lesion(ctx: ToolContext) -> tuple[dict | None, dict | None]:
    """The largest segmented lesion and its characterisation, if the thread has them."""
    seg, cls = ctx.latest_finding("segment_image"), ctx.latest_finding("classify_image")
    lesion, index = None, None
    seg_lesions = (seg or {}).get("lesions") or []
    if seg_lesions:
        def size(les: dict) -> float:
            if les.get("mean_diameter_mm") is not None:
                return float(les["mean_diameter_mm"])
            return (float(les.get("long_axis_mm") or 0) + float(les.get("short_axis_mm") or 0)) / 2
        index = max(range(len(seg_lesions)), key=lambda i: size(seg_lesions[i]))
        lesion = {**seg_lesions[index], "_size": size(seg_lesions[index]), "_count": len(seg_lesions)}
    char = None
    cls_lesions = (cls or {}).get("lesions") or []
    if cls_lesions:
        key = lesion.get("id", lesion.get("label")) if lesion else None
        matches = [c for c in cls_lesions if key is not None and c.get("id", c.get("label")) == key]
        if matches:
            char = matches[0]
        elif index is not None and len(cls_lesions) == len(seg_lesions):
            char = cls_lesions[index]
        else:
            char = cls_lesions[0]
    return lesion, char


def _latest_with_index(ctx: ToolContext, tool: str) -> tuple[int, dict | None]:
    """Position (-1 if none) and data of the newest finding of ``tool`` in the thread."""
    for i in range(len(ctx.findings) - 1, -1, -1):
        if ctx.findings[i].get("tool") == tool:
            return i, ctx.findings[i].get("data")
    return -1, None


def _fill_from_earlier(facts: dict[str, Any], sources: dict[str, str], prev: dict | None, key: str) -> None:
    """Fill facts not stated now from an earlier result of the same tool (defaults stay marked as defaults)."""
    if not prev:
        return
    earlier, prev_sources = prev.get(key) or {}, prev.get("sources") or {}
    for k in facts:
        if facts[k] is None and earlier.get(k) is not None:
            facts[k] = earlier[k]
            sources[k] = "default" if prev_sources.get(k) == "default" else "earlier_result"


def extract_nodule_arguments(question: str, ctx: ToolContext) -> dict[str, Any]:
    """Brock arguments from the question, then from segmentation/classification findings, then defaults.

    Raises:
        InvalidInput: a stated value is out of range (age 300, size -4 mm).
        MissingFacts: age, sex, nodule size or nodule type is neither stated nor measured.
    """
    from specialists.clinical.brock import AGE_RANGE, SIZE_RANGE_MM

    facts = _nodule_facts_from_text(question)
    sources = {k: "question" for k, v in facts.items() if v is not None}
    lesion, char = _largest_lesion(ctx)

    def from_image() -> None:
        if lesion is not None:
            for k, v in (("nodule_size_mm", lesion["_size"] or None), ("upper_lobe", lesion.get("upper_lobe")),
                         ("nodule_count", lesion["_count"])):
                if facts[k] is None and v is not None:
                    facts[k], sources[k] = v, "segment_image"
        if char is not None:
            for k, v in (("nodule_type", char.get("type")), ("spiculation", char.get("spiculated"))):
                if facts[k] is None and v is not None:
                    facts[k], sources[k] = v, "classify_image"

    # A follow-up ("and if it were spiculated?") reuses the previous Brock inputs; an image analysed
    # after that result describes a newer nodule and takes precedence over them.
    prev_at, prev = _latest_with_index(ctx, "nodule_malignancy_risk")
    image_newer = max(_latest_with_index(ctx, "segment_image")[0], _latest_with_index(ctx, "classify_image")[0]) > prev_at
    if image_newer:
        from_image()
    _fill_from_earlier(facts, sources, prev, "inputs")
    from_image()
    if facts["age"] is not None and not AGE_RANGE[0] <= facts["age"] <= AGE_RANGE[1]:
        raise InvalidInput(f"Age {facts['age']:g} years is outside what the Brock model accepts (18-110 years).")
    size = facts["nodule_size_mm"]
    if size is not None and not SIZE_RANGE_MM[0] <= size <= SIZE_RANGE_MM[1]:
        raise InvalidInput(f"Nodule size {size:g} mm is outside what the Brock model accepts (1-100 mm).",
                           hint="Give the mean diameter in millimetres.")
    missing = [label for k, label in (("age", "age"), ("sex", "sex"), ("nodule_size_mm", "nodule size (mm)"),
                                      ("nodule_type", "nodule type (solid, part-solid or ground-glass)"))
               if facts[k] is None]
    if missing:
        raise MissingFacts("The Brock nodule model needs: " + ", ".join(missing) + ".", missing=missing)
    for k, (default, _) in NODULE_DEFAULTS.items():
        if facts[k] is None:
            facts[k], sources[k] = default, "default"
    return {**facts, "sources": sources}


class NoduleMalignancyRiskTool(GalenTool):
    name = "nodule_malignancy_risk"
    description = ("Brock (PanCan) probability that a lung nodule is malignant, from age, sex, family history, "
                   "emphysema, nodule size, type, upper-lobe location, nodule count and spiculation, with each "
                   "factor's contribution; uses a segmented/classified nodule from earlier in the thread.")
    args_model = NoduleRiskArgs
    version = "0.1.0"

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        return extract_nodule_arguments(question, ctx)

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from specialists.clinical.brock import VERSION, BrockInput, brock_probability, normalise_type, risk_band

        assert isinstance(args, NoduleRiskArgs)
        inp = BrockInput(age=args.age, sex=args.sex, nodule_size_mm=args.nodule_size_mm,
                         nodule_type=normalise_type(args.nodule_type), family_history=args.family_history,
                         emphysema=args.emphysema, upper_lobe=args.upper_lobe, nodule_count=args.nodule_count,
                         spiculation=args.spiculation)
        res = brock_probability(inp)
        pct = 100 * res.probability
        band = risk_band(res.probability)
        assumed = [k for k, s in args.sources.items() if s == "default"]
        warnings = list(res.warnings) + [f"Not stated, assumed {NODULE_DEFAULTS[k][1]}." for k in assumed]
        measured = {k: s for k, s in args.sources.items() if s in ("segment_image", "classify_image")}
        if measured:
            warnings.append("Taken from the image analysis in this thread: " + ", ".join(
                f"{k.replace('_', ' ')} ({s})" for k, s in measured.items()) + ".")
        parts = ", ".join(f"{k.replace('_', ' ')} {v:+.3f}" for k, v in res.contributions.items() if k != "intercept")
        facts = [
            f"Brock (PanCan full model with spiculation) probability of malignancy: {pct:.1f}%.",
            f"Inputs: age {inp.age:g} years, {inp.sex}, {res.inputs.nodule_type} nodule of {inp.nodule_size_mm:.1f} mm, "
            f"{'upper lobe' if inp.upper_lobe else 'not upper lobe'}, {inp.nodule_count} nodule(s), "
            f"{'spiculated' if inp.spiculation else 'not spiculated'}, family history "
            f"{'yes' if inp.family_history else 'no'}, emphysema {'yes' if inp.emphysema else 'no'}.",
            f"Contributions to the log-odds (intercept {res.contributions['intercept']:+.4f}): {parts}; "
            f"total log-odds {res.log_odds:.3f}.",
            f"The probability is {band}.",
        ]
        data = {**res.to_dict(), "risk_band": band, "sources": dict(args.sources), "assumed": assumed,
                "warnings": warnings}
        return ToolResult(
            tool=self.name, summary=" ".join(facts[:1] + facts[3:]), facts=facts, data=data,
            versions={"brock": VERSION}, warnings=warnings,
            grounding_query=f"{res.inputs.nodule_type} pulmonary nodule {inp.nodule_size_mm:.0f} mm Brock probability "
                            f"{pct:.0f}% BTS guideline PET-CT 10% threshold follow-up",
        )



# --- distant-metastasis risk (fusion / Cox) --------------------------------------------------

class ClinicalRiskArgs(BaseModel):
    age: float = Field(description="Age in years.")
    er_positive: bool = Field(description="Oestrogen-receptor status (True = positive).")
    grade: int = Field(description="Histological grade 1-3.")
    size_cm: float | None = Field(None, description="Tumour size in cm (stated, or measured by segment_image).")
    size_source: str = Field("question", description="question or segment_image.")
    expression_file: str | None = Field(None, description="Path of an attached CSV/JSON of probe expression values.")
    expression_kind: str | None = Field(None, description="csv or json.")


def extract_clinical_risk_arguments(question: str, ctx: ToolContext) -> dict[str, Any]:
    """Age, ER status, grade and size from the question (size also from segment_image); expression from attachments.

    Raises:
        MissingFacts: age, ER status or grade is not stated.
    """
    size_mm, source = find_length_mm(question), "question"
    if size_mm is None:
        lesion, _ = _largest_lesion(ctx)
        if lesion is not None and (lesion.get("long_axis_mm") or lesion["_size"]):
            size_mm, source = float(lesion.get("long_axis_mm") or lesion["_size"]), "segment_image"
    facts = {"age": find_patient_age(question), "er_positive": find_er_status(question), "grade": find_grade(question)}
    _fill_from_earlier(facts, {}, _latest_with_index(ctx, "clinical_risk")[1], "inputs")
    if size_mm is None:
        earlier_size = ((_latest_with_index(ctx, "clinical_risk")[1] or {}).get("inputs") or {}).get("size_cm")
        if earlier_size is not None:
            size_mm, source = 10 * float(earlier_size), "earlier_result"
    missing = [label for k, label in (("age", "age"), ("er_positive", "ER status (positive or negative)"),
                                      ("grade", "tumour grade (1-3)")) if facts[k] is None]
    if missing:
        raise MissingFacts("The breast-cancer risk model needs: " + ", ".join(missing) + ".", missing=missing)
    expr = [a for a in ctx.attachments if a.kind in ("csv", "json") or a.name.lower().endswith((".csv", ".json"))]
    return {**facts, "size_cm": None if size_mm is None else size_mm / 10, "size_source": source,
            "expression_file": str(expr[0].path) if expr else None,
            "expression_kind": ("json" if expr[0].name.lower().endswith(".json") or expr[0].kind == "json" else "csv")
            if expr else None}


class ClinicalRiskTool(GalenTool):
    name = "clinical_risk"
    description = ("Five-year risk of distant metastasis in node-negative early breast cancer from age, ER status, "
                   "grade, tumour size (stated or measured on imaging) and an attached gene-expression profile "
                   "(76 probes), with the features that raise or lower the risk.")
    args_model = ClinicalRiskArgs
    version = "0.1.0"

    def availability(self) -> tuple[bool, str]:
        from specialists.clinical.risk_model import RISK_WEIGHTS

        return (True, "ready") if RISK_WEIGHTS.exists() else (False, "weights missing: run `galen train clinical`")

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        return extract_clinical_risk_arguments(question, ctx)

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from pathlib import Path

        from specialists.clinical.risk_model import VERSION, ClinicalFacts, predict_risk, read_expression

        assert isinstance(args, ClinicalRiskArgs)
        expression = read_expression(Path(args.expression_file), args.expression_kind or "csv") \
            if args.expression_file else None
        r = predict_risk(ClinicalFacts(args.age, args.er_positive, args.grade, args.size_cm, args.size_source), expression)
        warnings = list(r["warnings"])
        if expression is None:
            warnings.append("No expression profile attached: the clinical-only model was used.")
        if r["probes"]["missing"] and r["modalities"]["genes"]:
            warnings.append("Missing probes: " + ", ".join(r["probes"]["missing"][:10])
                            + (" …" if len(r["probes"]["missing"]) > 10 else "") + ".")
        cv = r["cv_c_index"]
        facts = [
            f"Estimated 5-year risk of distant metastasis: {100 * r['risk_5y']:.1f}% "
            f"(5-year metastasis-free probability {100 * r['metastasis_free_5y']:.1f}%).",
            f"Hazard relative to the average patient of the training cohort: {r['relative_hazard']:.2f} "
            f"(percentile {r['cohort_percentile']:.0f}).",
            f"Model: {r['model_used']}, cross-validated C-index {cv['mean']:.2f} ± {cv['sd']:.2f}; modalities used: "
            + ", ".join(k for k, v in r["modalities"].items() if v) + ".",
            "Largest contributions to the log-hazard: " + "; ".join(
                f"{a['feature']} = {a['value']:.2f} {a['direction']} risk ({a['log_hazard_contribution']:+.3f})"
                for a in r["attributions"][:5]) + ".",
        ]
        if r["modalities"]["genes"]:
            facts.append(f"Expression probes used: {r['probes']['used']} of {r['probes']['expected']}.")
        inputs = {"age": args.age, "er_positive": args.er_positive, "grade": args.grade, "size_cm": args.size_cm}
        return ToolResult(tool=self.name, summary=" ".join(facts[:3]), facts=facts,
                          data={**r, "inputs": inputs, "warnings": warnings}, versions={"clinical_risk": VERSION}, warnings=warnings,
                          grounding_query="early breast cancer node-negative gene expression recurrence risk "
                                          "adjuvant chemotherapy decision")


# --- treatment benefit (GBSG2) ---------------------------------------------------------------

COHORT_WARNING = ("The model was fitted on the GBSG2 trial cohort (686 node-positive women, 1984-1989), in which "
                  "hormonal therapy was not randomised for every patient: the with/without comparison may be "
                  "confounded by why patients received it, so it is an association adjusted for the listed "
                  "covariates, not a randomised individual treatment effect.")


class TreatmentBenefitArgs(BaseModel):
    age: float = Field(description="Age in years.")
    menopausal_status: Literal["pre", "post"] = Field(description="Menopausal status.")
    tumour_size_mm: float = Field(description="Tumour size in mm.")
    grade: int = Field(description="Tumour grade 1-3.")
    positive_nodes: float = Field(description="Number of positive lymph nodes.")
    progesterone_fmol: float = Field(description="Progesterone receptor, fmol/mg.")
    estrogen_fmol: float = Field(description="Oestrogen receptor, fmol/mg.")


def extract_treatment_arguments(question: str, ctx: ToolContext) -> dict[str, Any]:
    """GBSG2 covariates from the question. Raises MissingFacts naming each one not stated."""
    q = question.replace("−", "-")
    facts = {
        "age": find_patient_age(q), "menopausal_status": find_menopausal_status(q), "tumour_size_mm": find_length_mm(q),
        "grade": find_grade(q), "positive_nodes": find_positive_nodes(q),
        "progesterone_fmol": find_fmol(q, ["PR", "PgR", "progesterone receptors?"]),
        "estrogen_fmol": find_fmol(q, ["ER", "o?estrogen receptors?"]),
    }
    _fill_from_earlier(facts, {}, _latest_with_index(ctx, "treatment_benefit")[1], "covariates")
    labels = {"age": "age", "menopausal_status": "menopausal status", "tumour_size_mm": "tumour size (mm)",
              "grade": "tumour grade (1-3)", "positive_nodes": "number of positive lymph nodes",
              "progesterone_fmol": "progesterone receptor (fmol/mg)", "estrogen_fmol": "oestrogen receptor (fmol/mg)"}
    missing = [labels[k] for k, v in facts.items() if v is None]
    if missing:
        raise MissingFacts("The treatment-benefit model needs: " + ", ".join(missing) + ".", missing=missing)
    return facts


class TreatmentBenefitTool(GalenTool):
    name = "treatment_benefit"
    description = ("Individual benefit of adjuvant hormonal therapy (tamoxifen) in early breast cancer: 5-year "
                   "recurrence-free survival with and without it, the difference and a bootstrap interval.")
    args_model = TreatmentBenefitArgs
    version = "0.1.0"

    def availability(self) -> tuple[bool, str]:
        from specialists.clinical.treatment import WEIGHTS

        return (True, "ready") if WEIGHTS.exists() else (False, "weights missing: run `galen train clinical`")

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        return extract_treatment_arguments(question, ctx)

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from specialists.clinical.treatment import VERSION, PatientCovariates, predict_benefit

        assert isinstance(args, TreatmentBenefitArgs)
        r = predict_benefit(PatientCovariates(**args.model_dump()))
        lo, hi = r["benefit_interval"]
        hr_lo, hr_hi = r["average_hazard_ratio_ci"]
        facts = [
            f"Predicted 5-year recurrence-free survival without hormonal therapy: {100 * r['rfs5_without_therapy']:.1f}%.",
            f"Predicted 5-year recurrence-free survival with hormonal therapy: {100 * r['rfs5_with_therapy']:.1f}%.",
            f"Estimated absolute difference: {100 * r['absolute_benefit']:+.1f} percentage points "
            f"(95% bootstrap interval {100 * lo:+.1f} to {100 * hi:+.1f}, {r['n_bootstrap']} resamples).",
            f"Average adjusted hazard ratio of hormonal therapy in GBSG2: {r['average_hazard_ratio']:.2f} "
            f"(95% CI {hr_lo:.2f}-{hr_hi:.2f}).",
        ]
        warnings = [COHORT_WARNING] + list(r["warnings"])
        return ToolResult(tool=self.name, summary=" ".join(facts[:3]), facts=facts, data={**r, "warnings": warnings},
                          versions={"treatment_benefit": VERSION}, warnings=warnings,
                          grounding_query="adjuvant endocrine therapy tamoxifen hormone receptor positive early breast "
                                          "cancer benefit recurrence")
