"""Individual benefit of adjuvant hormonal therapy (tamoxifen) on GBSG2 recurrence-free survival.

The shipped model is a ridge-penalised Cox model with hormonal-therapy-by-covariate
interactions: each patient's 5-year recurrence-free survival is predicted with and without
therapy, and the difference is the estimated benefit. Its uncertainty comes from refitting on
bootstrap resamples (the refits ship with the weights). GBSG2 is a trial cohort, but hormonal
therapy was not randomised for every patient (see the model card), so the estimates carry
confounding by indication.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from galen.errors import InvalidInput, ModelUnavailable
from specialists.clinical.data import GBSG2_FEATURES, gbsg2_row
from specialists.clinical.survival import FIVE_YEARS_DAYS, CoxLinear, fit_ridge_cox

VERSION = "gbsg2-cox-interactions-1.0"
WEIGHTS = Path(__file__).parent / "weights" / "treatment_gbsg2.json"
INTERACTION_FEATURES = GBSG2_FEATURES + ["hormonal_therapy"] + [f"hormonal_therapy:{f}" for f in GBSG2_FEATURES]

#: Plausible ranges (GBSG2 spans age 21-80, tumour 3-120 mm, 1-51 nodes, receptors 0-2380 fmol/mg).
RANGES = {"age": (18.0, 100.0), "tumour_size_mm": (1.0, 200.0), "positive_nodes": (0.0, 60.0),
          "progesterone_fmol": (0.0, 5000.0), "estrogen_fmol": (0.0, 5000.0)}
COHORT = {"age": (21.0, 80.0), "tumour_size_mm": (3.0, 120.0), "positive_nodes": (1.0, 51.0)}


def design(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Covariates, treatment and treatment-by-covariate interactions."""
    t = np.asarray(treated, dtype=float)[:, None]
    return np.column_stack([x, t, x * t])


#: Penalty on the main effects; the interactions get the cross-validated ``alpha``. Main effects are
#: barely penalised so the average treatment effect is not shrunk towards no effect.
MAIN_EFFECT_PENALTY = 0.1


def fit_interaction_cox(x: np.ndarray, treated: np.ndarray, time: np.ndarray, event: np.ndarray, alpha: float) -> CoxLinear:
    """Cox model with main effects and treatment interactions (ridge ``alpha`` on the interactions only)."""
    k = x.shape[1]
    penalty = np.r_[np.full(k + 1, MAIN_EFFECT_PENALTY), np.full(k, alpha)]
    return fit_ridge_cox(design(x, treated), time, event, INTERACTION_FEATURES, penalty)


def rfs5_pair(model: CoxLinear, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """5-year recurrence-free survival without and with hormonal therapy."""
    n = len(x)
    return (model.survival_at(design(x, np.zeros(n)), FIVE_YEARS_DAYS),
            model.survival_at(design(x, np.ones(n)), FIVE_YEARS_DAYS))


@dataclass(frozen=True)
class PatientCovariates:
    age: float
    menopausal_status: str  # "pre" | "post"
    tumour_size_mm: float
    grade: int
    positive_nodes: float
    progesterone_fmol: float
    estrogen_fmol: float

    def validate(self) -> list[str]:
        """Raise InvalidInput on impossible values; return warnings for values outside the GBSG2 cohort."""
        for name, (lo, hi) in RANGES.items():
            v = getattr(self, name)
            if not lo <= v <= hi:
                raise InvalidInput(f"{name.replace('_', ' ')} = {v:g} is outside the accepted range {lo:g}-{hi:g}.",
                                   hint="Check the value and its unit (tumour size in mm, receptors in fmol/mg).")
        if self.menopausal_status not in ("pre", "post"):
            raise InvalidInput(f"Menopausal status {self.menopausal_status!r} must be 'pre' or 'post'.")
        if self.grade not in (1, 2, 3):
            raise InvalidInput(f"Tumour grade {self.grade} must be 1, 2 or 3.")
        warnings = []
        for name, (lo, hi) in COHORT.items():
            v = getattr(self, name)
            if not lo <= v <= hi:
                warnings.append(f"{name.replace('_', ' ')} = {v:g} is outside the GBSG2 cohort ({lo:g}-{hi:g}); "
                                "the estimate is an extrapolation.")
        if self.positive_nodes == 0:
            warnings.append("GBSG2 enrolled only node-positive patients; for a node-negative patient the "
                            "estimate is an extrapolation.")
        return warnings

    def row(self) -> np.ndarray:
        return gbsg2_row(self.age, self.menopausal_status, self.tumour_size_mm, self.grade, self.positive_nodes,
                         self.progesterone_fmol, self.estrogen_fmol)


@lru_cache(maxsize=1)
def load_weights(path: str = str(WEIGHTS)) -> tuple[CoxLinear, list[CoxLinear], dict]:
    """The fitted model, its bootstrap refits and the training metadata (cached)."""
    p = Path(path)
    if not p.exists():
        raise ModelUnavailable(f"Treatment-benefit weights are missing ({p}).", hint="Run `galen train clinical`.")
    d = json.loads(p.read_text())
    return CoxLinear.from_dict(d["model"]), [CoxLinear.from_dict(b) for b in d["bootstrap"]], d["meta"]


def predict_benefit(patient: PatientCovariates, level: float = 0.95) -> dict:
    """5-year RFS with and without hormonal therapy, the difference and its bootstrap interval.

    Raises:
        InvalidInput: an impossible covariate value.
        ModelUnavailable: the weights have not been trained.
    """
    warnings = patient.validate()
    model, boots, meta = load_weights()
    x = patient.row()[None, :]
    s0, s1 = (float(v[0]) for v in rfs5_pair(model, x))
    diffs, b0s, b1s = [], [], []
    for b in boots:
        b0, b1 = (float(v[0]) for v in rfs5_pair(b, x))
        b0s.append(b0), b1s.append(b1), diffs.append(b1 - b0)
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    return {
        "rfs5_without_therapy": s0,
        "rfs5_with_therapy": s1,
        "absolute_benefit": s1 - s0,
        "interval_level": level,
        "rfs5_without_interval": [float(v) for v in np.quantile(b0s, q)],
        "rfs5_with_interval": [float(v) for v in np.quantile(b1s, q)],
        "benefit_interval": [float(v) for v in np.quantile(diffs, q)],
        "n_bootstrap": len(boots),
        "average_hazard_ratio": meta["average_effect"]["hazard_ratio"],
        "average_hazard_ratio_ci": meta["average_effect"]["ci95"],
        "covariates": patient.__dict__,
        "model": VERSION,
        "warnings": warnings,
    }
