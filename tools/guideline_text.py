"""Reading guideline facts from a question: nodules with their sizes and types, and the case.

"Baseline LDCT: 5 mm solid nodule RUL and a 9 mm solid nodule LLL" is two nodules at a baseline
screening exam; "part-solid 14 mm, solid component 7 mm" is one nodule whose solid component is
7 mm; "it was 4 mm on last year's screen" is a prior size; "all under 6 mm" is a bound, not a
size. The nodules themselves, their types and solid components, smoking, family history,
emphysema, age and "what if" are read by the clinical fact reader (:mod:`tools.facts`, their one
owner); this module adds what only the guidelines use: prior sizes, size bounds and bands,
volumes, the screening or incidental setting, baseline or follow-up, new / growing / stable,
airway nodules, cysts, benign features, Herder probability and volume doubling time. What is not
stated is left unknown, never guessed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from tools.extract import find_flag
from tools.facts.hypothetical import what_if
from tools.facts.nodules import read_nodules
from tools.facts.patient import read_age, read_emphysema, read_family_history, read_pack_years, read_smoking
from tools.facts.text import normalise

#: Case facts (not nodule facts) a decision reads: Fleischner's risk and scope, the screening setting and exam.
DECISION_CASE_FACTS = ("setting", "exam", "risk", "age", "known_cancer", "immunosuppressed")

_N = r"(\d+(?:\.\d+)?)"
_UNIT = r"\s*-?\s*(mm|millimet(?:re|er)s?|cm|centimet(?:re|er)s?)\b(?!\s*(?:3|³|\^3))"
_FROM_TO = re.compile(r"\bfrom\s+" + _N + r"\s*(?:mm)?\s*(?:to|→|->)\s*" + _N + _UNIT, re.I)
_BAND = re.compile(r"(?:\bbetween\s+" + _N + r"\s*(?:mm)?\s*(?:to|-|–|and)|" + _N + r"\s*(?:mm)?\s*(?:to|-|–))\s*"
                   + _N + _UNIT, re.I)
#: Several sizes with one unit ("4 and 7 mm", "3, 4 and 5 mm"): one nodule each ("between 6 and 8 mm" is a band).
_LIST = re.compile(r"(?<![\d.,])(?<!between )" + _N + r"((?:\s*(?:mm)?\s*,\s*\d+(?:\.\d+)?)*)\s*(?:mm)?\s*,?\s*(?:and|&)\s*"
                   + _N + _UNIT, re.I)
_BOUND = re.compile(r"(under|below|smaller than|less than|sub-|<|over|above|larger than|greater than|more than|>|"
                    r"小于|低于|不足|不到|不超过|大于|超过|高于)\s*" + _N + _UNIT, re.I)
#: Chinese bounds written after the size: "6mm以下", "都在6毫米以内", "8mm以上"
_BOUND_AFTER_ZH = re.compile(_N + r"\s*(mm|毫米|cm|厘米)\s*(以下|以内|之内|以上)", re.I)
_BELOW_WORDS = ("under", "below", "smaller than", "less than", "sub-", "<", "小于", "低于", "不足", "不到", "不超过")
_VOLUME = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(?:mm3|mm³|mm\^3|cubic millimet\w*|cu\.? ?mm)", re.I)

# ASCII boundaries, not \b: "BTS指南" names BTS (a Chinese character is a word character too)
#: Fleischner as clinicians type it: "fleischner", "flieschner", "fleishner", "fleischener", "fliechner".
FLEISCHNER = r"\bfl(?:ei|ie|e|i)s?c?h?e?ner\b"
_GUIDELINES = (("fleischner-2017", FLEISCHNER + r"|弗莱施纳|弗莱施奈尔"),
               ("lung-rads-2022", r"lung[\s-]?rads|lungrads|(?<![A-Za-z0-9])LR(?![A-Za-z0-9])|"
                                  r"美国放射(?:学|医师)?(?:学会|协会)"),
               ("bts-2015", r"(?<![A-Za-z0-9])BTS(?![A-Za-z0-9])|british thoracic|英国胸(?:科|部|腔)(?:医师)?(?:学会|协会)"))

@dataclass
class Mention:
    """One nodule the question describes (position in the text, and its facts)."""

    start: int
    facts: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, str] = field(default_factory=dict)


@dataclass
class QuestionFacts:
    """Everything the question states that a guideline decision can use."""

    named: str | None = None
    weighed: list[str] = field(default_factory=list)  # several guidelines named: the question asks which applies
    bts_drivers: list[str] = field(default_factory=list)
    case: dict[str, Any] = field(default_factory=dict)
    case_detail: dict[str, str] = field(default_factory=dict)
    mentions: list[Mention] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)  # nodule facts stated without a size
    attr_detail: dict[str, str] = field(default_factory=dict)
    count: int | None = None  # "three nodules", "several" (2 = at least two)
    target: str | None = None  # "largest" | "smallest": which earlier nodule "it" is
    addition: bool = False  # "also", "another", "a second" nodule
    what_if: bool = False
    intent: bool = False  # asks for follow-up, management or a category
    corrects: bool = False  # "sorry, it's 9 mm not 7": a size that replaces the one said before
    corrected_from: float | None = None  # the size it replaces, when named ("not 7")
    alone: bool = False  # "the 6 mm one on its own", "if it were the only nodule": one nodule of the case


@functools.cache
def _phrases() -> dict[str, list[tuple[Any, re.Pattern[str], str]]]:
    raw = yaml.safe_load(resources.files("tools").joinpath("guideline_phrases.yaml").read_text(encoding="utf-8"))
    return {fact: [(e["value"], re.compile(e["pattern"], re.I), e["why"]) for e in entries] for fact, entries in raw.items()}


def phrase(fact: str, text: str) -> tuple[Any, str] | None:
    """(value, why) of the first entry of ``fact`` in ``guideline_phrases.yaml`` that ``text`` matches."""
    for value, pattern, why in _phrases()[fact]:
        m = pattern.search(text)
        if m:
            return value, f"'{m.group(0).strip()}': {why}"
    return None


def _mm(value: str, unit: str) -> float:
    return float(value) * (10.0 if unit.lower().startswith("c") else 1.0)


_PRIOR = re.compile(r"(?:\bwas|\bwere|\bpreviously|\bprior(?:ly)?|\bup from|\bgrown from|\bincreased from|"
                    r"\bmeasured)\s+(?:only\s+)?" + _N + _UNIT, re.I)
#: The clause before "was/were N mm" makes it a supposition ("what if it were 5 mm", "suppose it was 9 mm").
_HYPOTHETICAL_BEFORE = re.compile(r"\b(?:if|suppose|supposing|imagine|assuming)\b[^.?!;]*$", re.I)
_UP_TO = re.compile(r"\bup to\s+" + _N + _UNIT, re.I)
_READER_TYPES = {"solid": "solid", "part-solid": "part-solid", "non-solid": "ground-glass"}


def _reader_facts(nodule: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One nodule of :func:`tools.facts.nodules.read_nodules` as (position, guideline facts)."""
    facts: dict[str, Any] = {}
    size, mean = nodule.get("nodule_size_mm"), nodule.get("mean_diameter_mm")
    if size is not None and size.value is not None:
        if mean is not None and mean.value is not None:
            facts["long_mm"], facts["mean_mm"] = float(size.value), float(mean.value)
        else:
            facts["diameter_mm"] = float(size.value)
    comp = nodule.get("solid_component_mm")
    if comp is not None and comp.value is not None:
        facts["solid_mm"] = float(comp.value)
    kind = nodule.get("nodule_type")
    if kind is not None:
        if kind.value in _READER_TYPES:
            facts["type"] = _READER_TYPES[kind.value]
        elif re.search(r"sub[\s-]*solid", kind.evidence, re.I):
            facts["type"] = "subsolid"
    spic = nodule.get("spiculation")
    if spic is not None and spic.value is not None:
        facts["spiculated"] = bool(spic.value)
    starts = [f.start for f in nodule.values() if getattr(f, "start", -1) >= 0]
    return (min(starts) if starts else 0), facts


