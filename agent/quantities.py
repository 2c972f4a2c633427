"""Quantities in text and in tool data: a number with its unit and what it measures.

The verifier compares an LLM draft's numbers with the evidence as *quantities*, not bare numbers:
"7 cm" is not grounded by a 7 mm nodule, "TPSA 46.07" is not grounded by a molecular weight of
46.07, and "0.12 %" is not grounded by a 12 % risk. A quantity is

- ``value`` and the ``decimals`` it was written with (the precision it claims),
- ``unit``, canonical (``mm``, ``mm3``, ``%``, ``g/mol``, ``A2``, ``HU``, ``months``, ``years`` ...),
  when one is written after the number or implied by a data key (``mean_diameter_mm``),
- ``attr``, what it measures (``logp``, ``mw``, ``tpsa``, ``probability``, ``diameter`` ...), from
  a label written just before the number or from the data key,
- ``range_end``: for "6-12 months", the two ends belong together (``lo``/``hi`` of one range).

Units of one dimension convert exactly (mm ↔ cm, mm³ ↔ mL, % ↔ a probability written as a
fraction); nothing else is scaled.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: canonical unit → (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "mm": ("length", 1.0), "cm": ("length", 10.0), "m": ("length", 1000.0),
    "mm3": ("volume", 1.0), "ml": ("volume", 1000.0), "cm3": ("volume", 1000.0), "l": ("volume", 1e6),
    "%": ("fraction", 0.01), "fraction": ("fraction", 1.0),
    "g/mol": ("molar_mass", 1.0),
    "A2": ("area", 1.0),
    "HU": ("attenuation", 1.0),
    "months": ("months", 1.0), "weeks": ("weeks", 1.0), "days": ("days", 1.0),
    "years": ("years", 1.0),
    "mg": ("mass", 1.0), "g": ("mass", 1000.0), "kg": ("mass", 1e6),
    "fmol/mg": ("receptor", 1.0),
    "log mol/L": ("logs", 1.0),
    "s": ("time_s", 1.0), "ms": ("time_s", 0.001),
}

_UNIT_WORDS: list[tuple[str, str]] = [
    (r"mm(?:3|³|\^3)|cubic millimet(?:re|er)s?", "mm3"),
    (r"cm(?:3|³|\^3)|cc\b", "cm3"),
    (r"ml\b|millilit(?:re|er)s?", "ml"),
    (r"mm\b|millimet(?:re|er)s?", "mm"),
    (r"cm\b|centimet(?:re|er)s?", "cm"),
    (r"%|per ?cent\b|percent\b", "%"),
    (r"g/mol\b|da\b|daltons?\b|g mol-1", "g/mol"),
    (r"å²|a²|å\^?2|a\^2|angstroms?\s*(?:squared|²)?", "A2"),
    (r"hu\b|hounsfield(?: units?)?", "HU"),
    (r"months?\b|mo\b", "months"),
    (r"weeks?\b|wk\b", "weeks"),
    (r"days?\b", "days"),
    (r"years?(?:[- ]old)?\b|yrs?\b|yo\b|y/o\b|-year-old\b", "years"),
    (r"fmol(?:/mg)?\b", "fmol/mg"),
    (r"log ?mol/l\b", "log mol/L"),
    (r"mg\b", "mg"),
    (r"kg\b", "kg"),
    (r"ms\b", "ms"),
    (r"s\b|seconds?\b", "s"),
    # Chinese unit words (a Chinese answer writes 6-12个月, 62岁, 8毫米)
    (r"立方毫米", "mm3"), (r"毫米", "mm"), (r"厘米", "cm"), (r"毫升", "ml"), (r"个?月", "months"), (r"周", "weeks"),
    (r"天|日", "days"), (r"岁|周岁", "years"), (r"年", "years"), (r"毫克", "mg"), (r"千克|公斤", "kg"), (r"秒", "s"),
]
# "\b" after a unit would fail before a Chinese character ("7mm结节": both are word characters)
_UNIT_RE = re.compile(r"\s*-?\s*(?:" + "|".join(f"(?P<u{i}>{p.replace(chr(92) + 'b', '(?![A-Za-z0-9_])')})"
                                                 for i, (p, _) in enumerate(_UNIT_WORDS)) + ")", re.IGNORECASE)

#: label (regex, matched just before a number) → attribute
_LABELS: list[tuple[str, str]] = [
    (r"\blog ?p\b|\bclogp\b|\bxlogp\b", "logp"),
    (r"\blog ?s\b|solubility", "logs"),
    (r"molecular weight|\bmw\b|molecular mass|\bmass\b", "mw"),
    (r"\btpsa\b|polar surface(?: area)?", "tpsa"),
    (r"\bqed\b", "qed"),
    (r"\bsa(?: score)?\b|synthetic accessibility", "sa"),
    (r"\bhbd\b|(?:h-?bond|hydrogen[- ]bond) donors?", "hbd"),
    (r"\bhba\b|(?:h-?bond|hydrogen[- ]bond) acceptors?", "hba"),
    (r"rotatable bonds?|\brotb\b", "rotb"),
    (r"similarity|tanimoto", "similarity"),
    (r"blood[- ]brain|\bbbb\b", "bbb"),
    (r"probability|risk|chance|likelihood", "probability"),
    (r"hazard ratio|\bhr\b", "hr"),
    (r"c-?index", "cindex"),
    (r"\bauc\b", "auc"),
    (r"\bdice\b", "dice"),
    (r"(?:mean |long(?:[- ]axis)? |short(?:[- ]axis)? |)diameter|\bsize\b|measur\w*|\baxis\b", "diameter"),
    (r"\bvolume\b", "volume"),
    (r"attenuation|density|\bhu\b", "hu"),
    (r"\baged?\b|years? old|-year-old", "age"),
    (r"\bcount\b|number of\b|\bin total\b", "count"),
    # Chinese labels
    (r"恶性概率|概率|风险", "probability"), (r"平均直径|最长径|长径|直径|大小", "diameter"), (r"体积", "volume"),
    (r"年龄", "age"), (r"分子量", "mw"), (r"极性表面积", "tpsa"), (r"结节数|个数", "count"),
]
_LABEL_RES = [(re.compile(p, re.IGNORECASE), a) for p, a in _LABELS]

#: attributes implied by words in a data key (``mean_diameter_mm`` → diameter, mm)
_KEY_HINTS: list[tuple[str, str | None, str | None]] = [
    ("volume_mm3", "volume", "mm3"), ("mm3", "volume", "mm3"), ("volume", "volume", None),
    ("diameter", "diameter", "mm"), ("axis", "diameter", "mm"), ("size_mm", "diameter", "mm"), ("_mm", None, "mm"),
    ("hu", "hu", "HU"), ("logp", "logp", None), ("logs", "logs", None), ("tpsa", "tpsa", "A2"), ("mw", "mw", "g/mol"),
    ("qed", "qed", None), ("sa_score", "sa", None), ("hbd", "hbd", None), ("hba", "hba", None),
    ("rotatable", "rotb", None), ("similarity", "similarity", None), ("bbb", "bbb", None),
    ("probability", "probability", "fraction"), ("prob", "probability", "fraction"), ("risk", "probability", None),
    ("percent", None, "%"), ("age", "age", "years"), ("count", "count", None), ("months", None, "months"),
    ("hazard_ratio", "hr", None), ("c_index", "cindex", None),
]

_LINKING = {"is", "was", "are", "were", "of", "at", "about", "around", "approximately", "roughly", "nearly", "a",
            "an", "the", "its", "their", "his", "her", "predicted", "estimated", "computed", "calculated", "mean",
            "median", "be", "would", "will", "to", "malignancy", "cancer", "crossing", "score", "value", "by",
            "overall", "only", "just", "with", "equals", "equal", "ensemble", "model", "brock", "pancan", "axis",
            "long", "short", "ratio", "index", "rate", "than", "less", "more", "under", "below", "above", "over",
            "most", "least", "within", "between", "and", "from", "per"}
# ASCII word characters only: a number right after a Chinese character ("结节7") is still a number
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[-−]?\d+(?:\.\d+)?(?![A-Za-z0-9_.]*\d)")
_CITATION = re.compile(r"\[(\d+(?:\s*[,–-]\s*\d+)*)\]")
_LIST_MARKER = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)
_RANGE_SEP = re.compile(r"\s*(?:-|–|—|to|～|~|至|到)\s*")


@dataclass(frozen=True)
class Quantity:
    value: float
    decimals: int = 0
    unit: str | None = None
    attr: str | None = None
    range_end: str | None = None  # "lo" / "hi" when one end of a written range
    partner: float | None = None  # the range's other end
    text: str = ""

    def in_unit(self, unit: str) -> float | None:
        """This value converted to ``unit`` (None when the dimensions differ or a unit is missing)."""
        if self.unit is None or unit not in UNITS or self.unit not in UNITS:
            return None
        (d1, f1), (d2, f2) = UNITS[self.unit], UNITS[unit]
        return self.value * f1 / f2 if d1 == d2 else None


def normalise(text: str) -> str:
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


def _clean(text: str) -> str:
    return _LIST_MARKER.sub(" ", _CITATION.sub(" ", normalise(text)))


def numbers_in(text: str) -> list[str]:
    """Numbers stated in ``text``, ignoring citation markers and list numbering."""
    return [q.text for q in quantities_in(text)]


def _unit_after(text: str, end: int) -> str | None:
    m = _UNIT_RE.match(text, end)
    if not m:
        return None
    for i, (_, unit) in enumerate(_UNIT_WORDS):
        if m.group(f"u{i}"):
            return unit
    return None


def _attr_before(text: str, start: int, prev_end: int = 0) -> str | None:
    """The label written just before a number, in the same clause and after the previous number."""
    window = text[max(0, start - 48, prev_end):start]
    window = re.split(r"[.;!?\n]\s|,\s(?=[a-z])", window)[-1]
    best, best_pos = None, -1
    for rx, attr in _LABEL_RES:
        for m in rx.finditer(window):
            # only a label the number follows directly, or through linking words ("TPSA of about 63")
            between = re.findall(r"[^\W\d_]+", window[m.end():], re.UNICODE)
            if m.end() > best_pos and all(w.lower() in _LINKING for w in between):
                best, best_pos = attr, m.end()
    return best


def quantities_in(text: str) -> list[Quantity]:
    """Every number in ``text`` with the unit written after it and the label written before it."""
    text = _clean(text)
    out: list[Quantity] = []
    matches = list(_NUMBER.finditer(text))
    i, prev_end = 0, 0
    while i < len(matches):
        m = matches[i]
        tok = m.group(0)
        start = m.start()
        # "18-24 months": the hyphen is a range, not a minus sign.
        if tok.startswith("-") and start > 0 and text[start - 1].isdigit():
            tok, start = tok[1:], start + 1
        nxt = matches[i + 1] if i + 1 < len(matches) else None
        hi_tok = None
        if nxt is not None:
            gap = text[m.end():nxt.start()]
            if gap == "" and nxt.group(0).startswith("-"):  # "6-12": the hyphen is the separator
                hi_tok = nxt.group(0)[1:]
            elif gap.strip() and _RANGE_SEP.fullmatch(gap):  # "6 to 12", "6–12", "-2 to -1"
                hi_tok = nxt.group(0)
        if hi_tok is not None and nxt is not None:
            unit = _unit_after(text, nxt.end()) or _unit_after(text, m.end())
            attr = _attr_before(text, start, prev_end)
            lo_v, hi_v = float(tok), float(hi_tok)
            out.append(Quantity(lo_v, _decimals(tok), unit, attr, "lo", hi_v, tok))
            out.append(Quantity(hi_v, _decimals(hi_tok), unit, attr, "hi", lo_v, hi_tok))
            prev_end = nxt.end()
            i += 2
            continue
        out.append(Quantity(float(tok), _decimals(tok), _unit_after(text, m.end()), _attr_before(text, start, prev_end),
                            text=tok))
        prev_end = m.end()
        i += 1
    return out


def _decimals(tok: str) -> int:
    return len(tok.split(".")[1]) if "." in tok else 0


def _key_hint(key: str) -> tuple[str | None, str | None]:
    k = key.lower()
    attr = unit = None
    for frag, a, u in _KEY_HINTS:
        if frag in k:
            attr = attr or a
            unit = unit or u
    return attr, unit


def quantities_of(data: object, key: str = "") -> list[Quantity]:
    """Quantities in structured tool data: numbers take their attribute and unit from their key;
    strings are read as text."""
    out: list[Quantity] = []
    if isinstance(data, bool) or data is None:
        return out
    if isinstance(data, int | float):
        if math.isfinite(float(data)):
            attr, unit = _key_hint(key)
            out.append(Quantity(float(data), 12, unit, attr, text=str(data)))
        return out
    if isinstance(data, str):
        return quantities_in(data)
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(quantities_of(v, str(k)))
        return out
    if isinstance(data, list | tuple):
        for v in data:
            out.extend(quantities_of(v, key))
        return out
    return out
