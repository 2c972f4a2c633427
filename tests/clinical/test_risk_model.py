"""The shipped distant-metastasis risk models: loading, predicting with and without genes, files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from galen.errors import InvalidInput, MissingFacts, UnreadableFile
from specialists.clinical.data import load_breast_cancer_arrays
from specialists.clinical.risk_model import ClinicalFacts, load_models, predict_risk, read_expression
from tools.base import Attachment
from tools.clinical import ClinicalRiskTool


@pytest.fixture(scope="module")
def data():
    return load_breast_cancer_arrays()


def _write_csv(path, probes, values):
    path.write_text("probe,value\n" + "\n".join(f"{p},{v}" for p, v in zip(probes, values, strict=True)))
    return path


def test_models_load_and_selection_is_recorded():
    m = load_models()
    assert set(m["cox"]) == {"cox_clinical", "cox_genes", "cox_concat"} and len(m["probes"]) == 76
    sel = m["meta"]["selected"]
    assert sel["with_genes"] in ("fusion", "cox_concat") and sel["without_genes"] in ("fusion_without_genes", "cox_clinical")
    assert "fusion" in m  # the fusion network ships even when a Cox model is selected


def test_predicts_with_and_without_genes(data):
    i = 0
    facts = ClinicalFacts(float(data.clinical[i, 0]), bool(data.clinical[i, 1]), int(data.clinical[i, 2]),
                          float(data.size[i, 0]))
    expr = dict(zip(data.probes, data.genes[i], strict=True))
    with_genes = predict_risk(facts, expr)
    without = predict_risk(facts)
    assert with_genes["modalities"]["genes"] and not without["modalities"]["genes"]
    for r in (with_genes, without):
        assert 0 < r["risk_5y"] < 1 and r["attributions"] and r["probes"]["expected"] == 76
    assert with_genes["probes"]["used"] == 76 and with_genes["probes"]["missing"] == []


def test_fusion_tolerates_each_missing_modality(data):
    from specialists.clinical.fusion import FusionPredictor

    pred = load_models()["fusion"]
    assert isinstance(pred, FusionPredictor)
    for arrays in ({"clinical": data.clinical[:5], "size": data.size[:5], "genes": data.genes[:5]},
                   {"clinical": data.clinical[:5], "size": None, "genes": data.genes[:5]},
                   {"clinical": data.clinical[:5], "size": data.size[:5], "genes": None}):
        lp, w = pred.predict(arrays)
        assert np.all(np.isfinite(lp)) and np.allclose(w.sum(axis=1), 1.0)
        for j, m in enumerate(("clinical", "size", "genes")):
            if arrays[m] is None:
                assert np.all(w[:, j] < 1e-6)


def test_missing_and_unknown_probes_reported(data, tmp_path):
    probes, values = data.probes[:70] + ["X999999_at"], list(data.genes[3, :70]) + [5.0]
    expr = read_expression(_write_csv(tmp_path / "e.csv", probes, values), "csv")
    r = predict_risk(ClinicalFacts(50, True, 2, 2.0), expr)
    assert len(r["probes"]["missing"]) == 6 and r["probes"]["unknown"] == ["X999999_at"]
    assert any("missing" in w for w in r["warnings"])
    with pytest.raises(InvalidInput):
        predict_risk(ClinicalFacts(50, True, 2, 2.0), {"X999999_at": 1.0})


def test_expression_formats_and_malformed_files(data, tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(p.lstrip("X") for p in data.probes[:3]) + "\n1.0,2.0,3.0\n")
    assert list(read_expression(wide, "csv")) == data.probes[:3]
    js = tmp_path / "e.json"
    js.write_text(json.dumps({"expression": {data.probes[0]: 7.5}}))
    assert read_expression(js, "json") == {data.probes[0]: 7.5}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UnreadableFile):
        read_expression(bad, "json")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(UnreadableFile):
        read_expression(empty, "csv")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c\n1,2\n3\n")
    with pytest.raises(UnreadableFile):
        read_expression(ragged, "csv")
    nonnum = tmp_path / "nonnum.csv"
    nonnum.write_text(f"{data.probes[0]},high\n")
    with pytest.raises(InvalidInput):
        read_expression(nonnum, "csv")


def test_tool_from_text_attachment_and_segmentation(data, ctx, tmp_path):
    tool = ClinicalRiskTool()
    with pytest.raises(MissingFacts) as e:
        tool.extract_arguments("What is her risk of distant metastasis? She is 45.", ctx())
    assert e.value.missing == ["ER status (positive or negative)", "tumour grade (1-3)"]
    path = _write_csv(tmp_path / "expr.csv", data.probes, data.genes[0])
    c = ctx(attachments=[Attachment(path=path, name="expr.csv", kind="csv")],
            findings=[{"tool": "segment_image", "data": {"lesions": [{"mean_diameter_mm": 21.0, "long_axis_mm": 24.0}]}}])
    a = tool.extract_arguments("45-year-old, ER-positive, grade 2 breast cancer: risk of metastasis?", c)
    assert a["size_cm"] == pytest.approx(2.4) and a["size_source"] == "segment_image" and a["expression_kind"] == "csv"
    res = tool.run(tool.validate_arguments(a), c)
    assert res.data["modalities"] == {"clinical": True, "size": True, "genes": True}
    assert res.data["size_source"] == "segment_image" and f"{100 * res.data['risk_5y']:.1f}%" in res.facts[0]


def test_follow_up_keeps_the_stated_facts_with_their_source(tmp_path):
    from galen.settings import Settings
    from tools.base import ToolContext
    from tools.clinical import extract_clinical_risk_arguments

    ctx = ToolContext(settings=Settings(), workdir=tmp_path)
    first = extract_clinical_risk_arguments("46-year-old, ER-negative, grade 3, 4.5 cm tumour: risk of metastasis?", ctx)
    assert (first["age"], first["er_positive"], first["grade"], first["size_cm"]) == (46, False, 3, 4.5)
    ctx.findings.append({"tool": "clinical_risk", "data": {"inputs": first["inputs"]}})
    again = extract_clinical_risk_arguments("How does the 5-year metastasis risk change with her profile?", ctx)
    assert (again["age"], again["size_cm"]) == (46, 4.5)
    assert {e["source"] for e in again["inputs"]} == {"earlier_result"}
    assert next(e for e in again["inputs"] if e["name"] == "size_cm")["evidence"] == "4.5 cm"
