"""Patient facts read from clinical text: age, sex, family history of lung cancer, emphysema, smoking.

Each reader takes the normalised text (:func:`tools.facts.text.normalise`) and returns a
:class:`~tools.facts.text.Fact` or None when the text does not name the fact. A fact the text names
without settling it ("in her sixties", "COPD" for emphysema on CT) comes back with ``value`` None
or as an assumption with a ``note``, so the tool asks or shows it for confirmation, never guesses.
"""

from __future__ import annotations

import re

from tools.facts.text import EN_NUMBER_WORD, ZH_NUMBER, Fact, en_number, fact, negated, negation, zh_number

# A number that is a size, a dose, a count of years smoked or a time, not an age.
_NOT_AGE_AFTER = (r"(?!\s*(?:mm|cm|millimet|centimet|%|mg|ml|fmol|pack|py\b|cigarettes|per\s+day|/day|a\s+day|"
                  r"nodules?|lesions?|years?\s+ago|yrs?\s+ago|years?\s+(?:older|younger)|positive|involved|毫米|厘米|"
                  r"个|枚|包年|年前|[x*]\s*\d|\.\d))")
_SEX_F = r"(?:woman|female|lady|girl|f)"
_SEX_M = r"(?:man|male|gentleman|guy|boy|m)"

#: (pattern, priority): lower priority numbers win; within a priority the earliest match wins.
_AGE_PATTERNS: list[tuple[str, int, int]] = [
    (r"(?P<n>\d{1,3})\s*-?\s*(?:years?|yrs?|yr)\s*-?\s*(?:old|of\s+age)\b", 0, re.IGNORECASE),
    (r"(?P<n>\d{1,3})\s*-?\s*(?:yo|y/o|y\.o\.?|yoa)(?![a-z])(?!\s*=)", 0, re.IGNORECASE),
    # "64y F", "64y," but not "5y risk" or "2y follow-up"
    (r"(?P<n>\d{2,3})\s*y(?=\s*(?:[,;/)]|$)|\s+(?:[MFmf]\b|old\b|woman|man|female|male|lady|gentleman))", 0, 0),
    (rf"(?P<w>{EN_NUMBER_WORD})[\s-]+years?[\s-]+old\b", 0, re.IGNORECASE),
    (r"\baged?\s*(?:[:=]|of|is|was)?\s*(?P<n>\d{1,3})\b" + _NOT_AGE_AFTER, 0, re.IGNORECASE),
    (r"(?P<n>\d{1,3})\s*岁", 0, 0),
    (rf"(?P<z>{ZH_NUMBER})\s*岁", 0, 0),
    (r"年龄\s*[:=为是]?\s*(?P<n>\d{1,3})", 0, 0),
    # 67F, 67 M, 58/F, 68 f
    (r"(?<![\w.])(?P<n>\d{1,3})\s*/?\s*[MFmf](?![A-Za-z])" + _NOT_AGE_AFTER, 1, 0),
    # M 58, F, 55, ♀ 63
    (r"(?<![A-Za-z])[MF♀♂]\s*[,/]?\s*(?P<n>\d{1,3})\b" + _NOT_AGE_AFTER, 1, 0),
    (r"(?P<n>\d{1,3})\s*(?:years?|yrs?)\b(?!\s*(?:ago|older|younger|of\s+smoking|smok))" + _NOT_AGE_AFTER, 2, re.IGNORECASE),
    # she's 64, he is 62, if she were 75, patient is 70, pt 74
    (r"\b(?:she|he|patient|pt|the\s+patient)(?:'s|\s+is|\s+was|\s+were|\s+be|\s+now|\s+aged)?\s*(?:now\s+)?[:,]?\s*"
     r"(?P<n>\d{1,3})\b" + _NOT_AGE_AFTER, 2, re.IGNORECASE),
    # 64, a woman / 54, male / woman of 64 / female, 66 / Man (58)
    (rf"(?<![\w.])(?P<n>\d{{1,3}})\s*,\s*(?:an?\s+)?(?:{_SEX_F}|{_SEX_M})\b", 2, re.IGNORECASE),
    (rf"\b(?:{_SEX_F}|{_SEX_M}|patient|pt)\s*(?:,|\(|of|aged)?\s*(?P<n>\d{{1,3}})\b" + _NOT_AGE_AFTER, 3, re.IGNORECASE),
    # Mrs K is 58 / Mr T, 63 / Mrs L (69)
    (r"\b(?:Mrs|Mr|Ms|Miss|Mx)\.?\s+[A-Z][\w'-]*\s*(?:,|\(|is|aged)?\s*(?P<n>\d{1,3})\b" + _NOT_AGE_AFTER, 2, 0),
    (r"(?:男|女)(?:性|士)?\s*[,，]?\s*(?P<n>\d{1,3})(?![\d.])(?!\s*(?:mm|cm|毫米|厘米|个|枚))", 3, 0),
]
_AGE_RES = [(re.compile(p, f), prio) for p, prio, f in _AGE_PATTERNS]
_DECADE = re.compile(r"\bin\s+(?:her|his|their)\s+(?:early\s+|mid\s*-?\s*|late\s+)?(?P<d>\d0s|" + "|".join(
    ("twenties", "thirties", "forties", "fifties", "sixties", "seventies", "eighties", "nineties")) + r")\b|"
    r"(?P<z>\d{2}|" + ZH_NUMBER + r")\s*(?:多|余|几)\s*岁", re.IGNORECASE)


