"""Measure the guideline-decision and thread suites through the agent and write their result files.

Usage::

    python scripts/measure_guideline_decisions.py dev     # tune on these
    python scripts/measure_guideline_decisions.py test    # measure once, after tuning
    python scripts/measure_guideline_decisions.py test --oracle-routing   # the decisions alone (see OracleRouter)

Runs ``guideline_decisions.<split>`` (single questions: the applicable Fleischner / Lung-RADS / BTS
row or category and its interval in the answer's first sentence, the right source cited) and
``threads.<split>`` (five-turn conversations: measure, risk, follow-up, second nodule, what-if, each
turn checked) with the embedded backend, the semantic router and the template writer, and writes
``evals/results/guideline_decisions.<split>.json`` and ``evals/results/threads.<split>.json``.
A case counts as correct only if every check it names passes (for a thread: every checked turn).

To measure exactly a commit while the working tree changes: ``git archive <commit> | tar -x -C DIR`` and
run the script there with ``PYTHONPATH=DIR GALEN_SNAPSHOT_COMMIT=<commit>``; copy the result files back.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rate(xs: list[bool]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def _check_rate(outcomes: list[dict], name: str) -> float | None:
    return _rate([bool(o["checks"][name]["passed"]) for o in outcomes if name in o.get("checks", {})])


class OracleRouter:
    """The real router, except that the suite's guideline turns go to ``search_guidelines``.

    A component measurement (``--oracle-routing``): it isolates the decisions from routing misses.
    The guideline turns are those the suite checks for a decision (every single-question case of
    ``guideline_decisions``; the thread turns with ``first_sentence_contains``)."""

    def __init__(self, questions: set[str]) -> None:
        from agent.router import default_router

        self.questions, self.real = questions, default_router()

    def route(self, question: str, *args, **kwargs):
        from agent.router import RouteDecision

        if question.strip() in self.questions:
            return RouteDecision(tools=("search_guidelines",), score=1.0, margin=1.0, nearest="(oracle routing)")
        return self.real.route(question, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.real, name)


def _guideline_turns(name: str, cases: list[dict]) -> set[str]:
    if name == "guideline_decisions":
        return {c["question"].strip() for c in cases}
    out = {c["question"].strip() for c in cases if (c.get("expect") or {}).get("first_sentence_contains")}
    for c in cases:
        out |= {q.strip() for q, e in zip(c["history"], c.get("expect_turns") or [], strict=False)
                if (e or {}).get("first_sentence_contains")}
    return out


def measure(name: str, split: str, data_dir: Path, oracle: bool = False) -> dict:
    from evals.results import write_result
    from evals.runner import default_agent, run_cases
    from evals.suite import load_suite, resolve_suite
    from galen.settings import Settings

    path = resolve_suite(f"{name}.{split}")
    cases = load_suite(path)
    settings = Settings(data_dir=data_dir, answer_writer="template", llm_backend="embedded",
                        routing_policy="semantic")
    make_agent = default_agent
    if oracle:
        from agent.runner import Agent

        turns = _guideline_turns(name, cases)

        def make_agent(s):  # noqa: ANN001, ANN202 - the harness's factory signature
            return Agent(s, router=OracleRouter(turns))
    outcomes = run_cases(cases, settings, make_agent=make_agent, progress=False, desc=name)
    metrics: dict = {"accuracy": _rate([o["passed"] for o in outcomes]),
                     "first_sentence_states_row": _check_rate(outcomes, "first_sentence_contains"),
                     "answer_contains": _check_rate(outcomes, "answer_contains"),
                     "citation_recall": _check_rate(outcomes, "citations"),
                     "search_guidelines_called": _rate([any(c["name"] == "search_guidelines" for c in o["tool_calls"])
                                                        for o in outcomes])}
    failures = [{"id": o["id"], "failed": sorted(k for k, c in o["checks"].items() if c.get("passed") is False),
                 "tools": [c["name"] for c in o["tool_calls"]]} for o in outcomes if not o["passed"]]
    if name == "threads":
        turns = [t for o in outcomes for t in o.get("turns") or []]
        finals = [all(c.get("passed") is not False for k, c in o["checks"].items() if k != "turns") for o in outcomes]
        metrics |= {"turn_accuracy": _rate([t["passed"] for t in turns] + finals), "n_turns": len(turns) + len(finals),
                    "failed_turn_tools": dict(Counter(",".join(t["tools"]) or "(none)" for t in turns
                                                      if not t["passed"]))}
        for f in failures:
            o = next(x for x in outcomes if x["id"] == f["id"])
            f["turns_failed"] = [t["turn"] for t in o.get("turns") or [] if not t["passed"]]
    metrics["failures"] = failures
    # run from an exported snapshot of a commit (no .git), the commit is named by GALEN_SNAPSHOT_COMMIT
    snapshot = os.environ.get("GALEN_SNAPSHOT_COMMIT")
    how = ("oracle routing: the suite's guideline turns go to search_guidelines, the rest to the semantic router"
           if oracle else "semantic routing")
    write_result(f"{name}.{split}" + (".oracle_routing" if oracle else ""), metrics, n=len(outcomes), split=split,
                 suite=path, extra={"snapshot_commit": snapshot} if snapshot else None,
                 notes=f"python scripts/measure_guideline_decisions.py {split}{' --oracle-routing' if oracle else ''}: "
                       f"embedded backend, {how}, template writer, confirmation accepted (the harness default); a "
                       "case passes only if every check it names passes (threads: every checked turn)")
    return metrics


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    oracle = "--oracle-routing" in sys.argv[1:]
    split = args[0] if args else "dev"
    if split not in ("dev", "test"):
        raise SystemExit("usage: measure_guideline_decisions.py dev|test [--oracle-routing]")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="galen-gd-") as tmp:
        for name in ("guideline_decisions", "threads"):
            m = measure(name, split, Path(tmp) / name, oracle)
            print(f"{name}.{split}: accuracy {m['accuracy']} " + (f"turns {m['turn_accuracy']} (n={m['n_turns']})"
                                                                   if "turn_accuracy" in m else ""))


if __name__ == "__main__":
    main()
