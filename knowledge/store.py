"""The Chroma store behind the knowledge base, with atomic per-source writes.

Three collections: ``<kb_collection>`` holds the chunks embedded with MiniLM (English),
``<kb_collection>-ml`` the same chunks (same ids, text and metadata) embedded with the
multilingual USE v3, which a Chinese question is searched with, and ``<kb_collection>-manifest``
holds one record per source (content hash, generation id, chunk count). Chroma has no
transactions, so a source is written like this:

1. its chunks are added to both chunk collections under a fresh *generation* id (invisible to
   readers);
2. the manifest record is upserted to point at that generation - the commit, a single write;
3. the chunks of the previous generation are deleted.

Readers only see chunks whose generation a manifest record names, so a process killed at any
moment leaves each source wholly at its old or its new version, in both chunk collections.
Chunks of an abandoned generation are removed from both by :meth:`KnowledgeStore.repair` once
their writer is gone. A store written before the multilingual collection existed (or while its
model was not installed) is completed by :meth:`KnowledgeStore.sync_multilingual` on open: the
missing chunks are embedded and added under their committed generation, which changes nothing
a reader of the English collection sees.

Readers cache the committed generations: every commit (and every removal) rewrites one more
manifest record, ``state:commits``, with a fresh token *after* the manifest changes and *before*
any chunk of the old generation is deleted, so a reader that finds the token it saw last reuses
the generations it read then, with one small get instead of the whole manifest (50 ms at 1,000
sources). A store without that record (written before it existed) is read in full each time.

Several processes may open the same local folder (a running server and ``galen kb ingest``).
Chroma's local client caches index state that another process's writes make stale ("Error
finding id"), so every write bumps ``<data>/kb-version``; a store whose folder was written by
someone else since it opened reopens its client before the next read, and a read that still
fails is retried once on a fresh client.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from galen.errors import BackendUnavailable
from galen.settings import Settings

BATCH = 512  # chunks per Chroma add: 795 chunks write in 0.82 s at 512 against 1.36 s at 64 (measured, both collections)
_DENSE_SLACK = 32  # extra neighbours asked for unfiltered, so that uncommitted chunks can be dropped
_DENSE_MAX = 4096  # the most neighbours one dense query asks for
#: Neighbours the HNSW index is searched for, at least: at Chroma's default (ef_search 100) the
#: nearest passages were missed among 100,000 chunks whose near-copies crowd the graph (measured:
#: a passage at true rank 4 absent from the first 100). Only ids and distances come back for all.
_DENSE_SEARCH = 300
_PENDING = "pending:"
_REMOVED = "removed:"  # a shipped source the person removed: not indexed again at start
_STATE = "state:commits"  # its token changes with every commit: readers cache the committed generations by it
_STALE_PENDING_S = 6 * 3600  # a writer on another host that has been silent this long is gone
_DUMMY = [1.0] + [0.0] * 383  # manifest records are never searched; Chroma still wants a vector
ML_SUFFIX = "-ml"  # the multilingual chunk collection: <kb_collection>-ml


@dataclass(frozen=True)
class SourceRecord:
    """One committed source in the knowledge base."""

    source_id: str
    title: str
    n_chunks: int
    content_hash: str
    generation: str
    path: str = ""
    link: str = ""
    origin: str = "user"
    ingested_at: float = 0.0

    def describe(self) -> str:
        """One line for the CLI: id, chunk count, origin and title."""
        return f"{self.source_id:32} {self.n_chunks:5d} chunks  [{self.origin}]  {self.title}"

    __str__ = describe


def _record(rid: str, meta: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        source_id=rid,
        title=str(meta.get("title", "")),
        n_chunks=int(meta.get("n_chunks", 0)),
        content_hash=str(meta.get("content_hash", "")),
        generation=str(meta.get("gen", "")),
        path=str(meta.get("path", "")),
        link=str(meta.get("link", "")),
        origin=str(meta.get("origin", "user")),
        ingested_at=float(meta.get("ingested_at", 0.0)),
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class KnowledgeStore:
    """Chunks and manifest in Chroma; use :func:`get_store` rather than building one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.key = store_key(settings)
        self.lock = threading.RLock()
        self.corpus_checked = False
        self.multilingual_checked = False
        self.subsets: dict[tuple, tuple] = {}  # (collection, language, generations) -> committed chunks and vectors
        self.exact: dict[str, ExactIndex] = {}  # collection name -> its committed vectors, for exact search
        self.counts: dict[str, tuple[str | None, int]] = {}  # collection name -> (commit token, rows)
        self.committed: tuple[str, tuple[str, ...]] | None = None  # (commit token, committed generations) last read
        self._open()

    def _open(self) -> None:
        from knowledge.embeddings import chroma_embedding_function, chroma_multilingual_embedding_function

        settings = self.settings
        self.version = read_version(settings)
        self.client = _make_client(settings)
        ef = chroma_embedding_function()
        try:
            self.chunks = self.client.get_or_create_collection(
                settings.kb_collection, embedding_function=ef, configuration={"hnsw": {"space": "cosine"}}
            )
            self.chunks_ml = self.client.get_or_create_collection(
                settings.kb_collection + ML_SUFFIX, embedding_function=chroma_multilingual_embedding_function(),
                configuration={"hnsw": {"space": "cosine"}},
            )
            self.manifest = self.client.get_or_create_collection(
                f"{settings.kb_collection}-manifest", embedding_function=ef
            )
        except Exception as e:  # noqa: BLE001 - Chroma raises many types for an unreachable server
            if settings.chroma_host:
                raise BackendUnavailable(
                    f"The Chroma server at {settings.chroma_host}:{settings.chroma_port} did not answer ({e})."
                ) from e
            raise

    def reopen(self) -> None:
        """Close the client and open the folder afresh (after another process wrote to it)."""
        with self.lock:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - a client in a bad state may fail to close; it is dropped anyway
                pass
            self._open()

    def refresh_if_changed(self) -> bool:
        """Reopen when another process has written to the local folder since this store opened."""
        if self.settings.chroma_host:
            return False  # a Chroma server serialises its clients itself
        if read_version(self.settings) == self.version:
            return False
        with self.lock:  # another thread may have reopened, or written, meanwhile
            if read_version(self.settings) == self.version:
                return False
            self.reopen()
            self.version = read_version(self.settings)
        return True

    def _written(self) -> None:
        """Record a write of ours, so that other processes reopen and this one does not."""
        if not self.settings.chroma_host:
            # ours before the file says so: a thread of this process that reads the file in between
            # must not take our own write for another process's and reopen the client under a query
            version = new_version()
            self.version = version
            bump_version(self.settings, version)

    # --- reading -----------------------------------------------------------------------------
    def sources(self) -> dict[str, SourceRecord]:
        """Committed sources by id."""
        got = self.manifest.get(include=["metadatas"])
        return {
            rid: _record(rid, meta or {})
            for rid, meta in zip(got["ids"], got["metadatas"] or [], strict=False)
            if not rid.startswith((_PENDING, _REMOVED)) and rid != _STATE
        }

    def removed_corpus(self) -> set[str]:
        """Ids of shipped sources the person removed (``kb remove``), which auto-indexing skips."""
        got = self.manifest.get(where={"removed_at": {"$gte": 0}}, include=[])
        return {rid[len(_REMOVED):] for rid in got["ids"] if rid.startswith(_REMOVED)}

    def committed_generations(self) -> list[str]:
        """The generations the manifest names, sorted; reused while the commit token is unchanged."""
        token = self.commit_token()  # read before the manifest: a commit after this changes it
        cached = self.committed
        if token is not None and cached is not None and cached[0] == token:
            return list(cached[1])
        gens = sorted(r.generation for r in self.sources().values())
        self.committed = (token, tuple(gens)) if token is not None else None
        return gens

    def commit_token(self) -> str | None:
        """The token of the last commit or removal (None for a store written before tokens existed)."""
        got = self.manifest.get(ids=[_STATE], include=["metadatas"])
        metas = got["metadatas"] or []
        return str((metas[0] or {}).get("token", "")) if got["ids"] and metas else None

    def _committed_changed(self) -> None:
        """A new commit token: readers read the manifest again (call after it changed, before deleting chunks)."""
        self.manifest.upsert(ids=[_STATE], embeddings=[_DUMMY], documents=[_STATE],
                             metadatas=[{"token": uuid.uuid4().hex, "at": time.time()}])

    def chunks_of(self, generations: Sequence[str]) -> dict[str, list]:
        """ids, documents and metadatas of every chunk in ``generations``."""
        if not generations:
            return {"ids": [], "documents": [], "metadatas": []}
        got = _get_by_generations(self.chunks, generations, ["documents", "metadatas"])
        return {"ids": got["ids"], "documents": got["documents"], "metadatas": got["metadatas"]}

    def dense_query(self, query: str, n: int, generations: Sequence[str], multilingual: bool = False,
                    language: str | None = None) -> list[tuple[str, str, dict, float]]:
        """(id, text, metadata, cosine similarity) of the ``n`` nearest committed chunks.

        ``multilingual`` searches the USE v3 collection (a Chinese question, or a Chinese passage
        for an English one) instead of the MiniLM one; ``language`` keeps only the chunks written
        in that language (``zh``/``en``, recorded at ingest).
        """
        if not generations:
            return []
        coll = self.chunks_ml if multilingual else self.chunks
        if language:
            return self._subset_query(coll, query, n, generations, language, multilingual)
        # Chroma's metadata filters are slow at scale (measured here: 1.8 s for a $in of 1,000 generations
        # over 100,000 chunks, against 7 ms unfiltered; past ~1,000 generations they fail outright), so ask
        # for a few more neighbours unfiltered and keep the committed ones; when uncommitted chunks (a write
        # in progress) crowd them out, ask for more.
        #
        # The index is searched for at least _DENSE_SEARCH neighbours (Chroma's HNSW search explores
        # max(ef_search, n) candidates), and only the texts and metadata of the nearest are read.
        if self.chunk_count(coll) <= EXACT_MAX_CHUNKS:
            return self._exact_query(coll, query, n, generations, multilingual)
        committed = set(generations)
        want = n + _DENSE_SLACK
        while True:
            searched = max(want, _DENSE_SEARCH)
            res = coll.query(query_texts=[query], n_results=searched, include=["distances"])
            ids, dists = res["ids"][0], (res["distances"] or [[]])[0]
            hits = _read_hits(self.chunks, ids[:want], dists[:want])
            kept = [h for h in hits if h[2].get("gen") in committed]
            if len(kept) >= n or len(ids) <= want or want >= _DENSE_MAX:
                return kept[:n]
            want *= 4

    def chunk_count(self, coll) -> int:
        """Rows in ``coll`` (read once per store state: counting is a query of its own)."""
        token = self.committed[0] if self.committed else None
        known = self.counts.get(coll.name)
        if token is None or known is None or known[0] != token:
            known = (token, coll.count())
            self.counts[coll.name] = known
        return known[1]

    def _exact_query(self, coll, query: str, n: int, generations: Sequence[str], multilingual: bool
                     ) -> list[tuple[str, str, dict, float]]:
        """The ``n`` nearest committed chunks by exact cosine similarity (see :class:`ExactIndex`)."""
        from knowledge.embeddings import embed, embed_multilingual

        index = self.exact.setdefault(coll.name, ExactIndex())
        index.sync(coll, generations)
        q = (embed_multilingual if multilingual else embed)([query])[0]
        ids, sims = index.nearest(q, n)
        return _read_hits(self.chunks, ids, [1.0 - s for s in sims])

    def _subset_query(self, coll, query: str, n: int, generations: Sequence[str], language: str,
                      multilingual: bool) -> list[tuple[str, str, dict, float]]:
        """Exact cosine search over the committed chunks written in ``language``: their vectors are read
        once per store state and kept (a filtered Chroma query costs ~0.5 s at 100,000 chunks)."""
        import numpy as np

        from knowledge.embeddings import embed, embed_multilingual

        key = (coll.name, language, tuple(generations))
        subset = self.subsets.get(key)
        if subset is None:
            got = _get_by_generations(coll, generations, ["embeddings"], {"language": language})
            # text and citation fields are the main collection's (same ids), read page by page as the vectors are
            main = _get_by_generations(self.chunks, generations, ["documents", "metadatas"], {"language": language})
            by_id = {i: (d, m or {}) for i, d, m in zip(main["ids"], main["documents"], main["metadatas"], strict=False)}
            rows = [(i, v) for i, v in zip(got["ids"], got["embeddings"], strict=False) if i in by_id]
            ids = [i for i, _ in rows]
            vecs = np.asarray([v for _, v in rows], dtype=np.float32) if rows else np.zeros((0, 1), dtype=np.float32)
            subset = (ids, [by_id[i][0] for i in ids], [by_id[i][1] for i in ids], vecs)
            self.subsets = {k: v for k, v in self.subsets.items() if k[:2] != key[:2]} | {key: subset}
        ids, docs, metas, matrix = subset
        if not ids:
            return []
        q = (embed_multilingual if multilingual else embed)([query])[0]
        sims = matrix @ q
        order = np.argsort(-sims, kind="stable")[:n]
        return [(ids[i], docs[i], metas[i], float(sims[i])) for i in order]

    # --- writing -----------------------------------------------------------------------------
    def write_source(
        self,
        source_id: str,
        record: dict[str, Any],
        ids_texts_metas: list[tuple[str, str, dict[str, Any]]],
        embeddings: Callable[[list[str]], list],
        embed_texts: list[str],
        progress: Callable[[int, int], None] | None = None,
        ml_embeddings: Callable[[list[str]], list] | None = None,
    ) -> str:
        """Write all chunks of one source under a new generation, then commit it atomically.

        Args:
            source_id: the source's id (manifest record id).
            record: manifest metadata (title, content_hash, path, link, origin ...).
            ids_texts_metas: (suffix, text, metadata) per chunk; ids become ``source:gen:suffix``.
            embeddings: function returning one vector per text in ``embed_texts``.
            embed_texts: the texts to embed (chunk text with its title and section).
            progress: called with (chunks written, total) after each batch.
            ml_embeddings: the multilingual embedding function (same texts), for the ``-ml``
                collection; None leaves that collection to :meth:`sync_multilingual`.

        Returns:
            The new generation id.
        """
        gen = uuid.uuid4().hex[:16]
        total = len(ids_texts_metas)
        with self.lock:
            # Announce the write so that repair() in another process leaves these chunks alone.
            self.manifest.upsert(
                ids=[f"{_PENDING}{gen}"],
                embeddings=[_DUMMY],
                documents=[source_id],
                metadatas=[{"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), "gen": gen}],
            )
            try:
                for start in range(0, total, BATCH):
                    batch = ids_texts_metas[start:start + BATCH]
                    texts = embed_texts[start:start + BATCH]
                    ids = [f"{source_id}:{gen}:{suffix}" for suffix, _, _ in batch]
                    docs = [t for _, t, _ in batch]
                    metas = [{**m, "gen": gen, "source_id": source_id} for _, _, m in batch]
                    self.chunks.add(ids=ids, embeddings=np.asarray(embeddings(texts), dtype=np.float32),
                                    documents=docs, metadatas=metas)
                    if ml_embeddings is not None:
                        self.chunks_ml.add(ids=ids, embeddings=np.asarray(ml_embeddings(texts), dtype=np.float32),
                                           metadatas=[_ml_metadata(m) for m in metas])
                    if progress:
                        progress(min(start + BATCH, total), total)
                for coll in (self.chunks, self.chunks_ml) if ml_embeddings is not None else (self.chunks,):
                    written = len(coll.get(where={"gen": gen}, include=[])["ids"])
                    if written != total:
                        raise RuntimeError(f"Chroma stored {written} of {total} chunks for {source_id} in "
                                           f"{coll.name}; not committing.")
            except BaseException:
                # Interrupted or failed before the commit: the new generation was never visible; drop it.
                self.chunks.delete(where={"gen": gen})
                self.chunks_ml.delete(where={"gen": gen})
                self.manifest.delete(ids=[f"{_PENDING}{gen}"])
                raise
            meta = {**record, "gen": gen, "n_chunks": total, "ingested_at": time.time()}
            self.manifest.upsert(ids=[source_id], embeddings=[_DUMMY], documents=[source_id], metadatas=[meta])
            self.manifest.delete(ids=[f"{_REMOVED}{source_id}"])  # ingested again on purpose
            self._committed_changed()
            # Committed: the old generation is now invisible; remove it and the pending marker.
            older = {"$and": [{"source_id": source_id}, {"gen": {"$ne": gen}}]}
            self.chunks.delete(where=older)
            self.chunks_ml.delete(where=older)
            self.manifest.delete(ids=[f"{_PENDING}{gen}"])
            self._written()
        return gen

    def remove_source(self, source_id: str) -> bool:
        """Remove a source (manifest first, so readers stop seeing it at once). False if absent.

        A shipped-corpus source is remembered as removed, so the next start does not index it again.
        """
        with self.lock:
            got = self.manifest.get(ids=[source_id], include=["metadatas"])
            if not got["ids"]:
                return False
            if ((got["metadatas"] or [{}])[0] or {}).get("origin") == "corpus":
                self.manifest.upsert(ids=[f"{_REMOVED}{source_id}"], embeddings=[_DUMMY], documents=[source_id],
                                     metadatas=[{"removed_at": time.time()}])
            self.manifest.delete(ids=[source_id])
            self._committed_changed()
            self.chunks.delete(where={"source_id": source_id})
            self.chunks_ml.delete(where={"source_id": source_id})
            self._written()
        return True

    def repair(self) -> int:
        """Delete chunks of generations that were never committed and whose writer is gone.

        Returns:
            How many chunks were removed (from both chunk collections).
        """
        with self.lock:
            committed = set(self.committed_generations())
            pending = self.manifest.get(where={"pid": {"$gte": 0}}, include=["metadatas"])
            live: set[str] = set()
            dead_markers: list[str] = []
            host = socket.gethostname()
            for rid, meta in zip(pending["ids"], pending["metadatas"] or [], strict=False):
                meta = meta or {}
                gone = (
                    not _pid_alive(int(meta.get("pid", 0)))
                    if meta.get("host") == host
                    else time.time() - float(meta.get("started", 0)) > _STALE_PENDING_S
                )
                if gone:
                    dead_markers.append(rid)
                else:
                    live.add(str(meta.get("gen", "")))
            orphans: list[str] = []
            for coll in (self.chunks, self.chunks_ml):
                all_meta = _get_all(coll, ["metadatas"])
                gone = [
                    cid
                    for cid, m in zip(all_meta["ids"], all_meta["metadatas"], strict=False)
                    if (m or {}).get("gen") not in committed and (m or {}).get("gen") not in live
                ]
                for start in range(0, len(gone), 1000):
                    coll.delete(ids=gone[start:start + 1000])
                orphans += gone
            if dead_markers:
                self.manifest.delete(ids=dead_markers)
            if orphans or dead_markers:
                # a writer that died between its commit and its new token: let cached readers read again
                if self.commit_token() is not None:
                    self._committed_changed()
                self._written()
        return len(orphans)

    def sync_multilingual(self) -> int:
        """Embed and add the committed chunks the multilingual collection lacks (a store written
        before it existed, or while its model was not installed). Returns how many were added.

        Chunks keep their ids and committed generation (text and metadata stay in the English collection), so readers see no change
        in the English collection and each source is searchable in both or, until it is done, in
        the English one only. Without the multilingual package nothing is done.
        """
        from knowledge.chunking import context_text
        from knowledge.embeddings import embed_multilingual, multilingual_available

        if not multilingual_available():
            return 0
        with self.lock:
            gens = self.committed_generations()
            if not gens:
                return 0
            have = set(_get_by_generations(self.chunks_ml, gens, [])["ids"])
            main = _get_by_generations(self.chunks, gens, [])["ids"]
            todo = [cid for cid in main if cid not in have]
            for start in range(0, len(todo), BATCH):
                got = self.chunks.get(ids=todo[start:start + BATCH], include=["documents", "metadatas"])
                metas = [m or {} for m in got["metadatas"] or []]
                docs = list(got["documents"] or [])
                texts = [context_text(str(m.get("title", "")), str(m.get("section", "")), d) for d, m in zip(docs, metas, strict=True)]
                vecs = embed_multilingual(texts)
                self.chunks_ml.upsert(ids=list(got["ids"]), embeddings=[list(map(float, v)) for v in vecs],
                                      metadatas=[_ml_metadata(m) for m in metas])
            if todo:
                self._written()
        return len(todo)


#: Up to this many chunks in a collection, dense search is exact (a matrix product over every
#: committed vector, ~10 ms and 150 MB at 100,000 MiniLM chunks) instead of Chroma's HNSW index.
#: Measured on the benchmark's 100,000-chunk store, whose library repeats paragraphs as real ones
#: do (40 copies of each distractor passage): for 22 of 49 guideline questions HNSW's 20 nearest
#: left out the shipped passages that the exact search ranks first, although it explored 300
#: candidates; the graph routes around the clusters of identical vectors badly.
EXACT_MAX_CHUNKS = 400_000


class ExactIndex:
    """The committed vectors of one collection, kept in memory generation by generation.

    A generation is written once and never changed, so a new store state costs only the vectors
    of the generations committed since the last query (an ingest reads back its own chunks); the
    ones no longer committed (a source replaced or deleted) are dropped.
    """

    def __init__(self) -> None:
        self.blocks: dict[str, tuple[list[str], Any]] = {}  # generation -> (ids, vectors)
        self.key: tuple[str, ...] | None = None
        self.ids: list[str] = []
        self.matrix: Any = None

    def sync(self, coll, generations: Sequence[str]) -> None:
        import numpy as np

        key = tuple(sorted(generations))
        if key == self.key:
            return
        wanted = set(key)
        missing = [g for g in key if g not in self.blocks]
        if missing:
            got = _get_by_generations(coll, missing, ["embeddings"])
            by_gen: dict[str, tuple[list[str], list]] = {g: ([], []) for g in missing}
            for cid, vec in zip(got["ids"], got["embeddings"], strict=False):
                gen = cid.split(":")[-2] if cid.count(":") >= 2 else ""
                if gen in by_gen:
                    by_gen[gen][0].append(cid)
                    by_gen[gen][1].append(vec)
            for gen, (ids, vecs) in by_gen.items():
                self.blocks[gen] = (ids, np.asarray(vecs, dtype=np.float32).reshape(len(ids), -1))
        self.blocks = {g: b for g, b in self.blocks.items() if g in wanted}
        parts = [self.blocks[g] for g in key if self.blocks[g][0]]
        self.ids = [i for ids, _ in parts for i in ids]
        self.matrix = np.concatenate([m for _, m in parts]) if parts else np.zeros((0, 1), dtype=np.float32)
        self.key = key

    def nearest(self, q, n: int) -> tuple[list[str], list[float]]:
        """Ids and cosine similarities of the ``n`` rows nearest ``q`` (a unit vector), best first;
        ties are broken by the order the generations were committed in, the same on every call."""
        import numpy as np

        if not self.ids:
            return [], []
        sims = self.matrix @ np.asarray(q, dtype=np.float32)
        n = min(n, len(self.ids))
        top = np.argpartition(-sims, n - 1)[:n]
        top = top[np.lexsort((top, -sims[top]))]
        return [self.ids[i] for i in top], [float(sims[i]) for i in top]


#: What the multilingual collection keeps beside each vector: the fields its filters and repairs use. The
#: chunk's text and citation metadata are the main collection's, under the same id (a second copy of every
#: text cost a third of the store write: Chroma indexes each document for full-text search).
ML_FIELDS = ("gen", "source_id", "language")


def _ml_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta[k] for k in ML_FIELDS if k in meta}


def _read_hits(coll, ids: list[str], dists: list[float]) -> list[tuple[str, str, dict, float]]:
    """(id, text, metadata, cosine similarity) of ``ids`` in their order (a chunk deleted meanwhile is left out)."""
    if not ids:
        return []
    got = coll.get(ids=list(ids), include=["documents", "metadatas"])
    by_id = {i: (d, m or {}) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)}
    return [(i, *by_id[i], 1.0 - float(x)) for i, x in zip(ids, dists, strict=False) if i in by_id]


