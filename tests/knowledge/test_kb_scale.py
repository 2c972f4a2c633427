"""The FTS5 lexical index: the same BM25 as a reference computed by hand, in step with the store's
committed generations (add, replace, remove, an abandoned write), persistent across restarts."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from galen.settings import Settings
from knowledge.lexical import LexicalIndex


def _reference_bm25(docs: list[list[str]], query: list[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 as SQLite documents its bm25(): IDF log((N - n + 0.5) / (n + 0.5)), 1e-6 when not positive."""
    n_docs = len(docs)
    avgdl = sum(len(d) for d in docs) / n_docs
    out = []
    for d in docs:
        tf = Counter(d)
        s = 0.0
        for q in dict.fromkeys(query):
            n = sum(1 for x in docs if q in x)
            if not n:
                continue
            idf = math.log((n_docs - n + 0.5) / (n + 0.5))
            idf = idf if idf > 0 else 1e-6
            f = tf[q]
            s += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(d) / avgdl))
        out.append(s)
    return out


def test_fts5_scores_equal_the_reference_bm25(tmp_path: Path) -> None:
    from knowledge.retrieval import tokenize

    texts = ["solid nodule 8 mm follow-up CT at 6 to 12 months", "ground-glass nodule 6 mm no routine follow-up",
             "Lung-RADS category 4B suspicious nodule", "HIPAA Safe Harbor identifiers removal",
             "part-solid nodule solid component 6 mm", "thyroid nodule TI-RADS 4 fine needle aspiration",
             "renal cyst Bosniak IIF follow-up", "liver lesion LI-RADS 5 multidisciplinary"]
    docs = [tokenize(t) for t in texts]
    index = LexicalIndex(tmp_path / "lex.sqlite")
    got = {"ids": [f"c{i}" for i in range(len(texts))], "documents": texts,
           "metadatas": [{"gen": "g1", "source_id": "s"} for _ in texts]}
    index.sync(["g1"], lambda gens: got, lambda text, meta: tokenize(text))
    for question in ("solid nodule 6 mm follow-up", "Safe Harbor", "category 4B nodule", "nodule"):
        q = tokenize(question)
        ref = _reference_bm25(docs, q)
        hits = index.search(q, 8, {"g1"})
        want = sorted((i for i, s in enumerate(ref) if s > 0), key=lambda i: -ref[i])
        assert [h[0] for h in hits] == [f"c{i}" for i in want], question
        for cid, _, _, score in hits:
            assert score == pytest.approx(ref[int(cid[1:])], rel=1e-6)


@pytest.fixture
def kb(tmp_path: Path):
    from knowledge.retrieval import invalidate_cache
    from knowledge.store import forget_stores

    forget_stores()
    invalidate_cache()
    yield Settings(data_dir=tmp_path / "data", kb_auto_index=False)
    forget_stores()
    invalidate_cache()


def _doc(path: Path, sid: str, body: str) -> Path:
    path.write_text(f"---\nid: {sid}\ntitle: {sid} guideline\n---\n# Recommendations\n\n{body}\n", encoding="utf-8")
    return path


def _lexical_sources(settings: Settings, query: str) -> list[str]:
    from knowledge.retrieval import search

    return [p.source_id for p in search(query, k=10, settings=settings, mode="lexical")]


def test_index_follows_adds_replacements_and_removals(kb, tmp_path: Path) -> None:
    from knowledge.admin import remove_source
    from knowledge.ingest import ingest_paths

    ingest_paths([_doc(tmp_path / "a.md", "alpha", "Zorblax syndrome needs a zorblax panel every 6 months.")], kb)
    ingest_paths([_doc(tmp_path / "b.md", "beta", "Quintaxin dosing is 5 mg daily.")], kb)
    assert _lexical_sources(kb, "zorblax panel") == ["alpha"]
    assert _lexical_sources(kb, "quintaxin") == ["beta"]
    ingest_paths([_doc(tmp_path / "a.md", "alpha", "Frobnicate the wibble twice a year.")], kb)  # replaced
    assert _lexical_sources(kb, "zorblax panel") == []
    assert _lexical_sources(kb, "wibble") == ["alpha"]
    remove_source("beta", kb)
    assert _lexical_sources(kb, "quintaxin") == []


def test_an_uncommitted_generation_is_never_indexed(kb, tmp_path: Path) -> None:
    from knowledge.ingest import ingest_paths, open_store
    from knowledge.lexical import get_index

    ingest_paths([_doc(tmp_path / "a.md", "alpha", "Zorblax syndrome needs a zorblax panel.")], kb)
    store = open_store(kb)
    # a writer that died after adding chunks and before its commit
    store.chunks.add(ids=["ghost:dead:00000"], embeddings=[[1.0] + [0.0] * 383], documents=["zorblax ghost passage"],
                     metadatas=[{"gen": "dead", "source_id": "ghost", "title": "ghost", "section": ""}])
    assert _lexical_sources(kb, "zorblax ghost") == ["alpha"]
    index = get_index(kb.resolved_data_dir(), store.key)
    assert "dead" not in index.generations() and index.size() == len(store.chunks_of(store.committed_generations())["ids"])


def test_the_index_persists_across_a_restart(kb, tmp_path: Path) -> None:
    from knowledge.ingest import ingest_paths, open_store
    from knowledge.lexical import forget_indexes, get_index
    from knowledge.retrieval import chunk_tokens
    from knowledge.store import forget_stores

    ingest_paths([_doc(tmp_path / "a.md", "alpha", "Zorblax syndrome needs a zorblax panel.")], kb)
    assert _lexical_sources(kb, "zorblax") == ["alpha"]
    forget_indexes()
    forget_stores()
    store = open_store(kb)
    index = get_index(kb.resolved_data_dir(), store.key)
    assert index.sync(store.committed_generations(), store.chunks_of, chunk_tokens) == (0, 0)  # nothing to redo


def test_dense_search_never_returns_uncommitted_chunks(kb, tmp_path: Path) -> None:
    """Unfiltered nearest neighbours are kept only when committed; when uncommitted chunks crowd the top
    (a write in progress), the filtered query answers."""
    from knowledge.embeddings import embed
    from knowledge.ingest import ingest_paths, open_store
    from knowledge.retrieval import search

    ingest_paths([_doc(tmp_path / "a.md", "alpha", "Zorblax syndrome needs a zorblax panel every 6 months.")], kb)
    store = open_store(kb)
    q = "zorblax syndrome panel interval"
    v = [float(x) for x in embed([q])[0]]
    store.chunks.add(ids=[f"ghost:dead:{i:05d}" for i in range(50)], embeddings=[v] * 50, documents=[q] * 50,
                     metadatas=[{"gen": "dead", "source_id": "ghost", "title": "ghost", "section": ""}] * 50)
    hits = search(q, k=3, settings=kb, mode="dense")
    assert [p.source_id for p in hits] == ["alpha"]
