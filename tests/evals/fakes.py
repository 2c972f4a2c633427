"""A fake tool-calling chat model that routes by the words of the question (one per eval run)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field

RAISE = "raise"


class RouteByQuestion(BaseChatModel):
    """First routing call of a turn: the tool call whose key occurs in the question; then stop.

    ``routes`` maps a phrase to ``(tool_name, arguments)``; the value ``"raise"`` makes the
    model raise a RuntimeError (a bug in the system under test); no matching phrase: no tool.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    routes: dict[str, Any] = Field(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "route-by-question"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        if isinstance(messages[-1], ToolMessage):  # the tools have run: stop calling tools
            return _reply(AIMessage(content=""))
        question = next((str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)), "").lower()
        for phrase, route in self.routes.items():
            if phrase.lower() in question:
                if route == RAISE:
                    raise RuntimeError("scripted failure inside the chat model")
                name, args = route
                return _reply(AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{name}", "type": "tool_call"}]))
        return _reply(AIMessage(content=""))

    def bind_tools(self, tools: Any, **kwargs: Any) -> Runnable:
        return self.bind(tools=list(tools), **kwargs)


def _reply(msg: AIMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=msg)])
