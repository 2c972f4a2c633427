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
