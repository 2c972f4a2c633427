"""Screening molecules against controlled-substance and chemical-weapon substructures.

The patterns are data (``data/restricted_substructures.yaml``, with sources). Design results
that match are removed and the removal reported; references that match refuse the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class RestrictedMatch:
    id: str
    category: str
    label: str


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[RestrictedMatch, object], ...]:
    from rdkit import Chem

    raw = yaml.safe_load(resources.files("specialists.molecules").joinpath("data/restricted_substructures.yaml").read_text())
    out = []
    for entry in raw:
        query = Chem.MolFromSmarts(entry["smarts"])
        if query is None:  # a broken pattern is a bug in the data file
            raise ValueError(f"restricted_substructures.yaml: invalid SMARTS for {entry['id']}")
        out.append((RestrictedMatch(entry["id"], entry["category"], entry["label"]), query))
    return tuple(out)


def restricted_matches(smiles_or_mol) -> list[RestrictedMatch]:
    """The restricted classes a molecule belongs to (empty when none)."""
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles_or_mol) if isinstance(smiles_or_mol, str) else smiles_or_mol
    if mol is None:
        return []
    return [m for m, q in _patterns() if mol.HasSubstructMatch(q)]
