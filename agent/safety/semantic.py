"""Layer (b): a semantic intent classifier over labelled exemplars.

Every clause of the request (framing set aside), and the whole request when it has several, is
embedded with the multilingual Universal Sentence Encoder (:func:`knowledge.embeddings.embed_multilingual`)
and compared by cosine similarity with the harmful and benign exemplars of
``agent/data/safety_exemplars.yaml``. A text's score is its similarity to the nearest harmful
exemplars minus its similarity to the nearest benign ones (each the mean of the top ``k``); the
layer fires when some text scores at least ``threshold`` and its harmful similarity is at least
``floor``. ``k``, ``threshold`` and ``floor`` are data (``agent/data/safety_semantic.yaml``),
chosen on the safety suite's dev split by ``scripts/measure_safety.py --choose-threshold``.

The exemplars are embedded once per process on first use; a request then costs one batched
embedding call (a few milliseconds per clause).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from agent.safety.lexicon import read_data

MAX_TEXTS = 24  # clauses embedded per request; with more, those that ask for something come first


@dataclass(frozen=True)
class Exemplars:
    harmful: np.ndarray  # (n_h, d) L2-normalised
    labels: tuple[str, ...]  # the rule of each harmful exemplar
    benign: np.ndarray  # (n_b, d)
    harmful_text: tuple[str, ...]
    benign_text: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    text: str
    score: float  # harmful similarity minus benign similarity
    harmful: float
    benign: float
    rule: str
    nearest: str


@dataclass(frozen=True)
class SemanticHit:
    rule: str
    clause: int  # index into the clauses, or -1 for the whole request
    score: Score
    learned: float | None = None  # the learned classifier's probability, when it is what fired

    @property
    def why(self) -> str:
        s = self.score
        if self.learned is not None:
            return (f"learned classifier: probability {self.learned:.2f} that the request is harmful; nearest "
                    f"harmful exemplar '{s.nearest}'")
        return f"nearest harmful exemplar '{s.nearest}' ({s.harmful:.2f} vs benign {s.benign:.2f}, margin {s.score:.2f})"


def exemplar_texts() -> tuple[list[tuple[str, str]], list[str]]:
    """``([(rule, text)], [benign text])``: the data file's, and as benign also every routing exemplar.

    The router's exemplars are requests Galen exists to answer (in English and Chinese, terse and
    wordy), so they are benign by definition; without them a short legitimate request in another
    language ("帮我分割一下这个病灶") can sit closer to a short harmful exemplar than to any benign one.
    """
    from agent.router import load_exemplars

    raw = read_data("safety_exemplars.yaml")
    harmful = [(rule, str(t)) for rule, texts in raw["harmful"].items() for t in texts]
    routed = list(dict.fromkeys(load_exemplars().texts))
    return harmful, list(dict.fromkeys([str(t) for t in raw["benign"]] + routed))


@lru_cache(maxsize=1)
def exemplars() -> Exemplars:
    from knowledge.embeddings import embed_multilingual

    harmful, benign = exemplar_texts()
    return Exemplars(embed_multilingual([t for _, t in harmful]), tuple(r for r, _ in harmful),
                     embed_multilingual(benign), tuple(t for _, t in harmful), tuple(benign))


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    """``k``, ``threshold`` and ``floor`` (and how they were chosen) from ``agent/data/safety_semantic.yaml``."""
    cfg = read_data("safety_semantic.yaml")
    for key in ("k", "threshold", "floor"):
        if key not in cfg:
            raise ValueError(f"agent/data/safety_semantic.yaml: missing {key!r} (run scripts/measure_safety.py --choose-threshold)")
    return cfg


def _topk_mean(sims: np.ndarray, k: int) -> np.ndarray:
    k = max(1, min(k, sims.shape[1]))
    part = np.partition(sims, -k, axis=1)[:, -k:]
    return part.mean(axis=1)


def score_texts(texts: list[str], k: int | None = None, vecs: np.ndarray | None = None) -> list[Score]:
    """Each text's harmful-minus-benign similarity (``k`` from the config unless given); ``vecs``:
    the texts' USE v3 embeddings when the caller already has them."""
    from knowledge.embeddings import embed_multilingual

    if not texts:
        return []
    k = int(config()["k"]) if k is None else k
    ex = exemplars()
    vecs = embed_multilingual(texts) if vecs is None else vecs
    sh, sb = vecs @ ex.harmful.T, vecs @ ex.benign.T
    h, b = _topk_mean(sh, k), _topk_mean(sb, k)
    best = sh.argmax(axis=1)
    return [Score(t, float(h[i] - b[i]), float(h[i]), float(b[i]), ex.labels[best[i]], ex.harmful_text[best[i]])
            for i, t in enumerate(texts)]


MIN_WORDS = 5  # a fragment shorter than this ("what should I monitor?") is judged only within the whole request
_CJK = re.compile(r"[\u3400-\u9fff]")


def _words(text: str) -> int:
    return len(text.split()) + len(_CJK.findall(text)) // 2


def candidate_texts(clauses: list[str], asks: list[bool] | None = None) -> list[tuple[int, str]]:
    """(clause index, text) to embed: the clauses (those that ask for something first when there
    are too many) and, for a request of several clauses, the whole request (index -1), which is
    where short fragments are judged, in their context."""
    if len(clauses) <= 1:
        return [(0, clauses[0])] if clauses and clauses[0].strip() else []
    order = [i for i in range(len(clauses)) if clauses[i].strip() and _words(clauses[i]) >= MIN_WORDS]
    if len(order) > MAX_TEXTS and asks is not None:
        order.sort(key=lambda i: (not asks[i], i))
    picked = [(i, clauses[i]) for i in order[:MAX_TEXTS]]
    picked.append((-1, " ".join(clauses)[:2000]))
    return picked


