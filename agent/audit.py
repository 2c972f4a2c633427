"""The audit log: one append-only JSON line per turn, hash-chained, never containing PHI.

Each line carries ``prev`` (the hash of the line before) and ``hash`` (SHA-256 of its own
canonical JSON without ``hash``), so a changed, removed or reordered line breaks the chain.
Writers take an exclusive file lock, write the whole line with one ``write`` and fsync; a
torn final line left by a crash is detected and set aside on the next write, and readers skip
it, so one crash never breaks reading the log.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from galen.privacy import scrub_value

GENESIS = "0" * 64


def _digest(record: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in record.items() if k != "hash"}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _last_complete_line(fh) -> tuple[str | None, int]:
    """The last newline-terminated line and the byte offset where any torn tail starts."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    if size == 0:
        return None, 0
    block = min(size, 1 << 16)
    while True:
        fh.seek(size - block)
        data = fh.read(block)
        end = data.rfind(b"\n")
        if end == -1 and block < size:
            block = min(size, block * 4)
            continue
        if end == -1:
            return None, 0  # no complete line at all
        tail_start = size - block + end + 1
        start = data.rfind(b"\n", 0, end)
        if start == -1 and block < size:
            block = min(size, block * 4)
            continue
        return data[start + 1 : end].decode("utf-8", "replace"), tail_start


class AuditLog:
    """Append-only, hash-chained JSON-lines file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Scrub, chain and append ``record``; returns what was written."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                last, tail_start = _last_complete_line(fh)
                fh.seek(0, os.SEEK_END)
                if fh.tell() > tail_start:
                    # A crash left a torn line: keep it out of the chain, on its own line.
                    fh.seek(tail_start)
                    torn = fh.read()
                    fh.seek(tail_start)
                    fh.truncate()
                    (self.path.with_suffix(self.path.suffix + ".torn")).open("ab").write(torn + b"\n")
                prev = GENESIS
                if last:
                    try:
                        prev = json.loads(last).get("hash", GENESIS)
                    except json.JSONDecodeError:
                        prev = hashlib.sha256(last.encode()).hexdigest()
                clean = scrub_value(record)
                assert isinstance(clean, dict)
                clean["prev"] = prev
                clean["hash"] = _digest(clean)
                line = (json.dumps(clean, ensure_ascii=False, default=str) + "\n").encode()
                fh.seek(0, os.SEEK_END)
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return clean

    def read(self) -> Iterator[dict[str, Any]]:
        """Every complete, parseable line; a torn last line is skipped."""
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break
                try:
                    yield json.loads(raw)
                except json.JSONDecodeError:
                    continue


@dataclass
class ChainReport:
    ok: bool
    lines: int
    problems: list[str]


def verify_chain(path: Path) -> ChainReport:
    """Check that every line's hash is right and links to the line before it."""
    problems: list[str] = []
    prev = GENESIS
    n = 0
    if not Path(path).exists():
        return ChainReport(True, 0, [])
    with Path(path).open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                problems.append(f"line {n}: incomplete (torn write)")
                break
            try:
                rec = json.loads(raw)
            except json.JSONDecodeError:
                problems.append(f"line {n}: not valid JSON")
                prev = hashlib.sha256(raw.rstrip(b"\n")).hexdigest()
                continue
            if rec.get("prev") != prev:
                problems.append(f"line {n}: does not follow the line before it (removed or reordered lines)")
            if rec.get("hash") != _digest(rec):
                problems.append(f"line {n}: content changed after it was written")
            prev = rec.get("hash", "")
    return ChainReport(not problems, n, problems)


def turn_record(state: dict[str, Any], thread: str, versions: dict[str, str]) -> dict[str, Any]:
    """The audit line of one turn: what ran, with which arguments and versions, what was cited,
    whether the answer passed verification, and how long it took. Scrubbed when appended."""
    import time

    calls = state.get("calls") or []
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "thread": thread,
        "turn": state.get("turn"),
        "turn_id": state.get("turn_id"),
        "question": state.get("question", ""),
        "attachments": [{"kind": a["kind"], "sha256": a["sha256"]} for a in state.get("attachments") or []],
        "refusal": (state.get("refusal") or {}).get("rule"),
        # which safety layer spoke (rules / semantic / molecules), every layer that fired, and the kind
        "refusal_layer": (state.get("refusal") or {}).get("layer"),
        "refusal_layers": (state.get("refusal") or {}).get("layers"),
        "refusal_kind": (state.get("refusal") or {}).get("kind"),
        "route": state.get("route_info") or {},
        "tools": [
            {"name": c["name"], "arguments": c.get("arguments"), "ok": c.get("ok"),
             "error": (c.get("error") or {}).get("message"), "duration_s": c.get("duration_s"),
             "versions": (c.get("result") or {}).get("versions", {})}
            for c in calls
        ],
        "citations": [{"source_id": p.get("source_id"), "section": p.get("section"), "chunk_id": p.get("chunk_id")}
                      for p in state.get("passages") or []],
        "verified": state.get("verified"),
        "verification": state.get("verification") or {},
        "versions": versions,
        "latency_s": round(time.time() - float(state.get("started_at") or time.time()), 3),
    }
