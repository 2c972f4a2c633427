"""One interface over both searches: ``design(request) -> DesignResult``.

Both methods stop at the first of: enough passing molecules, the oracle budget (molecules
scored), the time budget. Every returned molecule is sanitised, canonical, unique, re-checked
against every constraint by recomputation (:class:`Scorer`), and ranked by its score.
"""

from __future__ import annotations

import collections
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
    """Starting molecules for the GA: the references and the motifs to keep; with no reference
    (de novo design), samples of the generative prior and MOSES molecules holding every kept motif."""
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit

    seeds = [Chem.MolFromSmiles(s) for s in req.references]
    seeds += [m for m in (Chem.MolFromSmiles(x.smiles) for x in req.kept if x.smiles) if m is not None]
    if req.references:
        return seeds
    queries = [q for q in (x.mol() for x in req.kept) if q is not None]
    pool = _prior_samples(req.seed) + rng.sample(_generic_pool(), min(len(_generic_pool()), 4 * n))
    with quiet_rdkit():
        for s in pool:
            m = Chem.MolFromSmiles(s)
            if m is not None and all(m.HasSubstructMatch(q) for q in queries):
                seeds.append(m)
            if len(seeds) >= n:
                break
    return seeds


@lru_cache(maxsize=4)
def _prior_samples(seed: int, n: int = 128) -> list[str]:
    """Molecules sampled from the shipped generative prior (none when its weights are missing)."""
    try:
        import torch

        from specialists.molecules.assets import torch_single_thread
        from specialists.molecules.prior import load_prior

        prior = load_prior()
        with torch_single_thread():
            smiles, _, _ = prior.sample(n, generator=torch.Generator().manual_seed(seed))
    except ModelUnavailable:
        return []
    return [s for s in smiles if s]


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
    from specialists.molecules.feasibility import refuse_if_unreachable

    conflicts = refuse_if_unreachable(req)
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
        notes.append(f"{sum(removed.values())} generated molecule(s) were removed because they belong to "
                     f"controlled-substance or chemical-weapon classes ({', '.join(sorted(removed))}).")
    rejected = collections.Counter(f for s in scorer.cache.values() if s.constraints.get("chemical_sense") is False
                                   for f in s.findings)
    if rejected:
        common = "; ".join(f"{k} ×{v}" for k, v in rejected.most_common(4))
        notes.append(f"The chemical-sense filter set aside {sum(1 for s in scorer.cache.values() if s.constraints.get('chemical_sense') is False)} "
                     f"candidate(s) (most often: {common}).")
    if req.novel and top:
        from specialists.molecules.novelty import checked_sets

        notes.append(f"Every molecule returned is novel: absent from {checked_sets()} (InChIKey connectivity layer).")
    if len(top) < req.count:
        notes.append(
            f"Only {len(top)} of the {req.count} requested molecules passed every constraint within the budget "
            f"({scorer.calls} candidates scored, stopped by {stopped})."
        )
        notes += closest_misses(scorer, req)
        notes += [f"Reference molecules suggest why: {c}." for c in conflicts]
    return DesignResult(top, scorer.calls, len(passed), req.count, req.method, stopped,
                        round(time.monotonic() - start, 2), versions=versions, notes=notes)


def closest_misses(scorer: Scorer, req: DesignRequest, n: int = 3) -> list[str]:
    """The best-scoring molecules that failed, each with the constraints it misses and by how much."""
    from specialists.molecules.report import miss_text

    failed = sorted((s for s in scorer.cache.values() if not s.passed), key=lambda s: (-s.score, s.smiles))[:n]
    if not failed:
        return []
    return ["Closest molecules found: " + "; ".join(f"{s.smiles} misses {miss_text(s, req)}" for s in failed) + "."]


def _screen(mols: list[Scored]) -> tuple[list[Scored], collections.Counter]:
    """Drop molecules in restricted classes; returns the kept ones and how many of each class were removed."""
    from specialists.molecules.screening import restricted_matches

    kept, removed = [], collections.Counter()
    for m in mols:
        hits = restricted_matches(m.smiles)
        if hits:
            removed.update({h.label: 1 for h in hits})
        else:
            kept.append(m)
    return kept, removed


def _refuse_restricted_references(req: DesignRequest) -> None:
    from galen.errors import PolicyRefusal
    from specialists.molecules.screening import restricted_matches

    for ref in req.references + [m.smiles for m in req.kept if m.smiles]:
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
