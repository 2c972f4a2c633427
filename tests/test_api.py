"""The JSON API beside the UI: a turn, per-caller thread isolation, login when a users file is set."""

from __future__ import annotations

import base64

from fastapi import FastAPI
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage

from agent.runner import Agent
from galen.settings import Settings
from tests.agent.fakes import ScriptedChatModel
from ui.api import build_router


def client(settings: Settings) -> TestClient:
    agent = Agent(settings, chat_model=ScriptedChatModel(script=[AIMessage(content="x")]))
    app = FastAPI()
    app.include_router(build_router(agent, settings))
    return TestClient(app)


def test_ask_and_isolation(tmp_path) -> None:
    c = client(Settings(data_dir=tmp_path, answer_writer="template"))
    r = c.post("/api/ask", json={"question": "What is the logP of CCO?", "thread_id": "t1"}, headers={"X-Galen-User": "alice"})
    assert r.status_code == 200 and r.json()["tool_calls"][0]["name"] == "predict_properties"
    assert c.get("/api/threads", headers={"X-Galen-User": "alice"}).json()[0]["thread_id"] == "t1"
    assert c.get("/api/threads", headers={"X-Galen-User": "bob"}).json() == []
    assert c.get("/api/threads/t1", headers={"X-Galen-User": "bob"}).status_code == 404
    bad = c.post("/api/ask", json={"question": "  "}, headers={"X-Galen-User": "alice"})
    assert bad.status_code == 422 and "empty" in bad.json()["detail"]


def test_login_required_with_users_file(tmp_path) -> None:
    from ui.auth import hash_password

    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('correct horse')}\n")
    c = client(Settings(data_dir=tmp_path / "d", answer_writer="template", ui_users_file=users))
    assert c.get("/api/threads").status_code == 401
    wrong = base64.b64encode(b"alice:nope").decode()
    assert c.get("/api/threads", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    right = base64.b64encode(b"alice:correct horse").decode()
    assert c.get("/api/threads", headers={"Authorization": f"Basic {right}"}).status_code == 200
