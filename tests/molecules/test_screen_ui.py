"""The Screening tab's pure rendering functions: a sortable table, a summary that names skipped lines,
histograms, and the upload and download paths guarded as everywhere in the UI."""

from __future__ import annotations

import pytest

from specialists.molecules.screen import screen_records
from specialists.molecules.screen_io import read_molecules
from tests.molecules.screen_data import write_screen_csv


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    path, _ = write_screen_csv(tmp_path_factory.mktemp("ui") / "lib.csv", n_valid=60)
    return screen_records(read_molecules(path), learned=False, workers=1)


def test_table_sorts_by_any_numeric_column(result) -> None:
    from ui.screen_tab import numeric_columns, table_rows

    cols = numeric_columns(result)
    assert {"mw", "logp", "qed", "tpsa"} <= set(cols) and "smiles" not in cols
    headers, rows = table_rows(result, "mw", descending=True)
    mw = [r[headers.index("mw")] for r in rows]
    assert mw == sorted(mw, reverse=True) and len(rows) == 60
    headers, rows = table_rows(result, "qed", limit=5)
    assert len(rows) == 5 and [r[headers.index("qed")] for r in rows] == sorted(r["qed"] for r in result.rows)[:5]


def test_summary_names_the_skipped_lines(result) -> None:
    from ui.screen_tab import summary_markdown

    text = summary_markdown(result)
    assert "**60** molecule(s) screened" in text and "**10** row(s) skipped" in text
    assert f"line {result.invalid[0]['line']}:" in text and "more" not in text.split("Skipped rows")[0]


def test_histogram_is_drawn_for_numbers_only(result, tmp_path) -> None:
    from ui.screen_tab import histogram_png

    png = histogram_png(result, "logp", tmp_path / "h.png")
    assert png is not None and png.read_bytes()[:4] == b"\x89PNG"
    assert histogram_png(result, "smiles", tmp_path / "none.png") is None


def test_a_file_not_uploaded_here_is_refused(tmp_path) -> None:
    from galen.settings import Settings
    from ui.screen_tab import ScreenTab

    outside = tmp_path / "lib.csv"
    outside.write_text("smiles\nCCO\n")
    out = ScreenTab(Settings(data_dir=tmp_path)).on_screen(str(outside), False, progress=lambda *a, **k: None)
    assert out[0] is None and "not uploaded here" in out[1]
