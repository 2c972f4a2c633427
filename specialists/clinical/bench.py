"""Latency benchmarks of the clinical models, for ``make bench``.

``run()`` returns milliseconds per patient for each model (median of repeated single-patient
calls, after one warm-up call that loads the weights) and the cross-validation wall time that
training recorded in ``metrics_clinical.json``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from specialists.clinical.train import DEFAULT_OUT


def _ms_per_call(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: loads and caches weights
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(repeats: int = 20) -> dict[str, float]:
    """Per-patient latency (ms) of each clinical model and the recorded CV wall times (s)."""
    from specialists.clinical.brock import BrockInput, brock_probability
    from specialists.clinical.data import load_breast_cancer_arrays
    from specialists.clinical.risk_model import ClinicalFacts, predict_risk
    from specialists.clinical.treatment import PatientCovariates, predict_benefit

    d = load_breast_cancer_arrays()
    expr = dict(zip(d.probes, d.genes[0], strict=True))
    facts = ClinicalFacts(50, True, 2, 2.0)
    out = {
        "brock_ms_per_patient": _ms_per_call(lambda: brock_probability(BrockInput(64, "female", 9, "solid")), repeats),
        "clinical_risk_with_genes_ms_per_patient": _ms_per_call(lambda: predict_risk(facts, expr), repeats),
        "clinical_risk_without_genes_ms_per_patient": _ms_per_call(lambda: predict_risk(facts), repeats),
        "treatment_benefit_ms_per_patient": _ms_per_call(
            lambda: predict_benefit(PatientCovariates(58, "post", 25, 2, 3, 40, 80)), repeats),
    }
    metrics = DEFAULT_OUT / "metrics_clinical.json"
    if metrics.exists():
        m = json.loads(metrics.read_text())
        out["risk_cv_wall_s"] = m["risk"]["cv_seconds"]
        out["treatment_cv_and_bootstrap_wall_s"] = m["treatment"]["seconds"]
        out["training_wall_s"] = m["wall_seconds"]
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
