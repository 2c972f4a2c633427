"""Lung-nodule facts read from clinical text: each nodule's size, type, lobe and margin, and the count.

A text may describe several nodules ("a 12 mm solid nodule in the RUL and a 5 mm one in the LLL").
Every size that is a measurement of a nodule (not a solid component, not a bound such as "< 4 mm",
not a slice thickness) anchors one nodule; the text between two anchors is split at the separator
before the second nodule's own words ("and another ...", "+", "，另有 ..."), and each nodule takes
the type, lobe and margin words nearest its anchor within its part.

Sizes (McWilliams et al., NEJM 2013; van Riel et al., Eur Radiol 2017): the Brock model was built on
the *longest* diameter of the whole nodule, so "8 x 6 mm" gives ``nodule_size_mm`` 8 and, for
Fleischner's average of the axial axes, ``mean_diameter_mm`` 7. A part-solid nodule keeps the whole
nodule's size for Brock and its solid component as ``solid_component_mm`` (Fleischner and Lung-RADS
manage part-solid nodules by the solid component).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.facts.text import COUNT, Fact, fact, negation, to_int

_UNIT = r"(?:mm|cm|millimet(?:re|er)s?|centimet(?:re|er)s?|毫米|厘米|公分)(?![a-z])"
_N = r"\d+(?:\.\d+)?"
_SIZE = re.compile(rf"(?<![A-Za-z0-9.])(?P<sign>-)?(?P<a>{_N})\s*-?\s*(?P<au>{_UNIT})?"
                   rf"(?:\s*(?:[x*]|by)\s*(?P<b>{_N})\s*(?P<bu>{_UNIT})?)?(?:\s*(?:[x*]|by)\s*(?P<c>{_N})\s*(?P<cu>{_UNIT})?)?",
                   re.IGNORECASE)
_BOUND_BEFORE = re.compile(r"(?:<|>|\bunder|\bbelow|\bless\s+than|\bsmaller\s+than|\bup\s+to|\bat\s+most|\bover|"
                           r"\babove|\bmore\s+than|\blarger\s+than|\bat\s+least|\bsub-?|小于|大于|不超过|以下|以上)\s*$",
                           re.IGNORECASE)
_NOT_NODULE_AFTER = re.compile(r"^\s*(?:-?\s*(?:thick|slices?|sections?|collimation|reconstructions?|intervals?|"
                               r"spacing|kernel)\b|(?:lymph\s+)?nodes?\b|层厚)", re.IGNORECASE)
_NOT_NODULE_BEFORE = re.compile(r"(?:slice\s+thickness|collimation|lymph\s+node|\bnode|\bLN|层厚|淋巴结)[^.;,]{0,12}$",
                                re.IGNORECASE)
_COMPONENT_BEFORE = re.compile(r"(?:solid\s+(?:component|part|portion|core|element)s?|实性(?:成分|部分))"
                               r"(?:\s*(?:of|measuring|measures|is|was|about|approximately|approx\.?|~|:|=|约|为|大小|直径))*\s*$",
                               re.IGNORECASE)
# "7 mm solid component"; not "10mm 实性部分7mm", where the component word carries its own size
_COMPONENT_AFTER = re.compile(r"^\s*(?:solid\s+(?:component|part|portion|core|element)|实性(?:成分|部分))"
                              r"(?!\s*(?:约|为|大小|直径|[:：=])?\s*\d)", re.IGNORECASE)

_PART_SOLID = re.compile(r"part(?:ly|ially)?[\s-]*solid|semi[\s-]*solid|mixed[\s-]+(?:density|attenuation|ground[\s-]*glass)|"
                         r"(?<![A-Za-z0-9])m-?GGNs?(?![A-Za-z0-9])|部分实性|半实性|混合(?:性)?磨玻璃|混杂(?:性)?磨玻璃|混杂密度|混合密度", re.IGNORECASE)
_SUBSOLID = re.compile(r"sub[\s-]*solid|亚实性", re.IGNORECASE)
_NON_SOLID = re.compile(r"non[\s-]*solid|(?:pure\s+)?ground[\s-]*glass|(?<![A-Za-z0-9])p?GG[NO]s?(?![A-Za-z0-9])|纯磨玻璃|磨玻璃|非实性", re.IGNORECASE)
_SOLID = re.compile(r"(?<![\w-])solid\b(?!\s+(?:component|part|portion|core|element))|soft[\s-]+tissue\s+(?:density|attenuation)|"
                    r"(?<![部亚非半分])实性(?!成分|部分)", re.IGNORECASE)

#: (pattern, lobe code, upper lobe?). Named lobes before segments: "superior segment of the RLL" is lower.
_LOBES: list[tuple[re.Pattern[str], str, bool]] = [(re.compile(p, re.IGNORECASE), code, up) for p, code, up in [
    (r"\bRUL\b|\b(?:right|rt\.?|r\.?)\s+upper(?:\s+lobe)?|右(?:肺)?上叶|右上肺", "RUL", True),
    (r"\bLUL\b|\b(?:left|lt\.?|l\.?)\s+upper(?:\s+lobe)?|左(?:肺)?上叶|左上肺", "LUL", True),
    (r"\bRML\b|(?:\b(?:right|rt\.?|r\.?)\s+)?middle\s+lobe|右(?:肺)?中叶|右中肺|(?<![左右肺])中叶", "RML", False),
    (r"\bRLL\b|\b(?:right|rt\.?|r\.?)\s+lower(?:\s+lobe)?|右(?:肺)?下叶|右下肺", "RLL", False),
    (r"\bLLL\b|\b(?:left|lt\.?|l\.?)\s+lower(?:\s+lobe)?|左(?:肺)?下叶|左下肺", "LLL", False),
    (r"\blingula\w*|舌段|舌叶", "lingula", True),
    (r"\bupper\s+lobes?\b|(?<![左右肺])上叶", "upper lobe", True),
    (r"\blower\s+lobes?\b|(?<![左右肺])下叶", "lower lobe", False),
]]
_APEX = re.compile(r"\b(?:right|left)?\s*(?:lung\s+)?apex\b|\bapical\b|尖段|尖后段", re.IGNORECASE)
_SPICULATED = re.compile(r"spicul\w*|speculat\w*|\bspiky\b|corona\s+radiata|sunburst|毛刺", re.IGNORECASE)
_SMOOTH = re.compile(r"\bsmooth(?:ly)?(?:\s+(?:margins?|marginated|outline|borders?|edges?|contour))?|"
                     r"well[\s-]*(?:defined|circumscribed|marginated)|边缘光滑|边缘光整|边界清(?:晰|楚)?|光滑|光整", re.IGNORECASE)

_ADD_CUE = re.compile(r"\b(?:also|another|second|additional|further|other|plus|as\s+well)\b|\+|另|还有|此外|并见|以及",
                      re.IGNORECASE)
_THREAD_ADD_CUE = re.compile(r"\b(?:also|another|additional|second|as\s+well)\b|还有|另外|另有|另见|此外", re.IGNORECASE)
_SEPARATOR = re.compile(r"[;,.]\s|[;,]|\band\b|\bplus\b|\+|\bas\s+well\s+as\b|及|和|另", re.IGNORECASE)
_NODULE_WORD = r"(?:nodules?|lesions?|ones?|GGNs?|GGOs?|opacit(?:y|ies)|结节|病灶)"


@dataclass
class NoduleText:
    """The nodules one text describes, in the order written, and what it says about their number."""

    nodules: list[dict[str, Fact]] = field(default_factory=list)
    count: Fact | None = None
    #: The text adds nodules to those already known ("also a 5 mm nodule", "另外还有一个结节").
    additive: bool = False


def _sizes(text: str) -> tuple[list[tuple[re.Match[str], float, float | None]], list[tuple[int, Fact]]]:
    """Nodule measurements (match, longest mm, mean of two axes) and solid components (position, fact)."""
    anchors, components = [], []
    for m in _SIZE.finditer(text):
        unit = m.group("cu") or m.group("bu") or m.group("au")
        if not unit:
            continue
        scale = 10.0 if unit.lower().startswith(("cm", "centi", "厘", "公")) else 1.0
        axes = [round(float(m.group(g)) * scale, 3) for g in ("a", "b", "c") if m.group(g)]
        if m.group("sign"):
            axes[0] = -axes[0]
        before, after = text[max(0, m.start() - 40):m.start()], text[m.end():m.end() + 30]
        if _BOUND_BEFORE.search(before) or _NOT_NODULE_AFTER.match(after) or _NOT_NODULE_BEFORE.search(before):
            continue
        if _COMPONENT_BEFORE.search(before) or _COMPONENT_AFTER.match(after):
            components.append((m.start(), fact("solid_component_mm", max(axes), text, m)))
            continue
        mean = round((axes[0] + axes[1]) / 2, 3) if len(axes) == 2 else None
        anchors.append((m, max(axes), mean))
    return anchors, components


def _split_points(text: str, anchors: list[tuple[re.Match[str], float, float | None]]) -> list[int]:
    """Where each nodule's part of the text starts (the first at 0)."""
    points = [0]
    for (m1, _, _), (m2, _, _) in zip(anchors, anchors[1:], strict=False):
        lo, hi = m1.end(), m2.start()
        gap = text[lo:hi]
        seps = [lo + s.start() for s in _SEPARATOR.finditer(gap)]
        cue = _ADD_CUE.search(gap)
        if cue:
            before_cue = [p for p in seps if p <= lo + cue.start()]
            points.append(before_cue[-1] if before_cue else lo + cue.start())
        else:
            points.append(seps[-1] if seps else hi)
    return points