def _mentions(text: str) -> tuple[list[Mention], Any]:
    """Nodules with sizes (and the reader's count); solid components and prior sizes go to their nodule."""
    t = normalise(text)
    chars = list(t)
    own: list[Mention] = []
    priors: list[tuple[int, float]] = []

    def mask(m: re.Match) -> None:
        chars[m.start():m.end()] = " " * (m.end() - m.start())

    def free(m: re.Match) -> bool:
        return all(c != " " or t[i] == " " for i, c in enumerate(chars[m.start():m.end()], start=m.start()))

    for m in _FROM_TO.finditer(t):
        own.append(Mention(m.start(), {"diameter_mm": _mm(m.group(2), m.group(3))}))
        priors.append((m.start(), _mm(m.group(1), m.group(3))))
        mask(m)
    for m in _VOLUME.finditer(t):
        own.append(Mention(m.start(), {"volume_mm3": float(m.group(1).replace(",", ""))}))
        mask(m)
    for m in _NOW_SIZE.finditer(t):
        # "showing a 6 mm solid nodule - now 8 mm": one nodule, its earlier size and its size now
        start = max((b.end() for b in re.finditer(r"[.?!。？！](?!\d)", t[:m.start()])), default=0)
        earlier = [e for e in _SIZE.finditer(t, start, m.start()) if free(e)
                   and not re.search(r"solid\s+(?:component|part|portion|core)s?\s*(?:of|measuring|is|was)?\s*$",
                                     t[max(0, e.start() - 40):e.start()], re.I)]
        if not earlier or not free(m):
            continue
        e = earlier[-1]
        own.append(Mention(m.start(), {"diameter_mm": _mm(m.group(1) or m.group(3), m.group(2) or m.group(4))}))
        priors.append((m.start(), _mm(e.group(1), e.group(2))))
        mask(e)
        mask(m)
    for m in _PRIOR.finditer(t):
        before = t[max(0, m.start() - 60):m.start()]
        if free(m) and m.group(0).lower().startswith(("was", "were")) and _HYPOTHETICAL_BEFORE.search(before) \
                and not re.search(r"solid\s+(?:component|part|portion|core)s?\s*$", before, re.I):
            # "what if it were 5 mm": a supposed size, not the size at an earlier scan
            own.append(Mention(m.start(), {"diameter_mm": _mm(m.group(1), m.group(2))}))
            mask(m)
            continue
        # "its solid component were 7 mm" is a solid component, not a prior size
        if free(m) and not re.search(r"solid\s+(?:component|part|portion|core)s?\s*$", t[max(0, m.start() - 40):m.start()],
                                     re.I):
            priors.append((m.start(), _mm(m.group(1), m.group(2))))
            mask(m)
    # a hypothetical solid component ("if its solid component were 7 mm"); the clinical reader reads
    # components after "of / measuring / is / was" only, and would take this one for a nodule
    for m in re.finditer(r"solid\s+(?:component|part|portion|core)s?\s+(?:were|would be|became|becomes|grew to|"
                         r"increased to|now)\s+" + _N + _UNIT, t, re.I):
        if free(m):
            own.append(Mention(m.start(), {"solid_mm": _mm(m.group(1), m.group(2))}))
            mask(m)
    for m in _UP_TO.finditer(t):
        if free(m):
            own.append(Mention(m.start(), {"diameter_mm": _mm(m.group(1), m.group(2)), "largest": True}))
            mask(m)
    for m in _BOUND.finditer(t):
        if free(m):
            v = _mm(m.group(2), m.group(3))
            below = m.group(1).lower() in _BELOW_WORDS
            own.append(Mention(m.start(), {"range_mm": (float("-inf"), v) if below else (v, float("inf"))}))
            mask(m)
    for m in _BOUND_AFTER_ZH.finditer(t):
        if free(m):
            v = float(m.group(1)) * (10.0 if m.group(2).lower() in ("cm", "厘米") else 1.0)
            below = m.group(3) != "以上"
            own.append(Mention(m.start(), {"range_mm": (float("-inf"), v) if below else (v, float("inf"))}))
            mask(m)
    groups: list[list[Mention]] = []
    for m in _LIST.finditer(t):
        if free(m):
            values = [m.group(1), *re.findall(r"\d+(?:\.\d+)?", m.group(2) or ""), m.group(3)]
            group = [Mention(m.start() + i, {"diameter_mm": _mm(v, m.group(4))}) for i, v in enumerate(values)]
            own.extend(group)
            groups.append(group)
            mask(m)
    for m in _BAND.finditer(t):
        a, b = _mm(m.group(1) or m.group(2), m.group(4)), _mm(m.group(3), m.group(4))
        if free(m) and a < b:
            own.append(Mention(m.start(), {"range_mm": (a, b)}))
            mask(m)
    read = read_nodules("".join(chars))
    found = [_reader_facts(n) for n in read.nodules]
    mentions = list(own)
    for pos, facts in found:
        if any(k in facts for k in ("diameter_mm", "long_mm")):
            mentions.append(Mention(pos, facts))
        elif own:  # "solid nodules, all under 6 mm": the words describe the bounded nodule
            host = min(own, key=lambda x: abs(x.start - pos))
            for k, v in facts.items():
                host.facts.setdefault(k, v)
        elif facts:
            mentions.append(Mention(pos, facts))  # "part-solid with a 7 mm solid component": no size of its own
    for group in groups:  # "two GGNs of 4 and 7 mm": the words describe every size of the list
        for k in ("type", "spiculated"):
            shared = next((g.facts[k] for g in group if k in g.facts), None)
            for g in group:
                if shared is not None:
                    g.facts.setdefault(k, shared)
    mentions.sort(key=lambda x: x.start)
    for pos, v in priors:
        host = min(mentions, key=lambda x: abs(x.start - pos)) if mentions else None
        if host is None:
            host = Mention(pos)
            mentions.append(host)
        host.facts["prior_mm"] = v
    for mention in mentions:
        before = t[max(0, mention.start - 25):mention.start]
        if re.search(r"\b(largest|biggest|dominant|the larger)\W*(?:one|nodule)?\W*(?:is|of|measur\w*|at)?\s*$",
                     before, re.I):
            mention.facts["largest"] = True
    return mentions, read


