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


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "hnsw"])
def test_dense_search_never_returns_uncommitted_chunks(kb, tmp_path: Path, monkeypatch, exact: bool) -> None:
    """Unfiltered nearest neighbours are kept only when committed; when uncommitted chunks crowd the top
    (a write in progress), the filtered query answers. The exact search reads committed vectors only."""
    import knowledge.store as ks

    monkeypatch.setattr(ks, "EXACT_MAX_CHUNKS", 10**9 if exact else 0)
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


def test_in_memory_bm25_gives_fts5s_own_ranking_and_scores_through_changes(tmp_path: Path) -> None:
    """The postings follow adds, drops and another connection's sync, and always rank (and score, to the
    bit) as FTS5's bm25() does."""
    import random

    from knowledge.retrieval import tokenize

    rng = random.Random(3)
    words = "solid nodule ground glass follow-up ct months mm category safe harbor thyroid cyst biopsy 4b 6 8 12".split()

    def chunks(gen: str, n: int) -> dict[str, list]:
        texts = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 30))) for _ in range(n)]
        return {"ids": [f"{gen}:{i}" for i in range(n)], "documents": texts,
                "metadatas": [{"gen": gen, "source_id": gen} for _ in texts]}

    store = {g: chunks(g, 40) for g in ("g1", "g2", "g3", "g4")}

    def fetch(gens: list[str]) -> dict[str, list]:
        return {k: [x for g in gens for x in store[g][k]] for k in ("ids", "documents", "metadatas")}

    index = LexicalIndex(tmp_path / "lex.sqlite")
    other = LexicalIndex(tmp_path / "lex.sqlite")  # another process's connection to the same file

    def same(committed: set[str]) -> None:
        for question in ("solid nodule 8 mm follow-up", "safe harbor", "category 4b nodule ct", "thyroid", "zzz"):
            q = tokenize(question)
            ref = [(c, s) for c, s in index.fts5_search(q, 15 + 16)][:15]
            got = index.search(q, 15, committed)
            assert [(h[0], h[3]) for h in got] == [(c, s) for c, s in ref if c.split(":")[0] in committed][:15]

    tokens = lambda text, meta: tokenize(text)  # noqa: E731
    index.sync(["g1", "g2"], fetch, tokens)
    same({"g1", "g2"})
    index.sync(["g2", "g3"], fetch, tokens)  # g1 dropped, g3 added: a dead row and a second segment
    same({"g2", "g3"})
    other.sync(["g2", "g3", "g4"], fetch, tokens)  # written by the other connection
    same({"g2", "g3", "g4"})
    assert index.postings.covered == {"g2", "g3", "g4"}


def test_committed_generations_are_reused_until_a_commit_or_removal(kb, tmp_path: Path) -> None:
    from knowledge.admin import remove_source
    from knowledge.ingest import ingest_paths, open_store

    ingest_paths([_doc(tmp_path / "a.md", "alpha", "Zorblax syndrome needs a zorblax panel.")], kb)
    store = open_store(kb)
    reads = []
    real = store.sources
    store.sources = lambda: reads.append(1) or real()  # type: ignore[method-assign]

    def generations() -> tuple[list[str], int]:
        reads.clear()
        return store.committed_generations(), len(reads)

    first, n = generations()
    assert n == 1 and generations() == (first, 0)  # the token is unchanged: no manifest read
    ingest_paths([_doc(tmp_path / "b.md", "beta", "Quintaxin dosing is 5 mg daily.")], kb)
    second, n = generations()
    assert n == 1 and len(second) == 2 and set(first) < set(second) and generations() == (second, 0)
    remove_source("alpha", kb)
    third, n = generations()
    assert n == 1 and len(third) == 1 and set(third) < set(second)
    assert "state:commits" not in store.sources() and _lexical_sources(kb, "zorblax") == []


def test_copies_of_one_passage_in_many_sources_take_one_place_of_k(kb, tmp_path: Path) -> None:
    """A paragraph repeated in many local protocols (numbers and site changed) fills one of the k places;
    the passage from another source that also answers stays in the results."""
    from knowledge.ingest import ingest_paths
    from knowledge.retrieval import search

    files = [_doc(tmp_path / f"local{i}.md", f"local-{i}",
                  f"Thyroid nodule follow-up ultrasound at {6 + i % 3} months is suggested for TI-RADS {3 + i % 2} "
                  f"nodules larger than {10 + i % 3} mm. (Local protocol {i}.)") for i in range(8)]
    files.append(_doc(tmp_path / "national.md", "national",
                      "Thyroid nodule surveillance: repeat ultrasound for TI-RADS 3 nodules of 15 mm or more."))
    ingest_paths(files, kb)
    hits = search("thyroid nodule follow-up ultrasound interval TI-RADS 3", k=3, settings=kb)
    sources = [p.source_id for p in hits]
    assert "national" in sources
    assert sum(s.startswith("local-") for s in sources) == 1


