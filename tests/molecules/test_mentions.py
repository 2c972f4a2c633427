"""Molecules in free text: one detector for SMILES (wrapped, glued, in Chinese) and drug names."""

from __future__ import annotations

import pytest

from specialists.molecules.mentions import find_molecules, find_smiles, looks_like_smiles
from specialists.molecules.names import find_drug_names, lookup

METOPROLOL = "CC(C)NCC(O)COc1ccc(CCOC)cc1"


@pytest.mark.parametrize("text", [
    f"analogues of metoprolol ({METOPROLOL}) with logP under 2",
    f"analogues of metoprolol({METOPROLOL}) please",
    f"SMILES: {METOPROLOL}.",
    f"smiles={METOPROLOL}",
    f"'{METOPROLOL}', MW < 300",
    f"“{METOPROLOL}”",
    f"[{METOPROLOL}]",
    f"(SMILES: {METOPROLOL})",
    f"请设计7个（{METOPROLOL}）的类似物",
    f"{METOPROLOL}的衍生物",
])
def test_wrapped_and_glued_smiles_are_found_whole(text: str) -> None:
    tokens = find_smiles(text)
    assert [(t.text, t.valid) for t in tokens] == [(METOPROLOL, True)]
    assert text[tokens[0].start:tokens[0].end] == METOPROLOL


def test_brackets_inside_smiles_are_kept_and_bracket_atoms_survive() -> None:
    assert [t.text for t in find_smiles("Is (CC(=O)O) acidic?")] == ["CC(=O)O"]
    assert [t.text for t in find_smiles("scaffold c1ccc2[nH]ccc2c1, please")] == ["c1ccc2[nH]ccc2c1"]
    assert [t.text for t in find_smiles("O=C(O)c1ccccc1O.")] == ["O=C(O)c1ccccc1O"]


@pytest.mark.parametrize("word", ["CNS", "SCC", "NO2", "CF3", "COX-2", "CYP3A4", "5-HT2A", "HER2", "MW", "1,2,4-triazole",
                                  "logP", "A^2", "300-400", "scoop", "IC50", "Ro5", "Fsp3", "sp3"])
def test_words_acronyms_and_formulas_are_not_molecules(word: str) -> None:
    assert not looks_like_smiles(word)
    assert find_smiles(f"with {word} in it") == []


def test_broken_smiles_is_found_and_marked_invalid() -> None:
    assert [(t.text, t.valid) for t in find_smiles("analogs of C1CC(N with logP")] == [("C1CC(N", False)]
    assert [(t.text, t.valid) for t in find_smiles("What about c1ccccc?")] == [("c1ccccc", False)]


def test_extract_reexport_is_the_same_detector() -> None:
    from tools.extract import SmilesToken
    from tools.extract import find_smiles as reexported

    assert reexported is find_smiles
    assert SmilesToken("CCO", True) == find_smiles("CCO")[0]


@pytest.mark.parametrize("text, name", [
    ("analogs of metoprolol tartrate", "metoprolol"),
    ("Sertraline HCl analogs", "sertraline"),
    ("sertraline hydrochloride", "sertraline"),
    ("VALPROIC-ACID", "valproic acid"),
    ("Gefitinib-like molecules", "gefitinib"),
    ("five analogs of Zoloft", "sertraline"),
    ("Celebrex", "celecoxib"),
    ("Toprol-XL", "metoprolol"),
    ("设计10个塞来昔布的类似物", "celecoxib"),
    ("布洛芬类似物", "ibuprofen"),
])
def test_names_case_hyphen_salt_brand_and_chinese(text: str, name: str) -> None:
    found = find_drug_names(text)
    assert [n for n, _ in found] == [name]
    assert found[0][1] == lookup(name)


def test_salt_lookup_and_mentions_keep_what_was_written() -> None:
    assert lookup("celecoxib sodium") == lookup("celecoxib")
    m = find_molecules("Ten analogs of metoprolol tartrate (CC(C)NCC(O)COc1ccc(CCOC)cc1) with MW under 300")
    assert [n.written for n in m.names] == ["metoprolol tartrate"]
    assert [t.text for t in m.valid] == [METOPROLOL]


def test_a_name_inside_a_smiles_is_not_a_name() -> None:
    assert find_molecules("CC(C)NCC(O)COc1ccc(CCOC)cc1").names == []


def test_router_normalise_replaces_wrapped_smiles() -> None:
    from agent.router import normalise

    out = normalise(f"analogues of metoprolol ({METOPROLOL}) with logP under 2")
    assert METOPROLOL not in out and "this molecule" in out
