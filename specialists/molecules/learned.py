"""Learned molecular properties: aqueous solubility (logS) and blood–brain-barrier permeability.

Each property is an ensemble of small graph neural networks (GINE message passing over the
RDKit graph from ``torch_geometric.utils.from_smiles``, pooled and joined with a dozen RDKit
descriptors). A random forest over Morgan count fingerprints and the same descriptors may be one
more member: training keeps it only where it improves the validation score (see the model card).
The ensemble mean is the prediction and its spread the uncertainty. The
applicability domain is judged by the Tanimoto similarity of the nearest training molecule
(Morgan radius 2, 2048 bits): below :data:`AD_THRESHOLD` a prediction is flagged out of domain.

Two ways in, one set of numbers. :func:`graph_of` and :meth:`Ensemble.predict` (PyG ``Data`` objects
and a ``DataLoader``) are what training and the held-out tests use; :func:`predict_learned` reads
each molecule once (:func:`featurise`: the same atom/bond codes as ``from_smiles``, the descriptors,
one Morgan count fingerprint that also gives the domain bits) and evaluates both ensembles on one
collated batch (:func:`predict_features`), with the nearest-neighbour search done on bit matrices
(:func:`nearest_similarity_bits`). Loading and predicting need no torch-geometric (:class:`InferenceGNN`).
Both follow the same SMILES → molecule steps, so they give the same values (tests compare them).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from specialists.molecules.assets import MODEL_PATHS, missing_forest, missing_weights, torch_single_thread
from specialists.molecules.chem import parse_smiles, quiet_rdkit
from specialists.molecules.gnn_inference import E_SIZES, X_SIZES, InferenceGNN, gine_infer

AD_THRESHOLD = 0.3  # nearest-neighbour Tanimoto below which a molecule is outside the training domain
FP_BITS = 2048  # Morgan radius 2: the forest's count fingerprint and the domain's bit fingerprint
BATCH = 256  # graphs per forward pass, as Ensemble.predict's DataLoader
_X_SIZES = X_SIZES  # torch_geometric.utils.smiles.x_map / e_map column sizes (gnn_inference owns them)
_E_SIZES = E_SIZES
# from_smiles's names for RDKit's enum values, in its order (torch_geometric.utils.smiles x_map / e_map; a test
# checks they agree): the code of a value is its position. Kept here so that inference needs no torch-geometric.
_CHIRALITY = ["CHI_UNSPECIFIED", "CHI_TETRAHEDRAL_CW", "CHI_TETRAHEDRAL_CCW", "CHI_OTHER", "CHI_TETRAHEDRAL",
              "CHI_ALLENE", "CHI_SQUAREPLANAR", "CHI_TRIGONALBIPYRAMIDAL", "CHI_OCTAHEDRAL"]
_HYBRIDIZATION = ["UNSPECIFIED", "S", "SP", "SP2", "SP3", "SP3D", "SP3D2", "OTHER"]
_BOND_TYPE = ["UNSPECIFIED", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE", "QUINTUPLE", "HEXTUPLE", "ONEANDAHALF",
              "TWOANDAHALF", "THREEANDAHALF", "FOURANDAHALF", "FIVEANDAHALF", "AROMATIC", "IONIC", "HYDROGEN",
              "THREECENTER", "DATIVEONE", "DATIVE", "DATIVEL", "DATIVER", "OTHER", "ZERO"]
_BOND_STEREO = ["STEREONONE", "STEREOANY", "STEREOZ", "STEREOE", "STEREOCIS", "STEREOTRANS"]


def descriptor_vector(mol, known: dict[str, float] | None = None) -> list[float]:
    """Twelve whole-molecule RDKit descriptors fed to the network next to the pooled graph.

    ``known``: the first six (``mw``, ``logp``, ``tpsa``, ``hbd``, ``hba``, ``rotatable_bonds``) as the same
    RDKit calls gave them for this very molecule (:func:`~specialists.molecules.properties.properties_and_raw`).
    """
    from rdkit import Chem
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

    k = known if known is not None else {
        "mw": Descriptors.MolWt(mol), "logp": Crippen.MolLogP(mol), "tpsa": rdMolDescriptors.CalcTPSA(mol),
        "hbd": Lipinski.NumHDonors(mol), "hba": Lipinski.NumHAcceptors(mol),
        "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds(mol)}
    return [
        k["mw"], k["logp"], k["tpsa"], k["hbd"], k["hba"], k["rotatable_bonds"], rdMolDescriptors.CalcNumRings(mol),
        rdMolDescriptors.CalcNumAromaticRings(mol), rdMolDescriptors.CalcFractionCSP3(mol), mol.GetNumHeavyAtoms(),
        float(Chem.GetFormalCharge(mol)), rdMolDescriptors.CalcNumHeteroatoms(mol),
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

    def infer(self, data) -> torch.Tensor:
        """:meth:`forward` for inference: :func:`gine_infer` (the same numbers, less work)."""
        return gine_infer(self, data)


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

        forest_x = forest_features([g.smiles for g in graphs]) if self.forests else None  # graph_of keeps the SMILES
        return self.predict_batches(list(DataLoader(graphs, batch_size=BATCH)), forest_x)

    def predict_batches(self, batches: list, forest_x: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) over members for collated batches (PyG ``Batch`` or :class:`GraphBatch`), in order;
        ``forest_x`` holds the forest members' :func:`forest_features` rows (unused without forests)."""
        outs = []
        with torch.inference_mode(), torch_single_thread():
            for m in self.members:
                m.train(False)
                preds = [torch.sigmoid(z) if self.task == "classification" else z * self.y_std + self.y_mean
                         for z in (m.infer(b) for b in batches)]
                outs.append(torch.cat(preds).numpy())
        if self.forests:
            outs.extend((f.predict_proba(forest_x)[:, 1] if self.task == "classification" else f.predict(forest_x))
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
            raise missing_weights(path)
        ck = torch.load(path, map_location="cpu", weights_only=True)
        members = []
        for state in ck["states"]:
            m = InferenceGNN(**ck["config"])
            m.load_state_dict(state)
            m.train(False)  # inference only: BatchNorm on its running statistics
            members.append(m)
        forests = []
        if ck.get("forest_file"):
            forest_file = path.with_name(ck["forest_file"])
            if not forest_file.is_file():
                raise missing_forest(forest_file, path)
            import joblib

            # Our own shipped file, written by train_properties (joblib is pickle: never load foreign files).
            forests = joblib.load(forest_file)
        return cls(ck["task"], members, ck["train_smiles"], ck["version"], ck["y_mean"], ck["y_std"], forests)


@lru_cache(maxsize=2)
def load_ensemble(name: str) -> Ensemble:
    """The shipped ensemble ``"logs"`` or ``"bbb"``, loaded once per process (members: :class:`InferenceGNN`)."""
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


@lru_cache(maxsize=1)
def _morgan():
    """The Morgan radius-2, 2048-bit generator (one per process; generators are not cheap to build)."""
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=FP_BITS)


