"""The lexical (BM25) index of the knowledge base: SQLite FTS5, on disk, kept in step with the store.

Scoring every chunk in Python per query (rank-bm25) takes seconds at a hospital's 100,000 chunks;
FTS5 keeps an inverted index and scores only the chunks that hold a query term, in C, with
Okapi BM25 (``bm25()``: k1 = 1.2, b = 0.75). The text indexed per chunk is the same as before:
:func:`knowledge.retrieval.tokenize` of the title, the section (twice) and the text, so the
custom tokens (plural folding, "7mm" split, word bigrams, Chinese character bigrams) are kept;
FTS5 only splits that token stream on spaces.

The index is a cache derived from the store's *committed generations* (see
:mod:`knowledge.store`): :meth:`LexicalIndex.sync` adds the chunks of generations the index
lacks and drops those of generations no longer committed, in one SQLite transaction, so a
reader sees the index before or after a source's change, never half of it; search results are
also filtered by the committed set the caller read, the same one the dense search used. Each
process that opens a store (a local folder or a Chroma server) keeps its own file under
``<data>/kb-lexical/``; several processes may share one (SQLite locking, WAL).

FTS5 finds the rows; the scores come from :mod:`knowledge.bm25`, an in-memory copy of the
index's postings that gives FTS5's own ``bm25()`` scores in a fraction of its time at 100,000
chunks. It follows the file (``PRAGMA data_version`` says when another connection wrote to it)
through the ``rows`` table, which names each row's generation.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from knowledge.bm25 import Postings

SCHEMA_VERSION = "2"  # 2: the rows table (row id -> generation), for the in-memory postings
_FETCH_GENERATIONS = 64  # generations fetched from the store per request while syncing
_SAFE = re.compile(r"[^0-9A-Za-z_]+")


class LexicalIndex:
    """One store's FTS5 index file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.conn = sqlite3.connect(str(path), timeout=60.0, check_same_thread=False, isolation_level=None)
        with self.lock:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
            got = self.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if got is None or got[0] != SCHEMA_VERSION:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.execute("DROP TABLE IF EXISTS chunks")
                self.conn.execute("DROP TABLE IF EXISTS gens")
                self.conn.execute("DROP TABLE IF EXISTS rows")
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES('schema', ?)", (SCHEMA_VERSION,))
                self.conn.execute("COMMIT")
            # body: the token stream; the rest is carried to build passages without a store round trip
            self.conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS chunks USING fts5(body, cid UNINDEXED, gen UNINDEXED, "
                "text UNINDEXED, meta UNINDEXED, tokenize=\"unicode61 remove_diacritics 0 tokenchars '._'\")")
            self.conn.execute("CREATE TABLE IF NOT EXISTS gens(gen TEXT PRIMARY KEY, n INTEGER)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS rows(rowid INTEGER PRIMARY KEY, gen TEXT NOT NULL)")
            self.conn.execute("CREATE INDEX IF NOT EXISTS rows_gen ON rows(gen)")
        self.postings = Postings()
        self.seen_version: int | None = None  # PRAGMA data_version when the postings were last brought in step

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def generations(self) -> set[str]:
        with self.lock:
            return {g for (g,) in self.conn.execute("SELECT gen FROM gens")}

    def sync(self, committed: Sequence[str], fetch: Callable[[list[str]], dict[str, list]],
             tokens_of: Callable[[str, dict], list[str]]) -> tuple[int, int]:
        """Make the index hold exactly the chunks of ``committed`` generations.

        Args:
            committed: the store's committed generations (read by the caller).
            fetch: ``fetch(generations) -> {"ids", "documents", "metadatas"}`` (the store's ``chunks_of``).
            tokens_of: the token stream indexed for one chunk (text, metadata).

        Returns:
            (generations added, generations dropped).
        """
        want = set(committed)
        have = self.generations()
        if want == have:
            return 0, 0
        # fetch outside the write lock: reading the store may take a while for a large first sync
        todo = sorted(want - have)
        rows: list[tuple[str, str, str, str, str]] = []
        counts: dict[str, int] = {g: 0 for g in todo}
        for start in range(0, len(todo), _FETCH_GENERATIONS):
            got = fetch(todo[start:start + _FETCH_GENERATIONS])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=False):
                meta = meta or {}
                gen = str(meta.get("gen", ""))
                if gen not in counts:
                    continue
                counts[gen] += 1
                rows.append((" ".join(tokens_of(text, meta)), cid, gen, text, json.dumps(meta, ensure_ascii=False)))
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                have = {g for (g,) in self.conn.execute("SELECT gen FROM gens")}  # another process may have synced
                drop = sorted(have - want)
                for g in drop:
                    self.conn.execute("DELETE FROM chunks WHERE rowid IN (SELECT rowid FROM rows WHERE gen = ?)", (g,))
                    self.conn.execute("DELETE FROM rows WHERE gen = ?", (g,))
                    self.conn.execute("DELETE FROM gens WHERE gen = ?", (g,))
                fresh = [r for r in rows if r[2] not in have]
                # new rows get row ids above the largest one (this transaction is the only writer)
                top = int(self.conn.execute("SELECT coalesce(max(rowid), 0) FROM chunks").fetchone()[0])
                self.conn.executemany("INSERT INTO chunks(body, cid, gen, text, meta) VALUES (?, ?, ?, ?, ?)", fresh)
                self.conn.execute("INSERT INTO rows SELECT rowid, gen FROM chunks WHERE rowid > ?", (top,))
                self.conn.executemany("INSERT OR IGNORE INTO gens VALUES (?, ?)",
                                      [(g, n) for g, n in counts.items() if g not in have])
                self.conn.execute("COMMIT")
                self.seen_version = None  # data_version does not count this connection's own commits
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return len([g for g in todo if g not in have]), len(drop)

    def search(self, tokens: Sequence[str], n: int, committed: set[str]) -> list[tuple[str, str, dict, float]]:
        """(chunk id, text, metadata, BM25 score) of the ``n`` best chunks holding any of ``tokens``."""
        terms = list(dict.fromkeys(t.replace('"', "") for t in tokens if t.replace('"', "")))
        if not terms:
            return []
        with self.lock:
            self._follow()
            best = self.postings.top(terms, n + 16)
            if not best:
                return []
            marks = ",".join("?" * len(best))
            got = {rowid: (cid, gen, text, meta) for rowid, cid, gen, text, meta in self.conn.execute(
                f"SELECT rowid, cid, gen, text, meta FROM chunks WHERE rowid IN ({marks})", [r for r, _ in best])}
        out = [(got[r][0], got[r][2], json.loads(got[r][3]), s) for r, s in best if r in got and got[r][1] in committed]
        return [hit for hit in out if hit[3] > 0][:n]

    def fts5_search(self, tokens: Sequence[str], n: int) -> list[tuple[str, float]]:
        """(chunk id, score) of FTS5's own ``bm25()`` ranking (what :meth:`search` reproduces; for tests)."""
        terms = list(dict.fromkeys(t.replace('"', "") for t in tokens if t.replace('"', "")))
        if not terms:
            return []
        with self.lock:
            got = self.conn.execute(
                "SELECT cid, bm25(chunks) AS s FROM chunks WHERE chunks MATCH ? ORDER BY s LIMIT ?",
                (" OR ".join(f'"{t}"' for t in terms), n)).fetchall()
        return [(cid, -float(s)) for cid, s in got]

    def _follow(self) -> None:
        """Bring the in-memory postings in step with the file (after a sync by us or another connection)."""
        version = int(self.conn.execute("PRAGMA data_version").fetchone()[0])
        if version == self.seen_version:
            return
        have = {g for (g,) in self.conn.execute("SELECT gen FROM gens")}
        self.postings.update(have, self._rows_of)
        self.seen_version = version

    def _rows_of(self, generations: list[str]) -> list[tuple[int, str, str]]:
        out: list[tuple[int, str, str]] = []
        for start in range(0, len(generations), 500):  # under SQLite's limit on variables
            part = generations[start:start + 500]
            out += self.conn.execute(
                f"SELECT r.rowid, r.gen, c.body FROM rows r JOIN chunks c ON c.rowid = r.rowid "
                f"WHERE r.gen IN ({','.join('?' * len(part))}) ORDER BY r.rowid", part).fetchall()
        return out

    def size(self) -> int:
        with self.lock:
            return int(self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


_indexes: dict[tuple[str, ...], LexicalIndex] = {}
_indexes_lock = threading.Lock()


def index_path(data_dir: Path, key: tuple[str, ...]) -> Path:
    """Where the index of the store identified by ``key`` (:func:`knowledge.store.store_key`) lives."""
    name = "_".join(_SAFE.sub("-", part)[-60:] for part in key if part)
    return data_dir / "kb-lexical" / f"{name}.sqlite"


def get_index(data_dir: Path, key: tuple[str, ...]) -> LexicalIndex:
    """The process-wide index for a store (opened once)."""
    with _indexes_lock:
        idx = _indexes.get(key)
        if idx is None or not idx.path.exists():
            idx = LexicalIndex(index_path(data_dir, key))
            _indexes[key] = idx
        return idx


def forget_indexes() -> None:
    """Close and drop cached indexes (tests that delete a data folder call this)."""
    with _indexes_lock:
        for idx in _indexes.values():
            try:
                idx.close()
            except sqlite3.Error:
                pass
        _indexes.clear()
