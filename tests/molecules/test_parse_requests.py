"""Design requests as chemists type them: de novo, counts, ranges and units with their strictness,
references in every phrasing, motifs to keep, and every clause applied or reported."""

from __future__ import annotations

import pytest

from galen.errors import InvalidInput, MissingFacts
from specialists.molecules.parse import parse_design_request
from specialists.molecules.request import Range

INF = None


def _r(text: str):
    return parse_design_request(text).request


def test_de_novo_request_with_windows_is_not_read_as_a_drug_name() -> None:
    parsed = parse_design_request("Design 10 new drug-like molecules with MW 300–400 and logP 1-3")
    req = parsed.request
    assert req.references == [] and req.count == 10
    assert req.ranges["mw"] == Range(low=300, high=400) and req.ranges["logp"] == Range(low=1, high=3)
    assert req.ranges["hbd"] == Range(high=5)  # "drug-like": rule of five for what the request left open
    assert any("de novo" in n for n in parsed.notes) and any("rule of five" in n for n in parsed.notes)


@pytest.mark.parametrize("text, expected", [
    ("logP between 1 and 3", Range(low=1, high=3)),
    ("logP 1–3", Range(low=1, high=3)),
    ("logP 1-3", Range(low=1, high=3)),
    ("logP from 1 to 3", Range(low=1, high=3)),
    ("logP ≤ 3", Range(high=3)),
    ("logP <= 3", Range(high=3)),
    ("logP at most 3", Range(high=3)),
    ("logP no more than 3", Range(high=3)),
    ("logP not exceeding 3", Range(high=3)),
    ("logP of 3 or less", Range(high=3)),
    ("logP under 3", Range(high=3, high_strict=True)),
    ("logP < 3", Range(high=3, high_strict=True)),
    ("logP below 3", Range(high=3, high_strict=True)),
    ("logP strictly below 3", Range(high=3, high_strict=True)),
    ("logP less than 3", Range(high=3, high_strict=True)),
    ("logP > 1", Range(low=1, low_strict=True)),
    ("logP above 1", Range(low=1, low_strict=True)),
    ("logP at least 1", Range(low=1)),
    ("logP ≥ 1", Range(low=1)),
    ("logP < 3 and > 1", Range(low=1, high=3, low_strict=True, high_strict=True)),
    ("cLogP (Crippen) between -1 and 1", Range(low=-1, high=1)),
    ("lipophilicity (logP) between 1 and 2", Range(low=1, high=2)),
    ("lower logP (below 3.5)", Range(high=3.5, high_strict=True)),
])
def test_logp_comparators_keep_their_strictness(text: str, expected: Range) -> None:
    assert _r("analogs of ibuprofen with " + text).ranges["logp"] == expected


@pytest.mark.parametrize("text, key, expected", [
    ("MW under 400 Da", "mw", Range(high=400, high_strict=True)),
    ("MW ≤ 450 g/mol", "mw", Range(high=450)),
    ("under 320 Da", "mw", Range(high=320, high_strict=True)),
    ("300-400 Da", "mw", Range(low=300, high=400)),
    ("molecular weight should stay below 220", "mw", Range(high=220, high_strict=True)),
    ("TPSA 40-90 Å²", "tpsa", Range(low=40, high=90)),
    ("TPSA < 60 A^2", "tpsa", Range(high=60, high_strict=True)),
    ("TPSA at least 40 Å2", "tpsa", Range(low=40)),
    ("polar surface area under 90 angstroms squared", "tpsa", Range(high=90, high_strict=True)),
    ("fewer than 3 rotatable bonds", "rotatable_bonds", Range(high=3, high_strict=True)),
    ("no more than two H-bond donors", "hbd", Range(high=2)),
    ("1-2 HBD", "hbd", Range(low=1, high=2)),
    ("3 to 6 HBA", "hba", Range(low=3, high=6)),
    ("exactly 2 H-bond donors", "hbd", Range(low=2, high=2)),
    ("at least one aromatic ring", "aromatic_rings", Range(low=1)),
    ("2 to 3 aromatic rings", "aromatic_rings", Range(low=2, high=3)),
    ("5 or fewer rotatable bonds", "rotatable_bonds", Range(high=5)),
    ("heavy atoms between 18 and 25", "heavy_atoms", Range(low=18, high=25)),
    ("QED > 0.6", "qed", Range(low=0.6, low_strict=True)),
    ("SA score ≤ 3", "sa_score", Range(high=3)),
    ("Fsp3 at least 0.4", "fsp3", Range(low=0.4)),
])
def test_units_and_integer_properties(text: str, key: str, expected: Range) -> None:
    req = _r("Design 5 molecules with " + text)
    assert req.ranges[key] == expected


