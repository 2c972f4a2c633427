"""Pure rendering for the chat UI: a turn result in, panel values out (no Gradio here).

Each function takes a ``TurnResult`` (or its ``model_dump()`` dict) and returns plain values the
Gradio wiring in ``ui/app.py`` hands to its components: Markdown strings, table rows, lists of
image paths. Keeping them pure lets them be unit-tested without a browser.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from galen.privacy import scrub_filename
from ui.i18n import t
from ui.render import render_tool_step

# Columns of the molecule table, in order: (key in data["molecules"], header).
MOLECULE_COLUMNS: list[tuple[str, str]] = [
    ("rank", "rank"), ("smiles", "SMILES"), ("score", "score"), ("mw", "MW"), ("logp", "logP"),
    ("tpsa", "TPSA"), ("hbd", "HBD"), ("hba", "HBA"), ("rotatable_bonds", "RotB"), ("qed", "QED"),
    ("sa_score", "SA"), ("similarity", "similarity"), ("logs", "logS"), ("bbb_probability", "BBB p"),
    ("alerts", "alerts"),
]
MOLECULE_TOOLS = ("predict_properties", "design_molecules")


def as_dict(result: Any) -> dict[str, Any]:
    """A ``TurnResult`` (pydantic) or an already-dumped dict, as a dict."""
    return result.model_dump() if hasattr(result, "model_dump") else dict(result or {})


def _ok_calls(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in result.get("tool_calls") or [] if c.get("ok") and c.get("result")]


_ALIASES = {"bbb_probability": "bbb"}  # design results name the BBB probability "bbb"


def _cell(mol: dict[str, Any], key: str) -> Any:
    # predict_properties puts values at the top level (learned ones under "learned"); design
    # results nest them under "properties".
    value = None
    for src in (mol, mol.get("properties") or {}, mol.get("learned") or {}):
        for k in (key, _ALIASES.get(key, key)):
            if value is None and isinstance(src, dict):
                value = src.get(k)
    if key == "alerts":
        alerts = value or []
        return ", ".join(f"{a.get('catalogue', '')}: {a.get('name', '')}" if isinstance(a, dict) else str(a) for a in alerts)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def molecule_table(result: Any) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of every molecule the turn's molecule tools returned.

    Only columns that at least one molecule has are kept, so a property lookup does not show an
    empty "score" column. Numbers stay numbers so the table sorts numerically.
    """
    mols = []
    for c in _ok_calls(as_dict(result)):
        if c["name"] in MOLECULE_TOOLS:
            found = [m for m in (c["result"].get("data") or {}).get("molecules") or [] if isinstance(m, dict)]
            if c["name"] == "design_molecules":  # ranked best first: show the rank so it survives sorting
                found = [{"rank": i, **m} for i, m in enumerate(found, start=1)]
            mols += found
    cols = [(k, h) for k, h in MOLECULE_COLUMNS if any(_cell(m, k) not in (None, "") for m in mols)]
    return [h for _, h in cols], [[_cell(m, k) for k, _ in cols] for m in mols]


def images(result: Any) -> list[tuple[str, str]]:
    """``(path, label)`` of every image artifact that exists: overlays, Grad-CAM maps, grids."""
    out = []
    for a in as_dict(result).get("artifacts") or []:
        if a.get("kind") == "image" and Path(a.get("path", "")).is_file():
            out.append((a["path"], a.get("label", "")))
    return out


def molecule_grid(result: Any) -> str | None:
    """The path of the molecule grid image a design turn produced, if any."""
    for c in _ok_calls(as_dict(result)):
        if c["name"] == "design_molecules":
            for a in c["result"].get("artifacts") or []:
                if a.get("kind") == "image" and Path(a["path"]).is_file():
                    return a["path"]
    return None


def volume_images(result: Any) -> list[tuple[str, str]]:
    """Imaging images (overlays, heat maps) shown one at a time under the slice slider."""
    grid = molecule_grid(result)
    return [(p, label) for p, label in images(result) if p != grid]


