"""Follow-ups in a thread go to the tool the thread's case needs (agent.follow_up)."""

from __future__ import annotations

from agent.follow_up import follow_up

SEG = {"tool": "segment_image", "turn": 1, "data": {"lesions": [{"id": 1, "mean_diameter_mm": 12.1, "long_axis_mm": 13.0}]}}
BROCK = {"tool": "nodule_malignancy_risk", "turn": 2, "data": {"probability": 0.12, "case": {
    "patient": {"age": {"name": "age", "value": 64, "source": "question", "evidence": "64"}},
    "nodules": [{"nodule_size_mm": {"name": "nodule_size_mm", "value": 13.0, "source": "segment_image", "evidence": "x"}}],
    "index": 0}}}


def test_without_a_nodule_in_the_thread_nothing_changes() -> None:
    assert follow_up("What follow-up does Fleischner recommend?", [], ["classify_image"], False) == (["classify_image"], None)


def test_a_management_question_goes_to_the_guideline_decision() -> None:
    for q in ("Fleischner now?", "Does the Lung-RADS category change?", "What follow-up interval for her?",
              "LR category?", "指南建议怎么随访？"):
        names, why = follow_up(q, [SEG, BROCK], ["classify_image"], False)
        assert names == ["search_guidelines"] and why, q


def test_tools_asked_for_in_words_are_kept() -> None:
    names, _ = follow_up("Measure it again and tell me the Fleischner follow-up", [SEG], ["segment_image"], False)
    assert names == ["segment_image", "search_guidelines"]
    names, _ = follow_up("What is the Brock probability now, and the follow-up?", [SEG, BROCK], ["nodule_malignancy_risk"], False)
    assert names == ["nodule_malignancy_risk", "search_guidelines"]


def test_other_tools_are_left_alone() -> None:
    names, why = follow_up("What follow-up after hormonal therapy?", [SEG], ["treatment_benefit"], False)
    assert names == ["treatment_benefit"] and why is None


GUIDE = {"tool": "search_guidelines", "turn": 3, "data": {"decision": {"guideline": "fleischner-2017"}}}


def test_a_stated_brock_probability_is_an_input_not_a_request() -> None:
    names, why = follow_up("BTS: 10 mm solid nodule with a Brock probability of 12% - what next?", [],
                           ["nodule_malignancy_risk", "search_guidelines"], False)
    assert names == ["search_guidelines"] and "given" in why


def test_a_what_if_after_a_guideline_answer_goes_back_to_the_decision() -> None:
    for q in ("What if this had been her baseline screen?", "And if the Brock risk had come out at 6%?",
              "假如这是基线筛查呢？"):
        names, why = follow_up(q, [SEG, BROCK, GUIDE], ["nodule_malignancy_risk"], False)
        assert names == ["search_guidelines"] and why, q
    # ... unless it asks for the model's own output again
    names, _ = follow_up("What if she were 70 - what would the Brock probability be?", [SEG, BROCK, GUIDE],
                         ["nodule_malignancy_risk"], False)
    assert names == ["nodule_malignancy_risk"]


def test_a_management_question_with_patient_facts_is_not_a_brock_request() -> None:
    for q in ("女 45岁 不抽烟，偶然发现3mm实性结节，Fleischner要不要随访", "64F, 8 mm solid nodule: what follow-up?"):
        assert follow_up(q, [], ["nodule_malignancy_risk"], False)[0] == ["search_guidelines"], q
    # ... but one that names the model keeps it
    q = "What does BTS say at this nodule's Brock risk? 61F, 8 mm solid."
    assert follow_up(q, [], ["nodule_malignancy_risk", "search_guidelines"], False)[0] == ["nodule_malignancy_risk",
                                                                                           "search_guidelines"]


def test_a_question_naming_a_guideline_is_never_left_without_a_tool() -> None:
    assert follow_up("筛查发现磨玻璃结节 20mm，基线，Lung-RADS 几类", [], [], False)[0] == ["search_guidelines"]
    assert follow_up("Hello, how are you?", [], [], False) == ([], None)


