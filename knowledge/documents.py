"""Reading documents for the knowledge base: checks, then Markdown/text/HTML/PDF into sections.

Every failure a person can cause (missing, empty, binary, non-UTF-8, too large, a PDF without a
text layer) raises a :mod:`galen.errors` exception naming the file and what to do; nothing is
written to the store until a file has been read completely.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

from galen.errors import InvalidInput, UnreadableFile, UnsupportedFile
from galen.settings import Settings

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


@dataclass
class Section:
    """A run of text under one heading path (or on one PDF page)."""

    heading: str
    text: str
    page: int | None = None


@dataclass
class Document:
    """A parsed source: its identity, citation metadata and sections."""

    source_id: str
    title: str
    path: str
    content_hash: str
    sections: list[Section]
    link: str = ""
    meta: dict[str, str] = field(default_factory=dict)


def slugify(text: str) -> str:
    """A source id made of lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"


def check_file(path: Path, settings: Settings) -> bytes:
    """Validate a path and return its bytes.

    Raises:
        UnreadableFile: missing, not a file, empty, or unreadable.
        UnsupportedFile: a suffix Galen does not ingest.
        InvalidInput: larger than ``settings.kb_max_file_mb``.
    """
    if not path.exists():
        raise UnreadableFile(f"{path} does not exist.", hint="Check the path and try again.")
    if not path.is_file():
        raise UnreadableFile(f"{path} is not a file.", hint="Give a document file or a folder of documents.")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(
            f"{path.name} has the type {path.suffix or '(none)'}, which the knowledge base does not read.",
            hint=f"Supported types: {', '.join(SUPPORTED_SUFFIXES)}.",
        )
    size = path.stat().st_size
    limit = settings.kb_max_file_mb * 1024 * 1024
    if size > limit:
        raise InvalidInput(
            f"{path.name} is {size / 1024 / 1024:.1f} MB, larger than the {settings.kb_max_file_mb:g} MB limit.",
            hint="Split the document, or raise GALEN_KB_MAX_FILE_MB.",
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UnreadableFile(f"{path} could not be read ({e.strerror}).") from e
    if not data.strip():
        raise UnreadableFile(f"{path.name} is empty.", hint="Give a document with text in it.")
    return data


def _decode_text(data: bytes, path: Path) -> str:
    if b"\x00" in data[:8192]:
        raise UnsupportedFile(
            f"{path.name} looks like a binary file, not {path.suffix} text.",
            hint="Give a text, Markdown, HTML or PDF document.",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableFile(
            f"{path.name} is not valid UTF-8 text (bad byte at position {e.start}).",
            hint="Re-save the file with UTF-8 encoding and ingest it again.",
        ) from e
    if not text.strip():
        raise UnreadableFile(f"{path.name} contains no text.", hint="Give a document with text in it.")
    return text


def split_markdown(text: str) -> tuple[str, list[Section]]:
    """(first H1 or "", sections) of Markdown text; headings inside code fences are ignored.

    A section's heading is the path of its level-2+ headings joined by " > " (the H1 is the
    document's title), or the H1 itself for text directly under it.
    """
    title = ""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    buf: list[str] = []
    in_fence = False

    def heading_path() -> str:
        path = [h for lvl, h in stack if lvl > 1]
        return " > ".join(path) if path else (title if stack else "")

    def flush() -> None:
        body = "\n".join(buf).strip()
        if body:
            sections.append(Section(heading_path(), body))
        buf.clear()

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if not m:
            buf.append(line)
            continue
        flush()
        level, name = len(m.group(1)), m.group(2).strip()
        if level == 1 and not title:
            title = name
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
    flush()
    return title, sections


class _HTMLText(HTMLParser):
    """Turns HTML into Markdown-like text: headings become '#' lines, blocks become lines."""

    _BLOCKS = {"p", "div", "li", "tr", "br", "section", "article", "ul", "ol", "table", "blockquote", "dd", "dt"}
    _SKIP = {"script", "style", "noscript", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self._BLOCKS:
            self.out.append("\n- " if tag == "li" else "\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.out.append(re.sub(r"\s+", " ", data))


def _read_pdf(data: bytes, path: Path) -> list[Section]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF-"):
        raise UnreadableFile(f"{path.name} is not a valid PDF (no PDF header).", hint="Check the file.")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(i + 1, page.extract_text() or "") for i, page in enumerate(reader.pages)]
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise UnreadableFile(f"{path.name} is a damaged PDF that could not be read ({e}).") from e
    sections = [Section("", text.strip(), page=n) for n, text in pages if text.strip()]
    if not sections:
        raise UnreadableFile(
            f"{path.name} has no text layer (it is probably scanned images).",
            hint="Run OCR on it (for example ocrmypdf) and ingest the result.",
        )
    return sections


def read_document(path: Path, settings: Settings) -> Document:
    """Check and parse one file into a :class:`Document`.

    Markdown front matter (``id``, ``title``, ``link`` and any other keys) sets the source id and
    citation; otherwise the id comes from the file name and the title from the first heading.

    Raises:
        UnreadableFile, UnsupportedFile, InvalidInput: see :func:`check_file` and the messages.
    """
    path = Path(path).expanduser()
    data = check_file(path, settings)
    content_hash = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    meta: dict[str, str] = {}
    title = ""
    if suffix == ".pdf":
        sections = _read_pdf(data, path)
    else:
        text = _decode_text(data, path)
        if suffix in (".html", ".htm"):
            parser = _HTMLText()
            parser.feed(text)
            parser.close()
            text, title = "".join(parser.out), parser.title.strip()
        else:
            m = _FRONT_MATTER.match(text)
            if m:
                try:
                    loaded = yaml.safe_load(m.group(1)) or {}
                except yaml.YAMLError as e:
                    raise UnreadableFile(f"{path.name} has malformed YAML front matter ({e}).") from e
                if not isinstance(loaded, dict):
                    raise UnreadableFile(f"{path.name} has front matter that is not a key: value mapping.")
                meta = {str(k): str(v) for k, v in loaded.items() if v is not None}
                text = text[m.end():]
        h1, sections = split_markdown(text)
        title = meta.get("title") or title or h1
        if not sections:
            raise UnreadableFile(f"{path.name} contains no text outside headings and front matter.")
    source_id = slugify(meta.get("id") or path.stem)
    return Document(
        source_id=source_id,
        title=title or path.stem,
        path=str(path.resolve()),
        content_hash=content_hash,
        sections=sections,
        link=meta.get("link", ""),
        meta=meta,
    )
