"""The layers together: each judged on its own, combined by OR.

``assess`` runs the layers asked for on one request and keeps each layer's verdict, so each can
be measured alone (``scripts/measure_safety.py``). The decision is a refusal when **any** layer
fires (OR). Which verdict speaks for it, and so which message the person reads: the rule layer,
then the molecule screen, then the semantic classifier, because the explicit layers name the
rule more precisely than a nearest neighbour does. The rule layer tries its self-harm rule
first, so a self-harm signal it sees always gets the caring answer, even beside another harmful
request; a self-harm verdict of the semantic layer speaks only when the explicit layers are silent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from agent.safety import text as T
from agent.safety.rules import Clause, check_rules, load_rules

LAYERS = ("rules", "semantic", "molecules")
PRIORITY = ("rules", "molecules", "semantic")
MAX_CLAUSES = 400  # a pasted document is judged on its first 400 clauses (each layer is linear in them)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    layer: str
    rule: str
    kind: str  # refusal | self-harm
    why: str
    clause: int


@dataclass
class Assessment:
    question: str
    language: str
    clauses: list[str]
    framing: tuple[str, ...]
    verdicts: dict[str, Verdict | None] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # layer -> why it could not run

    def decision(self, layers: tuple[str, ...] = LAYERS) -> Verdict | None:
        fired = [self.verdicts[name] for name in PRIORITY if name in layers and self.verdicts.get(name)]
        return fired[0] if fired else None

    def fired(self, layers: tuple[str, ...] = LAYERS) -> list[str]:
        return [name for name in PRIORITY if name in layers and self.verdicts.get(name)]


def _rule_kinds() -> dict[str, str]:
    return {r.id: r.kind for r in load_rules()}


def rule_category(rule_id: str) -> str:
    return next((r.category for r in load_rules() if r.id == rule_id), rule_id)


def prepare(question: str) -> tuple[list[str], tuple[str, ...], list[Clause]]:
    """The request as every layer reads it: normalised, cut into clauses, framing set aside.

    Returns the content of each clause, the kinds of framing found and the clauses read.
    """
    parts = T.clauses(T.normalise(question))[:MAX_CLAUSES]
    framed = [T.strip_framing(c) for c in parts]
    kinds = tuple(dict.fromkeys(k for f in framed for k in f.kinds))
    # the decision is taken on the content: framing phrases are set aside
    content = [f.text if f.text else c for f, c in zip(framed, parts, strict=True)]
    return content, kinds, [Clause.read(c) for c in content]


def assess(question: str, layers: tuple[str, ...] = LAYERS) -> Assessment:
    """Every asked layer's verdict on ``question`` (already scrubbed of identifiers)."""
    content, kinds, read = prepare(question)
    out = Assessment(question, T.language(question), content, kinds)
    if "rules" in layers:
        hit = check_rules(read)
        out.verdicts["rules"] = Verdict("rules", hit.rule.id, hit.rule.kind, hit.why, hit.clause) if hit else None
    if "molecules" in layers:
        from agent.safety.molecules import check_molecules

        mhit = check_molecules(read)
        out.verdicts["molecules"] = Verdict("molecules", mhit.rule, "refusal", mhit.why, mhit.clause) if mhit else None
    if "semantic" in layers:
        from agent.safety.semantic import check_semantic
        from galen.errors import ModelUnavailable

        try:
            shit = check_semantic(content, read)
        except ModelUnavailable as e:
            log.warning("request safety: the semantic layer is off (%s); rules and molecule screening still run", e.user_message())
            out.unavailable["semantic"] = e.user_message()
            shit = None
        out.verdicts["semantic"] = (Verdict("semantic", shit.rule, _rule_kinds().get(shit.rule, "refusal"), shit.why, shit.clause)
                                    if shit else None)
    return out
