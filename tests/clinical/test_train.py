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
    # (to 1e-9: BLAS summation order may change the last digit of a float between machines)
    assert json.dumps(m["risk"]["fold_metrics"]["cox_concat"][:5], sort_keys=True) == json.dumps(
        shipped["risk"]["fold_metrics"]["cox_concat"][:5], sort_keys=True) or _close(
        m["risk"]["fold_metrics"]["cox_concat"][:5], shipped["risk"]["fold_metrics"]["cox_concat"][:5])


def _close(a, b) -> bool:
    import math

    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b
