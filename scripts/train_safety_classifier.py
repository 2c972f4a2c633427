"""Train the safety layer's learned classifier (part of layer (b), agent/safety/semantic.py).

A logistic regression over two sentence embeddings of the whole request (multilingual USE v3 and
MiniLM, 896 numbers), trained on the labelled exemplars of ``agent/data/safety_exemplars.yaml``
(with the routing exemplars as benign) and on the safety suite's dev split and the policy suite.
The dev splits of the product's own suites (routing, design, clinical facts, guideline questions and
follow-up turns of conversations, in English and Chinese) are in training as benign: each is a request Galen exists to answer.
Its threshold is chosen without the test split: 5-fold cross-validation over the dev and policy
cases and those product questions (exemplars always in training) gives every dev case an out-of-fold probability, and the
threshold is set just above the highest out-of-fold probability of any near miss, so that the
classifier alone refuses no dev near miss it was not trained on. The out-of-fold recall at that
threshold is the classifier's honest dev figure (the dev split is its training data).

Writes ``agent/data/safety_classifier.npz`` and ``agent/data/safety_classifier.json`` (the model
card's figures); the card itself is ``agent/data/MODEL_CARD_safety_classifier.md``.

Usage: ``python scripts/train_safety_classifier.py`` (about a minute on 2 cores; seed 0).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEV = ROOT / "evals/suites/safety.dev.jsonl"
POLICY = ROOT / "evals/suites/policy.jsonl"
#: the dev splits of the suites of requests Galen exists to answer: every question in them is benign
#: (they are in training as benign, and their out-of-fold probabilities bound the threshold too)
BENIGN_DEV = [ROOT / "evals/suites" / f"{name}.dev.jsonl" for name in (
    "routing", "routing_zh", "design", "design_zh", "clinical_facts", "clinical_facts_zh", "guideline_decisions",
    "guidelines_zh", "threads")]
OUT = ROOT / "agent/data/safety_classifier.npz"
CARD = ROOT / "agent/data/safety_classifier.json"
SEED = 0
FOLDS = 5
C = 4.0
DEV_WEIGHT = 2.0  # a suite case counts twice an exemplar: suite cases are written as users write
MARGIN = 0.02  # the threshold sits this far above the highest out-of-fold near-miss probability


def _questions(case: dict) -> list[str]:
    """A case's question and, for a conversation (threads), every earlier turn's question too."""
    turns = [t.get("question") for t in case.get("history") or [] if isinstance(t, dict)]
    return [q for q in [*turns, case.get("question")] if isinstance(q, str) and q.strip()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def main() -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sklearn.linear_model import LogisticRegression

    from agent.safety.semantic import exemplar_texts, features
    from galen.privacy import scrub

    torch.set_num_threads(1)
    t0 = time.time()
    cases = load(DEV) + load(POLICY)
    texts = [scrub(c["question"]) for c in cases]
    y = np.array([1 if c["expect"]["refusal"] else 0 for c in cases])
    product = list(dict.fromkeys(scrub(q) for path in BENIGN_DEV for c in load(path) for q in _questions(c)))
    texts += product
    y = np.concatenate([y, np.zeros(len(product), dtype=int)])
    n_safety = len(cases)
    harmful, benign = exemplar_texts()
    ex_texts = [t for _, t in harmful] + benign
    ex_y = np.array([1] * len(harmful) + [0] * len(benign))
    X, Xe = features(texts), features(ex_texts)

    def fit(Xs: np.ndarray, ys: np.ndarray, weights: np.ndarray) -> LogisticRegression:
        return LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(Xs, ys, sample_weight=weights)

    # folds stratified by label, the same for every run (seeded)
    rng = np.random.default_rng(SEED)
    fold = np.zeros(len(texts), dtype=int)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % FOLDS
    oof = np.zeros(len(texts))
    for f in range(FOLDS):
        tr = fold != f
        m = fit(np.vstack([Xe, X[tr]]), np.concatenate([ex_y, y[tr]]),
                np.concatenate([np.ones(len(ex_y)), np.full(int(tr.sum()), DEV_WEIGHT)]))
        oof[~tr] = m.predict_proba(X[~tr])[:, 1]
    threshold = float(min(0.99, max(0.5, oof[y == 0].max() + MARGIN)))
    fired = oof >= threshold
    safety_part = np.arange(len(texts)) < n_safety
    final = fit(np.vstack([Xe, X]), np.concatenate([ex_y, y]),
                np.concatenate([np.ones(len(ex_y)), np.full(len(y), DEV_WEIGHT)]))
    np.savez(OUT, coef=final.coef_[0].astype(np.float32), intercept=np.float32(final.intercept_[0]),
             threshold=np.float32(threshold))
    card = {
        "model": "logistic regression on [USE v3 multilingual (512) | MiniLM-L6-v2 (384)] of the whole request",
        "training_command": "python scripts/train_safety_classifier.py",
        "seed": SEED, "C": C, "dev_weight": DEV_WEIGHT, "folds": FOLDS, "margin": MARGIN,
        "trained_on": {"exemplars_harmful": len(harmful), "exemplars_benign": len(benign),
                       "safety.dev": len(load(DEV)), "policy": len(load(POLICY)),
                       "benign_product_questions": len(product),
                       "sha256": {"safety.dev": sha256(DEV), "policy": sha256(POLICY),
                                  **{p.name.removesuffix(".jsonl"): sha256(p) for p in BENIGN_DEV}}},
        "threshold": round(threshold, 4),
        "out_of_fold": {"harmful": int((y == 1).sum()), "near_misses": int(((y == 0) & safety_part).sum()),
                        "product_questions": len(product),
                        "recall": round(float(fired[y == 1].mean()), 4),
                        "false_refusal_rate": round(float(fired[(y == 0) & safety_part].mean()), 4),
                        "product_questions_refused": int(fired[(y == 0) & ~safety_part].sum()),
                        "highest_near_miss_probability": round(float(oof[y == 0].max()), 4)},
        "seconds": round(time.time() - t0, 1),
    }
    CARD.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(card, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
