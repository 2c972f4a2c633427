"""A small JSON API beside the chat UI, for scripts, load tests and other front ends.

``POST /api/ask`` runs one turn; ``GET /api/threads`` lists the caller's threads;
``GET /api/threads/{id}`` returns one thread's messages; ``GET /api/health``. The caller is the
HTTP Basic user when a users file is configured (required then), else the ``X-Galen-User``
header (default "api"), so each caller sees only its own threads.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Header, HTTPException
from pydantic import BaseModel, Field

from galen.errors import GalenError
from galen.settings import Settings


class AskRequest(BaseModel):
    question: str = Field(max_length=200_000)
    thread_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def _caller(settings: Settings, authorization: str | None, x_galen_user: str | None, checker: Any) -> str:
    if checker is None:
        return (x_galen_user or "api")[:64]
    if not authorization or not authorization.lower().startswith("basic "):
        raise HTTPException(401, "login required", headers={"WWW-Authenticate": "Basic"})
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as e:
        raise HTTPException(401, "malformed credentials") from e
    if not checker(user, password):
        raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Basic"})
    return user


def build_router(agent: Any, settings: Settings) -> APIRouter:
    """Routes bound to one process-wide agent (it holds no per-user state)."""
    checker = None
    if settings.ui_users_file:
        from ui.auth import make_checker

        checker = make_checker(settings.ui_users_file)
    router = APIRouter(prefix="/api")

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.post("/ask")
    def ask(req: AskRequest, authorization: str | None = Header(None), x_galen_user: str | None = Header(None)) -> dict[str, Any]:
        owner = _caller(settings, authorization, x_galen_user, checker)
        try:
            result = agent.ask(req.question, thread_id=req.thread_id, owner=owner)
        except GalenError as e:
            raise HTTPException(422, e.user_message()) from e
        return result.model_dump(mode="json")

    @router.get("/threads")
    def threads(authorization: str | None = Header(None), x_galen_user: str | None = Header(None)) -> list[dict[str, Any]]:
        return agent.list_threads(_caller(settings, authorization, x_galen_user, checker))

    @router.get("/threads/{thread_id}")
    def thread(thread_id: str, authorization: str | None = Header(None), x_galen_user: str | None = Header(None)) -> list[dict[str, str]]:
        owner = _caller(settings, authorization, x_galen_user, checker)
        try:
            return agent.history(thread_id, owner=owner)
        except GalenError as e:
            raise HTTPException(404, e.user_message()) from e

    return router
