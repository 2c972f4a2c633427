"""Chinese design requests, read by rewriting them into the English phrasing the rules understand.

"设计10个塞来昔布的类似物，分子量小于400，不含PAINS" becomes "design 10 molecules celecoxib analogs
, MW under 400 , without PAINS": property names, comparators (小于 <, 不超过 ≤, 之间, 以下/以上),
counts (个分子, Chinese numerals), cue words (类似物, 衍生物, 骨架, 保留, 含), qualitative terms
(易溶, 透过血脑屏障) and ring and drug names. SMILES and English words inside the Chinese text
are left as they are, with spaces around them. The English rules then read the result, so one
set of rules serves both languages; notes quote the rewritten text.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMERAL = r"[零〇一二两三四五六七八九十百]+"

# (Chinese, English) rewrites, applied longest first. Property names and cue words.
_PHRASES = {
    "相对分子质量": " MW ", "分子质量": " MW ", "分子量": " MW ", "脂水分配系数": " logP ", "油水分配系数": " logP ",
    "亲脂性": " logP ", "拓扑极性表面积": " TPSA ", "极性表面积": " TPSA ", "氢键供体数": " HBD ", "氢键供体": " HBD ",
    "氢键给体": " HBD ", "氢键受体数": " HBA ", "氢键受体": " HBA ", "可旋转键数": " rotatable bonds ",
    "可旋转键": " rotatable bonds ", "旋转键": " rotatable bonds ", "重原子数": " heavy atoms ", "重原子": " heavy atoms ",
    "芳香环数": " aromatic rings ", "芳香环": " aromatic rings ", "芳环": " aromatic rings ", "类药性评分": " QED ",
    "类药性": " QED ", "合成可及性评分": " SA score ", "合成可及性": " SA score ", "SA评分": " SA score ",
    "SA分数": " SA score ", "相似度": " similarity ", "相似性": " similarity ", "溶解度": " solubility ",
    # comparators (before the shorter words they contain)
    "小于等于": " at most ", "小于或等于": " at most ", "不大于": " at most ", "不超过": " at most ", "不高于": " at most ",
    "不多于": " at most ", "至多": " at most ", "最多": " at most ", "大于等于": " at least ", "大于或等于": " at least ",
    "不小于": " at least ", "不低于": " at least ", "不少于": " at least ", "至少": " at least ", "最少": " at least ",
    "小于": " under ", "低于": " under ", "少于": " under ", "不到": " under ", "大于": " over ", "高于": " over ",
    "超过": " over ", "多于": " over ",
    # qualitative terms
    "不能透过血脑屏障": " not BBB-penetrant ", "不透过血脑屏障": " not BBB-penetrant ", "能透过血脑屏障": " BBB-penetrant ",
    "可透过血脑屏障": " BBB-penetrant ", "透过血脑屏障": " BBB-penetrant ", "穿透血脑屏障": " BBB-penetrant ",
    "血脑屏障通透": " BBB-penetrant ", "易溶于水": " soluble ", "水溶性好": " soluble ", "溶解性好": " soluble ",
    "易溶": " soluble ", "水溶性": " soluble ", "类药五规则": " rule of five ", "五规则": " rule of five ",
    "类先导": " lead-like ", "类片段": " fragment-like ", "类药": " drug-like ", "警示结构": " structural alerts ",
    "结构警示": " structural alerts ", "反应性基团": " reactive groups ",
    # cues
    "类似物": " analogs ", "类似化合物": " analogs ", "衍生物": " derivatives ", "类似于": " similar to ",
    "相似于": " similar to ", "类似": " similar to ", "相似": " similar to ", "基于": " based on ", "母核": " scaffold ",
    "骨架": " scaffold ", "核心结构": " core ", "核心": " core ", "保留": " keeping ", "保持": " keeping ",
    "不含有": " without ", "不含": " without ", "不带": " without ", "没有": " without ", "含有": " containing ",
    "包含": " containing ", "带有": " containing ", "具有": " with ", "含": " containing ", "类化合物": " compounds ",
    "化合物": " compounds ", "分子": " molecules ", "新的": " new ", "全新": " new ", "新": " new ", "设计": " design ",
    "生成": " generate ", "一些": " some ", "若干": " several ", "几个": " a few ", "并且": " and ", "以及": " and ",
    "同时": " and ", "且": " and ", "和": " and ", "与": " and ", "或": " or ", "环": " ring ", "的": " ", "请": " ",
    "帮我": " ", "给我": " ", "给出": " give ", "提供": " give ", "我需要": " ", "我想要": " ", "需要": " ", "个": "个",
}
# The Chinese counter 个 after a number counts molecules unless a per-molecule quantity follows it
# or a comparator or property stands right before it ("氢键供体不超过2个").
_PER_MOLECULE = r"(?:\s*(?:HBD|HBA|aromatic rings|rotatable bonds|heavy atoms|ring|供体|受体|杂原子|手性中心))"


from galen.language import has_cjk  # noqa: E402,F401 - one owner


def _numeral(s: str) -> int:
    """A Chinese numeral up to 999 (十二 = 12, 二十五 = 25, 一百 = 100, 两 = 2)."""
    total, cur = 0, 0
    for ch in s:
        if ch == "百":
            total += (cur or 1) * 100
            cur = 0
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        else:
            cur = _DIGITS[ch]
    return total + cur


@lru_cache(maxsize=1)
def _names() -> list[tuple[str, str]]:
    """(Chinese, English) drug and motif names, longest first."""
    from specialists.molecules.motifs import chinese_names
    from specialists.molecules.names import _chinese

    pairs = [(zh, inn) for zh, inn in _chinese()] + chinese_names()
    return sorted(pairs, key=lambda t: -len(t[0]))


def normalise_chinese(text: str) -> str:
    """``text`` with its Chinese design phrasing rewritten in English (ASCII parts untouched)."""
    t = text.replace("（", " (").replace("）", ") ")
    t = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in t)  # full-width ASCII
    t = t.replace("～", "~").replace("、", ",").replace("。", ". ").replace("　", " ")
    for zh, en in _names():  # before numerals: 三唑, 二甲双胍 and 四氢呋喃 hold numeral characters
        t = t.replace(zh, f" {en} ")
    for zh in ("类药五规则", "五规则", "一些", "几个", "一种"):
        t = t.replace(zh, _PHRASES.get(zh, " "))
    t = re.sub(_NUMERAL, lambda m: str(_numeral(m.group(0))), t)
    t = re.sub(r"以\s*([^以为，,。；;]{1,40}?)\s*为\s*(?:核心骨架|骨架|核心|母核)", r" keeping the \1 scaffold ", t)
    # windows: 在250到350之间, 介于280和380之间, 300~400 -> between A and B
    num = r"([-+]?\d+(?:\.\d+)?)"
    t = re.sub(rf"(?:在|介于)?\s*{num}\s*(?:到|至|和|与|~|－)\s*{num}\s*(Da|g/mol|Å²)?\s*(?:之间|范围内|范围)",
               r" between \1 and \2 \3 ", t)
    t = re.sub(rf"{num}\s*(?:到|至|~)\s*{num}", r" \1-\2 ", t)
    t = re.sub(rf"{num}\s*(Da|g/mol)?\s*(?:以下|以内)", r" at most \1 \2 ", t)
    t = re.sub(rf"{num}\s*(Da|g/mol)?\s*以上", r" at least \1 \2 ", t)
    for zh in sorted(_PHRASES, key=len, reverse=True):
        if zh != "个":
            t = t.replace(zh, _PHRASES[zh])
    t = re.sub(r"(at least|at most|under|over)\s+containing\s+", r"\1 ", t)  # 至少含5个芳香环

    def counter(m: re.Match) -> str:
        before = t[max(0, m.start() - 16):m.start()]
        after = t[m.end():m.end() + 20]
        if re.match(_PER_MOLECULE, after) or re.search(r"(?:at least|at most|under|over|HBD|HBA|bonds|atoms|rings)\s*"
                                                       r"(?:\d+(?:\.\d+)?\s*-\s*)?$", before):
            return f" {m.group(1)} "
        return f" {m.group(1)} molecules "

    t = re.sub(r"(\d+)\s*个", counter, t)
    t = t.replace("个", " ")
    return re.sub(r"\s+", " ", t).strip()
