"""Layers (d) and (e): what the person is told, in the question's language.

A refusal names its category and offers the safe alternative; a self-harm signal gets a caring
answer that points to urgent help and contains no numbers. Text lives in
``agent/data/safety_messages.yaml`` (English, Chinese, Spanish, French, German, Italian, Portuguese).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from agent.safety.lexicon import read_data

DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=1)
def _messages() -> dict[str, Any]:
    return read_data("safety_messages.yaml")


def category_text(category: str, language: str) -> dict[str, str]:
    """``{"name", "message", "alternative"}`` for a category in ``language`` (English if missing)."""
    cats = _messages()["categories"]
    entry = cats.get(category) or {}
    return dict(entry.get(language) or entry.get(DEFAULT_LANGUAGE) or {})


def self_harm_text(language: str) -> str:
    texts = _messages()["self-harm"]
    return str(texts.get(language) or texts[DEFAULT_LANGUAGE])


def render(refusal: dict[str, Any]) -> str:
    """The reply for a refusal dict (also one without ``language`` or ``kind``, as older code made)."""
    if refusal.get("kind") == "self-harm":
        return str(refusal.get("message") or self_harm_text(refusal.get("language") or DEFAULT_LANGUAGE))
    lang = refusal.get("language") or DEFAULT_LANGUAGE
    templates = _messages()["templates"]
    template = templates.get(lang) or templates[DEFAULT_LANGUAGE]
    name = refusal.get("category_name")
    if not name:  # a refusal made outside this policy: keep the plain English form
        return f"I can't help with that: {refusal.get('message', '')} {refusal.get('alternative', '')}".strip()
    return template.format(name=name, message=refusal.get("message", ""), alternative=refusal.get("alternative", "")).strip()
