"""Qualitative words of design requests, each read as stated, cited windows, with a note saying so.

Rule sets: Lipinski et al., Adv Drug Deliv Rev 1997 (rule of five); lead-like as ZINC and MOSES
define it, MW 250–350, logP ≤ 3.5, rotatable bonds ≤ 7 (Irwin & Shoichet, J Chem Inf Model
2005; Polykovskiy et al., Front Pharmacol 2020); rule of three for fragments (Congreve et al.,
Drug Discov Today 2003). Learned properties: "soluble" is logS ≥ −4 (0.1 mM), "BBB-penetrant"
a predicted probability ≥ 0.5. Also: which alert catalogues to avoid, and whether the
chemical-sense filter and the novelty requirement apply.
"""

from __future__ import annotations

import re

from specialists.molecules.request import Range

SOLUBLE_LOGS = -4.0
BBB_PROB = 0.5
#: name, pattern, windows (key -> Range), note.
RULE_SETS = [
    ("rule of five", r"\brule\s+of\s+(?:five|5)\b|\bro5\b|\blipinski(?:[- ](?:compliant|rules?|filter))?\b|\bdrug[- ]like\b",
     {"mw": Range(high=500), "logp": Range(high=5), "hbd": Range(high=5), "hba": Range(high=10)},
     "Lipinski's rule of five (MW ≤ 500, logP ≤ 5, HBD ≤ 5, HBA ≤ 10)"),
    ("lead-like", r"\blead[- ]like\b",
     {"mw": Range(low=250, high=350), "logp": Range(high=3.5), "rotatable_bonds": Range(high=7)},
     "lead-like as ZINC/MOSES define it (MW 250–350, logP ≤ 3.5, rotatable bonds ≤ 7)"),
    ("fragment-like", r"\bfragment[- ]like\b|\brule\s+of\s+(?:three|3)\b|\bro3\b",
     {"mw": Range(high=300, high_strict=True), "logp": Range(high=3), "hbd": Range(high=3), "hba": Range(high=3)},
     "the fragment rule of three (MW < 300, logP ≤ 3, HBD ≤ 3, HBA ≤ 3)"),
]
_CATALOGUES = {"pains": "PAINS", "brenk": "Brenk", "nih": "NIH", "glaxo": "Glaxo", "dundee": "Dundee", "bms": "BMS",
               "mlsmr": "MLSMR", "inpharmatica": "Inpharmatica", "lint": "LINT", "surechembl": "SureChEMBL"}
_NEG = r"(?:no|without|avoid(?:ing)?|free\s+of|exclud(?:e|ing)|not?\s+(?:any|triggering|flagged\s+by))"


def rule_sets(text: str, ranges: dict[str, Range], notes: list[str], used: list[tuple[int, int]]) -> None:
    """Windows of named rule sets, for the properties the request did not set itself."""
    for _label, pattern, windows, words in RULE_SETS:
        m = re.search(pattern, text, re.I)
        if not m:
            continue
        added = [k for k in windows if k not in ranges]
        for k in added:
            ranges[k] = windows[k]
        used.append(m.span())
        kept = [k for k in windows if k not in added]
        notes.append(f"'{m.group(0)}' was read as {words}" + (f"; the request's own {', '.join(kept)} window was kept"
                                                                 if kept else "") + ".")


def learned_terms(text: str, ranges: dict[str, Range], notes: list[str]) -> None:
    t = text.lower()
    if "logs" not in ranges and re.search(r"\b(?:water[- ])?soluble\b|\bgood\s+(?:aqueous\s+)?solubility\b", t) and not \
            re.search(r"\b(?:in|not|poorly|less)\s*[- ]?soluble", t):
        ranges["logs"] = Range(low=SOLUBLE_LOGS)
        notes.append(f"'soluble' was read as predicted logS ≥ {SOLUBLE_LOGS:g} (at least 0.1 mM).")
    if "bbb" not in ranges:
        neg = re.search(r"\b(?:not|non|no)[- ](?:bbb|brain|cns)[- ]?(?:penetrant|permeable|penetrating)|peripherally[- ]"
                        r"restricted|(?:does\s+not|doesn't|do\s+not|don't|should\s+not|shouldn't)\s+cross\s+the\s+"
                        r"(?:bbb|blood[- ]brain\s+barrier)", t)
        pos = re.search(r"\b(?:bbb|brain|cns|blood[- ]brain[- ]barrier)[- ]?(?:penetrant|permeable|penetrating|penetration|"
                        r"permeation|permeant)|cross(?:es|ing)?\s+the\s+(?:bbb|blood[- ]brain\s+barrier)|\bcns[- ]active\b", t)
        if neg:
            ranges["bbb"] = Range(high=BBB_PROB)
            notes.append(f"'not brain-penetrant' was read as predicted BBB probability ≤ {BBB_PROB:g}.")
        elif pos:
            ranges["bbb"] = Range(low=BBB_PROB)
            notes.append(f"'BBB-penetrant' was read as predicted BBB probability ≥ {BBB_PROB:g}.")


def alerts_to_avoid(text: str) -> list[str]:
    """Catalogues the request rules out entirely ("no PAINS", "Brenk-free", "no structural alerts")."""
    t = text.lower()
    out: list[str] = []
    if re.search(rf"\b{_NEG}\s+(?:structural\s+|medchem\s+|med-chem\s+)?(?:alerts?|flags?|liabilit(?:y|ies))\b|\balert[- ]free\b|"
                 r"\bno\s+(?:structural\s+)?alerts\b|\bclean\s+(?:structures?|molecules?|compounds?)\b", t):
        out += ["PAINS", "Brenk"]
    names = "|".join(_CATALOGUES)
    for m in re.finditer(rf"\b{_NEG}\s+(?:any\s+)?((?:(?:{names})(?:\s*(?:,|/|or|and|nor)\s*)?)+)", t):
        out += [_CATALOGUES[n] for n in re.findall(names, m.group(1))]
    for m in re.finditer(rf"\b({names})[- ](?:free|clean|negative)\b", t):
        out.append(_CATALOGUES[m.group(1)])
    return list(dict.fromkeys(out))


def chem_filter_off(text: str) -> str | None:
    """The words that turn the chemical-sense filter off, if any."""
    m = re.search(
        r"\b(?:(?:don't|do\s+not|no\s+need\s+to|never)\s+(?:filter|remove|exclude|drop|reject)(?:\s+out)?\s+(?:any\s+)?"
        r"(?:the\s+)?(?:reactive|unstable|labile)|(?:turn|switch|shut)\s+off\s+the\s+(?:chemical[- ]sense\s+)?(?:filter|"
        r"chemistry\s+filter)|(?:chemical[- ]sense|reactivity|stability)\s+filter\s+(?:off|disabled)|(?:without|no)\s+(?:the\s+)?"
        r"chemical[- ]sense\s+filter|(?:allow|include|permit|keep)\s+(?:any\s+)?(?:reactive|unstable|labile)\s+"
        r"(?:groups?|moieties|functionalit(?:y|ies)|warheads?)|(?:reactive|unstable)\s+groups?\s+(?:are|is)\s+"
        r"(?:fine|ok|okay|allowed|acceptable))", text, re.I)
    return m.group(0) if m else None
