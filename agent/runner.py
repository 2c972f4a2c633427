"""The agent's front door: ask a question in a thread and get a structured turn result back.

Used by the CLI, the UI, the JSON API and the eval harness. Threads persist in a checkpointer
(SQLite in the data directory by default), so ``thread_id`` continues a conversation across
processes and restarts — including a turn paused for the clinician to confirm the facts a risk
model will run on (:mod:`agent.confirm`): the next message in that thread resumes it with
``Command(resume=...)``, in this process or another.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.types import Command

from agent.graph import build
from agent.nodes import AgentNodes
from agent.results import Citation, ToolCallRecord, TurnResult
from agent.threads import ThreadIndex, open_postgres, open_sqlite
from agent.workspace import store_attachment
from galen.errors import InvalidInput, NotFound
from galen.privacy import scrub
from galen.settings import Settings

__all__ = ["Agent", "TurnResult", "ToolCallRecord", "Citation", "validate_question", "MAX_QUESTION_CHARS"]

MAX_QUESTION_CHARS = 20_000
Confirm = Literal["ask", "accept"]


def validate_question(question: str) -> str:
    text = (question or "").strip()
    if not text:
        raise InvalidInput("The question is empty.", hint="Type a question, for example: What is the logP of CCO?")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInput(
            f"The question is {len(text):,} characters long; Galen accepts up to {MAX_QUESTION_CHARS:,}.",
            hint="Shorten it, or attach long material as a file.",
        )
    return text


class Agent:
    """Galen's agent for one process. Holds shared resources only; conversations live in threads."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        chat_model: BaseChatModel | None = None,
        router: Any = None,
        checkpointer: Any = None,
    ) -> None:
        from galen.settings import get_settings

        self.settings = settings or get_settings()
        self.nodes = AgentNodes(self.settings, chat_model=chat_model, router=router)
        self._lock = threading.Lock()
        self._saver_conn = None
        if self.settings.checkpointer == "postgres":
            self._conn, default_saver, param = open_postgres(self.settings)
        else:
            self._saver_conn, self._conn, default_saver, param = open_sqlite(self.settings)
        self.checkpointer = checkpointer or default_saver
        self.threads = ThreadIndex(self._conn, self._lock, param)
        self.graph = build(self.nodes, self.checkpointer)

    def close(self) -> None:
        self._conn.close()
        if self._saver_conn is not None:
            self._saver_conn.close()

    # --- access -----------------------------------------------------------------------------
    def check_access(self, thread_id: str, owner: str, *, must_exist: bool = True, action: str = "read") -> None:
        """Raise :class:`NotFound` unless ``thread_id`` is ``owner``'s (or, with ``must_exist=False``, new).

        A foreign thread and one that never existed give the same error; both attempts are
        written to the audit log (thread id, caller, action — no content).
        """
        existing = self.threads.owner(thread_id)
        if existing == owner or (existing is None and not must_exist):
            return
        self.nodes.audit_log.append({"event": "access_denied", "time": time.time(), "thread": thread_id,
                                     "caller": owner, "action": action,
                                     "reason": "foreign thread" if existing is not None else "no such thread"})
        raise NotFound(f"There is no thread {thread_id!r} for this user.",
                       hint="Start a new conversation, or pick one from your own list.")

    # --- turns ------------------------------------------------------------------------------
    def _text(self, question: str) -> str:
        # Raw text never reaches the thread store unless the settings allow it; the scrubber keeps
        # clinical facts (ages under 90, sizes, SMILES) so the tools still find what they need.
        return question if self.settings.keep_raw_text else scrub(question)

    def _begin(self, question: str, attachments: Sequence[Path | str], thread_id: str, owner: str, create: bool,
               action: str) -> tuple[Any, list[str]]:
        """The graph input for this message: a new turn, or the reply that resumes a paused one."""
        question = validate_question(question)
        self.check_access(thread_id, owner, must_exist=not create, action=action)
        text = self._text(question)
        notes: list[str] = []
        pending = self.pending(thread_id) if self.threads.owner(thread_id) is not None else None
        if pending is not None:
            if not attachments and not self._starts_new_request(thread_id, pending, text):
                self.threads.touch(thread_id, owner, scrub(question))
                return Command(resume=text), notes
            # Something else was asked instead of an answer: the paused call is left unrun, said so.
            self.graph.invoke(Command(resume={"abandon": True}), self._config(thread_id))
            notes.append("The facts shown before were not confirmed, so that model was not run.")
        stored = [store_attachment(Path(a), self.settings).to_dict() for a in attachments]
        self.threads.touch(thread_id, owner, scrub(question))
        return {"messages": [HumanMessage(content=text)], "question": text, "new_attachments": stored}, notes

    def _starts_new_request(self, thread_id: str, pending: dict[str, Any], text: str) -> bool:
        """Whether a message sent to a paused thread is a new request rather than a reply to the pause."""
        from agent.confirm import apply_reply
        from agent.policy import check_request

        if check_request(text):
            return True  # a harmful message is never fed to a paused model; the policy answers it
        planned = self.graph.get_state(self._config(thread_id)).values.get("planned") or []
        if not planned:
            return True
        from agent.confirm import CONFIRMABLE

        if planned[0]["name"] in CONFIRMABLE:
            if apply_reply(pending, planned[0], text)["outcome"] != "unrecognised":
                return False
        else:
            from tools.nodule_case import read_question

            read = read_question(text)
            if read.patient or read.nodules.nodules or len(text.split()) <= 6:
                return False  # facts, or a short answer: the reply the tool asked for
        decision = self.nodes.router.route(text)
        floor = self.settings.routing_min_similarity
        floor = getattr(decision, "floor", 0.35) if floor is None else floor
        return bool(decision.tools) and pending["tool"] not in decision.tools and decision.score >= floor + 0.1

    def _settle(self, thread_id: str, confirm: Confirm) -> None:
        """With ``confirm="accept"`` (``--yes``, the harness), accept what was read and go on."""
        if confirm != "accept":
            return
        for _ in range(8):
            pending = self.pending(thread_id)
            if pending is None or pending.get("kind") != "confirm":
                return
            self.graph.invoke(Command(resume={"accept": True}), self._config(thread_id))

    def ask(
        self,
        question: str,
        attachments: Sequence[Path | str] = (),
        thread_id: str | None = None,
        owner: str = "local",
        create: bool = True,
        confirm: Confirm = "ask",
    ) -> TurnResult:
        """Run one turn (or resume a paused one) and return its structured result.

        Args:
            thread_id: continue this thread (or start it under this id when ``create``).
            owner: the authenticated caller; a thread of another owner is :class:`NotFound`.
            create: ``False`` at the edges (API, CLI, UI), where a client names the thread: an
                unknown id is then :class:`NotFound` instead of a new thread.
            confirm: ``ask`` pauses for the clinician to confirm facts read from text (the result's
                ``pending`` says what to confirm; the next message in the thread answers it);
                ``accept`` takes what was read (``galen ask --yes``; missing facts are still asked for).
        """
        create = create or not thread_id  # a fresh id made here is always new
        thread_id = thread_id or uuid.uuid4().hex[:12]
        started = time.perf_counter()
        graph_input, notes = self._begin(question, attachments, thread_id, owner, create, "ask")
        self.graph.invoke(graph_input, self._config(thread_id))
        self._settle(thread_id, confirm)
        return self._finish(thread_id, time.perf_counter() - started, notes)

    def stream(
        self,
        question: str,
        attachments: Sequence[Path | str] = (),
        thread_id: str | None = None,
        owner: str = "local",
        create: bool = True,
        confirm: Confirm = "ask",
    ) -> Iterator[tuple[str, Any]]:
        """Run one turn (or resume a paused one), yielding events as they happen.

        Events: ``("step", node_name)`` when a step finishes, ``("call", record)`` for each tool
        call, ``("token", text)`` for each token the writer drafts (a draft the verifier may
        still replace), and finally ``("result", TurnResult)`` — whose ``pending`` is set when
        the turn paused for the clinician.
        """
        create = create or not thread_id
        thread_id = thread_id or uuid.uuid4().hex[:12]
        started = time.perf_counter()
        graph_input, notes = self._begin(question, attachments, thread_id, owner, create, "stream")
        yield from self._events(graph_input, thread_id, started, notes, confirm)

    def respond(self, thread_id: str, reply: dict[str, Any], owner: str = "local") -> Iterator[tuple[str, Any]]:
        """Answer a paused thread with a structured reply (the UI's card), yielding events like :meth:`stream`.

        Args:
            reply: ``{"accept": True}``, ``{"values": {fact: value}}`` or ``{"abandon": True}``.

        Raises:
            NotFound: not ``owner``'s thread. InvalidInput: the thread is not waiting for a reply.
        """
        self.check_access(thread_id, owner, must_exist=True, action="confirm")
        if self.pending(thread_id) is None:
            raise InvalidInput("This conversation is not waiting for a confirmation.",
                               hint="Ask the question again to see the facts to confirm.")
        clean = {k: v for k, v in reply.items() if k in ("accept", "values", "abandon")}
        yield from self._events(Command(resume=clean), thread_id, time.perf_counter(), [], "ask")

    def _events(self, graph_input: Any, thread_id: str, started: float, notes: list[str],
                confirm: Confirm) -> Iterator[tuple[str, Any]]:
        seen_calls = 0
        for mode, payload in self.graph.stream(graph_input, self._config(thread_id), stream_mode=["updates", "messages"]):
            if mode == "messages":
                chunk, meta = payload
                if meta.get("langgraph_node") == "answer" and getattr(chunk, "content", ""):
                    yield ("token", str(chunk.content))
                continue
            for node, delta in payload.items():
                if node.startswith("__") or not isinstance(delta, dict | type(None)):
                    continue  # "__interrupt__": the pause itself, reported by the result
                yield ("step", node)
                calls = (delta or {}).get("calls") or []
                for c in calls[seen_calls:]:
                    yield ("call", c)
                seen_calls = max(seen_calls, len(calls))
        self._settle(thread_id, confirm)
        yield ("result", self._finish(thread_id, time.perf_counter() - started, notes))

    def pending(self, thread_id: str) -> dict[str, Any] | None:
        """What a paused thread asks the clinician (``agent.confirm.payload``), or None."""
        snapshot = self.graph.get_state(self._config(thread_id))
        for task in snapshot.tasks or ():
            for intr in getattr(task, "interrupts", ()) or ():
                if isinstance(intr.value, dict):
                    return intr.value
        return None

    def _finish(self, thread_id: str, latency: float, notes: list[str]) -> TurnResult:
        state = self.graph.get_state(self._config(thread_id)).values
        pending = self.pending(thread_id)
        if pending is not None:
            self.nodes.audit_log.append({"event": "awaiting_confirmation", "time": time.time(), "thread": thread_id,
                                         "tool": pending.get("tool"), "kind": pending.get("kind"),
                                         "facts": [e.get("name") for e in pending.get("inputs") or []],
                                         "missing": pending.get("missing") or []})
        result = self._result(state, thread_id, latency, pending)
        if notes:
            result.warnings = notes + result.warnings
        return result

    def plan(self, question: str, attachments: Sequence[Path | str] = (), thread_id: str | None = None,
             owner: str = "local") -> TurnResult:
        """The tool calls the agent would make, without running them (``--dry-run``).

        With ``thread_id`` the plan uses that thread's findings and attachments, so the thread
        must be ``owner``'s (else :class:`NotFound`).
        """
        started = time.perf_counter()
        question = validate_question(question)
        if thread_id:
            self.check_access(thread_id, owner, must_exist=True, action="plan")
            pending = self.pending(thread_id)
            if pending is not None:  # the message would answer the pause: plan the paused call with the reply
                return self._plan_reply(thread_id, pending, self._text(question), started)
        question = self._text(question)
        stored = [store_attachment(Path(a), self.settings).to_dict() for a in attachments]
        state: dict[str, Any] = {"messages": [HumanMessage(content=question)], "question": question, "new_attachments": stored}
        if thread_id:
            state.update({k: v for k, v in self.graph.get_state(self._config(thread_id)).values.items() if k in ("findings", "attachments")})
        state.update(self.nodes.intake(state))  # type: ignore[arg-type]
        state.update(self.nodes.policy(state))  # type: ignore[arg-type]
        calls: list[dict[str, Any]] = []
        if not state.get("refusal"):
            routed = self.nodes.route(state)  # type: ignore[arg-type]
            calls = list(routed.get("calls") or []) + list(routed.get("planned") or [])
            state["route_info"] = routed.get("route_info", {})
        return TurnResult(
            answer=None,
            tool_calls=[ToolCallRecord(name=c["name"], arguments=c.get("arguments") or {}, ok=c.get("ok"), error=c.get("error")) for c in calls],
            thread_id=thread_id or "",
            latency_s=round(time.perf_counter() - started, 4),
            refusal=state.get("refusal"),
            route=state.get("route_info") or {},
        )

    def _plan_reply(self, thread_id: str, pending: dict[str, Any], text: str, started: float) -> TurnResult:
        from agent.confirm import apply_reply

        planned = self.graph.get_state(self._config(thread_id)).values.get("planned") or []
        calls: list[ToolCallRecord] = []
        if planned:
            out = apply_reply(pending, planned[0], text)
            ok = out["outcome"] in ("accepted", "corrected")
            calls.append(ToolCallRecord(name=planned[0]["name"], arguments=out["arguments"] or {},
                                        error=None if ok else {"kind": "not_confirmed", "message": out.get("message")}))
        return TurnResult(answer=None, tool_calls=calls, thread_id=thread_id,
                          latency_s=round(time.perf_counter() - started, 4), pending=pending,
                          route={"policy": "reply to a paused turn", "tools": [c.name for c in calls]})

    # --- threads ----------------------------------------------------------------------------
    def history(self, thread_id: str, owner: str = "local") -> list[dict[str, str]]:
        """The thread's messages as ``{"role", "content"}`` (user and assistant turns)."""
        self.check_access(thread_id, owner, must_exist=True, action="history")
        values = self.graph.get_state(self._config(thread_id)).values
        out = []
        for m in values.get("messages", []):
            if isinstance(m, HumanMessage):
                out.append({"role": "user", "content": str(m.content)})
            elif isinstance(m, AIMessage) and m.content:
                out.append({"role": "assistant", "content": str(m.content)})
        return out

    def list_threads(self, owner: str = "local") -> list[dict[str, Any]]:
        return self.threads.list(owner)

    def artifacts(self, thread_id: str, owner: str = "local") -> list[dict[str, Any]]:
        """The files the thread's latest turn produced (``path``, ``kind``, ``label``), owner-checked."""
        self.check_access(thread_id, owner, must_exist=True, action="files")
        state = self.graph.get_state(self._config(thread_id)).values
        return [a for c in state.get("calls") or [] if c.get("ok") for a in (c["result"].get("artifacts") or [])]

    @staticmethod
    def _config(thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": 50}

    @staticmethod
    def _result(state: dict[str, Any], thread_id: str, latency: float, pending: dict[str, Any] | None = None) -> TurnResult:
        calls = state.get("calls") or []
        passages = state.get("passages") or [] if pending is None else []
        artifacts = [a for c in calls if c.get("ok") for a in (c["result"].get("artifacts") or [])]
        warnings = [w for c in calls if c.get("ok") for w in (c["result"].get("warnings") or [])] + list(state.get("warnings") or [])
        facts = [{"tool": c["name"], **e} for c in calls if c.get("ok")
                 for e in ((c.get("arguments") or {}).get("inputs") or [])]
        if pending is not None:
            facts += [{"tool": pending.get("tool"), **e} for e in pending.get("inputs") or []]
        return TurnResult(
            answer=pending["text"] if pending is not None else state.get("answer", ""),
            tool_calls=[ToolCallRecord(**{k: c.get(k) for k in ("name", "arguments", "ok", "error", "result", "duration_s")}) for c in calls],
            citations=[
                Citation(n=i, source_id=p.get("source_id", ""), title=p.get("title", ""), section=p.get("section", ""), text=p.get("text", ""), link=p.get("link"))
                for i, p in enumerate(passages, start=1)
            ],
            artifacts=artifacts,
            verified=None if pending is not None else state.get("verified"),
            verification={"method": "awaiting-confirmation"} if pending is not None else state.get("verification") or {},
            thread_id=thread_id,
            latency_s=round(latency, 3),
            warnings=warnings,
            demo_model=any(c.get("ok") and c["result"].get("demo_model") for c in calls),
            refusal=state.get("refusal"),
            route=state.get("route_info") or {},
            facts=facts,
            pending=pending,
        )
