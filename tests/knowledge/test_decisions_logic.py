"""Decision logic beyond single rows: which guideline applies, what is asked for, the most suspicious nodule."""

from __future__ import annotations

import pytest

from galen.errors import MissingFacts
from knowledge.decisions.choose import choose_guideline
from knowledge.decisions.decide import NotCovered, decide
from knowledge.decisions.facts import Case, Nodule, guideline_size, round_half_up
from tests.knowledge.test_decisions_tables import C, N

# --- applicability ---------------------------------------------------------------------------

def test_named_guideline_wins():
    table, why = choose_guideline(C(setting="screening"), named="fleischner-2017")
    assert table == "fleischner-2017" and "named" in why


def test_screening_means_lung_rads_and_incidental_means_fleischner():
    assert choose_guideline(C(setting="screening"))[0] == "lung-rads-2022"
    assert choose_guideline(C(setting="incidental"))[0] == "fleischner-2017"


def test_bts_when_the_question_turns_on_a_bts_step():
    table, why = choose_guideline(C(setting="incidental"), bts_drivers=["the Brock probability"])
    assert table == "bts-2015" and "Brock" in why


def test_previous_guideline_then_default_fleischner_said_out_loud():
    assert choose_guideline(Case(), previous="bts-2015")[0] == "bts-2015"
    table, why = choose_guideline(Case())
    assert table == "fleischner-2017" and "not stated" in why and "Lung-RADS" in why


def test_fleischner_refuses_screening_and_says_what_applies():
    d = decide(C(N(type="solid", diameter_mm=7), setting="screening"), "fleischner-2017")
    assert d.row_id == "screening" and "does not apply" in d.headline


# --- missing facts: asked for only when they change the answer -------------------------------

def test_risk_is_asked_for_a_6_to_8_mm_solid_nodule():
    with pytest.raises(MissingFacts) as e:
        decide(C(N(type="solid", diameter_mm=7)), "fleischner-2017")
    assert len(e.value.missing) == 1 and "risk" in e.value.missing[0]
    assert "18-24 months" in e.value.hint  # the rows it would lead to


def test_risk_is_not_asked_when_the_row_does_not_depend_on_it():
    d = decide(C(N(type="solid", diameter_mm=12)), "fleischner-2017")
    assert d.row_id == "solid-single-gt8" and "risk" not in d.depends_on


def test_a_subsolid_nodule_of_unknown_kind_is_decided_when_both_kinds_agree():
    d = decide(C(N(type=frozenset({"part-solid", "ground-glass"}), diameter_mm=4)), "fleischner-2017")
    assert d.management == "no routine follow-up"
    with pytest.raises(MissingFacts):  # at 8 mm the two kinds differ (6-12 vs 3-6 months)
        decide(C(N(type=frozenset({"part-solid", "ground-glass"}), diameter_mm=8)), "fleischner-2017")


def test_lung_rads_asks_baseline_or_follow_up_first():
    with pytest.raises(MissingFacts) as e:
        decide(C(N(type="solid", diameter_mm=9)), "lung-rads-2022")
    assert len(e.value.missing) == 1 and "baseline" in e.value.missing[0]


def test_lung_rads_asks_prior_category_only_for_a_stable_nodule():
    with pytest.raises(MissingFacts) as e:
        decide(C(N(type="solid", diameter_mm=9), exam="follow-up"), "lung-rads-2022")
    assert any("new, growing or stable" in m for m in e.value.missing)
    assert not any("previous scan" in m for m in e.value.missing)
    with pytest.raises(MissingFacts) as e:
        decide(C(N(type="solid", diameter_mm=9, status="stable"), exam="follow-up"), "lung-rads-2022")
    assert any("previous scan" in m for m in e.value.missing)


def test_a_size_that_cannot_change_the_category_is_not_asked():
    # stepped rule: a category 3 finding stable at follow-up is category 2, whatever its size and type
    d = decide(C(N(status="stable", prior_category="3"), exam="follow-up"), "lung-rads-2022")
    assert d.category == "2" and d.row_id == "cat2-stable-after-3"
    d = decide(C(N(type="solid", status="stable", prior_category="4A"), exam="follow-up"), "lung-rads-2022")
    assert d.category == "3"
    # but a stable ground-glass nodule of 30 mm or more is category 2 by its own row: there the size matters
    with pytest.raises(MissingFacts):
        decide(C(N(type="ground-glass", status="stable", prior_category="4A"), exam="follow-up"), "lung-rads-2022")


def test_part_solid_needs_its_solid_component_in_lung_rads():
    with pytest.raises(MissingFacts) as e:
        decide(C(N(type="part-solid", diameter_mm=10), exam="baseline"), "lung-rads-2022")
    assert any("solid component" in m for m in e.value.missing)


