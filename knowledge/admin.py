"""What `galen kb ...` calls: ingest, list, remove and search, returning plain data.

The CLI formats these; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from galen.errors import InvalidInput
from galen.settings import Settings
from knowledge.ingest import IngestReport, open_store
from knowledge.store import SourceRecord
from knowledge.types import Passage

__all__ = ["IngestReport", "SourceRecord", "ingest_paths", "list_sources", "remove_source", "search", "as_dict"]


def ingest_paths(
    paths: Iterable[str | Path],
    settings: Settings,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[IngestReport]:
    """``galen kb ingest PATH...``: see :func:`knowledge.ingest.ingest_paths`."""
    from knowledge.ingest import ingest_paths as _ingest

    return _ingest(paths, settings, progress=progress)


def list_sources(settings: Settings) -> list[SourceRecord]:
    """``galen kb list``: every committed source, sorted by id (the shipped corpus indexed first)."""
    store = open_store(settings)
    return sorted(store.sources().values(), key=lambda r: r.source_id)


def remove_source(source_id: str, settings: Settings) -> SourceRecord:
    """``galen kb remove SOURCE``: delete a source and all its chunks.

    A removed shipped-corpus source stays removed across restarts (``kb ingest`` of its file
    brings it back).

    Returns:
        The record that was removed.

    Raises:
        InvalidInput: no source has that id.
    """
    store = open_store(settings)
    record = store.sources().get(source_id)
    if record is None or not store.remove_source(source_id):
        known = ", ".join(sorted(store.sources())) or "none"
        raise InvalidInput(f"There is no source called {source_id!r} in the knowledge base.", hint=f"Known sources: {known}.")
    return record


def search(
    query: str, settings: Settings, k: int = 4, mode: Literal["fused", "dense", "lexical"] = "fused"
) -> list[Passage]:
    """``galen kb search QUERY [-k N]``: see :func:`knowledge.retrieval.search`."""
    from knowledge.retrieval import search as _search

    return _search(query, k=k, settings=settings, mode=mode)


def as_dict(item: IngestReport | SourceRecord | Passage) -> dict:
    """JSON-able form of any result above (for ``--json``)."""
    return item.model_dump() if isinstance(item, Passage) else asdict(item)
