"""Retrieval quality and latency on the guideline suite: recall@1/@5 for dense, lexical, fused.

A case is a hit at k when one of the first k passages comes from a source in
``expect.cited_sources`` and its section is ``expect.section`` (or a subsection of it).
``source_recall`` counts the source alone.

Run: ``python -m knowledge.bench_retrieval [--suite PATH] [--data-dir DIR] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from galen.settings import Settings
from knowledge.types import Passage

DEFAULT_SUITE = Path(__file__).resolve().parents[1] / "evals" / "suites" / "guidelines.jsonl"
MODES = ("dense", "lexical", "fused")


def load_suite(path: Path = DEFAULT_SUITE) -> list[dict[str, Any]]:
    """The suite's cases (one JSON object per line; blank lines ignored)."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def is_hit(passage: Passage, case: dict[str, Any], *, section: bool = True) -> bool:
    """Whether ``passage`` answers ``case`` (right source and, with ``section``, right section)."""
    expect = case["expect"]
    if passage.source_id not in expect["cited_sources"]:
        return False
    want = expect.get("section")
    return not section or not want or passage.section == want or passage.section.startswith(want + " > ")


def evaluate(
    cases: list[dict[str, Any]], settings: Settings, modes: tuple[str, ...] = MODES, k: int = 5
) -> dict[str, dict[str, float]]:
    """recall@1, recall@k, source-level recall@k and latency p50/p95 (ms) per mode."""
    from knowledge.retrieval import search

    search(cases[0]["question"], k=1, settings=settings)  # index the corpus and load the model first
    out: dict[str, dict[str, float]] = {}
    for mode in modes:
        at1 = atk = src = 0
        times: list[float] = []
        for case in cases:
            t0 = time.perf_counter()
            hits = search(case["question"], k=k, settings=settings, mode=mode)  # type: ignore[arg-type]
            times.append((time.perf_counter() - t0) * 1000)
            at1 += bool(hits) and is_hit(hits[0], case)
            atk += any(is_hit(p, case) for p in hits)
            src += any(is_hit(p, case, section=False) for p in hits)
        n = len(cases)
        times.sort()
        out[mode] = {
            "recall@1": at1 / n,
            f"recall@{k}": atk / n,
            f"source_recall@{k}": src / n,
            "latency_p50_ms": statistics.median(times),
            "latency_p95_ms": times[min(n - 1, int(0.95 * n))],
            "cases": n,
        }
    return out


def bench_store(settings: Settings, cases: list[dict[str, Any]] | None = None) -> dict[str, float]:
    """Ingest throughput and fused query latency for the store ``settings`` points at.

    The shipped corpus is ingested into ``settings.kb_collection`` (which should be empty; the
    embedding model is loaded first so that its start-up is not counted), then every suite
    question is searched once. Works for the local store and a Chroma server alike.

    Returns:
        ``ingest_chunks``, ``ingest_chunks_per_s``, ``query_p50_ms``, ``query_p95_ms``, ``queries``.
    """
    from knowledge.embeddings import embed
    from knowledge.ingest import corpus_files, ingest_paths
    from knowledge.retrieval import search

    cases = cases or load_suite()
    settings = settings.model_copy(update={"kb_auto_index": False})
    embed(["warm up"])
    t0 = time.perf_counter()
    reports = ingest_paths(corpus_files(), settings)
    elapsed = time.perf_counter() - t0
    chunks = sum(r.n_chunks for r in reports if r.status in ("added", "replaced"))
    times = []
    for case in cases:
        t = time.perf_counter()
        search(case["question"], k=5, settings=settings)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {
        "ingest_chunks": chunks,
        "ingest_chunks_per_s": chunks / elapsed if elapsed else 0.0,
        "query_p50_ms": statistics.median(times),
        "query_p95_ms": times[min(len(times) - 1, int(0.95 * len(times)))],
        "queries": len(times),
    }


def misses(cases: list[dict[str, Any]], settings: Settings, mode: str = "fused", k: int = 5) -> list[str]:
    """Ids of the cases whose answering section is not in the top ``k`` (for debugging)."""
    from knowledge.retrieval import search

    return [
        c["id"]
        for c in cases
        if not any(is_hit(p, c) for p in search(c["question"], k=k, settings=settings, mode=mode))  # type: ignore[arg-type]
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the recall table (or JSON) for the suite."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    parser.add_argument("--data-dir", type=Path, default=None, help="store to use (default: a fresh temp folder)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--throughput", action="store_true", help="also measure ingest chunks/s and query latency")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # one query embedding: ~15 ms on one thread, far slower when threads contend
    cases = load_suite(args.suite)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=args.data_dir or Path(tmp))
        result: dict[str, Any] = evaluate(cases, settings)
        if args.throughput:
            result["store"] = bench_store(
                Settings(data_dir=Path(tmp) / "throughput", kb_collection="bench-throughput"), cases
            )
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(f"{'mode':8} {'R@1':>6} {'R@5':>6} {'srcR@5':>7} {'p50 ms':>7} {'p95 ms':>7}  (n={len(cases)})")
            for mode in MODES:
                r = result[mode]
                print(
                    f"{mode:8} {r['recall@1']:6.3f} {r['recall@5']:6.3f} {r['source_recall@5']:7.3f} "
                    f"{r['latency_p50_ms']:7.1f} {r['latency_p95_ms']:7.1f}"
                )
            if "store" in result:
                print("store:", ", ".join(f"{k} {v:.1f}" for k, v in result["store"].items()))
            missed = misses(cases, settings)
            if missed:
                print("fused misses at 5:", ", ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
