"""The one owner of data splits and seeds (CONVENTIONS 14).

Every held-out figure Galen reports comes from a split made here, so that "which molecules,
patients or phantoms were used for what" is answered in one place:

* :func:`scaffold_split` — train / validation / test by Bemis–Murcko scaffold (molecules);
  :func:`split_manifest` and :func:`check_manifest` record a split by hashes and refuse a
  split that drifted from its record;
* :func:`stratified_folds` and :func:`repeated_stratified_folds` — cross-validation folds
  stratified by event (clinical survival models);
* :data:`PHANTOM_SEEDS` — the disjoint seed ranges of the synthetic CT phantoms (imaging);
* :func:`seed_everything` — Python, NumPy and torch seeded together.

Selection (members, epochs, thresholds, post-processing) is made on ``validation``; ``test`` is
measured once, after every choice is fixed.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from galen.errors import InvalidInput

SPLIT_NAMES = ("train", "validation", "test")


# --- molecules: scaffold split -------------------------------------------------------------
def scaffold_of(smiles: str) -> str:
    """The Bemis–Murcko scaffold SMILES of a molecule ("" for an acyclic one).

    Raises:
        InvalidInput: the SMILES does not parse.
    """
    from rdkit import Chem, RDLogger
    from rdkit.Chem.Scaffolds import MurckoScaffold

    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(smiles)
    finally:
        RDLogger.EnableLog("rdApp.*")
    if mol is None:
        raise InvalidInput(f"{smiles!r} is not a valid SMILES, so it has no scaffold.")
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol)


def scaffold_split(smiles: Sequence[str], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                   seed: int = 0) -> dict[str, list[int]]:
    """Indices of a balanced scaffold split into ``train``, ``validation`` and ``test``.

    Molecules are grouped by Bemis–Murcko scaffold and no group is split, so no scaffold is in two
    parts. Groups larger than half the validation or test size go first (they would otherwise
    dominate a small part); the large groups and the small groups are each shuffled with ``seed``
    and dealt in turn: to train while it has room, then to validation, then to test. This is the
    "balanced" variant (as in chemprop): the held-out parts get a mix of common and rare scaffolds.

    Args:
        smiles: the molecules (their order fixes the indices).
        fractions: train, validation and test fractions (summing to 1).
        seed: shuffles the scaffold groups.

    Raises:
        InvalidInput: fractions that are negative or do not sum to 1, or an unparsable SMILES.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-9:
        raise InvalidInput(f"Split fractions must be three non-negative numbers summing to 1, not {fractions}.")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(smiles):
        groups[scaffold_of(s)].append(i)
    n = len(smiles)
    sizes = [fractions[0] * n, fractions[1] * n, fractions[2] * n]
    ordered = [groups[k] for k in sorted(groups)]  # a fixed order before shuffling
    big = [g for g in ordered if len(g) > sizes[1] / 2 or len(g) > sizes[2] / 2]
    small = [g for g in ordered if not (len(g) > sizes[1] / 2 or len(g) > sizes[2] / 2)]
    rng = random.Random(seed)
    rng.shuffle(big)
    rng.shuffle(small)
    parts: dict[str, list[int]] = {name: [] for name in SPLIT_NAMES}
    for g in big + small:
        if len(parts["train"]) + len(g) <= sizes[0]:
            parts["train"].extend(g)
        elif len(parts["validation"]) + len(g) <= sizes[1]:
            parts["validation"].extend(g)
        else:
            parts["test"].extend(g)
    return {name: sorted(idx) for name, idx in parts.items()}


def _digest(items: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(items)).encode("utf-8")).hexdigest()


def split_manifest(parts: dict[str, Sequence[str]], **meta: Any) -> dict[str, Any]:
    """A record of a split by hashes: per part its size and the SHA-256 of its sorted members.

    ``meta`` (algorithm, seed, fractions, source-data hashes) is stored beside the parts.
    """
    return {**meta, "parts": {name: {"n": len(items), "sha256": _digest(items)} for name, items in parts.items()}}


def check_manifest(parts: dict[str, Sequence[str]], manifest: dict[str, Any], what: str = "split") -> None:
    """Refuse a split that differs from its recorded manifest.

    Raises:
        InvalidInput: a part's size or members changed (data, RDKit or split code changed).
    """
    recorded = manifest.get("parts") or {}
    if set(recorded) != set(parts):
        raise InvalidInput(f"The {what} has parts {sorted(parts)} but its manifest records {sorted(recorded)}.")
    for name, items in parts.items():
        rec = recorded[name]
        if rec["n"] != len(items) or rec["sha256"] != _digest(items):
            raise InvalidInput(
                f"The {what}'s {name} part ({len(items)} items) differs from its manifest ({rec['n']} items).",
                hint="The data, RDKit's canonical SMILES or the split code changed. A fixed test split must not "
                     "move: restore them, or make a new split deliberately and re-measure everything on it.")


# --- clinical: cross-validation folds --------------------------------------------------------
def stratified_folds(y: Sequence[Any], n_splits: int, seed: int) -> list[tuple[Any, Any]]:
    """(train, test) index arrays of a shuffled stratified K-fold (scikit-learn's ``StratifiedKFold``)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    return list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def repeated_stratified_folds(y: Sequence[Any], n_splits: int, n_repeats: int, seed: int) -> list[tuple[Any, Any]]:
    """(train, test) index arrays of ``n_repeats`` stratified K-folds (``RepeatedStratifiedKFold``), in order."""
    import numpy as np
    from sklearn.model_selection import RepeatedStratifiedKFold

    y = np.asarray(y)
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


# --- imaging: phantom seeds -----------------------------------------------------------------
@dataclass(frozen=True)
class PhantomSeeds:
    """Seed ranges of the procedural CT phantoms. A phantom is a pure function of its seed, so a
    range *is* a data set; training, validation and test ranges of one model never overlap."""

    seg_train: range = range(1000, 1090)
    seg_train_small: range = range(2000, 2150)  # nodules 3-8 mm only
    seg_train_basal: range = range(3000, 3080)  # nodules just above a diaphragm dome (phantom_sets.basal_phantom)
    seg_train_val: range = range(5000, 5004)  # monitored during training
    seg_val_start: int = 5000  # post-processing and the false-positive filter are chosen from here
    seg_test_start: int = 9000
    full_val_start: int = 5200  # 512 x 512 x 300-like volumes
    full_test_start: int = 9900
    basal_val_start: int = 5400  # basal phantoms: the false-positive filter's cut must keep their nodules
    basal_test_start: int = 9950
    fpr_train: tuple[range, range, range] = (range(1000, 1040), range(2000, 2040), range(3000, 3030))  # subsets of seg_train*
    cls_train: range = range(2000, 2240)
    cls_val: range = range(6000, 6040)
    cls_test: range = range(9500, 9540)


PHANTOM_SEEDS = PhantomSeeds()


# --- seeds ---------------------------------------------------------------------------------
def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (where installed) so sampling code repeats from run to run."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass
