"""Drug-name table and the plain-language design parser."""

from __future__ import annotations

import pytest

from galen.errors import InvalidInput, MissingFacts
from specialists.molecules.names import find_drug_names, lookup
from specialists.molecules.parse import parse_design_request
from specialists.molecules.request import MAX_COUNT, DesignRequest, Range, check_feasible


@pytest.mark.parametrize(
    "name, smiles",
    [
        ("aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
        ("Ibuprofen", "CC(C)Cc1ccc(C(C)C(=O)O)cc1"),
        ("CELECOXIB", "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1"),
        ("caffeine", "Cn1c(=O)c2c(ncn2C)n(C)c1=O"),
        ("paracetamol", "CC(=O)Nc1ccc(O)cc1"),
        ("acetaminophen", "CC(=O)Nc1ccc(O)cc1"),
    ],
)
def test_common_names_resolve(name: str, smiles: str) -> None:
    assert lookup(name) == smiles


def test_morphine_and_unknown() -> None:
    assert lookup("morphine").startswith("CN1CC[C@]23")
    assert lookup("foobarinib") is None


def test_find_names_in_text_prefers_multiword_and_skips_words() -> None:
    found = find_drug_names("Compare valproic acid with Ibuprofen's analogs in water")
    assert [n for n, _ in found] == ["valproic acid", "ibuprofen"]


def test_parser_comparators_units_and_qualitative() -> None:
    req = parse_design_request(
        "ten analogs of celecoxib with MW ≤ 400 Da, logP under 3, QED at least 0.7, TPSA between 40 and 90, "
        "no more than 2 H-bond donors, no PAINS, predicted soluble, BBB-penetrant"
    ).request
    assert req.count == 10
    assert req.reference_names == ["celecoxib"]
    assert req.min_similarity == 0.4
    r = req.ranges
    assert r["mw"] == Range(high=400) and r["logp"] == Range(high=3, high_strict=True) and r["qed"] == Range(low=0.7)
    assert r["tpsa"] == Range(low=40, high=90) and r["hbd"] == Range(high=2)
    assert r["logs"] == Range(low=-4.0) and r["bbb"] == Range(low=0.5)
    assert req.avoid_alerts == ["PAINS"]


def test_parser_scaffold_smiles_and_counts() -> None:
    req = parse_design_request("Give me 5 molecules keeping the scaffold c1ccccc1 with rotatable bonds ≤ 4").request
    assert req.count == 5 and [m.query for m in req.motifs] == ["c1ccccc1"] and not req.references
    assert req.ranges["rotatable_bonds"] == Range(high=4)
    req = parse_design_request("analogs of CC(C)Cc1ccc(C(C)C(=O)O)cc1, tanimoto >= 0.6").request
    assert req.references == ["CC(C)Cc1ccc(C(C)C(=O)O)cc1"] and req.min_similarity == 0.6


def test_a_million_molecules_is_capped_with_a_note() -> None:
    parsed = parse_design_request("a million molecules like aspirin")
    assert parsed.request.count == MAX_COUNT
    assert any("capped" in n for n in parsed.notes)


def test_unknown_name_is_reported_not_guessed() -> None:
    with pytest.raises(MissingFacts) as e:
        parse_design_request("ten analogs of foobarinib with MW under 400")
    assert "foobarinib" in e.value.message and e.value.missing == ["SMILES of foobarinib"]


def test_contradictory_constraints_are_explained() -> None:
    with pytest.raises(InvalidInput, match="contradict") as e:
        parse_design_request("molecules with MW < 100 and TPSA > 200")
    assert "100 Da" in e.value.message
    with pytest.raises(InvalidInput, match="impossible"):
        check_feasible(DesignRequest(ranges={"logp": Range(low=4, high=2)}))


def test_invalid_and_oversized_smiles_are_refused() -> None:
    with pytest.raises(InvalidInput, match="parentheses"):
        parse_design_request("analogs of C1CC(N with logP under 3")
    with pytest.raises(InvalidInput, match="300 heavy atoms"):
        parse_design_request("analogs of " + "C" * 300)


def test_request_without_any_target_asks_for_one() -> None:
    with pytest.raises(MissingFacts):
        parse_design_request("design some molecules please")


@pytest.mark.parametrize(
    "text, count",
    [
        ("Five soluble, BBB-penetrant molecules with MW under 350", 5),
        ("Close analogs of aspirin, five of them", 5),
        ("Give me a few analogs of aspirin", 5),
        ("25 analogs of caffeine", 25),
        ("analogs of caffeine", 10),
    ],
)
def test_counts_in_words_and_digits(text: str, count: int) -> None:
    assert parse_design_request(text).request.count == count


def test_relative_constraints_use_the_references_own_values() -> None:
    from rdkit.Chem import Crippen, Lipinski

    from specialists.molecules.chem import parse_smiles

    parsed = parse_design_request("Ten analogs of ibuprofen with lower logP and more H-bond acceptors")
    ibu = parse_smiles("CC(C)Cc1ccc(C(C)C(=O)O)cc1")
    assert parsed.request.ranges["logp"] == Range(high=Crippen.MolLogP(ibu), high_strict=True)  # unrounded, strict
    assert parsed.request.ranges["hba"] == Range(low=Lipinski.NumHAcceptors(ibu), low_strict=True)
    assert any("below ibuprofen's computed logP" in n for n in parsed.notes)
    assert parsed.unread == []
    # two references: lower means below the lowest of them, or the one named after "than"
    aspirin = Crippen.MolLogP(parse_smiles("CC(=O)Oc1ccccc1C(=O)O"))
    assert parse_design_request("analogs of aspirin and ibuprofen with lower logP").request.ranges["logp"].high == aspirin
    named = parse_design_request("analogs of aspirin and ibuprofen with lower logP than ibuprofen")
    assert named.request.ranges["logp"].high == Crippen.MolLogP(ibu)
    # an explicit window wins over a comparison
    both = parse_design_request("analogs of caffeine that are less lipophilic, logP under 0")
    assert both.request.ranges["logp"] == Range(high=0, high_strict=True)
