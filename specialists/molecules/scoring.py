"""Scoring candidates against a :class:`DesignRequest`: every constraint recomputed from the structure.

``score`` ranks molecules and guides the search. For a molecule it is

    score = D × (0.5 + 0.5 × Q)

where D is the geometric mean of per-constraint desirabilities (1 when the constraint holds,
falling as exp(−distance / scale) outside it; 0 for a missing scaffold or a forbidden alert) and
Q is QED, or the mean of QED and the similarity to the nearest reference for analog requests.
A molecule *passes* when every constraint holds exactly (not softly). One constraint is always
added, ``reasonable``: no double bond in a 3/4-membered ring, no cumulated double bonds, no
peroxide or N/O chains, no ring above 8 atoms, no net charge or radicals, SA score ≤ 6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from specialists.molecules.chem import quiet_rdkit
from specialists.molecules.request import LEARNED, DesignRequest

SCORE_FORMULA = "score = D × (0.5 + 0.5 × Q); D = geometric mean of constraint desirabilities, Q = QED (mean of QED and similarity for analogs)"
#: How far outside a window a value may stray before its desirability falls to 1/e.
_SCALE = {"mw": 40.0, "logp": 0.7, "tpsa": 15.0, "hbd": 1.0, "hba": 1.5, "rotatable_bonds": 1.5, "heavy_atoms": 3.0,
          "qed": 0.1, "sa_score": 0.7, "logs": 0.6, "bbb": 0.12}


@dataclass
class Scored:
    smiles: str
    score: float
    passed: bool
    properties: dict[str, float]
    constraints: dict[str, bool]
    similarity: float | None
    alerts: list[str] = field(default_factory=list)
    uncertainty: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _fpgen():
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


@lru_cache(maxsize=1)
def _unreasonable_patterns():
    from rdkit import Chem

    return [
        (Chem.MolFromSmarts("[r3,r4;!a]=[r3,r4;!a]"), "double bond inside a 3- or 4-membered ring"),
        (Chem.MolFromSmarts("*=[!S;!P;!Cl]=*"), "cumulated double bonds"),
        (Chem.MolFromSmarts("[#8]-[#8]"), "peroxide"),
        (Chem.MolFromSmarts("[#7,#8;!R]-[#7,#8;!R]-[#7,#8;!R]"), "chain of three heteroatoms"),
    ]


def unreasonable(mol, sa_score: float) -> str | None:
    """Why a generated structure is chemically implausible (strained, cumulated, macrocyclic, charged), or None."""
    for patt, why in _unreasonable_patterns():
        if mol.HasSubstructMatch(patt):
            return why
    if any(len(r) > 8 for r in mol.GetRingInfo().AtomRings()):
        return "ring larger than 8 atoms"
    # Net charge or radicals; charge-separated neutral groups (nitro, N-oxide) are allowed.
    if sum(a.GetFormalCharge() for a in mol.GetAtoms()) != 0 or any(a.GetNumRadicalElectrons() for a in mol.GetAtoms()):
        return "charged or radical"
    if sa_score > 6.0:
        return "SA score above 6"
    return None


@lru_cache(maxsize=1)
def _drug_set() -> frozenset[str]:
    from specialists.molecules.names import _table

    return frozenset(_table().values())


class Scorer:
    """Scores molecules for one request; counts every call (the oracle budget)."""

    def __init__(self, req: DesignRequest, learned: bool | None = None):
        from rdkit import Chem

        self.req = req
        self.calls = 0
        self.ref_fps = [_fpgen().GetFingerprint(Chem.MolFromSmiles(s)) for s in req.references]
        self.ref_set = set(req.references)
        self.scaffold = Chem.MolFromSmiles(req.scaffold) if req.scaffold else None
        # Learned predictions are costly: compute them only when a constraint names them.
        self.learned = bool(LEARNED & set(req.ranges)) if learned is None else learned
        self.cache: dict[str, Scored] = {}

    def similarity(self, mol) -> float | None:
        from rdkit import DataStructs

        if not self.ref_fps:
            return None
        return max(DataStructs.BulkTanimotoSimilarity(_fpgen().GetFingerprint(mol), self.ref_fps))

    def score_smiles(self, smiles_list: list[str]) -> list[Scored | None]:
        """Score each SMILES (None where RDKit cannot sanitise it); canonical duplicates are cached."""
        from rdkit import Chem

        mols = []
        for s in smiles_list:
            with quiet_rdkit():
                mol = Chem.MolFromSmiles(s) if s else None
            if mol is None or mol.GetNumAtoms() == 0 or len(Chem.GetMolFrags(mol)) > 1:
                mols.append(None)
            else:
                mols.append(mol)
        return self.score_mols(mols)

    def score_mols(self, mols: list) -> list[Scored | None]:
        from rdkit import Chem

        canon = [Chem.MolToSmiles(m) if m is not None else None for m in mols]
        todo = [(c, m) for c, m in zip(canon, mols, strict=True) if c is not None and c not in self.cache]
        todo = list({c: (c, m) for c, m in todo}.values())
        learned: dict[str, Any] = {}
        if todo and self.learned:
            from specialists.molecules.learned import predict_learned

            for p in predict_learned([c for c, _ in todo]):
                learned[p.smiles] = p
        for c, m in todo:
            self.calls += 1
            self.cache[c] = self._score_one(c, m, learned.get(c))
        return [self.cache[c] if c is not None else None for c in canon]

    def _score_one(self, smiles: str, mol, pred) -> Scored:
        from specialists.molecules.properties import compute_properties

        p = compute_properties(mol)
        props: dict[str, float] = {
            "mw": p.mw, "logp": p.logp, "tpsa": p.tpsa, "hbd": p.hbd, "hba": p.hba,
            "rotatable_bonds": p.rotatable_bonds, "heavy_atoms": p.heavy_atoms, "qed": p.qed, "sa_score": p.sa_score,
        }
        unc: dict[str, Any] = {}
        if pred is not None:
            props["logs"], props["bbb"] = pred.logs, pred.bbb_probability
            unc = {"logs_std": pred.logs_std, "bbb_std": pred.bbb_std, "in_domain": pred.in_domain,
                   "nearest_training_similarity": min(pred.logs_nearest_similarity, pred.bbb_nearest_similarity)}
        constraints: dict[str, bool] = {}
        desir: list[float] = []
        for key, rng in self.req.ranges.items():
            v = props[key]
            constraints[key] = rng.contains(v)
            desir.append(math.exp(-rng.distance(v) / _SCALE[key]))
        sim = self.similarity(mol)
        if self.req.references and self.req.min_similarity is not None:
            constraints["similarity"] = sim is not None and sim >= self.req.min_similarity
            gap = max(0.0, self.req.min_similarity - (sim or 0.0))
            desir.append(math.exp(-gap / 0.08))
        if self.scaffold is not None:
            ok = mol.HasSubstructMatch(self.scaffold)
            constraints["scaffold"] = ok
            desir.append(1.0 if ok else 0.0)
        alerts = [f"{a.catalogue}: {a.name}" for a in p.alerts]
        for cat in self.req.avoid_alerts:
            hit = any(a.catalogue == cat for a in p.alerts)
            constraints[f"no_{cat.lower()}"] = not hit
            desir.append(0.0 if hit else 1.0)
        # Always required: generators (the RL prior especially) can propose strained or exotic graphs.
        constraints["reasonable"] = unreasonable(mol, p.sa_score) is None
        desir.append(1.0 if constraints["reasonable"] else 0.0)
        if self.req.novel:
            novel = smiles not in self.ref_set and smiles not in _drug_set()
            constraints["novel"] = novel
            desir.append(1.0 if novel else 0.0)
        d = math.exp(sum(math.log(max(x, 1e-9)) for x in desir) / len(desir)) if desir else 1.0
        q = p.qed if sim is None else 0.5 * (p.qed + sim)
        return Scored(
            smiles=smiles, score=round(d * (0.5 + 0.5 * q), 4), passed=all(constraints.values()),
            properties=props, constraints=constraints, similarity=None if sim is None else round(sim, 3),
            alerts=alerts, uncertainty=unc,
        )


def stop_reason(scorer: Scorer, target: int, budget: int, deadline: float) -> str | None:
    """Why a search should stop now (enough passing molecules, oracle budget, time), or None.

    Shared by both search methods so every run ends for the same stated reasons.
    """
    import time

    if sum(1 for s in scorer.cache.values() if s.passed) >= target:
        return "target reached"
    if scorer.calls >= budget:
        return "oracle budget"
    if time.monotonic() > deadline:
        return "time budget"
    return None
