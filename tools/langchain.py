"""The catalogue as OpenAI-format tool schemas, for the `llm` routing policy's ``bind_tools``."""

from __future__ import annotations

from typing import Any

from langchain_core.utils.function_calling import convert_to_openai_tool

from tools.registry import available_tools


def as_langchain_tools(names: list[str] | None = None) -> list[dict[str, Any]]:
    """OpenAI tool dicts (name, description, JSON-schema parameters) for the available tools."""
    out = []
    for tool in available_tools():
        if names is not None and tool.name not in names:
            continue
        spec = convert_to_openai_tool(tool.args_model)
        spec["function"]["name"] = tool.name
        spec["function"]["description"] = tool.description
        out.append(spec)
    return out