def downloads(result: Any) -> list[str]:
    """Paths of the files to offer for download (every artifact that is not just a picture)."""
    return [a["path"] for a in as_dict(result).get("artifacts") or []
            if a.get("kind") != "image" and Path(a.get("path", "")).is_file()]


def safe_link(link: Any) -> str | None:
    """``link`` if it is a plain http(s) URL, else None: a document's front matter is data, and a
    ``javascript:``, ``file:`` or ``data:`` link must never become something a person can click."""
    if not isinstance(link, str):
        return None
    from urllib.parse import urlsplit

    url = link.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(ch in url for ch in ' <>"\'\\`()[]'):
        return None
    return url


def citations_markdown(result: Any, lang: str = "en") -> str:
    """The cited passages: number, source id, title, section and the passage text."""
    cites = as_dict(result).get("citations") or []
    if not cites:
        return t(lang, "no_citations")
    blocks = []
    for c in cites:
        url = safe_link(c.get("link"))
        link = f" — [{html.escape(url)}]({url})" if url else ""
        text = (c.get("text") or "").strip().replace("\n", "\n> ")
        blocks.append(f"**[{c['n']}] `{c['source_id']}`** — {c.get('title', '')}  \n*{c.get('section', '')}*{link}\n\n> {text}")
    return "\n\n".join(blocks)


def steps_markdown(calls: list[Any], lang: str = "en") -> str:
    """Each tool call as a collapsible block (name, arguments, duration, outcome)."""
    dicts = [as_dict(c) for c in calls]
    return "\n\n".join(render_tool_step(c) for c in dicts) if dicts else t(lang, "no_steps")


def demo_badge(result: Any, lang: str = "en") -> str:
    """A badge line when any result came from a model trained on synthetic data, else ''."""
    return f"<span class='galen-demo'>⚠ {t(lang, 'demo_badge')}</span>" if as_dict(result).get("demo_model") else ""


def answer_markdown(result: Any, lang: str = "en") -> str:
    """The reply as shown in the chat: answer, refusal, warnings, demo badge."""
    r = as_dict(result)
    parts = []
    if r.get("demo_model"):
        parts.append(demo_badge(r, lang))
    if r.get("refusal"):
        ref = r["refusal"]
        parts.append(f"**{t(lang, 'refusal')}.** {ref.get('message', '')} {ref.get('alternative') or ''}".strip())
    if r.get("answer"):
        parts.append(r["answer"])
    method = (r.get("verification") or {}).get("method")
    if method == "draft-rejected":
        parts.append(f"_{t(lang, 'unverified')}_")
    elif method in ("template", "draft-verified"):
        parts.append(f"<small>{t(lang, 'method_' + method.replace('-', '_'))}</small>")
    failed = [c for c in r.get("tool_calls") or [] if c.get("ok") is False and c.get("error")]
    for c in failed:
        parts.append(f"⚠️ {c['error'].get('message', '')}")
    if r.get("warnings"):
        parts.append(f"**{t(lang, 'warnings')}:** " + "; ".join(dict.fromkeys(r["warnings"])))
    return "\n\n".join(p for p in parts if p) or "…"


def error_markdown(message: str, lang: str = "en") -> str:
    """A failed turn as one clear sentence in the chat (never a traceback)."""
    return f"⚠️ **{t(lang, 'error')}:** {message}"


def header_markdown(backend: dict[str, str], statuses: list[Any], intended_use: str, lang: str = "en",
                    username: str | None = None) -> str:
    """The header: backend and model, tools on and off (with reasons), intended use."""
    on = [s.name for s in statuses if s.available]
    off = [f"{s.name} ({s.reason})" for s in statuses if not s.available]
    lines = [f"### {t(lang, 'title')}",
             f"**{t(lang, 'backend')}:** {backend.get('backend', '?')} · **{t(lang, 'model')}:** `{backend.get('model', '?')}`",
             f"**{t(lang, 'tools_on')}:** " + (", ".join(f"`{n}`" for n in on) or "—")]
    if off:
        lines.append(f"**{t(lang, 'tools_off')}:** " + "; ".join(off))
    if username:
        lines.append(f"**{t(lang, 'signed_in')}:** {html.escape(username)}")
    shown = t(lang, "intended_use_text") or intended_use  # the project's own Chinese text; English from prompts
    lines.append(f"<small>**{t(lang, 'intended_use')}:** {shown}</small>")
    return "  \n".join(lines)


