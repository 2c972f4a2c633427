"""The answer's language, and English tool and guideline text written in Chinese by the project's rules.

- :func:`answer_language`: ``zh`` when the question is Chinese by its share of CJK characters
  (:func:`agent.safety.text.language`, the one owner of that judgement), else ``en``. English drug
  names, SMILES and acronyms inside a Chinese question do not make it English.
- :func:`render_line`: one English fact line of a tool in Chinese, by the whole-line rules of
  ``agent/data/answer_zh.yaml``; None when no rule fits (the caller shows the English line).
- :func:`gloss`: a guideline phrase or sentence in Chinese, from the phrase rules and the corpus
  vocabulary (:mod:`knowledge.terms`); None when any content word would be left unrendered, so a
  summary never silently loses a word such as "not".

Every rendering keeps the numbers of its English text exactly (:func:`same_numbers` checks it;
a rendering that fails the check is discarded). Nothing is translated by a model at run time.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml

Language = Literal["zh", "en"]
_HOLD = re.compile(r"\x00(\d+)\x00")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NUM = r"[<>≤≥]?\d+(?:\.\d+)?(?:\s*[-–]\s*\d+(?:\.\d+)?)?"
#: symbols and unit words that may stay as written in Chinese text
_KEEP = {"CT", "LDCT", "PET", "PET/CT", "PET-CT", "mm", "mm3", "cm", "ml", "mL", "g/mol", "Å²", "HU", "%"}


def answer_language(question: str) -> Language:
    """The language the answer is written in: the question's (Chinese or English)."""
    from agent.safety.text import language

    return "zh" if language(question or "") == "zh" else "en"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    zh: str


@lru_cache(maxsize=1)
def data() -> dict[str, Any]:
    """``answer_zh.yaml`` with its rules compiled."""
    raw = yaml.safe_load(resources.files("agent.data").joinpath("answer_zh.yaml").read_text(encoding="utf-8"))
    for key in ("lines", "warnings"):
        raw[key] = [Rule(re.compile(r["en"]), r["zh"]) for r in raw.get(key) or []]
    raw["phrases"] = [Rule(re.compile(r"(?<![\w-])" + r["en"] + r"(?![\w-])", re.IGNORECASE), r["zh"])
                      for r in raw.get("phrases") or []]
    raw["missing_facts"] = [Rule(re.compile(r["en"], re.IGNORECASE), r["zh"]) for r in raw.get("missing_facts") or []]
    raw["function_words"] = {w.lower() for w in raw.get("function_words") or []}
    return raw


def same_numbers(en: str, zh: str) -> bool:
    """Whether ``zh`` states exactly the numbers ``en`` states (as a multiset, citations aside)."""
    from agent.quantities import numbers_in

    return Counter(numbers_in(en)) == Counter(numbers_in(zh))


# --- guideline phrases ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _terms() -> tuple[re.Pattern[str], dict[str, str]]:
    from knowledge.terms import terms

    forms = {e.lower(): t.zh[0] for t in terms() for e in t.en}
    alts = sorted(forms, key=len, reverse=True)
    # a plural "s" is read as the term ("solid nodules" is "solid nodule")
    return re.compile(r"(?<![\w-])(?P<t>" + "|".join(re.escape(a) for a in alts) + r")s?(?![\w-])", re.IGNORECASE), forms


