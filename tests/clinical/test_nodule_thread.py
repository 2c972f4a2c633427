"""Brock through a thread: every input with its source, several nodules, new nodules, what-ifs, asking."""

from __future__ import annotations

import pytest

from galen.errors import InvalidInput, MissingFacts
from specialists.clinical.brock import BrockInput, brock_probability
from tools.clinical import NoduleMalignancyRiskTool

TOOL = NoduleMalignancyRiskTool()


def turn(c, question):
    args = TOOL.extract_arguments(question, c)
    res = TOOL.run(TOOL.validate_arguments(args), c)
    c.findings.append({"tool": TOOL.name, "data": res.data})
    return args, res


def by_name(inputs, name, nodule=None):
    return next(e for e in inputs if e["name"] == name and e.get("nodule") == nodule)


def test_every_input_has_its_source_and_evidence(ctx):
    args, res = turn(ctx(), "Mrs Y, 61, 9 mm solid nodule RUL, two further nodules, her father died of lung cancer")
    inputs = res.data["inputs"]
    assert {e["name"] for e in inputs} == {"age", "sex", "family_history", "emphysema", "nodule_count",
                                           "nodule_size_mm", "nodule_type", "upper_lobe", "spiculation"}
    assert by_name(inputs, "sex") == {"name": "sex", "value": "female", "source": "question", "evidence": "Mrs"}
    assert by_name(inputs, "nodule_count") == {"name": "nodule_count", "value": 3, "source": "question",
                                               "evidence": "two further nodules"}
    assert by_name(inputs, "family_history")["evidence"] == "father died of lung cancer"
    emph = by_name(inputs, "emphysema")
    assert emph["source"] == "default" and emph["value"] is False and emph["evidence"] == "not stated"
    shown = " ".join(res.facts)
    assert "female ← 'Mrs'" in shown and "nodule count 3 ← 'two further nodules'" in shown
    assert "emphysema on CT no (assumed" in shown and res.data["assumed"] == ["emphysema", "spiculation"]


def test_several_nodules_each_get_a_probability_most_suspicious_first(ctx):
    _, res = turn(ctx(), "70M, 4 mm solid nodule in the LLL and another 15 mm spiculated solid nodule in the RUL")
    rows = res.data["nodules"]
    assert [r["nodule_size_mm"] for r in rows] == [15, 4] and res.data["index_nodule"] == 2
    assert res.data["nodule_count"] == 2
    expect = brock_probability(BrockInput(70, "male", 15, "solid", upper_lobe=True, nodule_count=2, spiculation=True))
    assert res.data["probability"] == pytest.approx(expect.probability)
    assert rows[1]["probability"] < rows[0]["probability"]
    assert "the most suspicious of 2" in res.facts[0] and "nodule 1 (4.0 mm solid, LLL)" in res.facts[1]


def test_a_new_nodule_in_the_thread_updates_the_count_and_each_risk(ctx):
    c = ctx()
    _, first = turn(c, "64-year-old woman, 12 mm solid nodule in the right upper lobe, no emphysema. Brock?")
    assert first.data["nodule_count"] == 1
    args, second = turn(c, "also a 5 mm solid nodule in the left lower lobe")
    assert second.data["nodule_count"] == 2 and [r["nodule_size_mm"] for r in second.data["nodules"]] == [12, 5]
    assert args["nodule_size_mm"] == 12 and args["upper_lobe"] is True  # management follows the 12 mm nodule
    expect = brock_probability(BrockInput(64, "female", 12, "solid", upper_lobe=True, nodule_count=2))
    assert second.data["probability"] == pytest.approx(expect.probability)
    assert second.data["probability"] < first.data["probability"]  # a second nodule lowers the index nodule's risk
    assert by_name(second.data["inputs"], "age")["source"] == "earlier_result"
    assert by_name(second.data["inputs"], "age")["origin"] == "question"


def test_a_correction_in_a_follow_up_keeps_the_other_facts(ctx):
    c = ctx()
    turn(c, "Brock for 59M, 9 mm solid nodule RUL, emphysema")
    args, _ = turn(c, "sorry, it's 11 mm and part-solid")
    assert (args["nodule_size_mm"], args["nodule_type"], args["upper_lobe"], args["emphysema"]) == (11, "part-solid", True, True)


def test_a_new_patient_starts_a_new_case(ctx):
    c = ctx()
    turn(c, "Brock for 59M, 9 mm solid nodule RUL, emphysema, sister had lung cancer")
    args, _ = turn(c, "Brock for a 70-year-old woman with a 6 mm ground-glass nodule in the LLL")
    assert (args["age"], args["sex"], args["emphysema"], args["family_history"]) == (70, "female", False, False)
    assert args["nodule_count"] == 1 and args["sources"]["emphysema"] == "default"


def test_what_if_a_model_input_changes_before_and_after(ctx):
    c = ctx()
    _, base = turn(c, "61-year-old female, 8 mm solid nodule LLL, no emphysema, no family history - Brock?")
    args, res = turn(c, "what if it were spiculated?")
    assert args["spiculation"] is True and res.data["what_if"]["changed"] == ["spiculation"]
    assert res.data["what_if"]["probability_before"] == pytest.approx(base.data["probability"])
    assert res.data["probability"] > base.data["probability"]
    assert "spiculation no → yes" in res.facts[1] and f"{100 * base.data['probability']:.1f}%" in res.facts[1]
    # the hypothetical does not become the patient: the next turn starts from the actual case
    args, res = turn(c, "and if she were 10 years older?")
    assert args["age"] == 71 and args["spiculation"] is False and res.data["what_if"]["changed"] == ["age"]


