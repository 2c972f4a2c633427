"""The screen's fast learned path (``featurise`` → ``predict_features``) against the reference path it
replaced: ``graph_of`` + ``PropertyGNN.forward`` over a PyG ``DataLoader`` + ``forest_features`` +
``nearest_similarity`` (RDKit ``BulkTanimotoSimilarity``), on the 200-row screening file and on
molecules with stereo, charges, isotopes, explicit hydrogens and several fragments."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from specialists.molecules.assets import MODEL_PATHS
from tests.molecules.screen_data import moses_test

needs_weights = pytest.mark.skipif(not all(p.is_file() for p in MODEL_PATHS.values()),
                                   reason="property weights not trained")
ODD = ["C[C@H](N)C(=O)O", "F/C=C/F", "C/C=C\\C(=O)[O-]", "[NH4+].[Cl-]", "[2H]C([2H])([2H])O", "C", "[H][H]",
       "[Se]1[Se][Se][Se]1", "Cn1c(=O)c2c(ncn2C)n(C)c1=O", "O=S(=O)(O)c1ccccc1", "C1=CC=CC=C1", "[13CH3]C#N",
       "c1ccc2c(c1)[nH]c1ccccc12", "OC[C@H]1O[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O"]


@pytest.fixture(scope="module")
def smiles() -> list[str]:
    from rdkit import Chem

    return [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in moses_test(190)] + ODD


def _reference(smiles: list[str]) -> list:
    """predict_learned as it was: every step through PyG and RDKit, one molecule object per step."""
    import torch
    from rdkit import Chem
    from torch_geometric.loader import DataLoader

    from specialists.molecules import learned as L

    canon = [Chem.MolToSmiles(L.parse_smiles(s)) for s in smiles]
    graphs = [L.graph_of(s) for s in canon]
    out = {}
    for name in ("logs", "bbb"):
        ens = L.load_ensemble(name)
        ck = torch.load(MODEL_PATHS[name], map_location="cpu", weights_only=True)
        preds = []
        for state in ck["states"]:
            model = L.PropertyGNN(**ck["config"])
            model.load_state_dict(state)
            model.train(False)
            with torch.no_grad():
                z = torch.cat([model(b) for b in DataLoader(graphs, batch_size=256)])
            preds.append((torch.sigmoid(z) if ens.task == "classification" else z * ens.y_std + ens.y_mean).numpy())
        x = L.forest_features([g.smiles for g in graphs])
        preds += [(f.predict_proba(x)[:, 1] if ens.task == "classification" else f.predict(x)).astype(np.float32)
                  for f in ens.forests]
        arr = np.stack(preds)
        out[name] = (arr.mean(0), arr.std(0), L.nearest_similarity(canon, name))
    (a, b, c), (d, e, f) = out["logs"], out["bbb"]
    return [L.LearnedPrediction(s, round(float(a_), 2), round(float(b_), 2), round(c_, 2), round(float(d_), 3),
                                round(float(e_), 3), round(f_, 2), bool(min(c_, f_) >= L.AD_THRESHOLD))
            for s, a_, b_, c_, d_, e_, f_ in zip(canon, a, b, c, d, e, f, strict=True)]


def test_features_equal_from_smiles_and_the_forest_inputs(smiles) -> None:
    import torch
    from rdkit import Chem

    from specialists.molecules.learned import _morgan, featurise, forest_features, graph_of

    for s in smiles:
        f, g = featurise(s), graph_of(s)
        assert f.smiles == Chem.MolToSmiles(Chem.MolFromSmiles(s))
        assert torch.equal(torch.from_numpy(f.x), g.x), s
        assert torch.equal(torch.from_numpy(f.edge_index), g.edge_index), s
        assert torch.equal(torch.from_numpy(f.edge_attr), g.edge_attr), s
        assert torch.equal(torch.from_numpy(f.desc), g.desc[0]), s
        assert np.array_equal(f.forest, forest_features([g.smiles])[0]), s
        assert list(f.bits) == list(_morgan().GetFingerprint(Chem.MolFromSmiles(f.smiles)).GetOnBits()), s


def test_handing_on_the_parsed_molecule_changes_nothing(smiles) -> None:
    from rdkit import Chem

    from specialists.molecules.chem import parse_smiles
    from specialists.molecules.learned import featurise

    for s in smiles[:40] + ODD:
        canon = Chem.MolToSmiles(parse_smiles(s))
        a, b = featurise(s), featurise(canon, parse_smiles(canon))
        assert a.smiles == b.smiles == canon
        for field in ("x", "edge_index", "edge_attr", "desc", "forest", "bits"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), (s, field)


def test_code_tables_are_from_smiles_lists() -> None:
    from torch_geometric.utils.smiles import e_map, x_map

    from specialists.molecules import learned as L

    assert L._CHIRALITY == x_map["chirality"] and L._HYBRIDIZATION == x_map["hybridization"]
    assert L._BOND_TYPE == e_map["bond_type"] and L._BOND_STEREO == e_map["stereo"]
    assert L._X_SIZES == [len(v) for v in x_map.values()] and L._E_SIZES == [len(v) for v in e_map.values()]


@needs_weights
def test_inference_members_equal_the_reference_forward(smiles) -> None:
    import torch
    from torch_geometric.loader import DataLoader

    from specialists.molecules.learned import GraphBatch, PropertyGNN, featurise, graph_of, load_ensemble

    graphs = [graph_of(s) for s in smiles]
    (pyg,) = list(DataLoader(graphs, batch_size=256))
    ours = GraphBatch.of([featurise(s) for s in smiles])
    for name in ("logs", "bbb"):
        ck = torch.load(MODEL_PATHS[name], map_location="cpu", weights_only=True)
        for member, state in zip(load_ensemble(name).members, ck["states"], strict=True):
            ref = PropertyGNN(**ck["config"])
            ref.load_state_dict(state)
            ref.train(False)
            with torch.no_grad():
                want = ref(pyg)
                torch.testing.assert_close(member.infer(pyg), want, rtol=0, atol=1e-5)
                torch.testing.assert_close(member.infer(ours), want, rtol=0, atol=1e-5)


@needs_weights
def test_domain_equals_bulk_tanimoto(smiles) -> None:
    from specialists.molecules.learned import featurise, nearest_similarity, nearest_similarity_bits

    feats = [featurise(s) for s in smiles]
    for name in ("logs", "bbb"):
        assert nearest_similarity_bits([f.bits for f in feats], name).tolist() == nearest_similarity(
            [f.smiles for f in feats], name)


@needs_weights
def test_predict_learned_equals_the_reference_path(smiles) -> None:
    from specialists.molecules.learned import predict_learned

    fast, ref = predict_learned(smiles), _reference(smiles)
    for a, b in zip(fast, ref, strict=True):
        assert a.smiles == b.smiles and a.in_domain == b.in_domain
        for key in ("logs", "logs_std", "logs_nearest_similarity", "bbb_probability", "bbb_std",
                    "bbb_nearest_similarity"):
            assert abs(getattr(a, key) - getattr(b, key)) <= 0.0101, (a.smiles, key)


@needs_weights
def test_checkpoint_header_is_read_without_torch(tmp_path) -> None:
    from galen.errors import ModelUnavailable
    from specialists.molecules.assets import ensemble_files
    from specialists.molecules.learned import forest_path, load_ensemble

    for name, path in MODEL_PATHS.items():
        head = ensemble_files(path)
        ens = load_ensemble(name)
        assert (head.version, head.task) == (ens.version, ens.task)
        assert (head.forest_file is not None) == bool(ens.forests)
    code = ("import sys; from specialists.molecules.screen import _model_versions; v = _model_versions(); "
            "assert 'torch' not in sys.modules, 'torch imported'; print(v['logs'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == load_ensemble("logs").version
    lonely = tmp_path / MODEL_PATHS["logs"].name
    lonely.write_bytes(MODEL_PATHS["logs"].read_bytes())  # the checkpoint without its forest member
    if ensemble_files(MODEL_PATHS["logs"]).forest_file is not None:
        with pytest.raises(ModelUnavailable, match=forest_path(lonely).name):
            ensemble_files(lonely)
    with pytest.raises(ModelUnavailable, match="missing"):
        ensemble_files(tmp_path / "nope_gnn.pt")