def read_age(text: str) -> Fact | None:
    """Age in years ("67-year-old", "67 yo", "aged 67", "67F", "M 58", "she's 64", "64, a woman",
    "a woman of 64", "sixty-five-year-old", "64岁", "六十八岁"); a decade alone is not an age."""
    found: list[tuple[int, int, Fact]] = []
    for rx, prio in _AGE_RES:
        for m in rx.finditer(text):
            g = m.groupdict()
            value = int(g["n"]) if g.get("n") else (en_number(g["w"]) if g.get("w") else zh_number(g.get("z") or ""))
            if value is None:
                continue
            found.append((prio, m.start(), fact("age", float(value), text, m)))
            break
    if found:
        return min(found, key=lambda t: (t[0], t[1]))[2]
    m = _DECADE.search(text)
    if m:
        return fact("age", None, text, m, note="an age range is not an age; the model needs the age in years")
    m = re.search(r"\b90\+", text)
    if m:  # the privacy filter writes ages over 89 as "90+" (HIPAA Safe Harbor)
        return fact("age", None, text, m, note="ages over 89 are withheld as '90+'; the model needs the age in years")
    return None


_SEX_TIERS: list[list[tuple[re.Pattern[str], str]]] = [
    [(re.compile(r"(?<![\w.])\d{1,3}\s*/?\s*([MFmf])(?![A-Za-z])(?!\s*(?:mm|cm))"), ""),
     (re.compile(r"(?<![A-Za-z])([MF])\s*[,/]?\s*\d{1,3}\b(?!\s*(?:mm|cm))"), ""),
     (re.compile(r"(?<![\w.])\d{1,3}\s*,\s*([MF])(?![A-Za-z])"), ""),
     (re.compile(r"\b(?:sex|gender)\s*[:=]?\s*(female|male|f|m)\b", re.IGNORECASE), ""),
     (re.compile(r"\d{1,3}\s*(?:yo|y/o|y\.o\.?|years?(?:\s+old)?|yrs?(?:\s+old)?)\s*,?\s*([MFmf])(?![A-Za-z])"), ""),
     (re.compile(r"♀"), "female"), (re.compile(r"♂"), "male"),
     (re.compile(r"性别\s*[:=]?\s*女"), "female"), (re.compile(r"性别\s*[:=]?\s*男"), "male")],
    [(re.compile(r"\b(?:Mrs|Ms|Miss|mrs)\b\.?"), "female"), (re.compile(r"\bMr\b\.?"), "male")],
    [(re.compile(r"\b(?:woman|female|lady|girl|postmenopausal|premenopausal)\b", re.IGNORECASE), "female"),
     (re.compile(r"\b(?:man|male|gentleman|gent|guy|boy)\b", re.IGNORECASE), "male"),
     (re.compile(r"(?:女性|女士|女患者|妇女|(?<![儿妇])女(?![儿婿友]))"), "female"),
     (re.compile(r"(?:男性|男士|男患者|先生|男(?![孩友]))"), "male")],
    [(re.compile(r"\b(?:she|her|hers|herself)\b|she's|她", re.IGNORECASE), "female"),
     (re.compile(r"\b(?:he|him|his|himself)\b|he's|(?<![其])他(?!们)", re.IGNORECASE), "male")],
]


