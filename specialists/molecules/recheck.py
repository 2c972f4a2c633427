"""Re-checking designed molecules from their SMILES alone, against a case's stated expectations.

The one checker behind the eval harness (``evals.molecule_checks``) and the design benchmark
(``specialists.molecules.benchmark``). It trusts nothing the search reported: each SMILES is
parsed with RDKit, its descriptors recomputed unrounded, and tested against

* ``constraints``: ``{"logp": [lo, hi]}`` (inclusive, ``null`` = open) or ``{"logp": {"lt": 3}}``
  (``lt``/``le``/``gt``/``ge``: the strictness the request used); ``similarity`` to the references;
* ``substructure``: SMILES or SMARTS every molecule must contain;
* ``no_alerts``: catalogues (PAINS, Brenk, NIH, Glaxo, ...) none may match;
* ``chem_sense`` (default true): no hard finding of the chemical-sense filter, with its own rule
  that a group the references carry is allowed;
* ``novel`` (optional): absent from MOSES and ChEMBL approved drugs.
"""

from __future__ import annotations

from typing import Any

_TOL = 1e-9  # float noise only; a value on a strict bound fails


def window(spec: Any) -> tuple[float | None, bool, float | None, bool]:
    """(low, low_strict, high, high_strict) of a constraint as written in a suite."""
    if isinstance(spec, dict):
        lo = spec.get("gt", spec.get("ge"))
        hi = spec.get("lt", spec.get("le"))
        return lo, "gt" in spec, hi, "lt" in spec
    lo, hi = (list(spec) + [None, None])[:2]
    return lo, False, hi, False


def within(x: float, spec: Any) -> bool:
    lo, ls, hi, hs = window(spec)
    if lo is not None and (x < lo - _TOL or (ls and x <= lo + _TOL)):
        return False
    return not (hi is not None and (x > hi + _TOL or (hs and x >= hi - _TOL)))


def spec_text(spec: Any) -> str:
    lo, ls, hi, hs = window(spec)
    parts = ([f"{'>' if ls else '≥'} {lo:g}"] if lo is not None else []) + ([f"{'<' if hs else '≤'} {hi:g}"] if hi is not None else [])
    return " and ".join(parts)


def recompute(smiles: list[str], references: list[str], need_learned: bool) -> dict[str, dict[str, Any] | None]:
    """Unrounded values per SMILES (None where RDKit cannot parse it)."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    from specialists.molecules.chem import quiet_rdkit
    from specialists.molecules.properties import raw_descriptors

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    with quiet_rdkit():
        ref_fps = [gen.GetFingerprint(m) for m in (Chem.MolFromSmiles(r) for r in references) if m is not None]
        out: dict[str, dict[str, Any] | None] = {}
        valid: list[str] = []
        for s in smiles:
            mol = Chem.MolFromSmiles(s) if s else None
            if mol is None or mol.GetNumAtoms() == 0:
                out[s] = None
                continue
            values: dict[str, Any] = dict(raw_descriptors(mol, with_scores=True))
            values["mol"] = mol
            if ref_fps:
                values["similarity"] = max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(mol), ref_fps))
            out[s] = values
            valid.append(s)
    if need_learned and valid:
        from specialists.molecules.learned import predict_learned

        for s, pred in zip(valid, predict_learned(valid), strict=True):
            out[s]["logs"], out[s]["bbb"] = pred.logs, pred.bbb_probability  # type: ignore[index]
    return out


def problems_of(values: dict[str, Any], expect: dict[str, Any], exempt: set[str], sub) -> list[str]:
    """What is wrong with one molecule against ``expect`` ([] when it satisfies everything)."""
    from specialists.molecules.chemsense import catalogue_findings, findings

    bad = []
    for key, spec in (expect.get("constraints") or {}).items():
        x = values.get(key)
        if x is None or not within(float(x), spec):
            bad.append(f"{key}={'n/a' if x is None else round(float(x), 6)} not {spec_text(spec)}")
    mol = values["mol"]
    if sub is not None and not mol.HasSubstructMatch(sub):
        bad.append(f"lacks {expect['substructure']}")
    cats = catalogue_findings(mol)
    avoid = set(expect.get("no_alerts") or [])
    hits = [f"{f.source}: {f.label}" for f in cats if f.source in avoid]
    if hits:
        bad.append(f"alert {hits[0]}")
    if expect.get("chem_sense", True):
        hard = [f for f in findings(mol, values.get("sa_score"), catalogues=False) + cats if f.hard and f.id not in exempt]
        if hard:
            bad.append(f"chemical sense: {hard[0].text()}")
    if expect.get("novel"):
        from specialists.molecules.novelty import is_known

        if is_known(mol):
            bad.append("not novel (in MOSES or ChEMBL approved drugs)")
    return bad


def check(smiles: list[str], references: list[str], expect: dict[str, Any]) -> dict[str, Any]:
    """Validity, count, constraints (with strictness), alerts, substructure, chemical sense."""
    from rdkit import Chem

    from specialists.molecules.chemsense import exempt_ids

    cons = expect.get("constraints") or {}
    values = recompute(smiles, references, need_learned=bool({"logs", "bbb"} & set(cons))) if smiles else {}
    valid = [s for s in smiles if values.get(s) is not None]
    from specialists.molecules.chem import quiet_rdkit

    sub = None
    if expect.get("substructure"):
        with quiet_rdkit():  # a SMARTS such as "c1ccc2ncnc2c1" is not a SMILES: try both, silently
            sub = Chem.MolFromSmiles(expect["substructure"]) or Chem.MolFromSmarts(expect["substructure"])
    exempt = exempt_ids(references) if expect.get("chem_sense", True) else set()
    problems: list[str] = []
    satisfied = alert_free = sensible = 0
    for s in valid:
        bad = problems_of(values[s], expect, exempt, sub)  # type: ignore[arg-type]
        satisfied += not bad
        alert_free += not any(b.startswith("alert") for b in bad)
        sensible += not any(b.startswith("chemical sense") for b in bad)
        if bad:
            problems.append(f"{s}: {', '.join(bad)}")
    want = int(expect.get("count") or 0)
    n_valid, n = len(valid), len(smiles)
    count_ok = n_valid >= want if want else n_valid > 0
    if not count_ok:
        problems.insert(0, f"{n_valid} valid of {want or 'any'} requested ({n} returned)")
    if len(set(smiles)) != n:
        problems.insert(0, "duplicate molecules")
    passed = count_ok and n_valid == n and satisfied == n_valid and len(set(smiles)) == n
    return {
        "passed": passed, "returned": n, "valid": n_valid, "validity": n_valid / n if n else None,
        "count_ok": count_ok, "satisfied": satisfied,
        "constraint_rate": satisfied / n_valid if n_valid else None,
        "alert_free_rate": alert_free / n_valid if n_valid else None,
        "chem_sense_rate": sensible / n_valid if n_valid else None,
        "problems": problems, "detail": "; ".join(problems[:5]),
    }
