"""Which rankings to fuse for English and for Chinese questions: recall of each setup on the dev suites.

English suites (tuning splits only): ``guidelines.jsonl`` (legacy dev; right source *and* section)
and ``guideline_decisions.dev.jsonl`` (right source). Chinese: ``guidelines_zh.dev.jsonl`` (right
source). Each setup is a tuple of (ranking, weight) pairs fused by reciprocal rank; the store is
built fresh from the shipped corpus in a temporary folder, so both chunk collections exist.

Run: ``python scripts/measure_multilingual_retrieval.py [--k 5] [--write] [--suite-zh PATH]``;
``--write`` records the figures in ``evals/results/retrieval_multilingual.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETUPS: dict[str, tuple[tuple[str, float], ...]] = {
    "minilm": (("minilm", 1.0),),
    "use": (("use", 1.0),),
    "bm25": (("bm25", 1.0),),
    "minilm+bm25": (("minilm", 1.0), ("bm25", 1.5)),
    "use+bm25": (("use", 1.0), ("bm25", 1.5)),
    "minilm+bm25+use": (("minilm", 1.0), ("bm25", 1.5), ("use", 1.0)),
    "minilm+bm25+use/2": (("minilm", 1.0), ("bm25", 1.5), ("use", 0.5)),
    "minilm+bm25+use-zh": (("minilm", 1.0), ("bm25", 1.5), ("use-zh", 1.0)),
    "use+bm25+minilm": (("use", 1.0), ("bm25", 1.5), ("minilm", 1.0)),
    "use+bm25/2": (("use", 1.0), ("bm25", 0.75)),
}
SUITES = {
    "guidelines (legacy dev)": (ROOT / "evals/suites/guidelines.jsonl", True),
    "guideline_decisions.dev": (ROOT / "evals/suites/guideline_decisions.dev.jsonl", False),
}


def _cases(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def recall(cases: list[dict[str, Any]], settings, setup: tuple[tuple[str, float], ...], k: int,
           section: bool) -> dict[str, float]:
    from knowledge.bench_retrieval import is_hit
    from knowledge.retrieval import search

    at1 = atk = 0
    usable = [c for c in cases if (c.get("expect") or {}).get("cited_sources")]
    t0 = time.perf_counter()
    for case in usable:
        hits = search(case["question"], k=k, settings=settings, mode="fused", rankings=setup)  # type: ignore[arg-type]
        want_section = section and bool(case["expect"].get("section"))
        at1 += bool(hits) and is_hit(hits[0], case, section=want_section)
        atk += any(is_hit(p, case, section=want_section) for p in hits)
    n = len(usable)
    return {"recall@1": round(at1 / n, 3), f"recall@{k}": round(atk / n, 3), "n": n,
            "ms_per_query": round(1000 * (time.perf_counter() - t0) / max(n, 1), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--suite-zh", type=Path, default=ROOT / "evals/suites/guidelines_zh.dev.jsonl")
    parser.add_argument("--write", action="store_true", help="write evals/results/retrieval_multilingual.json")
    parser.add_argument("--setups", default=",".join(SETUPS), help="comma-separated subset of " + ", ".join(SETUPS))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from galen.settings import Settings
    from knowledge.retrieval import RANKINGS

    setups = {s: SETUPS[s] for s in args.setups.split(",")}
    table: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        suites = {**SUITES, "guidelines_zh (" + args.suite_zh.stem.split(".")[-1] + ")": (args.suite_zh, False)}
        for label, (path, section) in suites.items():
            cases = _cases(path)
            for name, setup in setups.items():
                table.setdefault(name, {})[label] = recall(cases, settings, setup, args.k, section)
                print(f"{label:28} {name:20} {table[name][label]}", flush=True)
    chosen = {lang: "+".join(f"{r}" for r, _ in v) for lang, v in RANKINGS.items()}
    print("shipped RANKINGS:", chosen)
    if args.write:
        from evals.results import write_result

        n = sum(len(_cases(p)) for p, _ in SUITES.values()) + len(_cases(args.suite_zh))
        path = write_result(
            "retrieval_multilingual", {"setups": table, "shipped": chosen, "k": args.k}, n=n, kind="bench",
            split="dev", suite=args.suite_zh,
            notes="python scripts/measure_multilingual_retrieval.py --write; recall@1/@k per (ranking, weight) setup "
                  "on the dev suites (guidelines.jsonl: source and section; the others: source); fresh store of "
                  "the shipped corpus")
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
