"""Splitting a parsed document into chunks that follow its headings.

Chunks never cross a section boundary, so each carries one meaningful ``section``. Within a
section, paragraphs and list items are packed up to ``max_chars`` (the embedding model reads at
most 256 word pieces, about 1,000 characters); a chunk that continues a section starts with the
previous chunk's last sentence, a small overlap that keeps a threshold next to its context.
Duplicate chunk texts inside a document are dropped (content-hash de-duplication).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from knowledge.documents import Document

MAX_CHARS = 900
OVERLAP_CHARS = 220
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9(\"'])")


@dataclass(frozen=True)
class Chunk:
    """One retrievable piece of a document."""

    index: int
    text: str
    section: str
    page: int | None
    chunk_hash: str

    def context_text(self, title: str) -> str:
        """The text that is embedded and indexed: title and section give the chunk its context."""
        return context_text(title, self.section, self.text)


def full_title(title: str, title_en: str = "") -> str:
    """A document's title with its English title when it has one ("肺结节诊治中国专家共识 (Chinese expert
    consensus ...)"). Ingestion indexes the English title lexically only (see knowledge.ingest)."""
    return f"{title} ({title_en})" if title_en and title_en != title else title


def context_text(title: str, section: str, text: str) -> str:
    """What is embedded for a chunk: "Title - Section" (or the title alone), a newline, the text."""
    head = f"{title} - {section}" if section else title
    return f"{head}\n{text}"


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _blocks(text: str, max_chars: int) -> list[str]:
    """Paragraphs and list items, each at most ``max_chars`` (long ones split at sentences)."""
    blocks: list[str] = []
    para: list[str] = []

    def end_para() -> None:
        if para:
            blocks.append(" ".join(para))
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            end_para()
        elif re.match(r"^([-*+]|\d+[.)])\s+", line):
            end_para()
            para.append(line)
        else:
            para.append(line)
    end_para()
    out: list[str] = []
    for block in blocks:
        if len(block) <= max_chars:
            out.append(block)
            continue
        cur = ""
        for sent in _sentences(block):
            while len(sent) > max_chars:  # a "sentence" with no breaks (tables, PDF text): hard cut
                if cur:
                    out.append(cur)
                    cur = ""
                out.append(sent[:max_chars])
                sent = sent[max_chars:]
            if cur and len(cur) + 1 + len(sent) > max_chars:
                out.append(cur)
                cur = sent
            else:
                cur = f"{cur} {sent}".strip()
        if cur:
            out.append(cur)
    return out


def _tail(text: str, limit: int) -> str:
    """The last sentence of ``text`` if it is short enough to repeat as overlap."""
    sents = _sentences(text)
    last = sents[-1] if sents else ""
    return last if 0 < len(last) <= limit else ""


def chunk_document(doc: Document, max_chars: int = MAX_CHARS, overlap_chars: int = OVERLAP_CHARS) -> list[Chunk]:
    """Heading-following chunks of ``doc`` with a one-sentence overlap inside each section."""
    chunks: list[Chunk] = []
    seen: set[str] = set()

    def emit(text: str, section: str, page: int | None) -> None:
        digest = hashlib.sha256(" ".join(text.split()).lower().encode()).hexdigest()
        if digest in seen:
            return
        seen.add(digest)
        chunks.append(Chunk(len(chunks), text, section, page, digest))

    for sec in doc.sections:
        cur: list[str] = []
        size = 0
        for block in _blocks(sec.text, max_chars):
            if cur and size + len(block) + 1 > max_chars:
                body = "\n".join(cur)
                emit(body, sec.heading, sec.page)
                overlap = _tail(cur[-1], overlap_chars)
                cur = [overlap] if overlap and overlap != block else []
                size = len(overlap) if cur else 0
            cur.append(block)
            size += len(block) + 1
        if cur:
            emit("\n".join(cur), sec.heading, sec.page)
    return chunks