_RISK_WORD = re.compile(
    r"\b(low|high)[\s-]risk\b|(低|高)(?:危|风险)(?!因素)|"  # 低危/高危 (Chinese)
    r"\brisk(?:\s+(?:is|was|category|level|status|group|profile))?\s*[:=]?\s*(?:is\s+)?(low|high)\b"  # "risk: low"
    r"(?!\s*[-\s]?(?:dose|grade|flow|resolution))", re.I)
#: Risk factors said to be present or absent without naming them ("有危险因素", "no risk factors").
_RISK_FACTORS = re.compile(
    r"(?P<none>\b(?:no|without|denies|none of the)\s+(?:known\s+|other\s+|lung[\s-]cancer\s+)*risk[\s-]factors?\b|"
    r"(?:无|没有|不存在|未见|否认)(?:任何|其他)?(?:肺癌)?(?:的)?(?:危险|高危|风险)因素)|"
    r"\b(?:has|have|having|with|had)\s+(?:(?:known|several|multiple|other|some|lung[\s-]cancer)\s+)*risk[\s-]factors?\b|"
    r"(?:有|具有|存在|伴有|合并)(?:肺癌)?(?:的)?(?:危险|高危|风险)因素", re.I)
_EXPOSURE = re.compile(r"asbestos|radon|uranium|pulmonary fibrosis|\bIPF\b|interstitial lung disease", re.I)


