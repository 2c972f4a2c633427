"""``galen audit export``: a review report of the audit log (Markdown), with the chain check."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from agent.audit import AuditLog, verify_chain
from galen.errors import InvalidInput


def export(log_path: Path, since: str | None = None, out: Path | None = None) -> Path:
    """Write a Markdown report of the turns since ``since`` (YYYY-MM-DD); returns its path.

    The log is already scrubbed of identifiers; the report adds nothing that is not in it.
    """
    start = None
    if since:
        try:
            start = dt.date.fromisoformat(since)
        except ValueError as e:
            raise InvalidInput(f"--since {since!r} is not a date in the form YYYY-MM-DD.") from e
    records = [r for r in AuditLog(log_path).read() if start is None or str(r.get("time", ""))[:10] >= start.isoformat()]
    chain = verify_chain(log_path)
    tools = Counter(t["name"] for r in records for t in r.get("tools") or [])
    failed = Counter(t["name"] for r in records for t in r.get("tools") or [] if not t.get("ok"))
    refusals = Counter(r["refusal"] for r in records if r.get("refusal"))
    unverified = [r for r in records if r.get("verified") is False]
    lines = [
        "# Galen audit report",
        "",
        f"- log: `{log_path}`",
        f"- period: {since or 'start of log'} to {dt.date.today().isoformat()}",
        f"- turns: {len(records)}",
        f"- hash chain: {'intact' if chain.ok else 'BROKEN — ' + '; '.join(chain.problems[:5])}",
        f"- answers replaced by the template after verification: {len(unverified)}",
        "",
        "## Tool use",
        "",
        "| tool | calls | failed |",
        "|---|---|---|",
        *[f"| {name} | {n} | {failed.get(name, 0)} |" for name, n in tools.most_common()],
        "",
        "## Refusals",
        "",
        *([f"- {rule}: {n}" for rule, n in refusals.most_common()] or ["- none"]),
        "",
        "## Turns",
        "",
        "| time | thread | tools | verified | reason | latency s |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        names = ", ".join(t["name"] for t in r.get("tools") or []) or "-"
        reason = (r.get("verification") or {}).get("reason", "") or ""
        lines.append(f"| {r.get('time', '')} | {r.get('thread', '')} | {names} | {r.get('verified')} | {reason[:80]} | {r.get('latency_s', '')} |")
    out = out or log_path.with_name(f"audit-report-{dt.date.today().isoformat()}.md")
    tmp = out.with_suffix(out.suffix + ".part")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(out)
    return out
