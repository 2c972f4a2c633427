"""Picking the sentences of retrieved passages that answer a question.

Guideline passages are lists of size bands and risk levels; the sentence that answers "a single
7 mm solid nodule, high-risk patient" is the one whose band contains 7 mm and that says
high-risk, not the first one. Scoring: shared words, +3 per stated size that the sentence's
size condition admits (-3 per one it excludes), the same for a stated probability ("Brock 13%")
and a sentence's probability band ("Brock probability below 10%"), -2 per opposite qualifier
(low vs high risk, single vs multiple). Deterministic and cheap: no model is called.
"""

from __future__ import annotations

import re
from typing import Any

from knowledge.terms import nodule_kinds
from knowledge.types import Passage

SNIPPET_CHARS = 240
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'-])|\n+")
_NUM = r"(\d+(?:\.\d+)?)"
_MM = r"\s*mm(?![0-9a-z])"  # millimetres, not mm3
_RANGE = re.compile(_NUM + r"\s*(?:mm\s*)?(?:to|-|–)\s*(?:smaller than\s*)?" + _NUM + _MM)
_UPPER = re.compile(r"(?:smaller than|less than|under|below|<)\s*" + _NUM + _MM)
_LOWER = re.compile(r"(?:larger than|more than|over|above|>=?)\s*" + _NUM + _MM + "|" + _NUM + _MM + r" or (?:larger|more)")
_QUERY_SIZE = re.compile(_NUM + r"\s*(mm|millimet|cm)", re.IGNORECASE)
_PCT = _NUM + r"\s*[%％]"
#: A band "10% to 70%"; "fell from 46.2% to 33.0%" is a change, not a band (group 1 set).
_P_RANGE = re.compile(r"(from\s+)?" + _NUM + r"\s*[%％]?\s*(?:to|-|–|and|至|~)\s*" + _PCT)
_P_UPPER = re.compile(r"(?:below|less than|under|lower than|<|＜|低于|小于)\s*" + _PCT)
_P_LOWER = re.compile(r"(?:above|more than|over|greater than|higher than|>=?|≥|＞|高于|大于|超过)\s*" + _PCT + "|"
                      + _PCT + r"\s*(?:or\s*(?:more|higher|greater|above)|以上)")
#: A stated probability: "Brock probability 13%", "Brock 13%", "a Brock risk of 5%", "risk of 12.5%".
_QUERY_PROB = re.compile(r"(?:\b(brock|herder)\b(?:\s+(?:malignancy\s+)?(?:probability|risk))?|"
                         r"\b(?:probability|risk|likelihood))\s*(?:of|is|was|=|:)?\s*" + _PCT, re.IGNORECASE)
_PROB_WORD = re.compile(r"\b(?:probability|risk|likelihood)\b|概率|风险", re.IGNORECASE)
_MODEL = re.compile(r"\b(brock|herder)\b", re.IGNORECASE)
_OPPOSITES = {"high": "low", "low": "high", "single": "multiple", "multiple": "single"}
_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
#: A question asking what something is or how it is told apart ("how is high risk defined?", "怎么区分").
_DEFINITIONAL_Q = re.compile(
    r"\b(?:defin\w*|what\s+(?:is|are|does)\s+(?:meant|counts?)|what\s+counts\s+as|mean(?:s|ing)?\b|"
    r"distinguish\w*|differen\w*|tell\s+apart|criteria|qualif\w*\s+as|considered)\b|"
    r"定义|区分|区别|是指|指什么|什么是|含义|意思|界定|怎么算|如何判断|标准", re.IGNORECASE)