def _risk(text: str) -> tuple[str | None, str]:
    """Fleischner's risk category from the question: stated, or from its risk factors.

    High risk is a history of smoking or another known risk factor (exposure to asbestos, radon or
    uranium, a first-degree relative with lung cancer, emphysema, pulmonary fibrosis); low risk is
    minimal or no smoking and no other risk factor. Smoking, family history and emphysema are read
    by the clinical fact reader (:mod:`tools.facts.patient`).
    """
    t = normalise(text)
    m = _RISK_WORD.search(t)
    if m:
        word = m.group(1) or m.group(3) or {"低": "low", "高": "high"}[m.group(2)]
        return word.lower(), f"'{m.group(0)}' in the question"
    m = _RISK_FACTORS.search(t)
    if m:
        return ("low" if m.group("none") else "high"), f"'{m.group(0)}' in the question"
    smoking, packs = read_smoking(t), read_pack_years(t)
    family, emph = read_family_history(t), read_emphysema(t)
    exposure = _EXPOSURE.search(t)
    if exposure and find_flag(t, re.escape(exposure.group(0))) is not False:
        return "high", f"'{exposure.group(0)}', a risk factor"
    for f, why in ((family, "a family history of lung cancer"), (emph, "emphysema")):
        if f is not None and f.value is True and f.source != "default":
            return "high", f"'{f.evidence}': {why}, a risk factor"
    if smoking is not None and smoking.value in ("former", "current"):
        return "high", f"'{smoking.evidence}': a smoking history"
    if packs is not None and packs.value and packs.value > 0:
        return "high", f"'{packs.evidence}': a smoking history"
    if smoking is not None and smoking.value == "never":
        return "low", f"'{smoking.evidence}' (and no other risk factor stated)"
    return None, ""