@lru_cache(maxsize=1)
def _code_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lookup arrays from RDKit enum values to ``from_smiles``'s codes (−1: a value it does not know).

    ``from_rdmol`` looks up ``str(enum)`` in ``x_map``/``e_map``; RDKit's enum numbering differs from
    those lists (``SP2D`` sits between ``SP3`` and ``SP3D``), so the tables are built from the names.
    Returns (chirality, hybridization, bond type, bond stereo).
    """
    from rdkit.Chem import rdchem

    def table(enum, names: list) -> np.ndarray:
        values = enum.values
        out = np.full(max(values) + 1, -1, dtype=np.int64)
        for k, v in values.items():
            if str(v) in names:
                out[k] = names.index(str(v))
        return out

    return (table(rdchem.ChiralType, _CHIRALITY), table(rdchem.HybridizationType, _HYBRIDIZATION),
            table(rdchem.BondType, _BOND_TYPE), table(rdchem.BondStereo, _BOND_STEREO))


def _lookup(lut: np.ndarray, values: np.ndarray, what: str) -> np.ndarray:
    codes = lut[values] if values.size and values.max() < len(lut) else np.full(values.shape, -1)
    if values.size and (codes < 0).any():
        raise ValueError(f"{what} {values[codes < 0][0]} is not in from_smiles's list")  # as from_rdmol's .index
    return codes


def _graph_arrays(mol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, edge_index, edge_attr) of ``mol`` exactly as ``torch_geometric.utils.from_rdmol`` builds them."""
    chiral, hybrid, btype, bstereo = _code_tables()
    atom, bond = mol.GetAtomWithIdx, mol.GetBondWithIdx  # by index: GetAtoms()'s Python sequence costs more
    raw = np.array([(a.GetAtomicNum(), a.GetChiralTag(), a.GetTotalDegree(), a.GetFormalCharge(), a.GetTotalNumHs(),
                     a.GetNumRadicalElectrons(), a.GetHybridization(), a.GetIsAromatic(), a.IsInRing())
                    for a in map(atom, range(mol.GetNumAtoms()))], dtype=np.int64).reshape(-1, 9)
    x = raw.copy()
    x[:, 1] = _lookup(chiral, raw[:, 1], "chirality")
    x[:, 3] = raw[:, 3] + 5  # formal charge -5..6
    x[:, 6] = _lookup(hybrid, raw[:, 6], "hybridization")
    for col, top, what in ((0, 118, "atomic number"), (2, 10, "degree"), (3, 11, "formal charge"), (4, 8, "H count"),
                           (5, 4, "radical electrons")):
        if x.size and ((x[:, col] < 0) | (x[:, col] > top)).any():
            raise ValueError(f"{what} {raw[(x[:, col] < 0) | (x[:, col] > top), col][0]} is not in from_smiles's list")
    bonds = np.array([(b.GetBeginAtomIdx(), b.GetEndAtomIdx(), b.GetBondType(), b.GetStereo(), b.GetIsConjugated())
                      for b in map(bond, range(mol.GetNumBonds()))], dtype=np.int64).reshape(-1, 5)
    attr = np.stack([_lookup(btype, bonds[:, 2], "bond type"), _lookup(bstereo, bonds[:, 3], "bond stereo"),
                     bonds[:, 4]], axis=1)
    ij = bonds[:, :2]
    edge_index = np.stack([ij, ij[:, ::-1]], axis=1).reshape(-1, 2).T  # (i, j), (j, i) per bond, as from_rdmol
    edge_attr = np.repeat(attr, 2, axis=0)
    if edge_index.size:  # from_rdmol sorts by row * n + col; the keys are unique, so any sort agrees
        perm = np.argsort(edge_index[0] * x.shape[0] + edge_index[1])
        edge_index, edge_attr = edge_index[:, perm], edge_attr[perm]
    return x, np.ascontiguousarray(edge_index), np.ascontiguousarray(edge_attr)


