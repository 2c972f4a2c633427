"""GBSG2 treatment benefit: average effect sanity, output shape, extraction."""

from __future__ import annotations

import pytest

from galen.errors import InvalidInput, MissingFacts
from specialists.clinical.treatment import PatientCovariates, load_weights, predict_benefit
from tools.clinical import TreatmentBenefitTool

Q = ("58-year-old postmenopausal woman, tumour 25 mm, grade 2, 3 positive nodes, PR 40 fmol/mg, ER 80 fmol/mg: "
     "does tamoxifen help her?")


@pytest.mark.slow
def test_average_hazard_ratio_recomputed_near_published():
    from specialists.clinical.data import load_gbsg2_arrays
    from specialists.clinical.treatment_train import average_effect

    avg = average_effect(load_gbsg2_arrays())
    assert 0.6 < avg["hazard_ratio"] < 0.8 and avg["ci95"][1] < 1.0


def test_shipped_model_average_effect_and_bootstrap():
    model, boots, meta = load_weights()
    assert 0.6 < meta["average_effect"]["hazard_ratio"] < 0.8
    assert 0.6 < meta["implied_marginal_hr_5y"] < 0.85
    assert len(boots) >= 50 and len(model.coef) == 15


def test_benefit_output_shape():
    r = predict_benefit(PatientCovariates(58, "post", 25, 2, 3, 40, 80))
    for k in ("rfs5_without_therapy", "rfs5_with_therapy", "absolute_benefit"):
        assert 0 <= abs(r[k]) <= 1
    assert r["absolute_benefit"] == pytest.approx(r["rfs5_with_therapy"] - r["rfs5_without_therapy"])
    lo, hi = r["benefit_interval"]
    assert lo <= hi and len(r["rfs5_with_interval"]) == 2 and r["n_bootstrap"] >= 50
    assert r["absolute_benefit"] > 0  # HR < 1 on average: a typical patient gains


def test_extraction_missing_and_ranges(ctx):
    tool = TreatmentBenefitTool()
    a = tool.extract_arguments(Q, ctx())
    inputs = a.pop("inputs")
    assert a == {"age": 58, "menopausal_status": "post", "tumour_size_mm": 25.0, "grade": 2, "positive_nodes": 3,
                 "progesterone_fmol": 40.0, "estrogen_fmol": 80.0}
    assert {e["name"]: (e["value"], e["source"]) for e in inputs}["positive_nodes"] == (3.0, "question")
    assert all(e["evidence"] and e["source"] == "question" for e in inputs)
    with pytest.raises(MissingFacts) as e:
        tool.extract_arguments("Would hormonal therapy help a 50-year-old premenopausal woman with a 2 cm tumour?", ctx())
    assert e.value.missing == ["tumour grade (1-3)", "number of positive lymph nodes",
                               "progesterone receptor (fmol/mg)", "oestrogen receptor (fmol/mg)"]
    with pytest.raises(InvalidInput):
        predict_benefit(PatientCovariates(300, "post", 25, 2, 3, 40, 80))
    res = tool.run(tool.validate_arguments({**a, "inputs": inputs}), ctx())
    assert "non-randomised" in res.warnings[0].replace("not randomised", "non-randomised")
    assert "GBSG2" in res.warnings[0] and len(res.facts) == 5 and res.facts[-1].startswith("Inputs: age 58 ←")
