"""The policy's shared words (``agent/data/safety_lexicon.yaml``), compiled once on first use."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


def read_data(name: str) -> Any:
    """A YAML file of ``agent/data``."""
    return yaml.safe_load(resources.files("agent.data").joinpath(name).read_text(encoding="utf-8"))


def fold(text: str) -> str:
    """Accents dropped from Latin letters ("tabún" -> "tabun", "Übersetze" -> "Ubersetze"); other
    scripts untouched. Text and patterns are both folded, so a request matches with or without accents."""
    out = []
    for ch in text:
        if ord(ch) < 0x80 or not unicodedata.category(ch).startswith("L"):
            out.append(ch)
            continue
        base = unicodedata.normalize("NFD", ch)
        out.append(base[0] if base[0].isascii() and base[0].isalpha() else ch)
    return "".join(out)


def compile_all(patterns: list[str], where: str) -> tuple[re.Pattern[str], ...]:
    """Compile a data file's patterns (accent-folded, case-insensitive); a broken one names its file and entry."""
    out = []
    for p in patterns or []:
        try:
            out.append(re.compile(fold(p), re.IGNORECASE))
        except re.error as e:
            raise ValueError(f"{where}: invalid pattern {p!r}: {e}") from e
    return tuple(out)


def first_match(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    for p in patterns:
        m = p.search(text)
        if m:
            return m.group(0)
    return None


@dataclass(frozen=True)
class Intent:
    name: str
    strong: bool
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]

    def find(self, clause: str) -> str | None:
        """The words in ``clause`` that ask for this intent, or None."""
        hit = first_match(self.patterns, clause)
        if hit is None or first_match(self.unless, clause) is not None:
            return None
        return hit


@dataclass(frozen=True)
class Lexicon:
    intents: dict[str, Intent]
    exemptions: dict[str, tuple[re.Pattern[str], ...]]
    references: tuple[re.Pattern[str], ...]
    framing: dict[str, tuple[re.Pattern[str], ...]]
    vocabulary: frozenset[str]
    typo_targets: frozenset[str]

    def intents_in(self, clause: str, names: tuple[str, ...] | None = None) -> dict[str, str]:
        """The intents ``clause`` asks for (name -> the words), limited to ``names`` when given."""
        out = {}
        for name, intent in self.intents.items():
            if names is not None and name not in names:
                continue
            hit = intent.find(clause)
            if hit is not None:
                out[name] = hit
        return out

    def exemption_in(self, clause: str, names: tuple[str, ...] | None = None) -> str | None:
        for name, patterns in self.exemptions.items():
            if names is not None and name not in names:
                continue
            hit = first_match(patterns, clause)
            if hit is not None:
                return hit
        return None

    def refers_back(self, clause: str) -> bool:
        return first_match(self.references, clause) is not None

    def harmful(self, found: dict[str, str], clause: str, exempt: tuple[str, ...] | None = None) -> dict[str, str]:
        """Harm wins: the intents of ``found`` that stand. A strong intent always stands; weak
        ones stand unless an exemption matches the same clause."""
        strong = {k: v for k, v in found.items() if self.intents[k].strong}
        if strong:
            return found
        if found and self.exemption_in(clause, exempt) is None:
            return found
        return {}


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    raw = read_data("safety_lexicon.yaml")
    where = "agent/data/safety_lexicon.yaml"
    intents = {}
    for name, spec in raw["intents"].items():
        if spec.get("strength") not in ("strong", "weak"):
            raise ValueError(f"{where}: intent {name!r} needs strength: strong or weak")
        intents[name] = Intent(name, spec["strength"] == "strong", compile_all(spec["patterns"], f"{where} intent {name}"),
                               compile_all(spec.get("unless") or [], f"{where} intent {name} unless"))
    return Lexicon(
        intents=intents,
        exemptions={k: compile_all(v, f"{where} exemption {k}") for k, v in raw["exemptions"].items()},
        references=compile_all(raw["references"], f"{where} references"),
        framing={k: compile_all(v, f"{where} framing {k}") for k, v in raw["framing"].items()},
        vocabulary=frozenset(w.lower() for w in raw["vocabulary"]),
        typo_targets=frozenset(w.lower() for w in raw.get("typo_targets") or ()),
    )
