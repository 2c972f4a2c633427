"""Galen's benchmarks (`make bench`). Timings are noisy on a shared box: compare ratios measured
in the same run, never absolute numbers across machines.

Usage: python scripts/bench.py [--only agent,llm,kb,imaging,clinical,molecules,ui,load,screen,kb_scale,pmo]
       [--repeats N]
       [--no-record]

Each section's figures go to the committed result file ``evals/results/bench.<section>.json``
(provenance: commit, versions, date, machine, sample counts; ``--no-record`` skips it) and to
runs/bench/<section>.json, and a Markdown summary is printed. Percentiles come from at least 20
samples (``--repeats``, default 20): a p95 from fewer is refused (``null``, "n<20"). Where a
baseline exists in the same run, the figure is also given as a ratio to it (``*_ratio``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "runs" / "bench"
PROPERTY_Q = "What is the logP of CC(=O)Oc1ccccc1C(=O)O?"
# Sections that write their own result files (their owners' figures, several files each).
WRITES_OWN_RESULTS = {"imaging", "pmo"}


def pcts(values: list[float]) -> dict[str, float | int | None]:
    """p50, p95 (only from >= 20 samples) and n: galen.stats is the one owner of percentiles."""
    from galen.stats import percentiles

    return percentiles(values)


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline`` (both measured in this run), or None when either is missing."""
    return round(value / baseline, 3) if value is not None and baseline else None


def timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_agent(repeats: int) -> dict[str, Any]:
    """Dry-run latency per routing policy, and a full property turn, on the embedded backend (warm)."""
    from agent.runner import Agent
    from galen.settings import Settings

    lines = (ROOT / "evals/suites/routing.dev.jsonl").read_text().splitlines()
    questions = [json.loads(x)["question"] for x in lines if x.strip()][: max(20, repeats)]
    res: dict[str, Any] = {"questions": f"the first {len(questions)} of evals/suites/routing.dev.jsonl"}
    with tempfile.TemporaryDirectory() as d:
        for policy in ("semantic", "hybrid", "llm"):
            agent = Agent(Settings(data_dir=Path(d) / policy, routing_policy=policy))
            agent.plan(questions[0])  # warm: embedder, router, model
            lat = [t for q in questions for t in timed(lambda q=q, a=agent: a.plan(q), 1)]
            res[f"dry_run_{policy}_s"] = pcts(lat)
        for policy in ("hybrid", "llm"):  # baseline: the semantic router, same questions, same run
            res[f"dry_run_{policy}_s"]["p50_ratio_to_semantic"] = ratio(res[f"dry_run_{policy}_s"]["p50"],
                                                                       res["dry_run_semantic_s"]["p50"])
        agent = Agent(Settings(data_dir=Path(d) / "turn"))
        agent.ask(PROPERTY_Q)
        res["property_turn_embedded_s"] = pcts(timed(lambda: agent.ask(PROPERTY_Q), repeats))
        res["property_turn_openai_s"] = _openai_turns(Path(d) / "openai", repeats)
        res["property_turn_openai_s"]["p50_ratio_to_embedded"] = ratio(res["property_turn_openai_s"]["p50"],
                                                                      res["property_turn_embedded_s"]["p50"])
    return res


