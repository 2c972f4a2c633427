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
