"""Ingesting documents into the knowledge base.

Files are read and chunked in full before anything is written, so a bad file in a batch fails
before any store change; each file is then committed atomically (see :mod:`knowledge.store`).
A file whose content hash matches what is stored for its source is skipped; a changed file
replaces its source's chunks; identical content already stored under another id is skipped
as a duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from galen.settings import Settings
from knowledge.chunking import Chunk, chunk_document
from knowledge.documents import SUPPORTED_SUFFIXES, Document, read_document

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class IngestReport:
    """What happened to one file."""

    path: str
    source_id: str
    title: str
    status: Literal["added", "replaced", "unchanged", "duplicate"]
    n_chunks: int
    duplicate_of: str | None = None

    def describe(self) -> str:
        """One line for the CLI, e.g. 'added fleischner-2017 (9 chunks) from /path/file.md'."""
        what = f"duplicate of {self.duplicate_of}" if self.status == "duplicate" else f"{self.n_chunks} chunks"
        return f"{self.status:9} {self.source_id} ({what}) from {self.path}"

    __str__ = describe


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus the supported files inside any folder named (sorted, recursive)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p).expanduser()
        if path.is_dir():
            out.extend(sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            out.append(path)
    return out


def chunk_language(text: str) -> str:
    """``zh`` for a chunk written mostly in Chinese (a third or more of its letters are CJK), else ``en``.

    Retrieval searches the Chinese chunks with the multilingual model for an English question too.
    """
    import re

    cjk = len(re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", text))
    letters = cjk + len(re.findall(r"[A-Za-z]", text)) / 5  # about five Latin letters per word
    return "zh" if letters and cjk / letters >= 1 / 3 else "en"


def _chunk_metadata(doc: Document, chunk: Chunk) -> dict[str, object]:
    meta: dict[str, object] = {
        "title": doc.title,
        "section": chunk.section,
        "link": doc.link,
        "chunk_index": chunk.index,
        "chunk_hash": chunk.chunk_hash,
        "file": Path(doc.path).name,
        "language": chunk_language(chunk.text),
    }
    if doc.meta.get("title_en"):  # the English title of a non-English source (front matter title_en)
        meta["title_en"] = doc.meta["title_en"]
    if chunk.page is not None:
        meta["page"] = chunk.page
    return meta


class _Stages:
    """Adds the seconds spent in named stages to a dict (or does nothing without one)."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into = into

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.into is not None:
                self.into[name] = self.into.get(name, 0.0) + time.perf_counter() - start


def embed_document(texts: list[str], multilingual: bool, precision: str = "auto"
                   ) -> tuple[dict[str, object], dict[str, object] | None]:
    """Every chunk text of a document embedded at once, MiniLM and (when installed) USE v3.

    One call per model over the whole document (sorted by length, so batches pad little); MiniLM
    runs in ``precision`` (bfloat16 where the CPU has it natively) and the two models share both
    cores (:func:`knowledge.embeddings.embed_passages_both`). Returns text -> vector maps for each model.
    """
    from knowledge.embeddings import embed_passages, embed_passages_both

    unique = list(dict.fromkeys(texts))
    if not multilingual:
        return dict(zip(unique, embed_passages(unique, precision), strict=True)), None
    vecs, ml_vecs = embed_passages_both(unique, precision)
    return dict(zip(unique, vecs, strict=True)), dict(zip(unique, ml_vecs, strict=True))