def test_numbers_are_read_once_and_later_clauses_win() -> None:
    req = _r("Design 10 compounds with MW < 150 Da and TPSA ≥ 20, logP under 3 HBD ≤ 2")
    assert req.ranges["mw"] == Range(high=150, high_strict=True) and req.ranges["tpsa"] == Range(low=20)
    assert req.ranges["logp"] == Range(high=3, high_strict=True) and req.ranges["hbd"] == Range(high=2)
    req = _r("8 analogs of celecoxib with fewer than 3 HBA... wait, make it HBA ≤ 4")
    assert req.ranges["hba"] == Range(high=4)


@pytest.mark.parametrize("text, count", [
    ("Gefitinib-like molecules (10), MW ≤ 450", 10),
    ("novel analogs of haloperidol, 8, logP no more than 3.5", 8),
    ("Analogs of 'CC(=O)Nc1ccc(O)cc1' — 5 of them — logP between 0.5 and 1.5", 5),
    ("Suggest 7 ibuprofen-like compounds", 7),
    ("twenty-five analogs of caffeine", 25),
    ("half a dozen analogs of caffeine", 6),
    ("a dozen lead-like compounds with a pyridine ring", 12),
    ("8 analouges of naproxen", 8),
    ("Ten compunds like propranolol", 10),
    ("Generate 100 molecules with MW 250-350", 100),
    ("5 COX-2 inhibitor analogs of celecoxib", 5),
])
def test_counts(text: str, count: int) -> None:
    assert _r(text).count == count


@pytest.mark.parametrize("text", [
    "analogs of gefitinib", "analogues of gefitinib", "derivatives of gefitinib", "similar to gefitinib",
    "based on gefitinib", "gefitinib-like molecules", "molecules around the gefitinib scaffold",
    "molecules inspired by Iressa", "compounds like gefitinib",
])
def test_reference_phrasings(text: str) -> None:
    req = _r(text + " with MW under 460")
    assert req.reference_names == ["gefitinib"] and req.min_similarity == 0.4


def test_unknown_words_after_cues_are_reported_but_descriptors_are_not() -> None:
    with pytest.raises(MissingFacts, match="foozanib"):
        _r("analogs of foozanib please, logP < 3")
    with pytest.raises(MissingFacts, match="blorbinib"):
        _r("blorbinib-like molecules with MW under 400")
    assert _r("10 kinase-inhibitor-like analogs of erlotinib, MW < 420").reference_names == ["erlotinib"]


@pytest.mark.parametrize("text, name, smarts", [
    ("analogs of gefitinib, keep the quinazoline core", "quinazoline", "c1ccc2ncncc2c1"),
    ("10 molecules containing a piperazine ring with MW under 400", "piperazine", "C1CNCCN1"),
    ("make 10 benzimidazole-containing molecules, logP 1–3", "benzimidazole", "c1ccc2ncnc2c1"),
    ("around the indole scaffold: 7 molecules, logP 2-3.5", "indole", "c1ccc2nccc2c1"),
    ("derivatives of celecoxib, keep the sulfonamide", "sulfonamide", "[SX4](=O)(=O)[NX3]"),
    ("ten thiazole compounds with logP < 3", "thiazole", "s1cncc1"),
])
def test_named_motifs_to_keep(text: str, name: str, smarts: str) -> None:
    req = _r(text)
    assert [(m.name, m.query, m.keep) for m in req.motifs] == [(name, smarts, True)]


def test_smiles_scaffold_exclusions_and_reference_cores() -> None:
    req = _r("analogs of ciprofloxacin keeping the quinolone core (O=c1ccn(C2CC2)c2ccccc12), MW < 360")
    assert [m.query for m in req.motifs] == ["O=c1ccn(C2CC2)c2ccccc12"] and req.reference_names == ["ciprofloxacin"]
    req = _r("ten analogs of celecoxib without a nitrile, MW < 400")
    assert [(m.name, m.keep) for m in req.motifs] == [("nitrile", False)]
    parsed = parse_design_request("analogs of celecoxib that keep the core, logP < 4")
    assert parsed.request.motifs[0].name == "the core of celecoxib"
    assert any("Bemis–Murcko" in n for n in parsed.notes)


def test_every_clause_is_applied_or_reported() -> None:
    parsed = parse_design_request("ten analogs of gefitinib, replace the quinazoline with something else, logP ~ 3")
    assert any("quinazoline" in u for u in parsed.unread)
    assert sum(n.startswith("Not applied") for n in parsed.notes) == len(parsed.unread) >= 2
    parsed = parse_design_request("ten analogs of gefitinib, keep the hinge-binding core motif and MW < 450")
    assert parsed.unread and parsed.notes[0].startswith("Not applied")


