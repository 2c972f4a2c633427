""""What if" questions: recognising them and the facts they change that are not model inputs.

"And if she were a current smoker?", "What if it were spiculated?", "如果结节有毛刺呢？". The tool
re-runs its model with the changed inputs and shows before → after; a changed fact that is not an
input of the model (smoking for Brock) is named with the reason from the model's own table
(:data:`specialists.clinical.brock.NOT_INPUTS`), and the probability is not re-run as if it changed.
"""

from __future__ import annotations

import re

from tools.facts.patient import read_smoking
from tools.facts.text import EN_NUMBER_WORD, Fact, en_number, fact

_WHAT_IF = re.compile(
    r"\bwhat\s+(?:if|about\s+if|would\s+(?:it|the\s+\w+)\s+be\s+if)\b|\b(?:and|but)\s+if\b|^\W*if\b|\bhow\s+about\s+if\b|"
    r"\bsuppos(?:e|ing)\b|\bassuming\b|\bhypothetically\b|\binstead\b|"
    r"\b(?:would|does|will|could)\s+(?:it|that|this|the\s+(?:risk|probability|result|estimate))\s+(?:be\s+)?"
    r"(?:change|differ|different|go\s+up|go\s+down)|\bhow\s+(?:would|does|much\s+would)\s+(?:it|that|the\s+\w+)\s+change\b|"
    r"\bif\s+(?:she|he|they|the\s+patient|it|the\s+nodule|there)\s+(?:were|was|had|is|has|stopped|quit|smoked|"
    r"never|did|got|became|turned|also)\b|\bhad\s+(?:she|he)\b|\bwere\s+(?:she|he|it)\b|"
    r"如果|假如|假设|倘若|要是|若是|若(?=[她他结患有])", re.IGNORECASE)


def what_if(text: str) -> re.Match[str] | None:
    """The words that make the question hypothetical, or None."""
    return _WHAT_IF.search(text)


_OLDER = re.compile(rf"(?P<n>\d{{1,2}}|{EN_NUMBER_WORD})\s+(?:more\s+)?years?\s+(?P<d>older|younger)|"
                    r"(?P<z>(?:大|小)(?P<zn>\d{1,2}|[一二两三四五六七八九十]+)岁)|"
                    r"(?P<zz>(?:年轻|年长|老)(?P<zzn>\d{1,2}|[一二两三四五六七八九十]+)岁)", re.IGNORECASE)


def age_change(text: str) -> tuple[float, Fact] | None:
    """A relative age ("10 years older", "5 years younger", "大10岁") as (years to add, evidence)."""
    from tools.facts.text import zh_number

    m = _OLDER.search(text)
    if not m:
        return None
    if m.group("n"):
        n = en_number(m.group("n"))
        sign = 1 if m.group("d").lower() == "older" else -1
    else:
        token = m.group("zn") or m.group("zzn")
        n = int(token) if token.isdigit() else zh_number(token)
        word = m.group("z") or m.group("zz")
        sign = 1 if word.startswith(("大", "年长", "老")) else -1
    if not n:
        return None
    return float(sign * n), fact("age", None, text, m)


_NOT_INPUT_PATTERNS: dict[str, str] = {
    "pack_years": r"\bpack[\s-]*years?\b|包年",
    "copd": r"\bCOPD\b|chronic\s+obstructive|慢阻肺|慢性阻塞性肺",
    "calcification": r"\bcalcif\w*|钙化",
    "growth": r"\bgr[eo]w(?:n|ing|th)?\b|\benlarg\w*|\bincreas\w*\s+in\s+size|\bdoubling\b|增大|长大|增长|生长",
    "pet_uptake": r"\bPET\b|\bSUV\w*|\bFDG\b|\bavid\w*|代谢增高|摄取",
    "prior_cancer": r"\b(?:history\s+of|prior|previous|past)\s+(?:\w+\s+)?(?:cancer|malignancy|carcinoma)|肿瘤史|癌症史|恶性肿瘤史",
    "asbestos": r"\basbestos\w*|石棉",
    "ethnicity": r"\b(?:asian|black|white|caucasian|hispanic|latino|chinese|ethnic\w*)\b|亚裔|种族|民族",
    "symptoms": r"\bcough\w*|\bh(?:a)?emoptysis|\bweight\s+loss|咳嗽|咯血|消瘦",
}


def not_input_mentions(text: str) -> list[Fact]:
    """Facts in a hypothetical that the Brock model does not take (smoking, COPD, calcification …)."""
    out: list[Fact] = []
    smoking = read_smoking(text)
    if smoking is not None:
        out.append(smoking)
    elif m := re.search(r"\b(?:\w+\s+){0,2}smok\w*|吸烟\w*|抽烟|戒烟", text, re.IGNORECASE):
        out.append(fact("smoking_status", None, text, m))
    for name, pattern in _NOT_INPUT_PATTERNS.items():
        if name == "copd" and re.search(r"emphysema|肺气肿", text, re.IGNORECASE):
            continue  # "COPD with emphysema on CT" changes the emphysema input instead
        m = re.search(pattern, text, re.IGNORECASE)
        if m:
            out.append(fact(name, True, text, m))
    return out
