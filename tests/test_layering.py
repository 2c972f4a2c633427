"""Imports point down only: ui → agent → tools → specialists/knowledge; specialists import no LLM/UI/DB layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "galen": {"agent", "tools", "ui", "evals", "knowledge", "specialists", "interop", "langchain_core", "langgraph", "gradio", "chromadb"},
    "specialists": {"agent", "tools", "ui", "evals", "knowledge", "interop", "langchain", "langchain_core", "langchain_openai", "langgraph", "gradio", "chromadb"},
    "knowledge": {"agent", "tools", "ui", "evals", "langgraph", "gradio"},
    "tools": {"agent", "ui", "evals", "gradio"},
    "agent": {"ui", "evals", "gradio"},
    "interop": {"agent", "ui", "evals", "tools", "knowledge", "langchain", "langchain_core", "langgraph", "gradio",
                "chromadb"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down(package: str) -> None:
    bad = []
    for f in (ROOT / package).rglob("*.py"):
        hits = imported_roots(f) & FORBIDDEN[package]
        if hits:
            bad.append(f"{f.relative_to(ROOT)}: {sorted(hits)}")
    assert not bad, bad


def test_no_work_at_import() -> None:
    import subprocess
    import sys

    code = "import sys, agent.graph, agent.runner, tools.registry, ui.cli; print('torch' in sys.modules, 'llama_cpp' in sys.modules, 'sentence_transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300).stdout.split()
    assert out == ["False", "False", "False"]