def test_alerts_filter_switch_and_qualitative_terms() -> None:
    assert _r("analogs of aspirin without PAINS or Brenk alerts").avoid_alerts == ["PAINS", "Brenk"]
    assert _r("analogs of aspirin, no structural alerts").avoid_alerts == ["PAINS", "Brenk"]
    assert _r("analogs of aspirin, Brenk-free").avoid_alerts == ["Brenk"]
    assert _r("5 ibuprofen analogs with logP < 3").chem_filter is True
    assert _r("5 ibuprofen analogs with logP < 3, don't filter out reactive or unstable groups").chem_filter is False
    assert parse_design_request("5 ibuprofen analogs", chem_filter=False).request.chem_filter is False
    lead = _r("a dozen lead-like compounds with a pyridine ring")
    assert lead.ranges == {"mw": Range(low=250, high=350), "logp": Range(high=3.5), "rotatable_bonds": Range(high=7)}
    frag = _r("20 fragment-like molecules")
    assert frag.ranges["mw"] == Range(high=300, high_strict=True) and frag.ranges["hba"] == Range(high=3)


@pytest.mark.parametrize("text, check", [
    ("设计10个塞来昔布的类似物，分子量小于400，不含PAINS",
     lambda r: r.count == 10 and r.reference_names == ["celecoxib"] and r.ranges["mw"] == Range(high=400, high_strict=True)
     and r.avoid_alerts == ["PAINS"]),
    ("请生成5个布洛芬类似物，logP不超过3", lambda r: r.count == 5 and r.ranges["logp"] == Range(high=3)),
    ("生成8个分子，分子量在250到350之间，logP 1-3",
     lambda r: r.count == 8 and not r.references and r.ranges["mw"] == Range(low=250, high=350)),
    ("以喹唑啉为骨架设计6个化合物，TPSA小于90", lambda r: r.count == 6 and r.motifs[0].name == "quinazoline"),
    ("CC(C)Cc1ccc(C(C)C(=O)O)cc1的衍生物，5个，分子量不超过300，氢键供体不超过2个",
     lambda r: r.count == 5 and len(r.references) == 1 and r.ranges["hbd"] == Range(high=2)),
    ("生成十二个含哌嗪环的化合物，分子量300～400，QED大于0.6",
     lambda r: r.count == 12 and r.motifs[0].name == "piperazine" and r.ranges["mw"] == Range(low=300, high=400)
     and r.ranges["qed"] == Range(low=0.6, low_strict=True)),
    ("设计一些能透过血脑屏障的氟西汀类似物，TPSA低于60", lambda r: r.ranges["bbb"] == Range(low=0.5)),
    ("设计8个不含PAINS的苯并咪唑类化合物", lambda r: r.motifs[0].keep and r.avoid_alerts == ["PAINS"]),
    ("西地那非的类似物3个，分子量不超过450", lambda r: r.count == 3 and r.reference_names == ["sildenafil"]),
])
def test_chinese_requests(text: str, check) -> None:
    assert check(_r(text))


def test_impossible_requests_say_which_constraints_conflict_and_by_how_much() -> None:
    with pytest.raises(InvalidInput) as e:
        _r("10 molecules with MW < 150 and at least 5 aromatic rings")
    msg = e.value.message
    assert "aromatic rings ≥ 5" in msg and "molecular weight < 150" in msg and "Da outside" in msg
    with pytest.raises(InvalidInput, match="contradict"):
        _r("Five molecules with MW < 100 and TPSA > 200")
    with pytest.raises(InvalidInput, match="impossible"):
        _r("molecules with logP > 3 and < 3")


def test_found_on_the_test_split_and_fixed_after_its_measurement() -> None:
    """Classes the test split exposed (its figure was recorded before these fixes; see design.test.json)."""
    # a ring that is also an approved drug's name is a motif there, not a reference
    req = _r("five piperazine-containing compounds with MW between 250 and 350")
    assert req.references == [] and [m.name for m in req.motifs] == ["piperazine"]
    assert _r("analogs of piperazine with MW under 200").reference_names == ["piperazine"]
    # a decimal is never a count, and similarity is read before counts
    req = _r("analogs of aspirin, similarity of at least 0.55, 7 molecules")
    assert req.count == 7 and req.min_similarity == 0.55
    # the last item of a list of things to have: "... an amide and a sulfonamide"
    req = _r("Design 6 compounds having an amide and a sulfonamide, logP < 3")
    assert [m.name for m in req.motifs] == ["amide", "sulfonamide"]
