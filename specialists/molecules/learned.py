"""Learned molecular properties: aqueous solubility (logS) and blood–brain-barrier permeability.

Each property is an ensemble of small graph neural networks (GINE message passing over the
RDKit graph from ``torch_geometric.utils.from_smiles``, pooled and joined with a dozen RDKit
descriptors). A random forest over Morgan count fingerprints and the same descriptors may be one
more member: training keeps it only where it improves the validation score (see the model card).
The ensemble mean is the prediction and its spread the uncertainty. The
applicability domain is judged by the Tanimoto similarity of the nearest training molecule
(Morgan radius 2, 2048 bits): below :data:`AD_THRESHOLD` a prediction is flagged out of domain.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from galen.errors import ModelUnavailable
from specialists.molecules.assets import MODEL_PATHS, torch_single_thread
from specialists.molecules.chem import parse_smiles, quiet_rdkit

AD_THRESHOLD = 0.3  # nearest-neighbour Tanimoto below which a molecule is outside the training domain
_X_SIZES = [119, 9, 11, 12, 9, 5, 8, 2, 2]  # torch_geometric.utils.smiles.x_map column sizes
_E_SIZES = [22, 6, 2]


def descriptor_vector(mol) -> list[float]:
    """Twelve whole-molecule RDKit descriptors fed to the network next to the pooled graph."""
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

    return [
        Descriptors.MolWt(mol), Crippen.MolLogP(mol), rdMolDescriptors.CalcTPSA(mol), Lipinski.NumHDonors(mol),
        Lipinski.NumHAcceptors(mol), rdMolDescriptors.CalcNumRotatableBonds(mol), rdMolDescriptors.CalcNumRings(mol),
        rdMolDescriptors.CalcNumAromaticRings(mol), rdMolDescriptors.CalcFractionCSP3(mol), mol.GetNumHeavyAtoms(),
        float(sum(a.GetFormalCharge() for a in mol.GetAtoms())), rdMolDescriptors.CalcNumHeteroatoms(mol),
    ]


def forest_features(smiles: list[str]) -> np.ndarray:
    """Forest-member input: Morgan count fingerprint (radius 2, 2048) ⊕ :func:`descriptor_vector`."""
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    rows = []
    with quiet_rdkit():
        for s in smiles:
            mol = Chem.MolFromSmiles(s)
            fp = gen.GetCountFingerprintAsNumPy(mol).astype(np.float32)
            rows.append(np.concatenate([fp, np.asarray(descriptor_vector(mol), dtype=np.float32)]))
    return np.stack(rows)


def forest_path(path: Path) -> Path:
    """Where the fingerprint-forest member of the ensemble at ``path`` is stored (joblib)."""
    return path.with_name(path.stem.replace("_gnn", "") + "_forest.joblib")


_PYG_LOCK = threading.Lock()
_pyg_ready = False


def ensure_pyg() -> None:
    """Import torch-geometric once, under a lock: its first import is not safe when several
    threads (concurrent users of one app process) start it at the same time, and a failed
    partial import would break every later call in the process."""
    global _pyg_ready
    if _pyg_ready:
        return
    with _PYG_LOCK:
        if not _pyg_ready:
            import torch_geometric.loader  # noqa: F401
            import torch_geometric.nn  # noqa: F401
            import torch_geometric.utils  # noqa: F401

            _pyg_ready = True


def graph_of(smiles: str, y: float | None = None):
    """A PyG ``Data`` for a SMILES validated by RDKit first (``from_smiles`` makes empty graphs silently).

    Raises:
        InvalidInput: the SMILES does not parse.
    """
    from rdkit import Chem

    ensure_pyg()
    from torch_geometric.utils import from_smiles

    mol = parse_smiles(smiles)
    with quiet_rdkit():
        data = from_smiles(Chem.MolToSmiles(mol))
    data.desc = torch.tensor([descriptor_vector(mol)], dtype=torch.float32)
    if y is not None:
        data.y = torch.tensor([y], dtype=torch.float32)
    return data


class PropertyGNN(nn.Module):
    """GINE layers → add+mean pooling ⊕ standardised descriptors → MLP → one output."""

    def __init__(self, hidden: int = 128, layers: int = 3, n_desc: int = 12, dropout: float = 0.1):
        super().__init__()
        from torch_geometric.nn import GINEConv

        self.config = {"hidden": hidden, "layers": layers, "n_desc": n_desc, "dropout": dropout}
        self.atom_emb = nn.ModuleList(nn.Embedding(n, hidden) for n in _X_SIZES)
        self.bond_emb = nn.ModuleList(nn.Embedding(n, hidden) for n in _E_SIZES)
        self.convs = nn.ModuleList(
            GINEConv(nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)), edge_dim=hidden)
            for _ in range(layers)
        )
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
        self.head = nn.Sequential(
            nn.Linear(2 * hidden + n_desc, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1)
        )
        self.register_buffer("desc_mean", torch.zeros(n_desc))
        self.register_buffer("desc_std", torch.ones(n_desc))

    def forward(self, data) -> torch.Tensor:
        from torch_geometric.nn import global_add_pool, global_mean_pool

        x = sum(emb(data.x[:, i].clamp(max=emb.num_embeddings - 1)) for i, emb in enumerate(self.atom_emb))
        e = sum(emb(data.edge_attr[:, i].clamp(max=emb.num_embeddings - 1)) for i, emb in enumerate(self.bond_emb))
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = x + torch.relu(norm(conv(x, data.edge_index, e)))
        pooled = torch.cat([global_add_pool(x, data.batch) / 10.0, global_mean_pool(x, data.batch)], dim=1)
        desc = (data.desc - self.desc_mean) / self.desc_std
        return self.head(torch.cat([pooled, desc], dim=1)).squeeze(1)


@dataclass
class Ensemble:
    """The members of one property model, with what the applicability domain needs."""

    task: str  # "regression" | "classification"
    members: list[PropertyGNN]
    train_smiles: list[str]
    version: str
    y_mean: float = 0.0
    y_std: float = 1.0
    # scikit-learn forests over :func:`forest_features` (classifiers or regressors, as ``task``); each counts
    # as one member.
    forests: list = field(default_factory=list)

    def predict(self, graphs: list) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) over members: logS for regression, probability for classification."""
        from torch_geometric.loader import DataLoader

        outs = []
        with torch.no_grad(), torch_single_thread():
            for m in self.members:
                m.train(False)
                preds = []
                for batch in DataLoader(graphs, batch_size=256):
                    z = m(batch)
                    preds.append(torch.sigmoid(z) if self.task == "classification" else z * self.y_std + self.y_mean)
                outs.append(torch.cat(preds).numpy())
        if self.forests:
            feats = forest_features([g.smiles for g in graphs])  # graph_of keeps the canonical SMILES
            outs.extend((f.predict_proba(feats)[:, 1] if self.task == "classification" else f.predict(feats))
                        .astype(np.float32) for f in self.forests)
        arr = np.stack(outs)
        return arr.mean(0), arr.std(0)

    def save(self, path: Path, extra: dict | None = None) -> None:
        forest_file = None
        if self.forests:
            import joblib

            forest_file = forest_path(path).name
            joblib.dump(self.forests, path.with_name(forest_file), compress=3)
        torch.save(
            {"task": self.task, "config": self.members[0].config, "states": [m.state_dict() for m in self.members],
             "train_smiles": self.train_smiles, "version": self.version, "y_mean": self.y_mean,
             "y_std": self.y_std, "forest_file": forest_file, **(extra or {})},
            path,
        )

    @classmethod
    def load(cls, path: Path) -> Ensemble:
        if not path.is_file():
            raise ModelUnavailable(
                f"The learned property model {path.name} is missing.",
                hint="Train it with `galen train properties` (python -m specialists.molecules.train_properties).",
            )
        ck = torch.load(path, map_location="cpu", weights_only=True)
        members = []
        for state in ck["states"]:
            m = PropertyGNN(**ck["config"])
            m.load_state_dict(state)
            members.append(m)
        forests = []
        if ck.get("forest_file"):
            forest_file = path.with_name(ck["forest_file"])
            if not forest_file.is_file():
                raise ModelUnavailable(
                    f"The forest member {forest_file.name} of {path.name} is missing.",
                    hint="Retrain with `galen train properties` (python -m specialists.molecules.train_properties).",
                )
            import joblib

            # Our own shipped file, written by train_properties (joblib is pickle: never load foreign files).
            forests = joblib.load(forest_file)
        return cls(ck["task"], members, ck["train_smiles"], ck["version"], ck["y_mean"], ck["y_std"], forests)


