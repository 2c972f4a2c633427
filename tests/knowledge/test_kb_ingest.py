"""Ingesting into a real local Chroma store: formats, skip/replace/dedup, removal, bad inputs."""

from __future__ import annotations

import pytest

from galen.errors import InvalidInput, UnreadableFile, UnsupportedFile
from knowledge import admin
from knowledge.retrieval import search
from knowledge.store import get_store


def _chunk_count(settings, source_id):
    return len(get_store(settings).chunks.get(where={"source_id": source_id}, include=[])["ids"])


@pytest.fixture
def docs(tmp_path, make_pdf):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "alpha.md").write_text(
        "---\nid: alpha\ntitle: Alpha protocol\nlink: https://example.org/alpha\n---\n\n# Alpha\n\n"
        "## Zebrafish dosing\n\nZebrafish larvae receive 40 micromolar quinbolone for 72 hours.\n\n"
        "## Storage\n\nKeep the quinbolone stock frozen at minus 20 degrees.\n",
        encoding="utf-8",
    )
    (d / "beta.txt").write_text("Beta notes: the walrus cohort was scanned every 9 months.", encoding="utf-8")
    (d / "gamma.html").write_text(
        "<html><head><title>Gamma page</title></head><body><h2>Otters</h2>"
        "<p>Otter kidneys were imaged with 3 tesla MRI.</p></body></html>",
        encoding="utf-8",
    )
    make_pdf(d / "delta.pdf", [["Delta report, page one: nothing here."], ["Page two: pelican wing span 2.5 m."]])
    return d


def test_ingest_each_format_with_metadata(empty_settings, docs):
    reports = admin.ingest_paths([docs], empty_settings)
    assert sorted((r.source_id, r.status) for r in reports) == [
        ("alpha", "added"), ("beta", "added"), ("delta", "added"), ("gamma", "added")]
    assert [s.source_id for s in admin.list_sources(empty_settings)] == ["alpha", "beta", "delta", "gamma"]

    hit = search("quinbolone dose for zebrafish", k=1, settings=empty_settings)[0]
    assert (hit.source_id, hit.title, hit.section, hit.link) == (
        "alpha", "Alpha protocol", "Zebrafish dosing", "https://example.org/alpha")
    assert "40 micromolar" in hit.text and hit.chunk_id.startswith("alpha:")
    pdf = search("pelican wing span", k=1, settings=empty_settings)[0]
    assert (pdf.source_id, pdf.page) == ("delta", 2) and "2.5 m" in pdf.text
    assert search("otter kidney MRI", k=1, settings=empty_settings)[0].source_id == "gamma"
    assert search("walrus scanned", k=1, settings=empty_settings, mode="lexical")[0].source_id == "beta"


def test_unchanged_is_skipped_changed_replaces_copy_is_duplicate(empty_settings, tmp_path):
    f = tmp_path / "proto.md"
    f.write_text("# P\n\n## One\n\nVersion one says 5 mg of ketorazine.\n\n## Two\n\nMore text.\n", encoding="utf-8")
    (first,) = admin.ingest_paths([f], empty_settings)
    assert first.status == "added" and first.n_chunks == 2
    gen1 = admin.list_sources(empty_settings)[0].generation
    (again,) = admin.ingest_paths([f], empty_settings)
    assert again.status == "unchanged" and admin.list_sources(empty_settings)[0].generation == gen1

    f.write_text("# P\n\n## One\n\nVersion two says 7 mg of ketorazine.\n", encoding="utf-8")
    (changed,) = admin.ingest_paths([f], empty_settings)
    assert changed.status == "replaced" and changed.n_chunks == 1
    assert _chunk_count(empty_settings, "proto") == 1
    texts = [p.text for p in search("ketorazine dose", k=5, settings=empty_settings)]
    assert texts == ["Version two says 7 mg of ketorazine."]

    twin = tmp_path / "copy.md"
    twin.write_bytes(f.read_bytes())
    (dup,) = admin.ingest_paths([twin], empty_settings)
    assert dup.status == "duplicate" and dup.duplicate_of == "proto"
    assert [s.source_id for s in admin.list_sources(empty_settings)] == ["proto"]


