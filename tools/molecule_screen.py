"""Every molecule a piece of text names or gives, with the restricted classes it belongs to.

The agent's policy step screens every request with this before any tool runs (for every tool,
not only design). Molecules are found three ways, each by its one owner: SMILES by
:func:`tools.extract.find_smiles`, drug names by the offline table
(:func:`specialists.molecules.names.find_drug_names`), and common or systematic names of
restricted classes by :func:`specialists.molecules.screening.restricted_name_matches`. Each
found molecule is checked against the restricted-substructure data for requests
(:func:`specialists.molecules.screening.restricted_matches` with ``purpose="request"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RestrictedClass:
    id: str
    category: str  # chemical-weapon, controlled-substance, toxin
    label: str


@dataclass(frozen=True)
class MoleculeMention:
    """A molecule in the text: the words that named it, how, its SMILES when known, its classes."""

    text: str
    how: Literal["smiles", "drug-name", "name", "systematic-name"]
    smiles: str | None
    classes: tuple[RestrictedClass, ...]

    @property
    def restricted(self) -> bool:
        return bool(self.classes)


def molecules_in(text: str) -> list[MoleculeMention]:
    """The molecules ``text`` names or gives, restricted or not, in the order found."""
    from specialists.molecules.names import find_drug_names
    from specialists.molecules.screening import restricted_matches, restricted_name_matches
    from tools.extract import find_smiles

    def classes_of(smiles: str) -> tuple[RestrictedClass, ...]:
        return tuple(RestrictedClass(m.id, m.category, m.label) for m in restricted_matches(smiles, purpose="request"))

    out: list[MoleculeMention] = []
    for tok in find_smiles(text):
        if tok.valid:
            out.append(MoleculeMention(tok.text, "smiles", tok.text, classes_of(tok.text)))
    for name, smiles in find_drug_names(text):
        out.append(MoleculeMention(name, "drug-name", smiles, classes_of(smiles)))
    for hit in restricted_name_matches(text, purpose="request"):
        m = hit.match
        out.append(MoleculeMention(hit.text, hit.how, None, (RestrictedClass(m.id, m.category, m.label),)))
    return out


def attachment_smiles(paths: list[str], limit: int = 500) -> list[str]:
    """SMILES of the molecules in attached molecule files (CSV/TSV/SMI tables, SDF), at most ``limit``.

    The policy step screens them with the request's own words, so "make these more potent" with an
    SDF of opioids is judged like the same request with the SMILES typed in. A file that cannot be
    read gives nothing here (the tool that reads it says why).
    """
    from rdkit import Chem

    from galen.errors import GalenError
    from specialists.molecules.chem import quiet_rdkit
    from specialists.molecules.screen_io import read_molecules

    out: list[str] = []
    for path in paths:
        try:
            mf = read_molecules(path)
        except GalenError:
            continue
        for rec in mf.records:
            if len(out) >= limit:
                return out
            if rec.kind == "smiles":
                out.append(rec.text.strip())
                continue
            with quiet_rdkit():
                mol = Chem.MolFromMolBlock(rec.text)
            if mol is not None:
                out.append(Chem.MolToSmiles(mol))
    return out
