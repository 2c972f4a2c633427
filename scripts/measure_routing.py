"""Routing accuracy of each policy on the routing suite, on the configured backend (embedded by default).

Usage: python scripts/measure_routing.py [--policies semantic,hybrid,llm] [--limit N]
Prints one JSON object per policy: accuracy (exact tool set), per-case misses, p50 latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from agent.runner import Agent
    from galen.settings import Settings

    p = argparse.ArgumentParser()
    p.add_argument("--policies", default="semantic,hybrid,llm")
    p.add_argument("--limit", type=int, default=0)
    args = p.parse_args(argv)
    cases = [json.loads(x) for x in (ROOT / "evals/suites/routing.jsonl").read_text().splitlines() if x.strip()]
    cases = cases[: args.limit or None]
    for policy in args.policies.split(","):
        with tempfile.TemporaryDirectory() as d:
            agent = Agent(Settings(data_dir=Path(d), routing_policy=policy))
            misses, lat = [], []
            for c in cases:
                t = time.perf_counter()
                attach = [ROOT / "evals" / "suites" / a for a in c.get("attachments", [])]
                plan = agent.plan(c["question"], attach)
                lat.append(time.perf_counter() - t)
                got = sorted({tc.name for tc in plan.tool_calls})
                if got != sorted(c["expect"]["tools"]):
                    misses.append({"id": c["id"], "got": got, "want": c["expect"]["tools"]})
            out = {"policy": policy, "cases": len(cases), "accuracy": round(1 - len(misses) / len(cases), 3),
                   "p50_s": round(statistics.median(lat), 3), "misses": misses}
            print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