def _nearest(matches: list[tuple[re.Match[str], object]], anchor: int) -> tuple[re.Match[str], object] | None:
    return min(matches, key=lambda t: abs(t[0].start() - anchor)) if matches else None


def _mask(part: str, rx: re.Pattern[str]) -> str:
    return rx.sub(lambda m: " " * len(m.group()), part)


def _type(text: str, lo: int, hi: int, anchor: int, has_component: bool) -> Fact | None:
    part = text[lo:hi]
    ps = list(_PART_SOLID.finditer(part))
    if ps:
        best = min(ps, key=lambda m: abs(m.start() - (anchor - lo)))
        return fact("nodule_type", "part-solid", text, (lo + best.start(), lo + best.end()))
    masked = _mask(part, _PART_SOLID)
    sub = _SUBSOLID.search(masked)
    if has_component:
        m = sub or _NON_SOLID.search(masked) or _SOLID.search(masked)
        span = (lo + m.start(), lo + m.end()) if m else (anchor, anchor)
        evidence = (text[span[0]:span[1]] + " with a solid component").strip()
        return Fact("nodule_type", "part-solid", evidence, *span)
    if sub:
        # "subsolid (pure GGO)", "sub-solid, ground-glass": the specific word says which subsolid type
        specific = _NON_SOLID.search(_mask(masked, _SUBSOLID))
        if specific:
            return fact("nodule_type", "non-solid", text, (lo + specific.start(), lo + specific.end()))
        return fact("nodule_type", None, text, (lo + sub.start(), lo + sub.end()),
                    note="'subsolid' covers both part-solid and pure ground-glass nodules; the Brock model needs which")
    masked = _mask(_mask(masked, _SUBSOLID), _NON_SOLID)
    cands = [(m, "non-solid") for m in _NON_SOLID.finditer(_mask(part, _PART_SOLID))]
    cands += [(m, "solid") for m in _SOLID.finditer(masked)]
    best = _nearest(cands, anchor - lo)
    if best is None:
        return None
    m, value = best
    return fact("nodule_type", value, text, (lo + m.start(), lo + m.end()))


