"""The Screening tab: upload a CSV/SDF of molecules, get a sortable table, histograms and downloads.

The work is :func:`specialists.molecules.screen.screen_file` (the same as ``galen screen``). The
rendering is pure functions of a :class:`~specialists.molecules.screen.ScreenResult`
(:func:`table_rows`, :func:`summary_markdown`, :func:`histogram_png`, :func:`sort_rows`), so it is
tested without a browser. The upload is accepted only through :func:`ui.uploads.accept_upload`
(this server's own upload), results are served only through :func:`ui.uploads.publish` (a fresh
unguessable folder), and the screened result lives in server-side ``gr.State``.

Wiring (in ``ui/app.py``, next to the other tabs)::

    from ui.screen_tab import ScreenTab
    screen_tab = ScreenTab(settings)
    with gr.Tab("Screening", elem_id="tab-screen"):
        screen_tab.build(app)
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from galen.errors import GalenError
from galen.settings import Settings

SHOWN_ROWS = 2_000  # rows sent to the browser; the downloads hold every row
TABLE_COLUMNS = ["line", "name", "smiles", "mw", "logp", "tpsa", "hbd", "hba", "rotatable_bonds", "qed", "sa_score",
                 "lipinski_pass", "veber_pass", "n_alerts", "pains_alerts", "brenk_alerts", "logs", "logs_std",
                 "bbb_probability", "bbb_std", "in_domain"]
HISTOGRAM_DEFAULT = "logp"


def numeric_columns(result) -> list[str]:
    """Columns holding numbers (what can be sorted numerically and drawn as a histogram)."""
    from specialists.molecules.screen import iter_columns

    return [c for c in iter_columns(result) if c != "line"]


def sort_rows(rows: list[dict[str, Any]], column: str, descending: bool = False) -> list[dict[str, Any]]:
    """Rows sorted by ``column``; rows without a value go last whatever the order."""
    have = [r for r in rows if r.get(column) is not None]
    missing = [r for r in rows if r.get(column) is None]
    return sorted(have, key=lambda r: (_key(r[column]), r["line"]), reverse=descending) + missing


def _key(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (list, tuple)):
        return len(v)
    return v


def table_rows(result, column: str | None = None, descending: bool = False, limit: int = SHOWN_ROWS
               ) -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) for the table: the main columns, sorted, at most ``limit`` rows."""
    from specialists.molecules.screen_io import cell_text

    headers = [c for c in TABLE_COLUMNS if c in result.columns]
    rows = sort_rows(result.rows, column, descending) if column else result.rows
    out = []
    for r in rows[:limit]:
        out.append([r.get(c) if isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) else cell_text(r.get(c))
                    for c in headers])
    return headers, out


def summary_markdown(result) -> str:
    """What was screened, what was skipped (by line, the first ten), and what the table shows."""
    lines = [f"**{len(result.rows):,}** molecule(s) screened from `{Path(result.path).name}`, "
             f"**{len(result.invalid):,}** row(s) skipped, {result.seconds:.1f} s."]
    if result.smiles_column:
        lines.append(f"SMILES column: `{result.smiles_column}` (found by {result.found_by}).")
    if result.invalid:
        lines.append("Skipped rows (the downloads list them all):")
        lines += [f"- line {r['line']}: {r['reason']}" for r in result.invalid[:10]]
        if len(result.invalid) > 10:
            lines.append(f"- ... and {len(result.invalid) - 10} more")
    if len(result.rows) > SHOWN_ROWS:
        lines.append(f"The table shows {SHOWN_ROWS:,} rows at a time (sorted as chosen); the CSV and SDF hold all "
                     f"{len(result.rows):,}.")
    if result.learned:
        passing = sum(1 for r in result.rows if r.get("in_domain"))
        lines.append(f"Learned logS/BBB: {passing:,} of {len(result.rows):,} inside the models' applicability domain.")
    return "\n\n".join(lines)


