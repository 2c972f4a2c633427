"""One interface over both searches: ``design(request) -> DesignResult``.

Both methods stop at the first of: enough passing molecules, the oracle budget (molecules
scored), the time budget. Every returned molecule is sanitised, canonical, unique, re-checked
against every constraint by recomputation (:class:`Scorer`), and ranked by its score.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from galen.errors import ModelUnavailable
from specialists.molecules.request import DesignRequest, check_feasible
from specialists.molecules.scoring import SCORE_FORMULA, Scored, Scorer

VERSION = "design-1"
_OVERSAMPLE = 3  # search for this many times the requested count, so ranking has a choice


@dataclass
class DesignResult:
    molecules: list[Scored]
    scored: int
    passed: int
    requested: int
    method: str
    stopped: str
    seconds: float
    score_formula: str = SCORE_FORMULA
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _seed_molecules(req: DesignRequest, rng: random.Random, n: int = 80) -> list:
    """Starting molecules for the GA: the references, the scaffold, and drug-like molecules."""
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit

    seeds = [Chem.MolFromSmiles(s) for s in req.references]
    if req.scaffold:
        seeds.append(Chem.MolFromSmiles(req.scaffold))
    if req.references:
        return seeds
    pool = _generic_pool()
    core = Chem.MolFromSmiles(req.scaffold) if req.scaffold else None
    picks = rng.sample(pool, min(len(pool), 4 * n))
    with quiet_rdkit():
        for s in picks:
            m = Chem.MolFromSmiles(s)
            if m is not None and (core is None or m.HasSubstructMatch(core)):
                seeds.append(m)
            if len(seeds) >= n:
                break
    return seeds


@lru_cache(maxsize=1)
def _generic_pool() -> list[str]:
    """Drug-like starting points: the MOSES test set (from the molsets wheel) or, failing that, drugs."""
    try:
        from specialists.molecules.generation_metrics import read_moses

        return read_moses("test.csv.gz")[:20000]
    except (ModelUnavailable, OSError):
        from specialists.molecules.names import _table

        return sorted(set(_table().values()))


def design(req: DesignRequest) -> DesignResult:
    """Search for molecules that satisfy ``req`` and return the best ``req.count`` that pass.

    Raises:
        InvalidInput: contradictory constraints (checked before any search).
        ModelUnavailable: the REINVENT method without prior weights, or learned-property
            constraints without their weights.
    """
    check_feasible(req)
    _refuse_restricted_references(req)
    start = time.monotonic()
    deadline = start + req.time_budget_s
    target = req.count * _OVERSAMPLE
    scorer = Scorer(req)
    versions = {"design": VERSION}
    if scorer.learned:
        from specialists.molecules.learned import load_ensemble

        versions.update({"logs": load_ensemble("logs").version, "bbb": load_ensemble("bbb").version})
    if req.method == "reinvent":
        from specialists.molecules.prior import load_prior
        from specialists.molecules.reinvent import run_reinvent

        prior = load_prior()
        versions["prior"] = prior.version
        stopped = run_reinvent(scorer, prior, req.seed, deadline, req.oracle_budget, target)
    else:
        from specialists.molecules.ga import run_ga

        rng = random.Random(req.seed)
        stopped = run_ga(scorer, _seed_molecules(req, rng), rng, deadline, req.oracle_budget, target)
    passed = sorted((s for s in scorer.cache.values() if s.passed), key=lambda s: (-s.score, s.smiles))
    passed, removed = _screen(passed)
    top = passed[: req.count]
    if scorer.learned is False and top:
        _add_learned(top)
    notes = []
    if removed:
        notes.append(f"{len(removed)} generated molecule(s) were removed because they belong to controlled-substance "
                     f"or chemical-weapon classes ({', '.join(sorted(removed))}).")
    if len(top) < req.count:
        notes.append(
            f"Only {len(top)} of the {req.count} requested molecules passed every constraint within the budget "
            f"({scorer.calls} candidates scored, stopped by {stopped})."
        )
    return DesignResult(top, scorer.calls, len(passed), req.count, req.method, stopped,
                        round(time.monotonic() - start, 2), versions=versions, notes=notes)


def _screen(mols: list[Scored]) -> tuple[list[Scored], set[str]]:
    """Drop molecules in restricted classes; returns the kept ones and the class labels removed."""
    from specialists.molecules.screening import restricted_matches

    kept, removed = [], set()
    for m in mols:
        hits = restricted_matches(m.smiles)
        if hits:
            removed.update(h.label for h in hits)
        else:
            kept.append(m)
    return kept, removed


def _refuse_restricted_references(req: DesignRequest) -> None:
    from galen.errors import PolicyRefusal
    from specialists.molecules.screening import restricted_matches

    for ref in req.references + ([req.scaffold] if req.scaffold else []):
        hits = restricted_matches(ref)
        if hits:
            raise PolicyRefusal(
                f"Galen does not design analogs of controlled substances or chemical weapons ({hits[0].label}).",
                alternative="It can predict properties or explain pharmacology instead.",
                rule=hits[0].id,
            )


def _add_learned(mols: list[Scored]) -> None:
    """Add predicted logS/BBB (informational) to returned molecules when the weights exist."""
    from specialists.molecules.assets import MODEL_PATHS

    if not all(p.is_file() for p in MODEL_PATHS.values()):
        return
    try:
        from specialists.molecules.learned import predict_learned

        preds = predict_learned([m.smiles for m in mols])
    except ModelUnavailable:
        return
    for m, p in zip(mols, preds, strict=True):
        m.properties["logs"], m.properties["bbb"] = p.logs, p.bbb_probability
        m.uncertainty = {"logs_std": p.logs_std, "bbb_std": p.bbb_std, "in_domain": p.in_domain,
                         "nearest_training_similarity": min(p.logs_nearest_similarity, p.bbb_nearest_similarity)}
