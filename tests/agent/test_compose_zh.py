"""The Chinese answer: the tool fact shapes it renders (pinned), every guideline row, same numbers, fallbacks.

If a tool's fact wording changes, a test here fails and names the line: the Chinese answer then
shows that line in English (never drops it) until ``agent/data/answer_zh.yaml`` learns the new shape.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.compose_zh import error_lines, fact_lines, phrase_zh, route_note, table_rows, template_answer_zh
from agent.i18n import answer_language, gloss, render_line, render_warning, same_numbers
from agent.quantities import quantities_in
from agent.verify import verify_answer
from knowledge.embeddings import has_cjk

# --- language -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "lang"), [
    ("Fleischner：7毫米实性结节怎么随访？", "zh"),
    ("CC(=O)Oc1ccccc1C(=O)O 的 logP 是多少？", "zh"),  # a SMILES does not make it English
    ("Lipinski 五规则里分子量的上限是多少", "zh"),  # nor an English name
    ("What is the logP of 阿司匹林?", "en"),  # an English question naming a drug in Chinese
    ("How often should a 6 mm nodule be rescanned?", "en"),
])
def test_the_answer_follows_the_question_language(text: str, lang: str) -> None:
    assert answer_language(text) == lang


# --- guideline rows -------------------------------------------------------------------------------

def _rows() -> list[tuple[str, str, str]]:
    from knowledge.decisions.tables import load_table

    out = []
    for tid in ("fleischner-2017", "lung-rads-2022", "bts-2015"):
        table = load_table(tid)
        for row in table_rows(table):
            out += [(tid, row.id, str(text)) for text in (row.label, row.management) if text]
        for key, cat in (getattr(table, "categories", None) or {}).items():
            out += [(tid, f"category {key}", str(text)) for text in (cat.name, cat.management) if text]
    return out


def test_every_guideline_row_has_a_chinese_rendering_with_its_numbers() -> None:
    rows = _rows()
    assert len(rows) > 100
    missing = [(tid, rid, text) for tid, rid, text in rows if phrase_zh(text) is None]
    assert not missing, "rows shown in English (add them to agent/data/rows_zh.yaml): " + repr(missing[:10])
    for _, _, text in rows:
        zh = phrase_zh(text)
        assert has_cjk(zh) and same_numbers(text, zh), (text, zh)


def test_a_sentence_with_an_unrendered_word_gets_no_summary() -> None:
    assert gloss("Solid nodules do not need follow-up") is None  # "not" must never be lost
    assert gloss("no routine follow-up") == "无需常规随访"
    assert gloss("Single solid nodule 6 to 8 mm (100-250 mm3), low-risk patient: CT at 6-12 months, then consider "
                 "CT at 18-24 months.") == "单发实性结节6-8 mm（100-250 mm3），低危患者：6-12个月时复查CT，之后考虑在18-24个月时复查CT"


# --- tool facts: the shapes rendered, pinned on real runs ----------------------------------------------

CASES = [
    ("predict_properties", "What are the properties of aspirin CC(=O)Oc1ccccc1C(=O)O? logP?"),
    ("nodule_malignancy_risk", "62-year-old woman, former smoker, 9 mm solid nodule right upper lobe, spiculated, "
                               "emphysema, no family history, single nodule"),
    ("nodule_malignancy_risk", "62岁女性，右上叶9毫米实性结节"),
    ("clinical_risk", "55-year-old, ER positive, grade 2, tumour 2.5 cm"),
    ("treatment_benefit", "postmenopausal 60 yo, tumour 25 mm, grade 2, 3 positive nodes, PR 100 fmol, ER 80 fmol"),
]


def _call(name: str, question: str, tmp_path: Path) -> dict:
    from galen.settings import Settings
    from tools.base import ToolContext
    from tools.registry import get_tool, tool_status

    status = tool_status(name)
    if not status.available:
        pytest.skip(status.reason)
    ctx = ToolContext(settings=Settings(data_dir=tmp_path), workdir=tmp_path / "w", question=question)
    tool = get_tool(name)
    args = tool.extract_arguments(question, ctx)
    result = tool.run(tool.validate_arguments(args), ctx)
    return {"name": name, "ok": True, "arguments": args, "result": result.model_dump(mode="json")}


@pytest.mark.parametrize(("name", "question"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_every_fact_line_of_the_tool_is_rendered_in_chinese(name: str, question: str, tmp_path: Path) -> None:
    call = _call(name, question, tmp_path)
    english = call["result"]["facts"]
    chinese = fact_lines(call)
    assert len(chinese) == len(english)  # never a fact dropped
    unrendered = [en for en, zh in zip(english, chinese, strict=True) if zh == en]
    assert not unrendered, f"{name} fact lines with no Chinese rule (agent/data/answer_zh.yaml): {unrendered}"
    for en, zh in zip(english, chinese, strict=True):
        assert zh != en and same_numbers(en, zh), (en, zh)  # (a property line may be Chinese punctuation only)
    for w in call["result"]["warnings"]:
        zh = render_warning(w)
        assert zh is not None and same_numbers(w, zh), f"{name} warning with no Chinese rule: {w!r}"


def test_a_line_no_rule_knows_is_shown_in_english() -> None:
    call = {"name": "predict_properties", "ok": True, "result": {"facts": ["A new kind of finding: 3.25 units."]}}
    assert fact_lines(call) == ["A new kind of finding: 3.25 units."]
    assert render_line("A new kind of finding: 3.25 units.") is None


def test_a_rule_whose_rendering_changes_a_number_is_not_used() -> None:
    assert render_line("CC: logP (Crippen) 1.31.") == "CC：logP（Crippen） 1.31。"
    assert same_numbers("6 to 8 mm", "6-8 mm") and not same_numbers("6 to 8 mm", "6-9 mm")


# --- missing facts, errors, routing notes --------------------------------------------------------

def test_missing_facts_and_errors_are_explained_in_chinese() -> None:
    from knowledge.decisions.decide import ASK

    missing = {"name": "search_guidelines", "ok": False, "error": {
        "kind": "missing_facts", "missing": [ASK["risk"]],
        "hint": "Depending on it: single solid nodule 6-8 mm, low-risk patient → CT at 6-12 months, then consider CT "
                "at 18-24 months; single solid nodule 6-8 mm, high-risk patient → CT at 6-12 months, then CT at 18-24 months."}}
    lines = error_lines(missing)
    assert lines[0].startswith("**指南**：运行前我还需要：患者的肺癌风险") and "请补充" in lines[0]
    assert "低危患者 → 6-12个月时复查CT" in lines[1] and same_numbers(missing["error"]["hint"], lines[1])
    failed = {"name": "predict_properties", "ok": False,
              "error": {"kind": "invalid_input", "message": "'C1CC' is not a valid SMILES (unclosed ring)."}}
    assert error_lines(failed) == ["**分子性质** 无法运行（输入有误）：'C1CC' is not a valid SMILES (unclosed ring)."]


def test_routing_notes_in_chinese() -> None:
    assert route_note({"note": "I could not tell which of my tools fits this request."}) == "我无法判断哪个工具适合这个请求。"
    note = route_note({"note": "I read this as a request for search_guidelines; if you meant a general question, say so."})
    assert note == "我把这理解为对 search_guidelines 的请求；如果您指的是 一般性问题，请告诉我。"


def test_the_chinese_template_is_grounded_by_the_verifier(tmp_path: Path) -> None:
    call = _call("predict_properties", "阿司匹林 CC(=O)Oc1ccccc1C(=O)O 的 logP？", tmp_path)
    passages = [{"source_id": "fleischner-2017", "title": "Fleischner", "section": "Solid nodules > Single solid nodule",
                 "text": "Single solid nodule 6 to 8 mm (100-250 mm3), low-risk patient: CT at 6-12 months, then "
                         "consider CT at 18-24 months."}]
    state = {"question": "阿司匹林 CC(=O)Oc1ccccc1C(=O)O 的 logP？6-8毫米实性结节", "calls": [call], "passages": passages}
    answer = template_answer_zh(state)
    assert answer.startswith("**分子性质**") and "指南依据" in answer and "6-12个月" in answer
    check = verify_answer(answer, question=state["question"], tool_evidence=[call["result"]], passages=passages)
    assert check.ok, check.reason


def test_chinese_units_are_quantities_for_the_verifier() -> None:
    q = quantities_in("年龄62岁，结节7mm，6-12个月时复查CT，恶性概率 20.2%")
    assert [(x.value, x.unit) for x in q] == [(62, "years"), (7, "mm"), (6, "months"), (12, "months"), (20.2, "%")]
    ungrounded = verify_answer("建议 7 厘米 结节 3个月复查", question="7mm 实性结节", tool_evidence=[], passages=[])
    assert not ungrounded.ok and "7 cm" in ungrounded.reason  # 7 cm is not the 7 mm nodule


def test_a_half_rendered_decision_line_is_shown_in_english_and_the_nodule_list_renders() -> None:
    from agent.compose_zh import decision_lines, half_rendered

    assert half_rendered("依据：结节：several（数目）— 处理is guided by the most可疑结节。")
    assert not half_rendered("来源 [1]（Category 3: Probably benign）：“Solid nodule 6 mm at baseline”")
    facts = ["Fleischner 2017, multiple solid nodules >8 mm (low- or high-risk patient): CT at 3-6 months, then "
             "consider CT at 18-24 months [1].",
             "Used: nodules: 2 — lesion 1 (12.1 mm, segment_image); the 4 mm nodule (question); management is guided "
             "by the most suspicious nodule.",
             "Used: nodules: 2 — the odd one (somewhere); management is guided by the most suspicious nodule."]
    call = {"name": "search_guidelines", "ok": True,
            "result": {"facts": facts, "data": {"decision": {"table": "fleischner-2017", "row_id": "solid-multiple-gt8",
                                                              "category": None}}}}
    lines = decision_lines([call])
    assert lines[1] == "- 依据：结节：2 — 病灶1（12.1 mm，图像分割）；4 mm 结节（问题）；处理以最可疑的结节为准。"
    assert lines[2] == f"- {facts[2]}"  # a name no rule knows: the English line, not a mixture


def test_the_pause_for_a_missing_fact_is_chinese_for_a_chinese_question() -> None:
    from agent.confirm import payload

    hint = ("Depending on it: single solid nodule 6-8 mm, low-risk patient → CT at 6-12 months, then consider CT at "
            "18-24 months; single solid nodule 6-8 mm, high-risk patient → CT at 6-12 months, then CT at 18-24 months.")
    ask = payload("missing", {"name": "search_guidelines", "id": "c1"}, [], "偶然发现7mm实性结节，Fleischner怎么随访？",
                  missing=["the patient's lung-cancer risk (low: ...)"], message=hint)
    assert "患者的肺癌风险" in ask["text"] and "取决于此" in ask["text"] and "Depending on it" not in ask["text"]


@pytest.mark.parametrize("name", ["segment_image", "classify_image"])
def test_every_imaging_fact_line_and_warning_is_rendered_in_chinese(name: str, tmp_path: Path) -> None:
    from galen.settings import Settings
    from specialists.imaging.phantom import WORKING_SPACING, make_phantom, write_phantom_nifti
    from tools.base import Attachment, ToolContext
    from tools.registry import get_tool, tool_status

    status = tool_status(name)
    if not status.available:
        pytest.skip(status.reason)
    ph = make_phantom(11, shape=(40, 128, 128), spacing=WORKING_SPACING, diameters_mm=[8.0, 14.0],
                      kinds=["solid", "part-solid"], shapes=["round", "lobulated"])
    f = write_phantom_nifti(ph, tmp_path / "ct.nii.gz")
    ctx = ToolContext(settings=Settings(data_dir=tmp_path), workdir=tmp_path / "w",
                      attachments=[Attachment(path=f, name=f.name, kind="nifti")], question="分割并分析这个结节")
    tool = get_tool(name)
    args = tool.extract_arguments(ctx.question, ctx)
    result = tool.run(tool.validate_arguments(args), ctx)
    call = {"name": name, "ok": True, "arguments": args, "result": result.model_dump(mode="json")}
    chinese = fact_lines(call)
    assert len(chinese) == len(result.facts) >= 2
    for en, zh in zip(result.facts, chinese, strict=True):
        assert zh != en and same_numbers(en, zh), f"{name} fact line with no Chinese rule: {en}"
    for w in result.warnings:
        zh = render_warning(w)
        assert zh is not None and same_numbers(w, zh), f"{name} warning with no Chinese rule: {w!r}"


@pytest.mark.parametrize("line", [
    "1 nodule was found, and 1 mass (over 3 cm).",
    "Mass 2 on the scan: long axis 41.0 mm, short axis 35.2 mm, mean diameter 38.1 mm, volume 25000 mm³, core density 35 "
    "HU mean, 36 HU median (central sphere of radius 1.5 mm around the lesion's deepest point) (slice 12, upper half of "
    "the lungs). It is larger than 3 cm, so it is a mass, not a nodule (Fleischner glossary).",
    "Lesion 1 on the image: long axis 9.0 mm, short axis 8.0 mm, mean diameter 8.5 mm, volume 300 mm³ (slice 3).",
    "3 further candidates (2 outside the lungs, 1 at aerated-lung density) were not called nodules: a nodule lies in the "
    "lung and is denser than aerated lung.",
    "1 further candidate shaped like vessel pieces was set aside by the false-positive filter.",
    "Grad-CAM of lesion 3 (for its predicted type, ground-glass): The map is empty: at this layer no image region added "
    "positive weight to the predicted type's score.",
])
def test_imaging_line_shapes_a_phantom_may_not_show(line: str) -> None:
    zh = render_line(line)
    assert zh is not None and zh != line and same_numbers(line, zh), line
