"""Restricted-substructure screening of molecule outputs and references."""

from __future__ import annotations

import pytest

from specialists.molecules.screening import restricted_matches


@pytest.mark.parametrize(
    "smiles,expected",
    [
        ("CC(C)OP(C)(=O)F", "phosphonofluoridate"),  # sarin
        ("CCOP(C)(=O)SCCN(C(C)C)C(C)C", "phosphonothioate-aminoethyl"),  # VX
        ("ClCCSCCCl", "sulfur-mustard"),
        ("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "fentanyl-class"),
        ("CC(N)Cc1ccccc1", "amphetamine-class"),
        ("O=C(Cl)Cl", "phosgene"),
    ],
)
def test_restricted_classes_are_found(smiles: str, expected: str) -> None:
    assert expected in {m.id for m in restricted_matches(smiles)}


@pytest.mark.parametrize("smiles", ["CC(=O)Oc1ccccc1C(=O)O", "CN1CCC23C4C1CC5=C2C(=C(C=C5)O)OC3C(C=C4)O", "CC(=O)Nc1ccc(O)cc1", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"])
def test_ordinary_drugs_pass(smiles: str) -> None:
    assert restricted_matches(smiles) == []


def test_design_refuses_restricted_reference() -> None:
    from galen.errors import PolicyRefusal
    from specialists.molecules.design import design
    from specialists.molecules.request import DesignRequest

    with pytest.raises(PolicyRefusal):
        design(DesignRequest(references=["CC(C)OP(C)(=O)F"], count=2, time_budget_s=5))


def test_screen_removes_and_reports() -> None:
    import inspect

    from specialists.molecules.design import _screen
    from specialists.molecules.scoring import Scored

    fields = inspect.signature(Scored).parameters
    def make(smi: str) -> Scored:
        kwargs = {name: (smi if name == "smiles" else p.default if p.default is not inspect.Parameter.empty else None) for name, p in fields.items()}
        return Scored(**kwargs)

    kept, removed = _screen([make("CCO"), make("CC(N)Cc1ccccc1")])
    assert [m.smiles for m in kept] == ["CCO"]
    assert removed == {"amphetamine-type stimulant (alpha-methylphenethylamine)": 1}  # class -> molecules removed
