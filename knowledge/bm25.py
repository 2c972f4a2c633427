"""Okapi BM25 over the lexical index's token streams, in memory with numpy: FTS5's scores, sooner.

FTS5 matches a query's terms in a few milliseconds, but its ``bm25()`` scores each matching row
through its auxiliary-function interface (phrase counts and the row's size read row by row):
~90 ms per guideline question at 100,000 chunks (measured here; 15 terms, tens of thousands of
matching rows). This module keeps, per term, the rows holding it and how often (an inverted
index in numpy arrays) and scores a query with a few vector operations per term.

The scores are FTS5's own, to the last bit: the same formula (k1 = 1.2, b = 0.75, IDF
``log((N - n + 0.5) / (n + 0.5))`` floored at 1e-6, N and the average length over every row of
the index), computed in the same order in double precision, and FTS5 splits the token stream on
spaces exactly as :meth:`str.split` does (every token :func:`knowledge.retrieval.tokenize` makes
is one FTS5 token). Ties are broken by row id, as FTS5's scan order does.

Rows are added in *segments* (one per sync that added generations) and dropped by marking them
dead, so that a change to one source does not rebuild the whole index; the segments are merged
when there are many or half the rows are dead.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75
_IDF_FLOOR = 1e-6  # FTS5's IDF for a term that half or more of the rows hold
_MAX_SEGMENTS = 8


@dataclass
class _Segment:
    """Rows added together: their FTS5 row ids, generations and lengths, and a CSR of term -> rows."""

    rowids: np.ndarray  # int64, one per row
    gens: list[str]  # the generation of each row
    lengths: np.ndarray  # float64: tokens in the row (FTS5's column size)
    indptr: np.ndarray  # int64, len(vocabulary known when built) + 1: term id -> slice of docs/tfs
    docs: np.ndarray  # int32: row positions in this segment, sorted within each term
    tfs: np.ndarray  # float64: how often the term occurs in the row
    alive: np.ndarray  # bool, one per row

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        if term + 1 >= len(self.indptr):
            return self.docs[:0], self.tfs[:0]
        a, b = int(self.indptr[term]), int(self.indptr[term + 1])
        return self.docs[a:b], self.tfs[a:b]


class Postings:
    """The inverted index of the rows of a set of generations (see the module docstring)."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.segments: list[_Segment] = []
        self.covered: set[str] = set()

    def rows(self) -> int:
        """Live rows (FTS5's row count)."""
        return int(sum(int(s.alive.sum()) for s in self.segments))

    def nbytes(self) -> int:
        """Bytes held by the arrays (the vocabulary's strings not counted)."""
        return int(sum(s.rowids.nbytes + s.lengths.nbytes + s.indptr.nbytes + s.docs.nbytes + s.tfs.nbytes
                       + s.alive.nbytes for s in self.segments))

    def update(self, have: set[str], rows_of: Callable[[list[str]], Iterable[tuple[int, str, str]]]) -> None:
        """Cover exactly the generations ``have``.

        Args:
            have: the generations the index file holds now.
            rows_of: ``rows_of(generations)`` yields (row id, generation, token stream) of their rows.
        """
        gone = self.covered - have
        if gone:
            for seg in self.segments:
                seg.alive &= ~np.fromiter((g in gone for g in seg.gens), dtype=bool, count=len(seg.gens))
            self.covered -= gone
        total = sum(len(s.gens) for s in self.segments)
        dead = total - self.rows()
        if len(self.segments) >= _MAX_SEGMENTS or (total and dead * 2 > total):
            self.segments, self.covered = [], set()  # merge: build one segment of everything again
        todo = sorted(have - self.covered)
        if todo:
            seg = self._build(rows_of(todo))
            if len(seg.gens):
                self.segments.append(seg)
            self.covered |= set(todo)
        self.segments = [s for s in self.segments if s.alive.any()]

    def _build(self, rows: Iterable[tuple[int, str, str]]) -> _Segment:
        vocab = self.vocabulary
        rowids: list[int] = []
        gens: list[str] = []
        lengths = array("q")
        term_ids = array("q")
        for rowid, gen, body in rows:
            toks = body.split()
            rowids.append(rowid)
            gens.append(gen)
            lengths.append(len(toks))
            term_ids.extend([vocab.setdefault(t, len(vocab)) for t in toks])
        n = len(rowids)
        lens = np.frombuffer(lengths, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        terms = np.frombuffer(term_ids, dtype=np.int64) if len(term_ids) else np.zeros(0, dtype=np.int64)
        doc_of = np.repeat(np.arange(n, dtype=np.int64), lens)
        keys, counts = np.unique(terms * max(n, 1) + doc_of, return_counts=True)
        term_of = keys // max(n, 1)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_of, minlength=len(vocab)), out=indptr[1:])
        return _Segment(rowids=np.asarray(rowids, dtype=np.int64), gens=gens, lengths=lens.astype(np.float64),
                        indptr=indptr, docs=(keys % max(n, 1)).astype(np.int32), tfs=counts.astype(np.float64),
                        alive=np.ones(n, dtype=bool))

    def top(self, terms: Sequence[str], n: int) -> list[tuple[int, float]]:
        """(row id, BM25 score) of the ``n`` best rows holding any of ``terms`` (distinct), best first."""
        ids = [self.vocabulary.get(t) for t in terms]
        live = [s for s in self.segments if s.alive.any()]
        n_rows = sum(int(s.alive.sum()) for s in live)
        if not n_rows or all(i is None for i in ids):
            return []
        n_tokens = sum(int(s.lengths[s.alive].sum()) for s in live)
        avgdl = float(n_tokens) / float(n_rows)
        idfs: list[float | None] = []
        for i in ids:
            if i is None:
                idfs.append(None)
                continue
            hits = sum(int(s.alive[s.postings(i)[0]].sum()) for s in live)
            idf = math.log((n_rows - hits + 0.5) / (hits + 0.5))
            idfs.append(idf if idf > 0.0 else _IDF_FLOOR)
        got_scores: list[np.ndarray] = []
        got_rowids: list[np.ndarray] = []
        for seg in live:
            scores = np.zeros(len(seg.gens), dtype=np.float64)
            matched = np.zeros(len(seg.gens), dtype=bool)
            for i, idf in zip(ids, idfs, strict=True):
                if i is None or idf is None:
                    continue
                docs, tf = seg.postings(i)
                if not len(docs):
                    continue
                d = seg.lengths[docs]
                # FTS5's bm25(), operation for operation: idf * ((f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl)))
                scores[docs] += idf * ((tf * (K1 + 1.0)) / (tf + K1 * ((1 - B) + (B * d) / avgdl)))
                matched[docs] = True
            matched &= seg.alive
            got_scores.append(scores[matched])
            got_rowids.append(seg.rowids[matched])
        scores = np.concatenate(got_scores)
        rowids = np.concatenate(got_rowids)
        if len(scores) > n:
            kth = np.partition(scores, len(scores) - n)[len(scores) - n]
            keep = scores >= kth
            scores, rowids = scores[keep], rowids[keep]
        order = np.lexsort((rowids, -scores))[:n]
        return [(int(rowids[j]), float(scores[j])) for j in order]
