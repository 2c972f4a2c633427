"""kill -9 in the middle of a turn leaves the thread, the audit chain and the knowledge base usable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_kill_mid_turn(tmp_path) -> None:
    from agent.audit import verify_chain
    from agent.runner import Agent
    from galen.settings import Settings

    data = tmp_path / "d"
    env = os.environ | {"GALEN_DATA_DIR": str(data), "GALEN_ANSWER_WRITER": "llm"}
    done = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "What is the logP of CCO?", "--thread", "k", "--json"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ask", "What follow-up does Fleischner recommend for a 7 mm solid nodule in a high-risk patient?", "--thread", "k"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # wait until the turn is under way (its intermediate checkpoints are being written), then kill
    deadline = time.time() + 300
    import sqlite3

    def steps() -> int:
        try:
            with sqlite3.connect(data / "threads.sqlite") as c:
                return c.execute("select count(*) from checkpoints where thread_id='k'").fetchone()[0]
        except sqlite3.Error:
            return 0

    base = steps()
    while time.time() < deadline and steps() < base + 3 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)

    assert verify_chain(data / "audit.jsonl").ok
    agent = Agent(Settings(data_dir=data, answer_writer="template"))
    history = agent.history("k")
    assert history[0]["content"] == "What is the logP of CCO?"
    r = agent.ask("And the TPSA of CCO?", thread_id="k")
    # the template writer's answer is built from the tool output, so it is not "verified" (None), and says so
    assert r.tool_calls and r.tool_calls[0].ok and r.verified is None
    assert r.verification.get("method") == "template" and "20.2" in r.answer
    assert verify_chain(data / "audit.jsonl").ok
    from knowledge.retrieval import search

    assert search("Fleischner solid nodule follow-up", k=2, settings=Settings(data_dir=data))


def test_thread_store_setup_waits_for_a_lock_another_process_holds() -> None:
    import sqlite3

    import pytest

    from agent.threads import _setup_with_retry

    class Saver:
        calls = 0

        def setup(self) -> None:
            Saver.calls += 1
            if Saver.calls < 3:
                raise sqlite3.OperationalError("database is locked")

    _setup_with_retry(Saver())
    assert Saver.calls == 3

    class Broken:
        def setup(self) -> None:
            raise sqlite3.OperationalError("no such table: x")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _setup_with_retry(Broken())
