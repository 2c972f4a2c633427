"""Layer (c): molecule-level screening of every molecule a request names or gives.

A clause breaks the screen when it names a molecule of a restricted class (by SMILES, drug name,
common or systematic name), or refers back to one named in another clause while naming none of
its own, and asks for one of the intents listed for that class in ``agent/data/policy.yaml``
(``molecules``). Harm wins exactly as in the rule layer: a weak intent is cancelled by an
exemption in its own clause, a strong one never.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agent.safety.lexicon import lexicon, read_data
from agent.safety.rules import Clause


@dataclass(frozen=True)
class MoleculeHit:
    rule: str
    clause: int
    molecule: str  # the words or SMILES that named it
    how: str
    class_id: str
    label: str
    intents: dict[str, str]

    @property
    def why(self) -> str:
        asked = ", ".join(f"{k} ('{v}')" for k, v in self.intents.items())
        return f"{self.molecule} ({self.label}, by {self.how}) with {asked}"


@lru_cache(maxsize=1)
def _config() -> dict[str, Any]:
    cfg = read_data("policy.yaml")["molecules"]
    known = set(lexicon().intents)
    for cls, intents in (cfg.get("class_intents") or {}).items():
        if set(intents) - known:
            raise ValueError(f"agent/data/policy.yaml molecules: class {cls} names unknown intents {sorted(set(intents) - known)}")
    return cfg


def _intents_for(class_id: str) -> tuple[str, ...]:
    cfg = _config()
    return tuple((cfg.get("class_intents") or {}).get(class_id) or cfg["default_intents"])


def check_molecules(clauses: list[Clause]) -> MoleculeHit | None:
    """The first clause that asks for a harmful change to, or the making of, a restricted molecule."""
    from tools.molecule_screen import molecules_in

    cfg = _config()
    lex = lexicon()
    exempt = tuple(cfg.get("exempt") or ()) or None
    found = [molecules_in(c.text) for c in clauses]
    restricted = [[m for m in ms if m.restricted] for ms in found]
    if not any(restricted):
        return None
    for i, c in enumerate(clauses):
        if not c.intents:
            continue
        candidates = restricted[i]
        if not found[i] and c.may_inherit(c.intents):
            candidates = [m for j, ms in enumerate(restricted) if j != i for m in ms]
        for mention in candidates:
            for cls in mention.classes:
                wanted = {k: v for k, v in c.intents.items() if k in _intents_for(cls.id)}
                harm = lex.harmful(wanted, c.text, exempt)
                if harm:
                    return MoleculeHit(cfg["rules"][cls.category], i, mention.text, mention.how, cls.id, cls.label, harm)
    return None
