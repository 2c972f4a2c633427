"""The guideline decision tables, row by row: every row is reached by a case, at its thresholds.

Each expectation below is the published guideline's row for that case (Fleischner 2017 table,
ACR Lung-RADS v2022, BTS 2015 algorithms), so a wrong threshold in the YAML fails here.
"""

from __future__ import annotations

import pytest

from knowledge.decisions.decide import decide
from knowledge.decisions.facts import Case, Nodule
from knowledge.decisions.tables import TABLE_FILES, load_table, section_text


def N(name: str = "n", **facts) -> Nodule:
    n = Nodule(name)
    for k, v in facts.items():
        n.set(k, v, "test")
    return n


def C(*nodules: Nodule, **facts) -> Case:
    c = Case(nodules=list(nodules))
    for k, v in facts.items():
        c.set(k, v, "test")
    return c


@pytest.mark.parametrize("table_id", sorted(TABLE_FILES))
def test_every_row_cites_words_of_its_corpus_section(table_id):
    table = load_table(table_id)
    cites = [r.cite for r in table.all_rows()] + [table.measure_cite, table.multiple_cite]
    cites += [c.cite for r in table.all_rows() for c in r.caveats] + list(table.category_cite.values())
    cites += [m.cite for m in table.modifiers.values()] + ([table.growth_cite] if table.growth_cite else [])
    cites += [a.cite for a in table.assume]
    for cite in cites:
        assert cite.quote in section_text(table.source, cite.section), (table_id, cite.section, cite.quote)


FLEISCHNER = [
    (C(N(type="solid", diameter_mm=4), risk="low"), "solid-single-lt6-low"),
    (C(N(type="solid", diameter_mm=5.4), risk="low"), "solid-single-lt6-low"),  # rounds to 5
    (C(N(type="solid", diameter_mm=5), risk="high"), "solid-single-lt6-high"),
    (C(N(type="solid", diameter_mm=5.5), risk="low"), "solid-single-6to8-low"),  # 5.5 counts as 6
    (C(N(type="solid", diameter_mm=8.4), risk="low"), "solid-single-6to8-low"),  # rounds to 8
    (C(N(type="solid", diameter_mm=7), risk="high"), "solid-single-6to8-high"),
    (C(N(type="solid", diameter_mm=8.5)), "solid-single-gt8"),  # rounds to 9; risk not needed
    (C(N(type="solid", volume_mm3=300)), "solid-single-gt8"),
    (C(N(type="solid", volume_mm3=90), risk="low"), "solid-single-lt6-low"),
    (C(N(type="solid", diameter_mm=5), N(type="solid", diameter_mm=3), risk="low"), "solid-multiple-lt6-low"),
    (C(N(type="solid", diameter_mm=5, group_count=3), risk="high"), "solid-multiple-lt6-high"),
    (C(N(type="solid", diameter_mm=7), N(type="solid", diameter_mm=4), risk="low"), "solid-multiple-6to8-low"),
    (C(N(type="solid", diameter_mm=6), N(type="solid", diameter_mm=4), risk="high"), "solid-multiple-6to8-high"),
    (C(N(type="solid", diameter_mm=12), N(type="solid", diameter_mm=5)), "solid-multiple-gt8"),
    (C(N(type="ground-glass", diameter_mm=5)), "ggn-single-lt6"),
    (C(N(type="ground-glass", diameter_mm=6)), "ggn-single-ge6"),
    (C(N(type="part-solid", diameter_mm=5)), "part-solid-single-lt6"),
    (C(N(type="part-solid", diameter_mm=9, solid_mm=3)), "part-solid-single-ge6"),
    (C(N(type="part-solid", diameter_mm=12, solid_mm=7, persistent=True)), "part-solid-persistent-solid-ge6"),
    (C(N(type="ground-glass", diameter_mm=4), N(type="part-solid", diameter_mm=5)), "subsolid-multiple-lt6"),
    (C(N(type="ground-glass", diameter_mm=9), N(type="ground-glass", diameter_mm=4)), "subsolid-multiple-ge6"),
    (C(N(type="solid", diameter_mm=6), age=29), "under-35"),
    (C(N(type="solid", diameter_mm=6), known_cancer=True), "known-cancer"),
    (C(N(type="solid", diameter_mm=6), immunosuppressed=True), "immunosuppressed"),
    (C(N(type="solid", diameter_mm=6), setting="screening"), "screening"),
]

