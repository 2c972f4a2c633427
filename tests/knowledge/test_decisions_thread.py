"""Guideline decisions inside a conversation: facts from the thread's findings, second nodules,
what-ifs, case-aware retrieval text, and the answer's first line.

Findings have the shapes the real tools return (``segment_image`` lesions, ``classify_image``
types, ``nodule_malignancy_risk`` inputs and sources), written out by hand so the test runs
without the imaging models.
"""

from __future__ import annotations

import pytest

from galen.errors import MissingFacts
from tools.base import ToolContext
from tools.guideline_facts import case_summary, gather, thread_case
from tools.guidelines import SearchGuidelinesTool


def seg(*sizes: tuple[float, float], turn: int = 1) -> dict:
    lesions = [{"id": i, "long_axis_mm": a, "short_axis_mm": b, "mean_diameter_mm": round((a + b) / 2, 1),
                "volume_mm3": round(3.14159 / 6 * ((a + b) / 2) ** 3), "upper_lobe": False, "mean_hu": 20.0}
               for i, (a, b) in enumerate(sizes, start=1)]
    return {"tool": "segment_image", "data": {"lesions": lesions}, "turn": turn}


def cls(*types: str, turn: int = 2) -> dict:
    return {"tool": "classify_image", "turn": turn,
            "data": {"lesions": [{"id": i, "type": t, "spiculated": False} for i, t in enumerate(types, start=1)]}}


def brock(size: float, prob: float, turn: int = 2, **inputs) -> dict:
    inp = {"age": 64, "sex": "female", "nodule_size_mm": size, "nodule_type": "solid", "family_history": False,
           "emphysema": False, "upper_lobe": False, "nodule_count": 1, "spiculation": False} | inputs
    sources = {k: "question" for k in ("age", "sex")} | {"nodule_size_mm": "segment_image",
                                                          "nodule_type": "classify_image", "family_history": "default",
                                                          "emphysema": "default"}
    return {"tool": "nodule_malignancy_risk", "turn": turn,
            "data": {"probability": prob, "inputs": inp, "sources": sources}}


def brock_rows(rows: list[tuple[float, str, float]], turn: int = 2, what_if: dict | None = None,
               smoking: str | None = None, family_history: bool = False) -> dict:
    """A Brock result in the per-nodule shape of :mod:`tools.nodule_risk` (most suspicious first)."""
    nodules = [{"id": i, "nodule_size_mm": s, "nodule_type": k, "probability": p, "computed": True}
               for i, (s, k, p) in enumerate(rows, start=1)]
    inputs = [{"name": "age", "value": 66, "source": "question", "evidence": "66"},
              {"name": "family_history", "value": family_history, "source": "question" if family_history else "default",
               "evidence": ""}]
    inputs += [{"name": "nodule_type", "value": k, "source": "question", "evidence": k, "nodule": i}
               for i, (_, k, _) in enumerate(rows, start=1)]
    context = [{"name": "smoking_status", "value": smoking, "source": "question", "evidence": smoking}] if smoking else []
    data = {"probability": rows[0][2], "nodules": nodules, "inputs": inputs, "context": context, "index_nodule": 1,
            "what_if": what_if}
    return {"tool": "nodule_malignancy_risk", "turn": turn, "data": data}


def ask(tool, question: str, findings: list[dict], settings) -> dict:
    ctx = ToolContext(settings=settings, workdir=settings.resolved_data_dir(), findings=list(findings), question=question)
    args = tool.validate_arguments(tool.extract_arguments(question, ctx))
    res = tool.run(args, ctx)
    return {"tool": "search_guidelines", "data": res.data, "turn": len(findings) + 1, "result": res}


@pytest.fixture(scope="module")
def tool():
    t = SearchGuidelinesTool()
    ok, why = t.availability()
    if not ok:
        pytest.skip(why)
    return t


# --- facts from the thread (no retrieval needed) ----------------------------------------------

def test_measured_nodule_and_brock_facts_reach_the_case():
    case, _, _ = thread_case([seg((12.4, 11.8)), cls("solid"), brock(12.1, 0.034)])
    (n,) = case.nodules
    assert n.value("long_mm") == 12.4 and n.value("type") == "solid" and n.value("brock") == 3.4
    assert n.facts["long_mm"].source == "segment_image, turn 1"
    assert n.facts["brock"].source == "nodule_malignancy_risk, turn 2"


