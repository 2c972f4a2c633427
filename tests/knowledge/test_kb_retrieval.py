"""Retrieval over the shipped corpus: the guideline suite's recall, the tool, and the BM25 cache."""

from __future__ import annotations

import re

import pytest

from galen.errors import MissingFacts
from knowledge.bench_retrieval import DEFAULT_SUITE, evaluate, load_suite
from knowledge.documents import read_document
from knowledge.ingest import corpus_files
from knowledge.retrieval import search
from tools.base import ToolContext
from tools.guidelines import SearchGuidelinesTool


def test_suite_cases_name_real_sections_and_facts(tmp_path):
    from galen.settings import Settings

    settings = Settings(data_dir=tmp_path, kb_auto_index=False)
    sections = {}
    for path in corpus_files():
        doc = read_document(path, settings)
        for sec in doc.sections:
            sections[(doc.source_id, sec.heading)] = sections.get((doc.source_id, sec.heading), "") + sec.text
    cases = load_suite(DEFAULT_SUITE)
    assert len(cases) >= 40 and len({c["id"] for c in cases}) == len(cases)
    for case in cases:
        expect = case["expect"]
        (source,) = expect["cited_sources"]
        text = sections.get((source, expect["section"]))
        assert text is not None, f"{case['id']}: no section {expect['section']!r} in {source}"
        for fact in expect["answer_contains"]:
            assert fact.lower() in text.lower(), f"{case['id']}: {fact!r} not in {source} / {expect['section']}"


def test_fused_recall_at_5_on_guideline_suite(corpus_settings):
    result = evaluate(load_suite(DEFAULT_SUITE), corpus_settings)
    print(result)
    assert result["fused"]["recall@5"] >= 0.9
    assert result["fused"]["source_recall@5"] >= 0.95
    # Fusion must beat plain dense search (the point in adding BM25).
    assert result["fused"]["recall@1"] >= result["dense"]["recall@1"]
    assert result["fused"]["recall@5"] >= result["dense"]["recall@5"]


def test_fleischner_question_finds_single_solid_nodule_passage(corpus_settings):
    q = "What follow-up does Fleischner recommend for a single 7 mm solid nodule in a high-risk patient?"
    top = search(q, k=4, settings=corpus_settings)
    assert top[0].source_id == "fleischner-2017"
    assert top[0].section == "Solid nodules > Single solid nodule"
    assert "CT at 6-12 months, then CT at 18-24 months" in top[0].text
    assert top[0].link and top[0].citation().startswith("Fleischner Society 2017")
    assert [p.score for p in top] == sorted((p.score for p in top), reverse=True)
    for mode in ("dense", "lexical"):
        assert search(q, k=2, settings=corpus_settings, mode=mode)[0].source_id == "fleischner-2017"


def test_lexical_index_is_cached_per_store_state(corpus_settings):
    from knowledge import retrieval
    from knowledge.store import get_store

    store = get_store(corpus_settings)
    gens = store.committed_generations()
    first = retrieval._lexical_index(store, gens)
    assert retrieval._lexical_index(store, gens) is first


def test_tool_extracts_and_returns_cited_passages(corpus_settings, tmp_path):
    tool = SearchGuidelinesTool()
    assert tool.availability() == (True, "ready")
    ctx = ToolContext(settings=corpus_settings, workdir=tmp_path, question="")
    q = "Which identifiers does HIPAA Safe Harbor require removing?"
    raw = tool.extract_arguments(q, ctx)
    assert raw == {"query": q, "k": corpus_settings.kb_top_k}
    result = tool.run(tool.validate_arguments(raw), ctx)
    assert result.tool == "search_guidelines" and len(result.passages) == corpus_settings.kb_top_k
    assert result.passages[0].source_id == "responsible-use"
    assert result.facts[0].startswith("[1] responsible-use, HIPAA Safe Harbor: the 18 identifiers:")
    for fact, passage in zip(result.facts, result.passages, strict=True):
        quoted = re.search(r'"(.*)"$', fact).group(1).rstrip("…")
        assert quoted in passage.text.replace("\n", " ") or quoted in passage.text
    assert result.data["passages"][0]["source_id"] == "responsible-use"
    with pytest.raises(MissingFacts) as info:
        tool.extract_arguments("   ", ctx)
    assert info.value.missing == ["question"]


def test_snippet_prefers_the_matching_size_band_and_risk():
    from knowledge.types import Passage
    from tools.guidelines import best_snippet

    text = (
        "- Single solid nodule smaller than 6 mm (<100 mm3), low-risk patient: no routine follow-up.\n"
        "- Single solid nodule smaller than 6 mm (<100 mm3), high-risk patient: optional CT at 12 months.\n"
        "- Single solid nodule 6 to 8 mm (100-250 mm3), low-risk patient: CT at 6-12 months, then consider CT at 18-24 months.\n"
        "- Single solid nodule 6 to 8 mm (100-250 mm3), high-risk patient: CT at 6-12 months, then CT at 18-24 months.\n"
        "- Single solid nodule larger than 8 mm (>250 mm3), low-risk or high-risk patient: consider CT at 3 months."
    )
    p = Passage(source_id="f", title="F", text=text)
    assert best_snippet(p, "follow-up for a single 7 mm solid nodule, high-risk patient").endswith(
        "high-risk patient: CT at 6-12 months, then CT at 18-24 months.")
    assert best_snippet(p, "single 4 mm solid nodule in a low-risk patient, follow-up?").endswith("no routine follow-up.")
    assert best_snippet(p, "solid nodule of 1.2 cm").startswith("Single solid nodule larger than 8 mm")
    assert len(best_snippet(Passage(source_id="x", title="X", text="word " * 200), "word", limit=50)) == 50


