"""Plain language → :class:`DesignRequest`: rules first (regular expressions), then an optional
checked LLM reading of what they left (:mod:`specialists.molecules.unread`).

Understands SMILES and drug names (offline table), counts ("ten analogs", "25 molecules", "a
million"), property windows with comparators and units ("MW under 400 Da", "logP ≤ 3", "QED at
least 0.7", "TPSA between 40 and 90", "no more than 2 H-bond donors"), similarity ("Tanimoto ≥
0.5", "close analogs"), scaffolds ("keep the scaffold c1ccccc1"), alerts ("no PAINS") and
qualitative goals ("soluble", "BBB-penetrant"). Unresolved names are reported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from galen.errors import InvalidInput, MissingFacts
from specialists.molecules.lexicon import BRIDGE, HIGH, INTEGER_PROPS, LOW, NAMES, NUM, UNIT, to_float
from specialists.molecules.request import (
    MAX_COUNT,
    PROPERTIES,
    DesignRequest,
    Range,
    check_feasible,
    check_reference,
)
from specialists.molecules.unread import Fill, fill_unread, unread_clauses

_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "hundred": 100, "a hundred": 100, "a dozen": 12, "dozen": 12, "a thousand": 1000,
    "thousand": 1000, "a million": 1_000_000, "million": 1_000_000, "a billion": 1_000_000_000,
    "a few": 5, "several": 5, "a couple of": 2, "a couple": 2, "some": 10,
}
_NOUNS = r"(?:new\s+|novel\s+|close\s+|distinct\s+|different\s+|more\s+)*(?:analogs?|analogues?|molecules?|compounds?|candidates?|structures?|derivatives?|variants?|ideas?)"
# Up to three describing words between a count and its noun: "five soluble, BBB-penetrant analogs".
_ADJ = r"(?:[a-z][a-z0-9\-]*,?\s+){0,3}?"
_REF_CUE = r"(?:analog(?:ue)?s? of|similar to|derivatives? of|variants? of|based on|like|related to|around|starting from)"
_SOLUBLE_LOGS = -4.0  # logS ≥ −4 (≥ 0.1 mM) is the usual "soluble" cut-off
_BBB_PROB = 0.5


@dataclass
class ParsedDesign:
    """The request, how it was read, and the parts of the text that set no constraint.

    ``unread`` holds clauses that look like constraints (a number or a property name) but were
    not understood; they are reported back to the chemist, never silently dropped.
    """

    request: DesignRequest
    notes: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _find_count(text: str, notes: list[str], used: list[tuple[int, int]]) -> int | None:
    t = text.lower()
    m = re.search(r"\b(\d[\d,]*(?:\.\d+)?)\s*(k|thousand|million|billion)?\s+" + _ADJ + _NOUNS, t)
    n: float | None = None
    if m:
        n = float(m.group(1).replace(",", ""))
        n *= {"k": 1e3, "thousand": 1e3, "million": 1e6, "billion": 1e9}.get(m.group(2) or "", 1)
    else:
        words = "|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True))
        m = re.search(r"\b(" + words + r")\s+" + _ADJ + _NOUNS, t)
        if m:
            n = _WORDS[m.group(1)]
    if n is None:
        m = re.search(r"\b(\d+|" + "|".join(w for w in _WORDS if " " not in w) + r") of them\b", t)
        if m:
            n = int(m.group(1)) if m.group(1).isdigit() else _WORDS[m.group(1)]
    if n is None:
        return None
    used.append(m.span())
    n = int(n)
    if n > MAX_COUNT:
        notes.append(f"{n:,} molecules were asked for; one request returns at most {MAX_COUNT}, so the count was capped at {MAX_COUNT}.")
        return MAX_COUNT
    if n < 1:
        raise InvalidInput(f"A count of {n} molecules was asked for; ask for at least one.")
    return n


def _find_ranges(text: str, used: list[tuple[int, int]]) -> dict[str, Range]:
    t = text.replace("−", "-")
    out: dict[str, Range] = {}
    spans: list[re.Match] = []

    def put(key: str, low: float | None, high: float | None) -> None:
        used.append(spans[-1].span())
        old = out.get(key, Range())
        out[key] = Range(low=low if low is not None else old.low, high=high if high is not None else old.high)

    for key, alts in NAMES.items():
        name = "(?:" + "|".join(alts) + ")"
        for m in re.finditer(name + BRIDGE + r"between\s*" + NUM + UNIT + r"\s*(?:and|to|-)\s*" + NUM, t, re.I):
            spans.append(m)
            a, b = to_float(m.group(1)), to_float(m.group(2))
            put(key, min(a, b), max(a, b))
        for m in re.finditer(name + BRIDGE + NUM + UNIT + r"\s*(?:-|–|to)\s*" + NUM + r"(?!\s*%)", t, re.I):
            spans.append(m)
            a, b = to_float(m.group(1)), to_float(m.group(2))
            if a <= b:
                put(key, a, b)
        for m in re.finditer(name + BRIDGE + HIGH + r"\s*" + NUM, t, re.I):
            spans.append(m)
            put(key, None, to_float(m.group(1)))
        for m in re.finditer(name + BRIDGE + LOW + r"\s*" + NUM, t, re.I):
            spans.append(m)
            put(key, to_float(m.group(1)), None)
        for m in re.finditer(name + BRIDGE + NUM + UNIT + r"\s*or (less|fewer|lower|below|more|higher|greater|above)", t, re.I):
            spans.append(m)
            v = to_float(m.group(1))
            put(key, None, v) if m.group(2).lower() in ("less", "fewer", "lower", "below") else put(key, v, None)
        if key in INTEGER_PROPS:  # "exactly 2 H-bond donors"
            for m in re.finditer(r"(?:exactly|precisely)\s*" + NUM + r"\s*" + name, t, re.I):
                spans.append(m)
                put(key, to_float(m.group(1)), to_float(m.group(1)))
        # comparator before the name: "at most 2 H-bond donors", "no more than 8 rotatable bonds"
        for m in re.finditer(HIGH + r"\s*" + NUM + r"\s*" + name, t, re.I):
            spans.append(m)
            put(key, None, to_float(m.group(1)))
        for m in re.finditer(LOW + r"\s*" + NUM + r"\s*" + name, t, re.I):
            spans.append(m)
            put(key, to_float(m.group(1)), None)
    # A bare weight with its unit ("under 400 Da") is a molecular-weight window.
    if "mw" not in out:
        m = re.search(HIGH + r"\s*" + NUM + r"\s*(?:da\b|daltons?\b|g/mol)", t, re.I)
        if m:
            spans.append(m)
            put("mw", None, to_float(m.group(1)))
        m = re.search(LOW + r"\s*" + NUM + r"\s*(?:da\b|daltons?\b|g/mol)", t, re.I)
        if m:
            spans.append(m)
            put("mw", to_float(m.group(1)), None)
    return out


def _find_qualitative(text: str, ranges: dict[str, Range], notes: list[str]) -> None:
    t = text.lower()
    if "logs" not in ranges and re.search(r"\b(?:water[- ])?soluble\b|\bgood solubility\b", t) and not re.search(
        r"\b(?:in|not|poorly)\s*soluble", t
    ):
        ranges["logs"] = Range(low=_SOLUBLE_LOGS)
        notes.append(f"'soluble' was read as predicted logS ≥ {_SOLUBLE_LOGS:g} (at least 0.1 mM).")
    if "bbb" not in ranges:
        neg = re.search(r"\b(?:not|non|no)[- ](?:bbb|brain|cns)[- ]?(?:penetrant|permeable|penetrating)|peripherally restricted", t)
        pos = re.search(r"\b(?:bbb|brain|cns|blood[- ]brain[- ]barrier)[- ]?(?:penetrant|permeable|penetrating|penetration|permeation)|cross(?:es|ing)? the (?:bbb|blood[- ]brain barrier)|\bcns[- ]active\b", t)
        if neg:
            ranges["bbb"] = Range(high=_BBB_PROB)
            notes.append(f"'not brain-penetrant' was read as predicted BBB probability ≤ {_BBB_PROB:g}.")
        elif pos:
            ranges["bbb"] = Range(low=_BBB_PROB)
            notes.append(f"'BBB-penetrant' was read as predicted BBB probability ≥ {_BBB_PROB:g}.")
    if "mw" not in ranges and re.search(r"\brule of (?:five|5)\b|\blipinski\b", t):
        ranges.update({"mw": Range(high=500), "logp": Range(high=5), "hbd": Range(high=5), "hba": Range(high=10)})
        notes.append("'Lipinski / rule of five' was read as MW ≤ 500, logP ≤ 5, HBD ≤ 5, HBA ≤ 10 (all four).")


_LOWER_WORDS = r"lower|less|smaller|reduced|fewer|decreased"
_HIGHER_WORDS = r"higher|more|larger|greater|increased|improved|better"
#: Adjectives that name a property in comparisons: "more soluble than", "less lipophilic".
_ADJECTIVES = {"soluble": "logs", "lipophilic": "logp", "polar": "tpsa"}


def _reference_values(key: str, refs: list[str]) -> list[float] | None:
    """The property ``key`` of each reference: RDKit descriptors, or the learned logS/BBB models."""
    if key in ("logs", "bbb"):
        from galen.errors import ModelUnavailable
        from specialists.molecules.learned import predict_learned

        try:
            preds = predict_learned(refs)
        except ModelUnavailable:
            return None
        return [p.logs if key == "logs" else p.bbb_probability for p in preds]
    from specialists.molecules.properties import compute_properties

    return [float(getattr(compute_properties(r), key)) for r in refs]


def _find_relative(text: str, refs: list[str], ref_names: list[str], ranges: dict[str, Range],
                   used: list[tuple[int, int]], notes: list[str]) -> None:
    """"Lower logP", "more soluble than ibuprofen": a bound at the reference's own computed value.

    Lower means below the lowest reference, higher above the highest (or the one named after
    "than"); the bound and the reference's value are stated in the notes.
    """
    if not refs:
        return  # nothing to compare with: left for the unread-clause report
    names = "|".join(alt for alts in NAMES.values() for alt in alts)
    adjectives = "|".join(_ADJECTIVES)
    pattern = (rf"\b(?P<dir>{_LOWER_WORDS}|{_HIGHER_WORDS})\s+(?:(?P<adj>{adjectives})\b|(?P<name>{names}))"
               r"(?:\s+than\s+(?:the\s+)?(?P<than>[\w\-]+))?")
    for m in re.finditer(pattern, text, re.I):
        if m.group("adj"):
            key = _ADJECTIVES[m.group("adj").lower()]
        else:
            key = next(k for k, alts in NAMES.items() if re.fullmatch("(?:" + "|".join(alts) + ")", m.group("name"), re.I))
        if key in ranges:
            continue
        chosen = [(n, r) for n, r in zip(ref_names, refs, strict=True) if m.group("than") and n.lower() == m.group("than").lower()]
        chosen = chosen or list(zip(ref_names, refs, strict=True))
        values = _reference_values(key, [r for _, r in chosen])
        if values is None:
            notes.append(f"'{m.group(0)}' was not applied: the learned model it needs is not installed.")
            continue
        label, unit, _, _ = PROPERTIES[key]
        step = 1.0 if key in INTEGER_PROPS else 0.01
        lower = re.fullmatch(_LOWER_WORDS, m.group("dir"), re.I) is not None
        if lower:
            bound = round(min(values) - step, 2)
            ranges[key] = Range(high=bound)
        else:
            bound = round(max(values) + step, 2)
            ranges[key] = Range(low=bound)
        which = min if lower else max
        name, value = chosen[values.index(which(values))][0], which(values)
        how = "" if key in ("logs", "bbb") else "computed "
        notes.append(f"'{m.group(0)}' was read as {label} {ranges[key].text(unit)}: "
                     f"{'below' if lower else 'above'} {name}'s {how}{label} of {value:.2f}."
                     .replace(".00.", "."))
        used.append(m.span())


def _find_similarity(text: str, used: list[tuple[int, int]]) -> float | None:
    t = text.lower()
    m = re.search(r"(?:similarity|tanimoto)" + BRIDGE + r"(?:to the reference\s*)?" + LOW + r"?\s*" + NUM, t)
    if m:
        used.append(m.span())
        return to_float(m.group(1))
    if re.search(r"\b(?:close|closely related|very similar)\b", t):
        return 0.55
    return None


def _find_scaffold(text: str, smiles_tokens: list[str]) -> str | None:
    m = re.search(
        r"(?:keep(?:ing)?|retain(?:ing)?|preserv(?:e|ing)|contain(?:s|ing)?|with)\s+(?:the\s+)?"
        r"(?:(?:scaffold|core|substructure|ring system|fragment)\s+)?(\S+)",
        text, re.I,
    )
    if m:
        tok = m.group(1).strip(".,;:'\"()")
        if tok in smiles_tokens:
            return tok
    m = re.search(r"(?:scaffold|core|substructure)\s*(?:of|:|=)?\s*(\S+)", text, re.I)
    if m and m.group(1).strip(".,;:'\"") in smiles_tokens:
        return m.group(1).strip(".,;:'\"")
    return None


def _unresolved_reference(text: str, names_found: list[str], smiles_tokens: list[str]) -> str | None:
    """A word used as a reference ("analogs of X") that is neither a known name nor a SMILES."""
    for m in re.finditer(_REF_CUE + r"\s+([A-Za-z][A-Za-z0-9\-]{3,})", text, re.I):
        word = m.group(1)
        low = word.lower()
        if low in names_found or word in smiles_tokens or low in {"this", "that", "these", "those", "the", "drug", "molecule", "compound", "each", "them"}:
            continue
        if any(low in n.split() for n in names_found):
            continue
        return word
    return None


def parse_design_request(text: str, fill: Fill | None = None, **overrides) -> ParsedDesign:
    """Read a plain-language design request.

    Rules read everything they can. What looks like a constraint but was not read (a number or a
    property name outside any understood phrase) goes to ``fill``, a schema-constrained language
    model, when one is given; each value it returns must be a number written in that clause and
    its property must be named there, and what it read is echoed in the notes. Whatever is still
    unread is listed in ``unread`` and in the notes as not applied.

    Args:
        text: the chemist's words, e.g. "ten analogs of celecoxib with MW under 400, no PAINS".
        fill: optional ``fill(prompt, json_schema) -> object`` language-model call.
        **overrides: fields of :class:`DesignRequest` to set directly (``method``, budgets, seed…).

    Raises:
        MissingFacts: a reference drug name is not in the offline table (it is named, not guessed).
        InvalidInput: an invalid or oversized SMILES, or constraints that contradict each other.
    """
    notes: list[str] = []
    smiles_tokens, bad = _smiles_tokens(text)
    scaffold = _find_scaffold(text, smiles_tokens)
    from specialists.molecules.names import find_drug_names

    named = find_drug_names(text)
    unresolved = _unresolved_reference(text, [n for n, _ in named], smiles_tokens + bad)
    if bad and not smiles_tokens and not named:
        from specialists.molecules.chem import parse_smiles

        parse_smiles(bad[0])  # raises InvalidInput naming what is wrong with it
    if bad:
        from specialists.molecules.chem import parse_smiles

        parse_smiles(bad[0])
    if unresolved:
        raise MissingFacts(
            f"'{unresolved}' is not in Galen's offline table of drug names, so its structure is unknown.",
            missing=[f"SMILES of {unresolved}"],
            hint="Give its SMILES string instead (Galen never guesses a structure from a name).",
        )
    refs: list[str] = []
    ref_names: list[str] = []
    from rdkit import Chem

    for tok in smiles_tokens:
        if tok == scaffold:
            continue
        mol = check_reference(tok, f"'{tok[:40]}…'" if len(tok) > 40 else f"'{tok}'")
        refs.append(Chem.MolToSmiles(mol))
        ref_names.append(tok if len(tok) <= 40 else tok[:39] + "…")
    for name, smi in named:
        mol = check_reference(smi, name)
        can = Chem.MolToSmiles(mol)
        if can not in refs:
            refs.append(can)
            ref_names.append(name)
    used: list[tuple[int, int]] = []
    ranges = _find_ranges(text, used)
    _find_relative(text, refs, ref_names, ranges, used, notes)
    _find_qualitative(text, ranges, notes)
    fields: dict = {"references": refs, "reference_names": ref_names, "ranges": ranges}
    count = _find_count(text, notes, used)
    if count is not None:
        fields["count"] = count
    sim = _find_similarity(text, used)
    pending = unread_clauses(text, used, smiles_tokens + bad, ranges)
    if pending and fill is not None:
        pending = fill_unread(pending, ranges, fill, notes)
    unread = [clause for clause, _ in pending]
    for clause in reversed(unread):  # first among the notes: the chemist must see it
        notes.insert(0, f"Not applied: '{_clip(clause)}' was not understood as a constraint, so the molecules were not "
                     "checked against it. Rephrase it with a property and a comparator, e.g. 'logP under 3'.")
    if sim is not None:
        fields["min_similarity"] = sim
    elif refs:
        fields["min_similarity"] = 0.4
        notes.append("Analogs were required to have Tanimoto similarity ≥ 0.4 (Morgan radius 2) to a reference.")
    if scaffold:
        fields["scaffold"] = Chem.MolToSmiles(check_reference(scaffold, f"scaffold '{scaffold}'"))
    t = text.lower()
    alerts = []
    if re.search(r"\bno (?:structural )?alerts\b|\bwithout (?:structural )?alerts\b|\balert[- ]free\b|\bclean\b", t):
        alerts = ["PAINS", "Brenk"]
    else:
        if re.search(r"\b(?:no|without|avoid(?:ing)?|free of|exclude|excluding)\s+(?:any\s+)?pains\b|pains[- ]free", t):
            alerts.append("PAINS")
        if re.search(r"\b(?:no|without|avoid(?:ing)?|free of|exclude|excluding)\s+(?:any\s+)?(?:pains (?:or|and|/) )?brenk\b|brenk[- ]free", t):
            alerts.append("Brenk")
    fields["avoid_alerts"] = alerts
    fields.update(overrides)
    if not refs and not ranges and not scaffold and not alerts:
        raise MissingFacts(
            "The design request names no reference molecule, scaffold or property target.",
            missing=["reference molecule, scaffold or property targets"],
            hint="For example: 'ten analogs of ibuprofen with logP under 3, no PAINS'.",
        )
    try:
        req = DesignRequest(**fields)
    except ValueError as e:
        raise InvalidInput(f"The design request is not valid: {e}") from e
    check_feasible(req)
    return ParsedDesign(req, notes, unread)


_SMILES_CHARS = re.compile(r"^[A-Za-z0-9@+\-\[\]\(\)=#%/\\\.\*:]+$")
_ATOM = r"Cl|Br|[BCNOSPFI]|[cnosp]"


def _smiles_tokens(text: str) -> tuple[list[str], list[str]]:
    """(valid, invalid) SMILES-looking tokens. Words are SMILES only with SMILES syntax in them."""
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit

    valid: list[str] = []
    bad: list[str] = []
    for raw in re.split(r"[\s,;]+", text):
        tok = raw.strip("\"'`«»“”‘’")
        while tok and tok[-1] in ".,;:!?" or (tok.endswith(")") and tok.count(")") > tok.count("(")):
            tok = tok[:-1]
        if tok.startswith("(") and tok.count("(") > tok.count(")"):
            tok = tok[1:]
        if not tok or not _SMILES_CHARS.match(tok) or not re.search(_ATOM, tok):
            continue
        atoms = len(re.findall(_ATOM, tok))
        syntax = re.search(r"[\[\]\(\)=#@/\\%]|[A-Za-z]\d", tok)
        # Plain upper-case words ("CNS", "BBB", "NO") are acronyms; plain SMILES need 4+ atoms.
        plain = re.fullmatch(r"(?:Cl|Br|[BCNOSPFI])+", tok) and atoms >= 4
        if not ((syntax and atoms >= 2) or plain):
            continue
        with quiet_rdkit():
            mol = Chem.MolFromSmiles(tok)
        (valid if mol is not None and mol.GetNumAtoms() > 0 else bad).append(tok)
    return list(dict.fromkeys(valid)), list(dict.fromkeys(bad))
