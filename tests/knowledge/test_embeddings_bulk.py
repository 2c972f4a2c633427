"""The bulk (ingest) MiniLM path gives the question path's vectors."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.embeddings import DIMENSION, bf16_is_fast, embed, embed_passages

TEXTS = [
    "Solid nodules smaller than 5 mm need no follow-up.",
    "Category 4A: LDCT in 3 months; PET/CT may be used when there is a solid component of 8 mm or more.",
    "短文本",
    "Volume doubling time guides action. " * 40,  # longer than the encoder's 256 tokens: truncated alike
    "",
]


def test_fp32_is_the_question_path_exactly():
    assert np.array_equal(embed_passages(TEXTS, "fp32"), embed(TEXTS))


def test_bf16_vectors_point_where_the_fp32_ones_do():
    ref, got = embed(TEXTS), embed_passages(TEXTS, "bf16")
    assert got.shape == (len(TEXTS), DIMENSION) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (ref * got).sum(1).min() >= 0.999
    # order of the input is kept although batches are sorted by length
    assert np.argmax(got @ ref.T, axis=1).tolist() == list(range(len(TEXTS)))


def test_auto_uses_bf16_only_where_the_cpu_has_it():
    """Which path ``auto`` took, told apart by size of difference: two runs of one float32 path differ
    by float noise (about 1e-8; thread scheduling changes the order of sums), bfloat16 and float32
    by about 1e-3."""
    got = embed_passages(TEXTS[:2], "auto")
    fp32, bf16 = embed(TEXTS[:2]), embed_passages(TEXTS[:2], "bf16")
    assert np.abs(fp32 - bf16).max() > 1e-4  # the two paths really differ
    same_as = bf16 if bf16_is_fast() else fp32
    assert np.abs(got - same_as).max() < 1e-6


def test_bad_precision_and_empty_input():
    with pytest.raises(ValueError, match="precision"):
        embed_passages(["x"], "fp16")
    assert embed_passages([], "bf16").shape == (0, DIMENSION)


def test_batches_hold_the_tokens_the_tokenizer_pads_for_each_batch(monkeypatch):
    import knowledge.embeddings as emb

    monkeypatch.setattr(emb, "PASSAGE_BATCH", 2)  # several batches from five texts
    _, tokenizer, max_len = emb._bf16_encoder()
    batches = list(emb._batches(TEXTS))
    seen = sorted(int(i) for idx, _, _ in batches for i in idx)
    assert seen == list(range(len(TEXTS)))  # every text in exactly one batch
    widths = [tok.shape[1] for _, tok, _ in batches]
    assert widths == sorted(widths, reverse=True)  # longest first
    for idx, tok, mask in batches:
        enc = tokenizer([TEXTS[i] for i in idx], padding=True, truncation=True, max_length=max_len,
                        return_tensors="pt")
        assert tok.tolist() == enc["input_ids"].tolist()
        assert mask.tolist() == enc["attention_mask"].tolist()
