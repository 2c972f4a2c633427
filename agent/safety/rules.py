"""Layer (a): rules over clauses (``agent/data/policy.yaml``), harm wins.

Each clause is read once into a :class:`Clause` (its intents, exemption, whether it refers back
to something named elsewhere); each rule then judges every clause on its own. How subjects,
intents, exemptions and inheritance combine is documented at the top of the data file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from agent.safety.lexicon import compile_all, first_match, lexicon, read_data

_CJK = re.compile(r"[\u3400-\u9fff]")
SHORT_WORDS = 8  # a follow-up this short ("how would I make it?", "怎么合成？") may take another clause's subject


@dataclass(frozen=True)
class SubjectGroup:
    terms: tuple[re.Pattern[str], ...]
    intents: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    kind: str
    subjects: tuple[SubjectGroup, ...]
    standalone: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    exempt: tuple[str, ...] | None


def smiles_as_words(text: str) -> str:
    """``text`` with each SMILES string replaced by the word ``molecule`` (drug names stay)."""
    from specialists.molecules.mentions import find_smiles

    out, at = [], 0
    for tok in sorted(find_smiles(text), key=lambda t: t.start):
        if tok.start >= at:
            out += [text[at:tok.start], "molecule"]
            at = tok.end
    return "".join(out) + text[at:] if out else text


@dataclass(frozen=True)
class Clause:
    """One clause, read once: what it asks for and whether it points elsewhere."""

    text: str
    intents: dict[str, str]  # intent name -> the words that ask for it
    refers_back: bool
    short: bool
    #: the text with every SMILES string as one word: a long SMILES must not push the words of a
    #: request ("design ... not scheduled") further apart than a pattern's distance allows
    words: str = ""

    @classmethod
    def read(cls, text: str) -> Clause:
        lex = lexicon()
        words = len(text.split()) + len(_CJK.findall(text)) // 2
        collapsed = smiles_as_words(text)
        intents = lex.intents_in(collapsed) | lex.intents_in(text) if collapsed != text else lex.intents_in(text)
        return cls(text, intents, lex.refers_back(text), words <= SHORT_WORDS, collapsed)

    def may_inherit(self, intents: dict[str, str]) -> bool:
        """Whether this clause's ``intents`` may apply to what another clause names."""
        if not intents:
            return False
        strong = any(lexicon().intents[k].strong for k in intents)
        return self.refers_back or (self.short and strong)


@dataclass(frozen=True)
class RuleHit:
    rule: Rule
    clause: int
    why: str


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    where = "agent/data/policy.yaml"
    raw = read_data("policy.yaml")
    known = set(lexicon().intents)
    rules = []
    for r in raw["rules"]:
        groups = []
        for g in r.get("subjects") or []:
            unknown = set(g["intents"]) - known
            if unknown:
                raise ValueError(f"{where}: rule {r['id']} names unknown intents {sorted(unknown)}")
            groups.append(SubjectGroup(compile_all(g["terms"], f"{where} rule {r['id']} subjects"), tuple(g["intents"])))
        rules.append(Rule(
            id=r["id"], category=r["category"], kind=r.get("kind", "refusal"), subjects=tuple(groups),
            standalone=tuple(r.get("standalone") or ()), patterns=compile_all(r.get("patterns") or [], f"{where} rule {r['id']}"),
            unless=compile_all(r.get("unless") or [], f"{where} rule {r['id']} unless"),
            exempt=tuple(r["exempt"]) if r.get("exempt") else None,
        ))
    return tuple(rules)


def _only(found: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {k: v for k, v in found.items() if k in names}


def _judge(rule: Rule, clauses: list[Clause], subjects: list[list[str | None]], own: list[bool]) -> RuleHit | None:
    """``own[i]``: clause ``i`` names a subject of some rule, so it never takes another clause's."""
    lex = lexicon()
    for i, c in enumerate(clauses):
        hit = first_match(rule.patterns, c.text) or (first_match(rule.patterns, c.words) if c.words != c.text else None)
        if hit and first_match(rule.unless, c.text) is None:
            return RuleHit(rule, i, f"'{hit}'")
        if rule.standalone:
            harm = lex.harmful(_only(c.intents, rule.standalone), c.text, rule.exempt)
            if harm:
                return RuleHit(rule, i, ", ".join(f"{k} ('{v}')" for k, v in harm.items()))
        for g, group in enumerate(rule.subjects):
            wanted = _only(c.intents, group.intents)
            if not wanted:
                continue
            subject = subjects[i][g]
            if subject is None and not own[i] and c.may_inherit(wanted):
                subject = next((subjects[j][g] for j in range(len(clauses)) if j != i and subjects[j][g]), None)
            if subject is None:
                continue
            harm = lex.harmful(wanted, c.text, rule.exempt)
            if harm:
                return RuleHit(rule, i, f"'{subject}' with " + ", ".join(f"{k} ('{v}')" for k, v in harm.items()))
    return None


def check_rules(clauses: list[Clause]) -> RuleHit | None:
    """The first rule (in data order) that a clause breaks, or None."""
    rules = load_rules()
    subjects = {r.id: [[first_match(g.terms, c.text) for g in r.subjects] for c in clauses] for r in rules}
    own = [any(any(subjects[r.id][i]) for r in rules) for i in range(len(clauses))]
    for rule in rules:
        hit = _judge(rule, clauses, subjects[rule.id], own)
        if hit:
            return hit
    return None
