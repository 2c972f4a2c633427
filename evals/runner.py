"""Run a suite's cases through the agent: one thread per case, history first, in one or N processes.

Each worker process builds its own :class:`agent.runner.Agent` once and scores its cases itself
(RDKit checks included), so only small JSON-able outcomes travel back to the parent. The same
``run_case`` is what a Ray task would call on a cluster (see ``evals/README.md``).
"""

from __future__ import annotations

import os
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from evals.checks import score_case
from galen.errors import GalenError
from galen.settings import Settings
from specialists.splits import seed_everything  # the one owner of seeds (re-exported for the harness)

AgentFactory = Callable[[Settings], Any]
_QUESTION_KEEP = 300  # characters of the question kept in results.jsonl (the 100k case stays readable)
_WORKER: dict[str, Any] = {}


def default_agent(settings: Settings) -> Any:
    """The real agent (what ``galen eval`` uses)."""
    from agent.runner import Agent

    return Agent(settings)


def _error_record(e: BaseException, expected: bool) -> dict[str, Any]:
    if isinstance(e, GalenError):
        return {**e.to_dict(), "kind": e.kind, "expected": True}
    tail = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:])
    return {"type": type(e).__name__, "message": str(e)[:500], "kind": "unexpected", "expected": expected,
            "traceback": tail[-1500:]}


def _call_record(call: Any) -> dict[str, Any]:
    c = call.model_dump() if hasattr(call, "model_dump") else dict(call)
    result = c.get("result") or {}
    return {"name": c.get("name"), "arguments": c.get("arguments") or {}, "ok": c.get("ok"), "error": c.get("error"),
            "result": result, "duration_s": c.get("duration_s")}


def run_case(agent: Any, case: dict[str, Any], *, dry_run: bool = False, run_tag: str = "") -> dict[str, Any]:
    """Ask one case (its history first, in the same thread) and return its scored outcome.

    Expected failures (``GalenError``) are recorded as clean errors; anything else is recorded as
    an unexpected error of this case and never propagates, so one bad case cannot stop a run.
    """
    thread_id = f"eval-{run_tag or uuid.uuid4().hex[:8]}-{case['id']}"[:120]
    question = case["question"]
    outcome: dict[str, Any] = {
        "id": case["id"], "group": case.get("group"),
        "question": question if len(question) <= _QUESTION_KEEP else question[:_QUESTION_KEEP] + "…",
        "question_chars": len(question), "attachments": [os.path.basename(a) for a in case.get("attachments", [])],
        "expect": case.get("expect") or {}, "thread_id": thread_id, "tool_calls": [], "answer": None, "citations": [], "verified": None,
        "refusal": None, "warnings": [], "error": None, "history_errors": [], "latency_s": None,
    }
    # The harness accepts the facts it reads (like `galen ask --yes`) unless a case tests the pause itself.
    confirm = "ask" if case.get("confirm") == "ask" else "accept"
    started = time.perf_counter()
    try:
        history = case.get("history") or []
        files = case.get("history_attachments") or [[] for _ in history]
        expects = case.get("expect_turns") or [{} for _ in history]
        for i, (earlier, atts, exp) in enumerate(zip(history, files, expects, strict=False), start=1):
            try:
                turn = agent.ask(earlier, atts, thread_id=thread_id, owner="eval", confirm=confirm)
            except GalenError as e:  # a refused earlier turn is part of the conversation, not a crash
                outcome["history_errors"].append(e.to_dict())
                turn = None
            if exp:  # a turn with its own checks: score it as a case of its own
                outcome.setdefault("turns", []).append(_turn_outcome(i, earlier, turn, exp))
        if dry_run:
            result = agent.plan(question, case.get("attachments", []), thread_id=thread_id if case.get("history") else None,
                                owner="eval")
        else:
            result = agent.ask(question, case.get("attachments", []), thread_id=thread_id, owner="eval", confirm=confirm)
        outcome.update(
            tool_calls=[_call_record(c) for c in result.tool_calls], answer=result.answer,
            citations=[{"n": c.n, "source_id": c.source_id, "section": c.section, "title": c.title} for c in result.citations],
            verified=result.verified, verification_method=(getattr(result, "verification", None) or {}).get("method"),
            refusal=result.refusal, warnings=list(result.warnings),
            latency_s=result.latency_s, demo_model=bool(getattr(result, "demo_model", False)),
        )
    except GalenError as e:
        outcome["error"] = _error_record(e, True)
    except Exception as e:  # noqa: BLE001 - the harness must survive any bug in the system under test
        outcome["error"] = _error_record(e, False)
    outcome["wall_s"] = round(time.perf_counter() - started, 3)
    if outcome["latency_s"] is None:  # failed turns still took time; count it
        outcome["latency_s"] = outcome["wall_s"]
    try:
        outcome["checks"] = score_case(outcome, case)
    except Exception as e:  # noqa: BLE001 - a scoring bug marks this case, it does not end the run
        outcome["checks"] = {"scoring": {"passed": False, "detail": f"scoring failed: {type(e).__name__}: {e}"}}
    outcome["passed"] = all(c.get("passed") is not False for c in outcome["checks"].values())
    return slim(outcome)


