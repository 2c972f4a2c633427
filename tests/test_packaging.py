"""The house: runtime, optional and test dependencies apart; no production code reaches into tests/."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from galen.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("galen", "agent", "tools", "specialists", "knowledge", "ui", "evals", "interop", "scripts")


def _pins(name: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            pkg = re.split(r"[=<>\[ ]", line, maxsplit=1)[0].lower()
            out[pkg] = line
    return out


def test_runtime_optional_and_test_dependencies_are_apart() -> None:
    from setuptools.config.pyprojecttoml import read_configuration

    project = read_configuration(ROOT / "pyproject.toml")["project"]
    extras = project["optional_dependencies"]
    assert {"postgres", "pacs", "test"} <= set(extras)
    runtime = _pins("requirements.txt")
    assert runtime["torch"] == "torch==2.13.0"
    assert {"fastapi", "uvicorn", "httpx"} <= set(runtime), "used directly by ui/ and agent/: declared"
    for tool in ("pytest", "pytest-timeout", "ruff", "playwright", "pydicom-data", "psycopg", "dicomweb-client"):
        assert tool not in runtime, f"{tool} is not a runtime dependency"
    assert all("==" in pin for pin in runtime.values() if not pin.startswith("psycopg")), "runtime pins are exact"
    assert any(d.startswith("psycopg") for d in extras["postgres"]) and extras["pacs"] == ["dicomweb-client==0.61.2"]
    assert any(d.startswith("pytest==") for d in extras["test"])


def test_setup_installs_everything_make_test_needs() -> None:
    dev = (ROOT / "requirements-dev.txt").read_text()
    for name in ("requirements.txt", "requirements-postgres.txt", "requirements-pacs.txt", "requirements-test.txt"):
        assert f"-r {name}" in dev
    assert "requirements-dev.txt" in (ROOT / "scripts" / "setup.sh").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for name in ("requirements-postgres.txt", "requirements-pacs.txt", "requirements-test.txt"):
        assert name in makefile, f"the setup stamp must depend on {name}"


def _production_files():
    for pkg in PRODUCTION:
        yield from (ROOT / pkg).rglob("*.py")


def test_no_production_code_imports_tests() -> None:
    bad = []
    for f in _production_files():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            bad += [f"{f.relative_to(ROOT)}: {n}" for n in names if n == "tests" or n.startswith("tests.")]
    assert not bad, bad


def test_no_production_code_builds_a_path_into_tests() -> None:
    """A path joined with a literal 'tests' component (``... / "tests" / ...``) is a write or read into tests/."""
    bad = []
    for f in _production_files():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                for side in (node.left, node.right):
                    if isinstance(side, ast.Constant) and side.value in ("tests", "tests/data"):
                        bad.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert not bad, bad


def test_a_missing_pacs_extra_is_a_clear_configuration_error(monkeypatch) -> None:
    from interop.dicomweb import Pacs

    monkeypatch.setitem(sys.modules, "dicomweb_client.api", None)  # import fails as if not installed
    with pytest.raises(ConfigError, match="DICOMweb client") as e:
        Pacs("http://127.0.0.1:1/dicom-web")
    assert "galen[pacs]" in e.value.user_message()


def test_a_missing_postgres_extra_is_a_clear_configuration_error(monkeypatch, tmp_path) -> None:
    from agent.threads import open_postgres
    from galen.settings import Settings

    monkeypatch.setitem(sys.modules, "langgraph.checkpoint.postgres", None)
    settings = Settings(data_dir=tmp_path, checkpointer="postgres", postgres_url="postgresql://x@127.0.0.1:1/x")
    with pytest.raises(ConfigError, match="psycopg") as e:
        open_postgres(settings)
    assert "galen[postgres]" in e.value.user_message()
