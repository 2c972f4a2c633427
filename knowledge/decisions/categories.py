"""A Lung-RADS category named in the question ("what does category 3 mean?"): its meaning and management.

Used when a question names a category and describes no case to categorise; the management and the
passage come from the table (:mod:`knowledge.decisions.tables`), as for a computed decision.
"""

from __future__ import annotations

import re

from knowledge.decisions.decide import Decision, NotCovered
from knowledge.decisions.tables import load_table

#: "Lung-RADS 4A", "category 3", "cat 4B", "LR-2", "3类", "4A类", "第2类" (a bare "4" is ambiguous: 4A, 4B or 4X).
_CATEGORY = re.compile(
    r"(?:\b(?:lung[\s-]?rads|lungrads|LR)(?:\s*v?2022)?[\s-]*(?:category|cat\.?)?|\bcategor(?:y|ies)|\bcat\.?)"
    r"[\s-]*(?P<c>0|1|2|3|4[ABX])(?![\w.])|(?<![\w.])第?(?P<z>0|1|2|3|4[ABX])\s*类", re.IGNORECASE)

_MORE_CATEGORIES = re.compile(r"(?:\bor\b|\band\b|\bvs\.?|,|/|或|和|还是|与)\s*(?:category\s*|cat\.?\s*)?"
                              r"(0|1|2|3|4[ABX])(?![\w.])", re.IGNORECASE)


def named_category(question: str, table_id: str = "lung-rads-2022") -> str | None:
    """The one category of ``table_id`` the question names, or None (none, several, or unknown)."""
    found = {(m.group("c") or m.group("z")).upper() for m in _CATEGORY.finditer(question or "")}
    if found:  # "category 3 or 4A", "3类还是4A类": every category the question weighs
        found |= {m.group(1).upper() for m in _MORE_CATEGORIES.finditer(question)}
    table = load_table(table_id)
    found &= set(table.categories)
    return found.pop() if len(found) == 1 else None


def category_decision(table_id: str, category: str) -> Decision:
    """What a category means and its management, with the passage it rests on (a question that names it).

    A category whose management depends on why it was given (Lung-RADS 0) lists each reason with
    its own management (``options``), each cited.
    """
    table = load_table(table_id)
    cat = table.categories[category]
    rows = [r for r in table.exam_rows + table.nodule_rows if r.category == category]
    reasons = [f"category: {category} — question"]
    if cat.management:
        cites = [table.category_cite[category]] if category in table.category_cite else [r.cite for r in rows[:1]]
        return Decision(table.id, table.name, f"category-{category}", f"category {category}", cat.management,
                        f"{table.name} category {category} ({cat.name}): {cat.management}", category=category,
                        cites=cites, reasons=reasons)
    options = [(r.label, str(r.management)) for r in rows if r.management]
    if not options:
        raise NotCovered(f"{table.name} category {category} has no management in the table")
    cites = []
    for r in rows:
        if r.management and r.cite not in cites:
            cites.append(r.cite)
    management = "depends on the reason: " + "; ".join(f"{lab}: {mg}" for lab, mg in options)
    return Decision(table.id, table.name, f"category-{category}", f"category {category}", management,
                    f"{table.name} category {category} ({cat.name}): the management depends on the reason",
                    category=category, cites=cites, reasons=reasons, options=options)


__all__ = ["category_decision", "named_category"]