def _openai_turns(data: Path, repeats: int) -> dict[str, Any]:
    import httpx

    from agent.llm.embedded import packaged_model_path
    from agent.runner import Agent
    from galen.ports import free_port
    from galen.settings import Settings

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(packaged_model_path("smollm2-135m-instruct")),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        for _ in range(180):
            try:
                if httpx.get(url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        agent = Agent(Settings(data_dir=data, llm_backend="openai", openai_base_url=url, openai_model="smollm2"))
        agent.ask(PROPERTY_Q)
        return pcts(timed(lambda: agent.ask(PROPERTY_Q), repeats))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bench_llm(repeats: int) -> dict[str, Any]:
    """Tokens/s through Galen's chat-model wrapper vs raw llama-cpp-python, same prompt, same run."""
    from langchain_core.messages import HumanMessage

    from agent.llm import build_chat_model
    from agent.llm.embedded import load_llama
    from galen.settings import Settings

    model = build_chat_model(Settings(answer_max_tokens=128, llm_temperature=0.0))
    llama, lock = load_llama(model.model_path, model.n_ctx, model.n_threads)
    prompt = "Write three sentences about the history of aspirin."
    raw_tps, wrap_tps = [], []

    def raw() -> None:
        llama.reset()
        t = time.perf_counter()
        with lock:
            r = llama.create_chat_completion(messages=[{"role": "user", "content": prompt}], max_tokens=128, temperature=0.0)
        raw_tps.append(r["usage"]["completion_tokens"] / (time.perf_counter() - t))

    def wrapped() -> None:
        llama.reset()
        t = time.perf_counter()
        m = model.invoke([HumanMessage(content=prompt)])
        wrap_tps.append(m.usage_metadata["output_tokens"] / (time.perf_counter() - t))

    raw()  # warm-up, not counted
    raw_tps.clear()
    for i in range(max(repeats, 5)):
        # alternate the order so drift in machine load hits both sides alike
        for fn in ((raw, wrapped) if i % 2 == 0 else (wrapped, raw)):
            fn()
    raw, wrap = statistics.median(raw_tps), statistics.median(wrap_tps)
    return {"raw_tokens_per_s": round(raw, 1), "wrapper_tokens_per_s": round(wrap, 1), "overhead_ratio": round(raw / wrap, 3),
            "n": len(raw_tps)}


def bench_kb(repeats: int) -> dict[str, Any]:
    from galen.settings import Settings
    from knowledge.bench_retrieval import bench_store

    with tempfile.TemporaryDirectory() as d:
        return bench_store(Settings(data_dir=Path(d)))


def bench_imaging(repeats: int) -> dict[str, Any]:
    """Segmentation per inference variant (>= 20 samples), a whole 512x512x300 DICOM consultation (5 samples,
    fresh processes, against the baseline commit), and Dice / diameter error per variant; writes
    evals/results/bench.imaging*.json."""
    from evals.bench_imaging import run_benchmarks

    return run_benchmarks(samples=max(20, repeats), consult_samples=5)


def bench_clinical(repeats: int) -> dict[str, Any]:
    from specialists.clinical.bench import run

    return {**run(repeats=max(20, repeats)), "n": max(20, repeats)}


def bench_molecules(repeats: int) -> dict[str, Any]:
    from specialists.molecules import benchmark

    out: dict[str, Any] = {"predictions_per_s": benchmark.prediction_throughput()}
    for method in ("ga", "reinvent"):
        suite = benchmark.run_suite(method=method)
        for key in [k for k in suite if k.endswith("_p95")]:
            # a p95 from fewer than 20 requests is refused (galen.stats); the suite has 19 design requests
            if (suite.get("n_design_cases") or 0) < 20:
                suite[key] = None
        out[f"suite_{method}"] = suite
    ga, rl = out["suite_ga"], out["suite_reinvent"]
    out["reinvent_seconds_p50_ratio_to_ga"] = ratio(rl.get("seconds_p50"), ga.get("seconds_p50"))
    return out


def bench_screen(repeats: int) -> dict[str, Any]:
    """`galen screen` throughput: descriptors vs the plain-RDKit limit (cores x one-process rate), with the
    learned models, each against today's one-molecule-per-call path (scripts/screen_bench.py)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import screen_bench

    return screen_bench.run(log=lambda m: print(m, file=sys.stderr, flush=True))


def bench_kb_scale(repeats: int) -> dict[str, Any]:
    """Ingest of a 300-page PDF, fused queries and recall among 100,000 chunks, local and server
    (scripts/kb_scale.py)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import kb_scale

    return kb_scale.run(log=lambda m: print(m, file=sys.stderr, flush=True))


def bench_pmo(repeats: int) -> dict[str, Any]:
    """The PMO design benchmark (20 offline tasks x GA/REINVENT x 3 seeds, 10,000 oracle calls each):
    resumes from evals/results/pmo/ and rewrites evals/results/bench.pmo.json (hours on 2 cores)."""
    from evals.pmo import main as pmo_main
    from evals.results import read_result

    pmo_main(["run", "--seeds", "0,1,2"])
    return read_result("bench.pmo")["metrics"]["sums"]


def bench_ui(repeats: int) -> dict[str, Any]:
    from ui.bench import run

    return run(n=repeats)


def bench_load(repeats: int) -> dict[str, Any]:
    """8 simulated users for 5 minutes against one app process (scripts/loadtest.py)."""
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "loadtest.py"), "--users", "8", "--seconds", "300"],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    return json.loads((ROOT / "runs" / "bench" / "load.json").read_text()) if proc.returncode in (0, 1) else {"failed": proc.stderr[-500:]}


def sample_count(result: Any) -> int | None:
    """The smallest sample count behind any figure of a section (``n`` fields, nested)."""
    found: list[int] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ("n", "n_design_cases", "queries", "turns") and isinstance(x, int) and not isinstance(x, bool):
                    found.append(x)
                else:
                    walk(x)

    walk(result)
    return min(found) if found else None


def _record(name: str, result: dict[str, Any], args: argparse.Namespace) -> None:
    from evals.results import write_result

    n = sample_count(result)
    if n is None:
        print(f"(bench.{name}: no sample count in the result; not recorded)", file=sys.stderr)
        return
    figures = json.loads(json.dumps(result, default=str))
    path = write_result(f"bench.{name}", figures, n=n, kind="bench",
                        notes=f"python scripts/bench.py --only {name} --repeats {args.repeats}; n is the smallest "
                              "sample count behind any figure of the section",
                        extra={"repeats": args.repeats, "load_average_1m": round(os.getloadavg()[0], 2)})
    print(f"(recorded {path.relative_to(ROOT)})", flush=True)


SECTIONS = {"agent": bench_agent, "llm": bench_llm, "kb": bench_kb, "imaging": bench_imaging,
            "clinical": bench_clinical, "molecules": bench_molecules, "ui": bench_ui, "load": bench_load,
            "screen": bench_screen, "kb_scale": bench_kb_scale, "pmo": bench_pmo}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", default=",".join(SECTIONS))
    p.add_argument("--repeats", type=int, default=20, help="samples per timed figure (a p95 needs >= 20)")
    p.add_argument("--no-record", action="store_true", help="do not write evals/results/bench.<section>.json")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    OUT.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name in args.only.split(","):
        started = time.time()
        try:
            result = SECTIONS[name](args.repeats)
        except ImportError as e:
            result = {"unavailable": f"{type(e).__name__}: {e}"}
        except Exception as e:  # noqa: BLE001 - one broken section must not stop the others; nothing is recorded for it
            import traceback

            traceback.print_exc()
            result = {"unavailable": f"failed: {type(e).__name__}: {e}"}
        result["_wall_s"] = round(time.time() - started, 1)
        (OUT / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
        if not args.no_record and name not in WRITES_OWN_RESULTS and "unavailable" not in result:
            _record(name, result, args)
        summary[name] = result
        print(f"## {name}\n```json\n{json.dumps(result, indent=2)}\n```", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
