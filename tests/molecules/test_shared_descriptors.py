"""The work the screen shares or skips gives RDKit's own answers: alerts behind the pattern-fingerprint
screen equal ``FilterCatalog.GetMatches``, QED from shared descriptors equals ``QED.qed``, the learned
descriptors handed on equal those computed afresh, and message passing in edge blocks equals it in one
piece, bit for bit, on molecules with PAINS and Brenk hits, charges, isotopes and explicit hydrogens."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.molecules.screen_data import moses_test

ODD = ["[H][H]", "[2H]C([2H])([2H])O", "[H]C([H])([H])C(=O)O", "[NH4+].[Cl-]", "CC.[Na+].[O-]C=O", "C", "*CC",
       "[Se]1[Se][Se][Se]1", "O=S(=O)(O)c1ccccc1", "C[C@H](N)C(=O)O", "F/C=C/F", "[13CH3]C#N", "O=[N+]([O-])c1ccccc1",
       "Oc1ccc(cc1)/N=N/c1ccccc1", "O=C1C=CC(=O)C=C1", "S=C(N)N/N=C/c1ccccc1O"]


def _pains_data() -> Path:
    from rdkit import RDConfig

    path = Path(RDConfig.RDDataDir) / "Pains" / "test_data"
    if not path.is_dir():
        pytest.skip("RDKit's PAINS test data are not installed")
    return path


@pytest.fixture(scope="module")
def mols() -> list:
    """PAINS positives (RDKit's PAINS test set), a slice of the WEHI library, MOSES test molecules and odd cases."""
    from rdkit import Chem

    data = _pains_data()
    smiles = [line.split("\t")[2] for line in (data / "test_set3.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    with (data / "wehi_mols.csv").open() as f:
        smiles += [row[0] for row, _ in zip(csv.reader(f), range(300), strict=False)]
    smiles += moses_test(200) + ODD
    out = [m for m in (Chem.MolFromSmiles(s) for s in smiles) if m is not None]
    assert len(out) > 900
    return out


def test_catalogue_queries_are_the_entries_own(mols) -> None:
    from specialists.molecules.properties import _catalogues
    from specialists.molecules.substructure_screen import entry_query

    for label, cat in _catalogues().items():
        entries = [cat.GetEntryWithIdx(k) for k in range(cat.GetNumEntries())]
        queries = [entry_query(e) for e in entries]
        assert sum(q is not None for q in queries) >= 0.9 * len(entries), label  # nearly all are screened
        for e, q in zip(entries, queries, strict=True):
            if q is not None:
                for m in mols[::3]:
                    assert m.HasSubstructMatch(q) == e.HasFilterMatch(m), (label, e.GetDescription())


def test_screened_alerts_equal_get_matches(mols) -> None:
    from specialists.molecules.properties import Alert, _catalogues, structural_alerts

    cats = _catalogues()
    hits = {"PAINS": 0, "Brenk": 0}
    for m in mols:
        want = [Alert(label, e.GetDescription()) for label in ("PAINS", "Brenk") for e in cats[label].GetMatches(m)]
        assert structural_alerts(m) == want
        assert structural_alerts(m, ("Brenk",)) == [a for a in want if a.catalogue == "Brenk"]
        for a in want:
            hits[a.catalogue] += 1
    assert hits["PAINS"] > 300 and hits["Brenk"] > 300  # the molecules do exercise both catalogues


def test_qed_from_shared_descriptors_equals_rdkit(mols) -> None:
    from rdkit import Chem
    from rdkit.Chem import QED

    from specialists.molecules.properties import properties_and_raw, qed_of
    from specialists.molecules.substructure_screen import pattern_bits

    with_h = 0
    for m in mols:
        _, raw = properties_and_raw(m)
        got = qed_of(m, raw["mw"], raw["logp"], raw["hbd"], raw["tpsa"], pattern_bits(m))
        assert got == QED.qed(Chem.Mol(m)), Chem.MolToSmiles(m)  # exactly, on a fresh copy
        with_h += m.GetNumHeavyAtoms() != m.GetNumAtoms()
    assert with_h >= 2  # QED's own path is taken too


def test_handed_on_descriptors_equal_fresh_ones(mols) -> None:
    from rdkit import Chem

    from specialists.molecules.learned import descriptor_vector
    from specialists.molecules.properties import properties_and_raw

    for m in mols[::2]:
        _, raw = properties_and_raw(m)
        assert descriptor_vector(m, raw) == descriptor_vector(Chem.Mol(m)), Chem.MolToSmiles(m)


def test_edge_blocks_give_the_same_bits(monkeypatch) -> None:
    import torch

    from specialists.molecules import gnn_inference
    from specialists.molecules.learned import GraphBatch, InferenceGNN, featurise

    torch.manual_seed(0)
    model = InferenceGNN(hidden=32, layers=2)
    model.train(False)
    batch = GraphBatch.of([featurise(s) for s in moses_test(40) + ODD[3:]])
    with torch.inference_mode():
        monkeypatch.setattr(gnn_inference, "_EDGE_BLOCK", 10 ** 9)  # one block: the whole batch at once
        whole = model.infer(batch)
        for block in (1, 7, 512):
            monkeypatch.setattr(gnn_inference, "_EDGE_BLOCK", block)
            assert torch.equal(model.infer(batch), whole), block
