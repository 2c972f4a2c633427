"""LLM backends behind one LangChain chat-model interface (``bind_tools``, structured output)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from galen.errors import BackendUnavailable
from galen.settings import Settings


def build_chat_model(settings: Settings, **overrides: Any) -> BaseChatModel:
    """The chat model the settings ask for (not loaded until first used)."""
    if settings.llm_backend == "embedded":
        from agent.llm.embedded import ChatLlamaCpp, packaged_model_path

        path = settings.embedded_model_path or packaged_model_path(settings.embedded_model)
        return ChatLlamaCpp(
            model_path=str(path),
            model_name=settings.embedded_model if settings.embedded_model_path is None else path.name,
            n_ctx=settings.embedded_n_ctx,
            n_threads=settings.embedded_threads,
            temperature=settings.llm_temperature,
            max_tokens=settings.answer_max_tokens,
            **overrides,
        )
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        model=settings.openai_model,
        temperature=settings.llm_temperature,
        max_tokens=settings.answer_max_tokens,
        timeout=settings.openai_timeout_s,
        max_retries=1,
        **overrides,
    )


def describe_backend(settings: Settings) -> dict[str, str]:
    """Backend and model names for the doctor, the UI header and audit lines."""
    if settings.llm_backend == "embedded":
        model = str(settings.embedded_model_path.name) if settings.embedded_model_path else settings.embedded_model
        return {"backend": "embedded (llama.cpp)", "model": model}
    return {"backend": f"openai ({settings.openai_base_url})", "model": settings.openai_model}


def check_backend(settings: Settings, timeout_s: float = 5.0) -> None:
    """Fail fast, with one clear sentence, when the configured LLM cannot be reached or loaded.

    Raises:
        BackendUnavailable: the OpenAI-compatible server does not answer.
        ModelUnavailable: the embedded model or llama-cpp-python is missing.
    """
    if settings.llm_backend == "embedded":
        from agent.llm.embedded import packaged_model_path

        if settings.embedded_model_path is None:
            packaged_model_path(settings.embedded_model)
        elif not settings.embedded_model_path.is_file():
            raise BackendUnavailable(f"The embedded model file {settings.embedded_model_path} does not exist.")
        return
    _check_openai(settings.openai_base_url, settings.openai_api_key.get_secret_value(), timeout_s)




def _check_openai(base_url: str, api_key: str, timeout_s: float) -> None:
    import httpx

    url = base_url.rstrip("/") + "/models"
    try:
        r = httpx.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout_s)
    except httpx.HTTPError as e:
        raise BackendUnavailable(
            f"The OpenAI-compatible server at {base_url} cannot be reached ({type(e).__name__}).",
            hint="Start it (e.g. `vllm serve MODEL` or `python -m llama_cpp.server`) or set GALEN_LLM_BACKEND=embedded.",
        ) from e
    if r.status_code >= 400:
        raise BackendUnavailable(
            f"The OpenAI-compatible server at {base_url} answered HTTP {r.status_code} to {url}.",
            hint="Check GALEN_OPENAI_BASE_URL and GALEN_OPENAI_API_KEY.",
        )
