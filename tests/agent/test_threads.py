"""Threads persist across processes; follow-ups reuse what the thread already knows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from langchain_core.messages import AIMessage

from agent.runner import Agent
from galen.settings import Settings
from tests.agent.fakes import ScriptedChatModel
from tests.conftest import ROOT, galen_cmd


@pytest.mark.slow
def test_thread_continues_in_a_second_process(tmp_path) -> None:
    env = os.environ | {"GALEN_DATA_DIR": str(tmp_path / "d"), "GALEN_ANSWER_WRITER": "template"}
    first = subprocess.run([*galen_cmd(), "ask", "What is the logP of CCO?", "--json"], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    thread = json.loads(first.stdout)["thread_id"]
    second = subprocess.run([*galen_cmd(), "ask", "And the TPSA of c1ccccc1O?", "--thread", thread, "--json"], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["thread_id"] == thread
    code = (
        "import json; from agent.runner import Agent; from galen.settings import Settings;"
        f"print(json.dumps(Agent(Settings()).history({thread!r})))"
    )
    hist = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT).stdout)
    users = [m["content"] for m in hist if m["role"] == "user"]
    assert users == ["What is the logP of CCO?", "And the TPSA of c1ccccc1O?"]
    assert sum(m["role"] == "assistant" for m in hist) == 2
    lines = (tmp_path / "d" / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x)["thread"] == thread for x in lines)


def _semantic_agent(tmp_path) -> Agent:
    return Agent(Settings(data_dir=tmp_path / "d", answer_writer="template"), chat_model=ScriptedChatModel(script=[AIMessage(content="unused")]))


def test_other_users_cannot_open_a_thread(tmp_path) -> None:
    from galen.errors import InvalidInput

    agent = _semantic_agent(tmp_path)
    agent.ask("What is the logP of CCO?", thread_id="private", owner="alice")
    with pytest.raises(InvalidInput):
        agent.history("private", owner="bob")
    with pytest.raises(InvalidInput):
        agent.ask("And its TPSA?", thread_id="private", owner="bob")
    assert [t["thread_id"] for t in agent.list_threads("alice")] == ["private"]
    assert agent.list_threads("bob") == []
