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


def test_every_bench_row_renders_from_files_shaped_like_their_producers_output(tmp_path: Path) -> None:
    """The result layouts of scripts/bench.py, evals/bench_imaging.py and scripts/loadtest.py."""
    from galen.stats import percentiles

    results = tmp_path / "results"
    p = percentiles([0.1 * i for i in range(1, 21)])
    write_result("bench.agent", {"dry_run_semantic_s": p, "dry_run_hybrid_s": {**p, "p50_ratio_to_semantic": 9.0},
                                 "dry_run_llm_s": p, "property_turn_embedded_s": p,
                                 "property_turn_openai_s": {**p, "p50_ratio_to_embedded": 2.0}}, n=20, kind="bench",
                 directory=results)
    write_result("bench.llm", {"raw_tokens_per_s": 40.0, "wrapper_tokens_per_s": 39.0, "overhead_ratio": 1.026, "n": 20},
                 n=20, kind="bench", directory=results)
    write_result("bench.kb", {"ingest_chunks": 52, "ingest_chunks_per_s": 5.0, "query_p50_ms": 50.0,
                              "query_p95_ms": 60.0, "queries": 49}, n=49, kind="bench", directory=results)
    write_result("bench.imaging", {"volume": [128, 256, 256], "gradcam_seconds": p, "variants": {
        "reference_torch_all_slices": {**p, "ratio_to_reference_p50": 1.0, "lesions": 4},
        "onnx_lung_crop": {**p, "ratio_to_reference_p50": 0.2, "lesions": 4}}}, n=20, kind="bench", directory=results)
    write_result("bench.clinical", {"brock_ms_per_patient": 0.01, "clinical_risk_with_genes_ms_per_patient": 12.0,
                                    "treatment_benefit_ms_per_patient": 26.0, "risk_cv_wall_s": 71.0,
                                    "treatment_cv_and_bootstrap_wall_s": 26.0, "n": 20}, n=20, kind="bench",
                 directory=results)
    suite = {"n_design_cases": 19, "success_rate": 1.0, "seconds_p50": 0.5, "seconds_p95": None,
             "oracle_calls_p50": 80.0, "oracle_calls_p95": None}
    write_result("bench.molecules", {"predictions_per_s": {"descriptors_per_s": 90.0, "learned_per_s": 60.0},
                                     "suite_ga": suite, "suite_reinvent": suite,
                                     "reinvent_seconds_p50_ratio_to_ga": 6.0}, n=19, kind="bench", directory=results)
    write_result("bench.ui", {"n": 20, "writer": "template", "first_token_s": p, "full_reply_s": p}, n=20, kind="bench",
                 directory=results)
    write_result("bench.load", {"users": 8, "seconds": 300, "turns": 1531, "p50_s": 1.43, "p95_s": 2.14, "errors": 0,
                                "error_samples": [], "cross_user_leaks": [], "peak_rss_mb": 1540.0}, n=1531,
                 kind="bench", directory=results)
    for name in ("bench.screen", "bench.pmo", "bench.kb_scale", "bench.imaging_consult"):  # the shapes their benchmark scripts write
        real = json.loads((RESULTS_DIR / f"{name}.json").read_text())
        write_result(name, real["metrics"], n=real["n"], kind="bench", directory=results)
    text = "\n".join(rr.bench(rr.Results(all_results(results))))
    assert "not recorded yet (`evals/results/bench." not in text
    assert "of the limit" in text and "summed top-10 AUC graph GA" in text and "among the 100,000" in text
    assert "GA: success 19/19, seconds p50 0.50 s / p95 n<20, oracle calls p50 80 / p95 n<20" in text
    assert "onnx_lung_crop 1.05 s / 1.91 s (n = 20) ×0.2" in text
    assert "1,531 turns, p50 1.43 s, p95 2.14 s, **0 errors, 0 cross-user leaks**" in text
