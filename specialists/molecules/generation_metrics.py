"""MOSES-style metrics of a set of generated SMILES: validity, uniqueness, novelty, diversity.

Definitions follow Polykovskiy et al., Front. Pharmacol. 2020 (MOSES): validity = fraction of
samples RDKit parses; unique@k = distinct canonical SMILES among the first k valid ones;
novelty = fraction of distinct valid molecules not in the training set; internal diversity
(IntDiv1) = 1 − mean pairwise Tanimoto similarity of Morgan fingerprints (radius 2, 1024 bits).
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

from specialists.molecules.chem import quiet_rdkit


def moses_file(name: str = "train.csv.gz") -> Path:
    """Path of a MOSES data file inside the installed ``molsets`` wheel (not imported: deps fail)."""
    import importlib.util

    from galen.errors import ModelUnavailable

    spec = importlib.util.find_spec("moses")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("The MOSES data set is not installed.", hint="pip install --no-deps molsets==0.3.1")
    return Path(next(iter(spec.submodule_search_locations))) / "dataset" / "data" / name


def read_moses(name: str = "train.csv.gz") -> list[str]:
    """All SMILES of a MOSES split (the header line is skipped)."""
    with gzip.open(moses_file(name), "rt") as f:
        lines = f.read().split("\n")
    return [s.split(",")[0] for s in lines[1:] if s]


@lru_cache(maxsize=1)
def moses_train_set() -> frozenset[str]:
    """The MOSES training SMILES as a set (novelty checks)."""
    return frozenset(read_moses("train.csv.gz"))


def canonical_or_none(smiles: str) -> str | None:
    from rdkit import Chem

    if not smiles:
        return None
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return Chem.MolToSmiles(mol)


def internal_diversity(smiles: list[str], max_n: int = 1000, seed: int = 0) -> float:
    """IntDiv1 on up to ``max_n`` molecules (a random subset when there are more)."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    rng = np.random.default_rng(seed)
    pick = list(smiles) if len(smiles) <= max_n else list(rng.choice(smiles, max_n, replace=False))
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in pick]
    if len(fps) < 2:
        return 0.0
    total = 0.0
    for fp in fps:
        total += float(np.sum(DataStructs.BulkTanimotoSimilarity(fp, fps)))
    return 1.0 - total / (len(fps) ** 2)


def generation_metrics(samples: list[str], train: frozenset[str] | None = None, k: int | None = None) -> dict:
    """Validity, unique@k, novelty and IntDiv1 of ``samples`` (raw generated strings)."""
    canon = [canonical_or_none(s) for s in samples]
    valid = [c for c in canon if c is not None]
    k = k or len(samples)
    first_k = valid[:k]
    unique = list(dict.fromkeys(valid))
    train = train if train is not None else moses_train_set()
    novel = [s for s in unique if s not in train]
    return {
        "n_samples": len(samples),
        "validity": len(valid) / max(1, len(samples)),
        f"unique@{k}": len(set(first_k)) / max(1, len(first_k)),
        "novelty": len(novel) / max(1, len(unique)),
        "int_div1": internal_diversity(unique),
    }
