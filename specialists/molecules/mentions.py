"""Molecules named in free text: SMILES strings and drug names. The one owner of this idea.

Every SMILES-like run of characters is found wherever it sits — between spaces, inside
quotes or brackets, after "SMILES:", in parentheses after the drug's name ("metoprolol
(CC(C)NCC(O)COc1ccc(CCOC)cc1)"), glued to Chinese text — with surrounding punctuation and
wrapping brackets stripped only where the brackets balance, then validated with RDKit.
Drug names come from the offline table (:mod:`specialists.molecules.names`: case-, hyphen- and
salt-insensitive, brand and Chinese names). ``tools.extract.find_smiles`` re-exports
:func:`find_smiles`; the router, the property tool and the design parser all read molecules
through this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Upper-case words that happen to be valid SMILES but are English or clinical abbreviations.
NOT_SMILES = frozenset({
    "CT", "MR", "MRI", "PET", "BBB", "CNS", "MW", "HBD", "HBA", "TPSA", "QED", "SA", "PAINS", "SMILES", "NO", "ON",
    "SO", "OK", "IS", "IN", "OF", "OR", "AND", "CO", "CN", "CS", "SC", "NC", "OC", "CC", "BRENK", "FDA", "NCCN",
    "BTS", "ACR", "ER", "PR", "HR", "HER2", "OS", "CI", "DNA", "RNA", "US", "UK", "NHS", "ICU", "COPD", "NSCLC",
    "SCLC", "HU", "BMI", "PS", "SNOMED", "ICD", "WHO", "I", "C", "N", "O", "S", "P", "F", "B", "CPU", "GPU",
    "RO5", "IC50", "EC50", "KI", "GI", "PK", "PD", "ADME", "ADMET", "LOGP", "LOGS", "CLOGP", "SCC", "BCC", "ICP",
    "OCP", "CCB", "PCI", "CBC", "COC", "CPB", "NOS", "SOB", "BPC", "CNSC", "BCNU", "SBP", "CCF", "PCP", "CBF",
    "PCOS", "NIH", "BMS", "LINT", "SIS", "FIB", "COCO", "SCI", "ICS", "IPF", "CF", "CFS", "NSCC", "PCN",
})
_RUN = re.compile(r"[A-Za-z0-9@+\-\[\]\(\)=#%/\\.*:$]+")
_ORGANIC = r"Cl|Br|[BCNOSPFI]|[bcnosp]"
_OUTSIDE = re.compile(rf"(?:{_ORGANIC}|\d|%\d\d|[-=#$:/\\().*])")
_PREFIX = re.compile(r"^(?:smiles|smi)[:=]+", re.I)
_OPEN, _CLOSE = "([", ")]"


@dataclass(frozen=True)
class SmilesToken:
    """A SMILES-looking string in a text: its characters, whether RDKit parses it, and where it is."""

    text: str
    valid: bool
    start: int = field(default=-1, compare=False)
    end: int = field(default=-1, compare=False)


@dataclass(frozen=True)
class NameMention:
    """A drug named in a text: the table's (parent, INN) name, its SMILES and the words as written."""

    name: str
    smiles: str
    written: str
    start: int
    end: int


@dataclass
class Mentions:
    smiles: list[SmilesToken]
    names: list[NameMention]

    @property
    def valid(self) -> list[SmilesToken]:
        return [t for t in self.smiles if t.valid]

    @property
    def invalid(self) -> list[SmilesToken]:
        return [t for t in self.smiles if not t.valid]


def _matching(tok: str, i: int) -> int:
    """Index of the bracket closing the one at ``tok[i]`` (-1 when it never closes)."""
    opener = tok[i]
    closer = _CLOSE[_OPEN.index(opener)]
    depth = 0
    for j in range(i, len(tok)):
        if tok[j] == opener:
            depth += 1
        elif tok[j] == closer:
            depth -= 1
            if depth == 0:
                return j
    return -1


