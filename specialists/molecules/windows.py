"""Numbers in design requests: property windows (with the comparator's strictness), counts, similarity.

Every reading records the span of text it used, so what no rule read can be reported back
(:mod:`specialists.molecules.unread`). When two readings set the same side of one property, the
later one in the text wins ("fewer than 3 HBA... wait, make it HBA ≤ 4").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from galen.errors import InvalidInput
from specialists.molecules.lexicon import (
    AFTER_NUMBER,
    AREA_UNIT,
    BRIDGE,
    CMP,
    INTEGER_PROPS,
    MW_UNIT,
    NAMES,
    NUM,
    POSTFIX,
    RANGE_SEP,
    UNIT,
    comparator,
    name_pattern,
    postfix,
    to_float,
)
from specialists.molecules.request import MAX_COUNT, Range


@dataclass(frozen=True)
class _Hit:
    key: str
    pos: int
    span: tuple[int, int]
    nums: tuple[tuple[int, int], ...]
    low: float | None = None
    high: float | None = None
    low_strict: bool = False
    high_strict: bool = False


def _bound(key: str, pos: int, m: re.Match, cmp: str, num_group: int) -> _Hit:
    side, strict = comparator(cmp)
    v = to_float(m.group(num_group))
    nums = (m.span(num_group),)
    if side == "high":
        return _Hit(key, pos, m.span(), nums, high=v, high_strict=strict)
    return _Hit(key, pos, m.span(), nums, low=v, low_strict=strict)


def _window(key: str, m: re.Match, g1: int, g2: int) -> _Hit | None:
    a, b = to_float(m.group(g1)), to_float(m.group(g2))
    if a > b:
        return None  # "5-3" is not a window
    return _Hit(key, m.start(), m.span(), (m.span(g1), m.span(g2)), low=a, high=b)


_ANY_NAME = "|".join(alt for key in NAMES for alt in NAMES[key] + AFTER_NUMBER.get(key, []))


def _hits(text: str) -> list[_Hit]:
    """Every window reading, name-first readings before number-first ones."""
    first: list[_Hit] = []
    later: list[_Hit] = []
    flags = re.I
    for key in NAMES:
        name = name_pattern(key)
        after = name_pattern(key, after_number=True)
        for m in re.finditer(name + BRIDGE + r"(?:between|from)\s*" + NUM + UNIT + RANGE_SEP + NUM + UNIT, text, flags):
            if (h := _window(key, m, 1, 2)) is not None:
                first.append(h)
        for m in re.finditer(name + BRIDGE + NUM + UNIT + r"\s*(?:-|–|—|~|to)\s*" + NUM + UNIT + r"(?!\s*%)", text, flags):
            if (h := _window(key, m, 1, 2)) is not None:
                first.append(h)
        # interval notation: "logP in [1, 3]", "TPSA in (40, 90]"
        for m in re.finditer(name + r"\s*(?:in|within|∈|:|=)?\s*([\[(])\s*" + NUM + r"\s*[,;]\s*" + NUM + r"\s*([\])])",
                             text, flags):
            a, b = to_float(m.group(2)), to_float(m.group(3))
            if a <= b:
                first.append(_Hit(key, m.start(), m.span(), (m.span(2), m.span(3)), low=a, high=b,
                                  low_strict=m.group(1) == "(", high_strict=m.group(4) == ")"))
        # "logP < 3 and > 1", "MW under 400 but above 250"
        for m in re.finditer(name + BRIDGE + CMP + r"\s*" + NUM + UNIT + r"\s*(?:,\s*)?(?:and|but|&)\s+" + CMP + r"\s*"
                             + NUM + UNIT + rf"(?!\s*(?:{_ANY_NAME}))", text, flags):
            first += [_bound(key, m.start(), m, m.group(1), 2), _bound(key, m.start(), m, m.group(3), 4)]
        for m in re.finditer(name + BRIDGE + CMP + r"\s*" + NUM + UNIT, text, flags):
            first.append(_bound(key, m.start(), m, m.group(1), 2))
        for m in re.finditer(name + BRIDGE + NUM + UNIT + r"\s*" + POSTFIX, text, flags):
            v = to_float(m.group(1))
            side = postfix(m.group(2))
            first.append(_Hit(key, m.start(), m.span(), (m.span(1),), **({"high": v} if side == "high" else {"low": v})))
        if key in INTEGER_PROPS:
            for m in re.finditer(name + BRIDGE + r"(?:exactly|precisely|=|of)\s*" + NUM + r"(?![\d.])", text, flags):
                v = to_float(m.group(1))
                first.append(_Hit(key, m.start(), m.span(), (m.span(1),), low=v, high=v))
        # number first: "at most 2 H-bond donors", "1-2 HBD", "5 or fewer rotatable bonds", "exactly 2 HBD"
        for m in re.finditer(r"between\s*" + NUM + r"\s*and\s*" + NUM + r"\s*" + after, text, flags):
            if (h := _window(key, m, 1, 2)) is not None:
                later.append(h)
        for m in re.finditer(r"(?<![\w.])" + NUM + r"\s*(?:-|–|—|to)\s*" + NUM + UNIT + r"\s*" + after, text, flags):
            if (h := _window(key, m, 1, 2)) is not None:
                later.append(h)
        for m in re.finditer(CMP + r"\s*" + NUM + r"\s*(?:,\s*)?(?:and|but)\s+" + CMP + r"\s*" + NUM + UNIT + r"\s*" + after,
                             text, flags):  # "at least 3 but no more than 5 HBA"
            later += [_bound(key, m.start(), m, m.group(1), 2), _bound(key, m.start(), m, m.group(3), 4)]
        for m in re.finditer(CMP + r"\s*" + NUM + UNIT + r"\s*" + after, text, flags):
            later.append(_bound(key, m.start(), m, m.group(1), 2))
        for m in re.finditer(NUM + r"\s*" + POSTFIX + r"\s*" + after, text, flags):
            v = to_float(m.group(1))
            side = postfix(m.group(2))
            later.append(_Hit(key, m.start(), m.span(), (m.span(1),), **({"high": v} if side == "high" else {"low": v})))
        if key in INTEGER_PROPS:
            for m in re.finditer(r"\b(?:exactly|precisely|with|having|has|and|only)\s+" + NUM + r"\s+" + after, text, flags):
                v = to_float(m.group(1))
                later.append(_Hit(key, m.start(), m.span(), (m.span(1),), low=v, high=v))
    # A weight or an area with its unit and no property name: "under 400 Da", "300-400 g/mol", "< 90 Å²"
    for key, unit in (("mw", MW_UNIT), ("tpsa", AREA_UNIT)):
        for m in re.finditer(r"(?:between|from)\s*" + NUM + r"\s*(?:" + unit + r")?\s*(?:and|to|-|–)\s*" + NUM + r"\s*" + unit,
                             text, flags):
            if (h := _window(key, m, 1, 2)) is not None:
                later.append(h)
        for m in re.finditer(r"(?<![\w.])" + NUM + r"\s*(?:-|–|—|to)\s*" + NUM + r"\s*" + unit, text, flags):
            if (h := _window(key, m, 1, 2)) is not None:
                later.append(h)
        for m in re.finditer(CMP + r"\s*" + NUM + r"\s*" + unit, text, flags):
            later.append(_bound(key, m.start(), m, m.group(1), 2))
    return first + later


_CONC = {"m": 0.0, "mm": -3.0, "µm": -6.0, "um": -6.0, "μm": -6.0, "nm": -9.0}


def _special_units(text: str) -> list[_Hit]:
    """Windows whose unit changes the number: "MW < 0.4 kDa" (400 Da), "solubility > 100 µM" (logS > −4)."""
    out = []
    for m in re.finditer(name_pattern("mw") + BRIDGE + CMP + r"\s*" + NUM + r"\s*kda\b", text, re.I):
        side, strict = comparator(m.group(1))
        v = to_float(m.group(2)) * 1000
        out.append(_Hit("mw", m.start(), m.span(), (m.span(2),), **({"high": v, "high_strict": strict} if side == "high"
                                                                    else {"low": v, "low_strict": strict})))
    for m in re.finditer(r"(?:solubility|soluble)" + BRIDGE + r"(?:to\s+)?" + CMP + r"\s*" + NUM + r"\s*(mm|µm|um|μm|nm|m)\b",
                         text, re.I):
        import math

        side, strict = comparator(m.group(1))
        conc = to_float(m.group(2))
        if conc <= 0:
            continue
        v = round(math.log10(conc) + _CONC[m.group(3).lower()], 4)
        out.append(_Hit("logs", m.start(), m.span(), (m.span(2),), **({"high": v, "high_strict": strict} if side == "high"
                                                                      else {"low": v, "low_strict": strict})))
    return out


def find_ranges(text: str, used: list[tuple[int, int]]) -> dict[str, Range]:
    """Property windows in ``text``; the spans read are appended to ``used``."""
    accepted: list[_Hit] = []
    taken: list[tuple[int, int]] = []
    for h in _special_units(text) + _hits(text):
        if any(a < e and s < b for s, e in h.nums for a, b in taken):
            continue  # this number was already read, by a reading that names its property more directly
        accepted.append(h)
        taken += list(h.nums)
    out: dict[str, Range] = {}
    for h in sorted(accepted, key=lambda h: h.pos):
        old = out.get(h.key, Range())
        low, ls = (h.low, h.low_strict) if h.low is not None else (old.low, old.low_strict)
        high, hs = (h.high, h.high_strict) if h.high is not None else (old.high, old.high_strict)
        out[h.key] = Range(low=low, high=high, low_strict=ls, high_strict=hs)
        used.append(h.span)
    return out


_COUNT_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100, "one hundred": 100,
    "a dozen": 12, "dozen": 12, "half a dozen": 6, "two dozen": 24, "a couple of": 2, "a couple": 2, "a pair of": 2,
    "a few": 5, "several": 5, "some": 10, "a thousand": 1000, "thousand": 1000, "a million": 1_000_000,
    "million": 1_000_000, "a billion": 1_000_000_000,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_UNITS = {k: v for k, v in _COUNT_WORDS.items() if k in ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")}
_NOUNS = ("analogs", "analogues", "molecules", "compounds", "candidates", "structures", "derivatives", "variants",
          "ideas", "designs", "suggestions", "leads", "hits", "chemotypes", "scaffolds", "options", "examples")
_MODS = r"(?:(?:new|novel|close|distinct|different|more|diverse|unique|de\s+novo)\s+)*"
_ADJ = r"(?:[a-z][a-z0-9\-]*,?\s+){0,3}?"


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def is_molecule_noun(word: str) -> bool:
    """"analogs", "compound", and their typos ("analouges", "compunds", "molecuels")."""
    w = word.lower().rstrip(".,;:)")
    if not w or not w.isalpha():
        return False
    for n in _NOUNS:
        if w in (n, n[:-1]) or (len(w) >= 6 and w[0] == n[0] and _edit_distance(w, n) <= 2):
            return True
    return False


def _count_value(tok: str) -> float | None:
    t = tok.lower().replace(",", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        return float(t)
    m = re.fullmatch(r"(" + "|".join(_TENS) + r")[\s-](" + "|".join(_UNITS) + r")", t)
    if m:
        return float(_TENS[m.group(1)] + _UNITS[m.group(2)])
    return float(_COUNT_WORDS[t]) if t in _COUNT_WORDS else None


def find_count(text: str, notes: list[str], used: list[tuple[int, int]]) -> int | None:
    """How many molecules the request asks for, or None when it does not say."""
    t = text.lower()

    def free(a: int, b: int) -> bool:
        return not any(u0 < b and a < u1 for u0, u1 in used)

    words = "|".join(sorted((re.escape(w) for w in _COUNT_WORDS), key=len, reverse=True))
    tens = "|".join(_TENS) + r")[\s-](?:" + "|".join(_UNITS)
    number = rf"(\d[\d,]*(?:\.\d+)?\s*(?:k|thousand|million|billion)?|(?:{tens})|{words})"
    found: tuple[float, tuple[int, int]] | None = None
    for m in re.finditer(rf"(?<![\w.,\-]){number}(?=\s)", t):
        if not free(*m.span(1)):
            continue
        # the noun within the next four words: "five soluble, BBB-penetrant analogs", "7 ibuprofen-like compounds"
        following = re.findall(r"[^\s]+", t[m.end():m.end() + 80])[:5]
        noun = next((i for i, w in enumerate(following) if is_molecule_noun(w)), None)
        if noun is None or any(re.search(r"[.;:()]$", w) for w in following[:noun]):
            continue
        raw = m.group(1).strip()
        if re.fullmatch(r"\d+\.\d+", raw):
            continue  # "0.6 similarity": a decimal is never a count
        scale = next((s for w, s in (("k", 1e3), ("thousand", 1e3), ("million", 1e6), ("billion", 1e9))
                      if re.fullmatch(rf"\d[\d,.]*\s*{w}", raw)), 1.0)
        value = _count_value(re.sub(r"\s*(?:k|thousand|million|billion)$", "", raw)) if scale != 1.0 else _count_value(raw)
        if value is not None:
            found = (value * scale, m.span(1))
            break
    if found is None:  # "five of them", "(10)", ", 8,", "5 please"
        for pat in (rf"(?<![\w.]){number}\s+(?:of\s+them|please|pls|in\s+total|total|molecules?\s+please)\b",
                    r"\b(?:top|best|first)\s+(\d{1,3})\b",
                    r"\b(?:give|need|want|get|generate|design|make|suggest|propose|show|return)\s+(?:me\s+|us\s+)?(\d{1,3})"
                    r"(?=\s*(?:[,.;:]|$|\s+(?:with|that|having|please)\b))",
                    r"(?:^|[,;(—–:]\s*)(\d{1,3})\s*(?=[,;)—–]|$|\s+(?:please|pls)\b)"):
            for m in re.finditer(pat, t):
                v = _count_value(m.group(1).strip())
                if v is not None and free(*m.span(1)) and 1 <= v <= 10 * MAX_COUNT:
                    found = (v, m.span(1))
                    break
            if found:
                break
    if found is None:
        return None
    used.append(found[1])
    n = int(found[0])
    if n > MAX_COUNT:
        notes.append(f"{n:,} molecules were asked for; one request returns at most {MAX_COUNT}, so the count was "
                     f"capped at {MAX_COUNT}.")
        return MAX_COUNT
    if n < 1:
        raise InvalidInput(f"A count of {n} molecules was asked for; ask for at least one.")
    return n


def find_similarity(text: str, used: list[tuple[int, int]], notes: list[str]) -> tuple[float, bool] | None:
    """(smallest Tanimoto similarity, strict) the request sets, or None."""
    name = r"(?:tanimoto(?:\s+similarity)?|similarity(?:\s+to\s+the\s+(?:reference|parent|lead))?|\bsim\b|\btc\b)"
    for pat, num_first in ((name + BRIDGE + CMP + r"\s*" + NUM, False),
                           (CMP + r"\s*" + NUM + r"\s*%?\s*(?:" + name + r"|similar\b)", False),
                           (name + BRIDGE + r"(?:of\s+)?" + NUM + r"(?!\s*[-–])", True)):
        m = re.search(pat, text, re.I)
        if m:
            if num_first:
                v, strict = to_float(m.group(1)), False
            else:
                side, strict = comparator(m.group(1))
                if side == "high":
                    notes.append(f"'{m.group(0)}' sets a ceiling on similarity, which is not supported: not applied.")
                    used.append(m.span())
                    return None
                v = to_float(m.group(2))
            if v > 1 and v <= 100:
                v /= 100  # "similarity ≥ 60 %"
            used.append(m.span())
            return v, strict
    if re.search(r"\b(?:close|closely\s+related|very\s+similar|near)\s+(?:analog|analogue|neighbou?r|derivative)", text, re.I):
        notes.append("'close analogs' was read as Tanimoto similarity ≥ 0.55 (Morgan radius 2) to a reference.")
        return 0.55, False
    return None
