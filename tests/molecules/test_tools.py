"""The molecule tools: argument extraction, results schema, artifacts, clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from galen.errors import InvalidInput, MissingFacts
from galen.settings import Settings
from tools.base import ToolContext
from tools.molecules import DesignMoleculesTool, PredictPropertiesTool


def _ctx(tmp_path: Path, **settings) -> ToolContext:
    return ToolContext(settings=Settings(**settings), workdir=tmp_path / "work")


def test_design_tool_end_to_end(tmp_path: Path) -> None:
    tool = DesignMoleculesTool()
    ctx = _ctx(tmp_path, design_time_budget_s=20, design_oracle_budget=500)
    q = "Four analogs of paracetamol with logP between 1 and 2.5, no PAINS"
    args = tool.validate_arguments(tool.extract_arguments(q, ctx))
    result = tool.run(args, ctx)
    data = result.data
    assert data["requested"] == 4 and data["method"] == "ga"
    assert len(data["molecules"]) == 4
    assert data["scored"] >= data["passed"] >= 4
    for m in data["molecules"]:
        assert set(m) == {"smiles", "properties", "constraints", "score", "similarity", "alerts", "warnings", "findings",
                          "novel", "uncertainty"}
        assert all(m["constraints"].values()) and 1 <= m["properties"]["logp"] <= 2.5
        assert m["similarity"] >= 0.4
    kinds = {a.kind for a in result.artifacts}
    assert kinds == {"image", "sdf", "csv"}
    for a in result.artifacts:
        assert Path(a.path).stat().st_size > 0
    rows = list(csv.DictReader(open(next(a.path for a in result.artifacts if a.kind == "csv"))))
    assert [r["smiles"] for r in rows] == [m["smiles"] for m in data["molecules"]]
    top = data["molecules"][0]
    assert any(top["smiles"] in f and f"MW {top['properties']['mw']:.2f}" in f for f in result.facts)


def test_design_tool_bad_inputs_are_clear(tmp_path: Path) -> None:
    tool = DesignMoleculesTool()
    ctx = _ctx(tmp_path)
    with pytest.raises(MissingFacts, match="foobarinib"):
        tool.extract_arguments("ten analogs of foobarinib", ctx)
    with pytest.raises(InvalidInput, match="contradict"):
        tool.extract_arguments("five molecules with MW < 100 and TPSA > 200", ctx)
    with pytest.raises(InvalidInput, match="not a valid SMILES"):
        tool.extract_arguments("analogs of C1CC(N please", ctx)
    with pytest.raises(InvalidInput, match="heavy atoms"):
        tool.extract_arguments("analogs of " + "C" * 300, ctx)
    args = tool.extract_arguments("a million molecules like caffeine", ctx)
    assert args["request"]["count"] == 100 and any("capped" in n for n in args["notes"])


def test_predict_properties_tool_adds_learned_half(tmp_path: Path) -> None:
    from specialists.molecules.assets import MODEL_PATHS

    tool = PredictPropertiesTool()
    ctx = _ctx(tmp_path)
    args = tool.validate_arguments(tool.extract_arguments("What are the properties of caffeine?", ctx))
    result = tool.run(args, ctx)
    row = result.data["molecules"][0]
    assert row["smiles"] == "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
    if all(p.is_file() for p in MODEL_PATHS.values()):
        assert {"logs", "logs_std", "bbb_probability", "bbb_std", "in_domain"} <= set(row["learned"])
        assert any("predicted logS" in f for f in result.facts)
    else:
        assert result.warnings
