"""A scripted tool-calling chat model for graph tests: returns the given messages in order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict, Field


class ScriptedChatModel(BaseChatModel):
    """Replies with ``script`` in order (the last one repeats); records what it was sent."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    script: list[AIMessage]
    calls: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        i = min(len(self.calls), len(self.script) - 1)
        self.calls.append({"messages": messages, "tools": kwargs.get("tools")})
        msg = self.script[i]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=msg.content, tool_calls=list(msg.tool_calls)))])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable:
        return self.bind(tools=list(tools), **kwargs)

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Runnable:
        """The scripted reply's content, read as JSON (as the real backends' constrained output)."""
        return self.bind(json_schema=schema) | RunnableLambda(lambda m: json.loads(str(m.content)))


def tool_call(name: str, **args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{name}_{len(args)}", "type": "tool_call"}])
