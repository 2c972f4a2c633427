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
_UP, _LO = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
# A name part: "Jane", "O'Brien", "D’Angelo", "McDonald", "García", "Smith-Jones".
_PART = rf"(?:[{_UP}]['’])?[{_UP}][{_LO}'’]+(?:[{_UP}][{_LO}]+)?(?:-[{_UP}][{_LO}'’]+)?"
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
    # A title keeps its place ("Mrs [NAME]"): it is not an identifier, and it tells the patient's sex.
    ("[NAME]", re.compile(rf"(?<![A-Za-z])(?P<keep>(?:Mr|Mrs|Ms|Miss|Dr|Prof)(?:\.?\s+|[._-])){_NAME}")),
    ("[NAME]", re.compile(rf"(?<![A-Za-z])(?P<lead>(?i:patient|patients|named|name is|called|for|give|to|administer|"
                          rf"prescribe|inject|paciente|patiente|patientin|patiënt|sig\.?|señora?|sra\.?|sr\.?|mme|m\.|"
                          rf"herr|frau))(?:\s+|[_.-])(?P<name>{_NAME})(?=[\s_.,;:!?-]|$)")),
    # Chinese: a common surname and one or two characters after 患者/病人/姓名 ("患者张三").
    ("[NAME]", re.compile(r"(?<=患者|病人|姓名|病患)[:：]?\s*[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧][\u4e00-\u9fff]{1,2}(?=[，,。、\s(（]|$)")),
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
    # After a verb ("give", "prescribe") or "for"/"to", one capitalised word is more often a drug or
    # a guideline than a person: only two or more words count as a name there.
    weak = m.group("lead").lower().rstrip(".") in ("for", "to", "give", "administer", "prescribe", "inject")
    if words[0] in _NOT_NAMES or len(words) < 2 and weak:
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
