"""Committed result files: the one place figures in the README come from.

Every measurement the README reports (a suite's score on its dev or test split, a benchmark, a
model's held-out metric) is written here as ``evals/results/<name>.json`` with its provenance:
commit, date, machine, library versions, sample counts. ``scripts/render_readme.py`` renders
the README's tables from these files; a test fails when the README and the files disagree.

File layout::

    {"name": "routing.test", "kind": "suite" | "bench" | "model",
     "suite": "evals/suites/routing.test.jsonl", "split": "test" | "dev" | null,
     "n": 75, "metrics": {"accuracy": 0.95, ...}, "notes": "...",
     "provenance": {"git_commit": ..., "date_utc": ..., "machine": ..., "python": ..., "libraries": {...},
                    "suite_sha256": ...}}
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def file_sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _dirty_files() -> int | None:
    """How many tracked files differ from the commit (0: the figure is the commit's; None: not a checkout)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        res = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return len([line for line in res.stdout.splitlines() if line.strip()])


#: vector extensions that change how fast the models run (bfloat16 matrix products need avx512_bf16 or AMX)
_CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def cpu() -> str:
    """The processor as /proc/cpuinfo names it, with its family/model and the vector extensions that
    matter here, e.g. ``"AMD EPYC (family 25 model 1): avx2 fma"``. Figures measured on CPUs with
    and without native bfloat16 differ several-fold (embedding, segmentation), so every result says
    which it ran on."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown"
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    flags = set(fields.get("flags", "").split())
    name = fields.get("model name", "unknown")
    where = f" (family {fields['cpu family']} model {fields['model']})" if "cpu family" in fields and "model" in fields else ""
    return f"{name}{where}: " + (" ".join(f for f in _CPU_FLAGS if f in flags) or "no AVX2")


def provenance(suite: Path | str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Where and with what a figure was measured."""
    from evals.provenance import git_commit, library_versions

    out: dict[str, Any] = {
        "git_commit": git_commit(),
        "dirty_files": _dirty_files(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "cpu": cpu(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libraries": library_versions(),
    }
    if suite is not None and Path(suite).is_file():
        out["suite_sha256"] = file_sha256(suite)
    return out | (extra or {})


def write_result(name: str, metrics: dict[str, Any], *, n: int, kind: str = "suite", split: str | None = None,
                 suite: Path | str | None = None, notes: str = "", extra: dict[str, Any] | None = None,
                 directory: Path | None = None) -> Path:
    """Write ``evals/results/<name>.json`` atomically and return its path.

    Args:
        name: file stem, e.g. ``"routing.test"`` or ``"bench.imaging"``.
        metrics: the figures (JSON-able); rates as 0-1 floats, counts as ints.
        n: the sample count behind the figures.
        kind: ``suite``, ``bench`` or ``model``.
        split: ``dev`` or ``test`` for suites.
        suite: the suite file measured (its SHA-256 goes into the provenance).
        notes: one line on how it was measured (command, policy, backend).
        extra: more provenance (seeds, settings).
    """
    folder = directory or RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parents[1]
    suite_rel = None
    if suite is not None:
        try:
            suite_rel = str(Path(suite).resolve().relative_to(root))
        except ValueError:
            suite_rel = str(suite)
    record = {"name": name, "kind": kind, "suite": suite_rel, "split": split, "n": int(n), "metrics": metrics,
              "notes": notes, "provenance": provenance(suite, extra)}
    path = folder / f"{name}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2, sort_keys=False, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read_result(name: str, directory: Path | None = None) -> dict[str, Any]:
    return json.loads(((directory or RESULTS_DIR) / f"{name}.json").read_text(encoding="utf-8"))


def all_results(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    folder = directory or RESULTS_DIR
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}
