"""What the rules did not read in a design request, and the language model's checked reading of it.

The parser's rules read what they can; :func:`unread_clauses` lists the clauses that still look
like constraints (a property name, or a comparator beside a number). :func:`fill_unread` asks a
schema-constrained LLM one question per clause and property, and keeps an answer only when the
clause's own words support it. Nothing here imports an LLM library: the caller supplies ``fill``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from specialists.molecules.lexicon import HIGH, INTEGER_PROPS, LOW, NAMES, to_float
from specialists.molecules.request import PROPERTIES, Range

#: ``fill(prompt, json_schema) -> object``: a schema-constrained language-model call, supplied by
#: the caller (the agent).
Fill = Callable[[str, dict[str, Any]], Any]

# A token that is a number, perhaps with a comparator, unit or punctuation attached ("≤400Da,"),
# but not a label such as "COX-2", "5-HT2A" or a SMILES ring closure.
_NUMERIC_TOKEN = re.compile(
    r"^[<>≤≥=~(\[]*[-+−]?(\d+(?:\.\d+)?)(?:%|da|kda|daltons?|g/mol|å²|å\^?2|a\^?2)?[)\].,;:!?]*$", re.I)
_CLAUSE_BREAK = re.compile(r";|,(?!\d)|\.(?=\s|$)|\b(?:with|but|while|whereas)\b|\band\b(?!\s*[-+−]?\d)", re.I)


def unread_clauses(text: str, used: list[tuple[int, int]], skip: list[str],
                    ranges: dict[str, Range]) -> list[tuple[str, list[float]]]:
    """Clauses holding a number, or naming a property, that no rule read; with their unread numbers."""
    def inside(a: int, b: int) -> bool:
        return any(u0 <= a and b <= u1 for u0, u1 in used)

    free: list[tuple[int, float]] = []  # (position, value) of numbers no rule read
    hits: list[int] = []
    for m in re.finditer(r"\S+", text):
        tok = m.group(0).strip("\"'`«»“”‘’")
        if tok in skip or tok.rstrip(".,;:!?") in skip:
            continue
        n = _NUMERIC_TOKEN.match(tok)
        if n:
            a = m.start() + m.group(0).find(n.group(1))
            if not inside(a, a + len(n.group(1))):
                hits.append((a, False))
                free.append((a, to_float(n.group(1))))
    for key, alts in NAMES.items():
        if key in ranges:
            continue
        for m in re.finditer("(?:" + "|".join(alts) + ")", text, re.I):
            if not inside(*m.span()):
                hits.append((m.start(), True))
    breaks = [m.span() for m in _CLAUSE_BREAK.finditer(text)]
    clauses: dict[str, list[float]] = {}
    for pos, named in sorted(set(hits)):
        lo = max([e for _, e in breaks if e <= pos], default=0)
        hi = min([b for b, _ in breaks if b > pos], default=len(text))
        clause = text[lo:hi].strip(" .,;:")
        # A bare number counts only beside a comparator ("fewer than 3 aromatic rings"); "500 mg for
        # every patient" sets no design constraint and is not quoted back.
        if not clause or clause in clauses or not (named or re.search(_COMPARING, clause, re.I)):
            continue
        clauses[clause] = list(dict.fromkeys(v for a, v in free if lo <= a < hi))
    return list(clauses.items())


COMPARATORS = ["at_most", "at_least", "between", "exactly", "none"]
_FILL_PROMPT = """Part of a chemist's molecule-design request: "{clause}"
What limit does this part set on {label}? Answer in JSON with
- comparator: at_most, at_least, between, exactly, or none if it sets no limit on {label};
- value (and value2 for between): numbers written in the part."""
# Comparator words beyond the rules' own, used only to check the direction the model chose.
_HIGH_CUE = HIGH + r"|\bnot (?:to )?(?:exceed|go|rise|climb|pass)\w*|\bbeneath\b|\bcap(?:ped)? at\b|\bsouth of\b"
_LOW_CUE = LOW + r"|(?<!not )(?<!not to )\bexceed\w*|\bnorth of\b"
_EXACT_CUE = r"\b(?:exactly|precisely|held at|fixed at|equal to)\b"
# Comparator words as whole words, and symbols only before a number ("</question>" is not one).
_COMPARING = (r"(?:[<>≤≥]=?|=<|=>)\s*[-+−]?\d|\b(?:under|below|beneath|less than|fewer than|at most|no more than|"
              r"maximum|max|up to|above|over|more than|greater than|at least|no less than|no fewer than|minimum|min|"
              r"between|exactly|precisely|held at|fixed at|equal to|exceed\w*|capped at|limited to|south of|north of|"
              r"topping out|not (?:to )?(?:exceed|go|rise|climb|pass)\w*)\b")


def fill_schema(numbers: list[float]) -> dict[str, Any]:
    """The JSON schema of one fill question: a comparator and values drawn from ``numbers`` only."""
    nums = {"enum": numbers}
    return {"type": "object",
            "properties": {"comparator": {"type": "string", "enum": COMPARATORS}, "value": nums, "value2": nums},
            "required": ["comparator", "value"]}


def _named(clause: str, ranges: dict[str, Range]) -> list[str]:
    """Properties named in ``clause`` that no rule has set yet."""
    return [k for k, alts in NAMES.items()
            if k not in ranges and re.search("(?:" + "|".join(alts) + ")", clause, re.I)]


def fill_unread(unread: list[tuple[str, list[float]]], ranges: dict[str, Range], fill: Fill,
                 notes: list[str]) -> list[tuple[str, list[float]]]:
    """Ask the language model what each unread clause sets on each property it names.

    The model only chooses: the property comes from the clause's own words, and the schema lets
    it pick the clause's unread numbers and nothing else. Its comparator must not contradict a
    comparator word in the clause. A clause counts as read when every property it names is read
    and every unread number in it is used.

    Returns:
        the clauses still unread, with their numbers.
    """
    still: list[tuple[str, list[float]]] = []
    for clause, numbers in unread[:20]:
        keys = _named(clause, ranges)
        if not keys or not numbers:
            still.append((clause, numbers))  # nothing the model could fill without guessing
            continue
        got: dict[str, Range] = {}
        taken: set[float] = set()
        for key in keys:
            label, unit, _, _ = PROPERTIES[key]
            prompt = _FILL_PROMPT.format(clause=clause, label=label)
            try:
                out = fill(prompt, fill_schema(numbers))
            except Exception as e:  # any failure of the model leaves the clause unread, and says so
                notes.append(f"The language model could not read '{clause}' ({type(e).__name__}).")
                break
            rng = _accept(out, key, clause, numbers)
            values = {v for v in (rng.low, rng.high) if v is not None} if rng else set()
            if rng is None or values & taken:
                break  # unsupported, or one number read for two properties
            got[key] = rng
            taken |= values
        if len(got) < len(keys) or taken != set(numbers):
            still.append((clause, numbers))  # a property or a number left unexplained
            continue
        for key, rng in got.items():
            ranges[key] = rng
            label, unit, _, _ = PROPERTIES[key]
            notes.append(f"Read by the language model (please check): '{clause}' as {label} {rng.text(unit)}.")
    return still + unread[20:]


def _accept(out: Any, key: str, clause: str, numbers: list[float]) -> Range | None:
    """The model's answer as a window, if the clause's own words support it."""
    if not isinstance(out, dict):
        return None
    try:
        comp, v = str(out["comparator"]), float(out["value"])
        v2 = float(out["value2"]) if out.get("value2") is not None else None
    except (KeyError, TypeError, ValueError):
        return None
    if v not in numbers or (comp == "between" and (v2 is None or v2 not in numbers or v2 == v)):
        return None  # a number the chemist did not write
    _, _, lowest, highest = PROPERTIES[key]
    if not all(lowest <= x <= highest for x in (v, v2) if x is not None):
        return None  # impossible for this property (e.g. a weight read as a logP)
    says_high = re.search(_HIGH_CUE, clause, re.I) and not re.search(_LOW_CUE, clause, re.I)
    says_low = re.search(_LOW_CUE, clause, re.I) and not re.search(_HIGH_CUE, clause, re.I)
    if (comp == "at_least" and says_high) or (comp == "at_most" and says_low):
        return None  # the direction contradicts the clause's own comparator word
    if re.search(_EXACT_CUE, clause, re.I) and comp != "exactly":
        return None
    if comp == "at_most":
        return Range(high=v)
    if comp == "at_least":
        return Range(low=v)
    if comp == "between":
        return Range(low=min(v, v2), high=max(v, v2))
    if comp == "exactly" and key in INTEGER_PROPS:
        return Range(low=v, high=v)
    return None  # "none", or an exact value of a continuous property