@dataclass(frozen=True)
class MoleculeFeatures:
    """Everything both ensembles and the applicability domain read from one molecule."""

    smiles: str  # the canonical SMILES predict_learned reports
    x: np.ndarray  # (atoms, 9) int64 atom codes (from_smiles)
    edge_index: np.ndarray  # (2, 2 × bonds) int64
    edge_attr: np.ndarray  # (2 × bonds, 3) int64 bond codes
    desc: np.ndarray  # (12,) float32: descriptor_vector of the graph's molecule
    forest: np.ndarray  # (FP_BITS + 12,) float32: forest_features' row
    bits: np.ndarray  # on bits of the Morgan bit fingerprint (nearest_similarity's query), int64


def featurise(smiles: str, mol=None, known: dict[str, float] | None = None) -> MoleculeFeatures:
    """The learned models' inputs for one SMILES, each RDKit molecule parsed once.

    Follows the reference steps exactly: ``predict_learned`` canonicalises the SMILES, ``graph_of``
    parses that and hands its canonical SMILES to ``from_smiles``, ``forest_features`` parses the
    graph's SMILES, ``nearest_similarity`` the canonical one. Canonical SMILES are almost always
    fixed points, so these parses are one molecule, read once; where a string differs it is parsed.

    Args:
        smiles: the molecule.
        mol: ``parse_smiles(smiles)`` where the caller holds it already and ``smiles`` is its canonical
            SMILES (the screen's rows from canonical input), so that it is neither parsed nor written
            again and RDKit's cached descriptors (Crippen, TPSA) are reused.
        known: with ``mol``, the descriptors already computed for it (see :func:`descriptor_vector`).

    Raises:
        InvalidInput: the SMILES does not parse.
    """
    from rdkit import Chem

    mols: dict[str, object] = {} if mol is None else {smiles.strip(): mol}

    def read(text: str, checked: bool = False):
        key = text.strip() if checked else text
        if key not in mols:
            parsed = parse_smiles(text) if checked else Chem.MolFromSmiles(text)
            mols[key] = parsed if parsed is not None else Chem.MolFromSmiles("")  # from_smiles's fallback
        return mols[key]

    with quiet_rdkit():
        canon = smiles.strip() if mol is not None else Chem.MolToSmiles(read(smiles, checked=True))  # predict_learned
        graph_mol = read(canon, checked=True)  # graph_of: parse_smiles, then from_smiles(MolToSmiles(mol))
        graph_smiles = canon if graph_mol is mols.get(smiles.strip()) else Chem.MolToSmiles(graph_mol)
        pyg_mol = read(graph_smiles)
        ad_mol = read(canon)
        desc = np.asarray(descriptor_vector(graph_mol, known if graph_mol is mol else None), dtype=np.float32)
        forest_desc = desc if pyg_mol is graph_mol else np.asarray(descriptor_vector(pyg_mol), dtype=np.float32)
        counts = _morgan().GetCountFingerprintAsNumPy(pyg_mol)
        bits = np.flatnonzero(counts) if ad_mol is pyg_mol else np.asarray(list(_morgan().GetFingerprint(ad_mol).GetOnBits()))
        x, edge_index, edge_attr = _graph_arrays(pyg_mol)
    return MoleculeFeatures(canon, x, edge_index, edge_attr, desc,
                            np.concatenate([counts.astype(np.float32), forest_desc]), bits.astype(np.int64))


