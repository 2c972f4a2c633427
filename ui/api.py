"""A small JSON API beside the chat UI, for scripts, load tests and other front ends.

``POST /api/ask`` runs one turn; ``POST /api/plan`` returns the tool calls a turn would make
(dry run); ``GET /api/threads`` lists the caller's threads; ``GET /api/threads/{id}`` returns one
thread's messages; ``GET /api/threads/{id}/files`` lists the files its latest turn produced and
``GET /api/threads/{id}/files/{n}`` downloads one; ``POST /api/threads/{id}/confirm`` answers a
turn paused for the clinician (``pending`` in a result: accept, edited values, or abandon; a text
reply can also go to ``/api/ask`` with the thread id); ``GET /api/health``.

Identity comes from authentication only. With a users file every call needs HTTP Basic
credentials (throttled and locked out after repeated failures, see :class:`ui.auth.LoginGuard`);
without one Galen is single-user and every caller is the one local identity (no header can pick
another). A thread id that does not exist and one that belongs to someone else give the same
404, and the attempt is audited.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from galen.errors import GalenError, NotFound
from galen.settings import Settings

LOCAL_OWNER = "local"


class AskRequest(BaseModel):
    question: str = Field(max_length=200_000)
    thread_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    #: true: accept the facts read from the question without pausing (like ``galen ask --yes``)
    yes: bool = False


class ConfirmRequest(BaseModel):
    """The reply to a paused turn: accept, edited values, or leave the model unrun (a text reply
    can also be sent to ``/api/ask`` with the thread id)."""

    accept: bool = False
    values: dict[str, str | float | int | bool] = Field(default_factory=dict, max_length=40)
    abandon: bool = False


def _client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _caller(authorization: str | None, checker: Any, client: str | None) -> str:
    if checker is None:
        return LOCAL_OWNER
    if not authorization or not authorization.lower().startswith("basic "):
        raise HTTPException(401, "login required", headers={"WWW-Authenticate": "Basic"})
    try:
        user, _, password = base64.b64decode(authorization[6:], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError, binascii.Error) as e:
        raise HTTPException(401, "malformed credentials", headers={"WWW-Authenticate": "Basic"}) from e
    if not checker.check(user, password, client=client):
        raise HTTPException(401, "wrong username or password, or too many failed attempts",
                            headers={"WWW-Authenticate": "Basic"})
    return f"user:{user}"


def build_router(agent: Any, settings: Settings, checker: Any = None) -> APIRouter:
    """Routes bound to one process-wide agent (it holds no per-user state).

    Args:
        checker: the :class:`ui.auth.Authenticator` shared with the UI's login (one lockout
            state for both doors); made from the settings' users file when not given.
    """
    if checker is None and settings.ui_users_file:
        from ui.auth import Authenticator, LoginGuard

        checker = Authenticator(settings.ui_users_file,
                                LoginGuard(lock_after=settings.login_max_failures, lock_s=settings.login_lockout_s))
    router = APIRouter(prefix="/api")

    def who(request: Request, authorization: str | None) -> str:
        return _caller(authorization, checker, _client_address(request))

    def thread_errors(e: GalenError) -> HTTPException:
        return HTTPException(404 if isinstance(e, NotFound) else 422, e.user_message())

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.post("/ask")
    def ask(req: AskRequest, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        owner = who(request, authorization)
        try:
            result = agent.ask(req.question, thread_id=req.thread_id, owner=owner, create=False,
                               confirm="accept" if req.yes else "ask")
        except GalenError as e:
            raise thread_errors(e) from e
        return result.model_dump(mode="json")

    @router.post("/threads/{thread_id}/confirm")
    def confirm(thread_id: str, req: ConfirmRequest, request: Request,
                authorization: str | None = Header(None)) -> dict[str, Any]:
        owner = who(request, authorization)
        reply: dict[str, Any] = {"abandon": True} if req.abandon else {"values": req.values} if req.values else {"accept": True}
        try:
            result = None
            for kind, payload in agent.respond(thread_id, reply, owner=owner):
                if kind == "result":
                    result = payload
        except GalenError as e:
            raise thread_errors(e) from e
        return result.model_dump(mode="json") if result is not None else {}

    @router.post("/plan")
    def plan(req: AskRequest, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        owner = who(request, authorization)
        try:
            result = agent.plan(req.question, thread_id=req.thread_id, owner=owner)
        except GalenError as e:
            raise thread_errors(e) from e
        return result.model_dump(mode="json", include={"tool_calls", "refusal", "route", "thread_id", "latency_s"})

    @router.get("/threads")
    def threads(request: Request, authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        return agent.list_threads(who(request, authorization))

    @router.get("/threads/{thread_id}")
    def thread(thread_id: str, request: Request, authorization: str | None = Header(None)) -> list[dict[str, str]]:
        owner = who(request, authorization)
        try:
            return agent.history(thread_id, owner=owner)
        except GalenError as e:
            raise thread_errors(e) from e

    @router.get("/threads/{thread_id}/files")
    def files(thread_id: str, request: Request, authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        owner = who(request, authorization)
        try:
            arts = agent.artifacts(thread_id, owner=owner)
        except GalenError as e:
            raise thread_errors(e) from e
        return [{"n": i, "kind": a.get("kind"), "label": a.get("label"), "name": Path(a["path"]).name}
                for i, a in enumerate(arts)]

    @router.get("/threads/{thread_id}/files/{n}")
    def file(thread_id: str, n: int, request: Request, authorization: str | None = Header(None)) -> FileResponse:
        owner = who(request, authorization)
        try:
            arts = agent.artifacts(thread_id, owner=owner)
        except GalenError as e:
            raise thread_errors(e) from e
        if not 0 <= n < len(arts):
            raise HTTPException(404, f"There is no file {n} in this thread.")
        path = Path(arts[n]["path"]).resolve()
        # Only files the agent wrote into its own workspace are ever served from here.
        workspace = (settings.resolved_data_dir() / "workspace").resolve()
        if not path.is_file() or workspace not in path.parents:
            raise HTTPException(404, f"There is no file {n} in this thread.")
        return FileResponse(path, filename=path.name)

    return router