def _hits(res: dict[str, Any]) -> list[tuple[str, str, dict, float]]:
    """(id, text, metadata, cosine similarity) of a one-query Chroma result."""
    ids, docs = res["ids"][0], (res["documents"] or [[]])[0]
    metas, dists = (res["metadatas"] or [[]])[0], (res["distances"] or [[]])[0]
    return [(i, d, m or {}, 1.0 - float(x)) for i, d, m, x in zip(ids, docs, metas, dists, strict=False)]


_ROWS_PER_GET = 5000  # rows per page of one get (a get of 50,000 chunks failed with "too many SQL variables")
_GENERATIONS_PER_GET = 500  # Chroma turns a $in into SQL variables: over ~1,000 it fails ("too many SQL variables")


def _get_by_generations(coll, generations: Sequence[str], include: list[str], where: dict[str, Any] | None = None
                        ) -> dict[str, list]:
    """``coll.get`` of every chunk in ``generations`` (and ``where``), asked for in slices of generations."""
    out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
    gens = list(generations)
    for start in range(0, len(gens), _GENERATIONS_PER_GET):
        flt = _gen_filter(gens[start:start + _GENERATIONS_PER_GET])
        offset = 0
        while True:  # paged: Chroma reads the rows of one get back by id, and that too is bounded by SQLite
            got = coll.get(where={"$and": [flt, where]} if where else flt, include=include, limit=_ROWS_PER_GET,
                           offset=offset)
            out["ids"] += list(got["ids"])
            for k in include:
                out[k] += list(got[k] if got[k] is not None else [])
            if len(got["ids"]) < _ROWS_PER_GET:
                break
            offset += _ROWS_PER_GET
    return out


