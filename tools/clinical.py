"""Clinical tools: ``nodule_malignancy_risk`` (Brock), ``clinical_risk`` and ``treatment_benefit``.

Facts are read from the question by :mod:`tools.facts` (one owner for clinical fact reading), from
earlier results of the same tool in the thread and, for sizes, from ``segment_image`` findings; every
fact that feeds a model is returned with its source in the result's ``inputs``
(``[{"name", "value", "source", "evidence"}]``). Facts a model cannot do without raise
``MissingFacts`` (with ``inputs``: what was read). The Brock tool lives in :mod:`tools.nodule_risk`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.base import GalenTool, ToolContext, ToolResult
from tools.facts.breast import (
    read_er_status,
    read_estrogen_fmol,
    read_grade,
    read_menopausal_status,
    read_positive_nodes,
    read_progesterone_fmol,
    read_tumour_size_mm,
)
from tools.facts.patient import read_age
from tools.facts.text import Fact, MissingClinicalFacts, describe, normalise
from tools.nodule_risk import (
    NoduleMalignancyRiskTool,
    NoduleRiskArgs,
    extract_nodule_arguments,
    nodule_arguments_from_inputs,
)

__all__ = ["ClinicalRiskTool", "NoduleMalignancyRiskTool", "NoduleRiskArgs", "TreatmentBenefitTool",
           "extract_clinical_risk_arguments", "extract_nodule_arguments", "extract_treatment_arguments",
           "read_inputs", "arguments_from_inputs"]

Reader = Callable[[str], "Fact | None"]


def _earlier_inputs(ctx: ToolContext, tool: str) -> dict[str, dict[str, Any]]:
    """The inputs of the newest result of ``tool`` in the thread, as entries (older results: a dict of values)."""
    for f in reversed(ctx.findings):
        if f.get("tool") != tool:
            continue
        data = f.get("data") or {}
        inputs = data.get("inputs")
        if isinstance(inputs, list):
            return {e["name"]: e for e in inputs if isinstance(e, dict) and e.get("source") != "default"}
        values = inputs if isinstance(inputs, dict) else data.get("covariates") or {}
        return {k: {"name": k, "value": v, "source": "question", "evidence": ""} for k, v in values.items()}
    return {}


def read_inputs(question: str, ctx: ToolContext, tool: str, readers: dict[str, Reader],
                labels: dict[str, str], model: str) -> list[dict[str, Any]]:
    """Each fact from the question, else from the tool's earlier result in the thread; raise if a required one is missing.

    Raises:
        MissingFacts: a fact in ``labels`` is neither stated nor known from earlier (``inputs`` = what was read).
    """
    text = normalise(question)
    earlier = _earlier_inputs(ctx, tool)
    out, unsettled = [], {}
    for name, reader in readers.items():
        f = reader(text)
        if f is not None and f.value is not None:
            out.append(f.as_input())
        elif name in earlier:
            e = dict(earlier[name])
            if e["source"] != "earlier_result":
                e["origin"], e["source"] = e["source"], "earlier_result"
            out.append(e)
        elif f is not None and f.note:
            unsettled[name] = f.note
    have = {e["name"] for e in out}
    from tools.record_facts import record_facts

    record, _ = record_facts(ctx)  # a FHIR record in the thread fills what the question leaves out
    for name in readers:
        if name not in have and name in record:
            out.append(record[name])
            have.add(name)
    missing = [n for n in labels if n not in have]
    if missing:
        read = "; ".join(describe(e) for e in out)
        raise MissingClinicalFacts(
            f"The {model} needs: " + ", ".join(f"{labels[n]} ({unsettled[n]})" if n in unsettled else labels[n]
                                               for n in missing) + ".",
            missing=[labels[n] for n in missing], inputs=out, hint=f"Read so far: {read}." if read else None)
    return out


def arguments_from_inputs(tool_name: str, arguments: dict[str, Any], inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """The tool's arguments with confirmed or corrected ``inputs`` (from :func:`tools.facts.corrections.apply_corrections`).

    Validate and run the result as usual (``tool.validate_arguments`` then ``tool.run``). A Brock
    what-if stays a what-if (the patient's actual case is kept apart).

    Raises:
        MissingFacts: a required fact is still missing. InvalidInput: a value is out of range.
    """
    if tool_name == "nodule_malignancy_risk":
        return nodule_arguments_from_inputs(arguments, inputs)
    labels = {"clinical_risk": _RISK_LABELS, "treatment_benefit": _TB_LABELS}[tool_name]
    values = {e["name"]: e["value"] for e in inputs if e.get("value") is not None}
    missing = [n for n in labels if n not in values]
    if missing:
        raise MissingClinicalFacts("The model still needs: " + ", ".join(labels[n] for n in missing) + ".",
                                   missing=[labels[n] for n in missing], inputs=list(inputs))
    out = {**arguments, **values, "inputs": [dict(e) for e in inputs]}
    if tool_name == "clinical_risk" and "size_cm" in values:
        out["size_source"] = next(e["source"] for e in inputs if e["name"] == "size_cm")
    return out


# --- distant-metastasis risk (fusion / Cox) --------------------------------------------------

class ClinicalRiskArgs(BaseModel):
    age: float = Field(description="Age in years.")
    er_positive: bool = Field(description="Oestrogen-receptor status (True = positive).")
    grade: int = Field(description="Histological grade 1-3.")
    size_cm: float | None = Field(None, description="Tumour size in cm (stated, or measured by segment_image).")
    size_source: str = Field("question", description="question or segment_image.")
    inputs: list[dict[str, Any]] = Field(default_factory=list, description="Each fact with its source and evidence.")
    expression_file: str | None = Field(None, description="Path of an attached CSV/JSON of probe expression values.")
    expression_kind: str | None = Field(None, description="csv or json.")


_RISK_LABELS = {"age": "age", "er_positive": "ER status (positive or negative)", "grade": "tumour grade (1-3)"}


def _largest_lesion_mm(ctx: ToolContext) -> tuple[float, str] | None:
    lesions = (ctx.latest_finding("segment_image") or {}).get("lesions") or []
    sized = [(float(les.get("long_axis_mm") or les.get("mean_diameter_mm") or 0), les) for les in lesions]
    sized = [t for t in sized if t[0] > 0]
    if not sized:
        return None
    size, les = max(sized, key=lambda t: t[0])
    return size, f"lesion {les.get('id', 1)} long axis {size:.1f} mm"


def extract_clinical_risk_arguments(question: str, ctx: ToolContext) -> dict[str, Any]:
    """Age, ER status, grade and size from the question (size also from segment_image); expression from attachments.

    Raises:
        MissingFacts: age, ER status or grade is not stated.
    """
    inputs = read_inputs(question, ctx, "clinical_risk",
                         {"age": read_age, "er_positive": read_er_status, "grade": read_grade,
                          "size_mm": read_tumour_size_mm}, _RISK_LABELS, "breast-cancer risk model")
    by = {e["name"]: e for e in inputs}
    size = by.pop("tumour_size_mm", None)
    inputs = [e for e in inputs if e["name"] != "tumour_size_mm"]
    if size is None and (les := _largest_lesion_mm(ctx)) is not None:
        size = {"name": "tumour_size_mm", "value": les[0], "source": "segment_image", "evidence": les[1]}
    if size is not None:
        inputs.append({**size, "name": "size_cm", "value": round(float(size["value"]) / 10, 4)})
    elif (before := _earlier_inputs(ctx, "clinical_risk").get("size_cm")) and before.get("value") is not None:
        size = dict(before)
        if size["source"] != "earlier_result":
            size["origin"], size["source"] = size["source"], "earlier_result"
        inputs.append(size)
    expr = [a for a in ctx.attachments if a.kind != "fhir" and (a.kind in ("csv", "json") or a.name.lower().endswith((".csv", ".json")))]
    values = {e["name"]: e["value"] for e in inputs}
    return {"age": values["age"], "er_positive": values["er_positive"], "grade": values["grade"],
            "size_cm": values.get("size_cm"), "size_source": size["source"] if size else "question", "inputs": inputs,
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
        model_inputs = {"age": args.age, "er_positive": args.er_positive, "grade": args.grade, "size_cm": args.size_cm}
        inputs = args.inputs or [{"name": k, "value": v, "source": "arguments", "evidence": ""}
                                 for k, v in model_inputs.items() if v is not None]
        facts.append("Inputs: " + "; ".join(describe(e) for e in inputs) + ".")
        return ToolResult(tool=self.name, summary=" ".join(facts[:3]), facts=facts,
                          data={**r, "model_inputs": model_inputs, "inputs": inputs, "warnings": warnings},
                          versions={"clinical_risk": VERSION}, warnings=warnings,
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
    inputs: list[dict[str, Any]] = Field(default_factory=list, description="Each fact with its source and evidence.")


_TB_READERS: dict[str, Reader] = {
    "age": read_age, "menopausal_status": read_menopausal_status, "tumour_size_mm": read_tumour_size_mm,
    "grade": read_grade, "positive_nodes": read_positive_nodes, "progesterone_fmol": read_progesterone_fmol,
    "estrogen_fmol": read_estrogen_fmol}
_TB_LABELS = {"age": "age", "menopausal_status": "menopausal status", "tumour_size_mm": "tumour size (mm)",
              "grade": "tumour grade (1-3)", "positive_nodes": "number of positive lymph nodes",
              "progesterone_fmol": "progesterone receptor (fmol/mg)", "estrogen_fmol": "oestrogen receptor (fmol/mg)"}


def extract_treatment_arguments(question: str, ctx: ToolContext) -> dict[str, Any]:
    """GBSG2 covariates from the question (or the thread's earlier result). Raises MissingFacts naming each one missing."""
    inputs = read_inputs(question, ctx, "treatment_benefit", _TB_READERS, _TB_LABELS, "treatment-benefit model")
    return {**{e["name"]: e["value"] for e in inputs}, "inputs": inputs}


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
        r = predict_benefit(PatientCovariates(**args.model_dump(exclude={"inputs"})))
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
        inputs = args.inputs or [{"name": k, "value": v, "source": "arguments", "evidence": ""}
                                 for k, v in args.model_dump(exclude={"inputs"}).items()]
        facts.append("Inputs: " + "; ".join(describe(e) for e in inputs) + ".")
        return ToolResult(tool=self.name, summary=" ".join(facts[:3]), facts=facts,
                          data={**r, "inputs": inputs, "warnings": warnings},
                          versions={"treatment_benefit": VERSION}, warnings=warnings,
                          grounding_query="adjuvant endocrine therapy tamoxifen hormone receptor positive early breast "
                                          "cancer benefit recurrence")
