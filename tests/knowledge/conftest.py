"""Fixtures for the knowledge-base tests: temporary stores, never the user's data folder."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    # On a shared 2-core box, two torch threads contend and one query embedding takes ~20x longer.
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory):
    """A store with the shipped corpus indexed once for the whole session (read-only use)."""
    from galen.settings import Settings
    from knowledge.ingest import open_store

    settings = Settings(data_dir=tmp_path_factory.mktemp("kb-corpus"))
    open_store(settings)
    return settings


@pytest.fixture
def empty_settings(tmp_path):
    """A fresh store without the shipped corpus (fast to ingest into)."""
    from galen.settings import Settings

    return Settings(data_dir=tmp_path / "data", kb_auto_index=False)


@pytest.fixture
def make_pdf():
    """``make_pdf(path, pages)`` writes a small PDF; a page given as [] has no text layer."""
    from knowledge.synthetic_pdf import write_pdf

    return write_pdf