def histogram_png(result, column: str, path: Path, bins: int = 40) -> Path | None:
    """A histogram of one numeric column as a PNG (None when the column has no numbers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [float(r[column]) for r in result.rows
              if isinstance(r.get(column), (int, float)) and not isinstance(r.get(column), bool)
              and math.isfinite(float(r[column]))]
    if not values:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.hist(values, bins=bins, color="#3b6ea5", edgecolor="white")
    ax.set_xlabel(column)
    ax.set_ylabel("molecules")
    ax.set_title(f"{column}: n = {len(values):,}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


class ScreenTab:
    """Handlers of the Screening tab, bound to the app's settings (per-person state in gr.State)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.blocks: Any = None

    def build(self, blocks: Any) -> dict[str, Any]:
        """Create the tab's components inside the current ``gr.Tab`` and wire its events."""
        self.blocks = blocks
        state = gr.State(None)
        upload = gr.File(label="Molecule file (.csv with a SMILES column, .tsv, .smi, .sdf; up to 100,000)",
                         file_types=[".csv", ".tsv", ".smi", ".txt", ".sdf", ".sd"], elem_id="screen-upload")
        learned = gr.Checkbox(value=True, label="Learned logS and BBB (with uncertainty and applicability domain)")
        run = gr.Button("Screen", variant="primary", elem_id="screen-run")
        note = gr.Markdown("", elem_id="screen-summary")
        with gr.Row():
            sort_by = gr.Dropdown(choices=[], label="Sort by", elem_id="screen-sort")
            order = gr.Radio(["ascending", "descending"], value="ascending", label="Order")
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="screen-table")
        hist_col = gr.Dropdown(choices=[], label="Histogram of", elem_id="screen-hist-col")
        hist = gr.Image(interactive=False, elem_id="screen-hist")
        files = gr.File(label="Downloads (every row and column)", file_count="multiple", interactive=False,
                        elem_id="screen-files")
        run.click(self.on_screen, [upload, learned], [state, note, table, sort_by, hist_col, hist, files])
        for trigger in (sort_by.change, order.change):
            trigger(self.on_sort, [state, sort_by, order], [table])
        hist_col.change(self.on_histogram, [state, hist_col], [hist])
        return {"upload": upload, "table": table, "note": note, "files": files, "hist": hist, "state": state}

    def on_screen(self, raw: Any, learned: bool, progress: Any = gr.Progress()):  # noqa: B008 - Gradio's progress hook
        from specialists.molecules.screen import screen_file
        from ui import uploads

        empty = (None, "", gr.update(value=None), gr.update(choices=[]), gr.update(choices=[]), None, gr.update(value=None))
        if raw is None:
            return (None, "Choose a CSV or SDF file first.", *empty[2:])
        try:
            path = uploads.accept_upload(raw, self.blocks)
        except uploads.UploadRefused:
            return (None, "That file was not uploaded here; upload it again.", *empty[2:])
        bar = progress
        try:
            result = screen_file(path, learned=bool(learned),
                                 progress=lambda done, total: bar(done / max(total, 1), desc="screening"))
        except GalenError as e:
            return (None, e.user_message(), *empty[2:])
        stem = Path(path).name.rsplit(".", 1)[0] + ".screened"
        cols = numeric_columns(result)
        first = HISTOGRAM_DEFAULT if HISTOGRAM_DEFAULT in cols else (cols[0] if cols else None)
        with tempfile.TemporaryDirectory(prefix="galen-screen-") as d:  # published copies are what is served
            out = Path(d)
            paths = [str(result.write_csv(out / f"{stem}.csv")), str(result.write_sdf(out / f"{stem}.sdf"))]
            if result.invalid:
                paths.append(str(result.write_invalid(out / f"{stem}.invalid.csv")))
            published = uploads.publish(paths)
            image = histogram_png(result, first, out / "hist.png") if first else None
            shown = uploads.publish([str(image)])[0] if image else None
        headers, rows = table_rows(result)
        return (result, summary_markdown(result), gr.update(value={"headers": headers, "data": rows}),
                gr.update(choices=cols, value=None), gr.update(choices=cols, value=first), shown,
                gr.update(value=published))

    def on_sort(self, result: Any, column: str | None, order: str):
        if result is None or not column:
            return gr.update()
        headers, rows = table_rows(result, column, descending=order == "descending")
        return gr.update(value={"headers": headers, "data": rows})

    def on_histogram(self, result: Any, column: str | None):
        from ui import uploads

        if result is None or not column:
            return None
        with tempfile.TemporaryDirectory(prefix="galen-screen-") as d:
            image = histogram_png(result, column, Path(d) / f"{column}.png")
            return uploads.publish([str(image)])[0] if image else None
