"""The words of design requests shared by the rule-based parser and the LLM fill: numbers,
comparators (with whether each is strict), units and the names of each constrainable property."""

from __future__ import annotations

import re

#: Number words chemists write instead of digits ("at least one aromatic ring").
NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a single": 1, "single": 1}
_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
NUM = rf"([-+−]?\d+(?:\.\d+)?|\b(?:{_WORDS})\b)"
UNIT = (r"(?:\s*(?:da\b|daltons?\b|g\s*/\s*mol\b|g\s*mol(?:-1|⁻¹)|å²|å\^?2\b|a\^2|a2\b|sq\.?\s*å|"
        r"angstroms?(?:\s*squared|\^?2)?))?")
MW_UNIT = r"(?:da\b|daltons?\b|g\s*/\s*mol\b|g\s*mol(?:-1|⁻¹))"
AREA_UNIT = r"(?:å²|å\^?2\b|a\^2|sq\.?\s*å|angstroms?\s*squared|angstroms?\^?2)"

# Comparators. Inclusive forms come first so that "no more than" is never read as "more than".
INCL_HIGH = (r"<=|≤|=<|⩽|at\s+most|no\s+more\s+than|not\s+more\s+than|no\s+greater\s+than|not\s+greater\s+than|"
             r"no\s+higher\s+than|no\s+larger\s+than|not\s+above|not\s+over|not\s+exceeding|not\s+to\s+exceed|"
             r"(?:less|lower|smaller|fewer)\s+than\s+or\s+equal\s+to|maximum(?:\s+of)?|max\.?|up\s+to|"
             r"capped\s+at|limited\s+to")
STRICT_HIGH = (r"<|(?:strictly\s+)?(?<!not\s)(?:under|below|beneath)|(?:strictly\s+)?(?<!no\s)(?<!not\s)(?:less|fewer)\s+than|"
               r"(?<!no\s)(?<!not\s)(?:lower|smaller)\s+than")
INCL_LOW = (r">=|≥|=>|⩾|at\s+least|no\s+less\s+than|not\s+less\s+than|no\s+fewer\s+than|not\s+fewer\s+than|"
            r"no\s+lower\s+than|not\s+below|not\s+under|(?:greater|more|higher|larger)\s+than\s+or\s+equal\s+to|"
            r"minimum(?:\s+of)?|min\.?")
STRICT_LOW = (r">|(?:strictly\s+)?(?<!not\s)(?:above|over|exceeding)|(?:strictly\s+)?(?<!no\s)(?<!not\s)(?:more|greater)\s+than|"
              r"(?<!no\s)(?<!not\s)(?:higher|larger)\s+than")
HIGH = rf"(?:{INCL_HIGH}|{STRICT_HIGH})"
LOW = rf"(?:{INCL_LOW}|{STRICT_LOW})"
CMP = rf"({INCL_HIGH}|{INCL_LOW}|{STRICT_HIGH}|{STRICT_LOW})"
#: Postfix comparators: "400 Da or less", "5 or more".
POSTFIX = r"or\s+(less|fewer|lower|below|under|smaller|more|higher|greater|above|larger)"
#: Words between a property's name and its numbers: "MW should stay below 300", "logP (Crippen): 1-3".
BRIDGE = (r"(?:\s+(?:count|number|value|score))?\s*(?:\([^()]{0,30}\)\s*)?(?:(?:of|is|are|:|=|kept|value|values|"
          r"in\s+the\s+range(?:\s+of)?|range|"
          r"(?:should|must|needs?\s+to|has\s+to|to|ought\s+to)\s+(?:be|stay|remain|lie|fall|sit)(?:\s+(?:in|at|within))?)\s*)?"
          r"(?:\(\s*)?")
RANGE_SEP = r"\s*(?:-|–|—|~|to|and)\s*"


