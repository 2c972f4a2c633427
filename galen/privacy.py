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
# Name parts may be joined by spaces or, in file names and identifiers, by "_", "-" or "."
# ("patient_Jane_Doe.dcm", "Mrs-Jane-Doe", "Dr.Jane.Doe").
_JOIN = r"(?:\s+|[_.\-])"
_PART = r"[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?"
_NAME = rf"{_PART}(?:{_JOIN}{_PART}){{0,2}}"
# Digits not glued to other letters or digits: "\b" fails next to "_" (a word character).
_L, _R = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("[EMAIL]", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("[URL]", re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)),
    ("[IP]", re.compile(rf"{_L}(?:\d{{1,3}}\.){{3}}\d{{1,3}}{_R}")),
    ("[SSN]", re.compile(rf"{_L}\d{{3}}-\d{{2}}-\d{{4}}{_R}")),
    # A record number: a label (MRN, "patient id", upper-case ID …) then a value with a digit in it,
    # so words such as "identify" or "accountable" stay as they are.
    ("[ID]", re.compile(r"(?<![A-Za-z0-9])(?:(?i:MRN|medical record(?: number)?|record no\.?|account(?: number)?|acct|patient id|NHS(?: number)?|insurance(?: number)?)|ID)(?![a-z])"
                        r"(?:\s*(?:#|no\.?|number|:)?\s*[:#]?\s*|[_-])(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,}(?![A-Za-z0-9])")),
    # Telephone numbers by their shapes, never a plain range such as "MW 300-400" or "250-1000 Da".
    ("[PHONE]", re.compile(r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,3}(?!\w|\.\d)")),
    ("[PHONE]", re.compile(r"(?<!\w)\(\d{3,5}\)\s*\d{3,4}[\s.-]?\d{3,4}(?!\w)")),
    ("[PHONE]", re.compile(r"(?<![\w.-])\d{3}[\s.-]\d{3}[\s.-]\d{4}(?![\w-]|\.\d)")),
    ("[PHONE]", re.compile(r"(?<![\w.-])0\d{2,4}\s\d{3,4}\s\d{3,4}(?![\w-]|\.\d)")),
    # After a cue word ("phone", "call me at", "tel:"), which stays in the text.
    ("[PHONE]", re.compile(r"(?P<keep>(?i:\b(?:phone|mobile|cell|fax|pager|contact|tel|telephone|call me (?:at|on)|reach me (?:at|on))\b)[:.]?\s*)\+?\d[\d\s().-]{5,}\d(?![\w-]|\.\d)")),
    ("[DATE]", re.compile(rf"{_L}\d{{1,2}}([/._-])\d{{1,2}}\1\d{{2,4}}{_R}")),
    ("[DATE]", re.compile(rf"{_L}(?:19|20)\d{{2}}([/._-])\d{{1,2}}\1\d{{1,2}}{_R}")),
    ("[DATE]", re.compile(rf"{_L}(?:19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_R}")),
    ("[DATE]", re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+\d{{4}}\b", re.IGNORECASE)),
    ("[DATE]", re.compile(rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.IGNORECASE)),
    ("[DATE]", re.compile(rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!\s*(?:mm|cm|mg|%))", re.IGNORECASE)),
    ("[ADDRESS]", re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct)\b\.?")),
    ("[ZIP]", re.compile(r"\b\d{5}(?:-\d{4})\b")),
    ("[NAME]", re.compile(rf"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Dr|Prof)(?:\.?\s+|[._-]){_NAME}")),
    ("[NAME]", re.compile(rf"(?<![A-Za-z])(?P<lead>(?i:patient|named|name is|called|for|give|to))(?:\s+|[_.-])(?P<name>{_NAME})(?=[\s_.,;:!?-]|$)")),
    # DICOM's PersonName form, "DOE^JANE" / "Doe^Jane^M".
    ("[NAME]", re.compile(r"(?<![A-Za-z])[A-Za-z'’-]+\^[A-Za-z'’-]+(?:\^[A-Za-z'’.-]*)*")),
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
    words = re.split(_JOIN, m.group("name"))
    if words[0] in _NOT_NAMES or len(words) < 2 and m.group("lead").lower() in ("for", "to", "give"):
        return m.group(0)
    return f"{m.group('lead')} [NAME]"


def scrub(text: str) -> str:
    """``text`` with Safe-Harbor identifiers replaced by tags such as ``[NAME]`` or ``[DATE]``."""
    out = _AGE_OVER_89.sub(lambda m: "90+" + m.group(2), text)
    for tag, pattern in _RULES:
        if "lead" in pattern.groupindex:
            out = pattern.sub(_replace_led_name, out)
        elif "keep" in pattern.groupindex:
            out = pattern.sub(lambda m, tag=tag: m.group("keep") + tag, out)
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


def scrub_filename(name: str, known_names: tuple[str, ...] = ()) -> str:
    """A file name fit to store or show: identifiers scrubbed, and any of ``known_names`` (for
    example the patient's name read from the DICOM header before de-identification) removed
    however it is joined ("Doe_Jane.dcm", "jane-doe.nii.gz")."""
    out = scrub(name)
    for full in known_names:
        for part in re.split(r"[\s^,_.-]+", full or ""):
            if len(part) >= 2:
                out = re.sub(rf"(?i)(?<![A-Za-z]){re.escape(part)}(?![A-Za-z])", "[NAME]", out)
    return out