#: A screening examination said not to be one ("not a screening study", "non-screening CT").
_NOT_SCREENING = re.compile(r"\b(?:not|non|isn'?t|wasn'?t|never)[\s-]+(?:(?:a|an|from|part of|in|on|done for|for)\s+)*"
                            r"(?:(?:the|a|lung[\s-]cancer|lung)\s+)*screen\w*|\boutside (?:of )?(?:the |a )?(?:lung[\s-]cancer )?"
                            r"screen\w*", re.I)


#: "Baseline" naming an earlier scan ("at baseline it was 6 mm", "her baseline LDCT last year showed").
_PAST_BASELINE = re.compile(
    r"\b(?:from|since|vs\.?|versus|compared (?:with|to)|than)\s+(?:the\s+|her\s+|his\s+|their\s+)?baseline\b|"
    r"\bbaseline\b(?:\s+(?:LDCT|CT|scan|screen\w*|study|exam\w*))?[^.;?!]{0,25}?\b(?:last year|a year ago|\d+ (?:months?|"
    r"years?) ago|previously|showed|showing|was|were|had|measured)\b|基线(?:时|检查|CT|LDCT)?[^。；？！]{0,10}(?:去年|之前|当时)", re.I)
#: A current size after an earlier one in the same sentence ("a 6 mm solid nodule - now 8 mm").
_NOW_SIZE = re.compile(r"\bnow\s+(?:measur\w*\s+|is\s+|at\s+|about\s+|~\s*)?" + _N + _UNIT + r"|现在\s*" + _N + r"\s*(mm|毫米)",
                       re.I)
_SIZE = re.compile(_N + _UNIT, re.I)
#: A correction of what was said before ("sorry, it's 7 mm not 9", "I meant 5 mm").
_CORRECTION = re.compile(r"\b(?:sorry|correction|i meant|my (?:bad|mistake)|typo)\b|\bactually\b|"
                         r"\b(?:not|instead of|rather than)\s+\d+(?:\.\d+)?(?![\d.])(?!\s*(?:mm|cm)?\s*(?:[\w-]+\s+)?(?:solid|part|nodule|lesion))|"
                         r"不好意思|抱歉|更正|说错了|搞错了|应该是|其实是", re.I)
_CORRECTED_FROM = re.compile(r"\b(?:not|instead of|rather than)\s+(\d+(?:\.\d+)?)\s*(mm|cm)?\b|不是\s*(\d+(?:\.\d+)?)", re.I)
#: One nodule of several looked at by itself ("the 6 mm one on its own", "if it were the only nodule").
_ALONE = re.compile(r"\bon (?:its|their) own\b|\bby itself\b|\balone\b|\b(?:the )?only (?:one|nodule|lesion|finding)\b|"
                    r"\bin isolation\b|\bjust (?:that|this|the [\w.\s-]{1,12}) one\b|单独|单看|只看", re.I)


