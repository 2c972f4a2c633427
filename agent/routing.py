"""Routing helpers of the semantic and hybrid policies: which tools, in which order, and when.

Functions over the graph state and the router's decision, used by :mod:`agent.nodes`.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from agent import prompts
from agent.state import GalenState
from galen.errors import GalenError, MissingFacts
from tools.base import ToolContext
from tools.registry import get_tool, tool_status

IMAGING_KINDS = {"dicom", "dicom-folder", "dicom-zip", "nifti", "image"}

# Tools that produce findings others consume run first.
RUN_ORDER = ["segment_image", "classify_image", "nodule_malignancy_risk", "clinical_risk",
             "treatment_benefit", "predict_properties", "design_molecules", "search_guidelines"]


# How close (in the router's score units) a feasible runner-up must be to replace an infeasible top
# choice. The router already weighs whether an image is attached and a molecule named (its priors),
# so only a near tie is swapped (0.05 and 0.2 scored the same on the dev splits).
FEASIBLE_GAP = 0.05


def order(names: list[str]) -> list[str]:
    return sorted(dict.fromkeys(names), key=lambda n: RUN_ORDER.index(n) if n in RUN_ORDER else 99)


def error_record(e: GalenError) -> dict[str, Any]:
    return e.to_dict() | {"kind": e.kind}


def feasible_alternative(state: GalenState, decision: Any) -> tuple[tuple[str, ...], str] | None:
    """A close runner-up when the top choice cannot work here (an imaging tool with no image in
    the thread, a property lookup with no molecule named). When nothing close is feasible the
    top choice stays, and its tool asks for what is missing."""
    def problem(label: tuple[str, ...]) -> str | None:
        if {"segment_image", "classify_image"} & set(label) and not any(
            a.get("kind") in IMAGING_KINDS for a in state.get("attachments") or []
        ):
            return "no image is attached in this thread"
        if "predict_properties" in label:
            from tools.molecules import extract_molecules

            try:
                extract_molecules(state["question"])
            except MissingFacts:
                return "no molecule is named"
            except GalenError:
                return None  # a molecule was named but is invalid: the tool will say what is wrong
        return None

    why = problem(decision.tools)
    if why is None:
        return None
    top = decision.candidates[0][1]
    for label, score in decision.candidates[1:]:
        if top - score > FEASIBLE_GAP:
            break
        if label and problem(label) is None:
            return label, why
    return None


def add_image_measurements(names: list[str], ctx: ToolContext) -> list[str]:
    """Measure the attached image first when the risk model or a guideline lookup needs its nodule.

    "What is the risk of this nodule?" after a CT was attached should use the image's
    measured size and type, and ask the person only for the clinical facts. "What does
    Fleischner advise for the nodule on this scan?" is answered for the measured nodule (the
    guideline passages are retrieved for the question and the findings), unless a size is stated.
    """
    if not any(a.kind in IMAGING_KINDS for a in ctx.attachments):
        return names
    if "search_guidelines" in names and "segment_image" not in names and ctx.latest_finding("segment_image") is None:
        from agent.router import packaged_cues
        from tools.extract import find_length_mm

        ref = packaged_cues().image_reference
        if ref is not None and ref.search(ctx.question) and find_length_mm(ctx.question) is None \
                and tool_status("segment_image").available:
            names = order(["segment_image", *names])
    if "search_guidelines" in names and "classify_image" not in names and _decision_needs_type(names, ctx) \
            and tool_status("classify_image").available:
        names = order(["classify_image", *names])
    if "nodule_malignancy_risk" not in names:
        return names
    try:
        get_tool("nodule_malignancy_risk").extract_arguments(ctx.question, ctx)
        return names
    except MissingFacts as e:
        missing = " ".join(e.missing).lower()
    except GalenError:
        return names
    extra = []
    if "size" in missing and ctx.latest_finding("segment_image") is None:
        extra.append("segment_image")
    if "type" in missing and ctx.latest_finding("classify_image") is None:
        extra.append("classify_image")
    return order([n for n in extra if tool_status(n).available] + names)


def _decision_needs_type(names: list[str], ctx: ToolContext) -> bool:
    """Whether a guideline decision about the imaged nodule(s) lacks their type, and no classifier ran.

    The table rows read the nodule type; the image's characterisation (shown with its source, and
    open to correction at the confirmation step) answers it instead of asking the person.
    """
    if ctx.latest_finding("classify_image") is not None:
        return False
    from tools.guideline_facts import gather
    from tools.guidelines import asks_for_decision, wants_decision

    g = gather(ctx.question, ctx.findings)
    if "segment_image" in names and ctx.latest_finding("segment_image") is None:
        # measured this turn: typed unless the question states a type for it
        return asks_for_decision(g.question, ctx.question) and not any(m.facts.get("type") for m in g.question.mentions) \
            and "type" not in g.question.attrs
    if not wants_decision(ctx.question, g):
        return False
    return any(n.value("type") is None and n.value("lesion_id") is not None for n in g.case.nodules)


def hybrid_choice(chat_model: BaseChatModel, top_k: int, question: str, decision: Any, fallback: list[str]) -> list[str]:
    """The LLM picks one of the router's top-k tool sets, by constrained decoding over their names."""
    # The router already judged that a tool fits, so the choice is among its top sets only.
    options = {"+".join(label): list(label) for label, _ in decision.candidates[: top_k] if label}
    if len(options) < 2:
        return fallback
    schema = {"type": "object", "properties": {"choice": {"type": "string", "enum": list(options)}}, "required": ["choice"]}
    lines = []
    for key, names in options.items():
        desc = "; ".join(get_tool(n).description.split(".")[0] for n in names if tool_status(n).available) or "no tool fits"
        lines.append(f"- {key}: {desc}")
    try:
        out = chat_model.with_structured_output(schema).invoke(
            [HumanMessage(content=prompts.HYBRID_CHOOSER.format(question=question, candidates="\n".join(lines)))]
        )
        choice = out.get("choice") if isinstance(out, dict) else None
    except (ValueError, json.JSONDecodeError):
        choice = None
    return options[choice] if choice in options else fallback
