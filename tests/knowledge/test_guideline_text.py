"""What a guideline question states, read from the wording people use (English and Chinese)."""

from __future__ import annotations

import pytest

from agent.router import load_cues
from galen.language import spaced
from tools.guideline_text import parse_question
from tools.guidelines import asks_for_decision


@pytest.mark.parametrize("question, risk", [
    ("有肺癌危险因素的患者，实性结节5mm，偶然发现", "high"),
    ("患者无任何危险因素，偶发实性结节7mm", "low"),
    ("Incidental 7 mm solid nodule in a patient with known risk factors", "high"),
    ("Incidental 7 mm solid nodule, no risk factors", "low"),
])
def test_risk_factors_said_present_or_absent_give_the_risk(question, risk):
    assert parse_question(question).case["risk"] == risk


@pytest.mark.parametrize("question, exam", [
    ("低剂量CT肺癌筛查，第一次做，实性结节16mm", "baseline"),
    ("头一次参加肺癌筛查，发现实性结节7mm", "baseline"),
    ("第二次筛查LDCT，新发实性结节5mm", "follow-up"),
])
def test_chinese_first_and_later_screens(question, exam):
    assert parse_question(question).case["exam"] == exam


@pytest.mark.parametrize("question, named", [
    ("英国胸科协会指南：实性结节7mm怎么随访", "bts-2015"),
    ("英国胸科学会对亚实性结节的建议", "bts-2015"),
    ("按美国放射学会的筛查标准，实性结节9mm属于几类", "lung-rads-2022"),
])
def test_guidelines_named_in_chinese(question, named):
    assert parse_question(question).named == named


@pytest.mark.parametrize("question", [
    "BTS：实性结节随访多久稳定就可以结束随访？",
    "How long does a solid nodule have to be stable before BTS discharges it?",
])
def test_a_question_about_the_rule_itself_is_not_a_case(question):
    assert not asks_for_decision(parse_question(question), question)


def test_a_rule_question_with_a_size_is_still_a_case():
    question = "A 7 mm solid nodule: how long must it be stable before follow-up can stop?"
    assert asks_for_decision(parse_question(question), question)


def test_a_source_without_a_decision_table_is_answered_from_its_passages():
    question = "肺结节中国专家共识2018：有危险因素的人，实性结节不超过4mm，怎么随访？"
    assert not asks_for_decision(parse_question(question), question)


def test_english_names_next_to_chinese_characters_are_words():
    assert spaced("Fleischner建议按BTS指南") == "Fleischner 建议按 BTS 指南"
    cues = load_cues()
    assert "search_guidelines" in cues.matched(spaced("65岁女性，单发实性结节5mm，Fleischner建议"), patient=True)
    assert "search_guidelines" in cues.matched("65岁女性，单发实性结节5mm，Fleischner建议", patient=True)


def test_every_phrase_entry_says_why_and_compiles():
    from tools.guideline_text import _phrases

    for fact, entries in _phrases().items():
        assert entries, fact
        for value, pattern, why in entries:
            assert value is not None and pattern.pattern and len(why) > 10, fact


@pytest.mark.parametrize("question, reason", [
    ("Screening LDCT is incomplete: the lung bases were cut off and not included. Lung-RADS?", "not-evaluable"),
    ("LDCT screen, apices not imaged, lung-rads category?", "not-evaluable"),
    ("Screening CT with incomplete lung coverage", "not-evaluable"),
    ("Screening LDCT: lungs could not be fully evaluated because of motion", "not-evaluable"),
    ("LDCT screening exam where the prior CT is being located", "prior-being-located"),
    ("Screening LDCT with consolidation in the RLL", "inflammatory"),
])
def test_lung_rads_0_reasons(question, reason):
    assert parse_question(question).case["incomplete"] == reason


def test_a_lung_word_near_excluded_is_not_an_incomplete_exam():
    assert "incomplete" not in parse_question("Baseline LDCT 7 mm solid nodule; lung cancer excluded at biopsy").case


@pytest.mark.parametrize("question, status", [
    ("Solid nodule has grown slowly across the last three annual screening CTs, now 7 mm", "slow-growing"),
    ("part-solid nodule, slowly enlarging, annual LDCT", "slow-growing"),
    ("solid nodule with gradual growth over several screening rounds", "slow-growing"),
    ("a 6 mm solid nodule that has grown over three consecutive screens", "slow-growing"),
    ("solid nodule grew from 4 to 7 mm since last year", "growing"),
    ("solid nodule grew from 4 to 6.5 mm over two screens", "growing"),  # one interval: the 1.5 mm rule decides
    ("solid nodule not growing on the annual LDCT", "stable"),
])
def test_slow_growth_over_several_screens_is_its_own_status(question, status):
    assert parse_question(question).attrs["status"] == status


