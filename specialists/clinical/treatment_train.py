"""Training and comparison for the GBSG2 treatment-benefit model (used by ``train.py``).

Fits: (1) the average effect, a Cox model with hormonal therapy and the covariates as main
effects (hazard ratio with a 95 % interval, expected about 0.7); (2) the shipped Cox model with
treatment interactions, its ridge penalty chosen by cross-validation, plus bootstrap refits;
(3) a random-survival-forest T-learner (one forest per arm) for comparison, not shipped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from specialists.clinical.data import GBSG2_FEATURES, Gbsg2Data
from specialists.clinical.survival import FIVE_YEARS_DAYS, harrell_c
from specialists.clinical.treatment import design, fit_interaction_cox, rfs5_pair

ALPHAS = (1.0, 10.0, 100.0, 1000.0)
AGE_BANDS = ((0, 50, "<50"), (50, 65, "50-64"), (65, 200, ">=65"))


def average_effect(d: Gbsg2Data) -> dict:
    """Adjusted hazard ratio of hormonal therapy (Cox, main effects only) with a Wald 95 % interval."""
    import pandas as pd
    from lifelines import CoxPHFitter

    df = pd.DataFrame(d.x, columns=GBSG2_FEATURES).assign(hormonal_therapy=d.treated, time=d.time, event=d.event)
    cph = CoxPHFitter().fit(df, "time", "event")
    s = cph.summary.loc["hormonal_therapy"]
    unadj = CoxPHFitter().fit(df[["hormonal_therapy", "time", "event"]], "time", "event").summary.loc["hormonal_therapy"]
    return {"hazard_ratio": float(s["exp(coef)"]),
            "ci95": [float(s["exp(coef) lower 95%"]), float(s["exp(coef) upper 95%"])],
            "p": float(s["p"]), "unadjusted_hazard_ratio": float(unadj["exp(coef)"])}


def _rsf_pair(x_tr, t_tr, time, event, x_te, seed):
    from sksurv.ensemble import RandomSurvivalForest

    from specialists.clinical.survival import structured_y

    out = []
    for arm in (0, 1):
        m = t_tr == arm
        rsf = RandomSurvivalForest(n_estimators=100, min_samples_leaf=15, max_features="sqrt", random_state=seed,
                                   n_jobs=1).fit(x_tr[m], structured_y(time[m], event[m]))
        fns = rsf.predict_survival_function(x_te)
        out.append(np.array([float(f(min(FIVE_YEARS_DAYS, f.x[-1]))) for f in fns]))
    return out[0], out[1]


def cross_validate_benefit(d: Gbsg2Data, seed: int = 0, n_splits: int = 5,
                           log: Callable[[str], None] = print) -> dict:
    """Out-of-fold comparison of the interaction Cox model and the forest T-learner."""
    from specialists.splits import stratified_folds

    n = len(d.time)
    cox_oof = {a: np.zeros((n, 2)) for a in ALPHAS}
    rsf_oof = np.zeros((n, 2))
    for k, (tr, te) in enumerate(stratified_folds(d.event, n_splits, seed)):
        for a in ALPHAS:
            m = fit_interaction_cox(d.x[tr], d.treated[tr], d.time[tr], d.event[tr], a)
            cox_oof[a][te] = np.column_stack(rfs5_pair(m, d.x[te]))
        rsf_oof[te] = np.column_stack(_rsf_pair(d.x[tr], d.treated[tr], d.time[tr], d.event[tr], d.x[te], seed + k))
        log(f"benefit fold {k + 1}/{n_splits} done")

    def observed_arm_risk(pair, msk=slice(None)):  # risk under the therapy actually received
        return 1 - np.where(d.treated[msk] == 1, pair[:, 1], pair[:, 0])

    c_by_alpha = {a: harrell_c(d.time, d.event, observed_arm_risk(cox_oof[a])) for a in ALPHAS}
    # Parsimony: the strongest interaction penalty whose C-index is within 0.005 of the best. The
    # C-index scores risk ranking, not effect heterogeneity, so near-ties favour the simpler effect.
    top = max(c_by_alpha.values())
    best = max(a for a in ALPHAS if c_by_alpha[a] >= top - 0.005)
    cox_pair = cox_oof[best]
    cox_benefit, rsf_benefit = cox_pair[:, 1] - cox_pair[:, 0], rsf_oof[:, 1] - rsf_oof[:, 0]
    subgroups = {}
    groups = [(label, (d.raw["age"] >= lo) & (d.raw["age"] < hi)) for lo, hi, label in AGE_BANDS]
    groups += [("premenopausal", d.raw["postmenopausal"] == 0), ("postmenopausal", d.raw["postmenopausal"] == 1)]
    for label, msk in groups:
        subgroups[label] = {
            "n": int(msk.sum()),
            "c_index_cox": harrell_c(d.time[msk], d.event[msk], observed_arm_risk(cox_pair[msk], msk)),
            "c_index_rsf": harrell_c(d.time[msk], d.event[msk], observed_arm_risk(rsf_oof[msk], msk)),
            "mean_benefit_cox": float(cox_benefit[msk].mean()),
            "mean_benefit_rsf": float(rsf_benefit[msk].mean()),
        }
    return {
        "alpha": best,
        "c_index_by_alpha": {str(a): c for a, c in c_by_alpha.items()},
        "cox_interactions": {"c_index": c_by_alpha[best], "mean_benefit_5y": float(cox_benefit.mean()),
                             "sd_benefit_5y": float(cox_benefit.std())},
        "rsf_t_learner": {"c_index": harrell_c(d.time, d.event, observed_arm_risk(rsf_oof)),
                          "mean_benefit_5y": float(rsf_benefit.mean()), "sd_benefit_5y": float(rsf_benefit.std())},
        "benefit_correlation": float(np.corrcoef(cox_benefit, rsf_benefit)[0, 1]),
        "subgroups": subgroups,
    }


def bootstrap_refits(d: Gbsg2Data, alpha: float, n_boot: int, seed: int) -> list:
    """Interaction-Cox refits on bootstrap resamples (for intervals around individual predictions)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_boot):
        i = rng.integers(0, len(d.time), len(d.time))
        out.append(fit_interaction_cox(d.x[i], d.treated[i], d.time[i], d.event[i], alpha))
    return out


