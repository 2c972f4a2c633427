"""README.md's figure tables are rendered from the committed result files, and nothing else.

A stale README (a result file changed, or a rendered block was edited by hand) fails here: run
``python scripts/render_readme.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from evals.results import RESULTS_DIR, all_results, write_result

ROOT = Path(__file__).resolve().parents[1]


def _renderer():
    spec = importlib.util.spec_from_file_location("render_readme", ROOT / "scripts" / "render_readme.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


rr = _renderer()


def test_readme_tables_match_the_rendered_result_files() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rendered = rr.render(text, all_results())
    assert rendered == text, "README.md differs from its rendered results blocks: run `python scripts/render_readme.py`"


def test_every_results_block_in_the_readme_has_a_template_and_closes() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    begins = [line for line in text.splitlines() if line.startswith("<!-- results:") and line.endswith(":begin -->")]
    names = [m.group("name") for m in rr.BLOCK.finditer(text)]
    assert len(begins) == len(names), "a results block is not closed by its :end marker"
    assert set(names) <= set(rr.TEMPLATES)


def test_committed_result_files_carry_provenance_and_a_sample_count() -> None:
    for name, rec in all_results().items():
        assert rec["name"] == name and isinstance(rec["n"], int) and rec["n"] >= 0, name
        prov = rec["provenance"]
        assert prov.get("date_utc") and prov.get("machine") and prov.get("libraries"), name
        assert rec["kind"] in ("suite", "bench", "model"), name


def _readme(tmp_path: Path) -> Path:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nProse stays.\n\n<!-- results:models:begin -->\nhand-typed 0.99\n"
                      "<!-- results:models:end -->\n\nMore prose.\n", encoding="utf-8")
    return readme


def test_render_replaces_only_the_block_and_cites_the_file(tmp_path: Path) -> None:
    results = tmp_path / "results"
    write_result("model.treatment_benefit", {"hazard_ratio": 0.69, "ci95": [0.53, 0.89]}, n=686, kind="model",
                 directory=results)
    readme = _readme(tmp_path)
    assert rr.main(["--readme", str(readme), "--results", str(results), "--check"]) == 1  # hand-typed: stale
    assert rr.main(["--readme", str(readme), "--results", str(results)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nProse stays.\n\n<!-- results:models:begin -->\n")
    assert text.endswith("<!-- results:models:end -->\n\nMore prose.\n")
    assert "hand-typed" not in text and "average HR 0.690 (95 % CI 0.530–0.890, n = 686 patients" in text
    assert "`model.treatment_benefit.json` (n = 686" in text
    assert "not recorded yet (`evals/results/model.properties.logs.json`" in text  # no file, no figure
    assert rr.main(["--readme", str(readme), "--results", str(results), "--check"]) == 0


def test_a_block_without_a_template_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("<!-- results:nosuch:begin -->\nx\n<!-- results:nosuch:end -->\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no template"):
        rr.main(["--readme", str(readme), "--results", str(tmp_path)])


def test_a_p95_from_fewer_than_20_samples_renders_as_refused(tmp_path: Path) -> None:
    from galen.stats import percentiles

    results = tmp_path / "results"
    few, many = percentiles([0.1 * i for i in range(1, 6)]), percentiles([0.1 * i for i in range(1, 21)])
    assert few["p95"] is None and many["p95"] is not None
    write_result("bench.agent", {"dry_run_semantic_s": few, "dry_run_hybrid_s": many, "dry_run_llm_s": many,
                                 "property_turn_embedded_s": few, "property_turn_openai_s": few}, n=5, kind="bench",
                 directory=results)
    lines = rr.bench(rr.Results(all_results(results)))
    assert "semantic 0.30 s / n<20 (n = 5)" in lines[2]
    assert "hybrid 1.05 s / 1.91 s (n = 20)" in lines[2]  # numpy: percentile(0.1..2.0, 95) = 1.905


def test_results_dir_is_the_committed_folder() -> None:
    assert RESULTS_DIR == ROOT / "evals" / "results"
    for p in RESULTS_DIR.glob("*.json"):
        json.loads(p.read_text(encoding="utf-8"))  # every committed result file parses
