"""The Chinese guideline suite through the real agent (semantic routing, template writer).

Metrics per split: ``fact_recall`` (required facts found in the answer, over all facts),
``cases_all_facts`` (share of cases with every required fact), ``citation_recall`` (expected
sources among the cited ones), ``routing`` (exact tool set), ``pass_rate`` (every check of the
case) and ``answer_in_chinese`` (answers whose first line, the template's frame, is written in Chinese;
quoted English guideline text does not count against it).

Run: ``python scripts/eval_guidelines_zh.py --split dev|test [--write] [--data-dir DIR]``; ``--write``
records ``evals/results/guidelines_zh.<split>.json``. The test split is measured, never tuned on.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(split: str, data_dir: Path) -> tuple[dict[str, float | int], list[dict]]:
    from agent.runner import Agent
    from evals.runner import run_case
    from evals.suite import load_suite
    from galen.settings import Settings
    from knowledge.embeddings import has_cjk

    path = ROOT / "evals" / "suites" / f"guidelines_zh.{split}.jsonl"
    cases = load_suite(path)
    agent = Agent(Settings(data_dir=data_dir, answer_writer="template", confirm_facts=False))
    tag = f"zh-{split}-{uuid.uuid4().hex[:6]}"  # fresh threads: a reused data folder keeps earlier turns
    outcomes = [run_case(agent, c, run_tag=tag) for c in cases]
    found = total = full = routed = cited = passed = chinese = 0
    for o in outcomes:
        checks = o.get("checks") or {}
        facts = checks.get("answer_contains") or {}
        found += int(facts.get("found") or 0)
        total += int(facts.get("total") or 0)
        full += bool(facts.get("passed"))
        routed += bool((checks.get("tools") or {}).get("passed"))
        cited += float((checks.get("citations") or {}).get("recall") or 0.0)
        passed += all(c.get("passed") is not False for c in checks.values())
        first = next((x for x in (o.get("answer") or "").splitlines() if x.strip()), "")
        chinese += has_cjk(first)
    n = len(outcomes)
    metrics = {"fact_recall": round(found / total, 3) if total else 0.0, "facts_found": found, "facts_total": total,
               "cases_all_facts": round(full / n, 3), "citation_recall": round(cited / n, 3),
               "routing": round(routed / n, 3), "pass_rate": round(passed / n, 3),
               "answer_in_chinese": round(chinese / n, 3)}
    return metrics, outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), required=True)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=None, help="store to use (default: a fresh temporary one)")
    parser.add_argument("--show", action="store_true", help="print every failing case with its answer")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        metrics, outcomes = measure(args.split, args.data_dir or Path(tmp))
    print(metrics)
    for o in outcomes:
        bad = {k: c.get("detail") for k, c in (o.get("checks") or {}).items() if c.get("passed") is False}
        if bad:
            print(f"- {o['id']}: {bad}")
            if args.show:
                print("  " + (o.get("answer") or "").replace("\n", "\n  ")[:1500])
    if args.write:
        from evals.results import write_result

        path = write_result(
            f"guidelines_zh.{args.split}", metrics, n=len(outcomes), split=args.split,
            suite=ROOT / "evals" / "suites" / f"guidelines_zh.{args.split}.jsonl",
            notes=f"python scripts/eval_guidelines_zh.py --split {args.split} --write; semantic routing, template "
                  "writer, embedded backend, fresh store of the shipped corpus; fact_recall = required facts found "
                  "(case-insensitive substrings) over all required facts")
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