_LOBE_NEGATION = re.compile(r"\b(?:not|non)[\s-]*(?:in\s+)?(?:the\s+|an?\s+)?$|(?:不在|非)$", re.IGNORECASE)


def _lobe(text: str, lo: int, hi: int, anchor: int) -> tuple[Fact | None, Fact | None]:
    part = text[lo:hi]
    specific = [(m, (code, up)) for rx, code, up in _LOBES[:6] for m in rx.finditer(part)]
    generic = [(m, (code, up)) for rx, code, up in _LOBES[6:] for m in rx.finditer(part)
               if not any(m.start() < s.end() and s.start() < m.end() for s, _ in specific)]
    best = _nearest(specific + generic, anchor - lo)
    if best is None:
        m = _APEX.search(part)
        if not m:
            return None, None
        best = (m, ("apex", True))
    m, (code, up) = best  # type: ignore[misc]
    span = (lo + m.start(), lo + m.end())
    note = "the lingula is part of the left upper lobe" if code == "lingula" else None
    if _LOBE_NEGATION.search(text[max(0, span[0] - 16):span[0]]):
        return None, fact("upper_lobe", not up, text, (max(0, span[0] - 16), span[1]))
    return fact("lobe", code, text, span), fact("upper_lobe", up, text, span, note=note)


