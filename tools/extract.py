"""Deterministic argument extractors shared by the tools.

The embedded model is far too small to fill arguments (DATA.md measured ≤ 5/12), so the
`semantic` routing policy fills them from the text with these functions: SMILES strings,
numbers with units, comparators ("under 3", "≤ 400 Da", "at least 0.7") and named values.
"""

from __future__ import annotations

import re

# SMILES detection lives with the molecules specialist (one owner: specialists.molecules.mentions);
# re-exported here because the router and the tools import it from this module.
from specialists.molecules.mentions import SmilesToken, find_smiles  # noqa: E402,F401


_NUM = r"(?P<n>[-+−]?\d+(?:\.\d+)?)"
_UNIT_SCALE = {"mm": 1.0, "millimetre": 1.0, "millimeter": 1.0, "cm": 10.0, "centimetre": 10.0, "centimeter": 10.0}


def find_length_mm(text: str) -> float | None:
    """A length in the text (``7 mm``, ``1.2 cm``, ``8-mm``), in millimetres."""
    m = re.search(_NUM + r"\s*-?\s*(?P<u>mm|millimet(?:re|er)s?|cm|centimet(?:re|er)s?)\b", text, re.IGNORECASE)
    if not m:
        return None
    unit = m.group("u").lower().rstrip("s")
    return float(m.group("n").replace("−", "-")) * _UNIT_SCALE.get(unit, 1.0)


def find_age(text: str) -> float | None:
    """Age in years from '64-year-old', 'aged 64', 'age 64', '64 yo', '64 years old'."""
    for pat in (
        r"(?P<n>\d{1,3})\s*-?\s*(?:year|yr)s?\s*-?\s*old",
        r"\bage[d]?\s*(?:of\s*)?(?:is\s*)?(?P<n>\d{1,3})\b",
        r"(?P<n>\d{1,3})\s*(?:yo|y/o|y\.o\.)\b",
        r"\b(?P<n>\d{1,3})\s*(?:M|F)\b",
    ):
        m = re.search(pat, text, re.IGNORECASE if "M|F" not in pat else 0)
        if m:
            return float(m.group("n"))
    return None


def find_sex(text: str) -> str | None:
    t = text.lower()
    if re.search(r"\b(woman|female|she|her|lady|girl|mrs|ms)\b", t) or re.search(r"\b\d{1,3}\s*F\b", text):
        return "female"
    if re.search(r"\b(man|male|he|his|gentleman|boy|mr)\b", t) or re.search(r"\b\d{1,3}\s*M\b", text):
        return "male"
    return None


def find_comparator(text: str, names: list[str]) -> tuple[float | None, float | None] | None:
    """A numeric range for a property named by any of ``names``.

    Understands "logP under 3", "MW ≤ 400 Da", "QED at least 0.7", "TPSA between 40 and 90",
    "MW < 400". Returns ``(low, high)`` with None for an open side, or None if not mentioned.
    """
    name = "(?:" + "|".join(re.escape(n) for n in names) + ")"
    num = r"([-+−]?\d+(?:\.\d+)?)"
    unit = r"\s*(?:da|daltons?|g/mol|å²|a\^?2|å\^?2)?"
    t = text.replace("−", "-")
    m = re.search(name + r"\s*(?:of|:)?\s*between\s*" + num + r"\s*(?:and|-|to)\s*" + num, t, re.IGNORECASE)
    if m:
        a, b = float(m.group(1)), float(m.group(2))
        return (min(a, b), max(a, b))
    lows = r"(?:>=|≥|=>|>|above|over|more than|greater than|at least|no less than|minimum(?: of)?|min\.?)"
    highs = r"(?:<=|≤|=<|<|under|below|less than|at most|no more than|maximum(?: of)?|max\.?|up to)"
    m = re.search(name + r"\s*(?:of|should be|must be|is|:)?\s*" + highs + r"\s*" + num + unit, t, re.IGNORECASE)
    if m:
        return (None, float(m.group(1)))
    m = re.search(name + r"\s*(?:of|should be|must be|is|:)?\s*" + lows + r"\s*" + num + unit, t, re.IGNORECASE)
    if m:
        return (float(m.group(1)), None)
    return None


# --- clinical facts (clinical tools) -----------------------------------------------------------

_NEGATORS = r"(?:\bno\b|\bnot\b|\bnon\b|\bwithout\b|\bdenies\b|\bdenied\b|\bnegative for\b|\babsent\b|\bfree of\b|\bnor\b)"


def find_flag(text: str, term: str, *, negated_after: str | None = None) -> bool | None:
    """Whether ``term`` (a regex) is stated as present (True), stated as absent (False) or not named (None).

    A negator ("no", "without", "denies", "negative for", "non-") up to four words before the term,
    or ``negated_after`` matched right after it ("family history: none"), makes it False.
    """
    m = re.search(term, text, re.IGNORECASE)
    if not m:
        return None
    before = text[max(0, m.start() - 40):m.start()]
    words = re.findall(r"[\w-]+|[.;,]", before)
    tail = []
    for w in reversed(words):  # stop at the clause boundary
        if w in ".;,":
            break
        tail.insert(0, w)
    window = " ".join(tail[-4:]) + " "
    if re.search(_NEGATORS, window, re.IGNORECASE) or re.search(r"\bnon-?$", before, re.IGNORECASE):
        return False
    if negated_after and re.match(negated_after, text[m.end():m.end() + 30], re.IGNORECASE):
        return False
    return True