def test_rows_under_different_headings_are_never_merged() -> None:
    """Two rows of one guideline share most words but not their heading: both are kept."""
    from knowledge.retrieval import _near_duplicate, _signature

    text = ("A single solid nodule of 6-8 mm in a low-risk patient: CT at 6-12 months, then consider CT at "
            "18-24 months. Measure the average of long and short axes on the same image and report it.")
    a = _signature(text, {"section": "Solid nodules > 6-8 mm"})
    b = _signature(text.replace("low-risk", "high-risk"), {"section": "Solid nodules > high risk"})
    c = _signature(text.replace("6-8", "7-9").replace("6-12", "7-13") + " (Local protocol 3.)",
                   {"section": "solid  Nodules > 6-8 mm"})
    assert not _near_duplicate(a, b)
    assert _near_duplicate(a, c)
    assert not _near_duplicate(_signature("", {"section": "x"}), _signature("", {"section": "x"}))


def test_a_second_chunk_of_a_section_yields_to_another_section_ranked_just_below() -> None:
    """Fused results prefer a different section to a second chunk of one already chosen, unless the
    second chunk is far ahead; copies are still dropped, and nothing is lost when candidates run out."""
    from knowledge.retrieval import _diverse_top

    def chunk(source: str, section: str, words: str) -> tuple[str, dict]:
        return words, {"source_id": source, "section": section}

    found = {
        "a1": chunk("fleischner", "Solid nodules", "single solid nodule six to eight millimetres follow up"),
        "a2": chunk("fleischner", "Solid nodules", "multiple solid nodules larger than eight millimetres"),
        "b1": chunk("bts", "Surveillance", "volumetry growth doubling time surveillance scans"),
        "c1": chunk("lung-rads", "Category 3", "probably benign short interval follow up"),
    }
    close = {"a1": 0.050, "a2": 0.040, "b1": 0.036, "c1": 0.030}
    assert _diverse_top(close, found, 3, discount=1.0) == ["a1", "a2", "b1"]  # plain fused order
    assert _diverse_top(close, found, 3, discount=0.8) == ["a1", "b1", "a2"]  # 0.040 * 0.8 < 0.036
    far = dict(close, a2=0.049)
    assert _diverse_top(far, found, 3, discount=0.8) == ["a1", "a2", "b1"]  # 0.049 * 0.8 > 0.036: kept ahead
    assert _diverse_top(close, found, 10, discount=0.0) == ["a1", "b1", "c1", "a2"]  # all returned, repeats last
    copies = dict(found, a3=chunk("local-1", "Solid nodules", found["a1"][0] + " local"))
    assert "a3" not in _diverse_top(dict(close, a3=0.045), copies, 4, discount=0.8)


def test_a_discounted_chunk_of_a_chosen_section_is_given_with_it_not_dropped() -> None:
    """A section's next chunk that would have had a place on its own score is joined to the section's
    chosen chunk (in document order); one below every chosen passage, or a copy, is not."""
    from knowledge.retrieval import _diverse_top, _joined, fold_siblings

    def chunk(section: str, index: int, words: str) -> tuple[str, dict]:
        return words, {"source_id": "responsible-use", "section": section, "chunk_index": index}

    found = {
        "eu2": chunk("EU AI Act", 5, "timing high risk rules apply from 2 August 2027"),
        "eu1": chunk("EU AI Act", 4, "obligations risk management data governance documentation"),
        "gmlp": chunk("GMLP", 1, "ten guiding principles multidisciplinary expertise"),
        "hipaa": chunk("HIPAA", 3, "eighteen identifiers safe harbor"),
        "eu3": chunk("EU AI Act", 6, "penalties fines national authorities"),
    }
    fused = {"eu1": 0.041, "eu2": 0.040, "gmlp": 0.039, "hipaa": 0.037, "eu3": 0.030}
    best = _diverse_top(fused, found, 3, discount=0.8)
    assert best == ["eu1", "gmlp", "hipaa"]  # the second EU chunk yields its place
    folded = fold_siblings(best, fused, found)
    assert folded == {"eu1": ["eu1", "eu2"], "gmlp": ["gmlp"], "hipaa": ["hipaa"]}  # eu3 (0.030) ranks below all
    joined = _joined(folded["eu1"], found)
    assert joined.index("obligations") < joined.index("2027")  # chunk 4 before chunk 5
    copy = dict(found, eu2=chunk("EU AI Act", 5, found["eu1"][0] + " again"))
    assert fold_siblings(best, fused, copy)["eu1"] == ["eu1"]
    assert fold_siblings([], fused, found) == {}


