"""Parsing molecules safely: RDKit with its console noise silenced and errors turned into words."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from galen.errors import InvalidInput

MAX_HEAVY_ATOMS = 500  # bounds the work of one property call; drug-like molecules have < 70


_quiet_depth = 0  # nested (or concurrent) quiet blocks: only the last one out turns logging back on
_quiet_lock = threading.Lock()


@contextmanager
def quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's stderr logging inside the block (parse failures are reported by us).

    Blocks nest: an inner block leaving does not turn logging back on inside an outer one.
    """
    global _quiet_depth
    from rdkit import RDLogger

    with _quiet_lock:
        RDLogger.DisableLog("rdApp.*")
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                RDLogger.EnableLog("rdApp.*")


def _parse_problem(smiles: str) -> str:
    from rdkit import Chem

    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None:
        if smiles.count("(") != smiles.count(")"):
            return "its parentheses do not match"
        if smiles.count("[") != smiles.count("]"):
            return "its square brackets do not match"
        digits = re.findall(r"%\d\d|\d", re.sub(r"\[[^\]]*\]", "", smiles))
        if any(digits.count(d) % 2 for d in set(digits)):
            return "a ring is opened but never closed"
        return "it does not follow SMILES syntax"
    problems = Chem.DetectChemistryProblems(mol)
    if problems:
        return problems[0].Message().rstrip(".").lower()
    return "RDKit cannot sanitise it"


def parse_smiles(smiles: str):  # -> rdkit.Chem.Mol
    """Parse and sanitise ``smiles``.

    Raises:
        InvalidInput: the SMILES is empty, unparsable, chemically impossible or too large.
    """
    from rdkit import Chem

    text = (smiles or "").strip()
    if not text:
        raise InvalidInput("No molecule was given.", hint="Give a SMILES string such as CC(=O)Oc1ccccc1C(=O)O.")
    if len(text) > 5000:
        raise InvalidInput(f"The SMILES is {len(text)} characters long; Galen accepts up to 5000.")
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(text)
    if mol is None or mol.GetNumAtoms() == 0:
        raise InvalidInput(
            f"'{_short(text)}' is not a valid SMILES: {_parse_problem(text)}.",
            hint="Check the string, or give the drug's name instead.",
        )
    if mol.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
        raise InvalidInput(
            f"The molecule has {mol.GetNumHeavyAtoms()} heavy atoms; Galen handles up to {MAX_HEAVY_ATOMS}.",
            hint="Property rules and predictors are meant for small molecules.",
        )
    return mol


def canonical(mol) -> str:
    from rdkit import Chem

    return Chem.MolToSmiles(mol)


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