def test_stated_type_beats_the_classifier_and_brock_risk_factors_make_high_risk():
    b = brock(12.1, 0.05, nodule_type="non-solid", family_history=True)
    b["data"]["sources"] |= {"nodule_type": "question", "family_history": "question"}
    case, _, _ = thread_case([seg((12.4, 11.8)), cls("solid"), b])
    assert case.nodules[0].value("type") == "ground-glass"
    assert case.value("risk") == "high"


def test_per_nodule_brock_result_types_each_nodule_and_gives_the_smoking_risk():
    case, _, _ = thread_case([seg((12.4, 11.8), (5.2, 4.8)), brock_rows([(12.4, "part-solid", 0.21),
                                                                        (5.2, "solid", 0.02)], smoking="former")])
    big, small = sorted(case.nodules, key=lambda n: -n.value("long_mm"))
    assert big.value("type") == "part-solid" and big.value("brock") == 21.0
    assert big.facts["type"].source.startswith("stated for the Brock model")
    assert small.value("type") == "solid" and small.value("brock") == 2.0
    assert case.value("risk") == "high"


def test_a_what_if_brock_result_does_not_become_a_fact():
    what = {"changed": ["spiculation"], "probability_before": 0.05, "probability_after": 0.11}
    case, _, _ = thread_case([seg((12.4, 11.8)), brock_rows([(12.4, "solid", 0.11)], what_if=what)])
    assert case.nodules[0].value("brock") == 5.0  # the actual probability, not the hypothetical 11%


def test_second_nodule_is_added_not_substituted():
    g = gather("There is also a 5 mm solid nodule in the left lower lobe. Fleischner now?", [seg((12.4, 11.8)), cls("solid")])
    assert len(g.case.nodules) == 2
    assert sorted(round(n.value("long_mm") or n.value("diameter_mm")) for n in g.case.nodules) == [5, 12]


def test_another_nodule_adds_one_not_a_group():
    g = gather("There is another solid nodule, 3 mm, in the left upper lobe. Fleischner now?", [seg((7.4, 7.2)), cls("solid")])
    assert len(g.case.nodules) == 2 and all(n.value("group_count") is None for n in g.case.nodules)


def test_a_what_if_about_the_part_solid_nodule_changes_that_nodule(tool, corpus_settings):
    f = [seg((11.6, 11.1), (6.2, 5.8)), cls("solid", "solid")]
    f.append(ask(tool, "Incidental. Also a 9 mm part-solid nodule with a 3 mm solid component in the LUL - Fleischner?",
                 f, corpus_settings))
    assert "part-solid" in f[-1]["result"].facts[0]
    res = ask(tool, "What if the part-solid nodule's solid component were 7 mm and it persisted?", f, corpus_settings)
    assert "highly suspicious" in res["result"].facts[0]


def test_enlarged_lymph_nodes_are_not_nodule_growth():
    from tools.guideline_text import parse_question

    q = parse_question("What if the 9 mm nodule had enlarged mediastinal lymph nodes alongside it - Lung-RADS?")
    assert q.case.get("lymphadenopathy") is True and "status" not in q.attrs and q.what_if


def test_a_stated_size_matching_a_measured_nodule_refers_to_it():
    g = gather("Follow-up screen: the 11 mm nodule is new since last year. Lung-RADS?",
               [seg((11.9, 11.0), (6.2, 6.0)), cls("solid", "solid")])
    assert len(g.case.nodules) == 2
    big = max(g.case.nodules, key=lambda n: n.value("long_mm"))
    assert big.value("status") == "new" and g.case.value("exam") == "follow-up"


def test_a_fully_described_new_case_replaces_the_thread_nodules():
    g = gather("Fleischner for a single 7 mm solid nodule in a never-smoker?", [seg((12.4, 11.8))])
    assert [n.value("diameter_mm") for n in g.case.nodules] == [7.0]


def test_case_summary_names_size_type_count_and_risk():
    case, _, _ = thread_case([seg((12.4, 11.8), (5.2, 4.8)), cls("solid", "solid"),
                              brock(12.1, 0.05, family_history=True) | {}])
    text = case_summary(case)
    assert "solid nodule 12 mm" in text and "2 nodules" in text


# --- the tool: decision first, cited; asks for what changes it; remembers the case --------------

