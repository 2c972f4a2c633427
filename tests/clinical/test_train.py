"""``galen train clinical`` end to end, small: one CV repeat and five bootstrap refits into a temp dir."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_train_main_reproduces_artifacts(tmp_path):
    from specialists.clinical.train import DEFAULT_OUT, main

    assert main(["--repeats", "1", "--bootstrap", "5", "--out", str(tmp_path)]) == 0
    for name in ("risk_breast.json", "fusion_breast.pt", "treatment_gbsg2.json", "metrics_clinical.json"):
        assert (tmp_path / name).stat().st_size > 0
    m = json.loads((tmp_path / "metrics_clinical.json").read_text())
    assert set(m["risk"]["cv"]) == {"cox_clinical", "cox_genes", "cox_concat", "fusion", "fusion_without_genes"}
    assert 0.55 < m["risk"]["cv"]["cox_concat"]["c_index"]["mean"] < 0.8
    assert 0.6 < m["treatment"]["average_effect"]["hazard_ratio"] < 0.8
    assert m["seed"] == 0 and "scikit-survival" in m["versions"]
    # same seed, same data: the shipped metrics file reports the same first-repeat fold results
    shipped = json.loads((DEFAULT_OUT / "metrics_clinical.json").read_text())
    assert m["risk"]["fold_metrics"]["cox_concat"][:5] == shipped["risk"]["fold_metrics"]["cox_concat"][:5]
