"""Scrubbing HIPAA Safe-Harbor identifiers from free text before it is logged.

Covers what can be found by pattern: e-mail addresses, telephone and fax numbers, dates more
specific than the year, medical record / account / ID numbers, social security numbers, URLs and
IP addresses, postal codes and street addresses, and personal names introduced by a title or by
words such as "patient" / "named". Ages over 89 become "90+". Free text can hide identifiers no
pattern finds, so scrubbed text still belongs only in access-restricted storage.
"""

from __future__ import annotations

import re

_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_NAME = r"[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+){0,2}"

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("[EMAIL]", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("[URL]", re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)),
    ("[IP]", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("[SSN]", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("[ID]", re.compile(r"\b(?:MRN|medical record(?: number)?|record no\.?|account(?: number)?|acct|patient id|ID|NHS(?: number)?|insurance(?: number)?)\s*(?:#|no\.?|number|:)?\s*[:#]?\s*[A-Z0-9][A-Z0-9-]{3,}\b", re.IGNORECASE)),
    ("[PHONE]", re.compile(r"(?<!\w)(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{3,4}[\s.-]\d{3,4}(?:[\s.-]\d{2,4})?(?!\w)")),
    ("[DATE]", re.compile(r"\b\d{1,2}([/.-])\d{1,2}\1\d{2,4}\b")),
    ("[DATE]", re.compile(r"\b(?:19|20)\d{2}([/.-])\d{1,2}\1\d{1,2}\b")),
    ("[DATE]", re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+\d{{4}}\b", re.IGNORECASE)),
    ("[DATE]", re.compile(rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.IGNORECASE)),
    ("[DATE]", re.compile(rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!\s*(?:mm|cm|mg|%))", re.IGNORECASE)),
    ("[ADDRESS]", re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct)\b\.?")),
    ("[ZIP]", re.compile(r"\b\d{5}(?:-\d{4})\b")),
    ("[NAME]", re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+{_NAME}")),
    ("[NAME]", re.compile(rf"\b(?P<lead>(?i:patient|named|name is|called|for|give|to))\s+(?P<name>{_NAME})(?=\s|[,.;:!?]|$)")),
]

_AGE_OVER_89 = re.compile(r"\b(9\d|1[0-4]\d)(\s*-?\s*(?:year|yr)s?\s*-?\s*old|\s*(?:yo|y/o)\b)", re.IGNORECASE)

# Capitalised words that follow "for"/"to"/"give" but are not names.
_NOT_NAMES = {
    "The", "This", "That", "These", "Those", "A", "An", "Me", "Him", "Her", "Them", "Us", "It", "Galen",
    "Lipinski", "Veber", "Fleischner", "Brock", "Lung", "CT", "MR", "PET", "Tamoxifen", "Aspirin",
    "Ibuprofen", "Celecoxib", "Caffeine", "Morphine", "Hormonal", "Endocrine", "Each", "All", "Every",
    "What", "Which", "How", "Why", "When", "Where", "Who", "Please", "Some", "Ten", "Five", "Twenty",
}


def _replace_led_name(m: re.Match[str]) -> str:
    words = m.group("name").split()
    if words[0] in _NOT_NAMES or len(words) < 2 and m.group("lead").lower() in ("for", "to", "give"):
        return m.group(0)
    return f"{m.group('lead')} [NAME]"


def scrub(text: str) -> str:
    """``text`` with Safe-Harbor identifiers replaced by tags such as ``[NAME]`` or ``[DATE]``."""
    out = _AGE_OVER_89.sub(lambda m: "90+" + m.group(2), text)
    for tag, pattern in _RULES:
        if "lead" in pattern.groupindex:
            out = pattern.sub(_replace_led_name, out)
        elif tag == "[NAME]":
            out = pattern.sub(tag, out)
        else:
            out = pattern.sub(tag, out)
    return out


def scrub_value(value: object) -> object:
    """Scrub every string inside a JSON-like structure."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value
