"""Independent checks of designed molecules: every property recomputed here from the SMILES.

The design tool reports its own properties and constraint flags; the harness trusts none of
them. The SMILES each design call returned are re-checked by
:func:`specialists.molecules.recheck.check` (RDKit, unrounded values, the request's strictness,
alerts, substructure, and the chemical-sense filter unless the case says the request turned it
off) against the case's ``expect.molecules``.
"""

from __future__ import annotations

from typing import Any

from specialists.molecules.recheck import check, recompute  # noqa: F401  (recompute: public helper)


def designed_molecules(outcome: dict[str, Any]) -> tuple[list[str], list[str]]:
    """SMILES returned by the design tool(s) in this outcome, and the reference SMILES used."""
    smiles: list[str] = []
    refs: list[str] = []
    for c in outcome.get("tool_calls") or []:
        if c.get("name") != "design_molecules" or not c.get("ok"):
            continue
        data = (c.get("result") or {}).get("data") or {}
        smiles += [m["smiles"] for m in data.get("molecules") or [] if m.get("smiles")]
        request = data.get("request") or (c.get("arguments") or {}).get("request") or {}
        refs += list(request.get("references") or [])
    return smiles, refs


def check_molecules(outcome: dict[str, Any], expect: dict[str, Any]) -> dict[str, Any]:
    """Validity, count, constraint satisfaction (with strictness), alerts, substructure and chemical
    sense of the designed molecules.

    ``expect`` is a case's ``expect.molecules``: ``count``, ``constraints`` (``{"logp": [lo, hi]}``
    inclusive with ``null`` for an open side, or ``{"logp": {"lt": 3}}``), ``no_alerts``
    (catalogue names such as ``PAINS``), ``substructure`` (SMILES or SMARTS every molecule must
    contain), ``chem_sense`` (false when the request turned the filter off) and ``novel``.
    """
    smiles, refs = designed_molecules(outcome)
    out = check(smiles, refs, expect)
    out.pop("problems", None)
    return out
