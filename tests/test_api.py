"""The JSON API beside the UI: identity from authentication only, owner checks on every thread path."""

from __future__ import annotations

import base64
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage

from agent.runner import Agent
from galen.settings import Settings
from tests.agent.fakes import ScriptedChatModel
from ui.api import build_router
from ui.auth import Authenticator, LoginGuard, hash_password


def client(settings: Settings, checker=None) -> tuple[TestClient, Agent]:
    agent = Agent(settings, chat_model=ScriptedChatModel(script=[AIMessage(content="x")]))
    app = FastAPI()
    app.include_router(build_router(agent, settings, checker=checker))
    return TestClient(app), agent


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def audit_events(settings: Settings) -> list[dict]:
    path = settings.resolved_data_dir() / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_single_user_without_users_file_ignores_identity_headers(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, answer_writer="template")
    c, _ = client(settings)
    r = c.post("/api/ask", json={"question": "What is the logP of CCO?"}, headers={"X-Galen-User": "alice"})
    assert r.status_code == 200 and r.json()["tool_calls"][0]["name"] == "predict_properties"
    tid = r.json()["thread_id"]
    # One local identity: a header naming someone else changes nothing.
    for headers in ({}, {"X-Galen-User": "bob"}):
        assert [t["thread_id"] for t in c.get("/api/threads", headers=headers).json()] == [tid]
    assert c.post("/api/ask", json={"question": "And its TPSA?", "thread_id": tid}).status_code == 200
    bad = c.post("/api/ask", json={"question": "  "})
    assert bad.status_code == 422 and "empty" in bad.json()["detail"]


def test_unknown_thread_is_404_and_audited(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, answer_writer="template")
    c, _ = client(settings)
    for method, url, body in (("post", "/api/ask", {"question": "hello", "thread_id": "nope"}),
                              ("post", "/api/plan", {"question": "hello", "thread_id": "nope"}),
                              ("get", "/api/threads/nope", None), ("get", "/api/threads/nope/files", None),
                              ("get", "/api/threads/nope/files/0", None)):
        r = getattr(c, method)(url, **({"json": body} if body else {}))
        assert r.status_code == 404, (url, r.text)
    denied = [e for e in audit_events(settings) if e.get("event") == "access_denied"]
    assert {e["action"] for e in denied} == {"ask", "plan", "history", "files"}


def test_two_users_cannot_touch_each_others_threads(tmp_path) -> None:
    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('alice pw')}\nbob:{hash_password('bob pw')}\n")
    settings = Settings(data_dir=tmp_path / "d", answer_writer="template", ui_users_file=users)
    c, _ = client(settings)
    alice, bob = basic("alice", "alice pw"), basic("bob", "bob pw")
    r = c.post("/api/ask", json={"question": "Ten analogs of aspirin with MW under 300"}, headers=alice)
    assert r.status_code == 200
    tid = r.json()["thread_id"]
    assert c.get(f"/api/threads/{tid}/files", headers=alice).status_code == 200
    files = c.get(f"/api/threads/{tid}/files", headers=alice).json()
    if files:
        assert c.get(f"/api/threads/{tid}/files/0", headers=alice).status_code == 200
    # Bob: list, read, continue, dry-run against and download from Alice's thread.
    assert c.get("/api/threads", headers=bob).json() == []
    attempts = [c.get(f"/api/threads/{tid}", headers=bob),
                c.post("/api/ask", json={"question": "And its TPSA?", "thread_id": tid}, headers=bob),
                c.post("/api/plan", json={"question": "And its TPSA?", "thread_id": tid}, headers=bob),
                c.get(f"/api/threads/{tid}/files", headers=bob),
                c.get(f"/api/threads/{tid}/files/0", headers=bob)]
    assert [a.status_code for a in attempts] == [404] * 5
    # The same answer as for a thread that never existed: nothing to probe.
    assert attempts[0].json()["detail"].replace(tid, "X") == c.get("/api/threads/never-was", headers=bob).json()[
        "detail"].replace("never-was", "X")
    denied = [e for e in audit_events(settings) if e.get("event") == "access_denied" and e.get("thread") == tid]
    assert len(denied) == 5 and all(e["caller"] == "user:bob" and e["reason"] == "foreign thread" for e in denied)
    # Alice's thread is untouched by Bob's attempts.
    assert len(c.get(f"/api/threads/{tid}", headers=alice).json()) == 2


def test_login_required_with_users_file(tmp_path) -> None:
    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('correct horse')}\n")
    c, _ = client(Settings(data_dir=tmp_path / "d", answer_writer="template", ui_users_file=users))
    assert c.get("/api/threads").status_code == 401
    assert c.get("/api/threads", headers={"X-Galen-User": "alice"}).status_code == 401
    assert c.get("/api/threads", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert c.get("/api/threads", headers=basic("alice", "nope")).status_code == 401
    assert c.get("/api/threads", headers=basic("alice", "correct horse")).status_code == 200


def test_repeated_failures_lock_the_account_out(tmp_path) -> None:
    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('correct horse')}\n")
    clock = [1000.0]
    guard = LoginGuard(free=5, delay_s=1.0, lock_after=20, lock_s=900.0, clock=lambda: clock[0])
    checker = Authenticator(users, guard)
    settings = Settings(data_dir=tmp_path / "d", answer_writer="template", ui_users_file=users)
    c, _ = client(settings, checker)
    outcomes = []
    for _ in range(30):  # 30 wrong passwords in a row, 0.5 s apart
        r = c.get("/api/threads", headers=basic("alice", "wrong"))
        assert r.status_code == 401
        outcomes.append(checker.last_refusal or "checked")
        clock[0] += 0.5
    # The first five are checked; then attempts inside the growing back-off are refused unchecked;
    # from the 20th failure on the name is locked.
    assert outcomes[:5] == ["checked"] * 5
    assert any(o.startswith("too many failed logins") for o in outcomes[5:20])
    assert all(o.startswith("locked") for o in outcomes[20:])
    # Locked: even the right password is refused until the lockout ends.
    assert c.get("/api/threads", headers=basic("alice", "correct horse")).status_code == 401
    clock[0] += 901
    assert c.get("/api/threads", headers=basic("alice", "correct horse")).status_code == 200
