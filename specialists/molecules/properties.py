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


@lru_cache(maxsize=1)
def _screened():
    """The alert catalogues and QED's own alert list, each behind the pattern-fingerprint screen."""
    from rdkit.Chem import QED

    from specialists.molecules.substructure_screen import ScreenedCatalogue, ScreenedPatterns

    return {label: ScreenedCatalogue.of(c) for label, c in _catalogues().items()}, ScreenedPatterns.of(QED.StructuralAlerts)


def structural_alerts(mol, catalogues: tuple[str, ...] = ("PAINS", "Brenk"), pattern=None) -> list[Alert]:
    """Alerts from the PAINS (A/B/C) and Brenk catalogues that match ``mol``.

    The same alerts, in the same order, as each catalogue's ``GetMatches``; entries that cannot match
    are ruled out first by the pattern fingerprint (``pattern``: ``mol``'s, where the caller has it).
    """
    from specialists.molecules.substructure_screen import pattern_bits

    bits = pattern_bits(mol) if pattern is None else pattern
    screened, _ = _screened()
    return [Alert(label, entry.GetDescription()) for label in catalogues
            for entry in screened[label].matches(mol, bits)]


def qed_of(mol, mw: float, logp: float, hbd: int, tpsa: float, pattern) -> float:
    """``QED.qed(mol)``, reusing descriptors already computed for ``mol`` (unrounded) and its pattern fingerprint.

    QED reads its properties from ``Chem.RemoveHs(mol)``. A molecule without hydrogen atoms keeps every
    atom there (it is only sanitised again), so its weight, Crippen logP (the costly one), donors and
    TPSA are the caller's, and its alerts are counted behind the screen; the rest is QED's own code.
    A molecule with hydrogen (or dummy) atoms goes through ``QED.qed`` itself.
    """
    from rdkit import Chem
    from rdkit.Chem import QED
    from rdkit.Chem import rdMolDescriptors as rdmd

    if mol.GetNumHeavyAtoms() != mol.GetNumAtoms():
        return QED.qed(mol)
    props = QED.QEDproperties(
        MW=mw, ALOGP=logp,
        HBA=sum(len(mol.GetSubstructMatches(p)) for p in QED.Acceptors if mol.HasSubstructMatch(p)),
        HBD=hbd, PSA=tpsa,
        ROTB=rdmd.CalcNumRotatableBonds(mol, rdmd.NumRotatableBondsOptions.Strict),
        AROM=len(Chem.GetSSSR(Chem.DeleteSubstructs(Chem.Mol(mol), QED.AliphaticRings))),
        ALERTS=_screened()[1].count_matching(mol, pattern),
    )
    return QED.qed(mol, qedProperties=props)


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
    mol = parse_smiles(smiles_or_mol) if isinstance(smiles_or_mol, str) else smiles_or_mol
    return properties_and_raw(mol)[0]


def properties_and_raw(mol) -> tuple[MoleculeProperties, dict[str, float]]:
    """:func:`compute_properties` of a parsed molecule, with the unrounded ``mw``, ``logp``, ``tpsa``,
    ``hbd``, ``hba`` and ``rotatable_bonds`` it computed (the learned models' descriptors start with
    these: the screen hands them on rather than computing them twice)."""
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

    from specialists.molecules.substructure_screen import pattern_bits

    mw = Descriptors.MolWt(mol)
    logp = Crippen.MolLogP(mol)
    tpsa = rdMolDescriptors.CalcTPSA(mol)
    hbd = Lipinski.NumHDonors(mol)
    hba = Lipinski.NumHAcceptors(mol)
    rot = rdMolDescriptors.CalcNumRotatableBonds(mol)
    pattern = pattern_bits(mol)  # shared by the PAINS, Brenk and QED alert screens
    props = MoleculeProperties(
        smiles=canonical(mol),
        mw=round(mw, 2),
        logp=round(logp, 2) + 0.0,  # no "-0.00"
        tpsa=round(tpsa, 1),
        hbd=hbd,
        hba=hba,
        rotatable_bonds=rot,
        heavy_atoms=mol.GetNumHeavyAtoms(),
        qed=round(qed_of(mol, mw, logp, hbd, tpsa, pattern), 3),
        sa_score=round(_sascorer().calculateScore(mol), 2),
        lipinski=lipinski_check(mw, logp, hbd, hba),
        veber=veber_check(rot, tpsa),
        alerts=structural_alerts(mol, pattern=pattern),
    )
    return props, {"mw": mw, "logp": logp, "tpsa": tpsa, "hbd": hbd, "hba": hba, "rotatable_bonds": rot}
