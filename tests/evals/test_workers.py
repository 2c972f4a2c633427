"""``--workers N``: cases run in spawned processes, each with its own agent, results in suite order."""

from __future__ import annotations

import pytest

from agent.runner import Agent
from evals.runner import run_cases
from galen.settings import Settings
from tests.evals.fakes import RAISE, RouteByQuestion


def fake_agent(settings: Settings) -> Agent:
    """Module level so that spawned worker processes can import it."""
    return Agent(settings, chat_model=RouteByQuestion(routes={"crash": RAISE}))


@pytest.mark.slow
def test_two_workers_run_every_case_in_order(tmp_path) -> None:
    cases = [{"id": f"c{i}", "question": q, "attachments": [], "history": [], "group": None, "expect": e}
             for i, (q, e) in enumerate([("Hello there", {"tools": []}), ("", {"error": True}),
                                         ("crash please", {"tools": []}), ("Hi again", {"tools": []})])]
    settings = Settings(data_dir=tmp_path / "d", routing_policy="llm", answer_writer="template", kb_auto_index=False)
    outcomes = run_cases(cases, settings, make_agent=fake_agent, workers=2, progress=False)
    assert [o["id"] for o in outcomes] == ["c0", "c1", "c2", "c3"]
    assert [o["passed"] for o in outcomes] == [True, True, False, True]
    assert outcomes[2]["error"]["kind"] == "unexpected"
