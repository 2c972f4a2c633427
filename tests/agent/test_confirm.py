"""The clinician confirms or corrects what was read before a risk model runs (LangGraph interrupt/resume)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from langchain_core.messages import AIMessage

from agent.runner import Agent
from galen.settings import Settings
from tests.agent.fakes import ScriptedChatModel
from tests.conftest import ROOT, galen_cmd

CASE = ("67-year-old woman, former smoker, emphysema on CT, 12 mm solid nodule in the right upper lobe with "
        "spiculated margins, no family history of lung cancer, a single nodule. Brock risk?")


@pytest.fixture
def agent(tmp_path) -> Agent:
    from tools.registry import tool_status

    if not tool_status("nodule_malignancy_risk").available:
        pytest.skip(tool_status("nodule_malignancy_risk").reason)
    return Agent(Settings(data_dir=tmp_path / "d", answer_writer="template"),
                 chat_model=ScriptedChatModel(script=[AIMessage(content="unused")]))


def _inputs(result) -> dict[str, object]:
    call = next(c for c in result.tool_calls if c.name == "nodule_malignancy_risk")
    assert call.ok, call.error
    return {e["name"]: e["value"] for e in call.arguments["inputs"] if e.get("nodule") in (None, 1)}


def test_facts_read_from_text_pause_before_the_model_runs(agent) -> None:
    r = agent.ask(CASE, thread_id="t")
    assert r.pending is not None and r.pending["kind"] == "confirm" and r.pending["tool"] == "nodule_malignancy_risk"
    assert not any(c.name == "nodule_malignancy_risk" for c in r.tool_calls)  # not run yet
    shown = {f["name"]: f for f in r.facts}
    assert shown["age"]["value"] == 67 and shown["age"]["source"] == "question" and "67" in shown["age"]["evidence"]
    assert "please confirm" in r.answer and "age 67" in r.answer
    assert r.verification["method"] == "awaiting-confirmation"


def test_accept(agent) -> None:
    agent.ask(CASE, thread_id="t")
    r = agent.ask("yes, that's right", thread_id="t")
    assert r.pending is None
    facts = _inputs(r)
    assert facts["age"] == 67 and facts["nodule_size_mm"] == 12
    assert 0 < next(c for c in r.tool_calls if c.name == "nodule_malignancy_risk").result["data"]["probability"] < 1


def test_correct_one_fact(agent) -> None:
    first = agent.ask(CASE, thread_id="t", confirm="accept")
    p_first = next(c for c in first.tool_calls if c.ok).result["data"]["probability"]
    agent.ask(CASE.replace("67-year-old", "66-year-old"), thread_id="t2")
    r = agent.ask("actually she is 67", thread_id="t2")
    assert _inputs(r)["age"] == 67
    assert next(c for c in r.tool_calls if c.ok).result["data"]["probability"] == pytest.approx(p_first)
    ages = [f for f in r.facts if f["name"] == "age"]
    assert ages[0]["source"] == "correction" and ages[0].get("previous") == 66


def test_correct_two_facts_in_one_reply(agent) -> None:
    agent.ask(CASE, thread_id="t")
    r = agent.ask("actually she is 65 and it is part-solid", thread_id="t")
    facts = _inputs(r)
    assert facts["age"] == 65 and facts["nodule_type"] == "part-solid"


def test_an_unreadable_reply_asks_again_once_then_abandons(agent) -> None:
    agent.ask(CASE, thread_id="t")
    again = agent.ask("hmm, banana", thread_id="t")
    assert again.pending is not None and again.pending["attempts"] == 1
    assert "age" in again.answer.lower()  # says which facts it can take
    done = agent.ask("purple", thread_id="t")
    assert done.pending is None
    call = next(c for c in done.tool_calls if c.name == "nodule_malignancy_risk")
    assert call.ok is False and call.error["kind"] == "not_confirmed"
    assert "not run" in done.answer


def test_cancel_abandons(agent) -> None:
    agent.ask(CASE, thread_id="t")
    r = agent.ask("cancel", thread_id="t")
    assert r.pending is None and any(c.error and c.error.get("kind") == "not_confirmed" for c in r.tool_calls)


def test_a_new_question_instead_of_a_reply_leaves_the_model_unrun(agent) -> None:
    agent.ask(CASE, thread_id="t")
    r = agent.ask("What is the logP of CCO?", thread_id="t")
    assert r.pending is None and [c.name for c in r.tool_calls] == ["predict_properties"]
    assert any("not confirmed" in w for w in r.warnings)


def test_missing_facts_are_asked_for_by_the_same_pause(agent) -> None:
    r1 = agent.ask("What is the malignancy risk of a 9 mm solid nodule?", thread_id="t")
    assert r1.pending is not None and r1.pending["kind"] == "missing"
    assert any("age" in m.lower() for m in r1.pending["missing"])
    r2 = agent.ask("She is 64 years old, upper lobe, no emphysema.", thread_id="t")
    facts = _inputs(r2)
    assert facts["age"] == 64 and facts["sex"] == "female" and facts["nodule_size_mm"] == 9


def test_harness_and_scripts_accept_what_was_read(agent) -> None:
    r = agent.ask(CASE, thread_id="t", confirm="accept")
    assert r.pending is None and _inputs(r)["age"] == 67


@pytest.mark.slow
def test_a_paused_turn_resumes_in_a_new_process(tmp_path) -> None:
    env = os.environ | {"GALEN_DATA_DIR": str(tmp_path / "d"), "GALEN_ANSWER_WRITER": "template"}
    first = subprocess.run([*galen_cmd(), "ask", CASE, "--json"], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["pending"]["kind"] == "confirm"
    second = subprocess.run([*galen_cmd(), "ask", "actually she is 65", "--thread", out["thread_id"], "--json"],
                            env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert second.returncode == 0, second.stderr
    done = json.loads(second.stdout)
    assert done["pending"] is None
    call = next(c for c in done["tool_calls"] if c["name"] == "nodule_malignancy_risk")
    assert call["ok"] and {e["name"]: e["value"] for e in call["arguments"]["inputs"]}["age"] == 65
    # --yes accepts what was read in one go
    third = subprocess.run([*galen_cmd(), "ask", CASE, "--yes", "--json"], env=env, capture_output=True, text=True,
                           timeout=600, cwd=ROOT)
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["pending"] is None


def test_a_guideline_decision_asks_for_the_fact_it_needs_and_takes_the_reply(agent) -> None:
    r1 = agent.ask("What follow-up does Fleischner recommend for a single 7 mm solid nodule?", thread_id="g")
    assert r1.pending is not None and r1.pending["tool"] == "search_guidelines" and r1.pending["kind"] == "missing"
    assert any("risk" in m for m in r1.pending["missing"])
    r2 = agent.ask("She is a former heavy smoker, so high risk.", thread_id="g")
    assert r2.pending is None and [c.name for c in r2.tool_calls] == ["search_guidelines"]
    first = r2.answer.splitlines()[0]
    assert "high-risk" in first and "6-12 months" in first.replace("–", "-")
