"""The harness's turn-by-turn thread checks and the first-sentence check."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from evals.checks import check_first_sentence_contains, first_sentence
from evals.runner import run_case
from evals.suite import load_suite


def test_first_sentence_ignores_markdown_and_decimals():
    answer = "**Lung-RADS v2022 category 4A (suspicious): LDCT in 3 months [1].** Then more.\n- Used: size 12.1 mm."
    assert first_sentence(answer) == "Lung-RADS v2022 category 4A (suspicious): LDCT in 3 months [1]."
    assert first_sentence("- Size 12.1 mm measured. Second.") == "Size 12.1 mm measured."
    ok = check_first_sentence_contains({"answer": answer}, ["category 4A", "3 months"])
    bad = check_first_sentence_contains({"answer": answer}, ["12.1 mm"])
    assert ok["passed"] and not bad["passed"] and "12.1 mm" in bad["detail"]


def test_history_objects_carry_attachments_and_checks(tmp_path):
    (tmp_path / "ct.nii.gz").write_bytes(b"x")
    case = {"id": "t1", "question": "final?", "expect": {"answer_contains": ["final"]},
            "history": ["plain earlier question",
                        {"question": "measure", "attachments": ["ct.nii.gz"], "expect": {"answer_contains": ["mm"]}}]}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(case) + "\n")
    (loaded,) = load_suite(path)
    assert loaded["history"] == ["plain earlier question", "measure"]
    assert loaded["history_attachments"] == [[], [str((tmp_path / "ct.nii.gz").resolve())]]
    assert loaded["expect_turns"] == [{}, {"answer_contains": ["mm"]}]


@dataclass
class _Turn:
    answer: str
    tool_calls: list = field(default_factory=list)
    citations: list = field(default_factory=list)
    verified: bool | None = None
    refusal: dict | None = None
    warnings: list = field(default_factory=list)
    latency_s: float = 0.0


class _Agent:
    """Answers each question with a fixed text and records the attachments it was given."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers, self.seen = answers, []

    def ask(self, question, attachments=(), thread_id=None, owner="local", confirm="accept"):
        self.seen.append((question, list(attachments), thread_id))
        return _Turn(self.answers[question])


def _case(turn_expect: dict) -> dict:
    return {"id": "c", "question": "q3", "attachments": [], "group": None, "expect": {"answer_contains": ["three"]},
            "history": ["q1", "q2"], "history_attachments": [["/ct.nii.gz"], []], "expect_turns": [turn_expect, {}]}


def test_a_failed_turn_fails_the_thread_and_says_which():
    agent = _Agent({"q1": "one mm", "q2": "two", "q3": "three"})
    good = run_case(agent, _case({"answer_contains": ["mm"]}))
    assert good["passed"] and good["checks"]["turns"]["passed"] and len(good["turns"]) == 1
    assert agent.seen[0][1] == ["/ct.nii.gz"] and len({t for _, _, t in agent.seen}) == 1  # one thread
    bad = run_case(_Agent({"q1": "one", "q2": "two", "q3": "three"}), _case({"answer_contains": ["mm"]}))
    assert not bad["passed"] and "turn 1" in bad["checks"]["turns"]["detail"]
