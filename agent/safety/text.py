"""Reading a request the way the safety layers need it.

- :func:`normalise`: NFKC (full-width letters), invisible characters dropped, look-alike Cyrillic
  and Greek letters inside Latin words mapped back, accents folded ("tabún" reads as "tabun"), spaced-out letters joined ("s a r i n",
  "t-a-b-u-n", "V.X."), and leetspeak words restored when the result is a word of the policy's
  vocabulary ("s@rin", "f3ntanyl", "carf3ntan1l"), and one-letter typos of a few distinctive
  words fixed ("recipie", "synthsis"), "ph" and "f" read alike ("phentanyl", "fosgene"). Words outside the vocabulary are left alone,
  so "CYP3A4" and SMILES stay as written.
- :func:`language`: the question's language (Chinese by the share of CJK characters; Spanish,
  French and German by their function words), for the refusal message.
- :func:`clauses`: the request cut into clauses (sentences, semicolons, Chinese punctuation,
  and coordinators that start a new request: ", and how ...", "also", "then", "+").
- :func:`strip_framing`: role play, fiction, jailbreak, hypothetical, research and translation
  framing recognised and cut out of a clause, with the kinds found.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from agent.safety.lexicon import fold, lexicon

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
# Cyrillic and Greek letters that look like Latin ones (Unicode confusables, lower and upper case)
_LOOKALIKE = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j",
    "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ո": "n", "ν": "v", "ο": "o", "α": "a", "ε": "e", "ι": "i",
    "κ": "k", "τ": "t", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "Ѕ": "S", "І": "I", "Α": "A", "Β": "B", "Ε": "E", "Ι": "I", "Κ": "K",
    "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X",
})
_LOOKALIKE_CHARS = set("аеорсухѕіјԁɡһӏոνοαειкτАВЕКМНОРСТХЅІΑΒΕΙΚΜΝΟΡΤΧ")
_LEET: dict[str, tuple[str, ...]] = {
    "0": ("o",), "1": ("i", "l"), "3": ("e",), "4": ("a",), "5": ("s",), "7": ("t",), "8": ("b",),
    "@": ("a",), "$": ("s",), "!": ("i",), "|": ("l", "i"), "+": ("t",), "€": ("e",),
}
_INNER_SEP = re.compile(r"[-.*_'’·]")
# runs of single letters split by one separator: "s a r i n", "t-a-b-u-n", "s.a.r.i.n"
_SPACED = re.compile(r"(?<![\w@$])(?:[A-Za-z@$](?:[ .\-*_·])){2,}[A-Za-z@$](?![\w@$])")
_DOTTED = re.compile(r"(?<![\w.])(?:[A-Za-z]\.){2,}(?!\w)")


def _restore_token(tok: str, vocab: frozenset[str]) -> str | None:
    """The vocabulary word an obfuscated token spells, or None."""
    core = tok.lower()
    if len(core) > 24 or any(c in core for c in "()[]=#"):
        return None
    letters = sum(c.isalpha() for c in core)
    if letters < 2:
        return None
    squashed = _INNER_SEP.sub("", core)
    options = [_LEET.get(c, (c,)) for c in squashed]
    if sum(len(o) > 1 for o in options) > 6:
        return None
    for combo in itertools.product(*options):
        word = "".join(combo)
        if word in vocab or (word.endswith("s") and word[:-1] in vocab):
            return word
    return None


def one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one deletion, insertion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def _sound(word: str) -> str:
    """``word`` as it sounds for a respelling: "ph" and "f" alike ("phentanyl", "fosgene")."""
    return word.replace("ph", "f")


def _fix_typos(text: str, targets: frozenset[str]) -> str:
    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if low in targets:
            return word
        sound = _sound(low)
        hit = next((t for t in targets if one_edit(low, t) or sound == _sound(t) or one_edit(sound, _sound(t))), None)
        return hit or word

    return re.sub(r"(?<![\w-])[A-Za-z]{6,}(?![\w-])", fix, text)


def _deobfuscate_words(text: str, vocab: frozenset[str]) -> str:
    def fix(m: re.Match[str]) -> str:
        tok = m.group(0)
        core = tok.lstrip("\"'(«“‘")
        lead = tok[: len(tok) - len(core)]
        stripped = core.rstrip("\"').,;:?»”’")
        trail = core[len(stripped):]
        core = stripped
        if not core or (core.isalpha() and core.isascii()):
            return tok
        if not (re.search(r"[0-9@$!|+€]", core) or _INNER_SEP.search(core)):
            return tok
        word = _restore_token(core, vocab)
        return tok if word is None else lead + word + trail

    return re.sub(r"\S+", fix, text)


def normalise(text: str) -> str:
    """The request with obfuscation undone and whitespace collapsed (see the module docstring)."""
    vocab = lexicon().vocabulary
    out = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    if any(c in _LOOKALIKE_CHARS for c in out):
        out = re.sub(r"\S+", lambda m: m.group(0).translate(_LOOKALIKE) if re.search(r"[A-Za-z]", m.group(0).translate(_LOOKALIKE)) else m.group(0), out)
    out = fold(out)
    out = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), out)
    out = _SPACED.sub(lambda m: re.sub(r"[ .\-*_·]", "", m.group(0)), out)
    out = _deobfuscate_words(out, vocab)
    out = _fix_typos(out, lexicon().typo_targets)
    return " ".join(out.split())


# --- language: one owner, galen.language ---------------------------------------------

from galen.language import language  # noqa: E402,F401

# --- clauses -------------------------------------------------------------------------------

_ABBREV = re.compile(r"(?:\b(?:mr|mrs|ms|dr|prof|st|vs|no|fig|approx|e\.g|i\.e|etc|cf|al|inc|ca)|\b[A-Za-z])\.$", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|[。！？；;\n]+|(?<=[?!])(?=[^\s?!])|[，,](?=\s*(?:另外|然后|还有|并且|同时|再|顺便|以及|接着|此外))")
_STARTS_REQUEST = (
    r"(?:also\s+|then\s+|now\s+|please\s+)?(?:how|what|why|where|which|who|when|is|are|can|could|would|will|do|does|did|should|"
    r"give|tell|list|explain|describe|show|provide|write|make|design|generate|synthesi[sz]e|suggest|summari[sz]e|outline|"
    r"name|compare|walk|help|i|i'm|i’m|my|please|plus|also|then|what's|how's)\b"
)
_COORD = re.compile(
    r",?\s+(?:and|but|also|plus|then|btw|by the way|separately|after that|afterwards|as well as|and then|and also|y|et|und|pero|mais|aber)\s+(?=" + _STARTS_REQUEST + ")"
    r"|\s+[+&]\s+|\s+[-–—]{1,2}\s+|,\s*(?=(?:then|also|and then|after that|separately|btw)\b)"
    r"|(?:另外|然后|并且|同时|此外|顺便|还有|以及|接着)[，,]?",
    re.IGNORECASE,
)


def _sentences(text: str) -> list[str]:
    pieces = [p for p in _SENTENCE.split(text) if p and p.strip()]
    merged: list[str] = []
    for p in pieces:
        if merged and _ABBREV.search(merged[-1].rstrip()):
            merged[-1] = merged[-1].rstrip() + " " + p.strip()
        else:
            merged.append(p.strip())
    return merged


def clauses(text: str) -> list[str]:
    """The clauses of a (normalised) request, in order; never empty for non-blank text."""
    out: list[str] = []
    for s in _sentences(text):
        out.extend(c.strip(" ,.;:-–—\"'“”‘’") for c in _COORD.split(s))
    out = [c for c in out if c and re.search(r"\w", c)]
    return out or ([text.strip()] if text.strip() else [])


# --- framing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Framed:
    text: str  # the clause with framing cut out
    kinds: tuple[str, ...]  # e.g. ("role-play", "jailbreak")


def strip_framing(clause: str) -> Framed:
    """``clause`` without its framing phrases, and the kinds of framing found."""
    kinds: list[str] = []
    out = clause
    for kind, patterns in lexicon().framing.items():
        for p in patterns:
            if p.search(out):
                kinds.append(kind)
                out = p.sub(" ", out)
    if not kinds:
        return Framed(clause, ())
    return Framed(" ".join(out.split()).strip(" ,.;:-\"'“”‘’"), tuple(dict.fromkeys(kinds)))


def framing_kinds(text: str) -> tuple[str, ...]:
    """The kinds of framing anywhere in ``text``."""
    found = []
    for kind, patterns in lexicon().framing.items():
        if any(p.search(text) for p in patterns):
            found.append(kind)
    return tuple(found)