def thread_choices(threads: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(label, thread_id)`` pairs for the threads list, newest first."""
    return [(f"{(th.get('title') or th['thread_id'])[:60]}", th["thread_id"]) for th in threads]


def case_report(question: str, attachments: list[str], result: Any, lang: str = "en") -> str:
    """A self-contained Markdown case report of one turn (question, answer, steps, sources, files)."""
    r = as_dict(result)
    out = [f"# {t(lang, 'report_title')}", "",
           f"{t(lang, 'thread')}: `{r.get('thread_id', '')}` · {r.get('latency_s', 0):.1f} s · "
           f"{t(lang, 'verification')}: {(r.get('verification') or {}).get('method', '')}", ""]
    if r.get("demo_model"):
        out += [f"**{t(lang, 'demo_badge')}**", ""]
    out += [f"## {t(lang, 'question')}", "", question, ""]
    if attachments:
        out += [f"{t(lang, 'attached')}: " + ", ".join(scrub_filename(Path(a).name) for a in attachments), ""]
    out += [f"## {t(lang, 'answer')}", "", r.get("answer") or "", ""]
    if r.get("warnings"):
        out += [f"## {t(lang, 'warnings')}", ""] + [f"- {w}" for w in dict.fromkeys(r["warnings"])] + [""]
    out += [f"## {t(lang, 'tab_steps')}", ""]
    for c in r.get("tool_calls") or []:
        outcome = (c.get("result") or {}).get("summary", "") if c.get("ok") else (c.get("error") or {}).get("message", "")
        out.append(f"- `{c['name']}` {json.dumps(c.get('arguments') or {}, ensure_ascii=False)[:300]} — {outcome}")
    out += ["", f"## {t(lang, 'sources')}", ""]
    out += [f"[{c['n']}] {c['source_id']} — {c.get('title', '')}, {c.get('section', '')}" for c in r.get("citations") or []]
    files = [f"- {a.get('label', '')}: {Path(a['path']).name}" for a in r.get("artifacts") or []]
    if files:
        out += ["", f"## {t(lang, 'files')}", ""] + files
    return "\n".join(out) + "\n"


def _card_key(e: dict[str, Any]) -> str:
    return (f"nodule {e['nodule']}: " if e.get("nodule") is not None else "") + str(e.get("name", ""))


def _card_value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return "" if v is None else str(v)


def confirmation_rows(pending: dict[str, Any], lang: str = "en") -> tuple[list[str], list[list[str]]]:
    """The card's table: one editable row per fact (fact, value, source, what it was read from)."""
    headers = [t(lang, "card_fact"), t(lang, "card_value"), t(lang, "card_source"), t(lang, "card_evidence")]
    rows = [[_card_key(e), _card_value(e.get("value")), str(e.get("source", "")), str(e.get("evidence") or "")]
            for e in pending.get("inputs") or []]
    rows += [[m, "", t(lang, "card_missing"), ""] for m in pending.get("missing") or []]
    return headers, rows


def edited_values(pending: dict[str, Any], table: Any) -> dict[str, str]:
    """The values the person changed on the card, ``{fact key: new text}`` (empty: accepted as read)."""
    if table is None:
        return {}
    data = table.get("data") if isinstance(table, dict) else (table.values.tolist() if hasattr(table, "values") else table)
    shown = {_card_key(e): _card_value(e.get("value")) for e in pending.get("inputs") or []}
    out: dict[str, str] = {}
    for row in data or []:
        if not row or len(row) < 2:
            continue
        key, value = str(row[0]).strip(), str(row[1] if row[1] is not None else "").strip()
        if key in shown and value != shown[key] and value:
            out[key] = value
    return out