def test_no_nodule_and_no_finding_is_not_covered():
    with pytest.raises(NotCovered):
        decide(Case(), "fleischner-2017")
    with pytest.raises(NotCovered):
        decide(C(exam="baseline"), "lung-rads-2022")


# --- several nodules: management follows the most suspicious ---------------------------------

def test_second_small_nodule_does_not_override_the_large_one():
    d = decide(C(N("the 12 mm nodule", type="solid", diameter_mm=12.1), N("the 5 mm nodule", type="solid", diameter_mm=5)),
               "fleischner-2017")
    assert d.row_id == "solid-multiple-gt8" and "most suspicious" in d.reasons[0]


def test_most_suspicious_across_families_guides_fleischner():
    d = decide(C(N("solid", type="solid", diameter_mm=6.5), N("part-solid", type="part-solid", diameter_mm=9, solid_mm=3),
                 risk="low"), "fleischner-2017")
    assert d.row_id == "part-solid-single-ge6" and d.primary == "part-solid"
    assert any("solid" in o and "6-8 mm" in o for o in d.others)


def test_lung_rads_takes_the_highest_category_and_lists_the_others():
    d = decide(C(N("a", type="solid", diameter_mm=5), N("b", type="solid", diameter_mm=9), exam="baseline"),
               "lung-rads-2022")
    assert d.category == "4A" and d.primary == "b" and any(o.startswith("a:") and "category 2" in o for o in d.others)


def test_a_less_suspicious_nodule_with_unknown_status_does_not_block_the_decision():
    d = decide(C(N("big", type="solid", diameter_mm=12, status="new"), N("small", type="solid", diameter_mm=5),
                 exam="follow-up"), "lung-rads-2022")
    assert d.category == "4B" and any("not more suspicious" in o for o in d.others)


def test_an_unknown_nodule_that_could_be_worse_is_asked_about():
    with pytest.raises(MissingFacts) as e:
        decide(C(N("small", type="solid", diameter_mm=5, status="new"), N("big", type="solid", diameter_mm=12),
                 exam="follow-up"), "lung-rads-2022")
    assert any("for big" in m for m in e.value.missing)


def test_bts_most_suspicious_nodule():
    d = decide(C(N("a", type="solid", diameter_mm=12, brock=4.9), N("b", type="solid", diameter_mm=4)), "bts-2015")
    assert d.row_id == "solid-ge8-brock-lt10" and d.primary == "a"


# --- measurement as each guideline defines it -------------------------------------------------

def test_sizes_per_guideline():
    n = N(long_mm=8.4, short_mm=8.2, volume_mm3=290)
    assert guideline_size(n, "mean-rounded").mm == 8.0
    assert guideline_size(n, "mean-1dp").mm == 8.3
    bts = guideline_size(n, "volume-or-max")
    assert bts.mm is None and bts.mm3 == 290
    assert guideline_size(N(long_mm=8.4, short_mm=8.2), "volume-or-max").mm == 8.4
    assert round_half_up(5.5) == 6 and round_half_up(4.5) == 5 and round_half_up(7.95, 1) == 8.0


def test_a_stated_bound_is_enough_when_it_decides():
    d = decide(C(N(type="solid", range_mm=(float("-inf"), 6.0), group_count=2), risk="low"), "fleischner-2017")
    assert d.row_id == "solid-multiple-lt6-low"


def test_facts_used_carry_their_source():
    n = Nodule("lesion 1")
    n.set("type", "solid", "classify_image, turn 2")
    n.set("long_mm", 12.4, "segment_image, turn 1")
    n.set("short_mm", 12.2, "segment_image, turn 1")
    d = decide(Case(nodules=[n]), "fleischner-2017")
    assert any("segment_image, turn 1" in r and "12 mm" in r for r in d.reasons)
    assert any("classify_image, turn 2" in r for r in d.reasons)


@pytest.mark.parametrize("question,category", [
    ("What is the management for Lung-RADS category 3?", "3"), ("What does Lung-RADS 4B mean?", "4B"),
    ("LR-2: what next?", "2"), ("lung-rads 0类什么时候用", "0"), ("4A类怎么处理", "4A"),
    ("a 7 mm nodule, what category?", None), ("category 3 or 4A?", None), ("Lung-RADS 4 nodules", None),
])
def test_a_named_category_is_read(question, category):
    from knowledge.decisions.categories import named_category

    assert named_category(question) == category


def test_a_named_category_gives_its_management_and_cited_passage():
    from knowledge.decisions.categories import category_decision

    d = category_decision("lung-rads-2022", "3")
    assert d.headline == "Lung-RADS v2022 category 3 (probably benign): LDCT in 6 months"
    assert d.cites and "6 months" in d.cites[0].quote
    zero = category_decision("lung-rads-2022", "0")  # its management depends on why the exam is incomplete
    assert len(zero.options) == 3 and any(mg == "LDCT in 1-3 months" for _, mg in zero.options)
    assert len(zero.cites) == 3
