"""Train every clinical model and write its weights and metrics (``galen train clinical``).

    python -m specialists.clinical.train [--repeats 3] [--bootstrap 200] [--seed 0] [--out DIR]

Writes, under ``specialists/clinical/weights/``: ``risk_breast.json`` (ridge Cox models and the
selection made by cross-validation), ``fusion_breast.pt`` (the gated fusion network),
``treatment_gbsg2.json`` (the interaction Cox model and its bootstrap refits) and
``metrics_clinical.json`` (everything the model cards quote, with library versions, seed and
data hashes). The Brock model has no weights: its published coefficients are in ``brock.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from specialists.clinical.survival import breslow_baseline

DEFAULT_OUT = Path(__file__).parent / "weights"


def _versions() -> dict[str, str]:
    import lifelines
    import sklearn
    import sksurv
    import torch

    return {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "scikit-learn": sklearn.__version__, "scikit-survival": sksurv.__version__, "lifelines": lifelines.__version__}


def train_risk(out: Path, repeats: int, seed: int, log) -> dict:
    """Cross-validate the risk models, choose, refit on all 198 patients and save."""
    import torch

    from specialists.clinical.data import load_breast_cancer_arrays
    from specialists.clinical.fusion import FusionConfig, FusionPredictor, fit_fusion
    from specialists.clinical.risk_cv import choose_alpha, cross_validate, feature_sets

    d = load_breast_cancer_arrays()
    cv = cross_validate(d, n_splits=5, n_repeats=repeats, seed=seed, fusion_cfg=FusionConfig(seed=seed), log=log)
    s = cv["summary"]
    selected = {
        "with_genes": max(("cox_concat", "fusion"), key=lambda k: s[k]["c_index"]["mean"]),
        "without_genes": max(("cox_clinical", "fusion_without_genes"), key=lambda k: s[k]["c_index"]["mean"]),
    }
    log(f"selected: {selected}")
    cox, train_lp = {}, {}
    from specialists.clinical.survival import fit_ridge_cox

    for name, (x, names) in feature_sets(d).items():
        alpha = choose_alpha(x, d.time, d.event, seed)
        cox[name] = fit_ridge_cox(x, d.time, d.event, names, alpha)
        train_lp[name] = cox[name].linear_predictor(x).tolist()
    arrays = {"clinical": d.clinical, "size": d.size, "genes": d.genes}
    ckpt = fit_fusion(arrays, d.time, d.event, FusionConfig(seed=seed))
    pred = FusionPredictor(ckpt)
    baseline = {}
    for size_on in (0, 1):
        for genes_on in (0, 1):
            lp, _ = pred.predict({"clinical": d.clinical, "size": d.size if size_on else None,
                                  "genes": d.genes if genes_on else None})
            bt, bh = breslow_baseline(lp, d.time, d.event)
            baseline[f"size{size_on}_genes{genes_on}"] = (bt.tolist(), bh.tolist(), lp.tolist())
    train_lp["fusion"] = baseline["size1_genes1"][2]
    train_lp["fusion_without_genes"] = baseline["size1_genes0"][2]
    torch.save({**ckpt, "baseline": baseline}, out / "fusion_breast.pt")
    cv_summary = {k: {m: v[m] for m in ("c_index", "auc_5y", "brier_5y")} for k, v in s.items()}
    (out / "risk_breast.json").write_text(json.dumps({
        "cox": {k: m.to_dict() for k, m in cox.items()}, "probes": d.probes, "train_log_hazards": train_lp,
        "meta": {"selected": selected, "cv_summary": cv_summary, "data_sha256": d.sha256, "seed": seed},
    }))
    return {"data_sha256": d.sha256, "selected": selected, "cv": cv["summary"], "cv_seconds": cv["seconds"],
            "n_splits": 5, "n_repeats": repeats, "alphas": {k: m.meta["alpha"] for k, m in cox.items()},
            "fold_metrics": cv["folds"]}


def train_treatment(out: Path, n_boot: int, seed: int, log) -> dict:
    """Average effect, interaction Cox vs forest T-learner, bootstrap refits; save the Cox model."""
    from specialists.clinical.data import load_gbsg2_arrays
    from specialists.clinical.treatment import fit_interaction_cox
    from specialists.clinical.treatment_train import (
        average_effect,
        bootstrap_refits,
        cross_validate_benefit,
        implied_average_hr,
        interaction_test,
        mean_individual_hr,
    )

    d = load_gbsg2_arrays()
    avg = average_effect(d)
    log(f"average effect: HR {avg['hazard_ratio']:.3f} {avg['ci95']}")
    t0 = time.perf_counter()
    comp = cross_validate_benefit(d, seed=seed, log=log)
    model = fit_interaction_cox(d.x, d.treated, d.time, d.event, comp["alpha"])
    boots = bootstrap_refits(d, comp["alpha"], n_boot, seed)
    implied = implied_average_hr(d, model)
    mean_hr = mean_individual_hr(d, model)
    boot_hr = [mean_individual_hr(d, b) for b in boots]
    lr = interaction_test(d)
    log(f"interaction Cox alpha {comp['alpha']}: mean individual HR {mean_hr:.3f}, implied marginal HR "
        f"{implied:.3f}; interaction LR test p = {lr['p']:.3f}")
    meta = {"average_effect": avg, "implied_marginal_hr_5y": implied, "mean_individual_hr": mean_hr,
            "mean_individual_hr_ci95": [float(v) for v in np.quantile(boot_hr, [0.025, 0.975])],
            "interaction_lr_test": lr, "comparison": comp, "data_sha256": d.sha256, "seed": seed, "n_bootstrap": n_boot}
    (out / "treatment_gbsg2.json").write_text(json.dumps({
        "model": model.to_dict(), "bootstrap": [_compact(b) for b in boots], "meta": meta}))
    return {**meta, "seconds": time.perf_counter() - t0}


def _compact(model) -> dict:
    """Keep only the baseline hazard at 5 years of a bootstrap refit (that is all prediction needs)."""
    from specialists.clinical.survival import FIVE_YEARS_DAYS, cumhaz_at

    d = model.to_dict()
    d["base_times"], d["base_cumhaz"] = [0.0], [cumhaz_at(model.base_times, model.base_cumhaz, FIVE_YEARS_DAYS)]
    return d


def main(argv: list[str] | None = None) -> int:
    """Train the clinical models; returns 0 on success."""
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="repeats of 5-fold CV for the risk models")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap refits for the treatment-benefit intervals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:7.1f}s] {msg}", flush=True)

    log(f"versions: {_versions()}")
    risk = train_risk(a.out, a.repeats, a.seed, log)
    treat = train_treatment(a.out, a.bootstrap, a.seed, log)
    metrics = {"versions": _versions(), "seed": a.seed, "command": "python -m specialists.clinical.train "
               f"--repeats {a.repeats} --bootstrap {a.bootstrap} --seed {a.seed}", "risk": risk, "treatment": treat,
               "wall_seconds": time.perf_counter() - t0}
    (a.out / "metrics_clinical.json").write_text(json.dumps(metrics, indent=1))
    log("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