@dataclass
class GraphBatch:
    """Graphs collated as ``torch_geometric``'s ``DataLoader`` does (the fields ``PropertyGNN`` reads)."""

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    batch: torch.Tensor
    desc: torch.Tensor

    @classmethod
    def of(cls, feats: list[MoleculeFeatures]) -> GraphBatch:
        sizes = np.array([f.x.shape[0] for f in feats], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        edge_index = np.concatenate([f.edge_index + o for f, o in zip(feats, offsets, strict=True)], axis=1)
        return cls(torch.from_numpy(np.concatenate([f.x for f in feats])),
                   torch.from_numpy(edge_index),
                   torch.from_numpy(np.concatenate([f.edge_attr for f in feats])),
                   torch.from_numpy(np.repeat(np.arange(len(feats), dtype=np.int64), sizes)),
                   torch.from_numpy(np.stack([f.desc for f in feats])))


@lru_cache(maxsize=2)
def _train_bits(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The training fingerprints as a 0/1 matrix (bits × molecules, uint8) and each one's bit count."""
    fps = _train_fps(name)
    dense = np.zeros((FP_BITS, len(fps)), dtype=np.uint8)
    for i, fp in enumerate(fps):
        dense[list(fp.GetOnBits()), i] = 1
    return dense, dense.sum(0, dtype=np.float64)


def nearest_similarity_bits(bits: list[np.ndarray], name: str) -> np.ndarray:
    """:func:`nearest_similarity` from on-bit lists, against every training molecule at once.

    A molecule's bits in common with each training molecule are the sum of the training matrix's rows
    for its own (about 40) bits; the Tanimoto ratio is then taken in float64 from the same integers as
    RDKit's, so the result equals ``max(BulkTanimotoSimilarity(...))`` to the last bit.
    """
    train, train_n = _train_bits(name)
    out = np.empty(len(bits))
    for i, b in enumerate(bits):
        common = np.add.reduce(train[b], axis=0, dtype=np.uint16)
        union = len(b) + train_n - common
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i] = np.where(union > 0, common / union, 1.0).max()  # RDKit: two empty fingerprints are identical
    return out


def predict_features(feats: list[MoleculeFeatures]) -> list[LearnedPrediction]:
    """Both ensembles and both domains for featurised molecules (see :func:`predict_learned`)."""
    if not feats:
        return []
    forest_x = np.stack([f.forest for f in feats])
    batches = [GraphBatch.of(feats[k:k + BATCH]) for k in range(0, len(feats), BATCH)]
    results = {}
    for name in ("logs", "bbb"):
        mean, std = load_ensemble(name).predict_batches(batches, forest_x)
        results[name] = (mean, std, nearest_similarity_bits([f.bits for f in feats], name))
    (logs, logs_sd, sim_logs), (bbb, bbb_sd, sim_bbb) = results["logs"], results["bbb"]
    return [
        LearnedPrediction(
            f.smiles, round(float(a), 2), round(float(b), 2), round(float(c), 2), round(float(d), 3), round(float(e), 3),
            round(float(g), 2), bool(min(float(c), float(g)) >= AD_THRESHOLD),
        )
        for f, a, b, c, d, e, g in zip(feats, logs, logs_sd, sim_logs, bbb, bbb_sd, sim_bbb, strict=True)
    ]


def predict_learned(smiles: list[str]) -> list[LearnedPrediction]:
    """Predicted logS (mol/L, log10) and BBB-permeation probability, with uncertainty and domain.

    Raises:
        InvalidInput: a SMILES does not parse.
        ModelUnavailable: the weights are not installed.
    """
    return predict_features([featurise(s) for s in smiles])
