"""False-positive reduction: a small logistic model over each segmented component's 3-D shape.

The 2.5-D network sees ±5 mm of context, so a short piece of vessel can look like a small
nodule to it. In 3-D the difference is plain: a vessel piece is elongated and continues into
bright tissue beyond the component; a nodule is compact and isolated (or touches a vessel at one
point). Each component gets a few such features and a probability of being a true lesion; those
below the bundle's ``fp_filter.cut`` are dropped. The coefficients live in the bundle config
(``galen.fp_filter``), fitted by the training script on training phantoms and cut on validation
phantoms so that no nodule that was found is lost.

The filter judges only candidates under ``EXEMPT_FROM_MM``: a candidate whose mean axial diameter
(measured as :mod:`specialists.imaging.measure` reports it) and whose volume-equivalent sphere are
both at least that (6 mm, the size from which Fleischner 2017 recommends follow-up) is never taken
away by a shape model. The volume condition keeps thin vessel pieces lying in the axial plane
(12 mm long, 1 mm thick) under the filter.

``log_dense_ratio`` sees what ``log_bright_ratio`` misses: a vessel under a millimetre reads about
-600 HU (partial volume), below the soft-tissue threshold, yet it continues beyond the candidate
as faint dense tissue; a nodule does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

FEATURES = ["log_volume_mm3", "max_prob", "mean_prob", "elongation", "log_bright_ratio", "mean_hu_scaled",
            "z_over_xy", "log_dense_ratio"]
#: Bundles fitted before ``log_dense_ratio`` existed list the first seven; each model names its own.
_LEGACY_FEATURES = FEATURES[:7]
_STRUCTURE = ndimage.generate_binary_structure(3, 2)
#: Faint dense tissue for ``log_dense_ratio``: denser than aerated lung (smoothed), as a thin vessel is.
DENSE_HU = -750.0
EXEMPT_FROM_MM = 6.0
#: ... with at least this share of the 6 mm sphere's volume (allowing for lobulation and under-segmentation).
EXEMPT_VOLUME_FRACTION = 0.6


def judged(labels: np.ndarray, ids: list[int], spacing: tuple[float, float, float]) -> list[int]:
    """The ids the filter judges: candidates under :data:`EXEMPT_FROM_MM` by mean axial diameter or by volume."""
    from specialists.imaging.measure import axial_diameters

    objects = ndimage.find_objects(labels)
    out = []
    for i in ids:
        comp = labels[objects[i - 1]] == i
        zk = int(np.argmax(comp.sum(axis=(1, 2))))
        long_mm, short_mm = axial_diameters(comp[zk], (spacing[1], spacing[2]))
        d_eq = (6 * comp.sum() * float(np.prod(spacing)) / np.pi) ** (1 / 3)
        if (long_mm + short_mm) / 2 < EXEMPT_FROM_MM or d_eq < EXEMPT_FROM_MM * EXEMPT_VOLUME_FRACTION ** (1 / 3):
            out.append(i)
    return out


def components(prob: np.ndarray, threshold: float, min_volume_mm3: float,
               spacing: tuple[float, float, float]) -> tuple[np.ndarray, list[int]]:
    """Labels of ``prob >= threshold`` (18-connected) and the ids of those of at least ``min_volume_mm3``."""
    labels, n = ndimage.label(prob >= threshold, structure=_STRUCTURE)
    sizes = np.bincount(labels.ravel(), minlength=n + 1) * float(np.prod(spacing))
    return labels, [i for i in range(1, n + 1) if sizes[i] >= min_volume_mm3]


def component_features(labels: np.ndarray, ids: list[int], prob: np.ndarray, image: np.ndarray,
                       spacing: tuple[float, float, float], names: list[str] | None = None) -> np.ndarray:
    """One row per component id of the features ``names`` (all of :data:`FEATURES` when None)."""
    names = list(names or FEATURES)
    sp = np.asarray(spacing, float)
    pad = np.ceil(6.0 / sp).astype(int)  # look 6 mm around each component
    objects = ndimage.find_objects(labels)
    rows = []
    for i in ids:
        sl = objects[i - 1]
        box = tuple(slice(max(s.start - p, 0), min(s.stop + p, dim)) for s, p, dim in zip(sl, pad, labels.shape, strict=True))
        comp = labels[box] == i
        pts = np.argwhere(comp) * sp
        vol = comp.sum() * float(np.prod(sp))
        cov = np.cov(pts, rowvar=False, bias=True) + np.diag(sp**2 / 12) if len(pts) > 1 else np.diag(sp**2 / 12)
        ev = np.sort(np.linalg.eigvalsh(cov))[::-1]
        elong = float(np.sqrt(max(ev[0], 1e-6) / max(ev[-1], 1e-6)))
        bright = ndimage.gaussian_filter(image[box], 0.7) > -500
        lab, _ = ndimage.label(bright | comp, structure=_STRUCTURE)
        touching = np.unique(lab[comp])
        attached = np.isin(lab, touching[touching > 0]).sum() * float(np.prod(sp))
        dense = ndimage.gaussian_filter(image[box], 0.7) > DENSE_HU
        lab_d, _ = ndimage.label(dense | comp, structure=_STRUCTURE)
        touching_d = np.unique(lab_d[comp])
        attached_d = np.isin(lab_d, touching_d[touching_d > 0]).sum() * float(np.prod(sp))
        extent = pts.max(0) - pts.min(0) + sp
        p = prob[box][comp]
        row = {"log_volume_mm3": np.log(vol), "max_prob": float(p.max()), "mean_prob": float(p.mean()),
               "elongation": elong, "log_bright_ratio": np.log(max(attached, vol) / vol),
               "mean_hu_scaled": float(image[box][comp].mean()) / 500.0,
               "z_over_xy": extent[0] / max((extent[1] + extent[2]) / 2, 1e-6),
               "log_dense_ratio": np.log(max(attached_d, vol) / vol)}
        rows.append([row[f] for f in names])
    return np.asarray(rows, float).reshape(len(ids), len(names))


def lesion_probability(features: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """P(true lesion) of each row under the logistic model ``params`` (``mean``, ``scale``, ``coef``, ``intercept``)."""
    z = (features - np.asarray(params["mean"])) / np.asarray(params["scale"])
    return 1.0 / (1.0 + np.exp(-(z @ np.asarray(params["coef"]) + float(params["intercept"]))))


def apply_filter(labels: np.ndarray, ids: list[int], prob: np.ndarray, image: np.ndarray,
                 spacing: tuple[float, float, float], params: dict[str, Any]) -> tuple[list[int], int]:
    """The candidate ids the bundle's filter keeps (all when it has none) and how many it removed.

    Candidates of :data:`EXEMPT_FROM_MM` or more are always kept.
    """
    fp = params.get("fp_filter")
    if not fp or not ids:
        return list(ids), 0
    small = judged(labels, ids, spacing)
    if not small:
        return list(ids), 0
    names = list(fp.get("features") or _LEGACY_FEATURES)
    keep_p = lesion_probability(component_features(labels, small, prob, image, spacing, names), fp)
    dropped = {i for i, q in zip(small, keep_p, strict=True) if q < float(fp["cut"])}
    return [i for i in ids if i not in dropped], len(dropped)


def filter_mask(prob: np.ndarray, image: np.ndarray, spacing: tuple[float, float, float],
                params: dict[str, Any]) -> tuple[np.ndarray, int]:
    """The lesion mask after thresholding, the smallest-volume rule and, when configured, the filter.

    Returns:
        (mask, number of components the filter removed).
    """
    labels, ids = components(prob, float(params.get("threshold", 0.5)), float(params.get("min_volume_mm3", 0.0)), spacing)
    ids, removed = apply_filter(labels, ids, prob, image, spacing, params)
    return np.isin(labels, ids) if ids else np.zeros(prob.shape, bool), removed


def fit(features: np.ndarray, is_lesion: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Fit the logistic model (balanced classes) on standardised features."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = features.mean(0), features.std(0) + 1e-9
    model = LogisticRegression(C=1.0, class_weight="balanced", random_state=seed, max_iter=1000)
    model.fit((features - mean) / scale, is_lesion.astype(int))
    return {"features": FEATURES, "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
            "coef": model.coef_[0].round(6).tolist(), "intercept": round(float(model.intercept_[0]), 6)}
