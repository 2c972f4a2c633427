"""Compare two runs: per-metric differences, cases that regressed, and a gate for deployments.

A metric regresses when it moves in its bad direction by more than the tolerance (absolute, on
the metric's own scale; rates are 0-1). Latencies are listed but gate only with their own
relative tolerance, since wall-clock time varies with the machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from galen.errors import InvalidInput

_HIGHER_IS_BETTER = ("accuracy", "rate", "recall", "precision", "auc", "dice", "c_index", "validity", "novelty",
                     "unique", "int_div", "r2")
_LOWER_IS_BETTER = ("latency", "error", "brier", "ece", "rmse", "false_positives", "missed", "unexpected")
_NOT_SCORES = ("n_", "seconds", "_ms")  # counts and timings describe a run; they are not quality


def load_run(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A run folder's summary and its outcomes by case id.

    Raises:
        InvalidInput: the folder has no ``summary.json``.
    """
    path = Path(path)
    summary_path = path / "summary.json" if path.is_dir() else path
    if not summary_path.is_file():
        raise InvalidInput(f"{path} is not an evaluation run.", hint="Give the --out folder of a `galen eval` run.")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    results = summary_path.parent / "results.jsonl"
    outcomes = {}
    if results.is_file():
        for line in results.read_text(encoding="utf-8").splitlines():
            if line.strip():
                o = json.loads(line)
                outcomes[str(o.get("id"))] = o
    return summary, outcomes


def flat_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """Numeric metrics of a summary, groups included as ``group/<name>/<metric>``."""
    out = {k: float(v) for k, v in (summary.get("metrics") or {}).items()
           if isinstance(v, (int, float)) and not isinstance(v, bool)}
    for g, m in (summary.get("groups") or {}).items():
        out.update({f"group/{g}/{k}": float(v) for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    return out


def lower_is_better(name: str) -> bool:
    """Direction of a metric by its name: rates and scores up, errors and latencies down."""
    leaf = name.split("/")[-1]
    if any(w in leaf for w in _HIGHER_IS_BETTER):
        return False
    return any(w in leaf for w in _LOWER_IS_BETTER)


def compare_runs(run_a: Path, run_b: Path, tolerance: float = 0.02, latency_tolerance: float | None = None) -> dict[str, Any]:
    """Differences of B against A (the baseline).

    Args:
        run_a: the baseline run folder.
        run_b: the candidate run folder.
        tolerance: largest allowed worsening of a quality metric (absolute).
        latency_tolerance: largest allowed relative latency increase (0.5 = +50%); ``None`` = not gated.

    Returns:
        ``metrics`` (name → a, b, delta, regressed), ``regressed_metrics``, ``regressed_cases``
        (passed in A, failed in B), ``fixed_cases``, ``suite_changed`` and ``regression``.
    """
    sa, oa = load_run(run_a)
    sb, ob = load_run(run_b)
    ma, mb = flat_metrics(sa), flat_metrics(sb)
    rows: dict[str, dict[str, Any]] = {}
    for name in sorted(set(ma) | set(mb)):
        a, b = ma.get(name), mb.get(name)
        row: dict[str, Any] = {"a": a, "b": b, "delta": None if a is None or b is None else b - a, "regressed": False}
        leaf = name.split("/")[-1]
        if row["delta"] is not None and a is not None:
            worse = row["delta"] if lower_is_better(name) else -row["delta"]
            if "latency" in leaf:
                row["regressed"] = latency_tolerance is not None and a > 0 and worse / a > latency_tolerance
            elif not any(leaf.startswith(p) or p in leaf for p in _NOT_SCORES):
                row["regressed"] = worse > tolerance + 1e-12
        elif a is not None and b is None and not leaf.startswith("n_"):
            row["regressed"] = True  # a metric the baseline had disappeared
        rows[name] = row
    regressed_cases = sorted(i for i in oa if oa[i].get("passed") and i in ob and not ob[i].get("passed"))
    fixed = sorted(i for i in oa if not oa[i].get("passed") and i in ob and ob[i].get("passed"))
    sha = lambda s: ((s.get("provenance") or {}).get("suite") or {}).get("sha256")  # noqa: E731
    regressed_metrics = [n for n, r in rows.items() if r["regressed"]]
    return {"metrics": rows, "regressed_metrics": regressed_metrics, "regressed_cases": regressed_cases,
            "fixed_cases": fixed, "suite_changed": sha(sa) != sha(sb), "tolerance": tolerance,
            "regression": bool(regressed_metrics)}


def format_comparison(result: dict[str, Any]) -> str:
    """A plain-text table of the comparison for the terminal."""
    lines = [f"{'metric':44} {'A':>10} {'B':>10} {'delta':>10}"]
    for name, r in result["metrics"].items():
        fmt = lambda v: "—" if v is None else f"{v:.4g}"  # noqa: E731
        mark = "  REGRESSED" if r["regressed"] else ""
        lines.append(f"{name:44} {fmt(r['a']):>10} {fmt(r['b']):>10} {fmt(r['delta']):>10}{mark}")
    if result["suite_changed"]:
        lines.append("note: the two runs used different suite files (SHA-256 differs).")
    lines.append(f"cases regressed ({len(result['regressed_cases'])}): {', '.join(result['regressed_cases']) or 'none'}")
    lines.append(f"cases fixed ({len(result['fixed_cases'])}): {', '.join(result['fixed_cases']) or 'none'}")
    lines.append("RESULT: regression beyond tolerance" if result["regression"] else "RESULT: no regression beyond tolerance")
    return "\n".join(lines)
