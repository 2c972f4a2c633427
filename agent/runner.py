"""The agent's front door: ask a question in a thread and get a structured turn result back.

Used by the CLI, the UI and the eval harness. Threads persist in a SQLite checkpointer in the
data directory, so ``thread_id`` continues a conversation across processes and restarts.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, Field

from agent.graph import build
from agent.nodes import AgentNodes
from agent.workspace import store_attachment
from galen.errors import InvalidInput, NotFound
from galen.privacy import scrub
from galen.settings import Settings

MAX_QUESTION_CHARS = 20_000


class ToolCallRecord(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool | None = None
    error: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    duration_s: float | None = None


class Citation(BaseModel):
    n: int
    source_id: str
    title: str
    section: str
    text: str
    link: str | None = None


class TurnResult(BaseModel):
    """One turn, as ``galen ask --json`` prints it."""

    answer: str | None
    tool_calls: list[ToolCallRecord]
    citations: list[Citation] = Field(default_factory=list)
    artifacts: list[dict[str, Any]] = Field(default_factory=list)
    verified: bool | None = None
    verification: dict[str, Any] = Field(default_factory=dict)
    thread_id: str
    latency_s: float
    warnings: list[str] = Field(default_factory=list)
    demo_model: bool = False
    refusal: dict[str, Any] | None = None
    route: dict[str, Any] = Field(default_factory=dict)


def _postgres(settings: Settings) -> tuple[Any, Any, str]:
    """A psycopg connection, LangGraph's Postgres saver on it (tables created), and the placeholder."""
    from galen.errors import BackendUnavailable, ConfigError

    if settings.postgres_url is None:
        raise ConfigError("checkpointer is 'postgres' but no postgres_url is set.", hint="Set GALEN_POSTGRES_URL.")
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ImportError as e:
        raise ConfigError("The Postgres checkpointer needs psycopg and langgraph-checkpoint-postgres.") from e
    url = settings.postgres_url.get_secret_value()
    try:
        saver_conn = psycopg.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        index_conn = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as e:
        raise BackendUnavailable("The PostgreSQL database for threads cannot be reached.", hint="Check GALEN_POSTGRES_URL.") from e
    saver = PostgresSaver(saver_conn)
    saver.setup()
    return _PgAdapter(index_conn), saver, "%s"


