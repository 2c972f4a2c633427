"""The agent graph with a scripted fake model: the loop, its bound, tool errors, verification."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage

from agent.runner import Agent
from galen.settings import Settings
from tests.agent.fakes import ScriptedChatModel, tool_call


def make_agent(tmp_path, script, **overrides) -> tuple[Agent, ScriptedChatModel]:
    model = ScriptedChatModel(script=script)
    settings = Settings(data_dir=tmp_path / "d", routing_policy="llm", answer_writer="llm", **overrides)
    return Agent(settings, chat_model=model), model


def test_route_act_answer_loop(tmp_path) -> None:
    agent, model = make_agent(
        tmp_path,
        [tool_call("predict_properties", smiles=["CCO"]), AIMessage(content=""), AIMessage(content="Ethanol has MW 46.07 g/mol and logP 0.00.")],
    )
    r = agent.ask("What is the molecular weight of ethanol, CCO?")
    assert [c.name for c in r.tool_calls] == ["predict_properties"]
    assert r.tool_calls[0].ok and r.tool_calls[0].result["data"]["molecules"][0]["mw"] == pytest.approx(46.07)
    assert r.verified is True
    assert r.answer == "Ethanol has MW 46.07 g/mol and logP 0.00."
    # the second routing call saw the tool's result
    assert any(getattr(m, "name", None) == "predict_properties" for m in model.calls[1]["messages"])


def test_loop_is_bounded(tmp_path) -> None:
    agent, model = make_agent(tmp_path, [tool_call("predict_properties", smiles=["CCO"])], max_tool_calls=3)
    r = agent.ask("Keep computing properties of CCO forever")
    assert len(r.tool_calls) == 3
    assert any("limit" in w for w in r.warnings)


def test_tool_error_goes_back_as_message_and_answer_explains(tmp_path) -> None:
    agent, _ = make_agent(tmp_path, [tool_call("predict_properties", smiles=["C1CC"]), AIMessage(content=""), AIMessage(content="Sorry.")])
    r = agent.ask("Properties of C1CC please")
    call = r.tool_calls[0]
    assert call.ok is False
    assert "ring" in call.error["message"]
    # "Sorry." states no finding, so the template (which explains the error) is shown
    assert "could not run" in r.answer and "C1CC" in r.answer


def test_verify_rejects_ungrounded_number(tmp_path) -> None:
    agent, _ = make_agent(tmp_path, [tool_call("predict_properties", smiles=["CCO"]), AIMessage(content=""), AIMessage(content="Ethanol has a logP of 3.7 and MW 46.07.")])
    r = agent.ask("What is the logP of CCO?")
    assert r.verified is False
    assert "3.7" in r.verification["ungrounded_numbers"]
    assert "3.7" not in r.answer and "46.07" in r.answer  # templated answer from the tool result


def test_verify_rejects_citation_to_nothing(tmp_path) -> None:
    agent, _ = make_agent(tmp_path, [AIMessage(content=""), AIMessage(content="See [7].")])
    r = agent.ask("Hello there")
    assert r.tool_calls == []
    # a draft citing a passage that was never retrieved is never shown (rejected, or not drafted at all)
    assert r.verification["method"] in ("template", "draft-rejected") and r.verified is not True
    assert "[7]" not in r.answer


def test_unknown_tool_name_from_llm_is_ignored(tmp_path) -> None:
    agent, _ = make_agent(tmp_path, [tool_call("launch_rockets", x=1), AIMessage(content="")])
    r = agent.ask("Do something")
    assert r.tool_calls == []


def test_semantic_policy_extracts_arguments(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "d", routing_policy="semantic", answer_writer="template")
    agent = Agent(settings, chat_model=ScriptedChatModel(script=[AIMessage(content="unused")]))
    r = agent.ask("What is the logP of CC(=O)Oc1ccccc1C(=O)O?")
    assert [c.name for c in r.tool_calls] == ["predict_properties"]
    assert r.tool_calls[0].arguments["smiles"] == ["CC(=O)Oc1ccccc1C(=O)O"]
    assert r.tool_calls[0].arguments.get("asked") == ["logp"]  # the property the question asks for
    assert r.verification["method"] == "template" and r.verified is None  # templated: not called verified
    assert "1.31" in r.answer


def test_missing_molecule_is_asked_for(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "d", routing_policy="semantic", answer_writer="template")
    agent = Agent(settings, chat_model=ScriptedChatModel(script=[AIMessage(content="unused")]))
    r = agent.ask("Compute the TPSA and logP of this compound")
    assert r.tool_calls[0].ok is False
    assert r.tool_calls[0].error["missing"] == ["molecule (SMILES or drug name)"]
    assert "I need" in r.answer


def test_design_request_rest_is_read_by_the_agents_model(tmp_path) -> None:
    """What the design parser's rules cannot read goes to the agent's LLM, as checked JSON."""
    model = ScriptedChatModel(script=[AIMessage(content=json.dumps({"comparator": "at_most", "value": 3}))])
    settings = Settings(data_dir=tmp_path / "d", routing_policy="semantic", answer_writer="template")
    # The rules read "molecular weight should stay below 300" themselves now; what they cannot read
    # ("logP kept at most around 3 or so, loosely") goes to the model, whose answer is checked.
    r = Agent(settings, chat_model=model).plan(
        "Design analogs of ibuprofen whose molecular weight should stay below 300, with logP kept clear of 3 ideally")
    (call,) = r.tool_calls
    assert call.name == "design_molecules"
    ranges = call.arguments["request"]["ranges"]
    assert ranges["mw"]["high"] == 300.0 and ranges["mw"]["high_strict"] is True
    notes = call.arguments["notes"]
    read = [n for n in notes if n.startswith("Read by the language model")]
    unread = [n for n in notes if n.startswith("Not applied")]
    assert any("logP ≤ 3" in n for n in read), notes  # read by the model, echoed for the chemist to check
    assert ranges["logp"]["high"] == 3.0
    assert "3" in model.calls[0]["messages"][0].content and not unread


def test_dry_run_plans_without_running(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "d", routing_policy="semantic")
    agent = Agent(settings, chat_model=ScriptedChatModel(script=[AIMessage(content="unused")]))
    r = agent.plan("What is the TPSA of c1ccccc1O?")
    assert r.answer is None
    assert [(c.name, c.arguments["smiles"]) for c in r.tool_calls] == [("predict_properties", ["c1ccccc1O"])]
    assert not (settings.data_dir / "audit.jsonl").exists()


def test_refusal_runs_no_tool(tmp_path) -> None:
    agent, model = make_agent(tmp_path, [tool_call("predict_properties", smiles=["CCO"])])
    r = agent.ask("Give John Smith 50 mg morphine now")
    assert r.tool_calls == [] and r.refusal["rule"] == "named-patient-order"
    assert model.calls == []
    assert "can't help" in r.answer


def test_audit_line_per_turn(tmp_path) -> None:
    agent, _ = make_agent(tmp_path, [tool_call("predict_properties", smiles=["CCO"]), AIMessage(content=""), AIMessage(content="MW 46.07.")])
    r1 = agent.ask("MW of CCO?", thread_id="t1")
    agent.ask("And again, MW of CCO?", thread_id="t1")
    lines = (tmp_path / "d" / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2
    recs = [json.loads(x) for x in lines]
    assert all(r["thread"] == "t1" for r in recs)
    assert recs[0]["tools"][0]["name"] == "predict_properties"
    assert recs[1]["prev"] == recs[0]["hash"]
    assert r1.thread_id == "t1"
