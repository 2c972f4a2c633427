"""RDKit descriptors, rule checks and alerts against reference values (tests/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from galen.errors import InvalidInput, MissingFacts
from specialists.molecules.properties import compute_properties
from tools.molecules import extract_molecules

REF = json.loads((Path(__file__).parent / "data" / "properties_reference.json").read_text())


@pytest.mark.parametrize("name", sorted(REF))
def test_reference_values(name: str) -> None:
    ref = REF[name]
    p = compute_properties(ref["smiles"])
    for key in ("mw", "logp", "tpsa", "qed", "sa_score"):
        assert getattr(p, key) == pytest.approx(ref[key], abs=0.011), key
    for key in ("hbd", "hba", "rotatable_bonds"):
        assert getattr(p, key) == ref[key], key
    assert p.lipinski.passed == ref["lipinski"]
    assert p.veber.passed == ref["veber"]
    assert sorted({a.catalogue for a in p.alerts}) == ref["alert_catalogues"]


def test_invalid_smiles_says_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="ring"):
        compute_properties("C1CC")
    with pytest.raises(InvalidInput, match="parentheses"):
        compute_properties("CC(C")
    with pytest.raises(InvalidInput, match="valence|valid"):
        compute_properties("C(C)(C)(C)(C)C")
    with pytest.raises(InvalidInput, match="No molecule"):
        compute_properties("  ")


def test_extract_molecules_from_text() -> None:
    assert extract_molecules("logP of CCO and c1ccccc1O, please.") == ["CCO", "c1ccccc1O"]
    assert extract_molecules("Is (CC(=O)O) acidic?") == ["CC(=O)O"]
    with pytest.raises(MissingFacts):
        extract_molecules("What is the TPSA of this CT scan result?")
    with pytest.raises(InvalidInput, match="ring"):
        extract_molecules("What about c1ccccc?")
