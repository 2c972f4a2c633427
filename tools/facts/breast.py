"""Early-breast-cancer facts read from clinical text, for ``clinical_risk`` and ``treatment_benefit``.

Oestrogen-receptor status and levels, progesterone-receptor level, histological grade, tumour size,
positive lymph nodes and menopausal status, in English and Chinese. Each reader returns a
:class:`~tools.facts.text.Fact` (evidence = the words read) or None when the text does not say.
"""

from __future__ import annotations

import re

from tools.facts.text import Fact, fact

_POS = r"(?:positive|pos\b|\+|\(\+\)|阳性)"
_NEG = r"(?:negative|neg\b|-(?![\d])|\(-\)|阴性)"
_ER = r"(?:\bER(?![A-Za-z0-9])|\bo?estrogen[\s-]+receptors?\b|雌激素受体)"


def read_er_status(text: str) -> Fact | None:
    """Oestrogen-receptor status: "ER+", "ER-positive", "ER pos", "oestrogen receptor negative", "ER阳性"."""
    m = re.search(rf"{_ER}\s*(?:status\s*)?(?:is\s*|:\s*)?[\s-]*(?P<s>{_POS}|{_NEG})", text, re.IGNORECASE)
    if not m:
        m = re.search(rf"\b(?:hormone[\s-]+receptor|HR)[\s-]*(?P<s>{_POS}|{_NEG})", text, re.IGNORECASE)
        if not m:
            return None
        note = "hormone-receptor status read as ER status; confirm the ER result"
        return fact("er_positive", bool(re.match(_POS, m.group("s"), re.IGNORECASE)), text, m, note=note)
    return fact("er_positive", bool(re.match(_POS, m.group("s"), re.IGNORECASE)), text, m)


_ROMAN = {"I": 1, "II": 2, "III": 3}


def read_grade(text: str) -> Fact | None:
    """Histological grade 1-3: "grade 2", "grade II", "G3", "Nottingham grade 2", "poorly differentiated", "2级"."""
    m = re.search(r"\b(?:(?:histological|nottingham|bloom[\s-]+richardson|SBR|elston)\s+)?(?:grade|G)\s*[:=]?\s*"
                  r"(?P<g>III|II|I|[1-3])(?![\w.])", text, re.IGNORECASE)
    if m:
        g = m.group("g").upper()
        return fact("grade", _ROMAN.get(g) or int(g), text, m)
    m = re.search(r"(?:组织学)?(?:分级|级别)\s*[:=为]?\s*(?P<g>III|II|I|[1-3])\s*级?|(?P<h>[1-3一二三]|III|II|I)\s*级(?!亲属)", text)
    if m:
        g = (m.group("g") or m.group("h")).upper()
        return fact("grade", _ROMAN.get(g) or {"一": 1, "二": 2, "三": 3}.get(g) or int(g), text, m)
    for pat, g in ((r"poorly[\s-]+differentiated|低分化", 3), (r"moderately[\s-]+differentiated|intermediate[\s-]+grade|中分化", 2),
                   (r"well[\s-]+differentiated|高分化", 1)):
        m = re.search(pat, text, re.IGNORECASE)
        if m:
            return fact("grade", g, text, m)
    return None


def read_menopausal_status(text: str) -> Fact | None:
    """'pre' or 'post' ("postmenopausal", "post-menopausal", "绝经后"); perimenopausal is neither: asked."""
    m = re.search(r"\b(?P<s>pre|post|peri)\s*-?\s*menopaus\w*|(?P<z>绝经前|绝经后|未绝经|已绝经|围绝经)", text, re.IGNORECASE)
    if not m:
        m = re.search(r"menopausal\s+status\s*(?:is|:|=)?\s*(?P<s>pre|post)", text, re.IGNORECASE)
        return fact("menopausal_status", m.group("s").lower(), text, m) if m else None
    token = (m.group("s") or m.group("z") or "").lower()
    if token in ("peri", "围绝经"):
        return fact("menopausal_status", None, text, m,
                    note="perimenopausal is neither pre- nor postmenopausal for the model; it needs one of the two")
    return fact("menopausal_status", "pre" if token in ("pre", "绝经前", "未绝经") else "post", text, m)


def read_positive_nodes(text: str) -> Fact | None:
    """Positive lymph nodes: "3 positive nodes", "7/15 nodes positive", "2 involved nodes", "node-negative" = 0."""
    m = re.search(r"node[\s-]+negative|\bN0\b|no\s+(?:positive|involved)\s+(?:lymph\s+)?nodes|淋巴结(?:转移)?\s*(?:阴性|无转移|0)",
                  text, re.IGNORECASE)
    if m:
        return fact("positive_nodes", 0.0, text, m)
    for pat in (r"(?P<n>\d+)\s*/\s*\d+\s*(?:lymph\s*)?nodes?\s*(?:were\s*)?(?:positive|involved|\+)",
                r"(?P<n>\d+)\s*(?:positive|involved|\+)\s*(?:axillary\s*)?(?:lymph\s*)?nodes?",
                r"(?:positive|involved)\s*(?:lymph\s*)?nodes?\s*(?::|=|of)?\s*(?P<n>\d+)",
                r"(?P<n>\d+)\s*(?:axillary\s*)?(?:lymph\s*)?nodes?\s*(?:were\s*|are\s*)?(?:positive|involved)",
                r"淋巴结转移\s*(?P<n>\d+)\s*(?:枚|个)|(?P<m>\d+)\s*(?:枚|个)淋巴结(?:转移|阳性)"):
        m = re.search(pat, text, re.IGNORECASE)
        if m:
            return fact("positive_nodes", float(m.group("n") if m.groupdict().get("n") else m.group("m")), text, m)
    return None


def read_fmol(text: str, name: str, names: list[str]) -> Fact | None:
    """A receptor level in fmol/mg ("PR 48 fmol", "progesterone receptor: 48 fmol/mg")."""
    rx = r"\b(?:" + "|".join(names) + r")\b[\w\s]{0,20}?(?:of|:|=|is|at)?\s*(?P<n>\d+(?:\.\d+)?)\s*(?:fmol)"
    m = re.search(rx, text, re.IGNORECASE)
    return fact(name, float(m.group("n")), text, m) if m else None


def read_progesterone_fmol(text: str) -> Fact | None:
    return read_fmol(text, "progesterone_fmol", ["PR", "PgR", "progesterone receptors?", "孕激素受体"])


def read_estrogen_fmol(text: str) -> Fact | None:
    return read_fmol(text, "estrogen_fmol", ["ER", "o?estrogen receptors?", "雌激素受体"])


_TUMOUR_SIZE = re.compile(r"(?<![A-Za-z0-9./])(?P<n>\d+(?:\.\d+)?)\s*-?\s*(?P<u>mm|cm|millimet(?:re|er)s?|"
                          r"centimet(?:re|er)s?|毫米|厘米)(?![a-z])", re.IGNORECASE)


def read_tumour_size_mm(text: str) -> Fact | None:
    """Tumour size in millimetres ("2 cm tumour", "T 22 mm", "tumour 1.5 cm", "肿瘤大小2.5cm")."""
    for m in _TUMOUR_SIZE.finditer(text):
        scale = 10.0 if m.group("u").lower().startswith(("c", "厘")) else 1.0
        return fact("tumour_size_mm", round(float(m.group("n")) * scale, 3), text, m)
    return None
