"""Plain language → :class:`DesignRequest`: rules first, then an optional checked LLM reading of
what they left (:mod:`specialists.molecules.unread`). Chinese requests are rewritten into the
same phrasing first (:mod:`specialists.molecules.zh`).

Reads reference molecules (SMILES anywhere, drug names: :mod:`specialists.molecules.mentions`),
or none (de novo design); counts ("ten analogs", "a dozen", "(10)", "five of them"); property
windows with their comparators' strictness and units (:mod:`specialists.molecules.windows`);
similarity; motifs to keep or exclude (:mod:`specialists.molecules.motifs`); rule sets and
qualitative goals (:mod:`specialists.molecules.terms`); alerts to avoid; the chemical-sense
filter switch. Every clause that looks like a constraint is either applied or listed under "Not
applied"; unknown drug names are reported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from galen.errors import InvalidInput, MissingFacts
from specialists.molecules.lexicon import INTEGER_PROPS, NAMES
from specialists.molecules.request import PROPERTIES, DesignRequest, Range, check_feasible, check_reference
from specialists.molecules.unread import Fill, fill_unread, unread_clauses

_REF_CUE = (r"(?:analog(?:ue)?s?\s+(?:of|to|for)|similar\s+to|derivatives?\s+of|variants?\s+of|based\s+on|like|"
            r"related\s+to|around|starting\s+from|inspired\s+by|modelled\s+on|modeled\s+on|versions?\s+of)")
_GENERIC = {"this", "that", "these", "those", "the", "a", "an", "drug", "drugs", "molecule", "molecules", "compound",
            "compounds", "each", "them", "it", "known", "approved", "existing", "marketed", "current", "our", "my",
            "lead", "leads", "hit", "hits", "scaffold", "core", "structure", "structures", "reference", "parent",
            "series", "following", "above", "given", "one", "ones", "antidepressant", "beta", "blocker", "inhibitor",
            "inhibitors", "kinase", "natural", "product", "products", "nsaid", "nsaids", "statin", "statins", "agent",
            "agents", "fragment", "fragments", "ring", "rings", "small", "polar", "new", "novel", "diverse"}
#: Words that end in "-like" without naming a reference ("drug-like" is a rule set, "CNS-like" vague).
_LIKE_TERMS = {"drug", "lead", "fragment", "kinase", "inhibitor", "natural", "product", "peptide", "cns", "ligand",
               "druglike", "leadlike", "nucleoside", "steroid", "sugar", "macrocycle"}


@dataclass
class ParsedDesign:
    """The request, how it was read, and the parts of the text that set no constraint.

    ``unread`` holds clauses that look like constraints but were not understood; they are
    reported back to the chemist ("Not applied"), never silently dropped.
    """

    request: DesignRequest
    notes: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _unresolved_reference(text: str, known: set[str], smiles: list[tuple[int, int]],
                          motif_spans: list[tuple[int, int]]) -> str | None:
    """A word used as a reference ("analogs of X", "X-like") that is neither a known name nor a SMILES."""
    from specialists.molecules.windows import is_molecule_noun

    for m in re.finditer(_REF_CUE + r"\s+(?:the\s+|a\s+|an\s+)?([A-Za-z][A-Za-z0-9\-]{3,})", text, re.I):
        word = m.group(1)
        low = word.lower()
        if m.group(0).lower().startswith("like") and m.start() > 0 and text[m.start() - 1] == "-":
            continue  # "drug-like molecules": the word before the hyphen is the point, not the one after
        if any(a <= m.start(1) < b for a, b in smiles):
            continue
        if (low in known or low in _GENERIC or any(low in n.split() for n in known)
                or is_molecule_noun(low) or any(a <= m.start(1) < b for a, b in motif_spans)):
            continue
        if low.split("-")[0] in known or low.split("-")[0] in _GENERIC:
            continue
        return word
    for m in re.finditer(r"\b([A-Za-z][A-Za-z0-9]{3,})-like\b", text):
        low = m.group(1).lower()
        if low not in known and low not in _LIKE_TERMS and low not in _GENERIC and not any(
                a <= m.start() < b for a, b in motif_spans):
            return m.group(1)
    return None


_KEEP = re.compile(r"\b(?:keep|keeping|retain\w*|preserv\w*|maintain\w*|conserv\w*)\b", re.I)
_CLAUSE_END = re.compile(r"[.;,!?]|\b(?:and|but|with|while)\b", re.I)


def _unread_keeps(text: str, used: list[tuple[int, int]]) -> list[str]:
    """"keep the 4-aminoquinazoline", "retain the hinge binder": something to keep that no rule read."""
    out = []
    for m in _KEEP.finditer(text):
        end = _CLAUSE_END.search(text, m.end())
        stop = end.start() if end else len(text)
        clause = text[m.start():stop].strip()
        if len(clause.split()) < 2 or any(a < stop and m.end() < b for a, b in used):
            continue
        out.append(clause)
    return out


def _reference_values(key: str, refs: list[str]) -> list[float] | None:
    """The unrounded property ``key`` of each reference (RDKit, or the learned logS/BBB models)."""
    if key in ("logs", "bbb"):
        from galen.errors import ModelUnavailable
        from specialists.molecules.learned import predict_learned

        try:
            preds = predict_learned(refs)
        except ModelUnavailable:
            return None
        return [p.logs if key == "logs" else p.bbb_probability for p in preds]
    from specialists.molecules.chem import parse_smiles
    from specialists.molecules.properties import raw_descriptors

    return [float(raw_descriptors(parse_smiles(r), with_scores=key in ("qed", "sa_score"))[key]) for r in refs]


_LOWER = r"lower|less|smaller|reduced|fewer|decreased"
_HIGHER = r"higher|more|larger|greater|increased|improved|better"
_ADJECTIVES = {"soluble": "logs", "lipophilic": "logp", "polar": "tpsa"}


def _find_relative(text: str, refs: list[str], ref_names: list[str], ranges: dict[str, Range],
                   used: list[tuple[int, int]], notes: list[str]) -> None:
    """"Lower logP", "more soluble than ibuprofen": a strict bound at the reference's own value."""
    if not refs:
        return
    names = "|".join(alt for alts in NAMES.values() for alt in alts)
    pattern = (rf"\b(?P<dir>{_LOWER}|{_HIGHER})\s+(?:(?P<adj>{'|'.join(_ADJECTIVES)})\b|(?P<name>{names}))"
               r"(?:\s+than\s+(?:the\s+)?(?P<than>[\w\-]+))?")
    for m in re.finditer(pattern, text, re.I):
        key = _ADJECTIVES[m.group("adj").lower()] if m.group("adj") else next(
            k for k, alts in NAMES.items() if re.fullmatch("(?:" + "|".join(alts) + ")", m.group("name"), re.I))
        used.append(m.span())
        if key in ranges:
            continue  # an explicit window wins over a comparison
        than = (m.group("than") or "").lower()
        chosen = [(n, r) for n, r in zip(ref_names, refs, strict=True) if than and n.lower() == than]
        chosen = chosen or list(zip(ref_names, refs, strict=True))
        values = _reference_values(key, [r for _, r in chosen])
        if values is None:
            notes.append(f"Not applied: '{m.group(0)}' needs the learned model, which is not installed.")
            continue
        label, unit, _, _ = PROPERTIES[key]
        lower = re.fullmatch(_LOWER, m.group("dir"), re.I) is not None
        value = min(values) if lower else max(values)
        name = chosen[values.index(value)][0]
        ranges[key] = Range(high=value, high_strict=True) if lower else Range(low=value, low_strict=True)
        shown = f"{value:.0f}" if key in INTEGER_PROPS else f"{value:.4g}"
        how = "" if key in ("logs", "bbb") else "computed "
        notes.append(f"'{m.group(0)}' was read as {label} {'<' if lower else '>'} {shown}{' ' + unit if unit else ''}: "
                     f"{'below' if lower else 'above'} {name}'s {how}{label}.")


