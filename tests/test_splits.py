"""The one owner of splits and seeds: scaffold splits, manifests, CV folds, phantom seed ranges."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from galen.errors import InvalidInput
from specialists.splits import (
    PHANTOM_SEEDS,
    check_manifest,
    repeated_stratified_folds,
    scaffold_of,
    scaffold_split,
    seed_everything,
    split_manifest,
    stratified_folds,
)

ROOT = Path(__file__).resolve().parents[1]
# 30 small molecules over a dozen scaffolds (benzene, pyridine, cyclohexane, naphthalene, acyclic, ...)
MOLS = ["c1ccccc1O", "c1ccccc1N", "c1ccccc1C", "c1ccccc1CC", "c1ccccc1Cl", "c1ccncc1", "c1ccncc1C", "Cc1ccncc1C",
        "C1CCCCC1O", "C1CCCCC1N", "C1CCCCC1C", "c1ccc2ccccc2c1", "c1ccc2ccccc2c1O", "CCO", "CCCO", "CCN", "CC(=O)O",
        "C1CCOC1", "C1CCOC1C", "c1ccoc1", "c1ccoc1C", "c1ccsc1", "c1ccsc1C", "C1CC1", "C1CC1C", "c1cnc[nH]1",
        "c1ccc(-c2ccccc2)cc1", "O=C1CCCCC1", "C1CCNCC1", "C1CCNCC1C"]


def test_scaffold_split_is_a_partition_without_shared_scaffolds() -> None:
    parts = scaffold_split(MOLS, (0.6, 0.2, 0.2), seed=3)
    everything = sorted(i for idx in parts.values() for i in idx)
    assert everything == list(range(len(MOLS)))
    scaffolds = {name: {scaffold_of(MOLS[i]) for i in idx} for name, idx in parts.items()}
    assert not scaffolds["train"] & scaffolds["validation"]
    assert not scaffolds["train"] & scaffolds["test"]
    assert not scaffolds["validation"] & scaffolds["test"]
    assert len(parts["train"]) <= 0.6 * len(MOLS) and parts["validation"] and parts["test"]


def test_scaffold_split_repeats_with_its_seed_and_moves_with_another() -> None:
    a = scaffold_split(MOLS, (0.6, 0.2, 0.2), seed=3)
    assert a == scaffold_split(list(MOLS), (0.6, 0.2, 0.2), seed=3)
    assert any(scaffold_split(MOLS, (0.6, 0.2, 0.2), seed=s) != a for s in range(4, 10))


@pytest.mark.parametrize("fractions", [(0.8, 0.1), (0.8, 0.3, 0.1), (1.1, -0.05, -0.05)])
def test_scaffold_split_refuses_bad_fractions(fractions) -> None:
    with pytest.raises(InvalidInput, match="fractions"):
        scaffold_split(MOLS, fractions)  # type: ignore[arg-type]


def test_scaffold_of_refuses_an_invalid_smiles() -> None:
    with pytest.raises(InvalidInput, match="not a valid SMILES"):
        scaffold_of("C1CC(")
    assert scaffold_of("CCO") == "" and scaffold_of("Oc1ccccc1") == "c1ccccc1"


def test_manifest_accepts_the_same_split_and_refuses_a_moved_molecule() -> None:
    idx = scaffold_split(MOLS, (0.6, 0.2, 0.2), seed=1)
    parts = {k: [MOLS[i] for i in v] for k, v in idx.items()}
    manifest = split_manifest(parts, seed=1)
    check_manifest(parts, manifest)
    moved = {**parts, "train": parts["train"][1:], "test": parts["test"] + parts["train"][:1]}
    with pytest.raises(InvalidInput, match="differs from its manifest"):
        check_manifest(moved, manifest)
    swapped = {**parts, "test": parts["test"][:-1] + ["CCCCCCCC"]}
    with pytest.raises(InvalidInput, match="test part"):
        check_manifest(swapped, manifest)


def test_property_splits_match_their_recorded_manifest_logs() -> None:
    pytest.importorskip("rdkit")
    from specialists.molecules.property_data import load_split

    split = load_split("logs")
    assert (len(split.train), len(split.validation), len(split.test)) == (1019, 127, 128)
    smiles = [{s for s, _ in part} for part in split.parts.values()]
    assert not (smiles[0] & smiles[1] or smiles[0] & smiles[2] or smiles[1] & smiles[2])


@pytest.mark.slow
def test_property_splits_match_their_recorded_manifest_bbb() -> None:
    from specialists.molecules.property_data import load_split

    split = load_split("bbb")
    assert (len(split.train), len(split.validation), len(split.test)) == (6244, 780, 781)


def test_property_split_without_a_manifest_is_refused(tmp_path: Path) -> None:
    from galen.errors import ModelUnavailable
    from specialists.molecules.property_data import load_split

    with pytest.raises(ModelUnavailable, match="No fixed split"):
        load_split("logs", tmp_path / "none.json")


# --- clinical: the owner's folds are exactly scikit-learn's (the CV results do not move) ---------
def test_stratified_folds_equal_scikit_learns() -> None:
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

    y = np.random.default_rng(0).integers(0, 2, 60)
    x = np.random.default_rng(1).normal(size=(60, 4))
    ours = stratified_folds(y, 5, seed=7)
    theirs = list(StratifiedKFold(5, shuffle=True, random_state=7).split(x, y))
    assert len(ours) == 5 and all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                                  for a, b in zip(ours, theirs, strict=True))
    ours = repeated_stratified_folds(y, 5, 3, seed=0)
    theirs = list(RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=0).split(x, y))
    assert len(ours) == 15 and all(np.array_equal(a[1], b[1]) for a, b in zip(ours, theirs, strict=True))


def test_only_the_owner_makes_folds() -> None:
    """No specialist builds a scikit-learn splitter itself: folds come from specialists/splits.py."""
    splitters = {"KFold", "StratifiedKFold", "RepeatedStratifiedKFold", "GroupKFold", "ShuffleSplit",
                 "train_test_split", "StratifiedShuffleSplit"}
    bad = []
    for f in (ROOT / "specialists").rglob("*.py"):
        if f.name == "splits.py":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "sklearn.model_selection":
                bad += [f"{f.relative_to(ROOT)}: {a.name}" for a in node.names if a.name in splitters]
    assert not bad, bad


# --- imaging: the phantom seed ranges the imaging modules use are the owner's -------------------
def test_phantom_seed_ranges_are_the_owners() -> None:
    from specialists.imaging import evaluate, train_cls, train_seg

    s = PHANTOM_SEEDS
    assert (train_seg.TRAIN_SEEDS, train_seg.SMALL_SEEDS, train_seg.BASAL_SEEDS, train_seg.VAL_SEEDS) == \
        (s.seg_train, s.seg_train_small, s.seg_train_basal, s.seg_train_val)
    assert (evaluate.BASAL_VAL_SEEDS_START, evaluate.BASAL_TEST_SEEDS_START) == (s.basal_val_start, s.basal_test_start)
    assert (evaluate.SEG_VAL_SEEDS_START, evaluate.SEG_TEST_SEEDS_START) == (s.seg_val_start, s.seg_test_start)
    assert (evaluate.FULL_VAL_SEEDS_START, evaluate.FULL_TEST_SEEDS_START) == (s.full_val_start, s.full_test_start)
    assert tuple(evaluate.FPR_TRAIN_SEEDS) == s.fpr_train
    assert (train_cls.TRAIN_SEEDS, train_cls.VAL_SEEDS, train_cls.TEST_SEEDS) == (s.cls_train, s.cls_val, s.cls_test)


def test_phantom_training_and_test_seeds_never_overlap() -> None:
    s = PHANTOM_SEEDS
    seg_train = set(s.seg_train) | set(s.seg_train_small) | set(s.seg_train_basal)
    assert not seg_train & set(range(s.seg_test_start, s.seg_test_start + 100))
    assert not seg_train & set(range(s.basal_val_start, s.basal_val_start + 100))
    assert not seg_train & set(range(s.basal_test_start, s.basal_test_start + 50))
    assert s.basal_val_start >= s.seg_val_start + 300 and s.basal_test_start >= s.full_test_start + 10
    assert not seg_train & set(range(s.full_test_start, s.full_test_start + 100))
    assert not seg_train & set(range(s.seg_val_start, s.seg_val_start + 300))
    assert not set(s.cls_train) & (set(s.cls_val) | set(s.cls_test)) and not set(s.cls_val) & set(s.cls_test)
    assert all(set(r) <= seg_train for r in s.fpr_train)


def test_seed_everything_repeats_python_numpy_and_torch() -> None:
    import random

    torch = pytest.importorskip("torch")
    seed_everything(5)
    a = (random.random(), np.random.rand(), float(torch.rand(1)))
    seed_everything(5)
    assert a == (random.random(), np.random.rand(), float(torch.rand(1)))