#: A sentence that defines ("X means ...", "... indicates high risk", "is defined as").
_DEFINES = re.compile(r"\b(?:means|is defined as|are defined as|indicates?|refers? to|is considered|counts as)\b",
                      re.IGNORECASE)


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of ``text`` (bullets stripped)."""
    return [p.strip(" -*\t") for p in _SENT.split(text) if p.strip(" -*\t")]


def size_fit(sentence: str, sizes: list[float]) -> int:
    """+3 per size (mm) that a size condition in ``sentence`` admits, -3 per one it excludes, 0 if none."""
    text = sentence.lower()
    conds: list[tuple[float, float]] = [(float(a), float(b)) for a, b in _RANGE.findall(text)]
    return _fit(conds + _open_bands(_RANGE.sub(" ", text), _UPPER, _LOWER), sizes)


def _open_bands(text: str, upper: re.Pattern, lower: re.Pattern) -> list[tuple[float, float]]:
    """The one-sided conditions in ``text``: "below X" as (-inf, X), "X or more" as (X, inf)."""
    return ([(float("-inf"), float(x) - 1e-9) for x in upper.findall(text)]
            + [(float(a or b), float("inf")) for a, b in lower.findall(text)])


def _fit(conds: list[tuple[float, float]], values: list[float]) -> int:
    """+3 per value some condition admits, -3 per value none admits; 0 when there is no condition."""
    if not conds:
        return 0
    return sum(3 if any(lo <= v <= hi for lo, hi in conds) else -3 for v in values)


def stated_probabilities(text: str) -> list[tuple[str, float]]:
    """The probabilities ``text`` states, as (model or "", percent): "Brock 13%" -> [("brock", 13.0)].

    A bare threshold ("the 10% threshold", "PET-CT 10%") is not a stated probability.
    """
    return list(dict.fromkeys((model.lower(), float(value)) for model, value in _QUERY_PROB.findall(text)))


def probability_fit(sentence: str, probs: list[tuple[str, float]]) -> int:
    """+3 per stated probability that a probability band in ``sentence`` admits, -3 per one it excludes.

    Only a sentence about a probability or risk has a band ("Herder probability of 10% to 70%");
    "a change in volume of 25% or more" does not. A band for one model ("Brock") does not judge
    another model's probability ("Herder 13%"). 0 if the sentence has no band or none applies.
    """
    if not probs or not _PROB_WORD.search(sentence):
        return 0
    text = sentence.lower()
    conds: list[tuple[float, float]] = [(float(a), float(b)) for change, a, b in _P_RANGE.findall(text)
                                         if not change and float(a) < float(b)]
    named = {m.lower() for m in _MODEL.findall(sentence)}
    judged = [v for model, v in probs if not (model and named and model not in named)]
    return _fit(conds + _open_bands(_P_RANGE.sub(" ", text), _P_UPPER, _P_LOWER), judged)


class _Query:
    def __init__(self, query: str) -> None:
        from knowledge.retrieval import tokenize

        self.tokenize = tokenize
        self.words = {w for w in tokenize(query) if "_" not in w}
        self.sizes = [float(n) * (10 if unit.lower() == "cm" else 1) for n, unit in _QUERY_SIZE.findall(query)]
        self.probs = stated_probabilities(query)
        self.avoid = {_OPPOSITES[w] for w in self.words if w in _OPPOSITES} - self.words
        self.kinds = nodule_kinds(query)
        self.definitional = bool(_DEFINITIONAL_Q.search(query))

    def score(self, sentence: str) -> int:
        from knowledge.retrieval import lexical_query

        # a Chinese sentence also offers the English words of its terms, so an English question can quote it
        toks = {w for w in self.tokenize(lexical_query(sentence)) if "_" not in w}
        score = len(self.words & toks) + size_fit(sentence, self.sizes)
        score += probability_fit(sentence, self.probs) - 2 * len(self.avoid & toks)
        kinds = nodule_kinds(sentence) if self.kinds else set()
        if kinds and not kinds & self.kinds:
            score -= 3  # a rule for another nodule type ("part-solid" when "solid" was asked)
        if self.definitional and score > 0 and _DEFINES.search(sentence):
            score += 3  # "how is high risk defined?" is answered by the sentence that defines it
        return score


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def best_snippet(text: str, query: str, limit: int = SNIPPET_CHARS) -> str:
    """The sentence of ``text`` that best answers ``query`` (earliest on ties), clipped to ``limit``."""
    parts = split_sentences(text)
    if not parts:
        return ""
    q = _Query(query)
    # Ties go to the earlier sentence: guideline text states the rule before the caveats.
    best = max(range(len(parts)), key=lambda i: (q.score(parts[i]), -i))
    return _clip(parts[best], limit)


def key_sentences(
    query: str, passages: list[Passage] | list[dict[str, Any]], limit: int = 3, max_passages: int = 4
) -> list[tuple[str, int]]:
    """The best ``limit`` sentences across passages, as (sentence, 1-based passage number).

    Sorted by score, ties broken by passage rank then position; sentences sharing no word with
    the query are left out.
    """
    q = _Query(query)
    scored: list[tuple[int, int, int, str]] = []
    for n, p in enumerate(passages[:max_passages], start=1):
        text = p.text if isinstance(p, Passage) else str(p.get("text", ""))
        for i, s in enumerate(split_sentences(text)):
            score = q.score(s)
            if score > 0:
                scored.append((-score, n, i, s))
    scored.sort()
    texts = {n: (p.text if isinstance(p, Passage) else str(p.get("text", ""))) for n, p in enumerate(passages[:max_passages], start=1)}
    return [(with_list(texts[n], s), n) for _, n, _, s in scored[:limit]]


def with_list(text: str, sentence: str, max_items: int = 8) -> str:
    """``sentence`` followed by the list items it introduces, when it ends with a colon."""
    if not sentence.endswith(":"):
        return sentence
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip(" -*\t").endswith(sentence):
            items = []
            for nxt in lines[i + 1:]:
                if not nxt.strip():
                    if items:
                        break
                    continue
                if not _ITEM.match(nxt):
                    break
                items.append(_ITEM.sub("", nxt).strip().rstrip(";.,"))
            if items:
                return sentence + " " + "; ".join(items[:max_items]) + "."
    return sentence
