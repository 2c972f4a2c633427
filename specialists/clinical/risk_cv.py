"""Repeated cross-validation of the distant-metastasis risk models on ``load_breast_cancer``.

Compares ridge-penalised Cox models (clinical only, genes only, both concatenated) with the gated
fusion network (all modalities, and with the genes withheld at test time) on the same folds:
Harrell's C-index, time-dependent AUC at 5 years, the Brier score at 5 years and calibration
(predicted vs Kaplan-Meier observed 5-year risk in tertiles of predicted risk).
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable

import numpy as np

from specialists.clinical.data import BreastCancerData
from specialists.clinical.fusion import FusionConfig, FusionPredictor, fit_fusion
from specialists.clinical.survival import (
    FIVE_YEARS_DAYS,
    breslow_baseline,
    cumhaz_at,
    fit_ridge_cox,
    harrell_c,
    structured_y,
)

ALPHAS = (1.0, 10.0, 100.0, 1000.0)
AGE_BANDS = ((0, 45, "<45"), (45, 55, "45-54"), (55, 200, ">=55"))


def feature_sets(d: BreastCancerData) -> dict[str, tuple[np.ndarray, list[str]]]:
    clin = np.column_stack([d.clinical, d.size])
    clin_names = ["age", "er_positive", "grade", "size_cm"]
    return {
        "cox_clinical": (clin, clin_names),
        "cox_genes": (d.genes, list(d.probes)),
        "cox_concat": (np.column_stack([clin, d.genes]), clin_names + list(d.probes)),
    }


def choose_alpha(x: np.ndarray, time: np.ndarray, event: np.ndarray, seed: int) -> float:
    """Ridge penalty with the best 3-fold inner-CV C-index."""
    from specialists.splits import stratified_folds

    scores = {a: [] for a in ALPHAS}
    for tr, va in stratified_folds(event, 3, seed):
        for a in ALPHAS:
            m = fit_ridge_cox(x[tr], time[tr], event[tr], [], a)
            scores[a].append(harrell_c(time[va], event[va], m.linear_predictor(x[va])))
    return max(ALPHAS, key=lambda a: np.mean(scores[a]))


def _metrics(time_tr, event_tr, time_te, event_te, risk, surv5) -> dict[str, float]:
    from sksurv.metrics import brier_score, cumulative_dynamic_auc

    y_tr, y_te = structured_y(time_tr, event_tr), structured_y(time_te, event_te)
    auc = cumulative_dynamic_auc(y_tr, y_te, risk, [FIVE_YEARS_DAYS])[0][0]
    brier = brier_score(y_tr, y_te, surv5[:, None], [FIVE_YEARS_DAYS])[1][0]
    return {"c_index": harrell_c(time_te, event_te, risk), "auc_5y": float(auc), "brier_5y": float(brier)}


def km_risk_at(time: np.ndarray, event: np.ndarray, t: float) -> float:
    """Kaplan-Meier estimate of the event probability by time ``t``."""
    from sksurv.nonparametric import kaplan_meier_estimator

    times, surv = kaplan_meier_estimator(event.astype(bool), time)
    i = np.searchsorted(times, t, side="right") - 1
    return float(1 - surv[i]) if i >= 0 else 0.0


def calibration_table(time, event, pred_risk5, groups: int = 3) -> list[dict[str, float]]:
    """Mean predicted vs Kaplan-Meier observed 5-year risk in groups of predicted risk."""
    cuts = np.quantile(pred_risk5, np.linspace(0, 1, groups + 1))
    idx = np.clip(np.searchsorted(cuts, pred_risk5, side="right") - 1, 0, groups - 1)
    return [{"group": g + 1, "n": int((idx == g).sum()), "predicted": float(pred_risk5[idx == g].mean()),
             "observed_km": km_risk_at(time[idx == g], event[idx == g], FIVE_YEARS_DAYS)} for g in range(groups)]


def cross_validate(d: BreastCancerData, n_splits: int = 5, n_repeats: int = 3, seed: int = 0,
                   fusion_cfg: FusionConfig | None = None, log: Callable[[str], None] = print) -> dict:
    """Run the comparison; returns per-model fold metrics, summaries, calibration and subgroup C-indices."""
    from specialists.splits import repeated_stratified_folds

    fusion_cfg = fusion_cfg or FusionConfig(seed=seed)
    sets = feature_sets(d)
    names = [*sets, "fusion", "fusion_without_genes"]
    folds: dict[str, list[dict]] = {n: [] for n in names}
    oof = {n: np.zeros((n_repeats, len(d.time), 2)) for n in names}  # log-hazard, 5-y risk
    t0 = _time.perf_counter()
    for k, (tr, te) in enumerate(repeated_stratified_folds(d.event, n_splits, n_repeats, seed)):
        rep = k // n_splits
        for name, (x, _) in sets.items():
            alpha = choose_alpha(x[tr], d.time[tr], d.event[tr], seed + k)
            m = fit_ridge_cox(x[tr], d.time[tr], d.event[tr], [], alpha)
            risk = m.linear_predictor(x[te])
            s5 = m.survival_at(x[te], FIVE_YEARS_DAYS)
            folds[name].append({**_metrics(d.time[tr], d.event[tr], d.time[te], d.event[te], risk, s5), "alpha": alpha})
            oof[name][rep, te] = np.column_stack([risk, 1 - s5])
        arrays = {"clinical": d.clinical, "size": d.size, "genes": d.genes}
        ckpt = fit_fusion({m: a[tr] for m, a in arrays.items()}, d.time[tr], d.event[tr], fusion_cfg)
        pred = FusionPredictor(ckpt)
        risk_tr, _ = pred.predict({m: a[tr] for m, a in arrays.items()})
        bt, bh = breslow_baseline(risk_tr, d.time[tr], d.event[tr])
        h5 = cumhaz_at(bt, bh, FIVE_YEARS_DAYS)
        for name, keep in (("fusion", ("clinical", "size", "genes")), ("fusion_without_genes", ("clinical", "size"))):
            if name == "fusion_without_genes":  # baseline hazard for the reduced input, from training patients
                risk_tr2, _ = pred.predict({m: (a[tr] if m in keep else None) for m, a in arrays.items()})
                bt2, bh2 = breslow_baseline(risk_tr2, d.time[tr], d.event[tr])
                h = cumhaz_at(bt2, bh2, FIVE_YEARS_DAYS)
            else:
                h = h5
            risk, _ = pred.predict({m: (a[te] if m in keep else None) for m, a in arrays.items()})
            s5 = np.exp(-h * np.exp(risk))
            folds[name].append(_metrics(d.time[tr], d.event[tr], d.time[te], d.event[te], risk, s5))
            oof[name][rep, te] = np.column_stack([risk, 1 - s5])
        log(f"fold {k + 1}/{n_splits * n_repeats}: " + ", ".join(f"{n} C={folds[n][-1]['c_index']:.3f}" for n in names))
    summary = {}
    for n in names:
        summary[n] = {m: {"mean": float(np.mean([f[m] for f in folds[n]])), "sd": float(np.std([f[m] for f in folds[n]]))}
                      for m in ("c_index", "auc_5y", "brier_5y")}
        summary[n]["calibration_repeat1"] = calibration_table(d.time, d.event, oof[n][0, :, 1])
        summary[n]["c_index_by_age_band"] = {
            label: {"n": int(((d.clinical[:, 0] >= lo) & (d.clinical[:, 0] < hi)).sum()),
                    "c_index": float(np.mean([harrell_c(d.time[msk], d.event[msk], oof[n][r, msk, 0])
                                              for r in range(n_repeats)]))}
            for lo, hi, label in AGE_BANDS for msk in [(d.clinical[:, 0] >= lo) & (d.clinical[:, 0] < hi)]
        }
        summary[n]["c_index_by_er"] = {
            label: float(np.mean([harrell_c(d.time[msk], d.event[msk], oof[n][r, msk, 0]) for r in range(n_repeats)]))
            for label, msk in (("ER-positive", d.clinical[:, 1] == 1), ("ER-negative", d.clinical[:, 1] == 0))
        }
    return {"folds": folds, "summary": summary, "n_splits": n_splits, "n_repeats": n_repeats,
            "seconds": _time.perf_counter() - t0}
