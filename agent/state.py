"""The agent's state: what a LangGraph thread carries between steps and across turns.

Per-turn fields are reset by the intake step; ``messages`` and ``findings`` accumulate over the
thread (the checkpointer keeps them, so a thread survives a restart).
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


def _keep_recent(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings reducer: append, keep the 20 most recent (follow-ups need only recent ones)."""
    return (list(old or []) + list(new or []))[-20:]


class GalenState(TypedDict, total=False):
    """State of one conversation thread."""

    # --- thread-wide ---
    messages: Annotated[list[AnyMessage], add_messages]
    findings: Annotated[list[dict[str, Any]], _keep_recent]  # {"tool", "data", "turn", "question"} of successful calls
    turn: int

    # --- this turn (reset by intake) ---
    turn_id: str
    question: str
    new_attachments: list[dict[str, Any]]  # input: files stored for this turn (Attachment.to_dict())
    attachments: list[dict[str, Any]]  # this turn's files first, then the thread's earlier ones
    fresh_attachments: int  # how many of ``attachments`` came with this turn's message
    facts_text: str  # the question plus the earlier one it answers, when it supplies missing facts
    refusal: dict[str, Any] | None  # set by the policy step: {"rule", "message", "alternative"}
    planned: list[dict[str, Any]]  # {"id", "name", "arguments"} waiting for act
    calls: list[dict[str, Any]]  # executed: {"id","name","arguments","ok","error","result","duration_s"}
    route_info: dict[str, Any]  # policy, candidates, scores, margin, notes
    tool_rounds: int
    passages: list[dict[str, Any]]  # Passage.model_dump()
    draft: str  # what the writer (LLM or template) produced
    template: str  # the fully grounded templated answer
    answer: str  # what the person sees
    verified: bool
    verification: dict[str, Any]
    started_at: float
    warnings: list[str]
    pending: dict[str, Any] | None  # what the paused turn asks the clinician (agent.confirm.payload)
