"""The semantic router: nearest labelled exemplars (MiniLM embeddings) choose the tool set.

DATA.md measured this approach at 11/12 on a 6-tool probe where the embedded LLM managed at
most 8/12; its one miss had a small margin, so a small margin is reported as uncertain.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

EXEMPLARS_FILE = "route_exemplars.yaml"


@dataclass(frozen=True)
class RouteDecision:
    """The router's choice and the evidence for it."""

    tools: tuple[str, ...]
    score: float  # similarity of the nearest exemplar of the chosen tool set
    margin: float  # gap to the best competing tool set
    nearest: str  # the exemplar text that decided
    candidates: list[tuple[tuple[str, ...], float]] = field(default_factory=list)  # best first

    def ranked_tools(self) -> list[str]:
        """Single tools in order of their best score (for the hybrid policy's candidate list)."""
        out: list[str] = []
        for tools, _ in self.candidates:
            for t in tools:
                if t not in out:
                    out.append(t)
        return out


@dataclass(frozen=True)
class Exemplars:
    texts: list[str]
    labels: list[tuple[str, ...]]
    digest: str


def load_exemplars(path: Path | None = None) -> Exemplars:
    """Exemplars from the YAML data file (the packaged one by default)."""
    raw = path.read_text() if path else resources.files("agent.data").joinpath(EXEMPLARS_FILE).read_text()
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    for group in yaml.safe_load(raw):
        label = tuple(group["tools"])
        for t in group["texts"]:
            texts.append(t)
            labels.append(label)
    return Exemplars(texts, labels, hashlib.sha256(raw.encode()).hexdigest()[:16])


class SemanticRouter:
    """kNN over exemplar embeddings; one instance per process is enough (it holds no user state)."""

    def __init__(self, exemplars: Exemplars | None = None) -> None:
        self.exemplars = exemplars or load_exemplars()
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def _matrix(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                from knowledge.embeddings import embed

                self._vectors = embed(self.exemplars.texts)
            return self._vectors

    def route(self, question: str) -> RouteDecision:
        from knowledge.embeddings import embed

        sims = self._matrix() @ embed([question])[0]
        best: dict[tuple[str, ...], tuple[float, int]] = {}
        for i, s in enumerate(sims):
            label = self.exemplars.labels[i]
            if label not in best or s > best[label][0]:
                best[label] = (float(s), i)
        ranked = sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)
        (top_label, (top_score, top_i)) = ranked[0]
        runner_up = ranked[1][1][0] if len(ranked) > 1 else 0.0
        return RouteDecision(
            tools=top_label,
            score=top_score,
            margin=top_score - runner_up,
            nearest=self.exemplars.texts[top_i],
            candidates=[(label, score) for label, (score, _) in ranked],
        )


@lru_cache(maxsize=1)
def default_router() -> SemanticRouter:
    return SemanticRouter()
