"""What a turn returns: the structured result ``galen ask --json`` prints and the UI renders."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
    #: Every fact that fed (or waits to feed) a risk model: tool, name, value, source, evidence.
    facts: list[dict[str, Any]] = Field(default_factory=list)
    #: The paused turn's question to the clinician (facts to confirm, or missing facts), else None.
    pending: dict[str, Any] | None = None


