"""The clinician in the loop: facts read from free text are confirmed before a risk model runs.

When a risk tool (Brock, metastasis risk, treatment benefit) is about to run on facts read from
the question (or assumed, or taken from a FHIR record), the graph pauses with LangGraph's
``interrupt()`` and shows what it read, each fact with its source. The reply — in plain words
("yes", "actually she is 65", "it is part-solid"), or edited values from the UI's card — resumes
the turn with ``Command(resume=reply)``, in this process or another one after a restart. Facts a
tool cannot do without are asked for the same way. This module holds the pure parts: which calls
need a pause, what the person is shown, and how a reply changes the arguments.

A reply that corrects nothing recognisable is asked again once, saying which facts can be given;
a second such reply (or "cancel") abandons the call, which is then reported as not run.
"""

from __future__ import annotations

import re
from typing import Any

from galen.errors import GalenError, MissingFacts

#: Tools whose inputs the clinician confirms (and whose missing facts are asked for by a pause).
CONFIRMABLE = ("nodule_malignancy_risk", "clinical_risk", "treatment_benefit")
#: Sources of a fact that no one has checked yet: read from text, assumed, filled by an LLM, or a record.
UNCHECKED = ("question", "default", "arguments", "fhir")
#: Tools that ask for facts they lack by the same pause, but take the reply as more text for their
#: question (a guideline decision needs, say, the risk level or whether this is a screening CT).
ASK_IN_THREAD = ("search_guidelines",)
MODEL_NAMES = {"nodule_malignancy_risk": "the Brock malignancy model", "clinical_risk": "the metastasis-risk model",
               "treatment_benefit": "the hormonal-therapy benefit model", "search_guidelines": "the guideline decision"}
MODEL_NAMES_ZH = {"nodule_malignancy_risk": "Brock 恶性概率模型", "clinical_risk": "远处转移风险模型",
                  "treatment_benefit": "激素治疗获益模型", "search_guidelines": "指南决策"}
_ABANDON = re.compile(r"^\s*(cancel|abandon|stop|never ?mind|forget it|skip|don'?t run|no,? (?:do not|don'?t) run|"
                      r"取消|算了|不用了|停止)\b", re.IGNORECASE)


#: A reply made only of these words accepts the facts ("yes, that's right", "ok go ahead", "是的，没问题").
_ACCEPT_WORDS = {"yes", "yep", "yeah", "yup", "y", "ok", "okay", "k", "fine", "correct", "right", "good", "great",
                 "confirm", "confirmed", "accept", "accepted", "agreed", "agree", "sure", "proceed", "go", "ahead",
                 "please", "run", "it", "that", "that's", "thats", "is", "all", "looks", "look", "everything",
                 "perfect", "exactly", "true", "lgtm", "thanks", "thank", "you", "do", "so", "as", "read", "shown",
                 "是", "是的", "对", "对的", "好", "好的", "确认", "没问题", "正确", "可以", "无误", "没错", "运行", "吧", "请"}


def is_acceptance(text: str) -> bool:
    words = re.findall(r"[A-Za-z']+|[\u4e00-\u9fff]+", (text or "").lower())
    return bool(words) and all(w in _ACCEPT_WORDS for w in words)


def needs_confirmation(name: str, arguments: dict[str, Any]) -> bool:
    """Whether the call is a risk model about to run on facts nobody has confirmed."""
    if name not in CONFIRMABLE:
        return False
    return any((e.get("source") in UNCHECKED) for e in arguments.get("inputs") or [])


def chinese(text: str) -> bool:
    from galen.language import language

    return language(text or "") == "zh"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe_input(e: dict[str, Any]) -> str:
    """One fact as shown on the card: "age 64 ← '64-year-old' (question)"."""
    label = str(e.get("name", "")).replace("_", " ")
    where = e.get("source", "")
    nodule = f"nodule {e['nodule']}: " if e.get("nodule") is not None else ""
    evidence = e.get("evidence")
    told = f" ← '{evidence}'" if evidence and where not in ("default",) else ""
    tag = {"default": "assumed, not stated", "question": "read from your text"}.get(where, where.replace("_", " "))
    return f"{nodule}{label} {_shown(e.get('value'))}{told} ({tag})"


def payload(kind: str, call: dict[str, Any], inputs: list[dict[str, Any]], question: str,
            missing: list[str] | None = None, message: str | None = None, attempts: int = 0) -> dict[str, Any]:
    """What the pause shows (also the interrupt's value): the facts, what is missing, how to answer."""
    zh = chinese(question)
    name = call["name"]
    model = (MODEL_NAMES_ZH if zh else MODEL_NAMES).get(name, name)
    if zh:  # the tools ask in English: their words, and the "Depending on it" options, in Chinese
        from agent.compose_zh import options_zh
        from agent.i18n import missing_fact

        shown = [missing_fact(m) for m in missing or []]
        message = options_zh(message) if message else message
    else:
        shown = list(missing or [])
    if kind == "missing":
        head = (f"运行{model}之前，我还需要：{'、'.join(shown)}。" if zh else
                f"Before I run {model} I need: {', '.join(shown)}.")
    else:
        head = (f"运行{model}之前，请确认我读取的信息：" if zh else
                f"Before I run {model}, please confirm what I read:")
    lines = [head] + [f"- {describe_input(e)}" for e in inputs]
    if message:
        lines.append(message)
    lines.append("回复“是”确认，或用一句话更正（例如“她65岁”“部分实性”）；回复“取消”则不运行模型。" if zh else
                 "Reply 'yes' to accept, or correct in plain words ('actually she is 65', 'it is part-solid'); "
                 "'cancel' leaves the model unrun.")
    return {"kind": kind, "tool": name, "call_id": call["id"], "inputs": inputs, "missing": list(missing or []),
            "attempts": attempts, "text": "\n".join(lines), "language": "zh" if zh else "en"}


