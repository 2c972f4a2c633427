"""Finding and reading evaluation suites (DESIGN.md's JSONL format).

A suite is one JSON object per line: ``id``, ``question`` (or ``question_repeat``), optional
``attachments`` (paths relative to the suite file), ``history`` (earlier questions asked first in
the same thread; an entry may be ``{"question", "attachments", "expect"}`` to check that turn too), ``group`` (a subgroup label for fairness reporting) and ``expect``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from galen.errors import InvalidInput

SUITES_DIR = Path(__file__).resolve().parent / "suites"
# Specialist benchmarks run the specialists' own evaluations rather than agent cases. Their names
# take precedence; the agent suites of the same name stay reachable as ``clinical.jsonl`` etc.
BENCHMARKS = ("imaging", "molecules", "clinical", "retrieval")


def available_suites() -> list[str]:
    """Names of the JSONL suites shipped in ``evals/suites`` (``NAME.jsonl`` where a benchmark has the name)."""
    return sorted(p.name if p.stem in BENCHMARKS else p.stem for p in SUITES_DIR.glob("*.jsonl"))


def resolve_suite(name_or_path: str) -> Path:
    """The JSONL file for a suite name (``routing``, ``clinical.jsonl``) or a path.

    Raises:
        InvalidInput: nothing by that name or path exists.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        return candidate.resolve()
    stem = name_or_path[:-6] if name_or_path.endswith(".jsonl") else name_or_path
    shipped = SUITES_DIR / f"{stem}.jsonl"
    if "/" not in name_or_path and shipped.is_file():
        return shipped
    raise InvalidInput(
        f"There is no evaluation suite called {name_or_path!r}.",
        hint=f"Suites: {', '.join(available_suites())}; benchmarks: {', '.join(BENCHMARKS)}; or a .jsonl path.",
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (recorded with every run so a report names the exact suite)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _question(raw: dict[str, Any], where: str) -> str:
    if "question_repeat" in raw:
        rep = raw["question_repeat"]
        if not isinstance(rep, dict) or not isinstance(rep.get("text"), str) or not isinstance(rep.get("times"), int):
            raise InvalidInput(f"{where}: question_repeat must be {{\"text\": str, \"times\": int}}.")
        # Long hostile inputs are written compactly in the suite and expanded here.
        return rep["text"] * max(0, rep["times"])
    q = raw.get("question")
    if not isinstance(q, str):
        raise InvalidInput(f"{where}: every case needs a \"question\" string (it may be empty).")
    return q


def load_suite(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The suite's cases, with questions expanded and attachment paths made absolute.

    Args:
        path: the JSONL file.
        limit: keep only the first ``limit`` cases.

    Raises:
        InvalidInput: a line is not a JSON object, a case lacks an id or question, or ids repeat.
    """
    path = Path(path)
    cases: list[dict[str, Any]] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise InvalidInput(f"{where} is not valid JSON: {e.msg}.", hint="One JSON object per line.") from e
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise InvalidInput(f"{where}: each case must be a JSON object with a string \"id\".")
        if raw["id"] in seen:
            raise InvalidInput(f"{where}: case id {raw['id']!r} appears twice.")
        seen.add(raw["id"])
        expect = raw.get("expect") or {}
        if not isinstance(expect, dict):
            raise InvalidInput(f"{where}: \"expect\" must be an object.")
        cases.append({
            "id": raw["id"],
            "question": _question(raw, where),
            "attachments": [str((path.parent / a).resolve()) for a in raw.get("attachments") or []],
            "history": [h if isinstance(h, str) else h.get("question", "") for h in raw.get("history") or []],
            # a history turn may be an object with its own attachments and checks ({"question",
            # "attachments", "expect"}): the thread is then checked turn by turn
            "history_attachments": [[] if isinstance(h, str) else [str((path.parent / a).resolve())
                                                                   for a in h.get("attachments") or []]
                                    for h in raw.get("history") or []],
            "expect_turns": [{} if isinstance(h, str) else dict(h.get("expect") or {}) for h in raw.get("history") or []],
            "group": raw.get("group"),
            "expect": expect,
        })
    return cases[:limit] if limit else cases