def comparator(text: str) -> tuple[str, bool]:
    """("high" or "low", strict) of a comparator as written."""
    t = re.sub(r"\s+", " ", text.strip().lower())
    for pattern, side, strict in ((INCL_HIGH, "high", False), (INCL_LOW, "low", False),
                                  (STRICT_HIGH, "high", True), (STRICT_LOW, "low", True)):
        if re.fullmatch(pattern, t):
            return side, strict
    raise ValueError(f"not a comparator: {text!r}")


def postfix(text: str) -> str:
    """The side of a postfix comparator word ("less" -> "high")."""
    return "high" if text.lower() in ("less", "fewer", "lower", "below", "under", "smaller") else "low"


#: Property key → regex alternatives naming it (longest first where they overlap).
NAMES: dict[str, list[str]] = {
    "mw": [r"molecular\s+weights?", r"molecular\s+mass", r"mol(?:ecular)?\.?\s*wt\.?", r"\bm\.w\.", r"\bmwt?\b",
           r"\bmass\b", r"\bweight\b"],
    "logp": [r"\b[cx]?log\s?p\b", r"\bc?log\s?p\b", r"lipophilicity", r"lipophilicty", r"\bxlogp\d?\b"],
    "tpsa": [r"\bt?psa\b", r"topological\s+polar\s+surface\s+area", r"polar\s+surface\s+area"],
    "hbd": [r"\bhbds?\b", r"h-?\s?bond\s+donors?", r"hydrogen[- ]bond\s+donors?", r"\bdonors?\b", r"\bnhoh\b"],
    "hba": [r"\bhbas?\b", r"h-?\s?bond\s+acceptors?", r"hydrogen[- ]bond\s+acceptors?", r"\bacceptors?\b"],
    "rotatable_bonds": [r"rotatable\s+bonds?", r"rotable\s+bonds?", r"\brot\.?\s?bonds?\b", r"\brotb\b",
                        r"\bnrot\b", r"rotors?\b"],
    "heavy_atoms": [r"heavy[- ]atoms?(?:\s+count)?", r"\bhac\b"],
    "aromatic_rings": [r"aromatic\s+rings?", r"\baryl\s+rings?", r"arom(?:atic)?\.?\s+rings?"],
    "rings": [r"ring\s+count", r"number\s+of\s+rings", r"(?<!aromatic\s)(?<!aryl\s)\brings\b(?=\s*(?:[<>≤≥=:]|\d))"],
    "fsp3": [r"\bfsp3\b", r"fraction\s+(?:of\s+)?sp3(?:\s+carbons?)?", r"\bf\(sp3\)"],
    "qed": [r"\bqed\b", r"drug-?likeness(?:\s+score)?"],
    "sa_score": [r"\bsa\s?score\b", r"synthetic\s+accessibility(?:\s+score)?", r"\bsas\b", r"\bsa\b(?=\s*(?:[<>≤≥]|under|below|at|of|:))"],
    "logs": [r"\blog\s?s\b", r"predicted\s+solubility", r"\bsolubility\b"],
    "bbb": [r"bbb\s+(?:probability|score)", r"\bp\(bbb\)"],
}
#: Names after a number ("at most 3 rings"): wider than NAMES, where a bare "ring" is mostly a motif.
AFTER_NUMBER: dict[str, list[str]] = {"rings": [r"(?<!aromatic\s)(?<!aryl\s)\brings?\b(?!\s+system)"]}
#: Properties counted in whole numbers.
INTEGER_PROPS = {"hbd", "hba", "rotatable_bonds", "heavy_atoms", "aromatic_rings", "rings"}


def name_pattern(key: str, after_number: bool = False) -> str:
    alts = AFTER_NUMBER.get(key, NAMES[key]) if after_number else NAMES[key]
    return "(?:" + "|".join(alts) + ")"


def to_float(s: str) -> float:
    """A number as written (digits, a typographic minus, or a number word)."""
    t = s.strip().lower()
    if t in NUMBER_WORDS:
        return float(NUMBER_WORDS[t])
    return float(t.replace("−", "-"))