def test_key_sentences_across_passages():
    from knowledge.snippets import key_sentences

    passages = [
        {"text": "- Solid nodule smaller than 6 mm: category 2.\n- Solid nodule 6 mm to smaller than 8 mm: category 3."},
        {"text": "Growth means an increase of more than 1.5 mm. Unrelated sentence about cysts."},
    ]
    top = key_sentences("Which category is a 7 mm solid nodule?", passages, limit=2)
    assert top[0] == ("Solid nodule 6 mm to smaller than 8 mm: category 3.", 1)
    assert all(n in (1, 2) for _, n in top)
    assert key_sentences("zebra", passages) == []


def test_sentences_for_another_nodule_type_lose_and_lists_are_quoted_whole():
    from knowledge.snippets import key_sentences
    from knowledge.terms import nodule_kinds

    assert nodule_kinds("A persistent part-solid nodule") == {"part-solid"}
    assert nodule_kinds("non-solid (ground-glass) or solid") == {"ground-glass", "solid"}
    passages = [{"text": "- Single part-solid nodule 6 mm or larger: CT at 3-6 months.\n"
                         "- Single solid nodule larger than 8 mm: consider CT at 3 months, PET/CT, or tissue sampling."}]
    (top,) = key_sentences("A 10 mm solid nodule: what does Fleischner advise?", passages, limit=1)
    assert top[0].startswith("Single solid nodule larger than 8 mm")
    rules = {"text": "Poor absorption is more likely when a compound has:\n- molecular weight over 500 Da;\n"
                     "- more than 5 hydrogen-bond donors.\nAll cut-offs are multiples of five."}
    (top,) = key_sentences("When is poor absorption more likely?", [rules], limit=1)
    assert top == ("Poor absorption is more likely when a compound has: molecular weight over 500 Da; "
                   "more than 5 hydrogen-bond donors.", 1)


def test_a_stated_probability_picks_the_band_that_admits_it() -> None:
    """"Brock 13%" is answered by the rule for 10% or more, not by the one below 10% that shares more words."""
    from knowledge.snippets import key_sentences, probability_fit, stated_probabilities

    probs = stated_probabilities("part-solid nodule 15 mm Brock probability 13% PET-CT 10% threshold; Brock 13%")
    assert probs == [("brock", 13.0)]  # a bare threshold is not a stated probability; repeats count once
    assert probability_fit("Brock probability below 10%: CT surveillance.", probs) == -3
    assert probability_fit("Brock probability of 10% or more: PET-CT.", probs) == 3
    assert probability_fit("Herder probability of 10% to 70%: consider biopsy.", probs) == 0  # another model
    assert probability_fit("A change in volume of 25% or more is significant.", probs) == 0  # not a probability
    assert probability_fit("The probability of recurrence fell from 46.2% to 33.0%.", probs) == 0  # a change
    assert probability_fit("Herder probability above 70%: excision.", [("", 80.0)]) == 3
    passages = [{"text": "Persistent subsolid nodule with a Brock probability below 10%: CT surveillance at 1, 2 and "
                         "4 years.\nSubsolid nodule with a Brock probability of 10% or more: consider CT surveillance "
                         "or biopsy."}]
    (top,) = key_sentences("persistent subsolid nodule Brock probability 13%", passages, limit=1)
    assert top[0].startswith("Subsolid nodule with a Brock probability of 10% or more")


def test_a_definition_question_quotes_the_defining_sentences() -> None:
    from knowledge.snippets import key_sentences

    passages = [{"text": "Multiple solid nodules smaller than 6 mm, high-risk patient: optional CT at 12 months."},
                {"text": "Low risk means minimal or absent smoking history. High risk means a history of smoking."}]
    top = key_sentences("How does Fleischner define high-risk and low-risk patients?", passages, limit=2)
    assert {n for _, n in top} == {2}
    assert key_sentences("high-risk patient 5 mm solid nodule follow-up", passages, limit=1)[0][1] == 1


def test_reading_every_chunk_pages_through_the_store(corpus_settings, monkeypatch) -> None:
    """A get of 50,000 chunks at once failed in Chroma ("too many SQL variables"): reads are paged."""
    from knowledge import store as store_mod
    from knowledge.ingest import open_store

    store = open_store(corpus_settings)
    gens = store.committed_generations()
    whole = store.chunks_of(gens)
    monkeypatch.setattr(store_mod, "_ROWS_PER_GET", 7)
    paged = store.chunks_of(gens)
    assert len(whole["ids"]) > 20 and sorted(paged["ids"]) == sorted(whole["ids"])
    assert len(set(paged["ids"])) == len(paged["ids"])