LUNG_RADS = [
    (C(incomplete="prior-being-located"), "cat0-prior-being-located", "0"),
    (C(N(type="solid", diameter_mm=7), incomplete="not-evaluable"), "cat0-not-evaluable", "0"),
    (C(incomplete="inflammatory"), "cat0-inflammatory", "0"),
    (C(no_nodules=True), "cat1-no-nodules", "1"),
    (C(N(type="solid", diameter_mm=7, benign=True), exam="baseline"), "cat1-benign-features", "1"),
    (C(N(type="solid", diameter_mm=16, proven_benign=True), exam="follow-up"), "cat2-proven-benign", "2"),
    (C(N(type="airway", airway_level="subsegmental"), exam="baseline"), "cat2-airway-subsegmental", "2"),
    (C(N(type="airway", airway_level="segmental"), exam="baseline"), "cat4a-airway-baseline", "4A"),
    (C(N(type="airway", airway_level="segmental", status="new"), exam="follow-up"), "cat4a-airway-new", "4A"),
    (C(N(type="airway", airway_level="segmental", status="stable"), exam="follow-up"), "cat4b-airway-persistent", "4B"),
    (C(N(type="solid", diameter_mm=7, status="stable", prior_category="3"), exam="follow-up"), "cat2-stable-after-3", "2"),
    (C(N(type="solid", diameter_mm=9, status="stable", prior_category="4A"), exam="follow-up"), "cat3-stable-after-4a", "3"),
    (C(N(type="solid", diameter_mm=9.9, juxtapleural=True), exam="baseline"), "cat2-juxtapleural-baseline", "2"),
    (C(N(type="solid", diameter_mm=6, juxtapleural=True, status="new"), exam="follow-up"), "cat2-juxtapleural-new", "2"),
    (C(N(type="solid", diameter_mm=10, juxtapleural=True), exam="baseline"), "cat4a-solid-baseline-8to15", "4A"),
    (C(N(type="solid", diameter_mm=5.9), exam="baseline"), "cat2-solid-baseline-lt6", "2"),
    (C(N(type="solid", diameter_mm=6.0), exam="baseline"), "cat3-solid-baseline-6to8", "3"),
    (C(N(type="solid", long_mm=8.4, short_mm=7.4), exam="baseline"), "cat3-solid-baseline-6to8", "3"),  # mean 7.9
    (C(N(type="solid", long_mm=8.4, short_mm=7.5), exam="baseline"), "cat4a-solid-baseline-8to15", "4A"),  # 7.95 -> 8.0
    (C(N(type="solid", diameter_mm=8.0), exam="baseline"), "cat4a-solid-baseline-8to15", "4A"),
    (C(N(type="solid", diameter_mm=14.9), exam="baseline"), "cat4a-solid-baseline-8to15", "4A"),
    (C(N(type="solid", diameter_mm=15.0), exam="baseline"), "cat4b-solid-baseline-ge15", "4B"),
    (C(N(type="solid", volume_mm3=1767), exam="baseline"), "cat4b-solid-baseline-ge15", "4B"),
    (C(N(type="solid", diameter_mm=3.9, status="new"), exam="follow-up"), "cat2-solid-new-lt4", "2"),
    (C(N(type="solid", diameter_mm=4, status="new"), exam="follow-up"), "cat3-solid-new-4to6", "3"),
    (C(N(type="solid", diameter_mm=6, status="new"), exam="follow-up"), "cat4a-solid-new-6to8", "4A"),
    (C(N(type="solid", diameter_mm=8, status="new"), exam="follow-up"), "cat4b-solid-new-ge8", "4B"),
    (C(N(type="solid", diameter_mm=6, prior_mm=4), exam="follow-up"), "cat4a-solid-growing-lt8", "4A"),
    (C(N(type="solid", diameter_mm=11, prior_mm=9), exam="follow-up"), "cat4b-solid-growing-ge8", "4B"),
    (C(N(type="part-solid", diameter_mm=5.9), exam="baseline"), "cat2-part-solid-baseline-lt6", "2"),
    (C(N(type="part-solid", diameter_mm=10, solid_mm=5.9), exam="baseline"), "cat3-part-solid-baseline-solid-lt6", "3"),
    (C(N(type="part-solid", diameter_mm=14, solid_mm=6), exam="baseline"), "cat4a-part-solid-baseline-solid-6to8", "4A"),
    (C(N(type="part-solid", diameter_mm=18, solid_mm=8), exam="baseline"), "cat4b-part-solid-baseline-solid-ge8", "4B"),
    (C(N(type="part-solid", diameter_mm=5, status="new"), exam="follow-up"), "cat3-part-solid-new-lt6", "3"),
    (C(N(type="part-solid", diameter_mm=9, solid_mm=3, status="new"), exam="follow-up"),
     "cat4a-part-solid-new-solid-lt4", "4A"),
    (C(N(type="part-solid", diameter_mm=12, solid_mm=4, status="growing"), exam="follow-up"),
     "cat4b-part-solid-new-solid-ge4", "4B"),
    (C(N(type="ground-glass", diameter_mm=29.9), exam="baseline"), "cat2-ggn-lt30-baseline", "2"),
    (C(N(type="ground-glass", diameter_mm=20, status="growing"), exam="follow-up"), "cat2-ggn-lt30-new-or-growing", "2"),
    # v2022 lists no row for it: stable and <30 mm is category 2 (the category rests on size or lack of growth)
    (C(N(type="ground-glass", diameter_mm=25, status="stable"), exam="follow-up"), "cat2-ggn-lt30-stable", "2"),
    (C(N(type="ground-glass", diameter_mm=30), exam="baseline"), "cat3-ggn-ge30-baseline", "3"),
    (C(N(type="ground-glass", diameter_mm=32, status="new"), exam="follow-up"), "cat3-ggn-ge30-new", "3"),
    (C(N(type="ground-glass", diameter_mm=32, status="stable"), exam="follow-up"), "cat2-ggn-ge30-stable", "2"),
    (C(N(type="solid", diameter_mm=7, status="slow-growing"), exam="follow-up"), "cat4b-slow-growing", "4B"),
    (C(N(type="part-solid", diameter_mm=12, solid_mm=3, status="slow-growing"), exam="follow-up"),
     "cat4b-slow-growing", "4B"),
    # a prior size does not turn growth across several screens into one interval's growth (or stability)
    (C(N(type="solid", diameter_mm=7, prior_mm=6.5, status="slow-growing"), exam="follow-up"), "cat4b-slow-growing", "4B"),
    (C(N(type="solid", diameter_mm=5, status="stable", prior_category="2"), exam="follow-up"), "cat2-stable-after-2", "2"),
    (C(N(type="cyst", cyst_wall="thick", cyst_change="growing-wall"), exam="follow-up"),
     "cat4b-cyst-thick-wall-growing", "4B"),
    (C(N(type="cyst", multilocular=True, cyst_change="increased-loculation"), exam="follow-up"),
     "cat4b-cyst-multilocular-growing", "4B"),
    (C(N(type="cyst", cyst_wall="thin", cyst_change="becomes-multilocular"), exam="follow-up"),
     "cat4a-cyst-becomes-multilocular", "4A"),
    (C(N(type="cyst", multilocular=True), exam="baseline"), "cat4a-cyst-multilocular-baseline", "4A"),
    (C(N(type="cyst", cyst_wall="thick"), exam="baseline"), "cat4a-cyst-thick-walled", "4A"),
    (C(N(type="cyst", cyst_wall="thin", cyst_change="growing"), exam="follow-up"), "cat3-cyst-thin-growing", "3"),
]