def test_thread_follow_up_uses_the_measured_size(tool, corpus_settings):
    f = [seg((12.4, 11.8)), cls("solid"), brock(12.1, 0.034)]
    out = ask(tool, "What follow-up interval does Fleischner recommend for her?", f, corpus_settings)
    res = out["result"]
    assert res.facts[0].startswith("Fleischner 2017, single solid nodule >8 mm") and res.facts[0].endswith("[1].")
    assert res.passages[0].source_id == "fleischner-2017" and res.passages[0].section == "Solid nodules > Single solid nodule"
    assert any("segment_image, turn 1" in x for x in res.facts)
    assert "no routine follow-up" not in res.facts[0]


def test_lung_rads_category_is_stated(tool, corpus_settings):
    res = ask(tool, "Lung-RADS category and management for a 12 mm solid nodule on a baseline screening CT?", [],
              corpus_settings)["result"]
    assert res.facts[0].startswith("Lung-RADS v2022 category 4A (suspicious): LDCT in 3 months")


def test_second_nodule_then_what_if(tool, corpus_settings):
    f = [seg((12.4, 11.8)), cls("solid"), brock(12.1, 0.034)]
    f.append(ask(tool, "What follow-up does Fleischner recommend for her?", f, corpus_settings))
    f.append(ask(tool, "There is also a 5 mm solid nodule in the left lower lobe. What does Fleischner say now?", f,
                 corpus_settings))
    second = f[-1]["result"]
    assert "multiple solid nodules >8 mm" in second.facts[0] and "3-6 months" in second.facts[0]
    assert any("most suspicious" in x for x in second.facts)
    whatif = ask(tool, "What if she were a current smoker?", f, corpus_settings)
    assert whatif["data"]["hypothetical"] is True
    assert "multiple solid nodules >8 mm" in whatif["result"].facts[0]
    assert any("does not depend on the patient's risk" in x for x in whatif["result"].facts)
    # the hypothetical is answered, not remembered: the next turn starts from the real case
    case, dec, _ = thread_case(f + [whatif])
    assert dec is f[-1]["data"] and case.value("risk") is None


def test_what_if_that_changes_the_row_says_so(tool, corpus_settings):
    f = [seg((7.4, 7.2)), cls("solid")]
    f.append(ask(tool, "He has never smoked. Fleischner follow-up?", f, corpus_settings))
    assert "then consider CT at 18-24 months" in f[-1]["result"].facts[0]
    res = ask(tool, "And if he were a heavy smoker, what would Fleischner recommend?", f, corpus_settings)["result"]
    assert "then CT at 18-24 months" in res.facts[0]
    assert any(x.startswith("Changed from the previous answer") and "risk" in x for x in res.facts)


def test_missing_risk_is_asked_for(tool, corpus_settings):
    with pytest.raises(MissingFacts) as e:
        ask(tool, "Fleischner recommendation for an incidental single 7 mm solid nodule?", [], corpus_settings)
    assert "risk" in e.value.missing[0] and "18-24 months" in (e.value.hint or "")


def test_general_question_gets_passages_not_a_decision(tool, corpus_settings):
    res = ask(tool, "What does the EU AI Act say about transparency?", [seg((12.4, 11.8))], corpus_settings)["result"]
    assert "decision" not in res.data and res.passages


# --- the agent's answer and retrieval text ------------------------------------------------------

def test_grounding_text_carries_the_thread_findings():
    from agent.compose import grounding_text

    text = grounding_text({"question": "What interval for her?", "calls": [],
                           "findings": [seg((12.4, 11.8)), cls("solid"), brock(12.1, 0.034)]})
    assert text.startswith("What interval for her?") and "solid nodule 12 mm" in text and "Brock 3%" in text


def test_template_answer_leads_with_the_decision(tool, corpus_settings):
    from agent.compose import template_answer

    out = ask(tool, "Lung-RADS category and management for a 12 mm solid nodule on a baseline screening CT?", [],
              corpus_settings)
    res = out["result"]
    state = {"question": "q", "calls": [{"name": "search_guidelines", "ok": True, "result": res.model_dump(mode="json")}],
             "passages": [p.model_dump() for p in res.passages], "findings": []}
    first = template_answer(state).splitlines()[0]
    assert first.startswith("Lung-RADS v2022 category 4A (suspicious): LDCT in 3 months") and "[1]" in first


# --- follow-ups that lean on what the thread already computed ------------------------------------