_WORD_NUMBERS = {"one": 1, "single": 1, "solitary": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def find_count(text: str, noun: str) -> int | None:
    """A count of ``noun`` ("3 nodules", "two nodules", "a solitary nodule", "nodule count 5")."""
    # up to two words between the number and the noun, but never a unit ("8 mm nodule" is a size)
    between = r"(?:(?!(?:mm|cm|millimet|centimet|years?|yo)\b)[\w-]+\s+){0,2}?"
    m = re.search(rf"\b(\d+|{'|'.join(_WORD_NUMBERS)})\s+{between}{noun}s?\b", text, re.IGNORECASE)
    if m:
        tok = m.group(1).lower()
        return int(tok) if tok.isdigit() else _WORD_NUMBERS[tok]
    m = re.search(rf"{noun}\s*(?:count|number)\s*(?:of|:|=|is)?\s*(\d+)", text, re.IGNORECASE)
    return int(m.group(1)) if m else None


def find_menopausal_status(text: str) -> str | None:
    """'pre' or 'post' from "postmenopausal", "pre-menopausal", "menopausal status: post"."""
    m = re.search(r"\b(pre|post|peri)\s*-?\s*menopaus", text, re.IGNORECASE)
    if m:
        return "pre" if m.group(1).lower() in ("pre", "peri") else "post"
    m = re.search(r"menopausal\s+status\s*(?:is|:|=)?\s*(pre|post)", text, re.IGNORECASE)
    return m.group(1).lower() if m else None


def find_grade(text: str) -> int | None:
    """Histological grade 1-3 from "grade 2", "grade II", "G3", "poorly/moderately/well differentiated"."""
    m = re.search(r"\b(?:grade|G)\s*(I{1,3}|[1-3])\b", text, re.IGNORECASE)
    if m:
        tok = m.group(1).upper()
        return {"I": 1, "II": 2, "III": 3}.get(tok) or int(tok)
    t = text.lower()
    if "poorly differentiated" in t:
        return 3
    if re.search(r"(moderately|intermediate)(ly)? differentiated|intermediate grade", t):
        return 2
    if "well differentiated" in t:
        return 1
    return None


def find_fmol(text: str, names: list[str]) -> float | None:
    """A receptor level in fmol/mg named by any of ``names`` ("PR 48 fmol", "progesterone receptor: 48 fmol/mg")."""
    name = r"\b(?:" + "|".join(names) + r")\b"
    m = re.search(name + r"[\w\s]{0,20}?(?:of|:|=|is|at)?\s*(?P<n>[-+−]?\d+(?:\.\d+)?)\s*(?:fmol)", text, re.IGNORECASE)
    return float(m.group("n").replace("−", "-")) if m else None


def find_patient_age(text: str) -> float | None:
    """``find_age`` plus the follow-up phrasing "she is 64" / "patient is 64"."""
    age = find_age(text)
    if age is None:
        m = re.search(r"\b(?:she|he|patient|the patient)\s+(?:is|was|were)\s+(\d{1,3})\b(?!\s*(?:mm|cm|%))", text, re.IGNORECASE)
        age = float(m.group(1)) if m else None
    return age


def find_nodule_type(text: str) -> str | None:
    """Lung-nodule type: 'part-solid' (subsolid, semi-solid), 'non-solid' (ground-glass, GGN) or 'solid'."""
    t = text.lower()
    if re.search(r"part[\s-]?solid|semi[\s-]?solid|subsolid|mixed[\s-]density", t):
        return "part-solid"
    if re.search(r"non[\s-]?solid|ground[\s-]?glass|\bggn\b|\bggo\b", t):
        return "non-solid"
    if re.search(r"\bsolid\b", t):
        return "solid"
    return None


def find_er_status(text: str) -> bool | None:
    """Oestrogen-receptor status from "ER-positive", "ER+", "estrogen receptor negative" (True = positive)."""
    m = re.search(r"\b(?:ER|o?estrogen[\s-]receptor)\s*(?:status\s*)?(?:is\s*|:\s*)?[\s-]*(positive|negative|pos|neg|\+|-|−)",
                  text, re.IGNORECASE)
    if not m:
        return None
    return m.group(1).lower() in ("positive", "pos", "+")


def find_positive_nodes(text: str) -> float | None:
    """Number of positive lymph nodes ("3 positive nodes", "6 involved nodes", "node-negative" = 0)."""
    if re.search(r"node[\s-]negative|no (?:positive|involved) (?:lymph )?nodes", text, re.IGNORECASE):
        return 0.0
    for pat in (r"(\d+)\s*(?:positive|involved|\+)\s*(?:axillary\s*)?(?:lymph\s*)?nodes?",
                r"(?:positive|involved)\s*(?:lymph\s*)?nodes?\s*(?::|=|of)?\s*(\d+)",
                r"(\d+)\s*(?:lymph\s*)?nodes?\s*(?:were\s*)?(?:positive|involved)"):
        m = re.search(pat, text, re.IGNORECASE)
        if m:
            return float(m.group(1))
    return None