def write_document(
    store,
    doc: Document,
    *,
    origin: str = "user",
    progress: Callable[[int, int], None] | None = None,
    stages: dict[str, float] | None = None,
) -> IngestReport:
    """Store one parsed document (skip, add or replace) and report what happened.

    ``stages``, when given, gains the seconds spent chunking, embedding and writing to the store
    (``chunk``, ``embed``, ``store_write``), added to what it holds.
    """
    from knowledge.embeddings import multilingual_available

    clock = _Stages(stages)

    with store.lock:
        sources = store.sources()
        existing = sources.get(doc.source_id)
        if existing and existing.content_hash == doc.content_hash:
            return IngestReport(doc.path, doc.source_id, doc.title, "unchanged", existing.n_chunks)
        twin = next(
            (r for r in sources.values() if r.content_hash == doc.content_hash and r.source_id != doc.source_id), None
        )
        if twin is not None:
            return IngestReport(doc.path, doc.source_id, doc.title, "duplicate", twin.n_chunks, twin.source_id)
        with clock("chunk"):
            chunks = chunk_document(doc)
        record: dict[str, object] = {
            "title": doc.title,
            "content_hash": doc.content_hash,
            "path": doc.path,
            "link": doc.link,
            "origin": origin,
        }
        for key in ("issuing_body", "year", "version", "licence"):
            if doc.meta.get(key):
                record[key] = doc.meta[key]
        # the English title (title_en) is indexed lexically, not embedded: embedded, it makes every
        # chunk of a Chinese source look like a generic English nodule passage to MiniLM
        texts = [c.context_text(doc.title) for c in chunks]
        with clock("embed"):
            vectors, ml_vectors = embed_document(texts, multilingual_available(),
                                                 store.settings.kb_embed_precision)
        with clock("store_write"):
            store.write_source(
                doc.source_id,
                record,
                [(f"{c.index:05d}", c.text, _chunk_metadata(doc, c)) for c in chunks],
                lambda batch: [vectors[t] for t in batch],
                texts,
                progress,
                ml_embeddings=(lambda batch: [ml_vectors[t] for t in batch]) if ml_vectors is not None else None,
            )
    status: Literal["added", "replaced"] = "replaced" if existing else "added"
    return IngestReport(doc.path, doc.source_id, doc.title, status, len(chunks))


def ingest_paths(
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    stages: dict[str, float] | None = None,
) -> list[IngestReport]:
    """Ingest files (and the supported files inside folders) into the knowledge base.

    Every file is read and checked first; if any is bad, the typed error is raised and nothing
    is written. Then each file is committed atomically, one after another.

    Args:
        paths: files or folders (.md, .txt, .html, .pdf).
        settings: where the store is and the size limit.
        progress: optional ``(source_id, chunks_written, total)`` callback.
        stages: when given, gains the seconds per stage over all files: ``parse`` (reading and
            checking), ``chunk``, ``embed`` (both models) and ``store_write`` (Chroma).

    Raises:
        UnreadableFile, UnsupportedFile, InvalidInput: a file is missing, empty, binary,
            not UTF-8, too large, or a PDF without text; nothing was written.
        BackendUnavailable: the configured Chroma server cannot be reached.
    """
    from galen.errors import InvalidInput

    files = _expand(paths)
    if not files:
        raise InvalidInput("No documents to ingest were given.", hint=f"Give files or folders of {', '.join(SUPPORTED_SUFFIXES)}.")
    with _Stages(stages)("parse"):
        docs = [read_document(f, settings) for f in files]
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.source_id in seen and seen[doc.source_id] != doc.path:
            raise InvalidInput(
                f"{Path(doc.path).name} and {Path(seen[doc.source_id]).name} would both be source {doc.source_id!r}.",
                hint="Give them different file names or front-matter ids.",
            )
        seen[doc.source_id] = doc.path
    store = open_store(settings)
    reports = []
    for doc in docs:
        cb = (lambda done, total, sid=doc.source_id: progress(sid, done, total)) if progress else None
        reports.append(write_document(store, doc, progress=cb, stages=stages))
    return reports


def corpus_files() -> list[Path]:
    """The shipped guideline corpus."""
    return sorted(CORPUS_DIR.glob("*.md"))


def index_corpus(store) -> list[IngestReport]:
    """Index the shipped corpus into ``store``: quick hash checks when it is already there.

    A shipped file that changed (a new Galen version) replaces the older shipped version; a
    source the person ingested under the same id, or removed, is left alone.
    """
    import hashlib

    sources = store.sources()
    removed = store.removed_corpus()
    reports = []
    for path in corpus_files():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if any(r.content_hash == digest for r in sources.values()):
            continue
        doc = read_document(path, store.settings)
        if doc.source_id in removed:
            continue  # the person removed it with `kb remove`; `kb ingest` brings it back
        existing = sources.get(doc.source_id)
        if existing is not None and existing.origin != "corpus":
            continue
        reports.append(write_document(store, doc, origin="corpus"))
    return reports


def open_store(settings: Settings):
    """The knowledge store for ``settings``, with the shipped corpus indexed when
    ``settings.kb_auto_index`` is on (the default): once per store and process, a hash check per
    file when it is already indexed.

    Indexing lives here, not in :func:`knowledge.store.get_store`: opening a store has no side
    effects, and the store module does not depend on ingestion.
    """
    from knowledge.store import get_store

    store = get_store(settings)
    if settings.kb_auto_index and not store.corpus_checked:
        with store.lock:
            if not store.corpus_checked:
                index_corpus(store)
                store.corpus_checked = True
    return store