def test_a_supposed_size_is_not_a_prior_size():
    from tools.guideline_text import parse_question

    for q in ("what if it were 5 mm?", "Suppose it was 5 mm - Fleischner?", "And if the nodule were 5 mm?"):
        facts = [m.facts for m in parse_question(q).mentions]
        assert facts == [{"diameter_mm": 5.0}], q
    assert [m.facts for m in parse_question("it was 4 mm on last year's screen").mentions] == [{"prior_mm": 4.0}]


def test_stated_risk_in_other_word_orders():
    from tools.guideline_text import parse_question

    for q, want in (("solitary 7 mm solid nodule, patient risk low", "low"), ("7 mm solid nodule, risk: high", "high"),
                    ("7 mm nodule; her risk is low", "low")):
        assert parse_question(q).case.get("risk") == want, q
    assert "risk" not in parse_question("7 mm solid nodule on a low-dose CT").case


def test_a_what_if_size_changes_the_row(tool, corpus_settings):
    f = [seg((7.3, 7.1)), cls("solid")]
    f.append(ask(tool, "Incidental, 50-year-old woman who smokes. Fleischner?", f, corpus_settings))
    assert "6-8 mm, high-risk" in f[-1]["result"].facts[0]
    res = ask(tool, "what if it were 5 mm?", f, corpus_settings)["result"]
    assert "<6 mm, high-risk" in res.facts[0]


def test_growth_on_the_next_screen_keeps_the_nodule_and_its_earlier_size(tool, corpus_settings):
    f = [seg((7.3, 7.1))]
    f.append(ask(tool, "It's solid. Baseline lung screening. Category?", f, corpus_settings))
    assert "category 3" in f[-1]["result"].facts[0]
    out = ask(tool, "The 6-month LDCT shows it grew to 9 mm. Category?", f, corpus_settings)
    assert "category 4B" in out["result"].facts[0]
    case = out["data"]["case"]
    assert len(case["nodules"]) == 1
    facts = case["nodules"][0]["facts"]
    assert facts["type"][0] == "solid" and facts["prior_mm"][0] == 7.2


def test_a_stable_follow_up_screen_uses_the_category_the_thread_gave(tool, corpus_settings):
    f = [seg((7.3, 7.1))]
    f.append(ask(tool, "This is a baseline lung cancer screening LDCT, the nodule is solid. Lung-RADS?", f,
                 corpus_settings))
    assert "category 3" in f[-1]["result"].facts[0]
    res = ask(tool, "At the 6-month scan it is unchanged. Category now?", f, corpus_settings)["result"]
    assert "category 2" in res.facts[0]
    assert any("Lung-RADS 3 given earlier in this thread" in x for x in res.facts)


def test_new_facts_alone_or_a_pointer_back_recompute_the_decision(tool, corpus_settings):
    f = [seg((12.4, 11.8)), cls("solid"), brock(12.1, 0.034)]
    f.append(ask(tool, "ok so what's the next step per fleischner", f, corpus_settings))
    res = ask(tool, "found another one, 4mm solid, RML", f, corpus_settings)["result"]
    assert "multiple solid nodules >8 mm" in res.facts[0]
    res = ask(tool, "and what is the management for that?", f, corpus_settings)["result"]
    assert res.facts[0].startswith("Fleischner 2017, single solid nodule >8 mm")
    # without a decision earlier in the thread, a bare pointer is not a nodule question
    res = ask(tool, "and what is the management for that?", [], corpus_settings)["result"]
    assert not res.facts[0].startswith("Fleischner 2017")


def test_chinese_case_words_bounds_components_first_screen_and_additions():
    from tools.guideline_text import parse_question

    q = parse_question("多发磨玻璃结节都小于6mm，Fleischner怎么随访")
    assert [m.facts.get("range_mm") for m in q.mentions] == [(float("-inf"), 6.0)] and q.count == 2
    assert [m.facts.get("range_mm") for m in parse_question("多发结节，均在5mm以下").mentions] == [(float("-inf"), 5.0)]
    # the component word followed by its own size is not the size before it
    q = parse_question("筛查LDCT基线 部分实性结节10mm 实性部分7mm，Lung-RADS几类")
    assert [(m.facts.get("diameter_mm"), m.facts.get("solid_mm")) for m in q.mentions] == [(10.0, 7.0)]
    assert parse_question("a 12 mm part-solid nodule, 5 mm solid component").mentions[0].facts["solid_mm"] == 5.0
    assert parse_question("肺癌筛查首次LDCT，实性结节7mm").case.get("exam") == "baseline"
    assert parse_question("还有一个4mm实性结节在右肺中叶，分类变吗？").addition


