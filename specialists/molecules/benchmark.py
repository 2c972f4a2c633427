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
    """Problems with ``molecules`` (each with a ``smiles``) against ``expect.molecules``; [] when all hold.

    Delegates to :func:`specialists.molecules.recheck.check`, the one re-checker (strict bounds,
    alerts, substructure, chemical sense), and adds a canonical-SMILES check.
    """
    from rdkit import Chem

    from specialists.molecules.chem import quiet_rdkit
    from specialists.molecules.recheck import check

    smiles = [m["smiles"] for m in molecules]
    out = check(smiles, references, expect)
    problems = list(out["problems"])
    with quiet_rdkit():
        for s in smiles:
            mol = Chem.MolFromSmiles(s)
            if mol is not None and Chem.MolToSmiles(mol) != s:
                problems.append(f"{s}: not canonical")
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
