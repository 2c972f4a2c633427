"""Lesion segmentation: a 2.5-D MONAI UNet run slice-wise with sliding-window inference.

Each axial slice is predicted from itself and neighbouring slices (``slice_offsets`` of the
bundle, in working-volume slices) stacked as channels, which gives the 2-D network enough
through-plane context to tell round nodules from tubular vessels at a fraction of a 3-D
network's CPU cost. Connected components of the thresholded probability are the lesions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from specialists.imaging.measure import Lesion, measure_lesions


def normalise_hu(arr: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Clip HU to ``window`` and map it linearly to [-1, 1] (float32)."""
    lo, hi = window
    return ((np.clip(arr, lo, hi) - lo) / (hi - lo) * 2 - 1).astype(np.float32)


def stack_slices(arr: np.ndarray, offsets: list[int], z: np.ndarray | None = None) -> np.ndarray:
    """Channels of neighbouring slices: ``(len(z), len(offsets), Y, X)``; edges are clamped."""
    z = np.arange(arr.shape[0]) if z is None else np.asarray(z)
    idx = np.clip(z[:, None] + np.asarray(offsets)[None, :], 0, arr.shape[0] - 1)
    return arr[idx]


def predict_probability(net: Any, image: np.ndarray, params: dict[str, Any], device: str = "cpu",
                        chunk: int = 16) -> np.ndarray:
    """Lesion probability for every voxel of a working-spacing HU volume ``(z, y, x)``.

    Slices are processed ``chunk`` at a time so memory stays bounded for large volumes.
    """
    import torch
    from monai.inferers import sliding_window_inference

    norm = normalise_hu(image, tuple(params["hu_window"]))
    offsets = list(params["slice_offsets"])
    # One window per slice when the slice fits in roi_size (sliding windows of a slice that fits
    # would repeat work); larger slices are tiled with overlapping windows.
    roi = tuple(min(int(r), int(np.ceil(d / 16) * 16)) for r, d in zip(params["roi_size"], image.shape[1:], strict=True))
    out = np.zeros(image.shape, np.float32)
    with torch.no_grad():
        for start in range(0, image.shape[0], chunk):
            z = np.arange(start, min(start + chunk, image.shape[0]))
            x = torch.from_numpy(stack_slices(norm, offsets, z)).to(device)
            logits = sliding_window_inference(x, roi, int(params.get("sw_batch_size", 8)), net,
                                              overlap=float(params.get("overlap", 0.25)), mode="gaussian")
            out[z] = torch.sigmoid(logits[:, 0]).cpu().numpy()
    return out


@dataclass
class Segmentation:
    """Lesions found in one working volume, with the label mask and probability map."""

    lesions: list[Lesion]
    labels: np.ndarray  # uint8 (z, y, x), lesion i = label i
    probability: np.ndarray
    warnings: list[str] = field(default_factory=list)
    filtered: int = 0  # candidates the false-positive filter removed


def segment_array(net: Any, image: np.ndarray, spacing: tuple[float, float, float], params: dict[str, Any],
                  device: str = "cpu", z_scale: float = 1.0) -> Segmentation:
    """Segment and measure lesions in a working-spacing HU volume.

    Args:
        net: the segmentation network (from the bundle).
        image: HU volume ``(z, y, x)`` resampled to the bundle's working spacing.
        spacing: its voxel size in mm.
        params: the bundle's ``galen`` parameters.
        device: ``cpu`` or ``cuda``.
        z_scale: working-slice → input-slice factor, to report slice numbers of the input.
    """
    from specialists.imaging.fpr import filter_mask

    prob = predict_probability(net, image, params, device)
    mask, filtered = filter_mask(prob, image, spacing, params)
    lesions, labels = measure_lesions(mask, image, spacing, 0.0, z_scale)
    return Segmentation(lesions=lesions, labels=labels, probability=prob, filtered=filtered)