def test_a_heading_naming_another_nodule_type_is_discounted() -> None:
    """A question about one nodule type ranks a section headed by another type lower; a heading with
    no type, a question with no type, and "subsolid" (part-solid and ground-glass) are not discounted."""
    from knowledge.retrieval import heading_fit

    solid = "A 10 mm solid pulmonary nodule was found incidentally. What options does the Fleischner Society give?"
    assert heading_fit(solid, {"section": "Subsolid nodules > Single ground-glass nodule"}, 0.9) == 0.9
    assert heading_fit(solid, {"section": "Subsolid nodules"}, 0.9) == 0.9
    assert heading_fit(solid, {"section": "Solid nodules > Single solid nodule"}, 0.9) == 1.0
    assert heading_fit(solid, {"section": "Scope and who the recommendations apply to"}, 0.9) == 1.0
    assert heading_fit("What is Lung-RADS category 4B?", {"section": "Subsolid nodules"}, 0.9) == 1.0
    subsolid = "Management of a persistent subsolid nodule?"
    assert heading_fit(subsolid, {"section": "Subsolid nodules > Single ground-glass nodule"}, 0.9) == 1.0
    assert heading_fit(subsolid, {"section": "Solid nodules > Single solid nodule"}, 0.9) == 0.9
    assert heading_fit("磨玻璃结节 8毫米 怎么随访", {"section": "Solid nodules > Single solid nodule"}, 0.9) == 0.9
    assert heading_fit(solid, {"section": "Subsolid nodules"}, 1.0) == 1.0


def test_exact_dense_search_follows_adds_replacements_and_removals(kb, tmp_path: Path) -> None:
    from knowledge.admin import remove_source
    from knowledge.ingest import ingest_paths, open_store
    from knowledge.retrieval import search

    def dense(q: str) -> list[str]:
        return [p.source_id for p in search(q, k=1, settings=kb, mode="dense")]

    ingest_paths([_doc(tmp_path / "a.md", "alpha", "Thyroid nodules are assessed with ultrasound and TI-RADS.")], kb)
    ingest_paths([_doc(tmp_path / "b.md", "beta", "Warfarin dosing is guided by the INR.")], kb)
    assert dense("thyroid ultrasound") == ["alpha"] and dense("anticoagulant INR monitoring") == ["beta"]
    index = open_store(kb).exact[open_store(kb).chunks.name]
    before = dict(index.blocks)
    ingest_paths([_doc(tmp_path / "a.md", "alpha", "Renal cysts are classified with the Bosniak system.")], kb)
    assert dense("kidney cyst Bosniak") == ["alpha"]
    assert set(before) - set(index.blocks) and all(index.blocks[g] is before[g] for g in before if g in index.blocks)
    remove_source("beta", kb)
    assert dense("anticoagulant INR monitoring") == ["alpha"] and len(index.blocks) == 1


def test_exact_index_ranks_by_similarity_and_breaks_ties_the_same_way() -> None:
    import numpy as np

    from knowledge.store import ExactIndex

    class Coll:  # the part of a Chroma collection the index reads
        def __init__(self, rows):
            self.rows = rows

        def get(self, where=None, include=None, limit=None, offset=0):
            gens = set(where["gen"]["$in"]) if isinstance(where["gen"], dict) else {where["gen"]}
            rows = [r for r in self.rows if r[0].split(":")[1] in gens][offset:offset + limit]
            return {"ids": [r[0] for r in rows], "embeddings": [r[1] for r in rows]}

    e = np.eye(4, dtype=np.float32)
    copies = [(f"d{i}:g{i % 2}:0", e[0]) for i in range(6)]  # one passage written six times
    coll = Coll([*copies, ("s:g2:0", 0.8 * e[0] + 0.6 * e[1]), ("s:g2:1", e[2])])
    index = ExactIndex()
    index.sync(coll, ["g0", "g1", "g2"])
    ids, sims = index.nearest(0.8 * e[0] + 0.6 * e[1], 3)
    assert ids[0] == "s:g2:0" and sims[0] == pytest.approx(1.0) and sims[1] == pytest.approx(0.8)
    assert index.nearest(e[0], 6)[0] == index.nearest(e[0], 6)[0]  # ties: one order, call after call
    index.sync(coll, ["g2"])
    assert index.nearest(e[0], 5)[0] == ["s:g2:0", "s:g2:1"]