@lru_cache(maxsize=2)
def load_ensemble(name: str) -> Ensemble:
    """The shipped ensemble ``"logs"`` or ``"bbb"``, loaded once per process."""
    ensure_pyg()
    return Ensemble.load(MODEL_PATHS[name])


@lru_cache(maxsize=2)
def _train_fps(name: str):
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    with quiet_rdkit():
        return [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in load_ensemble(name).train_smiles]


def nearest_similarity(smiles: list[str], name: str) -> list[float]:
    """Tanimoto similarity of each molecule's nearest neighbour in the model's training set."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    train = _train_fps(name)
    return [max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(Chem.MolFromSmiles(s)), train)) for s in smiles]


@dataclass
class LearnedPrediction:
    smiles: str
    logs: float
    logs_std: float
    logs_nearest_similarity: float
    bbb_probability: float
    bbb_std: float
    bbb_nearest_similarity: float
    in_domain: bool

    def to_dict(self) -> dict:
        return asdict(self)


def predict_learned(smiles: list[str]) -> list[LearnedPrediction]:
    """Predicted logS (mol/L, log10) and BBB-permeation probability, with uncertainty and domain.

    Raises:
        InvalidInput: a SMILES does not parse.
        ModelUnavailable: the weights are not installed.
    """
    from rdkit import Chem

    canon = [Chem.MolToSmiles(parse_smiles(s)) for s in smiles]
    if not canon:
        return []
    graphs = [graph_of(s) for s in canon]
    logs, logs_sd = load_ensemble("logs").predict(graphs)
    bbb, bbb_sd = load_ensemble("bbb").predict(graphs)
    sim_logs, sim_bbb = nearest_similarity(canon, "logs"), nearest_similarity(canon, "bbb")
    return [
        LearnedPrediction(
            s, round(float(a), 2), round(float(b), 2), round(c, 2), round(float(d), 3), round(float(e), 3),
            round(f, 2), bool(min(c, f) >= AD_THRESHOLD),
        )
        for s, a, b, c, d, e, f in zip(canon, logs, logs_sd, sim_logs, bbb, bbb_sd, sim_bbb, strict=True)
    ]
