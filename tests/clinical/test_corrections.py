"""apply_corrections: the clinician accepts or corrects what was read; the tool re-runs on the confirmed facts."""

from __future__ import annotations

import pytest

from galen.errors import MissingFacts
from tools.clinical import ClinicalRiskTool, NoduleMalignancyRiskTool, TreatmentBenefitTool, arguments_from_inputs
from tools.facts.corrections import apply_corrections

BROCK = NoduleMalignancyRiskTool()


def read(tool, ctx, question):
    return tool.extract_arguments(question, ctx())


def value(inputs, name, nodule=None):
    return next(e["value"] for e in inputs if e["name"] == name and e.get("nodule") == nodule)


@pytest.fixture
def brock_args(ctx):
    return read(BROCK, ctx, "Brock for 66F, 8 mm solid nodule LLL, no emphysema")


@pytest.mark.parametrize("reply", ["yes", "OK", "looks right", "Looks good, thanks", "that's correct", "confirm",
                                   "是", "确认", "没问题", "对的"])
def test_accept(brock_args, reply):
    new, changed, why = apply_corrections("nodule_malignancy_risk", brock_args["inputs"], reply)
    assert new == [dict(e, confirmed=True) for e in brock_args["inputs"]] and changed == [] and why is None


@pytest.mark.parametrize("reply, changes", [
    ("actually she is 65", {"age": 65}),
    ("it is part-solid", {"nodule_type": "part-solid"}),
    ("65 and part-solid", {"age": 65, "nodule_type": "part-solid"}),
    ("she has emphysema, and it's in the RUL", {"emphysema": True, "upper_lobe": True}),
    ("size is 11 mm, spiculated", {"nodule_size_mm": 11, "spiculation": True}),
    ("there are 3 nodules", {"nodule_count": 3}),
    ("her sister had lung cancer", {"family_history": True}),
    ("male", {"sex": "male"}),
    ("年龄65岁，部分实性", {"age": 65, "nodule_type": "part-solid"}),
    ("有肺气肿", {"emphysema": True}),
])
def test_corrections_one_or_several_facts(brock_args, reply, changes):
    new, changed, why = apply_corrections("nodule_malignancy_risk", brock_args["inputs"], reply)
    assert why is None and set(changed) == set(changes)
    for name, v in changes.items():
        e = next(x for x in new if x["name"] == name)
        assert e["value"] == v and e["source"] == "correction" and e["evidence"]
        assert "previous" in e
    untouched = [e for e in new if e["name"] not in changes]
    assert untouched == [dict(e, confirmed=True) for e in brock_args["inputs"] if e["name"] not in changes]


def test_confirming_an_assumption_makes_it_a_correction(brock_args):
    assert value(brock_args["inputs"], "spiculation") is False  # assumed, not stated
    new, changed, _ = apply_corrections("nodule_malignancy_risk", brock_args["inputs"], "not spiculated")
    assert changed == ["spiculation"] and next(e for e in new if e["name"] == "spiculation")["source"] == "correction"


@pytest.mark.parametrize("reply, lang_word", [("banana", "Reply 'yes'"), ("no", "Reply 'yes'"), ("不对", "回复“是”")])
def test_a_reply_that_corrects_nothing_says_which_facts_it_takes(brock_args, reply, lang_word):
    new, changed, why = apply_corrections("nodule_malignancy_risk", brock_args["inputs"], reply)
    assert new == brock_args["inputs"] and changed == []
    assert lang_word in why and ("nodule size" in why or "结节大小" in why)


def test_an_impossible_correction_is_refused_with_the_range(brock_args):
    _, changed, why = apply_corrections("nodule_malignancy_risk", brock_args["inputs"], "she is 300")
    assert changed == [] and "300" in why and "18-110" in why


def test_corrected_inputs_rebuild_the_arguments_and_the_result(ctx, brock_args):
    new, _, _ = apply_corrections("nodule_malignancy_risk", brock_args["inputs"], "actually 65, part-solid")
    args = arguments_from_inputs("nodule_malignancy_risk", brock_args, new)
    assert (args["age"], args["nodule_type"], args["upper_lobe"]) == (65, "part-solid", False)
    res = BROCK.run(BROCK.validate_arguments(args), ctx())
    assert res.data["model_inputs"]["age"] == 65
    assert "age 65 ← '65' (your correction)" in " ".join(res.facts)


def test_a_correction_can_name_the_nodule(ctx):
    args = read(BROCK, ctx, "70M, 9 mm solid nodule RUL and another 5 mm nodule in the LLL")
    assert not any(e["name"] == "nodule_type" and e.get("nodule") == 2 for e in args["inputs"])  # not stated
    new, changed, _ = apply_corrections("nodule_malignancy_risk", args["inputs"], "the second one is ground glass")
    assert changed == ["nodule_type"] and value(new, "nodule_type", 2) == "non-solid"
    assert value(new, "nodule_type", 1) == "solid"
    rebuilt = arguments_from_inputs("nodule_malignancy_risk", args, new)
    res = BROCK.run(BROCK.validate_arguments(rebuilt), ctx())
    assert all(r["computed"] for r in res.data["nodules"])