def read_sex(text: str) -> Fact | None:
    """Sex from "67F", "M 58", "Mrs", "Mr", "woman", "♀", "男/女性"; pronouns only when nothing else says it.

    Tiers in that order; within a tier the earliest mention wins (the patient is named first, a
    relative later: "65-year-old man; his sister ...").
    """
    for level, tier in enumerate(_SEX_TIERS):
        hits = [(m.start(), value, m) for rx, value in tier for m in [rx.search(text)] if m]
        if hits:
            _, value, m = min(hits, key=lambda h: h[0])
            v = value or ("female" if m.group(1).lower() in ("f", "female") else "male")
            f = fact("sex", v, text, m)
            f.weak = level == len(_SEX_TIERS) - 1
            return f
    return None


# --- family history of lung cancer -----------------------------------------------------------------

_LUNG_CA = r"(?:lung\s*(?:cancer|ca\b|carcinoma|adenocarcinoma|malignancy|tumou?r)|bronchogenic|NSCLC|SCLC|肺癌)"
_FIRST_DEGREE = (r"(?:father|mother|dad|mum|mom|parents?|brothers?|sisters?|siblings?|sons?|daughters?|twin|"
                 r"first[\s-]degree\s+relatives?)")
_SECOND_DEGREE = r"(?:uncles?|aunts?|grand(?:father|mother|parents?|pa|ma)|cousins?|relatives?|nephews?|nieces?)"
_ZH_RELATIVE = r"(?:父亲|母亲|爸爸|妈妈|父母|哥哥|姐姐|弟弟|妹妹|兄弟|姐妹|兄妹|姐弟|儿子|女儿|子女|一级亲属)"
_FH_WORD = re.compile(r"\bfamily\s+(?:history|hx|h/o)\b|\bF/?Hx?\b|家族史|家族中", re.IGNORECASE)
_OTHER_CANCER = re.compile(r"^\s*(?:of|:)?\s*(?:breast|colon|colorectal|bowel|prostate|ovarian|pancreatic|gastric|"
                           r"stomach|skin|liver|kidney|bladder|cervical|uterine|thyroid|blood|brain)\b", re.IGNORECASE)


def read_family_history(text: str) -> Fact | None:
    """Family history of lung cancer: "FHx lung ca", "her father died of lung cancer", "sister had lung
    ca", "family history: none", "父亲死于肺癌", "无家族史". A second-degree relative is shown as such."""
    rel = re.compile(rf"\b(?P<r>{_FIRST_DEGREE}|{_SECOND_DEGREE})\b(?:(?!\bno\b)[^.;]){{0,45}}?{_LUNG_CA}|"
                     rf"{_LUNG_CA}\s+in\s+(?:(?:his|her|their|the)\s+)?(?:two\s+)?(?P<r2>{_FIRST_DEGREE}|{_SECOND_DEGREE})\b|"
                     rf"(?P<z>{_ZH_RELATIVE})(?:(?!无|没有|未)[^，,。.;；]){{0,10}}?肺癌", re.IGNORECASE)
    for m in rel.finditer(text):
        who = (m.group("r") or m.group("r2") or m.group("z") or "").lower()
        if negated(text, m.start(), m.start() + 1) or re.match(r"\s*(?:no|none)\b", text[m.start():]):
            return fact("family_history", False, text, m)
        note = None
        if re.fullmatch(_SECOND_DEGREE, who, re.IGNORECASE):
            note = "a second-degree relative; the PanCan family history is usually taken as a first-degree relative"
        return fact("family_history", True, text, m, note=note)
    m = _FH_WORD.search(text)
    if m:
        if _OTHER_CANCER.match(text[m.end():m.end() + 30]):
            return None  # a family history of another cancer says nothing about lung cancer
        tail = text[m.end():m.end() + 40]
        if re.match(r"\s*(?:of\s+)?(?:lung\s+(?:cancer|ca)\s*)?(?::|=|-|is|was)?\s*(?:none|negative|neg\b|nil|no\b|-?\s*ve\b|"
                    r"unremarkable|non-?contributory)", tail, re.IGNORECASE):
            return fact("family_history", False, text, (m.start(), m.end() + len(tail.split(",")[0])))
        neg = negation(text, m.start(), m.end())
        return fact("family_history", neg is None, text, neg or m)
    return None


