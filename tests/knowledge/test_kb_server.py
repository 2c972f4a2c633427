"""Ingest and search through HttpClient against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from galen.errors import BackendUnavailable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_cli() -> str | None:
    here = Path(sys.executable).parent / "chroma"
    return str(here) if here.exists() else shutil.which("chroma")


def _start_server(path: Path) -> tuple[subprocess.Popen, int]:
    cli = _chroma_cli()
    if cli is None:
        pytest.fail("the chroma CLI is not installed next to this Python (it ships with chromadb)")
    port = _free_port()
    proc = subprocess.Popen([cli, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        assert proc.poll() is None, "chroma run exited early"
        time.sleep(0.2)
    proc.kill()
    pytest.fail("chroma run did not start listening within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    proc, port = _start_server(tmp_path_factory.mktemp("chroma-server"))
    yield port
    _stop(proc)


@pytest.mark.slow
def test_ingest_and_search_through_chroma_server(chroma_server, tmp_path):
    from galen.settings import Settings
    from knowledge import admin
    from knowledge.ingest import CORPUS_DIR
    from knowledge.retrieval import search
    from knowledge.store import get_store

    settings = Settings(data_dir=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=chroma_server,
                        kb_auto_index=False, kb_collection="server-test")
    get_store(settings)
    assert not (tmp_path / "local" / "chroma").exists(), "server mode must not create a local store"

    (report,) = admin.ingest_paths([CORPUS_DIR / "lung-rads-2022.md"], settings)
    assert report.status == "added" and report.n_chunks > 5
    import chromadb

    direct = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    assert direct.get_collection("server-test").count() == report.n_chunks  # the chunks live on the server
    assert admin.ingest_paths([CORPUS_DIR / "lung-rads-2022.md"], settings)[0].status == "unchanged"
    top = search("Which Lung-RADS category is a new 5 mm solid nodule and when is the next scan?", k=3, settings=settings)
    assert top[0].source_id == "lung-rads-2022"
    assert any(p.section == "Category 3: Probably benign" for p in top)
    assert [s.source_id for s in admin.list_sources(settings)] == ["lung-rads-2022"]
    admin.remove_source("lung-rads-2022", settings)
    assert search("Lung-RADS category", k=3, settings=settings) == []


def test_unreachable_server_is_a_clear_error(tmp_path):
    from galen.settings import Settings
    from knowledge.retrieval import search

    settings = Settings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=_free_port(), kb_auto_index=False)
    with pytest.raises(BackendUnavailable, match="127.0.0.1"):
        search("anything", settings=settings)


@pytest.mark.slow
def test_server_that_goes_away_is_a_clear_error(tmp_path):
    from galen.settings import Settings
    from knowledge import admin
    from knowledge.retrieval import search

    proc, port = _start_server(tmp_path / "srv")
    try:
        settings = Settings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=port, kb_auto_index=False)
        doc = tmp_path / "d.md"
        doc.write_text("# D\n\nThe heron protocol.\n", encoding="utf-8")
        admin.ingest_paths([doc], settings)
        assert search("heron", k=1, settings=settings)[0].source_id == "d"
    finally:
        _stop(proc)
    with pytest.raises(BackendUnavailable, match="stopped answering"):
        search("heron", k=1, settings=settings)
