"""Measure design requests fully satisfied on a design suite split, and write the result file.

Each case goes through the ``design_molecules`` tool as the agent calls it (the rule-based
parser, the search with the default budgets and settings, the answer facts), without routing or
an LLM, so the figure is the design tool's own; ``galen eval --suite design.test`` measures the
same cases through the whole agent. Every returned molecule is re-checked from its SMILES by
``evals.molecule_checks`` (RDKit, unrounded values, the request's strictness, alerts,
substructure, chemical sense). A case is *fully satisfied* when every check it names passes:
the right error for a request that cannot be met; otherwise valid molecules, the count met,
every constraint, no listed alerts, and no chemical-sense finding unless the request turned the
filter off.

    python scripts/measure_design.py --suite design.dev [--limit N] [--only ID,ID] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_case(case: dict, settings) -> dict:
    from galen.errors import GalenError
    from tools.base import ToolContext
    from tools.molecules import DesignMoleculesTool

    tool = DesignMoleculesTool()
    t0 = time.monotonic()
    call: dict = {"name": "design_molecules", "ok": False}
    with tempfile.TemporaryDirectory() as tmp:
        ctx = ToolContext(settings=settings, workdir=Path(tmp))
        try:
            args = tool.validate_arguments(tool.extract_arguments(case["question"], ctx))
            call["arguments"] = args.model_dump()
            result = tool.run(args, ctx)
            call.update(ok=True, result=result.model_dump())
        except GalenError as e:
            call["error"] = e.to_dict() | {"kind": e.kind}
    return {"tool_calls": [call], "error": None, "refusal": None, "answer": "\n".join(
        (call.get("result") or {}).get("facts") or []), "seconds": round(time.monotonic() - t0, 2)}


def main() -> int:
    from evals.checks import score_case
    from evals.results import write_result
    from evals.suite import load_suite, resolve_suite
    from galen.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", required=True, help="design.dev, design.test, design_zh.dev, ...")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--only", help="comma-separated case ids")
    ap.add_argument("--write", action="store_true", help="write evals/results/<suite>.json")
    ap.add_argument("--out", type=Path, help="also write per-case outcomes (JSONL) here")
    a = ap.parse_args()
    path = resolve_suite(a.suite)
    cases = load_suite(path, limit=a.limit)
    if a.only:
        keep = set(a.only.split(","))
        cases = [c for c in cases if c["id"] in keep]
    settings = Settings()
    rows = []
    for case in cases:
        outcome = run_case(case, settings)
        checks = score_case(outcome, case)
        checks.pop("tools", None)  # the tool is called directly here; routing is measured elsewhere
        ok = all(c.get("passed") is not False for c in checks.values())
        why = "; ".join(f"{k}: {c.get('detail')}" for k, c in checks.items() if c.get("passed") is False)
        rows.append({"id": case["id"], "passed": ok, "seconds": outcome["seconds"], "why": why,
                     "outcome": outcome if a.out else None})
        print(f"{'PASS' if ok else 'FAIL'} {case['id']} {outcome['seconds']:6.1f}s {why[:300]}", flush=True)
    n = len(rows)
    passed = sum(r["passed"] for r in rows)
    secs = sorted(r["seconds"] for r in rows)
    metrics = {"fully_satisfied": round(passed / n, 4) if n else None, "passed": passed,
               "seconds_p50": secs[n // 2] if n else None, "seconds_max": secs[-1] if n else None}
    print(json.dumps({"suite": a.suite, "n": n} | metrics))
    if a.out:
        with open(a.out, "w") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if a.write and not a.limit and not a.only:
        split = a.suite.rsplit(".", 1)[-1] if "." in a.suite else None
        write_result(a.suite, metrics, n=n, split=split, suite=path,
                     notes="python scripts/measure_design.py --suite " + a.suite + " --write: the design_molecules "
                     "tool on each case (rule parser, GA with the default budgets), every molecule re-checked by "
                     "evals.molecule_checks; failures: " + "; ".join(r["id"] for r in rows if not r["passed"]),
                     extra={"settings": {"design_method": settings.design_method,
                                         "design_time_budget_s": settings.design_time_budget_s,
                                         "design_oracle_budget": settings.design_oracle_budget,
                                         "design_chem_filter": settings.design_chem_filter}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
