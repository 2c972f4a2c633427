"""``galen eval``: run a suite or a specialist benchmark, or compare two runs.

::

    galen eval --suite NAME|PATH [--policy llm|semantic|hybrid] [--backend embedded|openai]
               [--writer auto|llm|template] [--workers N] [--ray ADDRESS] [--out DIR] [--json] [--limit N]
               [--dry-run] [--seed N] [--data-dir DIR] [--record NAME [--results-dir DIR]]
    galen eval compare RUN_A RUN_B [--tolerance X] [--latency-tolerance R] [--json]
    galen eval list
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from galen.errors import InvalidInput


class _Parser(argparse.ArgumentParser):
    """argparse that raises InvalidInput instead of exiting, so the CLI reports it in one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InvalidInput(f"galen eval: {message}.", hint="Run `galen eval --help` for the options.")


def _run_parser() -> _Parser:
    p = _Parser(prog="galen eval", description="Run an evaluation suite and write results.jsonl, summary.json, "
                "report.html. Subcommands: `compare RUN_A RUN_B`, `list`.")
    p.add_argument("--suite", required=True, help="suite name (routing, guidelines, design, robustness, "
                   "clinical.jsonl, ...), a benchmark (imaging, molecules, clinical, retrieval) or a .jsonl path")
    p.add_argument("--policy", choices=["llm", "semantic", "hybrid"], help="routing policy")
    p.add_argument("--backend", choices=["embedded", "openai"], help="LLM backend")
    p.add_argument("--writer", choices=["auto", "llm", "template"], help="answer writer (template = no LLM phrasing)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    p.add_argument("--ray", metavar="ADDRESS", help="run the cases on a Ray cluster (HOST:6379 or ray://HOST:10001); "
                   "--workers actors")
    p.add_argument("--out", type=Path, help="output folder (default <data dir>/eval-runs/<suite>-<time>)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--limit", type=int, help="run only the first N cases")
    p.add_argument("--dry-run", action="store_true", help="plan tool calls only (routing and arguments)")
    p.add_argument("--seed", type=int, default=0, help="seed for Python, NumPy and torch (default 0)")
    p.add_argument("--data-dir", type=Path, help="Galen data folder for the run (default: the configured one)")
    p.add_argument("--record", metavar="NAME", help="also write the figures with their provenance to the committed "
                   "result file evals/results/NAME.json (a benchmark: NAME.<component>.json per component), the "
                   "files README.md's tables are rendered from (scripts/render_readme.py)")
    p.add_argument("--results-dir", type=Path, help="folder for --record (default evals/results)")
    return p


def _compare_parser() -> _Parser:
    p = _Parser(prog="galen eval compare", description="Compare run B against baseline run A.")
    p.add_argument("run_a", type=Path)
    p.add_argument("run_b", type=Path)
    p.add_argument("--tolerance", type=float, default=0.02, help="allowed worsening of any rate (absolute)")
    p.add_argument("--latency-tolerance", type=float, help="allowed relative latency increase (e.g. 0.5)")
    p.add_argument("--json", action="store_true")
    return p


def _settings(a: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from galen.errors import ConfigError
    from galen.settings import Settings

    overrides: dict[str, Any] = {}
    for key, field in (("policy", "routing_policy"), ("backend", "llm_backend"), ("writer", "answer_writer"),
                       ("data_dir", "data_dir")):
        if getattr(a, key, None) is not None:
            overrides[field] = getattr(a, key)
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise ConfigError(f"Setting {e.errors()[0]['loc']} is invalid: {e.errors()[0]['msg']}.") from e


def _print_summary(summary: dict[str, Any], paths: dict[str, Path], as_json: bool) -> None:
    if as_json:
        print(json.dumps({**summary, "files": {k: str(v) for k, v in paths.items()}}, default=str))
        return
    from galen.stats import REFUSED

    for k, v in summary["metrics"].items():
        if v is None and "p95" in k:
            print(f"  {k:34} {REFUSED} (a tail percentile needs 20 samples)")
        elif v is not None:
            print(f"  {k:34} {v:.4g}" if isinstance(v, float) else f"  {k:34} {v}")
    for name, reason in (summary.get("unavailable") or {}).items():
        print(f"  unavailable: {name}: {reason}")
    fails = summary.get("failures") or []
    if fails:
        print(f"  failures ({len(fails)}):")
        for f in fails[:25]:
            print(f"    {f['id']}: " + "; ".join(f"{k}: {str(v)[:160]}" for k, v in f["reasons"].items()))
    print(f"  report: {paths['report']}")


def run_suite_command(a: argparse.Namespace) -> int:
    """Run an agent suite or a specialist benchmark; exit 0 when it ran (pass/fail is in the report)."""
    from evals import provenance
    from evals.report import write_run
    from evals.suite import BENCHMARKS, file_sha256, load_suite, resolve_suite

    if a.workers < 1 or (a.limit is not None and a.limit < 1):
        raise InvalidInput("--workers and --limit must be at least 1.")
    if a.record is not None:
        _check_record_name(a.record)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = Path(a.suite).stem
    settings = _settings(a)
    out = a.out or settings.resolved_data_dir() / "eval-runs" / f"{label}-{stamp}"
    if a.suite in BENCHMARKS:
        from evals.benchmarks import run_benchmark

        summary, outcomes = run_benchmark(a.suite, limit=a.limit, seed=a.seed, progress=not a.json)
        summary["provenance"] = provenance.run_record(settings, a.seed, {"name": a.suite, "kind": "benchmark", "limit": a.limit},
                                                      {"model_versions": provenance.model_versions(outcomes)})
    else:
        from evals.metrics import summarise
        from evals.runner import run_cases

        path = resolve_suite(a.suite)
        cases = load_suite(path, a.limit)
        started = time.perf_counter()
        outcomes = run_cases(cases, settings, workers=a.workers, dry_run=a.dry_run, seed=a.seed,
                             progress=not a.json, desc=label, ray_address=a.ray)
        summary = summarise(outcomes)
        summary["metrics"]["wall_seconds"] = round(time.perf_counter() - started, 2)
        summary["provenance"] = provenance.run_record(
            settings, a.seed, {"name": label, "path": str(path), "sha256": file_sha256(path), "cases": len(cases),
                               "limit": a.limit},
            {"workers": a.workers, "dry_run": a.dry_run, "model_versions": provenance.model_versions(outcomes)})
    paths = write_run(out, summary, outcomes)
    if a.record:
        recorded = _record(a, summary, outcomes, settings)
        paths.update({f"recorded:{p.stem}": p for p in recorded})
    _print_summary(summary, paths, a.json)
    if a.record and not a.json:
        for p in recorded:
            print(f"  recorded: {p}")
    return 0


def _check_record_name(name: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name) or ".." in name:
        raise InvalidInput(f"--record {name!r} is not a usable result name.",
                           hint="Use letters, digits, '.', '_' and '-', e.g. --record routing.test.")


def _jsonable(value: Any) -> Any:
    """The value with NumPy scalars and other non-JSON leaves turned into plain Python."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def _split_of(suite: str) -> str | None:
    stem = Path(suite).name.removesuffix(".jsonl")
    return next((s for s in ("dev", "test") if stem.endswith(f".{s}")), None)


def _record(a: argparse.Namespace, summary: dict[str, Any], outcomes: list[dict[str, Any]], settings: Any) -> list[Path]:
    """Write the run's figures with their provenance to ``evals/results/`` (``--record``); returns the files."""
    from evals.results import write_result
    from evals.suite import BENCHMARKS, resolve_suite

    command = "galen eval " + " ".join(getattr(a, "argv", None) or [f"--suite {a.suite}", f"--record {a.record}"])
    run = {"seed": a.seed, "limit": a.limit, "routing_policy": settings.routing_policy,
           "llm_backend": settings.llm_backend, "answer_writer": settings.answer_writer}
    written = []
    if a.suite in BENCHMARKS:
        for o in outcomes:
            if not o.get("passed"):
                continue  # an unavailable component has no figures to record
            metrics = dict(o.get("metrics") or {})
            n = o.get("n", metrics.get("n"))
            if n is None:
                raise InvalidInput(f"Benchmark component {o['id']} reports no sample count; it cannot be recorded.")
            if o.get("groups"):
                metrics["groups"] = o["groups"]
            extra = {"run": run, "seconds": o.get("seconds"), "versions": o.get("versions"),
                     "data_sha256": o.get("data_sha256")}
            name = f"{a.record}.{str(o['id']).split('/', 1)[-1]}"
            written.append(write_result(name, _jsonable(metrics), n=int(n), kind="bench", split=o.get("split"),
                                        notes=f"{command}: {o.get('note') or o['id']}", extra=_jsonable(extra),
                                        directory=a.results_dir))
        return written
    metrics = {**summary["metrics"], "groups": summary.get("groups") or {},
               "failures": [f["id"] for f in summary.get("failures") or []]}
    extra = {"run": {**run, "workers": a.workers, "dry_run": a.dry_run},
             "model_versions": (summary.get("provenance") or {}).get("model_versions")}
    written.append(write_result(a.record, _jsonable(metrics), n=summary["metrics"]["n_cases"], kind="suite",
                                split=_split_of(a.suite), suite=resolve_suite(a.suite), notes=command,
                                extra=_jsonable(extra), directory=a.results_dir))
    return written


def compare_command(argv: list[str]) -> int:
    """``galen eval compare``: exit 1 when B regressed beyond the tolerance, else 0."""
    from evals.compare import compare_runs, format_comparison

    a = _compare_parser().parse_args(argv)
    result = compare_runs(a.run_a, a.run_b, tolerance=a.tolerance, latency_tolerance=a.latency_tolerance)
    print(json.dumps(result, default=str) if a.json else format_comparison(result))
    return 1 if result["regression"] else 0


def run_eval_command(args: argparse.Namespace) -> int:
    """Entry point from ``ui/cli.py``: parses ``args.eval_args`` (the words after ``galen eval``)."""
    argv = list(getattr(args, "eval_args", None) or [])
    if argv and argv[0] == "compare":
        return compare_command(argv[1:])
    if argv and argv[0] == "list":
        from evals.suite import BENCHMARKS, available_suites

        print("suites: " + ", ".join(available_suites()))
        print("benchmarks: " + ", ".join(BENCHMARKS))
        return 0
    if argv and argv[0] in ("-h", "--help"):
        _run_parser().print_help()
        return 0
    parsed = _run_parser().parse_args(argv)
    parsed.argv = argv
    return run_suite_command(parsed)


def main(argv: list[str] | None = None) -> int:
    """``python -m evals.cli ...`` (same as ``galen eval ...``)."""
    from galen.errors import GalenError

    try:
        return run_eval_command(argparse.Namespace(eval_args=sys.argv[1:] if argv is None else argv))
    except GalenError as e:
        print(f"galen: {e.user_message()}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