def _margin(text: str, lo: int, hi: int, anchor: int) -> Fact | None:
    part = text[lo:hi]
    spic = _nearest([(m, True) for m in _SPICULATED.finditer(part)], anchor - lo)
    if spic:
        m = spic[0]
        span = (lo + m.start(), lo + m.end())
        neg = negation(text, *span)
        return fact("spiculation", neg is None, text, neg or span)
    m = _SMOOTH.search(part)
    return fact("spiculation", False, text, (lo + m.start(), lo + m.end())) if m else None


#: A unit after a number: the number is a size, not a count ("nodule of 7 millimetres").
_UNIT_AHEAD = r"(?:mm|cm|millimet|centimet|毫米|厘米|公分)"
_TOTAL = [re.compile(p, re.IGNORECASE) for p in (
    rf"(?P<n>{COUNT})\s+(?:[\w-]+\s+){{0,3}}?nodules?\s+(?:in\s+total|in\s+all|altogether|overall|total)",
    rf"\btotal\s+(?:of\s+)?(?P<n>{COUNT})\s+(?:[\w-]+\s+){{0,2}}?nodules?",
    rf"\b(?:one|largest|biggest|dominant|most\s+suspicious)\s+of\s+(?:the\s+)?(?P<n>{COUNT})\b(?!\s*-?\s*{_UNIT_AHEAD})",
    rf"\bnodules?\s*(?:count|number|total|:|=)?\s*(?:of|is|:|=)?\s*(?P<n>\d{{1,2}})\b(?!\s*-?\s*(?:{_UNIT_AHEAD}|x|\.\d))",
    rf"\bcount\s*[:=]?\s*(?P<n>\d{{1,2}})\b(?!\s*-?\s*(?:{_UNIT_AHEAD}|\.\d))",
    rf"\bnodules\s*[x×]\s*(?P<n>\d{{1,2}})\b(?!\s*-?\s*(?:{_UNIT_AHEAD}|\.\d))",  # "nodules x3" (a count, in notes)
    r"\b(?:multiple|several|numerous)\s*(?:[\w-]+\s+){0,2}?\(\s*(?P<n>\d{1,2})(?:\s*nodules?)?\s*\)",
    rf"(?<![\d.])(?<!another\s)(?P<n>{COUNT})\s+(?:(?!(?:mm|cm|other|further|additional|more|extra|new)\b)[\w-]+\s+){{0,3}}?"
    r"(?:nodules|lesions|GGNs|GGOs|opacities)\b",
    r"共\s*(?P<n>[\d零一二两三四五六七八九十]+)\s*(?:个|枚|处)",
    r"结节\s*(?:共|总数|数量|个数|数)\s*[:=为]?\s*(?P<n>[\d零一二两三四五六七八九十]+)",
    r"结节\s*(?P<n>[\d一二两三四五六七八九十]+)\s*(?:个|枚|处)",
    r"多发[^,.;]{0,8}?\(\s*(?:共\s*)?(?P<n>[\d一二两三四五六七八九十]+)\s*(?:个|枚)?\s*\)",
    r"(?<!另有)(?<!另见)(?<!还有)(?<![\d.])(?P<n>[\d一二两三四五六七八九十]+)\s*(?:个|枚|处)[^,.;]{0,4}?结节",
)]
_ONE = re.compile(r"\b(?:solitary|single|isolated|lone)\b|\b(?:1|one)\s+(?:[\w.-]+\s+){0,3}?nodule\b(?!s)|"
                  r"\bno\s+(?:other|further|additional|more)\s+(?:[\w-]+\s+)?(?:nodules?|lesions?)|单发|孤立", re.IGNORECASE)
