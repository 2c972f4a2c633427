"""The pure rendering functions behind the UI panels, on hand-made turn results."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.runner import Citation, ToolCallRecord, TurnResult
from ui import panels


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name in ("overlay_axial_1.png", "overlay_coronal_1.png", "grid.png", "designed.sdf", "ranked.csv", "mask.nii.gz"):
        (tmp_path / name).write_bytes(b"x")
        out[name] = tmp_path / name
    return out


def _props_call() -> ToolCallRecord:
    mol = {"smiles": "CC(=O)Oc1ccccc1C(=O)O", "mw": 180.16, "logp": 1.31, "tpsa": 63.6, "hbd": 1, "hba": 3,
           "alerts": [{"catalogue": "Brenk", "name": "phenol_ester"}],
           "learned": {"logs": -1.85, "bbb_probability": 0.466}}
    return ToolCallRecord(name="predict_properties", arguments={"smiles": [mol["smiles"]]}, ok=True, duration_s=0.5,
                          result={"summary": "logP 1.31", "data": {"molecules": [mol]}, "artifacts": []})


def _result(**kw) -> TurnResult:
    base = {"answer": "The logP is 1.31.", "tool_calls": [_props_call()], "thread_id": "t1", "latency_s": 1.2,
            "verified": True}
    return TurnResult(**{**base, **kw})


def test_molecule_table_keeps_numbers_and_only_present_columns():
    headers, rows = panels.molecule_table(_result())
    assert headers[:3] == ["SMILES", "MW", "logP"]
    assert "score" not in headers and "rank" not in headers
    row = dict(zip(headers, rows[0], strict=True))
    assert row["logP"] == 1.31 and isinstance(row["logP"], float)
    assert row["logS"] == -1.85 and row["alerts"] == "Brenk: phenol_ester"


def test_molecule_table_ignores_failed_and_other_tools():
    failed = ToolCallRecord(name="predict_properties", ok=False, error={"message": "bad SMILES"})
    other = ToolCallRecord(name="search_guidelines", ok=True, result={"data": {"molecules": [{"smiles": "X"}]}})
    assert panels.molecule_table(_result(tool_calls=[failed, other])) == ([], [])


def test_images_grid_downloads_split_by_kind(files):
    arts = [{"path": str(files["overlay_axial_1.png"]), "kind": "image", "label": "Segmentation overlay (axial)"},
            {"path": str(files["overlay_coronal_1.png"]), "kind": "image", "label": "Segmentation overlay (coronal)"},
            {"path": str(files["mask.nii.gz"]), "kind": "nifti", "label": "mask"},
            {"path": "/nonexistent/gone.png", "kind": "image", "label": "missing"}]
    design = ToolCallRecord(name="design_molecules", ok=True, result={"data": {"molecules": [
        {"smiles": "CCO", "score": 0.9, "properties": {"logp": -0.0, "bbb": 0.97}, "alerts": []}]},
                            "artifacts": [{"path": str(files["grid.png"]), "kind": "image", "label": "grid"},
                                          {"path": str(files["designed.sdf"]), "kind": "sdf", "label": "SDF"}]})
    r = _result(tool_calls=[design], artifacts=arts + design.result["artifacts"])
    assert panels.molecule_grid(r) == str(files["grid.png"])
    vol = panels.volume_images(r)
    assert [Path(p).name for p, _ in vol] == ["overlay_axial_1.png", "overlay_coronal_1.png"]
    assert {Path(p).name for p in panels.downloads(r)} == {"mask.nii.gz", "designed.sdf"}
    headers, rows = panels.molecule_table(r)
    assert headers == ["rank", "SMILES", "score", "logP", "BBB p"] and rows == [[1, "CCO", 0.9, -0.0, 0.97]]


def test_citations_show_source_section_and_passage():
    c = Citation(n=1, source_id="fleischner-2017", title="Fleischner Society 2017", section="Solid nodules",
                 text="CT at 6-12 months.", link=None)
    md = panels.citations_markdown(_result(citations=[c]))
    assert "[1]" in md and "`fleischner-2017`" in md and "Solid nodules" in md and "> CT at 6-12 months." in md
    assert panels.citations_markdown(_result(), "zh") == "本轮没有引用的段落。"


def test_answer_shows_badge_refusal_unverified_and_tool_errors():
    failed = ToolCallRecord(name="segment_image", ok=False, error={"message": "Attach a CT series.", "missing": ["image"]})
    r = _result(demo_model=True, verified=False, verification={"method": "draft-rejected"}, tool_calls=[failed],
                warnings=["w1", "w1"])
    md = panels.answer_markdown(r)
    assert "DEMO MODEL" in md and "could not be checked" in md and "Attach a CT series." in md
    assert md.count("w1") == 1
    # A templated answer is never called verified; a checked draft says what was checked.
    templ = panels.answer_markdown(_result(verified=None, verification={"method": "template"}))
    assert "Templated answer" in templ and "could not be checked" not in templ and "checked against" not in templ
    assert "checked against the evidence" in panels.answer_markdown(_result(verification={"method": "draft-verified"}))
    refused = panels.answer_markdown(_result(answer="", refusal={"message": "Galen does not prescribe.", "alternative": "Ask X."}))
    assert "Galen does not prescribe." in refused and "Ask X." in refused
    assert panels.demo_badge(_result()) == ""


def test_steps_markdown_is_collapsible_per_call():
    md = panels.steps_markdown([_props_call(), ToolCallRecord(name="segment_image", ok=False, error={"message": "no image"})])
    assert md.count("<details>") == 2 and "predict_properties — ok · 0.50 s" in md and "no image" in md
    assert panels.steps_markdown([], "en") == "No tool was called in this turn."


def test_header_lists_backend_tools_and_intended_use():
    from tools.registry import ToolStatus

    st = [ToolStatus("predict_properties", True, "ready"), ToolStatus("segment_image", False, "weights missing")]
    md = panels.header_markdown({"backend": "embedded (llama.cpp)", "model": "smollm2"}, st, "Decision support only.",
                                "en", username="<alice>")
    assert "embedded (llama.cpp)" in md and "`predict_properties`" in md and "segment_image (weights missing)" in md
    assert "Decision support only." in md and "&lt;alice&gt;" in md


def test_case_report_carries_question_answer_steps_and_sources():
    c = Citation(n=1, source_id="medchem-rules", title="Rules", section="Lipinski", text="...")
    md = panels.case_report("What is the logP?", ["/x/aspirin.sdf"], _result(citations=[c]))
    assert md.startswith("# Galen case report")
    for needle in ("What is the logP?", "aspirin.sdf", "The logP is 1.31.", "`predict_properties`", "[1] medchem-rules"):
        assert needle in md


def test_thread_choices_label_and_value():
    assert panels.thread_choices([{"thread_id": "abc", "title": "logP of CCO"}, {"thread_id": "def", "title": ""}]) == [
        ("logP of CCO", "abc"), ("def", "def")]