def test_remove_source(empty_settings, tmp_path):
    f = tmp_path / "gone.md"
    f.write_text("# G\n\nThe capybara protocol.\n", encoding="utf-8")
    admin.ingest_paths([f], empty_settings)
    removed = admin.remove_source("gone", empty_settings)
    assert removed.source_id == "gone"
    assert admin.list_sources(empty_settings) == [] and _chunk_count(empty_settings, "gone") == 0
    assert search("capybara", k=3, settings=empty_settings) == []
    with pytest.raises(InvalidInput, match="no source called"):
        admin.remove_source("gone", empty_settings)


def test_bad_inputs_leave_store_untouched_and_answering(empty_settings, tmp_path, make_pdf):
    good = tmp_path / "good.md"
    good.write_text("# Good\n\n## Iguanas\n\nIguanas bask for 6 hours a day.\n", encoding="utf-8")
    admin.ingest_paths([good], empty_settings)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_bytes(b"")
    (bad / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (bad / "latin.txt").write_bytes("na\u00efve".encode("latin-1"))
    make_pdf(bad / "scan.pdf", [[]])
    with open(bad / "huge.md", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    cases = [
        (bad / "empty.md", UnreadableFile), (bad / "bin.txt", UnsupportedFile), (bad / "latin.txt", UnreadableFile),
        (bad / "scan.pdf", UnreadableFile), (bad / "huge.md", InvalidInput), (bad / "missing.md", UnreadableFile),
    ]
    for path, error in cases:
        fresh = tmp_path / f"fresh-{path.stem}.md"
        fresh.write_text(f"# Fresh\n\nA new file {path.stem} that must not be written.\n", encoding="utf-8")
        # The bad file comes second: the good one before it must not be half-ingested either.
        with pytest.raises(error):
            admin.ingest_paths([fresh, path], empty_settings)
        assert [s.source_id for s in admin.list_sources(empty_settings)] == ["good"]
        assert search("iguanas bask", k=1, settings=empty_settings)[0].source_id == "good"
    assert len(get_store(empty_settings).chunks.get(include=[])["ids"]) == 1
    with pytest.raises(InvalidInput, match="No documents"):
        admin.ingest_paths([], empty_settings)


def test_search_rejects_bad_arguments(empty_settings):
    with pytest.raises(InvalidInput):
        search("   ", settings=empty_settings)
    with pytest.raises(InvalidInput):
        search("x", k=0, settings=empty_settings)
    assert search("anything", settings=empty_settings) == []


def test_failure_mid_write_leaves_nothing(empty_settings, tmp_path):
    f = tmp_path / "many.md"
    f.write_text("# M\n" + "".join(f"\n## S{i}\n\nSection {i} about tapirs.\n" for i in range(150)), encoding="utf-8")

    def stop(sid, done, total):
        if done >= 64:
            raise KeyboardInterrupt  # the person pressed Ctrl-C after the first batch was written

    with pytest.raises(KeyboardInterrupt):
        admin.ingest_paths([f], empty_settings, progress=stop)
    store = get_store(empty_settings)
    assert admin.list_sources(empty_settings) == []
    assert store.chunks.get(include=[])["ids"] == [] and store.manifest.get(include=[])["ids"] == []


def test_removed_shipped_source_stays_removed_until_ingested_again(empty_settings, tmp_path, monkeypatch):
    from knowledge import ingest
    from knowledge.store import forget_stores

    shipped = tmp_path / "shipped.md"
    shipped.write_text("---\nid: shipped\ntitle: Shipped\n---\n\n# S\n\nThe axolotl guideline.\n", encoding="utf-8")
    monkeypatch.setattr(ingest, "corpus_files", lambda: [shipped])
    store = get_store(empty_settings)
    assert [r.status for r in ingest.index_corpus(store)] == ["added"]
    admin.remove_source("shipped", empty_settings)
    forget_stores()  # a restart: the store is opened again and the corpus checked
    assert ingest.index_corpus(get_store(empty_settings)) == []
    assert admin.list_sources(empty_settings) == []
    (again,) = admin.ingest_paths([shipped], empty_settings)  # the person brings it back on purpose
    assert again.status == "added" and get_store(empty_settings).removed_corpus() == set()