def test_new_nodule_facts_after_a_guideline_answer_update_that_answer() -> None:
    guide = {"tool": "search_guidelines", "turn": 3, "data": {"decision": {"guideline": "fleischner-2017"}}}
    names, why = follow_up("found another one, 4mm solid, RML", [SEG, BROCK, guide], ["nodule_malignancy_risk"], False)
    assert names == ["search_guidelines"] and why
    # after a Brock answer the same message re-runs Brock (the previous turn's tool)
    names, _ = follow_up("found another one, 4mm solid, RML", [SEG, BROCK], ["nodule_malignancy_risk"], False)
    assert names == ["nodule_malignancy_risk"]
    # a message that asks for the probability keeps it
    names, _ = follow_up("another 4 mm solid nodule - Brock risk?", [SEG, BROCK, guide], ["nodule_malignancy_risk"],
                         False)
    assert "nodule_malignancy_risk" in names


def test_an_image_feature_in_a_what_if_without_an_image_in_the_thread_changes_a_brock_input() -> None:
    brock_only = {**BROCK, "turn": 1}
    for q in ("and if it had spiculated margins?", "what if the edge were spiculated?"):
        names, why = follow_up(q, [brock_only], ["classify_image"], False)
        assert names == ["nodule_malignancy_risk"] and "what_if" in why, q
    # with a scan in the thread, asking about spiculation is a question for the image classifier
    names, _ = follow_up("is it spiculated?", [SEG, BROCK], ["classify_image"], False)
    assert names == ["classify_image"]


def test_a_nodule_described_in_words_with_no_image_is_not_sent_to_an_image_tool() -> None:
    for q in ("Incidental 6 mm GGO, f/u?", "8 mm part-solid nodule, recommended interval?"):
        names, why = follow_up(q, [], ["classify_image"], False)
        assert names == ["search_guidelines"] and "no image" in why, q
    # an image attached now, or a request for the image tool in words, keeps it
    assert follow_up("Incidental 6 mm GGO, f/u?", [], ["classify_image"], True)[0] == ["classify_image"]
    assert follow_up("Characterise the 6 mm nodule, then f/u?", [], ["classify_image"], False)[0] == ["classify_image"]


def test_lung_rads_abbreviated_as_lr_is_a_management_question() -> None:
    assert follow_up("Baseline LDCT, 61F: 9 mm solid nodule LUL. LR?", [], ["nodule_malignancy_risk"], False)[0] == [
        "search_guidelines"]


def test_the_brock_model_named_as_not_yet_run_is_not_asked_for() -> None:
    for q in ("UK pt, 10 mm solid nodule, Brock not done yet - next step?", "no brock score yet; 9 mm solid, UK, management?"):
        assert follow_up(q, [], ["nodule_malignancy_risk"], False)[0] == ["search_guidelines"], q
    assert follow_up("UK pt, 10 mm solid nodule, what is the Brock risk and next step?", [],
                     ["nodule_malignancy_risk"], False)[0] == ["nodule_malignancy_risk"]


def test_a_patient_fact_alone_after_a_guideline_answer_updates_that_answer() -> None:
    guide = {"tool": "search_guidelines", "turn": 3, "data": {"decision": {"guideline": "fleischner-2017"}}}
    for q in ("oh, and he quit smoking 5 years ago, 40 pack-years", "she's actually 33 years old",
              "it was a screening LDCT"):
        names, why = follow_up(q, [SEG, guide], ["nodule_malignancy_risk"], False)
        assert names == ["search_guidelines"] and why, q
    # after a Brock answer the same fact changes a Brock input
    assert follow_up("oh, and he quit smoking 5 years ago, 40 pack-years", [SEG, BROCK],
                     ["nodule_malignancy_risk"], False)[0] == ["nodule_malignancy_risk"]


def test_a_stated_brock_probability_with_a_terse_next_goes_to_the_decision() -> None:
    for q in ("10 mm solid nodule, Brock 18%. next?", "pancan risk came back 3% - so now?"):
        names, why = follow_up(q, [], ["nodule_malignancy_risk"], False)
        assert names == ["search_guidelines"] and why, q
    # giving the probability without asking anything leaves the router's choice
    assert follow_up("the Brock was 18%", [], ["nodule_malignancy_risk"], False)[0] == ["nodule_malignancy_risk"]
