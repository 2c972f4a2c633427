"""Independent checks of designed molecules: every property recomputed here from the SMILES.

The design tool reports its own properties and constraint flags; the harness trusts none of
them. Each returned SMILES is parsed with RDKit, its descriptors recomputed with
``specialists.molecules.properties.compute_properties`` (learned logS/BBB with the shipped
ensembles), and every constraint of ``expect.molecules`` is tested on those values.
"""

from __future__ import annotations

from typing import Any

DESCRIPTORS = ("mw", "logp", "tpsa", "hbd", "hba", "rotatable_bonds", "qed", "sa_score", "heavy_atoms")
_TOL = 1e-6  # constraints are inclusive; allow float noise at the boundary


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


def recompute(smiles: list[str], references: list[str], need_learned: bool) -> dict[str, dict[str, Any] | None]:
    """Recomputed values per SMILES (None where RDKit cannot parse it)."""
    from rdkit import Chem, DataStructs, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    from specialists.molecules.properties import compute_properties

    RDLogger.DisableLog("rdApp.*")  # invalid SMILES are counted, not printed
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    ref_mols = [m for m in (Chem.MolFromSmiles(r) for r in references) if m is not None]
    ref_fps = [gen.GetFingerprint(m) for m in ref_mols]
    out: dict[str, dict[str, Any] | None] = {}
    valid: list[str] = []
    for s in smiles:
        mol = Chem.MolFromSmiles(s) if s else None
        if mol is None or mol.GetNumAtoms() == 0:
            out[s] = None
            continue
        p = compute_properties(mol)
        values: dict[str, Any] = {k: getattr(p, k) for k in DESCRIPTORS}
        values["alerts"] = [(a.catalogue, a.name) for a in p.alerts]
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


def check_molecules(outcome: dict[str, Any], expect: dict[str, Any]) -> dict[str, Any]:
    """Validity, count, constraint satisfaction, alerts and substructure of the designed molecules.

    ``expect`` is a case's ``expect.molecules``: ``count``, ``constraints`` (``{"logp": [lo, hi]}``
    with ``null`` for an open side), ``no_alerts`` (catalogue names such as ``PAINS``) and
    ``substructure`` (SMILES or SMARTS every molecule must contain).
    """
    from rdkit import Chem

    smiles, refs = designed_molecules(outcome)
    cons: dict[str, list[float | None]] = expect.get("constraints") or {}
    values = recompute(smiles, refs, need_learned=bool({"logs", "bbb"} & set(cons))) if smiles else {}
    valid = [s for s in smiles if values.get(s) is not None]
    sub = None
    if expect.get("substructure"):
        sub = Chem.MolFromSmiles(expect["substructure"]) or Chem.MolFromSmarts(expect["substructure"])
    problems: list[str] = []
    satisfied = alert_free = 0
    for s in valid:
        v = values[s]
        assert v is not None
        bad = []
        for key, window in cons.items():
            lo, hi = (list(window) + [None, None])[:2]
            x = v.get(key)
            if x is None or (lo is not None and x < lo - _TOL) or (hi is not None and x > hi + _TOL):
                bad.append(f"{key}={'n/a' if x is None else round(float(x), 3)} outside [{lo}, {hi}]")
        if sub is not None and not v["mol"].HasSubstructMatch(sub):
            bad.append(f"lacks {expect['substructure']}")
        hits = [name for cat, name in v["alerts"] if cat in set(expect.get("no_alerts") or [])]
        alert_free += not hits
        if hits:
            bad.append(f"alert {hits[0]}")
        satisfied += not bad
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
        "detail": "; ".join(problems[:5]),
    }