def interaction_test(d: Gbsg2Data) -> dict:
    """Likelihood-ratio test of all treatment-by-covariate interactions (unpenalised Cox, lifelines)."""
    import pandas as pd
    from lifelines import CoxPHFitter
    from scipy.stats import chi2

    from specialists.clinical.treatment import INTERACTION_FEATURES

    df = pd.DataFrame(design(d.x, d.treated), columns=INTERACTION_FEATURES).assign(time=d.time, event=d.event)
    full = CoxPHFitter().fit(df, "time", "event")
    main = CoxPHFitter().fit(df[GBSG2_FEATURES + ["hormonal_therapy", "time", "event"]], "time", "event")
    stat = 2 * (full.log_likelihood_ - main.log_likelihood_)
    k = len(GBSG2_FEATURES)
    return {"lr_statistic": float(stat), "df": k, "p": float(chi2.sf(stat, k))}


def mean_individual_hr(d: Gbsg2Data, model) -> float:
    """exp(mean over patients of the individual log hazard ratio, therapy vs none)."""
    n = len(d.time)
    lhr = model.linear_predictor(design(d.x, np.ones(n))) - model.linear_predictor(design(d.x, np.zeros(n)))
    return float(np.exp(lhr.mean()))


def implied_average_hr(d: Gbsg2Data, model) -> float:
    """Marginal check: ratio of mean predicted 5-year cumulative hazards, treated vs untreated, over everyone."""
    n = len(d.time)
    s0 = model.survival_at(design(d.x, np.zeros(n)), FIVE_YEARS_DAYS)
    s1 = model.survival_at(design(d.x, np.ones(n)), FIVE_YEARS_DAYS)
    return float(np.mean(-np.log(s1)) / np.mean(-np.log(s0)))
