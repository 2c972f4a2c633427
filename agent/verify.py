"""Answer verification: every number must come from the evidence, every citation must exist.

A reply passes when each number it states appears (allowing for rounding, percent ↔ fraction
and mm ↔ cm) in the question, a tool result, or a cited passage, and each ``[n]`` names one of
the retrieved passages. Otherwise the agent replaces it with the templated answer.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

_CITATION = re.compile(r"\[(\d+(?:\s*[,–-]\s*\d+)*)\]")
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?(?![\w.]*\d)")
_LIST_MARKER = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)


@dataclass
class Verification:
    ok: bool
    ungrounded_numbers: list[str] = field(default_factory=list)
    bad_citations: list[int] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "ungrounded_numbers": self.ungrounded_numbers,
            "bad_citations": self.bad_citations,
            "cited": self.cited,
            "reason": self.reason,
        }


def _normalise(text: str) -> str:
    text = text.replace("−", "-").replace("\u2009", " ").replace("\u00a0", " ")
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,234 → 1234


def citations_in(text: str) -> list[int]:
    """The passage numbers cited as [1], [2, 3] or [1-3]."""
    out: list[int] = []
    for m in _CITATION.finditer(text):
        for part in re.split(r"\s*,\s*", m.group(1)):
            bounds = re.split(r"\s*[–-]\s*", part)
            lo, hi = int(bounds[0]), int(bounds[-1])
            out.extend(range(lo, hi + 1) if hi >= lo and hi - lo < 50 else [lo, hi])
    return sorted(set(out))


def numbers_in(text: str) -> list[str]:
    """Numbers stated in ``text``, ignoring citation markers and list numbering."""
    text = _CITATION.sub(" ", _normalise(text))
    text = _LIST_MARKER.sub(" ", text)
    found = []
    for m in _NUMBER.finditer(text):
        tok = m.group(0)
        # "18-24 months": the hyphen is a range, not a minus sign.
        if tok.startswith("-") and m.start() > 0 and text[m.start() - 1].isdigit():
            tok = tok[1:]
        found.append(tok)
    return found


def evidence_numbers(*sources: Any) -> list[float]:
    """Every number in the evidence: strings are scanned, structures walked."""
    out: list[float] = []

    def walk(x: Any) -> None:
        if isinstance(x, bool) or x is None:
            return
        if isinstance(x, int | float):
            if math.isfinite(float(x)):
                out.append(float(x))
        elif isinstance(x, str):
            for tok in numbers_in(x):
                out.append(float(tok))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list | tuple):
            for v in x:
                walk(v)
        else:
            walk(json.loads(json.dumps(x, default=str)))

    for s in sources:
        walk(s)
    return out


def _decimals(tok: str) -> int:
    return len(tok.split(".")[1]) if "." in tok else 0


def number_grounded(tok: str, evidence: list[float]) -> bool:
    """Whether the stated number ``tok`` matches some evidence value after rounding or scaling.

    A positive number may state the magnitude of a negative one ("lowers the risk by 3 points");
    a negative number must match a negative value.
    """
    value = float(tok)
    tol = 0.5 * 10 ** (-_decimals(tok)) + 1e-9
    for e in evidence:
        for scaled in (e, e * 100, e / 100, e * 10, e / 10):
            target = abs(scaled) if value >= 0 else scaled
            if abs(value - target) <= tol:
                return True
    return False


def verify_answer(answer: str, *, question: str, tool_evidence: list[Any], passages: list[dict[str, Any]]) -> Verification:
    """Check ``answer`` against its evidence.

    Args:
        answer: the reply to check.
        question: the person's question (numbers they gave are grounded).
        tool_evidence: tool results (facts, summaries, data) of this turn and earlier findings used.
        passages: the retrieved passages, in citation order ([1] is ``passages[0]``).
    """
    cited = citations_in(answer)
    bad = [n for n in cited if n < 1 or n > len(passages)]
    cited_passages = [passages[n - 1] for n in cited if 1 <= n <= len(passages)]
    evidence = evidence_numbers(question, tool_evidence, [(p.get("text", ""), p.get("title", ""), p.get("section", "")) for p in cited_passages])
    ungrounded = [tok for tok in numbers_in(answer) if not number_grounded(tok, evidence)]
    reasons = []
    if bad:
        reasons.append(f"citations to passages that were not retrieved: {', '.join(f'[{n}]' for n in bad)}")
    if ungrounded:
        reasons.append(f"numbers not found in the question, tool results or cited passages: {', '.join(dict.fromkeys(ungrounded))}")
    return Verification(not reasons, list(dict.fromkeys(ungrounded)), bad, cited, "; ".join(reasons))


#: (what the question asks about, where the facts state it): the number right after the label.
_ASKED: list[tuple[str, str, str]] = [
    ("logP", r"\blog ?p\b|lipophilic", r"\blogP"),
    ("molecular weight", r"molecular weight|\bmw\b|molecular mass", r"\bMW"),
    ("TPSA", r"\btpsa\b|polar surface", r"\bTPSA"),
    ("QED", r"\bqed\b|drug-?likeness", r"\bQED"),
    ("SA score", r"\bsa ?score\b|synthetic accessibility", r"SA score"),
    ("H-bond donors", r"\bhbd\b|donors?\b", r"\bHBD"),
    ("H-bond acceptors", r"\bhba\b|acceptors?\b", r"\bHBA"),
    ("solubility", r"solub|\blog ?s\b", r"predicted logS"),
    ("blood-brain barrier", r"\bbbb\b|blood[- ]brain|brain[- ]penetra|\bcns\b", r"blood-brain barrier"),
    ("diameter", r"diameter|how (?:big|large)|\bsize\b", r"mean diameter"),
    ("volume", r"\bvolume\b", r"\bvolume"),
    ("probability of malignancy", r"malignan|cancer risk|probability", r"probability of malignancy:"),
]


def _asked_but_missing(question: str, draft: str, facts: list[str]) -> list[str]:
    """Properties the question asks for whose values (stated in the facts) the draft leaves out."""
    import re

    stated = numbers_in(draft)
    missing = []
    for label, asked, where in _ASKED:
        if not re.search(asked, question, re.I):
            continue
        values = [float(n) for f in facts for m in re.finditer(where + r"[^0-9\-−]{0,40}([-−]?\d+(?:\.\d+)?)", f)
                  for n in numbers_in(m.group(1))]
        # a stated number that is one of these values, perhaps rounded ("logP 1.3" for 1.31)
        if values and not any(number_grounded(tok, values) for tok in stated):
            missing.append(label)
    return missing


def incompleteness(draft: str, state: dict[str, Any]) -> str | None:
    """Why a grounded draft still may not be shown: it leaves out the findings, ignores the
    passages it was given, or degenerates into repetition. None when it is complete."""
    import re

    from agent.compose import grounding_text, key_sentences

    stated = set(numbers_in(draft))
    missing = []
    for c in state.get("calls") or []:
        if not c.get("ok") or c["name"] == "search_guidelines":
            continue
        nums = {n for f in (c["result"].get("facts") or []) for n in numbers_in(f)}
        if nums and not (nums & stated):
            missing.append(c["name"])
    if missing:
        return f"the reply omits the findings of {', '.join(missing)}"
    facts = [f for c in state.get("calls") or [] if c.get("ok") for f in (c["result"].get("facts") or [])]
    asked = _asked_but_missing(str(state.get("question") or ""), draft, facts)
    if asked:
        return f"the reply does not state the {', '.join(asked)} that was asked for"
    passages = state.get("passages") or []
    if passages and not any(c.get("ok") and c["name"] != "search_guidelines" for c in state.get("calls") or []):
        if not citations_in(draft):
            return "the reply cites none of the guideline passages it was given"
        key_numbers = {n for s, _ in key_sentences(grounding_text(state), passages) for n in numbers_in(s)}
        if key_numbers and len(key_numbers & stated) < (len(key_numbers) + 1) // 2:
            return "the reply leaves out the recommendation's numbers (intervals, thresholds)"
    sentences = [x.strip().lower() for x in re.split(r"(?<=[.!?])\s+", draft) if len(x.strip()) > 20]
    if len(sentences) != len(set(sentences)):
        return "the reply repeats itself"
    return None
