"""The bilingual vocabulary of the guideline corpus (``terms_zh.yaml``): Chinese words ↔ English words.

Retrieval uses :func:`english_terms` to give the lexical (BM25) half of a Chinese question the
English words its Chinese terms stand for; the Chinese answer uses :func:`chinese_term` to write
an English guideline term in Chinese. Loaded once, on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Term:
    en: tuple[str, ...]  # English forms, the first is canonical
    zh: tuple[str, ...]  # Chinese forms, the first is how the term is written in a Chinese answer


@lru_cache(maxsize=1)
def terms() -> tuple[Term, ...]:
    """Every term of the vocabulary, in file order."""
    raw = yaml.safe_load(resources.files("knowledge").joinpath("terms_zh.yaml").read_text(encoding="utf-8"))
    out = []
    for i, entry in enumerate(raw["terms"]):
        en, zh = tuple(str(x) for x in entry.get("en") or ()), tuple(str(x) for x in entry.get("zh") or ())
        if not en or not zh:
            raise ValueError(f"terms_zh.yaml entry {i} needs both en and zh forms")
        out.append(Term(en, zh))
    return tuple(out)


@lru_cache(maxsize=1)
def _zh_matcher() -> tuple[re.Pattern[str], dict[str, Term]]:
    forms = {z.lower(): t for t in terms() for z in t.zh}
    # longest first, so "部分实性结节" wins over "实性结节" and "实性"
    alts = sorted(forms, key=len, reverse=True)
    return re.compile("|".join(re.escape(a) for a in alts), re.IGNORECASE), forms


def english_terms(text: str, canonical: bool = False) -> list[str]:
    """The English forms of the Chinese terms in ``text`` (each term once, in order of appearance);
    with ``canonical`` only the first English form of each term (a phrase, not its synonyms).

    >>> english_terms("部分实性结节 随访")[:2]
    ['part-solid nodule', 'part-solid']
    """
    pattern, forms = _zh_matcher()
    out: list[str] = []
    seen: set[Term] = set()
    for m in pattern.finditer(text or ""):
        t = forms[m.group(0).lower()]
        if t not in seen:
            seen.add(t)
            out.extend(t.en[:1] if canonical else t.en)
    return out


@lru_cache(maxsize=1)
def _en_index() -> dict[str, Term]:
    return {e.lower(): t for t in terms() for e in t.en}


def chinese_term(english: str) -> str | None:
    """How the English term ``english`` is written in a Chinese answer (None if it is not in the vocabulary)."""
    t = _en_index().get(english.strip().lower())
    return t.zh[0] if t else None


#: Nodule types by the words that name them, most specific first ("part-solid" before "solid").
_KINDS = (("part-solid", re.compile(r"part[- ]?solid|subsolid", re.I)),
          ("ground-glass", re.compile(r"ground[- ]?glass|non[- ]?solid|\bgg[on]\b", re.I)),
          ("solid", re.compile(r"(?<![-\w])solid\b", re.I)))


def nodule_kinds(text: str) -> set[str]:
    """Nodule types named in ``text`` ("part-solid" does not also count as "solid")."""
    found, rest = set(), text
    for kind, pattern in _KINDS:
        if pattern.search(rest):
            found.add(kind)
            rest = pattern.sub(" ", rest)
    return found
