"""Score the clinical-fact suites: are every model's inputs read exactly right from the text?

For each case the expected tool's own argument reader runs on the question (after the case's
``history`` turns, run through the same tool in the same thread, as the agent would: a turn that
stopped for missing facts is prefixed to the next one). Routing is not involved: which tool the
router picks is measured by the routing suites; ``--routing`` adds the agent's dry-run choice.

A case passes when every expected argument matches (``evals.checks.values_match``: numbers to
1e-6, strings case/space/hyphen-insensitive, lists and objects as subsets) and the tool then runs
cleanly on those arguments; a case with ``expect.missing`` passes when the reader asks for those
facts (``MissingFacts``) instead of guessing.

    .venv/bin/python scripts/eval_clinical_facts.py clinical_facts.dev clinical_facts_zh.dev
    .venv/bin/python scripts/eval_clinical_facts.py clinical_facts.test --write
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_case(case: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from evals.checks import values_match
    from galen.errors import GalenError, MissingFacts
    from galen.settings import Settings
    from tools.base import ToolContext
    from tools.registry import get_tool

    exp = case["expect"]
    name = exp["tools"][0]
    tool = get_tool(name)
    ctx = ToolContext(settings=Settings(), workdir=workdir, findings=[])
    awaited = None
    for earlier in case.get("history") or []:
        q = f"{awaited} {earlier}" if awaited else earlier
        awaited = None
        try:
            res = tool.run(tool.validate_arguments(tool.extract_arguments(q, ctx)), ctx)
            ctx.findings.append({"tool": name, "data": res.data})
        except MissingFacts:
            awaited = q
        except GalenError:
            pass
    q = f"{awaited} {case['question']}" if awaited else case["question"]
    out: dict[str, Any] = {"id": case["id"], "tool": name, "group": case.get("group") or name, "question": case["question"]}
    try:
        args = tool.extract_arguments(q, ctx)
    except MissingFacts as e:
        if "missing" in exp:
            asked = " | ".join(e.missing).lower()
            lacking = [m for m in exp["missing"] if m.lower() not in asked]
            out.update(passed=not lacking, detail=f"asked for {e.missing}" + (f"; not {lacking}" if lacking else ""))
        else:
            out.update(passed=False, detail=f"asked for {e.missing} instead of reading them")
        return out
    except GalenError as e:
        out.update(passed=False, detail=f"{type(e).__name__}: {e}")
        return out
    if "missing" in exp:
        out.update(passed=False, detail=f"guessed instead of asking for {exp['missing']}: "
                                        f"{ {k: args.get(k) for k in ('age', 'sex', 'nodule_type', 'nodule_count')} }")
        return out
    want = (exp.get("arguments") or {}).get(name, {})
    wrong = [f"{k}: expected {v!r}, got {args.get(k, '<missing>')!r}" for k, v in want.items()
             if k not in args or not values_match(v, args[k])]
    try:
        tool.run(tool.validate_arguments(args), ctx)
    except GalenError as e:
        wrong.append(f"run failed: {type(e).__name__}: {e}")
    out.update(passed=not wrong, detail="; ".join(wrong), n_inputs=len(want))
    return out


def score(suite: str, verbose: bool) -> dict[str, Any]:
    from evals.suite import load_suite, resolve_suite

    path = resolve_suite(suite)
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    load_suite(path)  # validates the file
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = [run_case(c, Path(tmp)) for c in cases]
    by_group: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        by_group[o["group"]].append(o["passed"])
        if verbose or not o["passed"]:
            print(f"{'PASS' if o['passed'] else 'FAIL'} {o['id']}: {o['question'][:90]}" + (f"\n      {o['detail']}" if not o["passed"] else ""))
    brock = [o for o in outcomes if o["tool"] == "nodule_malignancy_risk" and "n_inputs" in o]
    asks = [o for o in outcomes if "n_inputs" not in o and o["passed"] is not None]
    metrics = {
        "inputs_exact": sum(o["passed"] for o in outcomes) / len(outcomes),
        "brock_inputs_exact": sum(o["passed"] for o in brock) / len(brock) if brock else None,
        "n_brock": len(brock),
        "by_group": {g: {"accuracy": sum(v) / len(v), "n": len(v)} for g, v in sorted(by_group.items())},
        "failures": [o["id"] for o in outcomes if not o["passed"]],
    }
    print(f"{suite}: {sum(o['passed'] for o in outcomes)}/{len(outcomes)} cases with every input exactly right "
          f"({metrics['inputs_exact']:.3f}); Brock {sum(o['passed'] for o in brock)}/{len(brock)}; "
          f"asks {sum(o['passed'] for o in asks)}/{len(asks)}")
    return {"suite": path, "metrics": metrics, "n": len(outcomes)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("suites", nargs="+", help="suite names, e.g. clinical_facts.dev clinical_facts_zh.test")
    p.add_argument("--write", action="store_true", help="write evals/results/<suite>.json")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    for suite in a.suites:
        r = score(suite, a.verbose)
        if a.write:
            from evals.results import write_result

            split = "test" if suite.endswith(".test") else "dev" if suite.endswith(".dev") else None
            path = write_result(suite, r["metrics"], n=r["n"], split=split, suite=r["suite"],
                                notes="scripts/eval_clinical_facts.py: the expected tool's argument reader on each "
                                      "case (history turns through the same tool); a case passes when every expected "
                                      "input matches, or when the facts the text leaves open are asked for. "
                                      "Routing not included.")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
