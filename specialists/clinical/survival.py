"""Small survival-analysis pieces shared by the clinical models.

A fitted Cox model is kept as plain numbers (:class:`CoxLinear`: feature names, centring means,
scales, coefficients and the Breslow baseline cumulative hazard on a time grid), so shipped
weights are JSON, readable and independent of any library's pickle format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FIVE_YEARS_DAYS = 5 * 365.25


def breslow_baseline(risk: np.ndarray, time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breslow estimate of the baseline cumulative hazard for linear predictors ``risk``.

    Returns:
        ``(times, H0)``: the distinct event times and the cumulative hazard just after each.
    """
    order = np.argsort(time, kind="mergesort")
    t, e, r = time[order], event[order].astype(bool), np.exp(risk[order])
    at_risk = np.cumsum(r[::-1])[::-1]  # sum of exp(risk) over subjects with time >= t_i
    uniq = np.unique(t[e])
    steps = []
    for u in uniq:
        first = np.searchsorted(t, u, side="left")
        steps.append(np.sum(e & (t == u)) / at_risk[first])
    return uniq, np.cumsum(steps)


def cumhaz_at(times: np.ndarray, h0: np.ndarray, t: float) -> float:
    """The step function ``H0`` evaluated at time ``t``."""
    i = np.searchsorted(times, t, side="right") - 1
    return float(h0[i]) if i >= 0 else 0.0


@dataclass
class CoxLinear:
    """A Cox model as numbers: ``lp = sum(coef * (x - mean) / scale)``, ``S(t) = exp(-H0(t) exp(lp))``."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    base_times: np.ndarray
    base_cumhaz: np.ndarray
    meta: dict = field(default_factory=dict)

    def linear_predictor(self, x: np.ndarray) -> np.ndarray:
        return ((np.atleast_2d(x) - self.mean) / self.scale) @ self.coef

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each feature's additive share of the log-hazard relative to the average training patient."""
        return ((np.atleast_2d(x) - self.mean) / self.scale) * self.coef

    def survival_at(self, x: np.ndarray, t: float) -> np.ndarray:
        return np.exp(-cumhaz_at(self.base_times, self.base_cumhaz, t) * np.exp(self.linear_predictor(x)))

    def to_dict(self) -> dict:
        return {"features": self.features, "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "base_times": self.base_times.tolist(),
                "base_cumhaz": self.base_cumhaz.tolist(), "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict) -> CoxLinear:
        return cls(list(d["features"]), np.asarray(d["mean"]), np.asarray(d["scale"]), np.asarray(d["coef"]),
                   np.asarray(d["base_times"]), np.asarray(d["base_cumhaz"]), dict(d.get("meta", {})))


def fit_ridge_cox(x: np.ndarray, time: np.ndarray, event: np.ndarray, features: list[str],
                  alpha: float | np.ndarray) -> CoxLinear:
    """Fit an L2-penalised Cox model on standardised features (scikit-survival's Newton solver).

    ``alpha`` is one penalty for all coefficients or one per feature.
    """
    from sksurv.linear_model import CoxPHSurvivalAnalysis

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    y = np.array(list(zip(event.astype(bool), time, strict=True)), dtype=[("e", "?"), ("t", "<f8")])
    model = CoxPHSurvivalAnalysis(alpha=alpha, ties="breslow", n_iter=200).fit(z, y)
    coef = np.asarray(model.coef_, dtype=float)
    times, h0 = breslow_baseline(z @ coef, time, event)
    return CoxLinear(features, mean, scale, coef, times, h0, {"alpha": np.asarray(alpha).tolist()})


def structured_y(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """scikit-survival's structured outcome array."""
    return np.array(list(zip(event.astype(bool), time, strict=True)), dtype=[("e", "?"), ("t", "<f8")])


def harrell_c(time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's concordance index (higher risk should mean earlier event)."""
    from sksurv.metrics import concordance_index_censored

    return float(concordance_index_censored(event.astype(bool), time, risk)[0])