BTS = [
    (C(N(type="solid", diameter_mm=12, benign=True)), "benign-features"),
    (C(N(type="solid", diameter_mm=7, juxtapleural=True, typical_perifissural=True)), "typical-perifissural"),
    (C(N(type="solid", diameter_mm=12, herder=9.9)), "herder-lt10"),
    (C(N(type="solid", diameter_mm=12, herder=10)), "herder-10to70"),
    (C(N(type="solid", diameter_mm=12, herder=70)), "herder-10to70"),
    (C(N(type="solid", diameter_mm=12, herder=70.5)), "herder-gt70"),
    (C(N(type="solid", diameter_mm=12, vdt_days=399)), "vdt-lt400"),
    (C(N(type="solid", diameter_mm=12, vdt_days=400)), "vdt-400to600"),
    (C(N(type="solid", diameter_mm=12, vdt_days=600)), "vdt-400to600"),
    (C(N(type="solid", diameter_mm=12, vdt_days=601)), "vdt-gt600"),
    (C(N(type="part-solid", diameter_mm=12, status="growing")), "subsolid-growing"),
    (C(N(type="ground-glass", diameter_mm=12, status="slow-growing")), "subsolid-growing"),
    (C(N(type="part-solid", diameter_mm=12, vdt_days=700)), "subsolid-vdt"),  # a VDT is measured growth
    (C(N(vdt_days=700)), "vdt-gt600"),  # type not stated: a VDT is volumetry, BTS's measure of solid nodules
    (C(N(volume_mm3=150)), "solid-6to8"),
    (C(N(type="ground-glass", diameter_mm=12, persistent=True, brock=4)), "subsolid-persistent-brock-lt10"),
    (C(N(type="part-solid", diameter_mm=12, persistent=True, brock=10)), "subsolid-persistent-brock-ge10"),
    (C(N(type="part-solid", diameter_mm=12, persistent=True)), "subsolid-persistent-no-brock"),
    (C(N(type="ground-glass", diameter_mm=4.9)), "subsolid-lt5"),
    (C(N(type="ground-glass", diameter_mm=5)), "subsolid-ge5"),
    (C(N(type="solid", diameter_mm=4.9)), "solid-lt5"),
    (C(N(type="solid", volume_mm3=79)), "solid-lt5"),
    (C(N(type="solid", diameter_mm=5.5)), "solid-5to6-diameter"),
    (C(N(type="solid", diameter_mm=5.5, volume_mm3=90)), "solid-6to8"),  # volumetry wins over the diameter
    (C(N(type="solid", diameter_mm=6)), "solid-6to8"),
    (C(N(type="solid", volume_mm3=299)), "solid-6to8"),
    (C(N(type="solid", diameter_mm=8, brock=9.9)), "solid-ge8-brock-lt10"),
    (C(N(type="solid", volume_mm3=300, brock=10)), "solid-ge8-brock-ge10"),
    (C(N(type="solid", diameter_mm=9)), "solid-ge8-no-brock"),
]


