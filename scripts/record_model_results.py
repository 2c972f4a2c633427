"""Record each shipped model's held-out figures as a committed result file (``evals/results/model.*.json``).

A model's held-out figures are measured once, by its training script, and kept next to its
weights (model card metrics). This script copies them — unchanged — into result files with
provenance (the training command, seed and libraries; the SHA-256 of the metrics file and the
weights), so the README's model table is rendered from ``evals/results/`` like every other
table (``scripts/render_readme.py``). The tests recompute these figures on fixed slices of the
held-out data and compare them with the stored values (``tests/molecules/test_learned.py`` and
others).

Usage: ``python scripts/record_model_results.py [--only NAME,...]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evals.results import write_result  # noqa: E402

MOL = ROOT / "specialists" / "molecules" / "weights"
CLIN = ROOT / "specialists" / "clinical" / "weights"
BUNDLES = ROOT / "specialists" / "imaging" / "bundles"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


Record = tuple[dict[str, Any], int, str, dict[str, Any]]  # metrics, n, notes, extra


def imaging(bundle: str) -> Callable[[], Record]:
    def read() -> Record:
        meta_path = BUNDLES / bundle / "metadata.json"
        meta = json.loads(meta_path.read_text())
        m = dict(meta["held_out_metrics"])
        m.pop("missed_detail", None)
        n = m["n_volumes"] if "n_volumes" in m else m["all"]["n"]
        weights = sorted((BUNDLES / bundle / "models").glob("*"))
        extra = {"source": _rel(meta_path), "source_sha256": _sha(meta_path), "bundle_version": meta.get("version"),
                 "trained": {"command": meta.get("training_command"), "seed": meta.get("seed"),
                             "provenance": meta.get("provenance")},
                 "weights_sha256": {w.name: _sha(w) for w in weights if w.is_file()}}
        return m, n, f"held-out metrics of the {bundle} bundle (synthetic test phantoms), from its metadata.json", extra
    return read


def clinical_risk() -> Record:
    from specialists.clinical.data import load_breast_cancer_arrays

    path = CLIN / "metrics_clinical.json"
    m = json.loads(path.read_text())
    risk = m["risk"]
    metrics = {name: {k: v for k, v in s.items() if k in ("c_index", "auc_5y", "brier_5y")}
               for name, s in risk["cv"].items()}
    metrics.update(n_splits=risk["n_splits"], n_repeats=risk["n_repeats"], selected=risk["selected"])
    extra = {"source": _rel(path), "source_sha256": _sha(path), "data_sha256": risk["data_sha256"],
             "trained": {"command": m["command"], "seed": m["seed"], "versions": m["versions"]}}
    n = len(load_breast_cancer_arrays().time)
    return metrics, n, f"{risk['n_splits']}-fold cross-validation × {risk['n_repeats']} repeats (out-of-fold C-index)", extra


def treatment_benefit() -> Record:
    from specialists.clinical.data import load_gbsg2_arrays

    path = CLIN / "metrics_clinical.json"
    m = json.loads(path.read_text())
    t = m["treatment"]
    metrics = {**t["average_effect"], "interaction_lr_test": t["interaction_lr_test"]}
    extra = {"source": _rel(path), "source_sha256": _sha(path), "data_sha256": t["data_sha256"],
             "trained": {"command": m["command"], "seed": t["seed"], "versions": m["versions"]}}
    return metrics, len(load_gbsg2_arrays().time), "Cox model with treatment interactions on GBSG2 (all patients)", extra


def prior() -> Record:
    path = MOL / "prior_metrics.json"
    m = json.loads(path.read_text())
    metrics = {k.replace("@", "_at_"): v for k, v in m["metrics"].items()}
    extra = {"source": _rel(path), "source_sha256": _sha(path), "weights_sha256": {"prior_gru.pt": _sha(MOL / "prior_gru.pt")},
             "trained": m.get("train")}
    return metrics, m["metrics"]["n_samples"], "samples of the shipped prior; novelty against the MOSES training set", extra


def properties(name: str) -> Callable[[], Record]:
    def read() -> Record:
        path = MOL / "property_metrics.json"
        r = json.loads(path.read_text())[name]
        metrics = {k: v for k, v in r.items() if k not in ("members_trained", "command", "versions", "date_utc",
                                                          "data_sha256", "split")}
        files = [MOL / f"{name}_gnn.pt", MOL / f"{name}_forest.joblib"]
        extra = {"source": _rel(path), "source_sha256": _sha(path), "split": r["split"], "data_sha256": r["data_sha256"],
                 "trained": {"command": r.get("command"), "seed": r["seed"], "versions": r.get("versions"),
                             "date_utc": r.get("date_utc")},
                 "weights_sha256": {f.name: _sha(f) for f in files if f.is_file()}}
        return metrics, r["n_test"], ("test part of the fixed scaffold split, measured once after every choice was made "
                                      "on the validation part (specialists/molecules/train_properties.py)"), extra
    return read


MODELS: dict[str, Callable[[], Record]] = {
    "model.imaging_seg": imaging("lung_nodule_seg"),
    "model.imaging_cls": imaging("lung_nodule_cls"),
    "model.clinical_risk": clinical_risk,
    "model.treatment_benefit": treatment_benefit,
    "model.prior": prior,
    "model.properties.logs": properties("logs"),
    "model.properties.bbb": properties("bbb"),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", help="comma-separated result names (default: all)")
    p.add_argument("--results-dir", type=Path, help="write here instead of evals/results")
    a = p.parse_args(argv)
    names = a.only.split(",") if a.only else list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        print(f"unknown model result(s) {unknown}; known: {', '.join(MODELS)}", file=sys.stderr)
        return 2
    for name in names:
        try:
            metrics, n, notes, extra = MODELS[name]()
        except (OSError, KeyError, ValueError) as e:
            print(f"{name}: not recorded ({type(e).__name__}: {e})", file=sys.stderr)
            continue
        path = write_result(name, metrics, n=n, kind="model", split="test", notes=notes, extra=extra,
                            directory=a.results_dir)
        print(f"recorded {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
