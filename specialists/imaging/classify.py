"""Lesion characterisation: nodule type and spiculation with calibrated probabilities.

A patch around each lesion is cut on its slice of largest extent (and neighbouring slices as
channels), scaled to the lesion's size so that shape features look alike at every size, and
passed through the classifier bundle. Probabilities are temperature-scaled (Guo et al., ICML
2017) with temperatures fitted on held-out phantoms and stored in the bundle config. Grad-CAM
explanations are in :mod:`specialists.imaging.explain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from specialists.imaging.segment import normalise_hu


def extract_patch(image: np.ndarray, spacing: tuple[float, float, float], center: tuple[float, float, float],
                  long_axis_mm: float, params: dict[str, Any], scale_jitter: float = 1.0) -> np.ndarray:
    """A ``(channels, P, P)`` normalised patch around ``center`` (voxel ``z, y, x``) of a working volume.

    The patch spans ``max(patch_scale × long axis, min_patch_mm)`` millimetres; outside the volume
    it is filled with air.
    """
    from specialists.imaging.explain import patch_grid

    gy, gx, _ = patch_grid(center, long_axis_mm, params, spacing, scale_jitter)
    chans = []
    for off in params["slice_offsets"]:
        z = int(np.clip(round(center[0]) + off, 0, image.shape[0] - 1))
        chans.append(ndimage.map_coordinates(image[z], [gy, gx], order=1, mode="constant", cval=-1000.0))
    return normalise_hu(np.stack(chans), tuple(params["hu_window"]))


def ece(probs: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: confidence vs accuracy over equal-width confidence bins."""
    probs, correct = np.asarray(probs, float), np.asarray(correct, float)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        sel = (probs > lo) & (probs <= hi) if lo > 0 else (probs >= lo) & (probs <= hi)
        if sel.any():
            total += sel.mean() * abs(probs[sel].mean() - correct[sel].mean())
    return float(total)


def calibrated(logits: np.ndarray, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Type probabilities ``(n, n_types)`` and spiculation probabilities ``(n,)`` after temperature scaling."""
    n_types = len(params["type_labels"])
    t_type = float(params.get("type_temperature", 1.0))
    t_spic = float(params.get("spiculation_temperature", 1.0))
    z = logits[:, :n_types] / t_type
    z = np.exp(z - z.max(1, keepdims=True))
    p_type = z / z.sum(1, keepdims=True)
    p_spic = 1 / (1 + np.exp(-logits[:, n_types] / t_spic))
    return p_type, p_spic


def fit_temperature(logits: np.ndarray, labels: np.ndarray, binary: bool) -> float:
    """Temperature minimising the negative log-likelihood on a held-out set (grid search)."""
    best, best_t = np.inf, 1.0
    for t in np.exp(np.linspace(np.log(0.2), np.log(10), 200)):
        if binary:
            p = np.clip(1 / (1 + np.exp(-logits / t)), 1e-7, 1 - 1e-7)
            nll = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
        else:
            z = logits / t
            z = z - z.max(1, keepdims=True)
            nll = -np.mean(z[np.arange(len(labels)), labels] - np.log(np.exp(z).sum(1)))
        if nll < best:
            best, best_t = nll, float(t)
    return best_t


@dataclass(frozen=True)
class LesionCharacter:
    """The characterisation of one lesion."""

    id: int
    type: str
    type_probabilities: dict[str, float]
    spiculated: bool
    spiculation_probability: float

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "type": self.type,
                "type_probabilities": {k: round(v, 3) for k, v in self.type_probabilities.items()},
                "spiculated": self.spiculated, "spiculation_probability": round(self.spiculation_probability, 3)}


def predict_logits(net: Any, patches: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Raw logits for a batch of patches ``(n, C, P, P)``."""
    import torch

    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(patches)).to(device)).cpu().numpy()


def characterise(net: Any, patches: np.ndarray, ids: list[int], params: dict[str, Any],
                 device: str = "cpu") -> list[LesionCharacter]:
    """Calibrated type and spiculation for each patch."""
    if len(patches) == 0:
        return []
    p_type, p_spic = calibrated(predict_logits(net, patches, device), params)
    labels = list(params["type_labels"])
    return [LesionCharacter(id=i, type=labels[int(np.argmax(pt))],
                            type_probabilities={lab: float(v) for lab, v in zip(labels, pt, strict=False)},
                            spiculated=bool(ps >= 0.5), spiculation_probability=float(ps))
            for i, pt, ps in zip(ids, p_type, p_spic, strict=False)]