def _case_facts(text: str, q: QuestionFacts) -> None:
    def put(key: str, value: Any, why: str) -> None:
        q.case[key], q.case_detail[key] = value, why

    risk, why = _risk(text)
    if risk:
        put("risk", risk, why)
    age = read_age(normalise(text))
    if age is not None and isinstance(age.value, int | float):
        put("age", float(age.value), f"'{age.evidence}'")
    # the patient's own cancer, not a relative's, and not the name of a screening programme
    own = re.sub(r"family history of lung cancer|lung cancer screening|risk of lung cancer|lung cancer risk|"
                 r"(?:father|mother|brother|sister|sibling|parent)\w* (?:had|has|with|died of) lung cancer", " ", text,
                 flags=re.I)
    m = re.search(r"known (?:primary )?(?:cancer|malignancy|carcinoma)|(?:history of|with|has|had|treated for) "
                  r"(?:\w+ ){0,2}(?:cancer|carcinoma|melanoma|sarcoma|lymphoma)|\w+ cancer\b|staging CT", own, re.I)
    if m:
        put("known_cancer", True, f"'{m.group(0)}'")
    m = re.search(r"immuno(?:compromis|suppress)\w*|transplant\w*|\bHIV\b", text, re.I)
    if m:
        put("immunosuppressed", True, f"'{m.group(0)}'")
    # "not a screening study", "non-screening CT", "outside the screening programme": not the setting
    setting_text = _NOT_SCREENING.sub(" ", text)
    if re.search(r"screen(?:ing|ed)?\b|\bLDCT|low[\s-]dose (?:CT|computed)|筛查|低剂量", setting_text, re.I):
        put("setting", "screening", "a screening CT, as the question says")
    elif re.search(r"incidental\w*|\b(?:CTPA|cardiac CT|abdominal CT|trauma CT)\b|CT (?:done )?for (?:trauma|abdominal|"
                   r"pain|chest pain|a )|偶然|偶发|意外发现", setting_text, re.I):
        put("setting", "incidental", "an incidental finding, as the question says")
    base = re.search(r"\bbaseline\b|\b(?:first|1st) (?:screening|screen|round|LDCT|low-dose)|initial screen|"
                     r"\bround (?:1|one)\b|\bT0 (?:screen\w*|LDCT|round)|prevalence (?:screen|"
                     r"round)|基线|(?:首次|初次|第一次|头一次|首轮)(?:(?:做|进行|参加|接受)的?)?(?:肺癌)?(?:筛查|LDCT|低剂量|CT)|"
                     r"(?:首次|初次|第一次|头一次)(?:做|进行|参加|接受)", text, re.I)
    follow = re.search(r"follow[\s-]?up (?:lung )?(?:cancer )?(?:screen\w*|LDCT|low-dose|exam\w*|round)|screen\w* follow[\s-]?up|annual (?:screen\w*|"
                       r"LDCT|low-dose|repeat)|this year'?s|last year|previous (?:screen\w*|LDCT|CT|scan|exam|study)|"
                       r"prior (?:screen\w*|LDCT|scan|exam|study)|incidence (?:screen|round)|repeat screen|"
                       r"\d+[\s-]?(?:months?|mo)\.? (?:follow[\s-]?up|f/u|scan|LDCT|CT)|since the (?:last|previous|prior)|"
                       r"\bf/u (?:screen\w*|LDCT|low-dose)|\b(?:2nd|3rd|[4-9]th|second|third|fourth|fifth) (?:annual |yearly )?"
                       r"(?:screen\w*|round|LDCT|low-dose)|\bround [2-9]\b|\byear[\s-]?[2-9] (?:screen\w*|LDCT|low-dose)|"
                       r"年度(?:筛查|复查|LDCT|低剂量)|随访筛查|复查筛查|去年|上次|前次|之前的(?:筛查|CT)|"
                       r"(?:第[二三四五六]次|第[二三四五六]年|再次)(?:做|进行|参加)?的?(?:肺癌)?(?:筛查|LDCT|低剂量)", text, re.I)
    past = _PAST_BASELINE.search(text)
    if past and (follow or _NOW_SIZE.search(normalise(text))):
        # "a baseline LDCT last year showing 6 mm - now 8 mm": the baseline was the earlier scan
        put("exam", "follow-up", f"'{past.group(0)}': the baseline was an earlier scan")
    elif base:
        put("exam", "baseline", f"'{base.group(0)}'")
    elif follow:
        put("exam", "follow-up", f"'{follow.group(0)}'")
    found = phrase("incomplete", text)
    if found:
        put("incomplete", found[0], found[1])
    for key in ("no_nodules", "significant_other", "lymphadenopathy", "metastatic"):
        if found := phrase(key, text):
            put(key, found[0], found[1])