def test_a_chinese_second_nodule_is_added(tool, corpus_settings):
    f = [seg((12.3, 11.9)), cls("solid")]
    f.append(ask(tool, "这是首次肺癌筛查LDCT，Lung-RADS几类？", f, corpus_settings))
    assert "category 4A" in f[-1]["result"].facts[0]
    out = ask(tool, "还有一个4mm实性结节在右肺中叶，分类变吗？", f, corpus_settings)
    assert "category 4A" in out["result"].facts[0] and len(out["data"]["case"]["nodules"]) == 2


def test_a_solid_component_that_appears_is_growth_of_a_subsolid_nodule(tool, corpus_settings):
    from tools.guideline_text import parse_question

    for q in ("A subsolid nodule that has developed a new solid component on follow-up", "its solid component has grown",
              "磨玻璃结节出现了实性成分"):
        assert parse_question(q).attrs.get("status") == "growing", q
    assert parse_question("a new solid nodule").attrs.get("status") == "new"
    res = ask(tool, "A subsolid nodule that has developed a new solid component on follow-up - BTS advice?", [],
              corpus_settings)["result"]
    assert res.facts[0].startswith("BTS 2015, subsolid nodule that grows or whose solid component appears")


# --- second round of follow-ups: words of earlier turns, corrections, one nodule alone, growth ---

def test_the_words_of_a_measuring_turn_give_the_exam_and_setting():
    f = [seg((7.3, 7.1)) | {"question": "first screening round LDCT - can you size the nodule?"}]
    case, _, _ = thread_case(f)
    assert case.value("setting") == "screening" and case.value("exam") == "baseline"
    assert case.facts["exam"].source == "question, turn 1"
    # a fact the question states itself wins over the earlier turn's words
    g = gather("what if this were an annual repeat screen?", f)
    assert g.case.value("exam") == "follow-up"


def test_a_size_correction_replaces_the_measured_size_and_keeps_the_type():
    f = [seg((7.3, 7.1)), cls("solid")]
    g = gather("my mistake - it is 10 mm, not 7", f)
    assert len(g.case.nodules) == 1
    n = g.case.nodules[0]
    assert n.value("type") == "solid" and n.value("diameter_mm") == 10.0 and n.value("prior_mm") is None
    # the corrected nodule is the one named by its old size, not the largest
    f2 = [seg((11.5, 11.1), (6.2, 6.0)), cls("solid", "solid")]
    g = gather("sorry, the small one is 4 mm not 6", f2)
    assert sorted(round(_size(n)) for n in g.case.nodules) == [4, 11]


def _size(n) -> float:
    from tools.guideline_facts import _size_of

    return _size_of(n)


def test_one_nodule_of_several_on_its_own_is_a_view_not_a_change():
    f = [seg((11.5, 11.1), (6.2, 6.0)), cls("solid", "solid")]
    g = gather("the 6 mm one by itself - what would it get?", f)
    assert len(g.case.nodules) == 1 and round(_size(g.case.nodules[0])) == 6
    assert g.question.what_if  # answered, not remembered as the thread's case
    # without such words both nodules stay
    assert len(gather("and the 6 mm one?", f).case.nodules) == 2


def test_growth_written_as_then_and_now_is_one_nodule_at_a_follow_up_screen():
    g = gather("at her baseline screen a year ago it was a 5 mm solid nodule; now 7 mm. Lung-RADS?", [])
    assert len(g.case.nodules) == 1
    n = g.case.nodules[0]
    assert n.value("diameter_mm") == 7.0 and n.value("prior_mm") == 5.0 and n.value("type") == "solid"
    assert g.case.value("exam") == "follow-up"


def test_a_bare_4a_or_4b_is_the_previous_category_at_a_follow_up():
    g = gather("3 month follow-up LDCT for a 4B part-solid nodule, unchanged. category?", [])
    assert g.case.nodules[0].value("prior_category") == "4B"


def test_a_patient_fact_alone_after_a_decision_recomputes_it(tool, corpus_settings):
    f = [seg((7.3, 7.1)), cls("solid")]
    f.append(ask(tool, "incidental, 50 yo never smoker - Fleischner?", f, corpus_settings))
    assert "then consider CT at 18-24 months" in f[-1]["result"].facts[0]
    res = ask(tool, "oh wait, he's a current smoker, 25 pack-years", f, corpus_settings)["result"]
    assert "high-risk" in res.facts[0] and "then CT at 18-24 months" in res.facts[0]
