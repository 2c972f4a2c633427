"""The words of design requests shared by the rule-based parser and the LLM fill: numbers,
comparators and the names of each constrainable property."""

from __future__ import annotations

NUM = r"([-+−]?\d+(?:\.\d+)?)"
UNIT = r"(?:\s*(?:da\b|daltons?\b|g/mol\b|å²|å\^?2|a\^?2\b|angstroms?(?:\s*squared|\^?2)?))?"
LOW = r"(?:>=|≥|=>|>|(?<!not )above|(?<!not )over|(?<!no )more than|greater than|at least|no less than|no fewer than|minimum(?: of)?|min\.?|not below)"
HIGH = r"(?:<=|≤|=<|<|(?<!not )under|(?<!not )below|(?<!no )less than|(?<!no )fewer than|at most|no more than|maximum(?: of)?|max\.?|up to|not above)"
BRIDGE = r"\s*(?:of|should be|must be|is|are|:|=|kept|around)?\s*"

#: Property key → regex alternatives naming it (longest first where they overlap).
NAMES: dict[str, list[str]] = {
    "mw": [r"molecular weight", r"molecular mass", r"mol\.? ?wt", r"\bmw\b", r"\bmass\b", r"\bweight\b"],
    "logp": [r"c?log ?p\b", r"lipophilicity", r"\bxlogp\b"],
    "tpsa": [r"\bt?psa\b", r"polar surface area"],
    "hbd": [r"\bhbd\b", r"h-?bond donors?", r"hydrogen[- ]bond donors?", r"\bdonors?\b"],
    "hba": [r"\bhba\b", r"h-?bond acceptors?", r"hydrogen[- ]bond acceptors?", r"\bacceptors?\b"],
    "rotatable_bonds": [r"rotatable bonds?", r"\brot\.? ?bonds?\b", r"\brotb\b"],
    "heavy_atoms": [r"heavy atoms?"],
    "qed": [r"\bqed\b", r"drug-?likeness"],
    "sa_score": [r"\bsa ?score\b", r"synthetic accessibility(?: score)?", r"\bsas\b"],
    "logs": [r"\blog ?s\b", r"predicted solubility", r"\bsolubility\b"],
    "bbb": [r"bbb (?:probability|score)", r"\bp\(bbb\)"],
}
#: Properties counted in whole numbers.
INTEGER_PROPS = {"hbd", "hba", "rotatable_bonds", "heavy_atoms"}


def to_float(s: str) -> float:
    """A number as written, with a typographic minus allowed."""
    return float(s.replace("−", "-"))
