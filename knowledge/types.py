"""Types shared by the knowledge base and its callers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Passage(BaseModel):
    """A retrieved guideline passage that an answer can cite as [n]."""

    source_id: str = Field(description="Front-matter id of the source document, e.g. 'fleischner-2017'.")
    title: str = Field(description="Title of the source document.")
    section: str = Field("", description="Heading path of the chunk inside the document.")
    text: str = Field(description="The chunk's text.")
    score: float = Field(0.0, description="Retrieval score (higher is better).")
    page: int | None = Field(None, description="Page number for PDFs.")
    link: str | None = Field(None, description="Where the published source can be read.")
    chunk_id: str = Field("", description="Stable id of the chunk in the store.")

    def citation(self) -> str:
        """Short human-readable citation: 'Title — Section (p. N)'."""
        out = self.title
        if self.section:
            out += f" — {self.section}"
        if self.page is not None:
            out += f" (p. {self.page})"
        return out
