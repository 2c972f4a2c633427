"""Which language a person wrote in: one owner for the whole project.

:func:`language` decides the language of an answer (and of a refusal, a confirmation card, a
template); :func:`has_cjk` only says whether a text holds Chinese characters (which only the
multilingual encoder can read). Both are used from every layer, so they live in ``galen``.
"""

from __future__ import annotations

import re

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"(?<![\w\[\]()=#@/\\])[A-Za-zÀ-ÿ]{2,}(?![\w\[\]()=#@/\\])")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds any Chinese (CJK) character."""
    return CJK.search(text or "") is not None


_CJK_CLASS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_SCRIPT_SEAM = re.compile(rf"(?<=[A-Za-z0-9%])(?=[{_CJK_CLASS}])|(?<=[{_CJK_CLASS}])(?=[A-Za-z0-9])")


def spaced(text: str) -> str:
    """``text`` with a space wherever Latin letters or digits meet Chinese characters.

    Python's ``\\b`` counts Chinese characters as word characters, so in "Fleischner建议" or
    "按BTS指南" a pattern ``\\bfleischner\\b`` or ``\\bbts\\b`` finds no word boundary; Chinese
    writers do not put spaces there. Matching English word patterns against the spaced text
    treats the seam as the boundary it is.
    """
    return _SCRIPT_SEAM.sub(" ", text or "")


_FUNCTION_WORDS = {
    "es": {"el", "la", "los", "las", "de", "del", "que", "y", "en", "para", "por", "una", "un", "con", "se", "cómo", "como",
           "cuál", "cuántas", "cuántos", "qué", "es", "al", "mi", "sin", "necesito", "ya", "paso", "pasos", "puedo", "hago", "dame", "quiero", "dosis"},
    "fr": {"le", "la", "les", "des", "du", "de", "et", "est", "une", "un", "pour", "comment", "quel", "quelle", "en", "avec",
           "faut", "il", "je", "veux", "mon", "ma", "sur", "aux", "au", "qu", "d", "l", "ne", "pas", "plus"},
    "de": {"der", "die", "das", "und", "ist", "wie", "ein", "eine", "einen", "nicht", "mit", "bei", "man", "ich", "für", "den",
           "dem", "um", "zu", "von", "mich", "mir", "brauche", "kann", "was", "sich", "damit", "mehr", "viele"},
    "it": {"il", "lo", "gli", "di", "del", "della", "dei", "delle", "dell", "nel", "nella", "nell", "che", "per", "come",
           "una", "uno", "non", "sono", "è", "posso", "vorrei", "voglio", "qual", "quale", "quanto", "quanti", "dammi",
           "devo", "mio", "mia", "ho", "passaggi", "si", "mi", "ti", "quante", "quanta", "questo", "questa", "alla", "cosa", "perché", "più", "può", "senza", "farmaco", "dose"},
    "pt": {"os", "do", "da", "dos", "das", "não", "um", "uma", "em", "na", "com", "para", "como", "qual",
           "quanto", "quantos", "posso", "você", "eu", "meu", "minha", "é", "que", "de", "ao", "quero", "preciso",
           "faço", "fazer", "sem", "mais", "passo", "passos", "quantas", "isto", "isso", "remédio", "dose", "pelo", "pela"},
    "en": {"the", "and", "is", "how", "what", "of", "to", "for", "with", "in", "a", "an", "do", "does", "i", "my", "me",
           "can", "would", "should", "which", "this", "that", "it", "are", "give", "make", "please", "you", "dose"},
}
_MARKS = {"es": "ñ¿¡", "fr": "çœêëâîû", "de": "äöüß", "it": "ìò", "pt": "ãõ"}


def language(text: str) -> str:
    """``zh``, ``es``, ``fr``, ``de``, ``it``, ``pt`` or ``en`` (the default) for the person's question.

    Chinese when there are at least as many CJK characters as ordinary Latin words (SMILES,
    acronyms and tags such as ``[NAME]`` are not counted); otherwise the European language whose
    function words and accented letters are most frequent, English on a tie.
    """
    cjk = len(CJK.findall(text))
    latin_words = sum(1 for w in _LATIN_WORD.findall(text) if not w.isupper())
    if cjk >= 2 and cjk >= latin_words:  # a CJK character carries about as much as a word
        return "zh"
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    scores = {lang: sum(w in fw for w in words) for lang, fw in _FUNCTION_WORDS.items()}
    low = text.lower()
    for lang, marks in _MARKS.items():
        scores[lang] += 2 * sum(low.count(c) for c in marks)
    best = max(scores, key=lambda k: (scores[k], k == "en"))
    return best if best != "en" and scores[best] >= 2 and scores[best] > scores["en"] else "en"


