"""The scope and refusal policy, checked before any tool runs.

Rules are data (``agent/data/policy.yaml``): each has an id, a reason, a safe alternative and
regular expressions; a request is declined when any pattern of a rule matches and none of its
``allow`` patterns do (so "how does sarin inhibit acetylcholinesterase" stays answerable science).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    reason: str
    alternative: str
    patterns: tuple[re.Pattern[str], ...]
    allow: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    raw = yaml.safe_load(resources.files("agent.data").joinpath("policy.yaml").read_text())
    rules = []
    for r in raw["rules"]:
        rules.append(
            Rule(
                id=r["id"],
                category=r["category"],
                reason=r["reason"],
                alternative=r["alternative"],
                patterns=tuple(re.compile(p, re.IGNORECASE) for p in r["patterns"]),
                allow=tuple(re.compile(p, re.IGNORECASE) for p in r.get("allow", [])),
            )
        )
    return tuple(rules)


def check_request(question: str) -> dict[str, Any] | None:
    """The first rule the request breaks, as ``{"rule", "category", "message", "alternative"}``."""
    text = " ".join(question.split())
    for rule in load_rules():
        if any(p.search(text) for p in rule.patterns) and not any(a.search(text) for a in rule.allow):
            return {"rule": rule.id, "category": rule.category, "message": rule.reason, "alternative": rule.alternative}
    return None


def refusal_text(refusal: dict[str, Any]) -> str:
    return f"I can't help with that: {refusal['message']} {refusal['alternative']}".strip()