def _values_to_inputs(inputs: list[dict[str, Any]], values: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Apply edited card values (``{name: value}``, or ``{"nodule 2: size": v}``) to the shown inputs."""
    out, changed = [dict(e) for e in inputs], []
    for key, raw in values.items():
        m = re.match(r"nodule (\d+):\s*(.+)", str(key))
        nodule, name = (int(m.group(1)), m.group(2)) if m else (None, str(key))
        name = name.strip().replace(" ", "_")
        at = next((i for i, e in enumerate(out) if e["name"] == name and e.get("nodule") == nodule), None)
        old = out[at]["value"] if at is not None else None
        value = _coerce(raw, old)
        entry = {"name": name, "value": value, "source": "correction", "evidence": "edited on the card"}
        if nodule is not None:
            entry["nodule"] = nodule
        if at is None:
            out.append(entry)
        elif old != value:
            out[at] = entry | {"previous": old}
        else:
            continue
        changed.append(name)
    return out, changed


def _coerce(raw: Any, like: Any) -> Any:
    if isinstance(like, bool):
        return str(raw).strip().lower() in ("true", "yes", "y", "1", "是", "有")
    if isinstance(like, int | float) and not isinstance(raw, bool):
        try:
            v = float(str(raw).strip())
            return int(v) if isinstance(like, int) and v.is_integer() else v
        except ValueError:
            return raw
    return raw


def apply_reply(pending: dict[str, Any], call: dict[str, Any], reply: Any) -> dict[str, Any]:
    """What a reply does to a paused call.

    Returns ``{"outcome": "accepted" | "corrected" | "unrecognised" | "abandoned", "arguments": ...,
    "changed": [...], "message": str | None}``.
    """
    from tools.clinical import arguments_from_inputs
    from tools.facts.corrections import apply_corrections, confirmed

    name = call["name"]
    inputs = list(pending.get("inputs") or [])
    if name not in CONFIRMABLE:  # the reply is more text for the tool's question
        text = str(reply.get("text") or "") if isinstance(reply, dict) else str(reply or "")
        if (isinstance(reply, dict) and reply.get("abandon")) or _ABANDON.match(text):
            return {"outcome": "abandoned", "arguments": None, "changed": [], "message": None}
        return {"outcome": "corrected" if text.strip() else "accepted", "arguments": dict(call.get("arguments") or {}),
                "changed": ["reply"] if text.strip() else [], "message": None, "text": text.strip()}
    if isinstance(reply, dict):
        if reply.get("abandon"):
            return {"outcome": "abandoned", "arguments": None, "changed": [], "message": None}
        if reply.get("values"):
            new, changed = _values_to_inputs(inputs, dict(reply["values"]))
            new = confirmed(new)
        elif reply.get("accept"):
            # seen and accepted: a confirmed assumption is carried forward as a fact, not assumed again
            new, changed = confirmed(inputs), []
        else:
            reply = str(reply.get("text") or "")
            new, changed, problem = apply_corrections(name, inputs, reply)
            if problem:
                return {"outcome": "unrecognised", "arguments": None, "changed": [], "message": problem}
    else:
        text = str(reply or "")
        if _ABANDON.match(text):
            return {"outcome": "abandoned", "arguments": None, "changed": [], "message": None}
        if is_acceptance(text) and pending.get("kind") != "missing":
            text = "yes"
        new, changed, problem = apply_corrections(name, inputs, text)
        if problem:
            return {"outcome": "unrecognised", "arguments": None, "changed": [], "message": problem}
    if pending.get("kind") == "missing" and not changed:
        zh = pending.get("language") == "zh"
        return {"outcome": "unrecognised", "arguments": None, "changed": [],
                "message": ("我仍需要：" + "、".join(pending.get("missing") or []) + "。") if zh else
                           ("I still need: " + ", ".join(pending.get("missing") or []) + ".")}
    try:
        arguments = arguments_from_inputs(name, dict(call.get("arguments") or {}), new)
    except MissingFacts as e:
        return {"outcome": "unrecognised", "arguments": None, "changed": changed, "message": e.user_message(),
                "inputs": getattr(e, "inputs", None) or new, "missing": list(e.missing)}
    except GalenError as e:
        return {"outcome": "unrecognised", "arguments": None, "changed": changed, "message": e.user_message()}
    return {"outcome": "corrected" if changed else "accepted", "arguments": arguments, "changed": changed,
            "message": None}


def not_run_record(call: dict[str, Any], language: str = "en") -> dict[str, Any]:
    """The call as reported when the clinician did not confirm its facts."""
    msg = ("事实未经确认，模型没有运行。" if language == "zh" else
           "The facts were not confirmed, so the model was not run.")
    return {**call, "ok": False, "result": None, "duration_s": 0.0,
            "error": {"type": "NotConfirmed", "kind": "not_confirmed", "message": msg}}