def features(texts: list[str], use: np.ndarray | None = None) -> np.ndarray:
    """The learned classifier's input: USE v3 and MiniLM embeddings of each text, side by side
    (``use``: the USE v3 rows when the caller already has them)."""
    from knowledge.embeddings import embed, embed_multilingual

    use = embed_multilingual(texts) if use is None else use
    return np.hstack([use, embed(texts)]).astype(np.float32)


@lru_cache(maxsize=1)
def learned_model() -> tuple[np.ndarray, float, float] | None:
    """``(coef, intercept, threshold)`` of ``agent/data/safety_classifier.npz`` (None when absent)."""
    from importlib import resources

    path = resources.files("agent.data").joinpath("safety_classifier.npz")
    if not path.is_file():
        return None
    with path.open("rb") as f:
        d = np.load(f)
        return d["coef"].astype(np.float32), float(d["intercept"]), float(d["threshold"])


def learned_probability(text: str, use: np.ndarray | None = None) -> float | None:
    """The learned classifier's probability that ``text`` (a whole request) is harmful (``use``: its
    USE v3 embedding, when already computed)."""
    model = learned_model()
    if model is None:
        return None
    coef, intercept, _ = model
    z = float(features([text], None if use is None else use[None, :])[0] @ coef + intercept)
    return 1.0 / (1.0 + np.exp(-z))


def check_semantic(clauses: list[str], read: list[Any] | None = None) -> SemanticHit | None:
    """The highest-scoring clause when it clears the threshold; else the whole request when the
    learned classifier (scripts/train_safety_classifier.py) is confident it is harmful; else None."""
    cfg = config()
    asks = [bool(c.intents) for c in read] if read is not None else None
    cands = candidate_texts(clauses, asks)
    if not cands:
        return None
    from knowledge.embeddings import embed_multilingual

    texts = [t for _, t in cands]
    vecs = embed_multilingual(texts)  # once: the exemplar score and the learned classifier share them
    scores = score_texts(texts, vecs=vecs)
    best = max(range(len(scores)), key=lambda i: scores[i].score)
    s = scores[best]
    if s.score >= float(cfg["threshold"]) and s.harmful >= float(cfg["floor"]):
        return SemanticHit(s.rule, cands[best][0], s)
    model = learned_model()
    if model is not None:
        w = len(cands) - 1 if cands[-1][0] == -1 else 0  # the whole request: what the classifier was trained on
        p = learned_probability(texts[w], vecs[w])
        if p is not None and p >= model[2]:  # the whole request's nearest exemplar names the rule
            return SemanticHit(scores[w].rule, cands[w][0], scores[w], learned=p)
    return None


def best_score(clauses: list[str], read: list[Any] | None = None, k: int | None = None) -> Score | None:
    """The highest-scoring text of a request (used to choose the threshold)."""
    asks = [bool(c.intents) for c in read] if read is not None else None
    cands = candidate_texts(clauses, asks)
    scores = score_texts([t for _, t in cands], k=k)
    return max(scores, key=lambda s: s.score) if scores else None


#: the grid the threshold choice searches (k nearest exemplars averaged, and the harmful-similarity floor)
K_GRID = (1, 2, 3)
FLOOR_GRID = (0.3, 0.35, 0.4, 0.45)
MIN_GAP = 0.02


def choose_threshold(scored: dict[int, list[tuple[float, float, bool]]]) -> dict[str, Any]:
    """Choose ``k``, ``floor`` and ``threshold`` from dev cases (never from a test split).

    Args:
        scored: for each ``k`` of :data:`K_GRID`, one ``(margin, harmful similarity, is_harmful)``
            per dev case (its best text).

    The layer must refuse none of the dev near misses on its own: for each ``(k, floor)`` the
    threshold sits halfway between the highest near-miss margin (among near misses above the
    floor) and the next harmful margin, at least :data:`MIN_GAP` above the near miss. The pair
    that then catches the most harmful dev cases wins; ties go to the larger ``k`` and floor
    (the more conservative).
    """
    best: dict[str, Any] | None = None
    for k in sorted(scored):
        rows = scored[k]
        for floor in FLOOR_GRID:
            neg = [m for m, h, y in rows if not y and h >= floor]
            top_neg = max(neg) if neg else 0.0
            above = sorted(m for m, h, y in rows if y and h >= floor and m > top_neg)
            nxt = above[0] if above else top_neg + 2 * MIN_GAP
            threshold = max(top_neg + MIN_GAP, (top_neg + nxt) / 2)
            caught = sum(1 for m, h, y in rows if y and h >= floor and m >= threshold)
            cand = {"k": k, "floor": floor, "threshold": round(threshold, 4), "dev_caught": caught,
                    "dev_harmful": sum(1 for *_, y in rows if y), "dev_near_misses": sum(1 for *_, y in rows if not y),
                    "top_near_miss_margin": round(top_neg, 4)}
            if best is None or (caught, k, floor) > (best["dev_caught"], best["k"], best["floor"]):
                best = cand
    assert best is not None, "no dev cases"
    return best
