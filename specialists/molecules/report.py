"""Design results in words: every molecule on one line, values against the constraints they answer.

A value is shown with enough digits that its rounding never looks inside a bound it breaks, or
on a bound it does not touch: logP 1.2041 against "< 1.2" is shown as 1.204 ✗, never "1.20".
"""

from __future__ import annotations

from specialists.molecules.lexicon import INTEGER_PROPS
from specialists.molecules.request import PROPERTIES, DesignRequest, Range

#: Digits shown by default.
DIGITS = {"mw": 2, "logp": 2, "tpsa": 1, "qed": 3, "sa_score": 2, "logs": 2, "bbb": 3, "fsp3": 2, "similarity": 3}
#: Properties always listed for a designed molecule, constrained or not.
SHOWN = ("mw", "logp", "tpsa", "hbd", "hba", "rotatable_bonds", "qed", "sa_score")
_SHORT = {"mw": "MW", "logp": "logP", "tpsa": "TPSA", "hbd": "HBD", "hba": "HBA", "rotatable_bonds": "RotB",
          "heavy_atoms": "heavy atoms", "aromatic_rings": "aromatic rings", "rings": "rings", "fsp3": "Fsp3",
          "qed": "QED", "sa_score": "SA", "logs": "logS (pred.)", "bbb": "P(BBB) (pred.)", "similarity": "similarity"}


def fmt(key: str, value: float, rng: Range | None = None) -> str:
    """``value`` with the default digits, or more where fewer would misstate it against ``rng``."""
    if key in INTEGER_PROPS:
        return str(int(round(value)))
    digits = DIGITS.get(key, 2)
    if rng is None:
        return f"{value:.{digits}f}"
    truth = rng.contains(value)
    bounds = [b for b in (rng.low, rng.high) if b is not None]
    for d in range(digits, 9):
        shown = round(value, d)
        if rng.contains(shown) == truth and (not any(shown == b for b in bounds) or any(value == b for b in bounds)):
            return f"{value:.{d}f}"
    return repr(value)


def constraint_cells(props: dict[str, float], similarity: float | None, req: DesignRequest) -> list[str]:
    """"MW 312.41 (< 400 ✓)" for every constrained property, then the other usual ones plainly."""
    cells = []
    for key, rng in req.ranges.items():
        if key in props:
            unit = PROPERTIES[key][1]
            ok = "✓" if rng.contains(props[key]) else "✗"
            cells.append(f"{_SHORT[key]} {fmt(key, props[key], rng)} ({rng.text(unit)} {ok})")
    if similarity is not None and req.min_similarity is not None:
        sim_rng = Range(low=req.min_similarity, low_strict=req.similarity_strict)
        ok = "✓" if sim_rng.contains(similarity) else "✗"
        cells.append(f"similarity {fmt('similarity', similarity, sim_rng)} ({sim_rng.text()} {ok})")
    for key in SHOWN:
        if key not in req.ranges and key in props:
            cells.append(f"{_SHORT[key]} {fmt(key, props[key])}")
    return cells


def molecule_line(rank: int, m, req: DesignRequest) -> str:
    """One designed molecule: rank, SMILES, values vs constraints, motifs, novelty, warnings."""
    parts = constraint_cells(m.properties, m.similarity, req)
    for motif in req.motifs:
        key = f"{'contains' if motif.keep else 'lacks'} {motif.name}"
        if key in m.constraints:
            parts.append(f"{key} {'✓' if m.constraints[key] else '✗'}")
    if req.avoid_alerts:
        parts.append("no " + "/".join(req.avoid_alerts) + " alerts ✓")
    if m.novel:
        parts.append("novel")
    line = f"#{rank} {m.smiles}: " + ", ".join(parts)
    if m.warnings:
        line += f"; warnings: {'; '.join(m.warnings[:4])}{' …' if len(m.warnings) > 4 else ''}"
    if m.findings:  # hard findings show only when the request turned the filter off
        line += f"; chemical-sense findings (filter off): {'; '.join(m.findings)}"
    return line + "."


def miss_text(m, req: DesignRequest) -> str:
    """The constraints a molecule fails, each with its value: "logP < 3 (3.42); chemical sense (hemiaminal)"."""
    out = []
    for key, ok in m.constraints.items():
        if ok:
            continue
        if key in req.ranges:
            rng = req.ranges[key]
            out.append(f"{PROPERTIES[key][0]} {rng.text(PROPERTIES[key][1])} ({fmt(key, m.properties[key], rng)})")
        elif key == "similarity" and m.similarity is not None:
            out.append(f"similarity ≥ {req.min_similarity:g} ({fmt('similarity', m.similarity)})")
        elif key == "chemical_sense":
            out.append(f"chemical sense ({'; '.join(m.findings) or 'unstable group'})")
        else:
            out.append(key.replace("_", " "))
    return ", ".join(out) or "a costly check not yet run"