# --- emphysema (on CT) ---------------------------------------------------------------------------------

_EMPHYSEMA = re.compile(r"\bemphysema\w*|\bbullous\b|\bbullae\b|肺气肿|肺大疱", re.IGNORECASE)
_COPD = re.compile(r"\bCOPD\b|chronic\s+obstructive|慢阻肺|慢性阻塞性肺", re.IGNORECASE)


def read_emphysema(text: str) -> Fact | None:
    """Emphysema on CT. COPD alone is not emphysema for Brock (the model's predictor is emphysema seen on
    the CT): it is shown as an assumption (no emphysema) with a note, for the clinician to confirm."""
    for m in _EMPHYSEMA.finditer(text):
        neg = negation(text, m.start(), m.end())
        return fact("emphysema", neg is None, text, neg or m)
    m = _COPD.search(text)
    if m:
        return fact("emphysema", False, text, m, source="default",
                    note="COPD is stated, but the Brock model's emphysema means emphysema seen on CT, which is not "
                         "stated; confirm whether the CT shows emphysema")
    return None


def read_copd(text: str) -> Fact | None:
    m = _COPD.search(text)
    if not m:
        return None
    neg = negation(text, m.start(), m.end())
    return fact("copd", neg is None, text, neg or m)


# --- smoking (not a Brock input; a guideline risk factor) -------------------------------------------------

_SMOKING: list[tuple[str, str, str | None]] = [
    (r"\b(?:has\s*n[o']t|never|not\s+yet)\s+(?:quit|stopped)\b|(?:没|未|还没|仍未|尚未)(?:有)?戒烟", "current", None),
    (r"\bnever[\s-]*(?:a\s+)?smok\w*|\bhas\s+never\s+smoked|\blife-?long\s+non-?smoker|\bdenies\s+smoking|"
     r"\bno\s+(?:history\s+of\s+)?smoking(?:\s+history)?\b|"
     r"(?:从来|从)?(?:不|没有?|未|无|否认)(?:曾|有)?(?:吸|抽)(?:过)?烟(?:史)?|非(?:吸|抽)烟者?", "never", None),
    (r"\bnon-?\s*smok\w*|\bnot\s+a\s+smoker|\bdoes\s*n[o']t\s+smoke", "never",
     "'non-smoker' read as never smoked; a former smoker is sometimes called a non-smoker too"),
    (r"\bex-?\s*smoker|\bformer(?:ly)?\s+(?:heavy\s+)?smok\w*|\bprevious\s+smoker|\bquit\s+(?:smoking|\d|in\b)|"
     r"\bstopped\s+smoking|\bused\s+to\s+smoke|已经?戒烟|戒烟|既往(?:吸|抽)烟|曾经?(?:吸|抽)(?:过)?烟|以前(?:吸|抽)(?:过)?烟|"
     r"过去(?:吸|抽)(?:过)?烟", "former", None),
    (r"\bcurrent(?:ly)?\s+(?:heavy\s+)?smok\w*|\bactive\s+smoker|\bstill\s+smok\w*|\bsmokes\b|\bis\s+a\s+smoker|"
     r"(?:现|目前|仍|仍在|现在|一直)(?:在)?(?:吸|抽)烟|(?:吸|抽)烟者|抽烟", "current", None),
    (r"\b(?:a|heavy)\s+smoker\b", "current", "'smoker' read as a current smoker"),
]
_SMOKING_RES = [(re.compile(p, re.IGNORECASE), v, n) for p, v, n in _SMOKING]


def read_smoking(text: str) -> Fact | None:
    """Smoking status: current, former or never (not a Brock input; Fleischner's risk category uses it)."""
    for rx, value, note in _SMOKING_RES:
        m = rx.search(text)
        if m:
            return fact("smoking_status", value, text, m, note=note)
    return None


def read_pack_years(text: str) -> Fact | None:
    m = re.search(r"(?P<n>\d{1,3}(?:\.\d)?)\s*-?\s*(?:pack[\s-]*years?|py\b|包年)", text, re.IGNORECASE)
    return fact("pack_years", float(m.group("n")), text, m) if m else None
