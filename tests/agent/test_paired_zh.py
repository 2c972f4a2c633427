"""The same case asked in English and in Chinese: the same tool calls, the same numbers, the same citations.

The real agent (semantic routing, the embedded backend's template writer, facts accepted without a
pause) answers each pair in a fresh thread. For each pair:

- the same tools are called, in the same order, with the same outcome (or the same missing facts);
- a computed guideline decision is the same row (and Lung-RADS category), and the Chinese answer's
  first line states the English first line's numbers;
- a risk or property tool ran on the same model inputs and its results carry the same numbers,
  every one of which the Chinese answer states;
- the passages the answers cite with [n] come from the same sources;
- the Chinese answer is written in Chinese (its first line), the English one in English.

Mixed-language questions (English drug names and SMILES inside Chinese text) are among the pairs.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from agent.quantities import numbers_in
from knowledge.embeddings import has_cjk

pytestmark = pytest.mark.slow

PAIRS: list[tuple[str, str, str]] = [
    # (id, English, Chinese) — Fleischner rows
    ("fl-solid-7-low", "Incidental solitary 7 mm solid nodule, low-risk patient: Fleischner follow-up?",
     "偶然发现单发7mm实性结节，低危患者，Fleischner怎么随访？"),
    ("fl-solid-4-high", "Fleischner: single 4 mm solid nodule in a high-risk patient, does it need follow-up?",
     "Fleischner：高危患者，单发4毫米实性结节，需要随访吗？"),
    ("fl-solid-11", "What does Fleischner recommend for a single 11 mm solid nodule?",
     "Fleischner对单发11毫米实性结节的建议是什么？"),
    ("fl-ggn-9", "Pure ground-glass nodule 9 mm, incidental. How should it be followed per Fleischner?",
     "纯磨玻璃结节9毫米，偶发，按Fleischner如何随访？"),
    ("fl-multi-6-low", "Low-risk patient with multiple solid nodules, the largest 6 mm. Fleischner interval?",
     "低危患者，多发实性结节，最大6毫米，Fleischner随访间隔？"),
    ("fl-partsolid", "Fleischner management of a single part-solid nodule of 10 mm with a 3 mm solid component?",
     "Fleischner：单发部分实性结节10毫米，实性成分3毫米，如何处理？"),
    ("fl-missing-risk", "Fleischner follow-up for an incidental 7 mm solid nodule?",
     "偶然发现7毫米实性结节，Fleischner怎么随访？"),
    # Lung-RADS rows
    ("lr-solid-12", "Baseline screening LDCT shows a 12 mm solid nodule. Lung-RADS category and management?",
     "基线LDCT筛查发现12毫米实性结节，Lung-RADS分类和处理？"),
    ("lr-partsolid-10", "Baseline lung screening: part-solid nodule 16 mm with a 10 mm solid component. Lung-RADS?",
     "基线肺癌筛查：部分实性结节16毫米，实性成分10毫米，Lung-RADS几类？"),
    ("lr-ggn-20", "Baseline screening CT: 20 mm ground-glass nodule. Which Lung-RADS category?",
     "基线筛查CT：20毫米磨玻璃结节，Lung-RADS属于几类？"),
    # BTS rows
    ("bts-solid-4", "BTS guideline: solid nodule 4 mm, what follow-up?", "BTS指南：实性结节4毫米，如何随访？"),
    ("bts-brock-5", "BTS: 10 mm solid nodule with a Brock risk of 5%. Next step?",
     "BTS：10毫米实性结节，Brock风险5%，下一步？"),
    # risk models
    ("brock-woman", "Brock risk: 64-year-old woman, 9 mm solid nodule in the right upper lobe, spiculated, emphysema, "
                    "family history of lung cancer, single nodule.",
     "Brock恶性概率：64岁女性，右上叶9毫米实性结节，有毛刺，有肺气肿，有肺癌家族史，单发结节。"),
    ("brock-man", "Malignancy probability (Brock) for a 70-year-old man with a 15 mm part-solid nodule in the left "
                  "lower lobe, no spiculation, no emphysema, no family history, 2 nodules.",
     "70岁男性，左下叶部分实性结节15毫米，无毛刺，无肺气肿，无家族史，共2个结节，Brock恶性概率是多少？"),
    ("metastasis", "5-year distant metastasis risk for a 55-year-old, ER positive, grade 2, tumour 2.5 cm?",
     "55岁，ER阳性，2级，肿瘤2.5厘米，5年远处转移风险是多少？"),
    ("hormone-benefit", "Benefit of hormonal therapy: postmenopausal, 60 years old, tumour 25 mm, grade 2, 3 positive "
                        "nodes, PR 100 fmol, ER 80 fmol.",
     "激素治疗获益：绝经后，60岁，肿瘤25毫米，2级，3个淋巴结阳性，PR 100 fmol，ER 80 fmol。"),
    # molecules: English names and SMILES inside Chinese text
    ("logp-ibuprofen", "What is the logP of ibuprofen?", "ibuprofen 的 logP 是多少？"),
    ("props-aspirin-smiles", "TPSA and molecular weight of CC(=O)Oc1ccccc1C(=O)O?",
     "CC(=O)Oc1ccccc1C(=O)O 的 TPSA 和分子量是多少？"),
    ("props-caffeine", "Does caffeine pass the Lipinski rules?", "咖啡因符合 Lipinski 规则吗？"),
    ("props-paracetamol", "Predicted solubility and blood-brain barrier for paracetamol",
     "对乙酰氨基酚的溶解度和血脑屏障预测"),
    # the Chinese source, asked in both languages
    ("cn-high-risk", "Chinese expert consensus on pulmonary nodules: how is the high-risk population defined?",
     "肺结节诊治中国专家共识：肺癌高危人群怎么定义？"),
]


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    import torch

    from agent.runner import Agent
    from galen.settings import Settings

    torch.set_num_threads(1)
    return Agent(Settings(data_dir=tmp_path_factory.mktemp("paired"), answer_writer="template", confirm_facts=False))


def _cited_sources(result) -> set[str]:
    marks = {int(n) for m in re.finditer(r"\[(\d+(?:\s*,\s*\d+)*)\]", result.answer or "") for n in m.group(1).split(",")}
    return {result.citations[n - 1].source_id for n in marks if 1 <= n <= len(result.citations)}


def _result_numbers(call) -> Counter:
    """Numbers of a tool's own findings (not the lines that quote the question's words)."""
    facts = [f for f in (call.result or {}).get("facts") or [] if not f.startswith(("Inputs: ", "["))]
    return Counter(numbers_in(" ".join(facts)))


def _first_line(text: str) -> str:
    return next((x for x in (text or "").splitlines() if x.strip()), "")


def test_there_are_at_least_twenty_pairs() -> None:
    assert len(PAIRS) >= 20 and len({p[0] for p in PAIRS}) == len(PAIRS)


@pytest.mark.parametrize(("case_id", "english", "chinese"), PAIRS, ids=[p[0] for p in PAIRS])
def test_same_case_in_english_and_chinese(agent, case_id, english, chinese) -> None:
    en, zh = agent.ask(english), agent.ask(chinese)
    assert [c.name for c in en.tool_calls] == [c.name for c in zh.tool_calls], (en.answer, zh.answer)
    assert en.tool_calls, "the case calls a tool"
    for a, b in zip(en.tool_calls, zh.tool_calls, strict=True):
        assert a.ok == b.ok, (a.error, b.error)
        if not a.ok:
            assert len((a.error or {}).get("missing") or []) == len((b.error or {}).get("missing") or [])
            continue
        da, db = (a.result or {}).get("data") or {}, (b.result or {}).get("data") or {}
        if da.get("decision") or db.get("decision"):
            ra, rb = da.get("decision") or {}, db.get("decision") or {}
            assert (ra.get("row_id"), ra.get("category")) == (rb.get("row_id"), rb.get("category"))
            assert set(numbers_in(_first_line(en.answer))) <= set(numbers_in(_first_line(zh.answer)))
            assert [c["section"] for c in ra["cites"]] == [c["section"] for c in rb["cites"]]
        elif a.name != "search_guidelines":
            assert da.get("model_inputs") == db.get("model_inputs")
            assert _result_numbers(a) == _result_numbers(b)
            stated = set(numbers_in(zh.answer))
            assert set(_result_numbers(a)) <= stated, sorted(set(_result_numbers(a)) - stated)
    if all(c.ok for c in en.tool_calls) and any(c.name != "search_guidelines" or (c.result or {}).get("data", {}).get("decision")
                                               for c in en.tool_calls):
        assert _cited_sources(en) == _cited_sources(zh), (en.answer, zh.answer)
    elif all(c.ok for c in en.tool_calls):
        assert _cited_sources(en) & _cited_sources(zh), (en.answer, zh.answer)
    assert has_cjk(_first_line(zh.answer)), zh.answer
    assert not has_cjk(_first_line(en.answer)) or case_id.startswith("cn-"), en.answer
