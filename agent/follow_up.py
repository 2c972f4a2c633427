"""Routing follow-ups in a thread: what a message asks of the case the thread already holds.

The semantic router reads one message. In a consultation the next message often only makes sense
with the thread: "Fleischner now?" after a measured nodule, "and if she were a current smoker?"
after a Brock result, "there is also a 5 mm nodule in the LLL". Three rules, over the router's
choice (cues in ``agent/data/follow_up_cues.yaml``):

1. A management question about the thread's nodule (follow-up, interval, category, a guideline
   named) goes to ``search_guidelines``, which computes the decision from the case; the image
   tools and the Brock model are kept only when the message asks for them in its own words
   (a new measurement, a new probability) or brings a new image.
2. A message that only brings new facts about the nodules ("found another one, 4 mm solid") or the
   patient ("actually she smoked 30 pack-years") right after a guideline answer updates that answer:
   ``search_guidelines`` again, on the new case.
3. Otherwise a message that changes the Brock model's facts (a what-if, another nodule, a restated
   fact: :func:`tools.nodule_case.brock_follow_up`) re-runs ``nodule_malignancy_risk`` when the
   thread has a Brock result.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

IMAGE_TOOLS = ("segment_image", "classify_image")
NODULE_TOOLS = (*IMAGE_TOOLS, "nodule_malignancy_risk", "search_guidelines")


@lru_cache(maxsize=1)
def cues() -> dict[str, re.Pattern[str]]:
    raw = yaml.safe_load(resources.files("agent.data").joinpath("follow_up_cues.yaml").read_text())
    return {k: re.compile("|".join(f"(?:{p})" for p in v["pattern"]), re.IGNORECASE) for k, v in raw.items()}


def _has_nodule(findings: list[dict[str, Any]]) -> bool:
    for f in findings:
        data = f.get("data") or {}
        if f.get("tool") in ("nodule_malignancy_risk", "search_guidelines") or data.get("lesions"):
            return True
    return False


def _has_image(findings: list[dict[str, Any]]) -> bool:
    """Whether an earlier turn of the thread read an image (there is something to measure or characterise)."""
    return any(f.get("tool") in IMAGE_TOOLS or (f.get("data") or {}).get("lesions") for f in findings)


def _previous_tools(findings: list[dict[str, Any]]) -> set[str]:
    turns = [f.get("turn") for f in findings if f.get("turn") is not None]
    last = max(turns) if turns else None
    return {f.get("tool") for f in findings if last is not None and f.get("turn") == last}


def _states_nodule_facts(question: str) -> bool:
    """Whether the message states a nodule or a nodule fact ("found another one, 4 mm solid, RML")."""
    from tools.guideline_text import parse_question

    q = parse_question(question)
    return bool(q.mentions or q.attrs)


def _states_case_facts(question: str) -> bool:
    """Whether the message states a fact a guideline decision reads: a nodule fact, or the patient's risk,
    age or the setting ("actually she smoked 30 pack-years", "it was a screening scan")."""
    from tools.guideline_text import DECISION_CASE_FACTS, parse_question

    q = parse_question(question)
    return bool(q.mentions or q.attrs or (q.case.keys() & set(DECISION_CASE_FACTS)))


def _asks_brock(question: str) -> bool:
    """Whether the message asks for the malignancy model ("Brock not calculated yet" names it, asking nothing)."""
    c = cues()
    return bool(c["asks_brock"].search(c["no_brock"].sub(" ", question)))


def follow_up(question: str, findings: list[dict[str, Any]], names: list[str], fresh_images: bool) -> tuple[list[str], str | None]:
    """The tools for this message given the thread, and why they differ from the router's (None: unchanged)."""
    c = cues()
    if not names and c["management"].search(question):
        # a question that names a guideline or asks what to do is never "no tool": the knowledge base answers it
        return ["search_guidelines"], "it names a guideline or asks for management"
    if names and set(names) <= set(IMAGE_TOOLS) and not fresh_images and not _has_image(findings) \
            and c["management"].search(question) and not c["asks_image"].search(question) \
            and _states_nodule_facts(question):
        # "Incidental GGN 0.5cm. f/u?": a nodule described in words, with no image to measure or classify
        return ["search_guidelines"], "a management question about a nodule described in words, with no image"
    if "nodule_malignancy_risk" in names and "search_guidelines" in names and c["states_brock"].search(question):
        return [n for n in names if n != "nodule_malignancy_risk"], "the Brock probability is given in the question"
    if names == ["nodule_malignancy_risk"] and c["states_brock"].search(question) and not fresh_images \
            and (c["management"].search(question) or c["next_step"].search(question)):
        # "UK, 9 mm solid nodule, brock 6%. next?": the probability is an input to the decision, not a request for it
        return ["search_guidelines"], "the Brock probability is given in the question, which asks what to do"
    if (not findings or not _has_nodule(findings)) and names and set(names) <= {"nodule_malignancy_risk", "search_guidelines"} \
            and c["management"].search(question) and not _asks_brock(question) and names != ["search_guidelines"]:
        # "64F, 8 mm solid nodule: Fleischner follow-up?" asks for a decision, not for a probability
        return ["search_guidelines"], "a management question that does not ask for the malignancy probability"
    if not findings or not _has_nodule(findings):
        return names, None
    if ("search_guidelines" in _previous_tools(findings) and c["hypothetical"].search(question) and not fresh_images
            and not (_asks_brock(question) and not c["states_brock"].search(question))
            and not c["asks_image"].search(question)):
        # answered here, also when the router already chose it: the Brock re-run below must not take it
        return ["search_guidelines"], (None if names == ["search_guidelines"] else
                                       "a what-if about the guideline decision of the previous turn")
    if c["management"].search(question) and (not names or set(names) <= set(NODULE_TOOLS)):
        keep = [n for n in names if (n in IMAGE_TOOLS and (fresh_images or c["asks_image"].search(question)))
                or (n == "nodule_malignancy_risk" and _asks_brock(question))]
        out = [*keep, "search_guidelines"]
        if out != names:
            return out, "a management question about the nodule in this conversation"
        return names, None
    if ("search_guidelines" in _previous_tools(findings) and not fresh_images and set(names) <= set(NODULE_TOOLS)
            and not _asks_brock(question) and not c["asks_image"].search(question)
            and _states_case_facts(question)):
        return ["search_guidelines"], (None if names == ["search_guidelines"] else
                                       "new facts about the case of the previous turn's guideline decision")
    if any(f.get("tool") == "nodule_malignancy_risk" for f in findings) and not fresh_images:
        from tools.nodule_case import brock_follow_up

        kind = brock_follow_up(question, findings)
        # "and if it had spiculated margins?" names an image feature, but with no image in the
        # thread there is nothing to look at: it changes a Brock input
        if kind is not None and "nodule_malignancy_risk" not in names and not (
                set(names) & set(IMAGE_TOOLS) and c["asks_image"].search(question) and _has_image(findings)):
            return ["nodule_malignancy_risk"], f"a follow-up that changes the Brock model's facts ({kind})"
    return names, None