@pytest.mark.parametrize("case,row", FLEISCHNER)
def test_fleischner_rows(case, row):
    assert decide(case, "fleischner-2017").row_id == row


@pytest.mark.parametrize("case,row,category", LUNG_RADS)
def test_lung_rads_rows(case, row, category):
    d = decide(case, "lung-rads-2022")
    assert (d.row_id, d.category) == (row, category)


@pytest.mark.parametrize("case,row", BTS)
def test_bts_rows(case, row):
    assert decide(case, "bts-2015").row_id == row


@pytest.mark.parametrize("table_id,cases", [("fleischner-2017", FLEISCHNER), ("lung-rads-2022", LUNG_RADS),
                                            ("bts-2015", BTS)])
def test_every_row_is_tested(table_id, cases):
    tested = {c[1] for c in cases}
    assert {r.id for r in load_table(table_id).all_rows()} <= tested


def test_lung_rads_modifiers_4x_and_s():
    d = decide(C(N(type="solid", diameter_mm=10, spiculated=True), exam="baseline"), "lung-rads-2022")
    assert d.category == "4X" and any("4A" in n for n in d.notes)
    d = decide(C(N(type="solid", diameter_mm=7), exam="baseline", lymphadenopathy=True), "lung-rads-2022")
    assert d.category == "4X"
    # 4X is for category 3 or 4 only: a spiculated 5 mm nodule stays category 2
    assert decide(C(N(type="solid", diameter_mm=5, spiculated=True), exam="baseline"), "lung-rads-2022").category == "2"
    d = decide(C(N(type="solid", diameter_mm=7), exam="baseline", significant_other=True), "lung-rads-2022")
    assert d.category == "3S" and "S modifier" in d.headline


def test_headlines_state_row_and_interval():
    d = decide(C(N(type="solid", diameter_mm=12), exam="baseline"), "lung-rads-2022")
    assert d.headline.startswith("Lung-RADS v2022 category 4A (suspicious): LDCT in 3 months")
    d = decide(C(N(type="solid", diameter_mm=12.1)), "fleischner-2017")
    assert d.headline == ("Fleischner 2017, single solid nodule >8 mm (low- or high-risk patient): consider CT at "
                          "3 months, PET/CT, or tissue sampling")
    assert decide(C(N(type="solid", diameter_mm=4)), "bts-2015").headline.startswith("BTS 2015, solid nodule <5 mm")


def test_an_assumption_is_said_with_what_the_other_values_give():
    d = decide(C(N(vdt_days=350)), "bts-2015")
    assert d.row_id == "vdt-lt400" and "tissue diagnosis" in d.headline
    note = next(n for n in d.notes if "not stated" in n)
    assert "taken as solid" in note and "part-solid" in note and "consider surgical excision" in note
    assert any(c.quote.startswith("Solid nodules are sized by volume") for c in d.cites)
    assert "type: solid" in " ".join(d.reasons) and "assumed" in " ".join(d.reasons)
    # no row covers the other values (a subsolid nodule has no volume thresholds): the table's own words
    d = decide(C(N(volume_mm3=150)), "bts-2015")
    assert any("by its maximum diameter" in n for n in d.notes)


def test_a_stated_type_is_never_assumed_over():
    assert decide(C(N(type="ground-glass", vdt_days=700)), "bts-2015").row_id == "subsolid-vdt"
    assert decide(C(N(type="solid", vdt_days=700)), "bts-2015").notes == []
    # "subsolid" (part-solid or ground-glass) is stated: both subsolid types give the same row
    assert decide(C(N(type=frozenset({"part-solid", "ground-glass"}), vdt_days=700)), "bts-2015").row_id == "subsolid-vdt"


def test_a_row_implied_by_its_cited_words_says_why():
    d = decide(C(N(type="ground-glass", diameter_mm=25, status="stable"), exam="follow-up"), "lung-rads-2022")
    assert any("lack of growth" in n for n in d.notes)
    for table_id in TABLE_FILES:
        for row in load_table(table_id).all_rows():
            assert row.note is None or len(row.note) > 40, row.id