def _nodule_attrs(text: str, q: QuestionFacts) -> None:
    def put(key: str, value: Any, why: str = "") -> None:
        q.attrs[key], q.attr_detail[key] = value, why

    m = re.search(r"perifissural|juxta[\s-]?pleural|subpleural", text, re.I)
    if m:
        put("juxtapleural", True, f"'{m.group(0)}'")
    if found := phrase("typical_perifissural", text):
        put("typical_perifissural", True, found[1])
    m = re.search(r"airway nodule|endobronchial|endotracheal|intraluminal|(?:segmental|subsegmental|lobar|main(?:stem)?)"
                  r" bronch\w*|\btrachea\w*", text, re.I)
    if m:
        put("type", "airway", f"'{m.group(0)}'")
        sub = re.search(r"subsegmental", text, re.I)
        put("airway_level", "subsegmental" if sub else "segmental", f"'{(sub or m).group(0)}'")
    m = re.search(r"popcorn|(?:complete(?:ly)?|diffuse(?:ly)?|central(?:ly)?|laminated|concentric)\s+calcifi\w*|calcified "
                  r"(?:nodule|granuloma)|benign calcification|fat[\s-]containing|(?:contains|containing|with) "
                  r"(?:macroscopic )?fat\b|macroscopic fat|hamartoma", text, re.I)
    if m:
        put("benign", True, f"'{m.group(0)}'")
    spic = find_flag(text, r"spicul\w*")
    if spic is not None:
        put("spiculated", spic)
    # enlarged lymph nodes are a finding of their own (Lung-RADS 4X), not growth of the nodule
    text = re.sub(r"(?:enlarged|bulky|patholog\w*) (?:\w+ ){0,2}(?:lymph )?nodes|lymphadenopathy", " ", text, flags=re.I)
    if re.search(r"not (?:growing|grown|enlarg\w*)|no (?:interval )?growth|without growth|没有(?:增大|长大)|未(?:增大|长大)",
                 text, re.I):
        put("status", "stable", "no growth, as the question says")
    elif found := phrase("slow_growth", text):
        put("status", found[0], found[1])
    elif (m := re.search(r"(?:new|newly (?:developed|appeared)|enlarging|growing|increasing|larger) solid "
                         r"(?:component|part|portion)|solid (?:component|part|portion) (?:has )?(?:appeared|developed|"
                         r"grew|grown|increased|enlarged)|develop\w* (?:a )?solid (?:component|part|portion)|"
                         r"实性成分(?:出现|增大|增加|新出现)|出现(?:了)?实性成分", text, re.I)):
        # a subsolid nodule gaining or enlarging a solid part is growth (not a new nodule)
        put("status", "growing", f"'{m.group(0)}'")
    elif (m := re.search(r"\bnew\b(?!\s+(?:categor\w*|scan|CT|LDCT|study|exam\w*|images?|recommendation\w*|management|"
                         r"plan|guidelines?|patient|pt|referral|lung[\s-]?rads|classification|interval|advice|f/u|"
                         r"follow[\s-]?up)\b)|not (?:there|present|seen) (?:on|at|before|previously|last)|newly \w+|appeared since|"
                         r"新发|新出现|新增", text, re.I)):
        put("status", "new", f"'{m.group(0)}'")
    elif (m := re.search(r"\bgr[eo]w(?:n|ing|s)?\b|increas\w* in size|enlarg\w*|has grown|增大|长大", text, re.I)):
        put("status", "growing", f"'{m.group(0)}'")
    elif (m := re.search(r"\bstable\b|unchanged|no (?:interval )?change|not changed|稳定|无变化|没有变化", text, re.I)):
        put("status", "stable", f"'{m.group(0)}'")
    m = re.search(r"persist\w*|still present|remains? (?:on|at) (?:the )?(?:follow-up|3[\s-]month)|持续存在|仍然存在", text, re.I)
    if m:
        put("persistent", True, f"'{m.group(0)}'")
    if re.search(r"proven benign|benign (?:on|at|after) (?:biopsy|work-?up)|biopsy (?:showed|was) benign", text, re.I):
        put("proven_benign", True)
    if q.attrs.get("status") == "stable" or q.case.get("exam") == "follow-up":
        # "a category 3 nodule", "a cat 3", "LR 4A"; 4A, 4B and 4X are categories even when bare ("a 4A 9 mm nodule")
        m = re.search(r"(?:category|\bcat\.?|lung[\s-]?rads|\bLR)\s*-?\s*(0|1|2|3|4a|4b|4x)\b|(?<![\w.-])(4[abx])\b",
                      text, re.I)
        if m:
            put("prior_category", (m.group(1) or m.group(2)).upper(), f"'{m.group(0)}'")
    for key, name in (("brock", r"brock"), ("herder", r"herder")):
        m = re.search(name + r"[^%\d.]{0,40}?(\d+(?:\.\d+)?)\s*(?:%|per\s?cent\b|pct\b)", text, re.I)
        if m:
            put(key, float(m.group(1)), "")
    m = re.search(r"(?:volume doubling time|\bVDT\b|doubling time)[^\d]{0,25}(\d+(?:\.\d+)?)\s*(days?|d\b|months?|years?)",
                  text, re.I)
    if m:
        v, unit = float(m.group(1)), m.group(2).lower()
        days = v * (30.44 if unit.startswith("month") else 365.25 if unit.startswith("year") else 1)
        put("vdt_days", round(days), "" if unit.startswith("d") else f"{v:g} {unit}")
    if re.search(r"no volumetry|volumetry (?:is )?not available|without volumetry|only diameters?", text, re.I):
        put("volumetry", False, "as the question says")
    if re.search(r"\bcyst", text, re.I):
        put("type", "cyst", "an atypical pulmonary cyst")
        wall = re.search(r"(thin|thick)[\s-]walled", text, re.I)
        if wall:
            put("cyst_wall", wall.group(1).lower())
        put("multilocular", bool(re.search(r"multilocular|multiloculated", text, re.I)))
        if found := phrase("cyst_change", text):
            put("cyst_change", found[0], found[1])


