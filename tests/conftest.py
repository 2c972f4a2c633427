"""Shared fixtures. Every test gets its own data directory; nothing touches ~/.galen."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from galen.ports import free_port  # noqa: F401  (tests import it from here)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path_factory.mktemp("galen-data")
    monkeypatch.setenv("GALEN_DATA_DIR", str(data))
    monkeypatch.delenv("GALEN_CONFIG", raising=False)
    from galen.settings import get_settings

    get_settings.cache_clear()
    return data


@pytest.fixture
def settings(tmp_path: Path):
    from galen.settings import Settings

    return Settings(data_dir=tmp_path / "data", answer_writer="template")


@pytest.fixture
def port() -> int:
    return free_port()


def galen_cmd() -> list[str]:
    """How to run the CLI in a subprocess with this interpreter."""
    return [sys.executable, "-m", "ui.cli"]


def _memoised(fn):
    """``fn`` (texts -> one row per text) computing each distinct text once per process."""
    import numpy as np

    cache: dict[str, np.ndarray] = {}

    def wrapper(texts):
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            for t, v in zip(missing, fn(missing), strict=True):
                cache[t] = v
        if not texts:
            return fn([])
        return np.stack([cache[t] for t in texts])

    return wrapper


@pytest.fixture(scope="session", autouse=True)
def _each_text_embedded_once():
    """The embedding models are deterministic, and every test's fresh data directory indexes the shipped
    corpus again: embedding each distinct text once per session saves ~10 s of CPU per such test."""
    try:
        import knowledge.embeddings as emb
    except ImportError:
        yield
        return
    originals = {name: getattr(emb, name) for name in ("embed", "embed_multilingual") if hasattr(emb, name)}
    for name, fn in originals.items():
        setattr(emb, name, _memoised(fn))
    yield
    for name, fn in originals.items():
        setattr(emb, name, fn)


# --- lanes: `make test` runs everything; `make test-fast` (GALEN_TEST_LANE=fast) leaves out what is
# marked slow, browser or server, and refuses the real LLM so a test that loads it must be marked.
SERVER_FIXTURES = {"orthanc", "pacs_settings", "stored_patients", "app_servers", "chroma_server"}
FAST_LANE = os.environ.get("GALEN_TEST_LANE") == "fast"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that uses a real-server fixture is a ``server`` test (and ``slow``), wherever it lives."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _no_real_llm_in_the_fast_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    if not FAST_LANE:
        return
    import agent.llm.embedded as embedded

    def refuse(*_a, **_k):
        raise RuntimeError("the fast lane does not load the real LLM: mark this test @pytest.mark.slow")

    monkeypatch.setattr(embedded, "load_llama", refuse)
