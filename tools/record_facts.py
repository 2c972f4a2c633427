"""Facts from a patient record attached to the thread (FHIR R4 JSON), for the risk tools.

A fact the question states wins; a record fills in what the question leaves out, with
``source: "fhir"`` and the resource it came from as evidence, so the clinician sees it on the
confirmation card like any fact read from text. Problems in the record (contradictions, unknown
codes, wrong units) come back as warnings, never as facts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from galen.errors import GalenError
from tools.base import ToolContext


def record_facts(ctx: ToolContext, reference_date: date | None = None) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``({name: entry}, warnings)`` from every FHIR attachment of the thread (newest first wins)."""
    facts: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    fhir = [a for a in ctx.attachments if a.kind == "fhir"]
    if not fhir:
        return facts, warnings
    try:
        from interop.fhir_facts import facts_from_attachment
    except ImportError:
        return facts, ["A FHIR record is attached, but the FHIR reader is not installed (pip install galen[pacs])."]
    for att in fhir:
        try:
            found = facts_from_attachment(att.path, reference_date)
        except GalenError as e:
            warnings.append(f"The record {att.name} could not be read: {e.user_message()}")
            continue
        for f in found:
            if f.get("name") == "problem":
                warnings.append(f"Record {att.name}: {f.get('evidence')}")
                continue
            if f.get("value") is None or f["name"] in facts:
                continue
            entry = {"name": f["name"], "value": f["value"], "source": "fhir",
                     "evidence": f.get("evidence") or f.get("resource") or att.name}
            facts[f["name"]] = entry
    return facts, warnings


def fill_from_record(entries: dict[str, dict[str, Any]], ctx: ToolContext, names: tuple[str, ...]) -> list[str]:
    """Add record facts for ``names`` missing from ``entries`` (in place); returns the record's warnings."""
    facts, warnings = record_facts(ctx)
    for name in names:
        if name in facts and (name not in entries or entries[name].get("source") == "default"):
            entries[name] = facts[name]
    return warnings
