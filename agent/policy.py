"""The scope and refusal policy, checked before any tool runs (the graph's ``policy`` step).

Layered (``agent/safety/``), each layer measured on its own and all together
(``scripts/measure_safety.py``, ``evals/results/safety.*.json``):

(a) rules over clauses (``agent/data/policy.yaml``): harm wins, an exemption excuses only its own
    clause and only when that clause asks for nothing harmful;
(b) a semantic intent classifier: multilingual sentence embeddings of each clause against labelled
    harmful and benign exemplars (``agent/data/safety_exemplars.yaml``), threshold chosen on the
    safety suite's dev split (``agent/data/safety_semantic.yaml``);
(c) molecule screening of every molecule the request names or gives, against the restricted
    classes, combined with the intent of the clause;
(d) the refusal names its category and offers the safe alternative in the question's language;
(e) a self-harm signal gets a caring answer pointing to urgent help, with no numbers and no tool run.

Framing (role play, fiction, jailbreaks, hypotheticals, "for research", translation) and obfuscated
spellings are undone before any layer looks. A request is refused when any layer fires.
"""

from __future__ import annotations

from typing import Any

from agent.safety.decide import LAYERS, Assessment, assess, rule_category
from agent.safety.messages import category_text, render, self_harm_text
from agent.safety.rules import load_rules

__all__ = ["check_request", "refusal_text", "assess", "refusal_from", "load_rules", "LAYERS"]


def refusal_from(assessment: Assessment, layers: tuple[str, ...] = LAYERS) -> dict[str, Any] | None:
    """The refusal dict for an assessment, or None when no asked layer fired."""
    v = assessment.decision(layers)
    if v is None:
        return None
    lang = assessment.language
    category = rule_category(v.rule)
    base = {"rule": v.rule, "category": category, "kind": v.kind, "layer": v.layer, "layers": assessment.fired(layers),
            "language": lang, "framing": list(assessment.framing), "why": v.why}
    if v.kind == "self-harm":
        return base | {"category_name": "", "message": self_harm_text(lang), "alternative": ""}
    text = category_text(category, lang)
    return base | {"category_name": text.get("name", category), "message": text.get("message", ""),
                   "alternative": text.get("alternative", "")}


def check_request(question: str) -> dict[str, Any] | None:
    """The refusal for a request, or None to go ahead.

    Returns ``{"rule", "category", "message", "alternative"}`` plus ``kind`` (``refusal`` or
    ``self-harm``), ``layer`` (the layer whose verdict speaks), ``layers`` (every layer that
    fired), ``language``, ``category_name``, ``framing`` and ``why``.
    """
    return refusal_from(assess(question))


def refusal_text(refusal: dict[str, Any]) -> str:
    """What the person reads: the category, the reason and the safe alternative, or the caring
    self-harm answer, in the question's language."""
    return render(refusal)
