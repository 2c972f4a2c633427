"""Writing the answer: the fully grounded template, and the prompt the LLM writer gets."""

from __future__ import annotations

from typing import Any

from agent import prompts

TOOL_TITLES = {
    "segment_image": "Segmentation",
    "classify_image": "Lesion characterisation",
    "nodule_malignancy_risk": "Nodule malignancy risk (Brock)",
    "clinical_risk": "Metastasis risk",
    "treatment_benefit": "Hormonal therapy benefit",
    "search_guidelines": "Guidelines",
    "predict_properties": "Molecule properties",
    "design_molecules": "Molecule design",
}
DEMO_LABEL = "demo model trained on synthetic data — not validated for clinical use"


def key_sentences(question: str, passages: list[dict[str, Any]], limit: int = 4) -> list[tuple[str, int]]:
    """The passage sentences that answer the question, as (sentence, passage number).

    Delegates to the knowledge base's snippet picker, which respects size bands and risk
    levels stated in the question (plain embedding similarity ignores "7 mm").
    """
    from knowledge.snippets import key_sentences as pick

    return pick(question, passages[:4], limit=limit)


def grounding_text(state: dict[str, Any]) -> str:
    """The question plus the tools' findings as retrieval text ("solid nodule 9.2 mm …"), so the
    quoted guideline sentences match the measured size, not only the words of the question; the
    thread's findings (size, type, count, Brock risk, setting) are added so that a follow-up
    ("what interval for her?") retrieves for the case, not for the bare words."""
    from tools.guideline_facts import case_summary, thread_case

    queries = [c["result"].get("grounding_query") for c in state.get("calls") or []
               if c.get("ok") and c.get("result") and c["result"].get("grounding_query")]
    case = case_summary(thread_case(list(state.get("findings") or []))[0]) if state.get("findings") else ""
    question = str(state.get("question", ""))
    if queries:  # a Chinese question's findings are grounded as an English one's (its terms in English)
        from knowledge.retrieval import english_view

        question = english_view(question)
    return " ".join(x for x in [question, *queries, case] if x)


def _decision_lines(calls: list[dict[str, Any]]) -> list[str]:
    """A computed guideline decision, first: its row with the citation, then how it was reached."""
    lines: list[str] = []
    for call in calls:
        result = call.get("result") or {}
        if call.get("ok") and call["name"] == "search_guidelines" and (result.get("data") or {}).get("decision"):
            facts = [f for f in result.get("facts") or [] if not f.startswith("[")]
            lines += facts[:1] + [f"- {f}" for f in facts[1:]]
    return lines


def template_answer(state: dict[str, Any]) -> str:
    """The templated answer: only tool facts, error explanations and quoted passages."""
    from agent.i18n import answer_language
    from agent.policy import refusal_text

    if state.get("refusal"):
        return refusal_text(state["refusal"])
    if answer_language(str(state.get("question") or "")) == "zh":  # a Chinese question gets a Chinese answer
        from agent.compose_zh import template_answer_zh

        return template_answer_zh(state, grounding_text(state))
    calls = state.get("calls") or []
    passages = state.get("passages") or []
    lines: list[str] = _decision_lines(calls)
    route = state.get("route_info") or {}
    for call in calls:
        title = TOOL_TITLES.get(call["name"], call["name"])
        if call.get("ok") and call["name"] == "search_guidelines":
            continue  # its passages are quoted below
        if call.get("ok"):
            result = call.get("result") or {}
            head = f"**{title}**" + (f" ({DEMO_LABEL})" if result.get("demo_model") else "")
            lines.append(head)
            facts = result.get("facts") or ([result["summary"]] if result.get("summary") else [])
            lines.extend(f"- {f}" for f in facts)
            lines.extend(f"- Caution: {w}" for w in result.get("warnings") or [])
        else:
            err = call.get("error") or {}
            if err.get("missing"):
                lines.append(f"**{title}**: to run it I need {', '.join(err['missing'])}. Please provide them.")
                options = str(err.get("message") or "").partition("Depending on it: ")[2]
                if options:  # what each answer would lead to (a guideline's candidate rows)
                    lines.append(f"- Depending on it: {options}")
            else:
                lines.append(f"**{title}** could not run: {err.get('message', 'unknown error')}")
    if passages and not _decision_lines(calls):  # a decision quotes the rule it rests on itself
        quoted = key_sentences(grounding_text(state), passages)
        if quoted:
            lines.append("**Guideline context**")
            lines.extend(f"- {s} [{n}]" for s, n in quoted)
    if not lines:
        if route.get("note"):
            lines.append(route["note"])
        lines.append(prompts.CAPABILITIES)
    elif route.get("note"):
        lines.append(f"_{route['note']}_")
    for w in state.get("warnings") or []:
        lines.append(f"_Note: {w}_")
    return "\n".join(lines)


def writer_prompt(state: dict[str, Any]) -> str | None:
    """The LLM writer's prompt, or None when there is nothing for it to phrase."""
    if state.get("refusal"):
        return None
    if any(not c.get("ok") for c in state.get("calls") or []):
        return None  # failures and missing facts are explained verbatim by the template
    if _decision_lines(state.get("calls") or []):
        return None  # a computed guideline row is stated by the template, first, not rephrased
    facts: list[str] = []
    for call in state.get("calls") or []:
        r = call.get("result") or {}
        if call["name"] != "search_guidelines":
            facts.extend(r.get("facts") or [r.get("summary", "")])
    passages = state.get("passages") or []
    if not facts and not passages:
        return None
    ptext = "\n".join(f"[{n}] {p.get('title', '')} — {p.get('section', '')}: {p.get('text', '')[:500]}" for n, p in enumerate(passages[:3], start=1))
    prompt = prompts.WRITER.format(
        question=state.get("question", ""),
        facts="\n".join(f"- {f}" for f in facts) or "- (none)",
        passages=ptext or "(none)",
    )
    from agent.i18n import answer_language

    if answer_language(str(state.get("question") or "")) == "zh":
        prompt += ("\nWrite the answer in Simplified Chinese (简体中文). Keep every number, unit and [n] citation "
                   "exactly as given; quote guideline text in its own language.")
    return prompt
