"""Scoring candidates against a :class:`DesignRequest`: every constraint recomputed from the structure.

``score`` ranks molecules and guides the search. For a molecule it is

    score = D × (0.5 + 0.5 × Q)

where D is the geometric mean of per-constraint desirabilities (1 when the constraint holds,
falling as exp(−distance / scale) outside it; 0 for a missing motif, a forbidden alert or a
chemical-sense finding) and Q is QED, or the mean of QED and the similarity to the nearest
reference for analog requests. A molecule *passes* when every constraint holds exactly: on
unrounded values, with the comparison the request used ("under 3" is ``< 3``). The costly
checks — alert catalogues and novelty — run only for molecules that pass everything else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from specialists.molecules.chem import quiet_rdkit
from specialists.molecules.request import LEARNED, DesignRequest

SCORE_FORMULA = ("score = D × (0.5 + 0.5 × Q); D = geometric mean of constraint desirabilities, Q = QED "
                 "(mean of QED and similarity for analogs)")
#: How far outside a window a value may stray before its desirability falls to 1/e.
_SCALE = {"mw": 40.0, "logp": 0.7, "tpsa": 15.0, "hbd": 1.0, "hba": 1.5, "rotatable_bonds": 1.5, "heavy_atoms": 3.0,
          "aromatic_rings": 1.0, "rings": 1.0, "fsp3": 0.1, "qed": 0.1, "sa_score": 0.7, "logs": 0.6, "bbb": 0.12}


@dataclass
class Scored:
    smiles: str
    score: float
    passed: bool
    properties: dict[str, float]  # unrounded
    constraints: dict[str, bool]  # only the checks that were run (the costly ones only when the rest held)
    similarity: float | None  # unrounded
    alerts: list[str] = field(default_factory=list)  # catalogue alerts, "Brenk: aldehyde"
    findings: list[str] = field(default_factory=list)  # chemical-sense findings (hard ones when the filter is off)
    warnings: list[str] = field(default_factory=list)  # findings that are warnings only
    novel: bool | None = None
    uncertainty: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _fpgen():
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def unreasonable(mol, sa_score: float) -> str | None:
    """Why a structure fails the chemical-sense filter's structural checks, or None (kept for callers)."""
    from specialists.molecules.chemsense import findings

    hard = [f for f in findings(mol, sa_score, catalogues=False) if f.hard]
    return hard[0].label if hard else None


class Scorer:
    """Scores molecules for one request; counts every call (the oracle budget)."""

    def __init__(self, req: DesignRequest, learned: bool | None = None):
        from rdkit import Chem

        from specialists.molecules.chemsense import exempt_ids

        self.req = req
        self.calls = 0
        self.ref_fps = [_fpgen().GetFingerprint(Chem.MolFromSmiles(s)) for s in req.references]
        self.ref_set = set(req.references)
        self.motifs = [(m, m.mol()) for m in req.motifs]
        self.kept_queries = [q for m, q in self.motifs if m.keep and q is not None]
        # Learned predictions are costly: compute them only when a constraint names them.
        self.learned = bool(LEARNED & set(req.ranges)) if learned is None else learned
        seeds = req.references + [m.smiles for m in req.kept if m.smiles]
        self.exempt = exempt_ids(seeds) if req.chem_filter else set()
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
            with quiet_rdkit():
                self.cache[c] = self._score_one(c, m, learned.get(c))
        return [self.cache[c] if c is not None else None for c in canon]

    def _score_one(self, smiles: str, mol, pred) -> Scored:
        from specialists.molecules.chemsense import catalogue_findings, findings
        from specialists.molecules.properties import raw_descriptors

        props: dict[str, float] = raw_descriptors(mol, with_scores=True)
        unc: dict[str, Any] = {}
        if pred is not None:
            props["logs"], props["bbb"] = pred.logs, pred.bbb_probability
            unc = {"logs_std": pred.logs_std, "bbb_std": pred.bbb_std, "in_domain": pred.in_domain,
                   "nearest_training_similarity": min(pred.logs_nearest_similarity, pred.bbb_nearest_similarity)}
        req = self.req
        constraints: dict[str, bool] = {}
        desir: list[float] = []
        for key, rng in req.ranges.items():
            v = props[key]
            constraints[key] = rng.contains(v)
            desir.append(math.exp(-rng.distance(v) / _SCALE[key]))
        sim = self.similarity(mol)
        if req.references and req.min_similarity is not None:
            s = sim or 0.0
            constraints["similarity"] = s > req.min_similarity if req.similarity_strict else s >= req.min_similarity
            desir.append(math.exp(-max(0.0, req.min_similarity - s) / 0.08))
        for motif, query in self.motifs:
            has = query is not None and mol.HasSubstructMatch(query)
            ok = has if motif.keep else not has
            constraints[f"{'contains' if motif.keep else 'lacks'} {motif.name}"] = ok
            desir.append(1.0 if ok else 0.0)
        structural = findings(mol, props["sa_score"], catalogues=False)
        hard = [f for f in structural if f.hard and f.id not in self.exempt]
        if req.chem_filter:
            constraints["chemical_sense"] = not hard
            desir.append(0.0 if hard else 1.0)
        if req.novel and smiles in self.ref_set:
            constraints["novel"] = False
            desir.append(0.0)
        alerts: list[str] = []
        warnings = [f.text() for f in structural if f not in hard] + ([] if req.chem_filter else [f.text() for f in hard])
        found = [f.text() for f in hard] if req.chem_filter else []
        novel: bool | None = None
        if all(constraints.values()):  # the costly checks, only for a molecule that meets everything else
            cat = catalogue_findings(mol)
            alerts = [f"{f.source}: {f.label}" for f in cat]
            for a in req.avoid_alerts:
                hit = any(f.source == a for f in cat)
                constraints[f"no_{a.lower()}"] = not hit
                desir.append(0.0 if hit else 1.0)
            hard_cat = [f for f in cat if f.hard and f.id not in self.exempt and f.source not in req.avoid_alerts]
            if req.chem_filter and hard_cat:
                constraints["chemical_sense"] = False
                desir.append(0.0)
                found += [f.text() for f in hard_cat]
            warnings += [f.text() for f in cat if f not in hard_cat or not req.chem_filter]
            if req.novel and constraints.get("novel", True):
                from specialists.molecules.novelty import is_known

                novel = not is_known(mol)
                constraints["novel"] = novel
                desir.append(1.0 if novel else 0.0)
        d = math.exp(sum(math.log(max(x, 1e-9)) for x in desir) / len(desir)) if desir else 1.0
        q = props["qed"] if sim is None else 0.5 * (props["qed"] + sim)
        return Scored(
            smiles=smiles, score=round(d * (0.5 + 0.5 * q), 4), passed=all(constraints.values()) and (
                not alerts_pending(req, constraints)),
            properties=props, constraints=constraints, similarity=sim, alerts=alerts, findings=found,
            warnings=list(dict.fromkeys(warnings)), novel=novel, uncertainty=unc,
        )


def alerts_pending(req: DesignRequest, constraints: dict[str, bool]) -> bool:
    """Whether a required costly check was skipped (it is skipped only when something else failed)."""
    return any(f"no_{a.lower()}" not in constraints for a in req.avoid_alerts) or (req.novel and "novel" not in constraints)


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
