"""Design-suite success rate and timings, checked independently of the search's own scorer.

Run: ``python -m specialists.molecules.benchmark [--method ga|reinvent|both] [--suite PATH]``.
A case succeeds when the requested count of molecules comes back and every molecule, recomputed
from its SMILES here, satisfies the case's ``expect.molecules`` (property windows, similarity,
substructure, alerts). Error cases succeed when the request is refused with a Galen error.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from galen.errors import GalenError

SUITE = Path(__file__).resolve().parents[2] / "evals" / "suites" / "design.jsonl"


def check_molecules(molecules: list[dict[str, Any]], expect: dict[str, Any], references: list[str]) -> list[str]:
    """Problems with ``molecules`` (each with a ``smiles``) against ``expect.molecules``; [] when all hold."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    from specialists.molecules.properties import compute_properties

    problems: list[str] = []
    want = expect.get("count", 0)
    if len(molecules) < want:
        problems.append(f"returned {len(molecules)} < {want}")
    smiles = [m["smiles"] for m in molecules]
    if len(set(smiles)) != len(smiles):
        problems.append("duplicates")
    cons = expect.get("constraints", {})
    learned = {}
    if ("logs" in cons or "bbb" in cons) and smiles:
        from specialists.molecules.learned import predict_learned

        learned = {p.smiles: p for p in predict_learned(smiles)}
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    ref_fps = [gen.GetFingerprint(Chem.MolFromSmiles(r)) for r in references]
    sub = Chem.MolFromSmiles(expect["substructure"]) if expect.get("substructure") else None
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        if mol is None or Chem.MolToSmiles(mol) != s:
            problems.append(f"{s}: not a canonical valid SMILES")
            continue
        p = compute_properties(mol)
        values = {"mw": p.mw, "logp": p.logp, "tpsa": p.tpsa, "hbd": p.hbd, "hba": p.hba,
                  "rotatable_bonds": p.rotatable_bonds, "qed": p.qed, "sa_score": p.sa_score, "heavy_atoms": p.heavy_atoms}
        if s in learned:
            values["logs"], values["bbb"] = learned[s].logs, learned[s].bbb_probability
        if ref_fps:
            values["similarity"] = max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(mol), ref_fps))
        for key, (lo, hi) in cons.items():
            v = values.get(key)
            if v is None or (lo is not None and v < lo - 1e-9) or (hi is not None and v > hi + 1e-9):
                problems.append(f"{s}: {key}={v} outside [{lo}, {hi}]")
        for cat in expect.get("no_alerts", []):
            hits = [a.name for a in p.alerts if a.catalogue == cat]
            if hits:
                problems.append(f"{s}: {cat} alert {hits[0]}")
        if sub is not None and not mol.HasSubstructMatch(sub):
            problems.append(f"{s}: lacks {expect['substructure']}")
    return problems


def run_suite(method: str = "ga", suite: Path = SUITE, time_budget_s: float = 45.0, oracle_budget: int = 4000,
              seed: int = 0, limit: int | None = None) -> dict[str, Any]:
    """Run every case of ``suite`` with ``method``; success rate, seconds and oracle calls (p50/p95)."""
    from specialists.molecules.design import design
    from specialists.molecules.parse import parse_design_request

    cases = [json.loads(line) for line in suite.read_text().splitlines() if line.strip()]
    rows = []
    for case in cases[:limit]:
        exp = case.get("expect", {})
        t0 = time.monotonic()
        row: dict[str, Any] = {"id": case["id"]}
        try:
            parsed = parse_design_request(case["question"], method=method, time_budget_s=time_budget_s,
                                          oracle_budget=oracle_budget, seed=seed)
            if parsed.unread:  # a clause only the agent's LLM reads: not a test of the search
                row.update(ok=None, skipped=f"needs the LLM to read {parsed.unread}")
                rows.append(row)
                continue
            req = parsed.request
            res = design(req)
        except GalenError as e:
            row.update(ok=bool(exp.get("error")), error=type(e).__name__, message=e.user_message())
            rows.append(row)
            continue
        if exp.get("error"):
            row.update(ok=False, problems=["expected a refusal"])
        else:
            mols = [{"smiles": m.smiles} for m in res.molecules]
            problems = check_molecules(mols, exp.get("molecules", {}), req.references)
            row.update(ok=not problems, problems=problems[:5], returned=len(mols), scored=res.scored,
                       passed=res.passed, seconds=round(time.monotonic() - t0, 2), stopped=res.stopped)
        rows.append(row)
    expected_err = {c["id"] for c in cases[:limit] if c.get("expect", {}).get("error")}
    design_rows = [r for r in rows if r["id"] not in expected_err and r["ok"] is not None]
    ran = [r for r in design_rows if "seconds" in r]
    secs = [r["seconds"] for r in ran] or [0.0]
    calls = [r["scored"] for r in ran] or [0]
    return {
        "method": method, "cases": rows, "n_design_cases": len(design_rows),
        "skipped": [r["id"] for r in rows if r["ok"] is None],
        "success_rate": float(np.mean([r["ok"] for r in design_rows])) if design_rows else 0.0,
        "error_cases_ok": f"{sum(r['ok'] for r in rows if r['id'] in expected_err)}/{len(expected_err)}",
        "seconds_p50": float(np.percentile(secs, 50)), "seconds_p95": float(np.percentile(secs, 95)),
        "oracle_calls_p50": float(np.percentile(calls, 50)), "oracle_calls_p95": float(np.percentile(calls, 95)),
    }


def prediction_throughput(n: int = 200) -> dict[str, float]:
    """Molecules per second for RDKit descriptors and for the learned logS+BBB ensembles (MOSES test set)."""
    from specialists.molecules.generation_metrics import read_moses
    from specialists.molecules.learned import predict_learned
    from specialists.molecules.properties import compute_properties

    smiles = read_moses("test.csv.gz")[:n]
    predict_learned(smiles[:2])  # load weights and training fingerprints outside the timing
    t0 = time.monotonic()
    for s in smiles:
        compute_properties(s)
    t1 = time.monotonic()
    predict_learned(smiles)
    t2 = time.monotonic()
    return {"descriptors_per_s": n / (t1 - t0), "learned_per_s": n / (t2 - t1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--method", choices=["ga", "reinvent", "both"], default="both")
    p.add_argument("--suite", type=Path, default=SUITE)
    p.add_argument("--time-budget", type=float, default=45.0)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    results = {}
    for m in ("ga", "reinvent") if a.method == "both" else (a.method,):
        results[m] = run_suite(m, a.suite, a.time_budget, limit=a.limit)
        r = results[m]
        print(f"{m}: success {r['success_rate']:.3f} over {r['n_design_cases']} design cases; "
              f"seconds p50 {r['seconds_p50']:.1f} p95 {r['seconds_p95']:.1f}; "
              f"oracle calls p50 {r['oracle_calls_p50']:.0f} p95 {r['oracle_calls_p95']:.0f}", flush=True)
    results["throughput"] = prediction_throughput()
    print(f"property predictions per second: {results['throughput']}", flush=True)
    if a.out:
        a.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
