"""The PMO benchmark runner: every (task, method, seed) run checkpointed, resumable, summarised.

Runs are made seed by seed (seed 0 of every task and method first), so that a run stopped at
any point leaves whole seeds behind. Each finished run is written at once to
``<checkpoints>/<task>.<method>.<seed>.json`` (atomically); a run whose file exists is not run
again, so the same command resumes. After every run the summary is rewritten to
``evals/results/bench.pmo.json``: per task and method the mean top-10 AUC over the seeds done
(with n), the published figures beside it, and the sums over the tasks every method finished.

Usage::

    nice -n 15 python -m evals.pmo run [--tasks all|t1,t2] [--methods ga,reinvent] [--seeds 0,1,2]
        [--budget 10000] [--checkpoints DIR]
    python -m evals.pmo summary [--checkpoints DIR]
    python -m evals.pmo verify [--checkpoints DIR]   # re-score each run's best molecules: any that disagree?
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "evals" / "results" / "pmo"
RESULT_NAME = "bench.pmo"
_PUBLISHED_KEY = {"ga": "graph_ga", "reinvent": "reinvent"}


def checkpoint_path(folder: Path, task: str, method: str, seed: int) -> Path:
    return folder / f"{task}.{method}.{seed}.json"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def plan(tasks: list[str], methods: list[str], seeds: list[int]) -> list[tuple[str, str, int]]:
    """The runs in the order they are made: seed-major, then task, then method."""
    return [(t, m, s) for s in seeds for t in tasks for m in methods]


def load_runs(folder: Path, budget: int | None = None) -> list[dict[str, Any]]:
    """Every finished run in ``folder`` (only those made with ``budget`` calls, when given)."""
    runs = []
    for p in sorted(folder.glob("*.json")):
        rec = json.loads(p.read_text(encoding="utf-8"))
        if budget is None or rec.get("budget") == budget:
            runs.append(rec)
    return runs


def summarise(runs: list[dict[str, Any]], methods: tuple[str, ...] = ("ga", "reinvent")) -> dict[str, Any]:
    """Per-task means over seeds, published figures beside them, and sums over the tasks every
    method has at least one run of (``tasks_run``); the goal is the published REINVENT sum."""
    from specialists.molecules.pmo import LEFT_OUT, PUBLISHED, PUBLISHED_SOURCE

    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in runs:
        by.setdefault((r["task"], r["method"]), []).append(r)
    tasks = sorted({r["task"] for r in runs})
    per_task: dict[str, Any] = {}
    for t in tasks:
        row: dict[str, Any] = {"published_reinvent": PUBLISHED[t]["reinvent"], "published_graph_ga": PUBLISHED[t]["graph_ga"]}
        for m in methods:
            rs = sorted(by.get((t, m), []), key=lambda r: r["seed"])
            if rs:
                aucs = [r["auc_top10"] for r in rs]
                row[m] = {"auc_top10_mean": round(statistics.fmean(aucs), 4),
                          "auc_top10_sd": round(statistics.stdev(aucs), 4) if len(aucs) > 1 else None,
                          "n_seeds": len(aucs), "seeds": [r["seed"] for r in rs],
                          "top10_mean": round(statistics.fmean(r["top10_mean"] for r in rs), 4),
                          "seconds_mean": round(statistics.fmean(r["seconds"] for r in rs), 1),
                          "stopped": sorted({r["stopped"] for r in rs})}
        per_task[t] = row
    complete = [t for t in tasks if all(m in per_task[t] for m in methods)]
    sums: dict[str, Any] = {
        "tasks_run": complete,
        "n_tasks": len(complete),
        "published_reinvent": round(sum(PUBLISHED[t]["reinvent"] for t in complete), 3),
        "published_graph_ga": round(sum(PUBLISHED[t]["graph_ga"] for t in complete), 3),
    }
    for m in methods:
        sums[m] = round(sum(per_task[t][m]["auc_top10_mean"] for t in complete), 3)
        sums[f"{m}_ratio_to_published_reinvent"] = (round(sums[m] / sums["published_reinvent"], 3)
                                                     if sums["published_reinvent"] else None)
        sums[f"{m}_ratio_to_published_{_PUBLISHED_KEY[m]}"] = (
            round(sums[m] / sums[f"published_{_PUBLISHED_KEY[m]}"], 3) if sums[f"published_{_PUBLISHED_KEY[m]}"] else None)
    goal = sums["published_reinvent"]
    sums["goal"] = "summed top-10 AUC at or above the published REINVENT sum over the same tasks"
    sums["goal_met"] = {m: bool(complete) and sums[m] >= goal for m in methods}
    seeds_per_task = [per_task[t][m]["n_seeds"] for t in complete for m in methods]
    return {
        "per_task": per_task,
        "sums": sums,
        "runs": len(runs),
        "min_seeds_per_task_method": min(seeds_per_task) if seeds_per_task else 0,
        "left_out": LEFT_OUT,
        "published_source": PUBLISHED_SOURCE,
        "published_sums_23_tasks": {"reinvent": 14.196, "graph_ga": 13.751},
        "starting_set": "MOSES here (GA population drawn from MOSES train; prior trained on MOSES train); "
                        "ZINC 250k in the paper",
    }


def record(folder: Path, budget: int, command: str) -> Path | None:
    """Rewrite ``evals/results/bench.pmo.json`` from the finished runs (None when there are none)."""
    from evals.results import write_result
    from specialists.molecules.pmo import GA_SETTINGS, REINVENT_SETTINGS

    runs = load_runs(folder, budget)
    if not runs:
        return None
    summary = summarise(runs)
    summary["budget"] = budget
    return write_result(
        RESULT_NAME, summary, n=summary["min_seeds_per_task_method"], kind="bench",
        notes=f"{command}; n = the fewest seeds behind any task/method figure; per-run records in "
              f"{folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}",
        extra={"ga_settings": GA_SETTINGS, "reinvent_settings": REINVENT_SETTINGS, "runs": len(runs),
               "load_average_1m": round(os.getloadavg()[0], 2)},
    )


def run(tasks: list[str], methods: list[str], seeds: list[int], budget: int, folder: Path,
        command: str, log=print) -> int:
    """Make every planned run not yet checkpointed; returns how many were made."""
    from specialists.molecules.pmo import run_task

    made = 0
    for task, method, seed in plan(tasks, methods, seeds):
        path = checkpoint_path(folder, task, method, seed)
        if path.is_file() and json.loads(path.read_text(encoding="utf-8")).get("budget") == budget:
            continue
        t0 = time.time()
        result = run_task(task, method, seed, budget=budget)  # type: ignore[arg-type]
        rec = {**result.to_dict(), "budget": budget, "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "load_average_1m": round(os.getloadavg()[0], 2)}
        _write_json(path, rec)
        made += 1
        log(f"{task} {method} seed {seed}: AUC top-10 {result.auc_top10:.3f} ({result.calls} calls, "
            f"{time.time() - t0:.0f} s, {result.stopped})")
        record(folder, budget, command)
    return made


def verify(folder: Path, log=print) -> list[str]:
    """Re-score every checkpoint's ten best molecules with the task's oracle as installed now.

    The oracles are deterministic, so a recorded score that differs from today's means the run
    was made with an oracle that misbehaved (a TDC oracle that fails returns 0.0, not an error).
    Returns the names of the checkpoints that disagree; such runs should be deleted and re-run.
    """
    from specialists.molecules.pmo import load_oracle

    bad = []
    for path in sorted(folder.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        oracle = load_oracle(rec["task"])
        worst = max((abs(float(oracle(smi)) - float(score)) for smi, score in rec.get("best") or []), default=0.0)
        if worst > 1e-3:  # the best molecules' scores are stored rounded to 4 digits
            bad.append(path.name)
            log(f"{path.name}: recorded scores differ from the oracle's by up to {worst:.4f}: re-run it")
    log(f"{len(bad)} of {len(list(folder.glob('*.json')))} checkpoints disagree with the oracle")
    return bad


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    from specialists.molecules.pmo import BUDGET, TASKS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("action", choices=["run", "summary", "verify"])
    p.add_argument("--tasks", default="all")
    p.add_argument("--methods", default="ga,reinvent")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--budget", type=int, default=BUDGET)
    p.add_argument("--checkpoints", type=Path, default=CHECKPOINTS)
    args = p.parse_args(argv)
    tasks = list(TASKS) if args.tasks == "all" else _split(args.tasks)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        print(f"unknown or offline-impossible PMO task(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    command = "python -m evals.pmo run " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.action == "verify":
        return 1 if verify(args.checkpoints) else 0
    if args.action == "run":
        run(tasks, _split(args.methods), [int(s) for s in _split(args.seeds)], args.budget, args.checkpoints,
            command, log=lambda m: print(m, flush=True))
    path = record(args.checkpoints, args.budget, command)
    print(f"recorded {path}" if path else "no finished runs yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
