"""Attacks on the running server through its real HTTP endpoints (no browser needed).

A client of the Gradio app controls every byte of an event's payload. These tests send file
entries naming server files — the thread database, the users file, a system file — in a message
and in extra inputs, ask Gradio's file route for them directly, and check that each is refused
and that nothing was copied into the UI's cache. They also check that nothing secret reaches
the page's config, that a non-loopback bind without a users file is refused, and that the
login is throttled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.ui.conftest import LOGIN_PASSWORDS

pytestmark = [pytest.mark.slow]

# on_submit takes (message, browser state, language, PACS study state): no chat history from the client.


def _event(base: str, fn_index: int, data: list, trigger: int | None = None) -> list[dict]:
    """Run one queued event and return its server-sent messages."""
    sh = uuid.uuid4().hex[:10]
    with httpx.Client(timeout=120) as c:
        r = c.post(f"{base}/gradio_api/queue/join",
                   json={"data": data, "fn_index": fn_index, "session_hash": sh, "event_data": None, "trigger_id": trigger})
        if r.status_code != 200:
            return [{"msg": "rejected", "status": r.status_code, "text": r.text}]
        out = []
        with c.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": sh}) as s:
            for line in s.iter_lines():
                if line.startswith("data:"):
                    ev = json.loads(line[5:])
                    out.append(ev)
                    if ev.get("msg") == "process_completed":
                        break
    return out


def _fn(config: dict, name: str) -> int:
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == name)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


@pytest.fixture(scope="module")
def open_app(app_servers):
    app_servers["open"].wait()
    return app_servers["open"]


def _data_dir(server) -> Path:
    return Path(server.log).parent


def test_client_named_server_files_are_never_read_or_served(open_app, tmp_path) -> None:
    base = open_app.url.rstrip("/")
    data = _data_dir(open_app)
    # A turn first, so the thread database and the audit log have content worth stealing.
    config = httpx.get(f"{base}/config", timeout=30).json()
    submit = _fn(config, "on_submit")
    done = _event(base, submit, [{"text": "What is the logP of CCO?", "files": []}, {"thread_id": ""}, "en", None])
    assert done[-1].get("success") is True
    marker = tmp_path / "secret.txt"
    marker.write_text("GALEN-SECRET-MARKER-" + uuid.uuid4().hex)
    targets = [data / "threads.sqlite", data / "audit.jsonl", Path("/etc/passwd"), marker]
    cache = data / "ui-cache"
    for target in targets:
        assert target.is_file()
        before = _snapshot(cache)
        entry = {"path": str(target), "meta": {"_type": "gradio.FileData"}, "orig_name": "x.txt"}
        attempts = [
            # a message whose file entry names a server path
            [{"text": "Summarise this file", "files": [entry]}, {"thread_id": ""}, "en", None],
            # the old hole: a chat history with a file entry (the history is no longer an input)
            [{"text": "hi", "files": []}, [{"role": "user", "content": [{"type": "file", "file": entry}]}],
             {"thread_id": ""}, "en", None],
            # a path smuggled through the browser state
            [{"text": "hi", "files": []}, {"thread_id": "", "file": entry}, "en", None],
            # a path where the server keeps its own state for the PACS study
            [{"text": "hi", "files": []}, {"thread_id": ""}, "en", {"folder": str(target.parent)}],
        ]
        for data_payload in attempts:
            events = _event(base, submit, data_payload)
            text = json.dumps(events)
            assert "GALEN-SECRET-MARKER" not in text and "root:x:0" not in text and "SQLite format" not in text
            assert str(target.name) not in [Path(u).name for u in _urls(text)], text[-500:]
        # Gradio's own file route refuses the path too.
        r = httpx.get(f"{base}/gradio_api/file={target}", timeout=30)
        assert r.status_code in (403, 404)
        after = _snapshot(cache)
        new = {k: v for k, v in after.items() if k not in before}
        assert not [k for k, v in new.items() if v == target.read_bytes()], "a server file was copied into the cache"


def _urls(text: str) -> list[str]:
    import re

    return re.findall(r'"url": "([^"]+)"', text)


def test_nothing_secret_in_the_page_config(open_app) -> None:
    config = httpx.get(open_app.url.rstrip("/") + "/config", timeout=30).text
    data = _data_dir(open_app)
    secrets_on_disk = [p.read_text(errors="ignore").strip() for p in data.glob("*secret*") if p.is_file()]
    assert all(s not in config for s in secrets_on_disk if len(s) >= 16)
    assert str(data / "threads.sqlite") not in config


def test_a_foreign_or_invented_thread_id_shows_nothing(open_app) -> None:
    base = open_app.url.rstrip("/")
    config = httpx.get(f"{base}/config", timeout=30).json()
    events = _event(base, _fn(config, "on_load"), [{"thread_id": "../../threads"}, "en"])
    assert events[-1].get("success") is True
    output = events[-1]["output"]["data"]
    assert output[0] == {"thread_id": ""} and output[1] in ([], None)


def test_login_is_throttled(app_servers) -> None:
    server = app_servers["login"]
    server.wait()
    base = server.url.rstrip("/")
    with httpx.Client(timeout=30) as c:
        outcomes = [c.post(f"{base}/login", data={"username": "mallory", "password": "guess"}).status_code
                    for _ in range(8)]
        assert outcomes == [400] * 8
        # Another user on the same address is not locked out by someone else's failures.
        ok = c.post(f"{base}/login", data={"username": "bob", "password": LOGIN_PASSWORDS["bob"]})
        assert ok.status_code == 200
    assert "login refused for 'mallory': too many failed logins" in server.log.read_text()


def test_non_loopback_bind_without_users_file_refuses_to_start(tmp_path) -> None:
    env = {**os.environ, "GALEN_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GALEN_UI_USERS_FILE", None)
    proc = subprocess.run([sys.executable, "-m", "ui.cli", "chat", "--host", "0.0.0.0", "--port", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "without a users file" in proc.stderr and "Traceback" not in proc.stderr


def test_two_signed_in_users_cannot_reach_each_others_threads_through_the_ui(app_servers) -> None:
    """Through the Gradio events themselves (cookies of a real login): Bob names Alice's thread in the
    browser state and in the thread list; he sees nothing, and each attempt is an audit line."""
    server = app_servers["login"]
    server.wait()
    base = server.url.rstrip("/")

    def session(user: str) -> httpx.Client:
        c = httpx.Client(timeout=300)
        r = c.post(f"{base}/login", data={"username": user, "password": LOGIN_PASSWORDS[user]})
        assert r.status_code == 200, r.text
        return c

    def event(c: httpx.Client, fn: int, data: list) -> list[dict]:
        sh = uuid.uuid4().hex[:10]
        c.post(f"{base}/gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": sh}).raise_for_status()
        out = []
        with c.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": sh}) as s:
            for line in s.iter_lines():
                if line.startswith("data:"):
                    out.append(json.loads(line[5:]))
                    if out[-1].get("msg") == "process_completed":
                        break
        return out

    alice, bob = session("alice"), session("bob")
    config = alice.get(f"{base}/config").json()
    fns = {d.get("api_name"): d["id"] for d in config["dependencies"]}
    done = event(alice, fns["on_submit"], [{"text": "What is the TPSA of CCOCC?", "files": []}, {"thread_id": ""}, "en", None])
    assert done[-1].get("success") is True
    tid = done[-1]["output"]["data"][2]["thread_id"]
    assert tid
    for fn, data in ((fns["on_load"], [{"thread_id": tid}, "en"]), (fns["on_select"], [tid, {"thread_id": tid}, "en"])):
        out = event(bob, fn, data)
        # Either the handler answers with nothing, or Gradio refuses a value it never offered Bob.
        assert out[-1].get("success") is True or "not in the list of choices" in json.dumps(out[-1])
        assert "CCOCC" not in json.dumps(out[-1]["output"])
    out = event(bob, fns["on_submit"], [{"text": "And its logP?", "files": []}, {"thread_id": tid}, "en", None])
    assert "CCOCC" not in json.dumps(out)  # a new thread of Bob's, not a continuation of Alice's
    # Alice's own view is intact, and Bob's attempts are on the record.
    mine = event(alice, fns["on_load"], [{"thread_id": tid}, "en"])
    assert "CCOCC" in json.dumps(mine[-1]["output"])
    audit = [json.loads(x) for x in (_data_dir(server) / "audit.jsonl").read_text().splitlines()]
    denied = [a for a in audit if a.get("event") == "access_denied" and a.get("thread") == tid]
    assert denied and all(a["caller"] == "user:bob" for a in denied)
