"""Descriptors, rule checks and structural alerts of a molecule (RDKit).

References: Lipinski et al., Adv Drug Deliv Rev 1997/2001 (rule of five); Veber et al.,
J Med Chem 2002; Baell & Holloway, J Med Chem 2010 (PAINS); Brenk et al., ChemMedChem 2008;
Bickerton et al., Nat Chem 2012 (QED); Ertl & Schuffenhauer, J Cheminform 2009 (SA score).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from specialists.molecules.chem import canonical, parse_smiles

VERSION = "rdkit-descriptors-1"


@dataclass(frozen=True)
class RuleCheck:
    name: str
    passed: bool
    violations: list[str]


@dataclass(frozen=True)
class Alert:
    catalogue: str  # "PAINS" | "Brenk"
    name: str


@dataclass
class MoleculeProperties:
    smiles: str
    mw: float
    logp: float
    tpsa: float
    hbd: int
    hba: int
    rotatable_bonds: int
    heavy_atoms: int
    qed: float
    sa_score: float
    lipinski: RuleCheck
    veber: RuleCheck
    alerts: list[Alert] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def _catalogues():
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

    out = {}
    for label, cats in (
        ("PAINS", [FilterCatalogParams.FilterCatalogs.PAINS]),
        ("Brenk", [FilterCatalogParams.FilterCatalogs.BRENK]),
    ):
        params = FilterCatalogParams()
        for c in cats:
            params.AddCatalog(c)
        out[label] = FilterCatalog(params)
    return out


@lru_cache(maxsize=1)
def _sascorer():
    import os
    import sys

    from rdkit.Chem import RDConfig

    path = os.path.join(RDConfig.RDContribDir, "SA_Score")
    if path not in sys.path:
        sys.path.append(path)
    import sascorer  # type: ignore[import-not-found]

    return sascorer


def structural_alerts(mol, catalogues: tuple[str, ...] = ("PAINS", "Brenk")) -> list[Alert]:
    """Alerts from the PAINS (A/B/C) and Brenk catalogues that match ``mol``."""
    found: list[Alert] = []
    for label in catalogues:
        for entry in _catalogues()[label].GetMatches(mol):
            found.append(Alert(label, entry.GetDescription()))
    return found


def lipinski_check(mw: float, logp: float, hbd: int, hba: int) -> RuleCheck:
    """Rule of five: at most one of MW > 500, logP > 5, HBD > 5, HBA > 10 is allowed."""
    v = []
    if mw > 500:
        v.append(f"MW {mw:.1f} > 500")
    if logp > 5:
        v.append(f"logP {logp:.2f} > 5")
    if hbd > 5:
        v.append(f"HBD {hbd} > 5")
    if hba > 10:
        v.append(f"HBA {hba} > 10")
    return RuleCheck("Lipinski", len(v) <= 1, v)


def veber_check(rotatable_bonds: int, tpsa: float) -> RuleCheck:
    """Veber: rotatable bonds ≤ 10 and TPSA ≤ 140 Å²."""
    v = []
    if rotatable_bonds > 10:
        v.append(f"rotatable bonds {rotatable_bonds} > 10")
    if tpsa > 140:
        v.append(f"TPSA {tpsa:.1f} > 140")
    return RuleCheck("Veber", not v, v)


def raw_descriptors(mol, with_scores: bool = True) -> dict[str, float]:
    """Unrounded descriptors of ``mol``: what constraints are checked on (never the rounded display values).

    Keys: ``mw`` (average, Da), ``logp`` (Crippen), ``tpsa`` (Å², N and O only), ``hbd``/``hba``
    (Lipinski counts), ``rotatable_bonds``, ``heavy_atoms``, ``aromatic_rings``, ``rings``,
    ``fsp3``; with ``with_scores`` also ``qed`` and ``sa_score`` (the slow ones).
    """
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

    out: dict[str, float] = {
        "mw": Descriptors.MolWt(mol),
        "logp": Crippen.MolLogP(mol),
        "tpsa": rdMolDescriptors.CalcTPSA(mol),
        "hbd": Lipinski.NumHDonors(mol),
        "hba": Lipinski.NumHAcceptors(mol),
        "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds(mol),
        "heavy_atoms": mol.GetNumHeavyAtoms(),
        "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings(mol),
        "rings": rdMolDescriptors.CalcNumRings(mol),
        "fsp3": rdMolDescriptors.CalcFractionCSP3(mol),
    }
    if with_scores:
        from rdkit.Chem import QED

        out["qed"] = QED.qed(mol)
        out["sa_score"] = _sascorer().calculateScore(mol)
    return out


def compute_properties(smiles_or_mol) -> MoleculeProperties:
    """Descriptors, rule checks and alerts for one molecule.

    Raises:
        InvalidInput: the SMILES is invalid (see :func:`parse_smiles`).
    """
    from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors

    mol = parse_smiles(smiles_or_mol) if isinstance(smiles_or_mol, str) else smiles_or_mol
    mw = Descriptors.MolWt(mol)
    logp = Crippen.MolLogP(mol)
    tpsa = rdMolDescriptors.CalcTPSA(mol)
    hbd = Lipinski.NumHDonors(mol)
    hba = Lipinski.NumHAcceptors(mol)
    rot = rdMolDescriptors.CalcNumRotatableBonds(mol)
    return MoleculeProperties(
        smiles=canonical(mol),
        mw=round(mw, 2),
        logp=round(logp, 2) + 0.0,  # no "-0.00"
        tpsa=round(tpsa, 1),
        hbd=hbd,
        hba=hba,
        rotatable_bonds=rot,
        heavy_atoms=mol.GetNumHeavyAtoms(),
        qed=round(QED.qed(mol), 3),
        sa_score=round(_sascorer().calculateScore(mol), 2),
        lipinski=lipinski_check(mw, logp, hbd, hba),
        veber=veber_check(rot, tpsa),
        alerts=structural_alerts(mol),
    )