def _turn_outcome(n: int, question: str, result: Any, expect: dict[str, Any]) -> dict[str, Any]:
    """One checked earlier turn of a thread: its answer, calls, citations and checks."""
    rec: dict[str, Any] = {"tool_calls": [], "answer": None, "citations": [], "verified": None, "refusal": None,
                           "error": None}
    if result is not None:
        rec.update(tool_calls=[_call_record(c) for c in result.tool_calls], answer=result.answer,
                   citations=[{"n": c.n, "source_id": c.source_id, "section": c.section} for c in result.citations],
                   verified=result.verified, refusal=result.refusal)
    else:
        rec["error"] = {"type": "refused", "message": "the turn raised", "kind": "expected"}
    checks = score_case(rec, {"expect": expect})
    return {"turn": n, "question": question[:_QUESTION_KEEP], "answer": rec["answer"], "checks": checks,
            "tools": [c["name"] for c in rec["tool_calls"]], "passed": all(c.get("passed") is not False
                                                                            for c in checks.values())}


def slim(outcome: dict[str, Any]) -> dict[str, Any]:
    """Drop bulky tool data from an outcome (checks are already computed), keeping model versions."""
    versions: dict[str, str] = {}
    calls = []
    for c in outcome["tool_calls"]:
        res = c.get("result") or {}
        versions.update({f"{c['name']}.{k}": str(v) for k, v in (res.get("versions") or {}).items()})
        calls.append({**{k: c.get(k) for k in ("name", "arguments", "ok", "error", "duration_s")},
                      "summary": res.get("summary"), "demo_model": res.get("demo_model")})
    return {**outcome, "tool_calls": calls, "versions": versions}


# --- process pool ---------------------------------------------------------------------------
def _init_worker(settings: Settings, factory: AgentFactory, seed: int) -> None:
    seed_everything(seed)
    try:
        import torch

        torch.set_num_threads(1)  # N workers share the cores; one thread each avoids oversubscription
    except ImportError:
        pass
    _WORKER["agent"] = factory(settings)


def _worker_case(case: dict[str, Any], dry_run: bool, run_tag: str) -> dict[str, Any]:
    return run_case(_WORKER["agent"], case, dry_run=dry_run, run_tag=run_tag)


def run_cases(
    cases: Sequence[dict[str, Any]],
    settings: Settings,
    *,
    make_agent: AgentFactory = default_agent,
    workers: int = 1,
    dry_run: bool = False,
    seed: int = 0,
    progress: bool = True,
    desc: str = "eval",
    ray_address: str | None = None,
) -> list[dict[str, Any]]:
    """Run every case and return their outcomes in suite order.

    Args:
        cases: cases from :func:`evals.suite.load_suite`.
        settings: the agent's settings (policy, backend, data directory).
        make_agent: builds one agent per process; must be a module-level function when ``workers > 1``.
        workers: processes to run cases in (1 = in this process).
        dry_run: plan the tool calls only (routing and arguments), without running tools.
        seed: seeds Python, NumPy and torch in every process.
        progress: show a tqdm progress bar.
        desc: the progress bar's label.
        ray_address: run the cases on this Ray cluster (``workers`` actors; :mod:`evals.ray_runner`).
    """
    from tqdm import tqdm

    run_tag = uuid.uuid4().hex[:8]
    bar = tqdm(total=len(cases), desc=desc, unit="case", disable=not progress)
    order = {c["id"]: i for i, c in enumerate(cases)}
    outcomes: list[dict[str, Any]] = []
    try:
        if ray_address:
            from evals.ray_runner import run_cases_on_ray

            _prepare_shared_stores(settings)
            outcomes = run_cases_on_ray(ray_address, list(cases), settings, make_agent, workers, dry_run, seed, run_tag,
                                        on_done=lambda: bar.update(1), init_worker=_init_worker,
                                        run_case=_worker_case, lost_case=_lost_case)
        elif workers <= 1:
            seed_everything(seed)
            agent = make_agent(settings)
            for case in cases:
                outcomes.append(run_case(agent, case, dry_run=dry_run, run_tag=run_tag))
                bar.update(1)
            close = getattr(agent, "close", None)
            if callable(close):
                close()
        else:
            _prepare_shared_stores(settings)
            import multiprocessing as mp

            # spawn: torch, llama.cpp and SQLite handles must not be inherited through fork
            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                                     initargs=(settings, make_agent, seed)) as pool:
                futures = {pool.submit(_worker_case, case, dry_run, run_tag): case for case in cases}
                for fut in as_completed(futures):
                    try:
                        outcomes.append(fut.result())
                    except Exception as e:  # noqa: BLE001 - a dead worker (segfault, OOM) fails its cases only
                        outcomes.append(_lost_case(futures[fut], e))
                    bar.update(1)
    finally:
        bar.close()
    return sorted(outcomes, key=lambda o: order[o["id"]])


def _lost_case(case: dict[str, Any], e: BaseException) -> dict[str, Any]:
    """The outcome of a case whose worker process died before it could answer."""
    err = _error_record(e, False)
    return {"id": case["id"], "group": case.get("group"), "question": case["question"][:_QUESTION_KEEP],
            "expect": case.get("expect") or {}, "tool_calls": [], "answer": None, "citations": [], "verified": None,
            "refusal": None, "error": err, "latency_s": None, "versions": {},
            "checks": {"crash": {"passed": False, "detail": f"worker process failed: {err['type']}: {err['message']}"}},
            "passed": False}


def _prepare_shared_stores(settings: Settings) -> None:
    """Index the knowledge store once, here, so parallel workers only read it."""
    if not settings.kb_auto_index:
        return
    try:
        from knowledge.retrieval import search
    except ImportError:
        return
    try:
        search("warm up", k=1, settings=settings)
    except GalenError:
        pass  # an unavailable store is reported by each case's own warnings
