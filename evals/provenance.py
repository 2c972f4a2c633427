"""What a run was: Galen and library versions, model versions, settings without secrets, seeds, hashes."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from galen.settings import Settings

LIBRARIES = ("torch", "rdkit", "monai", "chromadb", "langgraph", "langchain_core", "llama_cpp", "numpy", "sklearn",
             "torch_geometric")
_DISTRIBUTIONS = {"langgraph": "langgraph", "sklearn": "scikit-learn", "llama_cpp": "llama_cpp_python"}
_SECRET_WORDS = ("key", "password", "secret", "token")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape results ("not installed" where absent)."""
    out: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(_DISTRIBUTIONS.get(name, name))
            continue
        except importlib.metadata.PackageNotFoundError:
            pass
        try:
            out[name] = str(getattr(importlib.import_module(name), "__version__", "?"))
        except ImportError:
            out[name] = "not installed"
    return out


def public_settings(settings: Settings) -> dict[str, Any]:
    """The settings as JSON, with secret-looking fields removed (API keys never reach a report)."""
    raw = settings.model_dump(mode="json")
    return {k: v for k, v in raw.items()
            if not any(w in k.lower() for w in _SECRET_WORDS) and "SecretStr" not in type(getattr(settings, k)).__name__}


def git_commit() -> str | None:
    """The source tree's commit, when Galen runs from a git checkout."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def run_record(settings: Settings | None, seed: int, suite: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The provenance block stored in ``summary.json``."""
    import galen

    return {
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "galen": getattr(galen, "__version__", "?"), "git_commit": git_commit(),
        "python": platform.python_version(), "platform": platform.platform(),
        "libraries": library_versions(), "settings": public_settings(settings) if settings else None,
        "seeds": {"python": seed, "numpy": seed, "torch": seed}, "suite": suite, **(extra or {}),
    }


def model_versions(outcomes: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Every model version the tools reported during the run (``tool.model`` → versions seen)."""
    seen: dict[str, set[str]] = {}
    for o in outcomes:
        for k, v in (o.get("versions") or {}).items():
            seen.setdefault(k, set()).add(v)
    return {k: sorted(v) for k, v in sorted(seen.items())}
