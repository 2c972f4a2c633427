"""Text helpers of the clinical fact reader: one-to-one normalisation, numbers, negation, spans.

Everything here keeps character positions: :func:`normalise` maps each character to exactly one
character (full-width digits and punctuation, ``×``, Unicode minus and dashes), so a match in the
normalised text quotes the same span of the original as its evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from galen.errors import MissingFacts

#: Where a fact came from. ``question``: this turn's text; ``segment_image`` / ``classify_image``:
#: an earlier image analysis in the thread; ``earlier_result``: an earlier result of the same tool
#: (``origin`` keeps where it came from first); ``default``: not stated, an assumption to confirm;
#: ``correction``: the clinician's reply to the confirmation; ``what_if``: a hypothetical change.
#: ``arguments``: filled by the language model (``llm`` routing policy), not read by these rules.
#: ``fhir``: a patient record attached to the thread (:mod:`tools.record_facts`).
SOURCES = ("question", "segment_image", "classify_image", "earlier_result", "default", "correction", "what_if",
           "arguments", "fhir")

_ONE_TO_ONE = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}  # full-width ASCII
_ONE_TO_ONE.update({"\u3000": " ", "。": ".", "、": ",", "×": "x", "✕": "x", "∗": "*", "−": "-", "–": "-",
                    "—": "-", "‐": "-", "‑": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "《": "(", "》": ")",
                    "【": "(", "】": ")", "～": "~", "≤": "<", "≥": ">"})
_TABLE = str.maketrans(_ONE_TO_ONE)


def normalise(text: str) -> str:
    """The text with full-width and typographic characters replaced one for one (same length)."""
    out = text.translate(_TABLE)
    assert len(out) == len(text)
    return out


@dataclass
class Fact:
    """One fact read for a model input, with the text it was read from.

    ``value`` None means the text names the fact but does not settle it ("in her sixties",
    "multiple nodules", "subsolid"); ``note`` then says why, and the tool asks for it.
    """

    name: str
    value: Any
    evidence: str
    start: int = -1
    end: int = -1
    source: str = "question"
    note: str | None = None
    nodule: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Read from a pronoun only ("she"): it does not override a sex stated earlier in the thread.
    weak: bool = False

    def as_input(self) -> dict[str, Any]:
        """The public form: ``{"name", "value", "source", "evidence"}`` (+ ``note``, ``nodule``)."""
        d: dict[str, Any] = {"name": self.name, "value": self.value, "source": self.source, "evidence": self.evidence}
        if self.note:
            d["note"] = self.note
        if self.nodule is not None:
            d["nodule"] = self.nodule
        d.update(self.extra)
        return d


def fact(name: str, value: Any, text: str, m: re.Match[str] | tuple[int, int], **kw: Any) -> Fact:
    """A fact whose evidence is the matched span of the original ``text``."""
    start, end = (m.start(), m.end()) if isinstance(m, re.Match) else m
    return Fact(name, value, text[start:end].strip(" ,;:"), start, end, **kw)


class MissingClinicalFacts(MissingFacts):
    """``MissingFacts`` that also carries what was read (``inputs``), for the confirmation card."""

    def __init__(self, message: str, *, missing: list[str], inputs: list[dict[str, Any]],
                 hint: str | None = None) -> None:
        super().__init__(message, missing=missing, hint=hint)
        self.inputs = inputs

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "inputs": self.inputs}


LABELS = {"nodule_size_mm": "size", "nodule_type": "type", "upper_lobe": "upper lobe", "spiculation": "spiculated",
          "family_history": "family history of lung cancer", "emphysema": "emphysema on CT",
          "nodule_count": "nodule count", "solid_component_mm": "solid component", "mean_diameter_mm": "mean diameter",
          "er_positive": "ER positive", "size_cm": "tumour size", "tumour_size_mm": "tumour size",
          "positive_nodes": "positive nodes", "progesterone_fmol": "PR", "estrogen_fmol": "ER",
          "menopausal_status": "menopausal status", "smoking_status": "smoking"}
_UNITS = {"size_cm": " cm", "progesterone_fmol": " fmol/mg", "estrogen_fmol": " fmol/mg"}


def describe(entry: dict[str, Any]) -> str:
    """One input as a line of the answer: "female ← 'Mrs'", "emphysema on CT no (assumed: ...; confirm)"."""
    name, value = entry["name"], entry["value"]
    label = LABELS.get(name, name.replace("_", " "))
    if isinstance(value, bool):
        shown = f"{label} {'yes' if value else 'no'}"
    elif name == "sex":
        shown = str(value)
    elif isinstance(value, float):
        shown = f"{label} {value:g}" + (" mm" if name.endswith("_mm") else _UNITS.get(name, ""))
    else:
        shown = f"{label} {value}"
    if entry.get("nodule") is not None:
        shown = f"nodule {entry['nodule']} {shown}"
    if entry["source"] == "default":
        return f"{shown} (assumed: {entry.get('note') or 'not stated'}; confirm)"
    if entry.get("origin") == "default":
        return f"{shown} (assumed, confirmed earlier in this thread)"
    evidence = entry.get("evidence") or ""
    tag = {"segment_image": " (segment_image)", "classify_image": " (classify_image)",
           "earlier_result": " (earlier in this thread)", "correction": " (your correction)",
           "what_if": " (what if)", "arguments": " (filled by the language model)"}.get(entry["source"], "")
    return f"{shown} ← '{evidence}'{tag}" if evidence else shown + tag


# --- numbers ---------------------------------------------------------------------------------------

EN_UNITS = {"zero": 0, "one": 1, "a single": 1, "single": 1, "solitary": 1, "two": 2, "three": 3, "four": 4,
            "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
           "ninety": 90}
_UNIT_WORDS = "one|two|three|four|five|six|seven|eight|nine"
#: An English count or age word ("three", "sixty-five", "seventy two").
EN_NUMBER_WORD = (rf"(?:(?:{'|'.join(EN_TENS)})(?:[\s-](?:{_UNIT_WORDS}))?|eleven|twelve|ten|{_UNIT_WORDS})")
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
ZH_NUMBER = r"[零〇一二两俩三四五六七八九十百]+"
#: A count: digits, an English word, or Chinese numerals.
COUNT = rf"(?:\d{{1,2}}|{EN_NUMBER_WORD}|{ZH_NUMBER})"


def en_number(word: str) -> int | None:
    """'sixty-five' -> 65, 'three' -> 3, '7' -> 7; None if not a number word."""
    w = word.strip().lower()
    if w.isdigit():
        return int(w)
    if w in EN_UNITS:
        return EN_UNITS[w]
    parts = re.split(r"[\s-]+", w)
    if parts[0] in EN_TENS:
        total = EN_TENS[parts[0]]
        if len(parts) == 2 and parts[1] in EN_UNITS:
            total += EN_UNITS[parts[1]]
        elif len(parts) > 1:
            return None
        return total
    return None


def zh_number(text: str) -> int | None:
    """Chinese numerals up to the hundreds ('六十八' -> 68, '十二' -> 12, '两' -> 2)."""
    if not text or any(ch not in ZH_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch in ZH_DIGITS:
            current = ZH_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def to_int(token: str) -> int | None:
    """A count token in any of the three forms."""
    token = token.strip()
    if token.isdigit():
        return int(token)
    return en_number(token) if re.match(r"[a-z]", token, re.IGNORECASE) else zh_number(token)


# --- negation --------------------------------------------------------------------------------------

_EN_NEG_BEFORE = re.compile(r"\b(?:no|not|non|without|denies|denied|negative\s+for|absent|free\s+of|nor|never|"
                            r"no\s+evidence\s+of|no\s+known|no\s+signs?\s+of|rules?\s+out|nil)\b", re.IGNORECASE)
_EN_NEG_AFTER = re.compile(r"\s*(?:\([^)]{0,30}\)\s*)?(?::|=|-|is|was|were)?\s*(?:none|negative|neg\b|no\b|nil\b|-\s*ve\b|"
                           r"absent|not\s+(?:present|seen|reported|known|described)|\(-\))",
                           re.IGNORECASE)
_ZH_NEG_BEFORE = re.compile(r"(?:无|没有|未见|未发现|未|否认|不伴|不伴有|非|排除)[^，,。.;；]{0,4}$")
_ZH_NEG_AFTER = re.compile(r"\s*(?:征|症)?\s*(?:[:：])?\s*(?:无|阴性|\(-\)|（-）|否)")
_CLAUSE_END = re.compile(r"[.;,:!?+\n。；，、]|\b(?:but|however|with|and|plus|who|whose)\b|但|但是|伴")


def negation(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of the term *with* its negator when ``text[start:end]`` is negated ("no emphysema",
    "emphysema: none", "无肺气肿"), else None."""
    lo = max(0, start - 48)
    before = text[lo:start]
    cut = [m.end() for m in _CLAUSE_END.finditer(before)]
    clause_at = lo + (cut[-1] if cut else 0)
    clause = text[clause_at:start]
    words = list(re.finditer(r"[\w'-]+", clause))
    window_at = clause_at + (words[-4].start() if len(words) >= 4 else words[0].start() if words else len(clause))
    m = _EN_NEG_BEFORE.search(text[window_at:start])
    if m:
        return window_at + m.start(), end
    m = re.search(r"\bnon-?\s*$", before, re.IGNORECASE)
    if m:
        return lo + m.start(), end
    m = _ZH_NEG_BEFORE.search(text[max(0, start - 6):start])
    if m:
        return max(0, start - 6) + m.start(), end
    m = _EN_NEG_AFTER.match(text, end) or _ZH_NEG_AFTER.match(text, end)
    if m:
        return start, m.end()
    return None


def negated(text: str, start: int, end: int) -> bool:
    """Whether the term at ``text[start:end]`` is negated (see :func:`negation`)."""
    return negation(text, start, end) is not None


def first(pattern: str | re.Pattern[str], text: str, flags: int = re.IGNORECASE) -> re.Match[str] | None:
    return (pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)).search(text)