def _tidy(text: str) -> str:
    """Chinese punctuation and spacing for a rendered phrase."""
    text = re.sub(r"\s*,\s*", "，", text)
    text = re.sub(r"\s*;\s*", "；", text)
    text = re.sub(r"\s*:\s+", "：", text)
    text = re.sub(r"\s*\(\s*", "（", text)
    text = re.sub(r"\s*\)", "）", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(rf"(?<=[{_CJK}，；：（）、])\s+|\s+(?=[{_CJK}，；：（）、])", "", text)
    return text


def gloss(text: str, strict: bool = True) -> str | None:
    """``text`` (a guideline row, management or sentence) written in Chinese.

    Args:
        text: English.
        strict: return None when a content word has no rendering (the default); False keeps such
            words in English inside the Chinese text (for data lines whose names stay as written).
    """
    d = data()
    held: list[str] = []

    def hold(zh: str) -> str:
        held.append(zh)
        return f"\x00{len(held) - 1}\x00"

    # "6 to 8 mm" is the range 6-8 mm (the word "to" is not dropped as a function word elsewhere)
    s = " " + re.sub(r"(\d+(?:\.\d+)?) to ([<>]?\d+(?:\.\d+)?)", r"\1-\2", text.strip().rstrip(".")) + " "
    for rule in d["phrases"]:
        s = rule.pattern.sub(lambda m, r=rule: hold(r.zh.format(**{k: (v or "") for k, v in m.groupdict().items()})), s)
    units = {k.lower(): v for k, v in (d.get("units") or {}).items()}
    unit_alt = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    s = re.sub(rf"(?P<n>{_NUM})\s*(?P<u>{unit_alt})(?![\w])", lambda m: hold(m.group("n") + units[m.group("u").lower()]), s,
               flags=re.IGNORECASE)
    s = re.sub(r"(?<![\w-])category\s+(?P<c>[0-4][ABX]?S?)(?![\w])", lambda m: hold(m.group("c") + "类"), s, flags=re.IGNORECASE)
    rx, forms = _terms()
    s = rx.sub(lambda m: hold(forms[m.group("t").lower()]), s)
    s = re.sub(r"(?<![\w-])and(?![\w-])", "和", s)
    s = re.sub(r"(?<![\w-])or(?![\w-])", "或", s)
    words = re.findall(r"[A-Za-z][A-Za-z'/-]*", _HOLD.sub(" ", s))
    left = [w for w in words if w.lower() not in d["function_words"] and w not in _KEEP]
    if strict and left:
        return None
    if strict:
        s = re.sub(r"(?<![\w-])(?:" + "|".join(map(re.escape, d["function_words"])) + r")(?![\w-])", " ", s,
                   flags=re.IGNORECASE)
    out = _tidy(_HOLD.sub(lambda m: held[int(m.group(1))], s))
    return out if out and same_numbers(text, out) else None


# --- tool fact lines -----------------------------------------------------------------------------

def _property_list(text: str) -> str | None:
    """ "MW 180.16 g/mol, logP 1.31" → "分子量 180.16 g/mol，logP 1.31" (every label must be known)."""
    d = data()
    labels = sorted(d.get("properties") or {}, key=len, reverse=True)
    words = d.get("words") or {}
    out = []
    sep = "；" if ";" in text else "，"
    for item in re.split(r"[;,]\s+", text):
        label = next((lab for lab in labels if item.startswith(lab + " ") or item.startswith(lab + " =")), None)
        if label is None:
            return None
        rest = item[len(label):]
        for en, zh in sorted(words.items(), key=lambda kv: -len(kv[0])):
            rest = re.sub(rf"(?<![\w-]){re.escape(en)}(?![\w-])", zh, rest)
        out.append(d["properties"][label] + rest)
    return sep.join(out)


def assumption(note: str) -> str:
    """What a model assumed for an unstated fact, in Chinese (English when the note is not known)."""
    return str((data().get("assumptions") or {}).get(note.strip(), note))


def _piece(name: str, value: str) -> str:
    if not value or name.startswith(("n", "q")):
        return value
    if name.startswith("a"):
        return assumption(value)
    if name.startswith("l"):
        return _property_list(value) or value
    words = data().get("words") or {}
    if value in words:
        return words[value]
    parts = [words.get(p.strip(), None) for p in value.split(",")]
    if all(parts):
        return "、".join(p for p in parts if p)
    return gloss(value, strict=False) or value


def _apply(rules: list[Rule], line: str) -> str | None:
    for rule in rules:
        m = rule.pattern.fullmatch(line.strip())
        if m:
            zh = rule.zh.format(**{k: _piece(k, v or "") for k, v in m.groupdict().items()})
            return zh if same_numbers(line, zh) else None
    return None


def render_line(line: str) -> str | None:
    """One English fact line of a tool in Chinese; None when no rule renders it with the same numbers."""
    return _apply(data()["lines"], line)


def render_warning(line: str) -> str | None:
    """A tool's English warning in Chinese; None when no rule fits."""
    return _apply(data()["warnings"], line)


def missing_fact(text: str) -> str:
    """A fact a tool asks for, in Chinese (the English words when no rule knows them)."""
    for rule in data()["missing_facts"]:
        if rule.pattern.search(text.strip()):
            return rule.zh
    return text