def _get_all(coll, include: list[str]) -> dict[str, list]:
    """``coll.get`` of every row, page by page."""
    out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
    offset = 0
    while True:
        got = coll.get(include=include, limit=_ROWS_PER_GET, offset=offset)
        out["ids"] += list(got["ids"])
        for k in include:
            out[k] += list(got[k] if got[k] is not None else [])
        if len(got["ids"]) < _ROWS_PER_GET:
            return out
        offset += _ROWS_PER_GET


def _gen_filter(generations: Sequence[str]) -> dict[str, Any]:
    gens = list(generations)
    return {"gen": gens[0]} if len(gens) == 1 else {"gen": {"$in": gens}}


def store_key(settings: Settings) -> tuple[str, ...]:
    """Identifies the store a settings object points at (for caches)."""
    if settings.chroma_host:
        return ("http", settings.chroma_host, str(settings.chroma_port), settings.kb_collection)
    return ("local", str(chroma_path(settings)), settings.kb_collection)


def _version_path(settings: Settings) -> Path:
    return settings.resolved_data_dir() / "kb-version"


def read_version(settings: Settings) -> str:
    """The local folder's write counter (changes with every committed write by any process)."""
    try:
        return _version_path(settings).read_text().strip()
    except OSError:
        return ""


def new_version() -> str:
    """A fresh value for the write counter."""
    return f"{time.time():.6f}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def bump_version(settings: Settings, version: str | None = None) -> str:
    from galen.files import write_private

    version = version or new_version()
    write_private(_version_path(settings), version)
    return version


