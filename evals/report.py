"""Writing a run to disk: ``results.jsonl``, ``summary.json`` and a self-contained ``report.html``.

Plots are drawn with matplotlib (Agg backend) and embedded as base64 PNG, so the HTML file is a
single document that can be filed or mailed as it is.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any


def _fig_png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(conf: dict[str, Any]) -> str | None:
    """The tool × tool confusion matrix (rows expected, columns called)."""
    if not conf.get("matrix") or len(conf["labels"]) < 2:
        return None
    plt = _plt()
    labels, m = conf["labels"], conf["matrix"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(labels), 0.8 + 0.6 * len(labels)))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("called")
    ax.set_ylabel("expected")
    top = max(max(r) for r in m) or 1
    for i, row in enumerate(m):
        for j, v in enumerate(row):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", color="white" if v > top / 2 else "black")
    ax.set_title("Routing confusion matrix")
    return _fig_png(fig)


def plot_latency(latencies: list[float]) -> str | None:
    """Histogram of per-case latency with p50 and (from 20 cases on) p95 marked."""
    if not latencies:
        return None
    from galen.stats import percentiles

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(latencies, bins=min(30, max(5, len(latencies) // 2)), color="#4c72b0")
    marks = percentiles(latencies, digits=None)
    for q, style in ((50, "--"), (95, ":")):
        v = marks[f"p{q}"]
        if v is None:
            continue  # a tail percentile from fewer than 20 cases is not drawn
        ax.axvline(v, color="k", linestyle=style, label=f"p{q} {v:.2f} s")
    ax.set_xlabel("seconds per case")
    ax.set_ylabel("cases")
    ax.legend()
    ax.set_title("Latency")
    return _fig_png(fig)


def plot_groups(groups: dict[str, dict[str, Any]], metric: str | None = None) -> str | None:
    """Bar chart of one metric per subgroup (fairness view): pass rate, else C-index, else accuracy."""
    if metric is None:
        present = {k for m in groups.values() for k, v in m.items() if v is not None}
        metric = next((k for k in ("pass_rate", "c_index", "type_accuracy") if k in present), "pass_rate")
    vals = {g: m.get(metric) for g, m in groups.items() if m.get(metric) is not None}
    if not vals:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.5 + 0.6 * len(vals), 3))
    ax.bar(list(vals), list(vals.values()), color="#55a868")
    ax.set_ylim(0, 1.05 if max(vals.values()) <= 1 else None)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by subgroup")
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    return _fig_png(fig)


def plot_roc(curves: list[dict[str, Any]]) -> str | None:
    """ROC curves: each ``{"name", "fpr", "tpr", "auc"}``."""
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 4))
    for c in curves:
        ax.plot(c["fpr"], c["tpr"], label=f"{c['name']} (AUC {c['auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=8)
    ax.set_title("ROC")
    return _fig_png(fig)


def plot_calibration(curves: list[dict[str, Any]]) -> str | None:
    """Reliability diagrams: each ``{"name", "predicted", "observed"}`` (bin means)."""
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 4))
    top = max([1e-6] + [max(c["predicted"] + c["observed"]) for c in curves])
    for c in curves:
        ax.plot(c["predicted"], c["observed"], marker="o", label=c["name"])
    ax.plot([0, top], [0, top], color="grey", linestyle=":")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    ax.legend(fontsize=8)
    ax.set_title("Calibration")
    return _fig_png(fig)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape("—" if v is None else str(v))


def _table(rows: list[tuple[str, Any]]) -> str:
    return "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in rows) + "</table>"


def render_html(summary: dict[str, Any], outcomes: list[dict[str, Any]]) -> str:
    """The report page for an agent-suite or benchmark run."""
    curves = summary.get("curves") or {}
    plots = {
        "Routing confusion matrix": plot_confusion(summary.get("confusion") or {}),
        "Latency": plot_latency([o["latency_s"] for o in outcomes if o.get("latency_s") is not None]),
        "Subgroups": plot_groups(summary.get("groups") or {}),
        "ROC": plot_roc(curves.get("roc") or []),
        "Calibration": plot_calibration(curves.get("calibration") or []),
    }
    prov = summary.get("provenance") or {}
    suite = prov.get("suite") or {}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Galen evaluation report</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:90%}th{background:#f4f4f4}"
        ".fail{color:#b00}</style></head><body>",
        f"<h1>Galen evaluation: {html.escape(str(suite.get('name', '?')))}</h1>",
        f"<p>Suite <code>{html.escape(str(suite.get('path', '')))}</code>, SHA-256 "
        f"<code>{html.escape(str(suite.get('sha256', '')))}</code>. Galen {html.escape(str(prov.get('galen')))}, "
        f"commit {html.escape(str(prov.get('git_commit')))}, started {html.escape(str(prov.get('started_utc')))}.</p>",
    ]
    if summary.get("unavailable"):
        parts.append("<h2>Unavailable</h2><ul>" + "".join(
            f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in summary["unavailable"].items()) + "</ul>")
    parts.append("<h2>Metrics</h2>" + _table(list((summary.get("metrics") or {}).items())))
    for title, png in plots.items():
        if png:
            parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{png}'>")
    if summary.get("groups"):
        keys = ["n_cases", "pass_rate", "routing_accuracy", "answer_fact_recall", "citation_recall", "c_index"]
        head = "".join(f"<th>{k}</th>" for k in keys)
        rows = "".join(f"<tr><th>{html.escape(g)}</th>" + "".join(f"<td>{_fmt(m.get(k))}</td>" for k in keys) + "</tr>"
                       for g, m in summary["groups"].items())
        parts.append(f"<h2>Subgroups</h2><table><tr><th>group</th>{head}</tr>{rows}</table>")
    fails = summary.get("failures") or []
    parts.append(f"<h2>Failures ({len(fails)})</h2>")
    if fails:
        parts.append("<table><tr><th>case</th><th>reasons</th></tr>" + "".join(
            f"<tr><td>{html.escape(f['id'])}</td><td class='fail'>"
            + "<br>".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in f["reasons"].items()) + "</td></tr>"
            for f in fails) + "</table>")
    parts.append("<h2>Provenance</h2><pre>" + html.escape(json.dumps(prov, indent=1, default=str)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_run(out_dir: Path, summary: dict[str, Any], outcomes: list[dict[str, Any]]) -> dict[str, Path]:
    """Write ``results.jsonl``, ``summary.json`` and ``report.html`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"results": out_dir / "results.jsonl", "summary": out_dir / "summary.json", "report": out_dir / "report.html"}
    with paths["results"].open("w", encoding="utf-8") as f:
        for o in outcomes:
            f.write(json.dumps(o, default=str) + "\n")
    paths["summary"].write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    paths["report"].write_text(render_html(summary, outcomes), encoding="utf-8")
    return paths