def parse_question(text: str) -> QuestionFacts:
    """The guideline facts ``text`` states."""
    q = QuestionFacts()
    names = [gid for gid, pat in _GUIDELINES if re.search(pat, text, re.I)]
    if len(names) == 1:
        q.named = names[0]
    elif names:  # "Fleischner or Lung-RADS?", "BTS vs Fleischner": the setting decides (knowledge.decisions.choose)
        q.weighed = names
    if q.named is None and not q.weighed and re.search(r"\bcategory\b|\bcat\b", text, re.I):
        q.named = "lung-rads-2022"  # categories exist only in Lung-RADS
    if re.search(r"\bU\.?K\b\.?|united kingdom|\bNHS\b|\bgreat britain\b", text, re.I):
        q.bts_drivers.append("UK practice")
    _case_facts(text, q)
    _nodule_attrs(text, q)
    for key, why in (("brock", "the Brock probability"), ("herder", "the Herder probability"),
                     ("vdt_days", "the volume doubling time")):
        if key in q.attrs:
            q.bts_drivers.append(why)
    q.mentions, read = _mentions(text)
    if read.count is not None and read.count.value:
        q.count = int(read.count.value)
    elif re.search(r"\b(?:several|multiple|numerous|a few|many)\s+(?:[\w-]+\s+){0,3}?(?:nodules|GG[NO]s|lesions)|"
                   r"\b(?:nodules|GG[NO]s)\b|多发|多个结节|多枚|数个结节|若干", text, re.I) and len(q.mentions) <= 1:
        q.count = 2  # several, number not stated
    if re.search(r"\b(?:larger|largest|bigger|biggest|dominant)\b(?: one| nodule)?", text, re.I) and not any(
            mm.facts.get("largest") for mm in q.mentions):
        q.target = "largest"
    elif re.search(r"\b(?:smaller|smallest)\b(?: one| nodule)", text, re.I):
        q.target = "smallest"
    q.addition = bool(re.search(r"\balso\b|\banother\b|\bsecond\b|\bthird\b|\badditional\b|\bfurther\b|\bin addition\b|"
                                r"\bas well\b|\bplus\b|\btoo\b|还有|另有|另外|此外|又(?:发现|有|见)|另一[个枚处]|第[二三四]个|也有|同时(?:发现|有)",
                                text, re.I))
    if len([m for m in q.mentions if any(k in m.facts for k in ("diameter_mm", "long_mm"))]) <= 1:
        q.corrects = bool(_CORRECTION.search(text)) and not q.addition
        if q.corrects and (m := _CORRECTED_FROM.search(text)):
            q.corrected_from = float(m.group(1) or m.group(3)) * (10.0 if (m.group(2) or "").lower() == "cm" else 1.0)
    q.alone = bool(_ALONE.search(text))
    hypo = what_if(normalise(text))
    q.what_if = bool(hypo) and not re.match(r"(?:would|does|will|could)\b", hypo.group(0), re.I) or bool(
        re.search(r"\bhad been\b", text, re.I))
    q.intent = bool(re.search(
        r"follow[\s-]?up|\bf/u\b|interval|manag\w*|\brec+om+[ae]nd\w*|\brecs?\b|advi[sc]e|suggest|category|\bcat\b|next|plan\b|"
        r"re-?scan|repeat|surveillance|need\w*|change|what (?:does|do|would) .{0,40}(?:say|give|recommend|advise)|says?\b|"
        r"what to do|what now|\bper\b|\?|\bshould\b|\bPET\b|biops|tissue sampling|随访|复查|怎么办|怎么处理|如何处理|处理|管理|建议|推荐|间隔|多久|几类|分类|类别|"
        r"下一步|要不要|需要|？\s*$", text, re.I))
    return q