def chroma_path(settings: Settings) -> Path:
    """Folder of the local Chroma ``PersistentClient``."""
    return settings.resolved_data_dir() / "chroma"


def _make_client(settings: Settings):
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as e:  # noqa: BLE001 - connection failures surface as several exception types
            raise BackendUnavailable(
                f"Could not reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({e}).",
                hint="Start it with `chroma run --path DIR --port PORT`, or unset GALEN_CHROMA_HOST to use the local store.",
            ) from e
    path = chroma_path(settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


_stores: dict[tuple[str, ...], KnowledgeStore] = {}
_stores_lock = threading.Lock()


def get_store(settings: Settings) -> KnowledgeStore:
    """The process-wide store for ``settings`` (opened once, repaired on open).

    Opening a store indexes nothing: :func:`knowledge.ingest.open_store` is the store with the
    shipped corpus indexed (``settings.kb_auto_index``), which retrieval and ``galen kb`` use.
    """
    key = store_key(settings)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = KnowledgeStore(settings)
            store.repair()
            _stores[key] = store
    store.refresh_if_changed()
    if not store.multilingual_checked:
        with store.lock:
            if not store.multilingual_checked:
                store.sync_multilingual()
                store.multilingual_checked = True
    return store


def forget_stores() -> None:
    """Drop cached stores (tests that delete a data folder call this)."""
    with _stores_lock:
        _stores.clear()
