"""Loading the guideline decision tables (``knowledge/decisions/*.yaml``) and their cited passages.

Each table is data: rows of conditions (``when``), an outcome (a management sentence and a rank,
or a Lung-RADS category) and a citation — a section of the shipped corpus document and a quote
that must appear in it word for word. :func:`load_table` validates the schema once and caches it;
:func:`cited_passage` returns the corpus section a row cites, as a :class:`~knowledge.types.Passage`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from knowledge.types import Passage

TABLES_DIR = Path(__file__).resolve().parent
TABLE_FILES = {"fleischner-2017": "fleischner_2017.yaml", "lung-rads-2022": "lung_rads_2022.yaml",
               "bts-2015": "bts_2015.yaml"}
_OPS = {"lt", "lte", "gt", "gte"}


class Cite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    section: str = Field(description="Heading path of the corpus section ('Solid nodules > Single solid nodule').")
    quote: str = Field(description="Words of that section the row rests on, verbatim.")


class Caveat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: dict[str, Any]
    text: str
    cite: Cite


class Row(BaseModel):
    """One row: conditions, outcome and citation."""

    model_config = ConfigDict(extra="forbid")

    id: str
    when: dict[str, Any]
    label: str = Field(description="What the row covers, as the answer names it.")
    management: str | None = None
    category: str | None = None
    rank: int | None = None
    cite: Cite
    note: str | None = Field(None, description="Why the row is there when the cited words imply it rather than "
                                               "list it (shown with the decision).")
    caveats: list[Caveat] = Field(default_factory=list)

    @model_validator(mode="after")
    def _conditions(self) -> Row:
        for key, cond in self.when.items():
            check_condition(self.id, key, cond)
        return self


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    rank: int
    management: str | None = None


class Modifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    applies_to: list[str] | None = None
    when_any: list[str]
    label: str
    cite: Cite


class Assumption(BaseModel):
    """A fact a guideline takes for granted when others are stated (BTS measures volume on solid nodules).

    Applied only when the fact is not stated and every ``when`` condition holds; the answer says
    so, and gives what the rows say for the other values (``otherwise`` when no row covers them)."""

    model_config = ConfigDict(extra="forbid")

    fact: str
    value: str
    when: dict[str, Any]
    why: str
    otherwise: str = Field(description="What applies when the assumption is wrong, if no row covers that case.")
    cite: Cite


class Table(BaseModel):
    """A guideline as a decision table."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    source: str = Field(description="Corpus source id the citations point into.")
    measure: Literal["mean-rounded", "mean-1dp", "volume-or-max"]
    measure_cite: Cite
    multiple_cite: Cite
    growth_mm: float | None = None
    growth_cite: Cite | None = None
    askable: dict[str, list[str]] = Field(default_factory=dict,
                                          description="Facts to ask for when unknown, with their possible values.")
    not_applicable: list[Row] = Field(default_factory=list)
    rows: list[Row] = Field(default_factory=list)
    exam_rows: list[Row] = Field(default_factory=list)
    nodule_rows: list[Row] = Field(default_factory=list)
    categories: dict[str, Category] = Field(default_factory=dict)
    category_cite: dict[str, Cite] = Field(default_factory=dict)
    modifiers: dict[str, Modifier] = Field(default_factory=dict)
    assume: list[Assumption] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Table:
        ids = [r.id for r in self.all_rows()]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.id}: row ids repeat")
        for r in self.exam_rows + self.nodule_rows:
            if r.category not in self.categories:
                raise ValueError(f"{self.id} row {r.id}: unknown category {r.category!r}")
        for r in self.rows:
            if r.management is None or r.rank is None:
                raise ValueError(f"{self.id} row {r.id}: needs management and rank")
        return self

    def all_rows(self) -> list[Row]:
        return self.not_applicable + self.rows + self.exam_rows + self.nodule_rows

    @property
    def per_nodule(self) -> list[Row]:
        return self.nodule_rows or self.rows

    def rank_of(self, row: Row) -> int:
        return self.categories[row.category].rank if row.category else int(row.rank or 0)


def check_condition(row_id: str, key: str, cond: Any) -> None:
    """Raise ValueError for a condition the engine would not understand (a typo in the YAML)."""
    if key in ("size", "solid"):
        if not isinstance(cond, dict) or not cond or set(cond) - {"mm", "mm3"}:
            raise ValueError(f"row {row_id}: {key} must map mm and/or mm3 to a numeric range")
        for rng in cond.values():
            check_condition(row_id, f"{key}.range", rng)
        return
    if isinstance(cond, dict):
        if not cond or set(cond) - _OPS or not all(isinstance(v, int | float) for v in cond.values()):
            raise ValueError(f"row {row_id}: {key} range must use {sorted(_OPS)} with numbers, got {cond}")


@functools.cache
def load_table(table_id: str) -> Table:
    """The decision table ``table_id`` ('fleischner-2017', 'lung-rads-2022', 'bts-2015'), validated."""
    if table_id not in TABLE_FILES:
        raise KeyError(f"no decision table {table_id!r}; tables: {', '.join(TABLE_FILES)}")
    raw = yaml.safe_load((TABLES_DIR / TABLE_FILES[table_id]).read_text(encoding="utf-8"))
    return Table.model_validate(raw)


@functools.cache
def _corpus_sections(source_id: str) -> tuple[str, str, dict[str, str]]:
    """(title, link, {section heading path: text}) of a shipped corpus document."""
    from knowledge.documents import _FRONT_MATTER, split_markdown
    from knowledge.ingest import CORPUS_DIR

    text = (CORPUS_DIR / f"{source_id}.md").read_text(encoding="utf-8")
    m = _FRONT_MATTER.match(text)
    meta = yaml.safe_load(m.group(1)) if m else {}
    body = text[m.end():] if m else text
    _, sections = split_markdown(body)
    return str(meta.get("title", source_id)), str(meta.get("link", "") or ""), {s.heading: s.text for s in sections}


def section_text(source_id: str, section: str) -> str:
    """The text of one section of a shipped corpus document (KeyError if there is no such section)."""
    return _corpus_sections(source_id)[2][section]


def cited_passage(source_id: str, cite: Cite) -> Passage:
    """The corpus section ``cite`` points at, as a passage an answer can cite."""
    title, link, sections = _corpus_sections(source_id)
    return Passage(source_id=source_id, title=title, section=cite.section, text=sections[cite.section], score=1.0,
                   link=link or None, chunk_id=f"{source_id}#{cite.section}")
