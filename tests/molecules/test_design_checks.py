"""Designs a chemist would keep: strict bounds on unrounded values, honest display, the filter in the
search, novelty against the prior's training data, every molecule listed, impossible requests explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdkit import Chem
from rdkit.Chem import Crippen

from galen.errors import InvalidInput
from galen.settings import Settings
from specialists.molecules.report import fmt
from specialists.molecules.request import DesignRequest, Range
from specialists.molecules.scoring import Scorer
from tools.base import ToolContext
from tools.molecules import DesignMoleculesTool, PredictPropertiesTool


def test_strict_bounds_on_unrounded_values() -> None:
    smi = "CC(=O)Nc1ccc(O)cc1"  # paracetamol, Crippen logP 1.3506
    logp = Crippen.MolLogP(Chem.MolFromSmiles(smi))
    at = Scorer(DesignRequest(ranges={"logp": Range(high=logp, high_strict=True)}, novel=False)).score_smiles([smi])[0]
    assert at is not None and at.constraints["logp"] is False  # "under X" excludes X itself
    le = Scorer(DesignRequest(ranges={"logp": Range(high=logp)}, novel=False)).score_smiles([smi])[0]
    assert le is not None and le.constraints["logp"] is True
    rounded = Scorer(DesignRequest(ranges={"logp": Range(high=1.35)}, novel=False)).score_smiles([smi])[0]
    assert rounded is not None and rounded.constraints["logp"] is False  # 1.3506 > 1.35 though it prints as 1.35
    assert rounded.properties["logp"] == logp  # unrounded


def test_display_never_looks_inside_a_bound_it_breaks() -> None:
    assert fmt("logp", 1.2041, Range(high=1.2, high_strict=True)) == "1.204"
    assert fmt("logp", 1.1996, Range(high=1.2, high_strict=True)) == "1.1996"
    assert fmt("logp", 2.5, Range(high=3)) == "2.50"
    assert fmt("mw", 399.996, Range(high=400, high_strict=True)) == "399.996"
    assert fmt("hbd", 2.0, Range(high=2)) == "2"


def test_the_filter_rejects_unstable_groups_in_the_search_and_reports_them() -> None:
    req = DesignRequest(ranges={"mw": Range(high=400)}, novel=False)
    hemiaminal, clean = Scorer(req).score_smiles(["OC(N(C)C)c1ccccc1", "CC(=O)N(C)Cc1ccccc1"])
    assert hemiaminal is not None and not hemiaminal.passed and hemiaminal.constraints["chemical_sense"] is False
    assert clean is not None and clean.passed
    off = Scorer(req.model_copy(update={"chem_filter": False})).score_smiles(["OC(N(C)C)c1ccccc1"])[0]
    assert off is not None and off.passed and any("hemiaminal" in w for w in off.warnings)


def test_novel_means_absent_from_moses_and_approved_drugs() -> None:
    from specialists.molecules.novelty import checked_sets, is_known

    assert is_known(Chem.MolFromSmiles("CC(=O)Nc1ccccc1"))  # acetanilide
    assert is_known(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))  # aspirin (approved drug)
    assert not is_known(Chem.MolFromSmiles("CC(=O)Nc1ccc(OC2CC(F)(F)C2)c(C#N)c1Cl"))
    sets = checked_sets()
    assert "MOSES train" in sets and "ChEMBL approved drugs" in sets
    scored = Scorer(DesignRequest(ranges={"mw": Range(high=400)})).score_smiles(["CC(=O)Nc1ccccc1"])[0]
    assert scored is not None and scored.constraints["novel"] is False and not scored.passed


def _ctx(tmp_path: Path, **settings) -> ToolContext:
    return ToolContext(settings=Settings(**settings), workdir=tmp_path / "work")


def test_every_returned_molecule_is_listed_with_values_against_constraints(tmp_path: Path) -> None:
    tool = DesignMoleculesTool()
    ctx = _ctx(tmp_path, design_time_budget_s=20, design_oracle_budget=800)
    args = tool.validate_arguments(tool.extract_arguments("Six analogs of paracetamol with logP under 1.2", ctx))
    result = tool.run(args, ctx)
    mols = result.data["molecules"]
    assert len(mols) == 6
    lines = [f for f in result.facts if f.startswith("#")]
    assert len(lines) == 6
    for m, line in zip(mols, lines, strict=True):
        assert m["smiles"] in line and "(< 1.2 ✓)" in line
        assert m["properties"]["logp"] < 1.2 and m["constraints"]["chemical_sense"] and m["novel"]
    assert any("novel" in w and "MOSES train" in w for w in result.warnings)


def test_search_exhaustion_raises_with_the_closest_molecules(tmp_path: Path) -> None:
    tool = DesignMoleculesTool()
    ctx = _ctx(tmp_path, design_time_budget_s=3, design_oracle_budget=60)
    args = tool.validate_arguments(tool.extract_arguments("5 analogs of caffeine with QED above 0.95", ctx))
    with pytest.raises(InvalidInput) as e:
        tool.run(args, ctx)
    assert "Closest molecules found" in e.value.message and "QED > 0.95" in e.value.message


@pytest.mark.parametrize("question, asked, label", [
    ("What is the TPSA of celecoxib?", ["TPSA"], "celecoxib"),
    ("What is celecoxib's TPSA?", ["TPSA"], "celecoxib"),
    ("What's the molecular weight and rotatable bond count of imatinib?", ["molecular weight", "rotatable bonds"],
     "imatinib"),
    ("Give me the properties of Gleevec", [], "imatinib"),
])
def test_property_questions_name_the_molecule_and_answer_what_was_asked(tmp_path: Path, question, asked, label) -> None:
    tool = PredictPropertiesTool()
    ctx = _ctx(tmp_path)
    args = tool.validate_arguments(tool.extract_arguments(question, ctx))
    result = tool.run(args, ctx)
    assert args.labels == [label]
    if asked:
        first = result.facts[0]
        assert first.startswith(label) and all(a in first for a in asked)
    else:
        assert any("MW" in f for f in result.facts)