def test_what_if_smoking_says_it_is_not_an_input_and_does_not_rerun(ctx):
    c = ctx()
    _, base = turn(c, "69M, 10 mm part-solid RUL nodule, emphysema, no FHx: Brock?")
    args, res = turn(c, "And if he were a current smoker?")
    what = res.data["what_if"]
    assert what["changed"] == [] and what["not_inputs"] == ["smoking_status"]
    assert res.data["probability"] == pytest.approx(base.data["probability"])
    assert "Smoking status is not an input of the Brock model" in res.summary and "PanCan" in res.summary
    assert f"stays {100 * base.data['probability']:.1f}%" in res.summary


@pytest.mark.parametrize("question, name", [("what if he had COPD?", "copd"), ("what if it were calcified?", "calcification"),
                                            ("如果他吸烟呢？", "smoking_status")])
def test_what_if_other_non_inputs(ctx, question, name):
    c = ctx()
    turn(c, "男，62岁，右下叶实性结节10mm，无肺气肿，无家族史")
    args, res = turn(c, question)
    assert name in res.data["what_if"]["not_inputs"] and res.data["what_if"]["changed"] == []
    assert args["emphysema"] is False


def test_smoking_is_kept_as_context_not_as_an_input(ctx):
    args, res = turn(ctx(), "58 yo ex-smoker, female, 9 mm solid nodule RML")
    assert args["smoking_status"] == "former"
    assert by_name(res.data["context"], "smoking_status")["evidence"] == "ex-smoker"
    assert "smoking_status" not in {e["name"] for e in res.data["inputs"]}


def test_part_solid_keeps_whole_size_for_brock_and_the_solid_component(ctx):
    args, res = turn(ctx(), "66F, 14 mm part-solid nodule with a 6 mm solid component, LUL")
    assert args["nodule_size_mm"] == 14 and args["solid_component_mm"] == 6
    assert res.data["model_inputs"]["nodule_size_mm"] == 14
    assert by_name(res.data["context"], "solid_component_mm")["value"] == 6


@pytest.mark.parametrize("question, missing", [
    ("Brock for a 64-year-old woman with multiple nodules, the largest 8 mm solid RUL", "nodule count"),
    ("9 mm subsolid nodule in a 62F, RUL: Brock?", "nodule type"),
    ("Brock for a man in his seventies, 12 mm solid RUL nodule", "age"),
])
def test_a_fact_the_text_does_not_settle_is_asked_for(ctx, question, missing):
    with pytest.raises(MissingFacts) as e:
        TOOL.extract_arguments(question, ctx())
    assert any(m.startswith(missing) for m in e.value.missing)
    assert e.value.inputs and all({"name", "value", "source", "evidence"} <= set(x) for x in e.value.inputs)
    assert "inputs" in e.value.to_dict()


def test_she_is_64_a_woman_reads_every_fact(ctx):
    args, _ = turn(ctx(), "she's 64, a woman, 8 mm solid nodule in the RUL, emphysema")
    assert (args["age"], args["sex"], args["emphysema"], args["nodule_size_mm"]) == (64, "female", True, 8)


@pytest.mark.parametrize("question", ["Age 300, male, 8 mm solid nodule: Brock?", "60 yo man, nodule size −4 mm, solid"])
def test_impossible_values_are_refused(ctx, question):
    with pytest.raises(InvalidInput) as e:
        TOOL.extract_arguments(question, ctx())
    assert not isinstance(e.value, MissingFacts)


def test_image_lesions_outside_the_model_range_are_left_out(ctx):
    seg = {"tool": "segment_image", "data": {"lesions": [
        {"id": 1, "long_axis_mm": 12.4, "short_axis_mm": 11.8, "mean_diameter_mm": 12.1, "upper_lobe": True},
        {"id": 2, "long_axis_mm": 148.0, "short_axis_mm": 120.0, "mean_diameter_mm": 134.0, "upper_lobe": False}]}}
    cls = {"tool": "classify_image", "data": {"lesions": [{"id": 1, "type": "solid", "spiculated": False}]}}
    args, res = turn(ctx(findings=[seg, cls]), "Brock risk? She is 64.")
    assert args["nodule_size_mm"] == 12.4 and args["nodule_count"] == 1
    assert any("Lesion 2 (148 mm)" in w for w in res.warnings) and len(args["nodules"]) == 1


def test_llm_filled_arguments_still_report_their_source(ctx):
    a = TOOL.validate_arguments({"age": 66, "sex": "male", "nodule_size_mm": 9, "nodule_type": "solid"})
    res = TOOL.run(a, ctx())
    assert {e["source"] for e in res.data["inputs"]} == {"arguments"}


@pytest.mark.parametrize("question, kind", [
    ("and if she were a current smoker?", "what_if"), ("如果结节有毛刺呢？", "what_if"),
    ("also a 5 mm solid nodule in the left lower lobe", "new_nodule"), ("另外左下叶还有一个5毫米实性结节", "new_nodule"),
    ("actually she is 65, and it's part-solid", "facts"), ("What does Fleischner recommend for her?", None),
])
def test_follow_ups_that_change_brock_inputs_are_recognised(ctx, question, kind):
    from tools.nodule_case import brock_follow_up

    c = ctx()
    turn(c, "64-year-old woman, 12 mm solid nodule in the right upper lobe. Brock?")
    assert brock_follow_up(question, c.findings) == kind
    assert brock_follow_up(question, []) is None