def test_filling_a_missing_fact_through_a_correction(ctx):
    with pytest.raises(MissingFacts) as e:
        BROCK.extract_arguments("9 mm solid RUL nodule, emphysema", ctx())
    new, changed, why = apply_corrections("nodule_malignancy_risk", e.value.inputs, "she's 71, female")
    assert why is None and set(changed) == {"age", "sex"}
    args = arguments_from_inputs("nodule_malignancy_risk", {}, new)
    assert (args["age"], args["sex"], args["emphysema"]) == (71, "female", True)


def test_breast_tools_take_corrections_too(ctx):
    q = "58-year-old postmenopausal woman, tumour 25 mm, grade 2, 3 positive nodes, PR 40 fmol/mg, ER 80 fmol/mg"
    args = read(TreatmentBenefitTool(), ctx, q)
    new, changed, _ = apply_corrections("treatment_benefit", args["inputs"], "grade 3 and 5 positive nodes")
    assert set(changed) == {"grade", "positive_nodes"}
    rebuilt = arguments_from_inputs("treatment_benefit", args, new)
    assert (rebuilt["grade"], rebuilt["positive_nodes"], rebuilt["age"]) == (3, 5, 58)
    risk = read(ClinicalRiskTool(), ctx, "52-year-old, ER-negative, grade 3, 2.5 cm tumour")
    new, changed, _ = apply_corrections("clinical_risk", risk["inputs"], "ER positive, 3 cm")
    rebuilt = arguments_from_inputs("clinical_risk", risk, new)
    assert set(changed) == {"er_positive", "size_cm"} and rebuilt["er_positive"] is True and rebuilt["size_cm"] == 3.0


def test_unknown_tool_is_a_programming_error():
    with pytest.raises(ValueError):
        apply_corrections("design_molecules", [], "yes")


def test_a_missing_fact_answered_keeps_every_nodule(ctx):
    with pytest.raises(MissingFacts) as e:
        BROCK.extract_arguments("12 mm solid nodule RUL and another 4 mm solid nodule LLL, ex-smoker", ctx())
    new, changed, why = apply_corrections("nodule_malignancy_risk", e.value.inputs, "67 year old man")
    args = arguments_from_inputs("nodule_malignancy_risk", {}, new)
    assert [n["nodule_size_mm"] for n in args["nodules"]] == [12, 4] and args["nodule_count"] == 2
    assert args["smoking_status"] == "former" and args["age"] == 67 and args["sex"] == "male"


def test_a_pronoun_answers_a_missing_sex_but_does_not_change_a_known_one(ctx, brock_args):
    with pytest.raises(MissingFacts) as e:
        BROCK.extract_arguments("What is the malignancy risk of a 9 mm solid nodule?", ctx())
    new, changed, _ = apply_corrections("nodule_malignancy_risk", e.value.inputs, "She is 64, upper lobe, no emphysema")
    assert {"age", "sex", "upper_lobe", "emphysema"} <= set(changed) and value(new, "sex") == "female"
    male = [dict(x, value="male") if x["name"] == "sex" else x for x in brock_args["inputs"]]
    _, changed, _ = apply_corrections("nodule_malignancy_risk", male, "she is 65")
    assert changed == ["age"]


def test_a_confirmed_what_if_stays_a_what_if(ctx):
    c = ctx()
    first = BROCK.extract_arguments("69M, 10 mm part-solid RUL nodule, emphysema, no FHx: Brock?", c)
    c.findings.append({"tool": BROCK.name, "data": BROCK.run(BROCK.validate_arguments(first), c).data})
    hypo = BROCK.extract_arguments("what if it were spiculated?", c)
    new, _, _ = apply_corrections("nodule_malignancy_risk", hypo["inputs"], "yes")
    args = arguments_from_inputs("nodule_malignancy_risk", hypo, new)
    res = BROCK.run(BROCK.validate_arguments(args), c)
    assert res.data["what_if"]["changed"] == ["spiculation"] and args["spiculation"] is True
    assert res.data["case"]["nodules"][0]["spiculation"]["value"] is False  # the patient is not changed


def test_confirmed_assumptions_are_carried_as_facts(ctx):
    c = ctx()
    first = BROCK.extract_arguments("Brock for 66F, 8 mm solid nodule LLL", c)
    new, _, _ = apply_corrections("nodule_malignancy_risk", first["inputs"], "looks right")
    args = arguments_from_inputs("nodule_malignancy_risk", first, new)
    c.findings.append({"tool": BROCK.name, "data": BROCK.run(BROCK.validate_arguments(args), c).data})
    later = BROCK.extract_arguments("what if she were 70?", c)
    emph = next(e for e in later["inputs"] if e["name"] == "emphysema")
    assert emph["source"] == "earlier_result" and emph["origin"] == "default" and emph["confirmed"] is True
