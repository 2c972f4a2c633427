"""Reading and chunking documents, and every bad input (no embedding model needed)."""

from __future__ import annotations

import pytest

from galen.errors import InvalidInput, UnreadableFile, UnsupportedFile
from galen.settings import Settings
from knowledge.chunking import MAX_CHARS, chunk_document
from knowledge.documents import read_document, split_markdown
from knowledge.ingest import corpus_files

MD = """---
id: Test Doc
title: A test guideline
link: https://example.org/g
year: 2020
---

# Ignored H1

Intro text under the title.

## Part one

First paragraph of part one.

```
# not a heading inside a fence
```

### Detail

- item 1 has 5 mm
- item 2 has 8 mm

## Part two

Closing words.
"""


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "d", kb_auto_index=False)


def test_markdown_front_matter_and_heading_paths(tmp_path, settings):
    p = tmp_path / "x.md"
    p.write_text(MD, encoding="utf-8")
    doc = read_document(p, settings)
    assert doc.source_id == "test-doc"
    assert doc.title == "A test guideline"
    assert doc.link == "https://example.org/g"
    assert doc.meta["year"] == "2020"
    headings = [s.heading for s in doc.sections]
    assert headings == ["Ignored H1", "Part one", "Part one > Detail", "Part two"]
    assert "# not a heading" in doc.sections[1].text


def test_txt_html_pdf(tmp_path, settings, make_pdf):
    t = tmp_path / "notes.txt"
    t.write_text("Plain notes about nodules.\n\nSecond paragraph.", encoding="utf-8")
    doc = read_document(t, settings)
    assert doc.source_id == "notes" and doc.sections[0].text.startswith("Plain notes")

    h = tmp_path / "page.html"
    h.write_text(
        "<html><head><title>Web guide</title><style>p{}</style><script>var x=1;</script></head>"
        "<body><h1>Guide</h1><h2>Dosing</h2><p>Take 20 mg daily.</p><ul><li>one</li><li>two</li></ul></body></html>",
        encoding="utf-8",
    )
    doc = read_document(h, settings)
    assert doc.title == "Web guide"
    assert [s.heading for s in doc.sections] == ["Dosing"]
    assert "Take 20 mg daily." in doc.sections[0].text and "var x" not in doc.sections[0].text

    pdf = make_pdf(tmp_path / "paper.pdf", [["Page one says 12 months."], [], ["Page three says 3 months."]])
    doc = read_document(pdf, settings)
    assert [(s.page, "months" in s.text) for s in doc.sections] == [(1, True), (3, True)]


def test_chunks_follow_sections_with_overlap_and_dedup(tmp_path, settings):
    long_para = " ".join(f"Sentence number {i} mentions a threshold of {i} mm." for i in range(60))
    text = f"# T\n\n## A\n\n{long_para}\n\n## B\n\nShort.\n\n## C\n\nShort.\n"
    p = tmp_path / "long.md"
    p.write_text(text, encoding="utf-8")
    chunks = chunk_document(read_document(p, settings))
    a = [c for c in chunks if c.section == "A"]
    assert len(a) >= 3 and all(len(c.text) <= MAX_CHARS + 250 for c in a)
    for prev, nxt in zip(a, a[1:], strict=False):
        last_sentence = prev.text.split(". ")[-1]
        assert nxt.text.startswith(last_sentence.rstrip(".")), "consecutive chunks overlap by a sentence"
    # 'Short.' appears in two sections: stored once.
    assert [c.section for c in chunks if c.text == "Short."] == ["B"]
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_corpus_files_have_front_matter_and_sections(settings):
    ids = set()
    for path in corpus_files():
        doc = read_document(path, settings)
        ids.add(doc.source_id)
        for key in ("title", "issuing_body", "year", "version", "link", "licence"):
            assert doc.meta.get(key), f"{path.name} lacks {key}"
        assert len(doc.sections) >= 4
    assert {"fleischner-2017", "lung-rads-2022", "bts-2015", "medchem-rules",
            "endocrine-therapy-early-breast", "responsible-use"} <= ids


def test_split_markdown_without_headings():
    title, sections = split_markdown("just text\n\nmore")
    assert title == "" and sections[0].heading == "" and "more" in sections[0].text


@pytest.mark.parametrize(
    ("name", "content", "error", "words"),
    [
        ("empty.md", b"", UnreadableFile, "empty"),
        ("blank.txt", b"   \n\n  ", UnreadableFile, "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", UnsupportedFile, "binary"),
        ("latin1.txt", "Caf\u00e9 au lait, na\u00efve r\u00e9sum\u00e9".encode("latin-1"), UnreadableFile, "UTF-8"),
        ("word.docx", b"PK\x03\x04 zip", UnsupportedFile, ".docx"),
        ("fake.pdf", b"this is not a pdf at all", UnreadableFile, "PDF"),
        ("front.md", b"---\nid: [unclosed\n---\n\ntext", UnreadableFile, "front matter"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path, settings, name, content, error, words):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(error) as info:
        read_document(p, settings)
    assert words in info.value.user_message()
    assert name in info.value.user_message()


def test_pdf_without_text_layer(tmp_path, settings, make_pdf):
    pdf = make_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(UnreadableFile, match="no text layer"):
        read_document(pdf, settings)


def test_missing_and_folder_paths(tmp_path, settings):
    with pytest.raises(UnreadableFile, match="does not exist"):
        read_document(tmp_path / "nope.md", settings)
    with pytest.raises(UnreadableFile, match="not a file"):
        read_document(tmp_path, settings)


def test_fifty_megabyte_file_is_refused_before_reading(tmp_path, settings):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: instant, and refused on its size alone
    with pytest.raises(InvalidInput) as info:
        read_document(big, settings)
    assert "50.0 MB" in info.value.user_message() and "GALEN_KB_MAX_FILE_MB" in info.value.user_message()