_RELATIVE = [(re.compile(p, re.IGNORECASE), fixed) for p, fixed in (
    (rf"\banother\s+(?P<n>{COUNT})(?![\d.])(?!\s*-?\s*(?:mm|cm|millimet|centimet|毫米|厘米))\s+(?:[\w.<>-]+\s+){{0,2}}?{_NODULE_WORD}", None),
    (rf"(?P<n>{COUNT})\s+(?:other|further|additional|more|extra|new)\s+(?:[\w.<>-]+\s+){{0,3}}?{_NODULE_WORD}", None),
    (r"\b(?:a|an|one)\s+(?:second|other|further|additional|more|extra|new)\b", 1),
    (rf"\banother\s+(?:[\w.-]+\s+){{0,4}}?{_NODULE_WORD}|\banother\b(?=\s*[,.;]|\s*$)", 1),
    (r"(?:另有|另见|还有|另外还有|另可见|尚有|并见)\s*(?P<n>[\d一二两三四五六七八九十]+)?\s*(?:个|枚|处)?[^,.;]{0,12}?结节", None),
)]
_UNSETTLED = re.compile(r"\b(?:multiple|several|numerous|many|a\s+few|few|scattered|innumerable|bilateral|some)\s+"
                        r"(?:[\w-]+\s+){0,2}?nodules\b|多发(?:性)?(?:肺)?结节|多发|多个结节|多枚结节|数个结节|若干结节", re.IGNORECASE)


def _count(text: str, described: int) -> Fact | None:
    for rx in _TOTAL:
        m = rx.search(text)
        if m and (n := to_int(m.group("n"))):
            if n < described:
                return fact("nodule_count", described, text, m, note=f"{described} nodules are described")
            return fact("nodule_count", n, text, m)
    others, spans = 0, []
    for rx, fixed in _RELATIVE:
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in spans):
                continue
            n = fixed if fixed is not None else (to_int(m.group("n")) if m.group("n") else 1)
            if n:
                others += n
                spans.append((m.start(), m.end()))
    if others:
        s, e = spans[0][0], spans[-1][1]
        total = max(1 + others, described)
        return fact("nodule_count", total, text, (s, e), extra={"relative": True})
    if described > 1:
        return Fact("nodule_count", described, f"{described} nodules described")
    m = _ONE.search(text)
    if m:
        return fact("nodule_count", 1, text, m)
    m = _UNSETTLED.search(text)
    if m:
        return fact("nodule_count", None, text, m, note="the number of nodules is not stated; the model needs it")
    return None


def read_nodules(text: str) -> NoduleText:
    """Every nodule the (normalised) text describes and the nodule count it states."""
    anchors, components = _sizes(text)
    out = NoduleText()
    points = _split_points(text, anchors) if anchors else [0]
    bounds = list(zip(points, points[1:] + [len(text)], strict=False))
    if not anchors:  # facts about "the nodule" without a size: type, lobe, margin of the index nodule
        bounds, centres = [(0, len(text))], [0]
    else:
        centres = [m.start() for m, _, _ in anchors]
    for i, ((lo, hi), centre) in enumerate(zip(bounds, centres, strict=False)):
        facts: dict[str, Fact] = {}
        comp = [f for pos, f in components if lo <= pos < hi]
        if anchors:
            m, longest, mean = anchors[i]
            facts["nodule_size_mm"] = fact("nodule_size_mm", longest, text, m)
            if mean is not None:
                facts["mean_diameter_mm"] = fact("mean_diameter_mm", mean, text, m)
        if comp:
            facts["solid_component_mm"] = comp[0]
        for f in (_type(text, lo, hi, centre, bool(comp)), *_lobe(text, lo, hi, centre), _margin(text, lo, hi, centre)):
            if f is not None:
                facts[f.name] = f
        if facts:
            out.nodules.append(facts)
    if len(out.nodules) > 1 and anchors:  # a type said once for all ("two solid nodules: ...", "both solid")
        head = text[:anchors[0][0].start()]
        typed = [n["nodule_type"] for n in out.nodules if "nodule_type" in n]
        said = out.nodules[0].get("nodule_type")
        for_all = re.search(r"\b(?:both|all|each)\b|均为|均|都是", text, re.IGNORECASE)
        plural_head = re.search(r"\b(?:nodules|GGNs|GGOs)\b|两个|两枚", head, re.IGNORECASE)
        shared = typed[0] if len(typed) == 1 and for_all else (
            said if said is not None and said.start < anchors[0][0].start() and plural_head else None)
        if shared is not None:
            for n in out.nodules:
                n.setdefault("nodule_type", shared)
    out.count = _count(text, len(anchors))
    if anchors:
        first_anchor = anchors[0][0].start()
        out.additive = bool(_THREAD_ADD_CUE.search(text[max(0, first_anchor - 40):first_anchor]))
    return out