@pytest.mark.parametrize("question, typical", [
    ("7 mm perifissural nodule with the typical triangular shape along the minor fissure", True),
    ("typical perifissural nodule 6 mm", True),
    ("5 mm intrapulmonary lymph node along the fissure", True),
    ("7 mm perifissural nodule, BTS?", None),
])
def test_a_typical_perifissural_node_is_read_only_when_said(question, typical):
    assert parse_question(question).attrs.get("typical_perifissural") is typical


@pytest.mark.parametrize("question", ["uk pt 6mm ground glass nodule what next", "U.K. practice: 6 mm solid nodule",
                                      "NHS patient, 6 mm solid nodule"])
def test_uk_practice_in_any_case(question):
    assert "UK practice" in parse_question(question).bts_drivers


@pytest.mark.parametrize("question, brock", [("Brock risk 23 percent", 23.0), ("Brock 7 per cent", 7.0),
                                             ("brock 12%", 12.0)])
def test_a_brock_probability_in_words(question, brock):
    assert parse_question("BTS: 11 mm solid nodule, " + question).attrs["brock"] == brock
    from agent.follow_up import cues

    assert cues()["states_brock"].search(question)


@pytest.mark.parametrize("question, row, category", [
    ("BTS: VDT of 800 days on volumetry, what now?", "vdt-gt600", None),
    ("Follow-up LDCT: 22 mm GGN, unchanged since the previous screen. Lung-RADS?", "cat2-ggn-lt30-stable", "2"),
    ("Annual LDCT: 8 mm part-solid nodule with a 3 mm solid part, slowly growing over several screens. Lung-RADS?",
     "cat4b-slow-growing", "4B"),
    ("BTS: typical perifissural nodule 6 mm, follow-up?", "typical-perifissural", None),
    ("Lung-RADS for a screening LDCT with the lung bases not imaged", "cat0-not-evaluable", "0"),
    ("BTS: intrapulmonary lymph node of 8 mm, follow-up?", "typical-perifissural", None),  # no nodule word, no size
    ("Screening follow-up CT: new 7 mm solid nodule. Lung-RADS?", "cat4a-solid-new-6to8", "4A"),
])
def test_a_question_reaches_its_row(question, row, category):
    from knowledge.decisions.choose import choose_guideline
    from knowledge.decisions.decide import decide
    from tools.guideline_facts import gather

    g = gather(question, [])
    d = decide(g.case, choose_guideline(g.case, g.question.named, g.question.bts_drivers)[0])
    assert (d.row_id, d.category) == (row, category)


@pytest.mark.parametrize("question, setting, table", [
    ("Fleischner or Lung-RADS for a 6 mm solid nodule on a baseline screening LDCT?", "screening", "lung-rads-2022"),
    ("Lung-RADS or Fleischner? 6 mm solid nodule found incidentally on a CT for pneumonia", "incidental",
     "fleischner-2017"),
])
def test_several_guidelines_named_the_setting_decides(question, setting, table):
    from knowledge.decisions.choose import choose_guideline
    from tools.guideline_facts import gather

    g = gather(question, [])
    assert g.question.named is None and len(g.question.weighed) == 2 and g.case.value("setting") == setting
    chosen, why = choose_guideline(g.case, g.question.named, g.question.bts_drivers, weighed=g.question.weighed)
    assert chosen == table and "asks whether" in why


def test_several_guidelines_named_uk_practice_decides():
    from knowledge.decisions.choose import choose_guideline

    q = parse_question("BTS vs Fleischner for an incidental 7 mm solid nodule, NHS patient")
    from tools.guideline_facts import gather

    g = gather("BTS vs Fleischner for an incidental 7 mm solid nodule, NHS patient", [])
    assert choose_guideline(g.case, q.named, q.bts_drivers, weighed=q.weighed)[0] == "bts-2015"


@pytest.mark.parametrize("question, setting", [
    ("6 mm solid nodule on a CT for haemoptysis, not a screening exam", "incidental"),
    ("non-screening CT for dyspnoea: incidental 6 mm solid nodule", "incidental"),
    ("Screening LDCT: 6 mm solid nodule", "screening"),
])
def test_a_screening_exam_said_not_to_be_one_is_not_the_setting(question, setting):
    assert parse_question(question).case.get("setting", "incidental") == setting


@pytest.mark.parametrize("question, exam", [
    ("LDCT 1st round: 7 mm solid nodule", "baseline"),
    ("lung screening round 1, 7 mm solid nodule", "baseline"),
    ("3rd annual screening LDCT: 7 mm solid nodule", "follow-up"),
    ("screening round 3: 7 mm solid nodule", "follow-up"),
    ("3-mo f/u LDCT: 7 mm solid nodule", "follow-up"),
    ("f/u LDCT shows the 7 mm solid nodule", "follow-up"),
])
def test_screening_rounds_as_notes_write_them(question, exam):
    assert parse_question(question).case["exam"] == exam


