"""kill -9 in the middle of ingesting a large file leaves the file wholly in or wholly out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys, torch
    torch.set_num_threads(1)
    from galen.settings import Settings
    from knowledge.ingest import ingest_paths
    settings = Settings(data_dir=sys.argv[1], kb_auto_index=False)
    ingest_paths([sys.argv[2]], settings)
    print("v1 committed", flush=True)
    ingest_paths([sys.argv[3]], settings, progress=lambda sid, done, total: print("batch", done, total, flush=True))
    print("v2 committed", flush=True)
    """
)


def _big_markdown(n_sections: int) -> str:
    parts = ["---\nid: big-doc\ntitle: Big document\n---\n\n# Big\n"]
    for i in range(n_sections):
        parts.append(
            f"\n## Section {i}\n\nVersion two paragraph {i}: the okapi herd {i} grazed for {i % 17} hours "
            f"near marker {i * 7} while observers counted {i * 3} calves and noted the weather.\n"
        )
    return "".join(parts)


@pytest.mark.slow
def test_kill_during_replacement_keeps_old_version_whole(tmp_path):
    data = tmp_path / "data"
    v1 = tmp_path / "v1" / "big.md"
    v2 = tmp_path / "v2" / "big.md"
    v1.parent.mkdir()
    v2.parent.mkdir()
    v1.write_text("---\nid: big-doc\ntitle: Big document\n---\n\n# Big\n\n## Only\n\nVersion one: a single"
                  " section about narwhals.\n", encoding="utf-8")
    v2.write_text(_big_markdown(700), encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data), str(v1), str(v2)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path,
    )
    lines = []
    deadline = time.monotonic() + 240
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line.strip())
            if line.startswith("batch ") and int(line.split()[1]) < int(line.split()[2]):
                # a first batch of v2 is in Chroma, uncommitted (the document is longer than one batch)
                os.kill(proc.pid, signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "writer too slow"
    finally:
        proc.kill()
        proc.wait()
    assert "v1 committed" in lines and "v2 committed" not in lines, lines

    from galen.settings import Settings
    from knowledge.admin import list_sources
    from knowledge.retrieval import search
    from knowledge.store import get_store

    settings = Settings(data_dir=data, kb_auto_index=False)
    store = get_store(settings)  # opening repairs: chunks of the dead writer's generation go
    (record,) = list_sources(settings)
    assert record.source_id == "big-doc" and record.n_chunks == 1
    got = store.chunks.get(include=["documents", "metadatas"])
    assert len(got["ids"]) == 1 and got["metadatas"][0]["gen"] == record.generation
    assert "narwhals" in got["documents"][0]
    assert all(p.source_id != "big-doc" or "narwhals" in p.text for p in search("okapi herd calves", k=5, settings=settings))
    assert store.repair() == 0
    assert not store.manifest.get(where={"pid": {"$gte": 0}}, include=[])["ids"], "pending marker left behind"
