"""Pure functions that turn a turn result into text or Markdown for people."""

from __future__ import annotations

from typing import Any


def render_text(result: Any) -> str:
    """Plain-text rendering for the terminal."""
    lines = [result.answer or ""]
    if result.citations:
        lines.append("")
        lines.append("Sources:")
        for c in result.citations:
            lines.append(f"  [{c.n}] {c.title} — {c.section} ({c.source_id})")
    if result.artifacts:
        lines.append("")
        lines.append("Files:")
        for a in result.artifacts:
            lines.append(f"  {a['label']}: {a['path']}")
    flag = VERIFICATION_LABELS.get((result.verification or {}).get("method", ""), "")
    lines.append("")
    lines.append(f"[thread {result.thread_id} · {result.latency_s:.1f} s · {flag}]")
    return "\n".join(lines)


#: How each verification outcome is named to the person (never "verified" for a template).
VERIFICATION_LABELS = {
    "draft-verified": "LLM-written, every number checked against the evidence",
    "draft-rejected": "LLM draft failed the evidence check; the templated answer is shown",
    "template": "templated answer, built from the tool results and passages",
}


def render_tool_step(call: dict[str, Any]) -> str:
    """One tool call as a collapsible Markdown block (name, arguments, duration, outcome)."""
    import json

    status = "ok" if call.get("ok") else "failed"
    args = json.dumps(call.get("arguments") or {}, ensure_ascii=False)[:500]
    body = f"arguments: `{args}`"
    if call.get("ok"):
        body += "\n\n" + (call.get("result") or {}).get("summary", "")[:800]
    else:
        body += "\n\n" + ((call.get("error") or {}).get("message") or "")
    dur = call.get("duration_s")
    return f"<details><summary>🔧 {call['name']} — {status}{f' · {dur:.2f} s' if dur else ''}</summary>\n\n{body}\n\n</details>"
