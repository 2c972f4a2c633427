"""Distant-metastasis risk for early breast cancer from clinical facts and gene expression.

Loads the models ``train.py`` shipped for ``load_breast_cancer`` (ridge Cox models as JSON and
the gated fusion network as a small ``.pt``), picks the one cross-validation selected for the
modalities at hand, and returns the 5-year risk with per-feature attributions (each feature's
share of the log-hazard relative to the average training patient).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from galen.errors import InvalidInput, ModelUnavailable, UnreadableFile
from specialists.clinical.survival import FIVE_YEARS_DAYS, CoxLinear, cumhaz_at

VERSION = "breast-dm-risk-1.0"
WEIGHT_DIR = Path(__file__).parent / "weights"
RISK_WEIGHTS = WEIGHT_DIR / "risk_breast.json"
FUSION_WEIGHTS = WEIGHT_DIR / "fusion_breast.pt"
#: Above this share of probes missing, the expression profile is not used at all.
MAX_MISSING_PROBE_SHARE = 0.25


@dataclass(frozen=True)
class ClinicalFacts:
    age: float
    er_positive: bool
    grade: int
    size_cm: float | None = None
    size_source: str = "question"

    def validate(self) -> None:
        if not 18 <= self.age <= 110:
            raise InvalidInput(f"Age {self.age:g} years is outside 18-110.", hint="Give the age in years.")
        if self.grade not in (1, 2, 3):
            raise InvalidInput(f"Tumour grade {self.grade} must be 1, 2 or 3.")
        if self.size_cm is not None and not 0.05 <= self.size_cm <= 20:
            raise InvalidInput(f"Tumour size {self.size_cm * 10:g} mm is outside 0.5-200 mm.",
                               hint="Give the tumour size in mm or cm.")


def canonical_probe(name: str) -> str:
    """Probe ids as in the data set (``X200726_at``); accepts the Affymetrix form ``200726_at`` too."""
    s = str(name).strip().strip('"')
    return s if s.upper().startswith("X") else "X" + s


def _as_float(value: object, where: str) -> float:
    try:
        v = float(str(value).strip())
    except ValueError as e:
        raise InvalidInput(f"{where}: expression value {value!r} is not a number.") from e
    if not math.isfinite(v):
        raise InvalidInput(f"{where}: expression value {value!r} is not a finite number.")
    return v


def read_expression(path: Path, kind: str) -> dict[str, float]:
    """Probe → value from a CSV (``probe,value`` rows or one wide row with probe ids as header) or JSON.

    Raises:
        UnreadableFile: the file is missing, empty or not valid CSV/JSON.
        InvalidInput: a value is not a number.
    """
    name = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise UnreadableFile(f"The expression file {name} cannot be read ({e}).") from e
    if not text.strip():
        raise UnreadableFile(f"The expression file {name} is empty.")
    if kind == "json" or name.lower().endswith(".json"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise UnreadableFile(f"The expression file {name} is not valid JSON ({e.msg}, line {e.lineno}).",
                                 hint="Send an object mapping probe ids to values.") from e
        if isinstance(obj, dict) and isinstance(obj.get("expression"), dict):
            obj = obj["expression"]
        if isinstance(obj, list):
            try:
                obj = {r["probe"]: r["value"] for r in obj}
            except (TypeError, KeyError) as e:
                raise UnreadableFile(f"{name}: a list must hold objects with 'probe' and 'value'.") from e
        if not isinstance(obj, dict) or not obj:
            raise UnreadableFile(f"{name} holds no probe values.", hint="Send an object mapping probe ids to values.")
        return {canonical_probe(k): _as_float(v, f"{name}, probe {k}") for k, v in obj.items()}
    try:
        rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    except csv.Error as e:
        raise UnreadableFile(f"The expression file {name} is not valid CSV ({e}).") from e
    if all(len(r) == 2 for r in rows):  # long format: probe,value (optional header)
        if rows and rows[0][1].strip().lower() in ("value", "expression", "level", "intensity"):
            rows = rows[1:]
        return {canonical_probe(p): _as_float(v, f"{name}, probe {p}") for p, v in rows}
    if len(rows) == 2 and len(rows[0]) == len(rows[1]):  # wide format: header of probe ids, one row of values
        return {canonical_probe(p): _as_float(v, f"{name}, probe {p}") for p, v in zip(rows[0], rows[1], strict=True)
                if p.strip()}
    raise UnreadableFile(
        f"The expression file {name} has neither two columns (probe,value) nor one header row and one value row.",
        hint="Send one probe per line as 'probe,value', or JSON {\"probe\": value}.")


@lru_cache(maxsize=1)
def load_models() -> dict:
    """Cox models, the fusion network and the selection made in training (cached)."""
    if not RISK_WEIGHTS.exists():
        raise ModelUnavailable(f"Risk-model weights are missing ({RISK_WEIGHTS}).", hint="Run `galen train clinical`.")
    d = json.loads(RISK_WEIGHTS.read_text())
    out = {"cox": {k: CoxLinear.from_dict(v) for k, v in d["cox"].items()}, "meta": d["meta"],
           "probes": d["probes"], "train_log_hazards": {k: np.asarray(v) for k, v in d["train_log_hazards"].items()}}
    if FUSION_WEIGHTS.exists():
        import torch

        from specialists.clinical.fusion import FusionPredictor

        ckpt = torch.load(FUSION_WEIGHTS, map_location="cpu", weights_only=True)  # tensors and plain data only
        out["fusion"] = FusionPredictor(ckpt)
        out["fusion_baseline"] = ckpt["baseline"]
    return out


def _fusion_predict(models: dict, clin: np.ndarray, size: np.ndarray | None, genes: np.ndarray | None, key: str):
    pred = models["fusion"]
    arrays = {"clinical": clin[None, :], "size": None if size is None else size[None, :],
              "genes": None if genes is None else genes[None, :]}
    lp, w = pred.predict(arrays)
    bt, bh, train_lp = (np.asarray(v) for v in models["fusion_baseline"][key])
    risk5 = 1 - math.exp(-cumhaz_at(bt, bh, FIVE_YEARS_DAYS) * math.exp(lp[0]))
    names = ["age", "er_positive", "grade"] + (["size_cm"] if size is not None else []) + \
            (list(models["probes"]) if genes is not None else [])
    values = np.concatenate([clin] + ([size] if size is not None else []) + ([genes] if genes is not None else []))
    means = np.concatenate([pred.stats["clinical"][0]] + ([pred.stats["size"][0]] if size is not None else [])
                           + ([pred.stats["genes"][0]] if genes is not None else []))
    # occlusion, batched: row j has feature j replaced by its training mean
    perturbed = np.tile(values, (len(values), 1))
    perturbed[np.arange(len(values)), np.arange(len(values))] = means
    k = len(perturbed)
    lp_occ, _ = pred.predict({"clinical": perturbed[:, :3],
                              "size": perturbed[:, 3:4] if size is not None else None,
                              "genes": perturbed[:, -len(genes):] if genes is not None else None})
    contrib = [float(lp[0] - lp_occ[j]) for j in range(k)]
    weights = dict(zip(pred.dims, (float(x) for x in w[0]), strict=True))
    return float(lp[0]), risk5, names, values, np.asarray(contrib), weights, train_lp


def predict_risk(facts: ClinicalFacts, expression: dict[str, float] | None = None, top_k: int = 8) -> dict:
    """5-year distant-metastasis risk with attributions.

    Args:
        facts: age, ER status, grade and (optionally) tumour size in cm.
        expression: probe id → expression value (log scale, as in the data set), or None.
        top_k: how many attributions to return, largest absolute share first.

    Raises:
        InvalidInput: out-of-range facts, or an expression profile with none of the model's probes.
        ModelUnavailable: weights not trained.
    """
    facts.validate()
    models = load_models()
    probes: list[str] = models["probes"]
    warnings: list[str] = []
    genes = None
    missing: list[str] = []
    unknown: list[str] = []
    if expression is not None:
        unknown = sorted(p for p in expression if p not in set(probes))
        missing = [p for p in probes if p not in expression]
        if len(missing) == len(probes):
            raise InvalidInput("None of the expression file's probe ids is one of the model's 76 probes.",
                               hint="Use the Affymetrix HG-U133A ids of the data set, e.g. X200726_at or 200726_at.")
        if len(missing) / len(probes) > MAX_MISSING_PROBE_SHARE:
            warnings.append(f"{len(missing)} of {len(probes)} probes are missing; the expression profile was not used.")
        else:
            gene_means = models["cox"]["cox_concat"].mean[4:]
            genes = np.array([expression.get(p, gene_means[i]) for i, p in enumerate(probes)])
            if missing:
                warnings.append(f"{len(missing)} of {len(probes)} probes are missing and were set to the cohort mean.")
        if unknown:
            warnings.append(f"{len(unknown)} probe ids in the file are not used by the model and were ignored.")
    size_known = facts.size_cm is not None
    clin = np.array([facts.age, 1.0 if facts.er_positive else 0.0, float(facts.grade)])
    sel = models["meta"]["selected"]
    key = sel["with_genes"] if genes is not None else sel["without_genes"]
    if key.startswith("fusion") and "fusion" in models:
        fkey = f"size{int(size_known)}_genes{int(genes is not None)}"
        lp, risk5, names, values, contrib, weights, ref = _fusion_predict(
            models, clin, np.array([facts.size_cm]) if size_known else None, genes, fkey)
    else:
        cox: CoxLinear = models["cox"][key]
        size = facts.size_cm if size_known else float(cox.mean[3])
        if not size_known:
            warnings.append(f"Tumour size not given; the cohort mean ({size:.1f} cm) was assumed.")
        x = np.concatenate([clin, [size]] + ([genes] if genes is not None else []))
        lp = float(cox.linear_predictor(x)[0])
        risk5 = float(1 - cox.survival_at(x, FIVE_YEARS_DAYS)[0])
        names, values, contrib = cox.features, x, cox.contributions(x)[0]
        weights = None
        ref = models["train_log_hazards"][key]
    order = np.argsort(-np.abs(contrib))[:top_k]
    attributions = [{"feature": names[j], "value": float(values[j]), "log_hazard_contribution": float(contrib[j]),
                     "direction": "raises" if contrib[j] > 0 else "lowers"} for j in order]
    return {
        "risk_5y": float(risk5),
        "metastasis_free_5y": float(1 - risk5),
        "relative_hazard": float(math.exp(lp - float(np.mean(ref)))),
        "cohort_percentile": float(100 * np.mean(ref < lp)),
        "model_used": key,
        "modalities": {"clinical": True, "size": size_known, "genes": genes is not None},
        "size_source": facts.size_source if size_known else None,
        "attention_weights": weights,
        "attributions": attributions,
        "probes": {"used": len(probes) - len(missing) if genes is not None else 0, "expected": len(probes),
                   "missing": missing, "unknown": unknown},
        "cv_c_index": models["meta"]["cv_summary"][key]["c_index"],
        "model": VERSION,
        "warnings": warnings,
    }
