"""The shipped corpus is indexed on first use, once, without overriding a person's own version."""

from __future__ import annotations

from galen.settings import Settings
from knowledge import admin
from knowledge.store import forget_stores, get_store

CORPUS_IDS = ["bts-2015", "cn-pulmonary-nodules-2018", "endocrine-therapy-early-breast", "fleischner-2017", "lung-rads-2022",
              "medchem-rules", "responsible-use"]


def test_corpus_indexed_once(corpus_settings):
    before = {s.source_id: s for s in admin.list_sources(corpus_settings)}
    assert sorted(before) == CORPUS_IDS and all(s.origin == "corpus" for s in before.values())
    forget_stores()  # as if a new process opened the same folder
    get_store(corpus_settings)
    after = {s.source_id: s for s in admin.list_sources(corpus_settings)}
    assert {k: v.generation for k, v in after.items()} == {k: v.generation for k, v in before.items()}


def test_own_version_of_a_corpus_source_is_kept(tmp_path):
    data = tmp_path / "data"
    own = tmp_path / "fleischner.md"
    own.write_text("---\nid: fleischner-2017\ntitle: Our local nodule protocol\n---\n\n# Local\n\n"
                   "## Rule\n\nEvery nodule is discussed at the weekly meeting.\n", encoding="utf-8")
    admin.ingest_paths([own], Settings(data_dir=data, kb_auto_index=False))
    forget_stores()
    settings = Settings(data_dir=data)  # auto-index on
    sources = {s.source_id: s for s in admin.list_sources(settings)}
    assert sorted(sources) == CORPUS_IDS
    assert sources["fleischner-2017"].title == "Our local nodule protocol"
    assert sources["fleischner-2017"].origin == "user" and sources["lung-rads-2022"].origin == "corpus"
