"""Answer verification: every number must be a quantity the evidence states, every citation must exist.

A draft passes when each number it states is the same *quantity* as one in the evidence
(:mod:`agent.quantities`): the same value after rounding to the precision the draft shows, with a
compatible unit (mm ↔ cm, mm³ ↔ mL and % ↔ a probability written as a fraction convert exactly;
nothing else is scaled) and, where both say what they measure, the same attribute (a TPSA is not
grounded by a molecular weight). A written range must match as a range: its ends in order. The
evidence is this turn's question, this turn's tool results and the passages the draft cites —
not every field of every earlier result in the thread. Each ``[n]`` must name a retrieved passage.

Three honest outcomes (``verification.method``): ``draft-verified`` (LLM text that passed),
``draft-rejected`` (LLM text failed; the template is shown, with the reason) and ``template``
(no LLM text at all: grounded by construction, which is not the same as verified).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.quantities import UNITS, Quantity, citations_in, numbers_in, quantities_in, quantities_of

__all__ = ["citations_in", "numbers_in", "number_grounded", "verify_answer", "incompleteness", "Verification"]

#: the dimension an attribute's numbers have when no unit is written
_ATTR_DIMENSION = {"diameter": "length", "volume": "volume", "mw": "molar_mass", "tpsa": "area", "hu": "attenuation",
                   "probability": "fraction", "bbb": "fraction", "age": "years"}


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


def _dimension(q: Quantity) -> str | None:
    if q.unit in UNITS:
        return UNITS[q.unit][0]
    return _ATTR_DIMENSION.get(q.attr or "")


def _candidates(d: Quantity, e: Quantity) -> list[float]:
    """The values of evidence ``e`` in the draft quantity ``d``'s terms (empty: incompatible)."""
    if d.attr and e.attr and d.attr != e.attr:
        return []
    if d.unit and e.unit:
        v = e.in_unit(d.unit)
        return [] if v is None else [v]
    if d.unit and not e.unit:
        dim = _ATTR_DIMENSION.get(e.attr or "")
        if dim is None:
            return [e.value]
        if dim != UNITS.get(d.unit, ("?",))[0]:
            return []
        if dim == "fraction":  # a probability stored as a fraction, stated as a percentage
            return [e.value / UNITS[d.unit][1]] if e.value <= 1 else [e.value]
        return [e.value]
    if not d.unit and e.unit:
        if d.attr in ("probability", "bbb") and e.unit == "%":
            return [e.value, e.value / 100]  # "a probability of 0.12" for "12 %"
        dim = _ATTR_DIMENSION.get(d.attr or "")
        if dim is not None and dim != UNITS.get(e.unit, ("?",))[0]:
            return []
        return [e.value]
    return [e.value]


def quantity_grounded(d: Quantity, evidence: list[Quantity]) -> bool:
    """Whether the draft's quantity ``d`` is one the evidence states (same value at ``d``'s precision)."""
    tol = 0.5 * 10 ** (-d.decimals) + 1e-9
    return any(abs(d.value - v) <= tol for e in evidence for v in _candidates(d, e))


def number_grounded(tok: str, evidence: list[float]) -> bool:
    """Whether the bare number ``tok`` equals one of ``evidence`` at the precision it is written with."""
    d = Quantity(float(tok), len(tok.split(".")[1]) if "." in tok else 0)
    return quantity_grounded(d, [Quantity(float(v), 12) for v in evidence])


def _range_problem(lo: Quantity, hi: Quantity, evidence: list[Quantity]) -> str | None:
    """Why a written range is not grounded as a range (None when it is)."""
    def matches(a: Quantity, b: Quantity) -> bool:
        return quantity_grounded(Quantity(a.value, a.decimals, a.unit, a.attr), [b])

    pairs = [(e, f) for e in evidence if e.range_end == "lo" for f in evidence
             if f.range_end == "hi" and f.partner == e.value and e.partner == f.value]
    if any(matches(lo, e) and matches(hi, f) for e, f in pairs):
        return None
    if any(matches(lo, f) and matches(hi, e) for e, f in pairs) or lo.value > hi.value:
        return f"{lo.text}-{hi.text} (the range's ends are swapped)"
    if quantity_grounded(lo, evidence) and quantity_grounded(hi, evidence):
        return None
    return f"{lo.text}-{hi.text}"


def evidence_quantities(question: str, tool_evidence: list[Any], cited_passages: list[dict[str, Any]]) -> list[Quantity]:
    out = quantities_in(question)
    for item in tool_evidence:
        out.extend(quantities_of(item))
    for p in cited_passages:
        for k in ("text", "title", "section"):
            out.extend(quantities_in(str(p.get(k) or "")))
    return out


def verify_answer(answer: str, *, question: str, tool_evidence: list[Any], passages: list[dict[str, Any]]) -> Verification:
    """Check ``answer`` against its evidence.

    Args:
        answer: the reply to check.
        question: the person's question (numbers they gave are grounded, with their units).
        tool_evidence: this turn's tool results (facts, summaries, data) and error records.
        passages: the retrieved passages, in citation order ([1] is ``passages[0]``).
    """
    cited = citations_in(answer)
    bad = [n for n in cited if n < 1 or n > len(passages)]
    cited_passages = [passages[n - 1] for n in cited if 1 <= n <= len(passages)]
    evidence = evidence_quantities(question, tool_evidence, cited_passages)
    ungrounded: list[str] = []
    drafted = quantities_in(answer)
    i = 0
    while i < len(drafted):
        q = drafted[i]
        if q.range_end == "lo" and i + 1 < len(drafted) and drafted[i + 1].range_end == "hi":
            problem = _range_problem(q, drafted[i + 1], evidence)
            if problem:
                ungrounded.append(problem)
            i += 2
            continue
        if not quantity_grounded(q, evidence):
            ungrounded.append(q.text + (f" {q.unit}" if q.unit else ""))
        i += 1
    reasons = []
    if bad:
        reasons.append(f"citations to passages that were not retrieved: {', '.join(f'[{n}]' for n in bad)}")
    if ungrounded:
        reasons.append("numbers not stated as the same quantity in the question, this turn's tool results or the "
                       f"cited passages: {', '.join(dict.fromkeys(ungrounded))}")
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