def test_new_qualifying_the_report_is_not_a_new_nodule():
    assert parse_question("Follow-up LDCT, solid nodule stable at 7 mm. New category?").attrs["status"] == "stable"
    assert "status" not in parse_question("Follow-up LDCT, 7 mm solid nodule: new recommendation?").attrs
    assert parse_question("Follow-up LDCT: new 7 mm solid nodule").attrs["status"] == "new"


@pytest.mark.parametrize("question, sizes", [
    ("two GGNs of 5 and 8 mm, incidental", [5.0, 8.0]),
    ("solid nodules of 2, 3 and 6 mm", [2.0, 3.0, 6.0]),
    ("part-solid nodules 7 mm and 12 mm", [7.0, 12.0]),
])
def test_several_sizes_with_one_unit_are_several_nodules(question, sizes):
    q = parse_question(question)
    assert [m.facts.get("diameter_mm") for m in q.mentions] == sizes
    assert len({m.facts.get("type") for m in q.mentions}) == 1 and q.mentions[0].facts.get("type")


def test_a_band_of_sizes_stays_a_band():
    assert [m.facts.get("range_mm") for m in parse_question("solid nodule between 6 and 8 mm").mentions] == [(6.0, 8.0)]
    assert [m.facts.get("range_mm") for m in parse_question("solid nodules 6-8 mm").mentions] == [(6.0, 8.0)]


@pytest.mark.parametrize("question, count", [
    ("solitary solid nodule of 7 millimetres", 1),
    ("solid nodule of 2 centimetres", None),
    ("solid nodules x4, the largest 5 mm", 4),
])
def test_a_size_in_words_is_not_a_count(question, count):
    assert parse_question(question).count == count


@pytest.mark.parametrize("question", [
    "Fleishner reccomendation for an incidental 5 mm solid nodule",
    "fliechner recomend for 5mm solid nodule never smoker",
])
def test_mistyped_guideline_names_and_verbs(question):
    from tools.guideline_facts import gather
    from tools.guidelines import wants_decision

    q = parse_question(question)
    assert q.named == "fleischner-2017" and q.intent
    assert wants_decision(question, gather(question, []))


def test_a_case_written_as_a_note_asks_for_its_decision():
    from tools.guideline_facts import gather
    from tools.guidelines import wants_decision

    for question in ("baseline LDCT, part-solid 10 mm with 6 mm solid part", "incidental GGN 7 mm RUL"):
        assert wants_decision(question, gather(question, [])), question
    assert not wants_decision("part-solid 10 mm with 6 mm solid part", gather("part-solid 10 mm with 6 mm solid part", []))


@pytest.mark.parametrize("question, size, before", [
    ("apologies - 8 mm, not 11", 8.0, 11.0),
    ("correction: it's 0.6 cm", 6.0, None),
    ("I meant 5 mm", 5.0, None),
])
def test_a_size_correction_is_read_as_one(question, size, before):
    q = parse_question(question)
    assert q.corrects and q.corrected_from == before
    assert [m.facts.get("diameter_mm") for m in q.mentions] == [size]


def test_a_second_nodule_or_several_sizes_are_not_a_correction():
    assert not parse_question("actually there's also a 5 mm one in the RML").corrects
    assert not parse_question("two nodules, 9 mm and 4 mm").corrects
    assert not parse_question("not 5 mm solid nodules but ground-glass ones").corrects


@pytest.mark.parametrize("question", ["what about the smaller one on its own?", "if the 4 mm were the only nodule",
                                      "just the LLL one - category?", "单看那个6mm的结节呢"])
def test_one_nodule_looked_at_alone(question):
    assert parse_question(question).alone


def test_then_and_now_sizes_in_one_sentence_are_one_nodule():
    q = parse_question("prior scan: 9 mm part-solid nodule; now measures 12 mm")
    assert [m.facts for m in q.mentions] == [{"diameter_mm": 12.0, "type": "part-solid", "prior_mm": 9.0}]
    # a solid component is not an earlier size
    q = parse_question("part-solid 14 mm with a solid component of 5 mm, now 7 mm")
    assert all(m.facts.get("prior_mm") != 5.0 for m in q.mentions)


@pytest.mark.parametrize("question, exam", [
    ("compared with the baseline CT, the nodule is now 9 mm", "follow-up"),
    ("baseline scan 2 years ago showed 4 mm, now 6 mm", "follow-up"),
    ("baseline LDCT, 7 mm solid nodule", "baseline"),
])
def test_baseline_naming_an_earlier_scan_means_a_follow_up(question, exam):
    assert parse_question(question).case.get("exam") == exam