def _strip(tok: str) -> tuple[str, int]:
    """``tok`` without prefixes, sentence punctuation and wrapping or unbalanced brackets; and how
    many characters came off the front."""
    lead = 0
    prev = None
    while tok and tok != prev:
        prev = tok
        m = _PREFIX.match(tok)
        if m:
            tok, lead = tok[m.end():], lead + m.end()
        while tok and tok[0] in ".:-":
            tok, lead = tok[1:], lead + 1
        tok = tok.rstrip(".,:;!?-")
        if len(tok) > 2 and tok[0] in _OPEN and _matching(tok, 0) == len(tok) - 1:
            if tok[0] == "(" or not _parses(tok):  # "[Na+]" is a bracket atom, "[CCO]" is wrapped
                tok, lead = tok[1:-1], lead + 1
        for o, c in zip(_OPEN, _CLOSE, strict=True):
            while tok.endswith(c) and tok.count(c) > tok.count(o):
                tok = tok[:-1]
            while tok.startswith(o) and tok.count(o) > tok.count(c):
                tok, lead = tok[1:], lead + 1
    return tok, lead


def _parses(tok: str) -> bool:
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit

    with quiet_rdkit():
        mol = Chem.MolFromSmiles(tok)
    return mol is not None and mol.GetNumAtoms() > 0


def looks_like_smiles(tok: str) -> bool:
    """Whether ``tok`` is written in SMILES (valid or not), as opposed to a word, number or formula.

    Outside square brackets only organic-subset atoms, ring digits, bonds and branches may appear;
    a token with SMILES syntax needs two atoms, one without needs three (with a carbon, not all
    lower case). Acronyms that happen to be valid SMILES (CNS, SCC, ...) and small formulas with
    a digit ("NO2", "CF3") are not molecules.
    """
    if not tok or tok.upper() in NOT_SMILES or len(tok) > 5000:
        return False
    brackets = re.findall(r"\[[^\[\]]*\]", tok)
    rest = re.sub(r"\[[^\[\]]*\]", "", tok)
    if "[" in rest or "]" in rest or _OUTSIDE.sub("", rest):
        return False  # a letter that is no organic atom (an English word, "CYP3A4", "COX-2")
    atoms = len(re.findall(_ORGANIC, rest)) + len(brackets)
    if atoms == 0 or re.fullmatch(r"[\d.\-+:/]+", rest) and not brackets:
        return False
    syntax = bool(brackets) or re.search(r"[()=#@/\\%$]", rest) is not None
    digits = re.findall(r"\d", rest)
    if syntax:
        return atoms >= 2
    if digits:
        if re.fullmatch(r"[A-Za-z]+\d+", rest) and any(digits.count(d) % 2 for d in set(digits)):
            return False  # a label or formula ending in digits: "Fsp3", "sp3", "CF3", "NO2"
        # Ring closures only: "c1ccccc1" (or a truncated "c1ccccc") is SMILES; "NO2" is a formula.
        return atoms >= 3 and (re.search(r"[bcnosp]", rest) is not None or all(digits.count(d) % 2 == 0 for d in set(digits)))
    return atoms >= 3 and re.search(r"[Cc]", rest) is not None and not rest.islower() and "-" not in rest


def find_smiles(text: str) -> list[SmilesToken]:
    """SMILES-looking strings in ``text`` in order (each once), marked valid when RDKit parses them."""
    out: list[SmilesToken] = []
    seen: set[str] = set()
    for m in _RUN.finditer(text or ""):
        tok, lead = _strip(m.group(0))
        start = m.start() + lead
        if not _parses(tok):
            # "metoprolol(CC(C)N...)" glued to its name: the bracketed part alone
            g = re.fullmatch(r"([A-Za-z]{3,})\((.+)\)", tok)
            if g and looks_like_smiles(g.group(2)) and _parses(g.group(2)):
                tok, start = g.group(2), start + len(g.group(1)) + 1
        if tok in seen or not looks_like_smiles(tok):
            continue
        seen.add(tok)
        out.append(SmilesToken(tok, _parses(tok), start, start + len(tok)))
    return out


def find_molecules(text: str) -> Mentions:
    """Every SMILES string and drug name in ``text``. A name inside a SMILES token is not a name."""
    from specialists.molecules.names import find_name_mentions

    smiles = find_smiles(text)
    spans = [(t.start, t.end) for t in smiles]
    names = [n for n in find_name_mentions(text) if not any(a <= n.start < b for a, b in spans)]
    return Mentions(smiles, names)
