"""`galen kb ingest` in another process while this one searches: no errors, new text found at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_searches_survive_an_ingest_by_another_process(tmp_path) -> None:
    from galen.settings import Settings
    from knowledge.retrieval import search

    data = tmp_path / "data"
    settings = Settings(data_dir=data, kb_auto_index=False)
    first = tmp_path / "first.md"
    first.write_text("---\nid: first-doc\ntitle: First\n---\n# A\n\nThe marmot protocol covers burrow inspections.\n")
    from knowledge.ingest import ingest_paths

    ingest_paths([first], settings)
    assert search("marmot burrow inspections", settings=settings)[0].source_id == "first-doc"

    doc = tmp_path / "second.md"
    doc.write_text("---\nid: second-doc\ntitle: Second\n---\n# Section\n\n"
                   + "The pangolin schedule describes scale counts in detail. " * 150)
    env = {**os.environ, "GALEN_DATA_DIR": str(data), "GALEN_KB_AUTO_INDEX": "false", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "kb", "ingest", str(doc)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    errors, searches = [], 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = proc.poll() is not None
        try:
            search("marmot burrow inspections", settings=settings)
            searches += 1
        except Exception as e:  # noqa: BLE001 - any failure here is what the test looks for
            errors.append(f"{type(e).__name__}: {e}")
        if done:
            break
        time.sleep(0.1)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert errors == [] and searches > 0
    hits = search("pangolin schedule scale counts", settings=settings)
    assert hits and hits[0].source_id == "second-doc"