def parse_design_request(text: str, fill: Fill | None = None, **overrides) -> ParsedDesign:
    """Read a plain-language design request (English or Chinese).

    Args:
        text: the chemist's words, e.g. "ten analogs of celecoxib with MW under 400, no PAINS".
        fill: optional ``fill(prompt, json_schema) -> object`` language-model call for clauses the
            rules could not read; each value it returns must be written in that clause.
        **overrides: fields of :class:`DesignRequest` to set directly (``method``, budgets, seed,
            ``chem_filter`` default ...). Words in the request that turn the filter off win.

    Raises:
        MissingFacts: a reference drug name is not in the offline table, or there is no target at all.
        InvalidInput: an invalid or oversized SMILES, or constraints that contradict each other.
    """
    from rdkit import Chem

    from specialists.molecules import terms
    from specialists.molecules.mentions import find_molecules
    from specialists.molecules.motifs import find_motifs
    from specialists.molecules.windows import find_count, find_ranges, find_similarity
    from specialists.molecules.zh import has_cjk, normalise_chinese

    notes: list[str] = []
    if has_cjk(text):
        text = normalise_chinese(text)
    mentions = find_molecules(text)
    valid = mentions.valid
    named = list({n.name: n for n in mentions.names}.values())
    reading = find_motifs(text, valid, [(n.name, n.smiles) for n in named])
    # A ring that is also a drug's name ("a piperazine ring") is a motif there, not a reference.
    named = [n for n in named if not any(a <= m.start < b for m in mentions.names if m.name == n.name
                                         for a, b in reading.spans)]
    ref_tokens = [t for t in valid if t.text not in reading.scaffold_smiles]
    unresolved = _unresolved_reference(text, {n.name for n in named} | {n.written.lower() for n in named},
                                       [(t.start, t.end) for t in mentions.smiles], reading.spans)
    if mentions.invalid:
        from specialists.molecules.chem import parse_smiles

        parse_smiles(mentions.invalid[0].text)  # raises InvalidInput naming what is wrong with it
    if unresolved:
        raise MissingFacts(
            f"'{unresolved}' is not in Galen's offline table of drug names, so its structure is unknown.",
            missing=[f"SMILES of {unresolved}"],
            hint="Give its SMILES string instead (Galen never guesses a structure from a name).",
        )
    refs: list[str] = []
    ref_names: list[str] = []
    for tok in ref_tokens:
        mol = check_reference(tok.text, f"'{_clip(tok.text, 40)}'")
        refs.append(Chem.MolToSmiles(mol))
        ref_names.append(_clip(tok.text, 40))
    for n in named:
        can = Chem.MolToSmiles(check_reference(n.smiles, n.name))
        if can not in refs:
            refs.append(can)
            ref_names.append(n.name)
        if n.written.lower() != n.name:
            notes.append(f"'{n.written}' was read as {n.name}.")
    used: list[tuple[int, int]] = list(reading.spans) + [(t.start, t.end) for t in mentions.smiles]
    used += [(n.start, n.end) for n in mentions.names]
    ranges = find_ranges(text, used)
    _find_relative(text, refs, ref_names, ranges, used, notes)
    terms.rule_sets(text, ranges, notes, used)
    terms.learned_terms(text, ranges, notes)
    fields: dict = {"references": refs, "reference_names": ref_names, "ranges": ranges, "motifs": reading.motifs}
    sim = find_similarity(text, used, notes)  # before the count: "0.6 similarity, 5 molecules"
    count = find_count(text, notes, used)
    if count is not None:
        fields["count"] = count
    notes += reading.notes
    pending = unread_clauses(text, used, [t.text for t in mentions.smiles], ranges)
    pending += [(c, []) for c in _unread_keeps(text, used) if c not in [p for p, _ in pending]]
    if pending and fill is not None:
        pending = fill_unread(pending, ranges, fill, notes)
    unread = [clause for clause, _ in pending] + reading.unread
    for clause in reversed(unread):  # first among the notes: the chemist must see it
        notes.insert(0, f"Not applied: '{_clip(clause)}' was not understood as a constraint, so the molecules were not "
                     "checked against it. Rephrase it with a property and a comparator (e.g. 'logP under 3') or a "
                     "named ring or SMILES to keep.")
    if sim is not None:
        fields["min_similarity"], fields["similarity_strict"] = sim
    elif refs:
        fields["min_similarity"] = 0.4
        notes.append("Analogs were required to have Tanimoto similarity ≥ 0.4 (Morgan radius 2) to a reference.")
    if sim is not None and not refs:
        notes.insert(0, "Not applied: a similarity was given but no reference molecule to be similar to.")
    fields["avoid_alerts"] = terms.alerts_to_avoid(text)
    fields.update(overrides)
    off = terms.chem_filter_off(text)
    if off:
        fields["chem_filter"] = False
        notes.append(f"'{off}' turned the chemical-sense filter off: unstable or reactive groups are reported, not removed.")
    if not refs and not ranges and not reading.motifs and not fields["avoid_alerts"]:
        raise MissingFacts(
            "The design request names no reference molecule, scaffold or property target.",
            missing=["reference molecule, scaffold or property targets"],
            hint="For example: 'ten analogs of ibuprofen with logP under 3, no PAINS'.",
        )
    if not refs:
        notes.append("No reference molecule was given: molecules were designed de novo (seeded from the generative "
                     "prior's samples and MOSES molecules).")
    try:
        req = DesignRequest(**fields)
    except ValueError as e:
        raise InvalidInput(f"The design request is not valid: {e}") from e
    check_feasible(req)
    return ParsedDesign(req, notes, unread)