class _PgAdapter:
    """Gives a psycopg connection the execute/commit surface ThreadIndex uses (autocommit)."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def execute(self, sql: str, params: tuple = ()) -> Any:
        cur = self.raw.cursor()
        cur.execute(sql, params)
        return cur

    def commit(self) -> None:
        pass  # autocommit

    def close(self) -> None:
        self.raw.close()


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


class ThreadIndex:
    """Titles and owners of threads, beside the checkpointer in the same database.

    Works on a SQLite connection or a psycopg connection (``param`` is the placeholder style).
    """

    def __init__(self, conn: Any, lock: threading.Lock, param: str = "?") -> None:
        self.conn, self.lock, self.p = conn, lock, param
        with self.lock:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS galen_threads (thread_id TEXT PRIMARY KEY, owner TEXT, title TEXT, "
                "created DOUBLE PRECISION, updated DOUBLE PRECISION)"
            )
            conn.commit()

    def _q(self, sql: str) -> str:
        return sql.replace("?", self.p)

    def touch(self, thread_id: str, owner: str, title: str) -> None:
        now = time.time()
        with self.lock:
            self.conn.execute(
                self._q("INSERT INTO galen_threads VALUES (?, ?, ?, ?, ?) ON CONFLICT(thread_id) DO UPDATE SET updated=excluded.updated"),
                (thread_id, owner, title[:80], now, now),
            )
            self.conn.commit()

    def owner(self, thread_id: str) -> str | None:
        with self.lock:
            row = self.conn.execute(self._q("SELECT owner FROM galen_threads WHERE thread_id=?"), (thread_id,)).fetchone()
        return row[0] if row else None

    def list(self, owner: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                self._q("SELECT thread_id, title, created, updated FROM galen_threads WHERE owner=? ORDER BY updated DESC"), (owner,)
            ).fetchall()
        return [{"thread_id": r[0], "title": r[1], "created": r[2], "updated": r[3]} for r in rows]


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
        if self.settings.checkpointer == "postgres":
            self._conn, default_saver, param = _postgres(self.settings)
        else:
            from galen.files import touch_private

            # Created owner-only before SQLite opens it (chmod afterwards leaves a window).
            path = touch_private(self.settings.resolved_data_dir() / "threads.sqlite")
            # Two connections: the saver serialises its own use of one; the thread index has the
            # other. Sharing one across both locks let their transactions interleave under load.
            self._saver_conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
            self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
            from langgraph.checkpoint.sqlite import SqliteSaver

            default_saver, param = SqliteSaver(self._saver_conn), "?"
            # Create the tables and switch to WAL now, single-threaded: done lazily, the first
            # turns of several users race for the exclusive lock it needs ("database is locked").
            default_saver.setup()
        self.checkpointer = checkpointer or default_saver
        self.threads = ThreadIndex(self._conn, self._lock, param)
        self.graph = build(self.nodes, self.checkpointer)

    def close(self) -> None:
        self._conn.close()
        saver_conn = getattr(self, "_saver_conn", None)
        if saver_conn is not None:
            saver_conn.close()

    # --- turns ------------------------------------------------------------------------------
    def _inputs(self, question: str, attachments: Sequence[Path | str], thread_id: str, owner: str,
                create: bool = True, action: str = "ask") -> dict[str, Any]:
        question = validate_question(question)
        self.check_access(thread_id, owner, must_exist=not create, action=action)
        stored = [store_attachment(Path(a), self.settings).to_dict() for a in attachments]
        # Raw text never reaches the thread store unless the settings allow it; the scrubber keeps
        # clinical facts (ages under 90, sizes, SMILES) so the tools still find what they need.
        text = question if self.settings.keep_raw_text else scrub(question)
        self.threads.touch(thread_id, owner, scrub(question))
        return {"messages": [HumanMessage(content=text)], "question": text, "new_attachments": stored}

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

    def ask(
        self,
        question: str,
        attachments: Sequence[Path | str] = (),
        thread_id: str | None = None,
        owner: str = "local",
        create: bool = True,
    ) -> TurnResult:
        """Run one turn and return its structured result.

        Args:
            thread_id: continue this thread (or start it under this id when ``create``).
            owner: the authenticated caller; a thread of another owner is :class:`NotFound`.
            create: ``False`` at the edges (API, CLI, UI), where a client names the thread: an
                unknown id is then :class:`NotFound` instead of a new thread.
        """
        create = create or not thread_id  # a fresh id made here is always new
        thread_id = thread_id or uuid.uuid4().hex[:12]
        started = time.perf_counter()
        inputs = self._inputs(question, attachments, thread_id, owner, create=create, action="ask")
        state = self.graph.invoke(inputs, self._config(thread_id))
        return self._result(state, thread_id, time.perf_counter() - started)

    def stream(
        self,
        question: str,
        attachments: Sequence[Path | str] = (),
        thread_id: str | None = None,
        owner: str = "local",
        create: bool = True,
    ) -> Iterator[tuple[str, Any]]:
        """Run one turn, yielding events as they happen.

        Events: ``("step", node_name)`` when a step finishes, ``("call", record)`` for each tool
        call, ``("token", text)`` for each token the writer drafts (a draft the verifier may
        still replace), and finally ``("result", TurnResult)``.
        """
        create = create or not thread_id
        thread_id = thread_id or uuid.uuid4().hex[:12]
        started = time.perf_counter()
        inputs = self._inputs(question, attachments, thread_id, owner, create=create, action="stream")
        seen_calls = 0
        for mode, payload in self.graph.stream(inputs, self._config(thread_id), stream_mode=["updates", "messages"]):
            if mode == "messages":
                chunk, meta = payload
                if meta.get("langgraph_node") == "answer" and getattr(chunk, "content", ""):
                    yield ("token", str(chunk.content))
                continue
            for node, delta in payload.items():
                yield ("step", node)
                calls = (delta or {}).get("calls") or []
                for c in calls[seen_calls:]:
                    yield ("call", c)
                seen_calls = max(seen_calls, len(calls))
        state = self.graph.get_state(self._config(thread_id)).values
        yield ("result", self._result(state, thread_id, time.perf_counter() - started))

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
        question = question if self.settings.keep_raw_text else scrub(question)
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
    def _result(state: dict[str, Any], thread_id: str, latency: float) -> TurnResult:
        calls = state.get("calls") or []
        passages = state.get("passages") or []
        artifacts = [a for c in calls if c.get("ok") for a in (c["result"].get("artifacts") or [])]
        warnings = [w for c in calls if c.get("ok") for w in (c["result"].get("warnings") or [])] + list(state.get("warnings") or [])
        return TurnResult(
            answer=state.get("answer", ""),
            tool_calls=[ToolCallRecord(**{k: c.get(k) for k in ("name", "arguments", "ok", "error", "result", "duration_s")}) for c in calls],
            citations=[
                Citation(n=i, source_id=p.get("source_id", ""), title=p.get("title", ""), section=p.get("section", ""), text=p.get("text", ""), link=p.get("link"))
                for i, p in enumerate(passages, start=1)
            ],
            artifacts=artifacts,
            verified=state.get("verified"),
            verification=state.get("verification") or {},
            thread_id=thread_id,
            latency_s=round(latency, 3),
            warnings=warnings,
            demo_model=any(c.get("ok") and c["result"].get("demo_model") for c in calls),
            refusal=state.get("refusal"),
            route=state.get("route_info") or {},
        )
