"""Clinical turns through the agent on the embedded backend: imaging, Brock risk with a citation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.runner import Agent
from galen.settings import Settings
from tools.registry import tool_status

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ct_nodule_8mm.nii.gz"


def need(tool: str) -> None:
    status = tool_status(tool)
    if not status.available:
        pytest.skip(status.reason)


def test_outline_nodule_states_measured_diameter(tmp_path) -> None:
    need("segment_image")
    agent = Agent(Settings(data_dir=tmp_path / "d", answer_writer="llm"))
    r = agent.ask("Outline the nodule on this CT and give its diameter.", [FIXTURE])
    call = r.tool_calls[0]
    assert call.name == "segment_image" and call.ok, call.error
    lesions = call.result["data"]["lesions"]
    assert lesions
    diameter = max(x["mean_diameter_mm"] for x in lesions)
    assert 6.5 < diameter < 10  # the phantom's nodule is 8 mm
    assert f"{diameter:.1f}" in r.answer and "mm" in r.answer
    assert r.demo_model and any(a["kind"] == "image" for a in r.artifacts)
    # then the risk of that nodule, with the facts only the person can give
    r2 = agent.ask("What is the malignancy risk of this nodule? She is 64 years old.", thread_id=r.thread_id,
                   confirm="accept")
    risk = [c for c in r2.tool_calls if c.name == "nodule_malignancy_risk"][-1]
    assert risk.ok, risk.error
    # Brock was built on the longest diameter: the largest lesion's long axis, with its source
    long_axis = max(x["long_axis_mm"] for x in lesions)
    assert risk.result["data"]["model_inputs"]["nodule_size_mm"] == pytest.approx(long_axis, abs=0.05)
    size = next(e for e in risk.result["data"]["inputs"] if e["name"] == "nodule_size_mm")
    assert size["source"] == "segment_image"


def test_brock_with_factor_breakdown_and_citation(tmp_path) -> None:
    need("nodule_malignancy_risk")
    agent = Agent(Settings(data_dir=tmp_path / "d", answer_writer="llm"))
    r = agent.ask("Brock risk for a 64-year-old woman with a 9 mm solid nodule in the right upper lobe, "
                  "no family history, no emphysema, not spiculated, single nodule.", confirm="accept")
    call = [c for c in r.tool_calls if c.name == "nodule_malignancy_risk"][0]
    assert call.ok, call.error
    data = call.result["data"]
    assert 0 < data["probability"] < 1 and set(data["contributions"]) >= {"age", "sex", "nodule_size", "nodule_type", "upper_lobe"}
    percent = data["probability_percent"]
    assert re.search(rf"{percent:.1f}|{data['probability']:.3f}", r.answer)
    assert r.citations and r.verified is not None
    assert any(c.source_id in ("bts-2015", "fleischner-2017", "lung-rads-2022") for c in r.citations)


def test_fleischner_question_answers_with_intervals_and_citation(tmp_path) -> None:
    need("search_guidelines")
    agent = Agent(Settings(data_dir=tmp_path / "d", answer_writer="llm"))
    r = agent.ask("What follow-up does Fleischner recommend for a single 7 mm solid nodule in a high-risk patient?")
    assert [c.name for c in r.tool_calls] == ["search_guidelines"]
    text = r.answer.replace("–", "-")
    assert "6-12 months" in text and "18-24 months" in text
    cited = {r.citations[n - 1].source_id for n in map(int, re.findall(r"\[(\d+)\]", r.answer))}
    assert "fleischner-2017" in cited
    assert r.verification["ok"] or r.verification.get("template_check")  # what is shown is grounded
