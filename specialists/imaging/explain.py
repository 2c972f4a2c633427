"""Grad-CAM for the lesion classifier: the map, how much of it lies on the lesion, and its picture.

Grad-CAM (Selvaraju et al., ICCV 2017) weights each feature map of a convolutional layer by the
mean gradient of the class score with respect to it and keeps the positive part of the sum: it
shows where features that raised the score of the predicted class were found. Here the map is
kept unnormalised (no subtraction of its minimum) so that "the share of positive attribution
inside the lesion" means what it says; pictures scale it by its maximum.

What the map does not show is said with it (:data:`MEANING`): it is not a segmentation, it does
not say why the features matter, and it does not prove the prediction is right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

#: Said next to every Grad-CAM picture and in the tool's facts.
MEANING = ("The heat map (Grad-CAM) shows where the classifier found the image features that raised its score "
           "for the predicted type: red is the strongest contribution, uncoloured none. It shows where the model "
           "looked, not why; it is not an outline of the lesion and does not prove the type is right.")
#: Said instead of a share when the map is zero everywhere.
EMPTY = "The map is empty: at this layer no image region added positive weight to the predicted type's score."


def gradcam(net: Any, patch: np.ndarray, class_idx: int, layer: str, device: str = "cpu") -> np.ndarray:
    """Grad-CAM of ``class_idx`` for one patch ``(C, P, P)``: a ``(P, P)`` map ≥ 0, not normalised.

    The layer's activations are weighted by the spatial mean of the score's gradient, summed over
    channels, passed through ReLU and upsampled bilinearly to the patch size.
    """
    import torch
    from torch.nn import functional as F

    modules = dict(net.named_modules())
    if layer not in modules:
        raise KeyError(f"the network has no layer {layer!r} for Grad-CAM")
    store: dict[str, Any] = {}
    handle = modules[layer].register_forward_hook(lambda _m, _i, out: store.__setitem__("a", out))
    was_training = net.training
    net.eval()
    try:
        x = torch.from_numpy(np.ascontiguousarray(patch[None], dtype=np.float32)).to(device)
        with torch.enable_grad():
            score = net(x)[0, class_idx]
            act = store["a"]
            (grad,) = torch.autograd.grad(score, act)
        weights = grad.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * act).sum(1, keepdim=True))
        cam = F.interpolate(cam, size=patch.shape[-2:], mode="bilinear", align_corners=False)
    finally:
        handle.remove()
        net.train(was_training)
    return cam[0, 0].detach().cpu().numpy().astype(np.float32)


def patch_grid(center: tuple[float, float, float], long_axis_mm: float, params: dict[str, Any],
               spacing: tuple[float, float, float], scale_jitter: float = 1.0) -> tuple[np.ndarray, np.ndarray, float]:
    """Voxel coordinates ``(gy, gx)`` of the patch's pixels on its slice, and the pixel size in mm.

    The geometry of :func:`specialists.imaging.classify.extract_patch`, which uses it.
    """
    size = int(params["patch_size"])
    side_mm = max(float(params["patch_scale"]) * long_axis_mm, float(params["min_patch_mm"])) * scale_jitter
    ty = center[1] + (np.arange(size) - (size - 1) / 2) * side_mm / size / spacing[1]
    tx = center[2] + (np.arange(size) - (size - 1) / 2) * side_mm / size / spacing[2]
    gy, gx = np.meshgrid(ty, tx, indexing="ij")
    return gy, gx, side_mm / size


def lesion_on_patch(mask: np.ndarray, center: tuple[float, float, float], long_axis_mm: float,
                    params: dict[str, Any], spacing: tuple[float, float, float], dilate_mm: float = 2.0,
                    scale_jitter: float = 1.0, label: int | None = None) -> np.ndarray:
    """The lesion mask, dilated in 3-D by ``dilate_mm``, sampled on the patch's centre slice (bool ``P × P``).

    ``mask`` is a boolean mask, or a label volume with ``label`` the lesion's label.
    """
    z = int(np.clip(round(center[0]), 0, mask.shape[0] - 1))
    sp = np.asarray(spacing, float)
    pad = np.ceil(dilate_mm / sp).astype(int) + 1
    zs = slice(max(z - pad[0], 0), min(z + pad[0] + 1, mask.shape[0]))
    near = mask[zs] == label if label is not None else mask[zs] > 0
    if dilate_mm > 0 and near.any():
        near = ndimage.distance_transform_edt(~near, sampling=spacing) <= dilate_mm
    plane = near[z - zs.start].astype(np.float32)
    gy, gx, _ = patch_grid(center, long_axis_mm, params, spacing, scale_jitter)
    return ndimage.map_coordinates(plane, [gy, gx], order=0, mode="constant", cval=0.0) > 0.5


def share_inside(cam: np.ndarray, region: np.ndarray) -> float:
    """Share of the map's positive mass that lies inside ``region`` (NaN when the map is all zero)."""
    pos = np.clip(cam, 0, None)
    total = float(pos.sum())
    return float(pos[region].sum() / total) if total > 0 else float("nan")


def save_png(patch: np.ndarray, cam: np.ndarray, path: Path, title: str, outline: np.ndarray | None = None,
             pixel_mm: float | None = None, share: float | None = None) -> Path:
    """The patch (lung window) with the map over it, a colour bar and the sentence of :data:`MEANING`.

    Args:
        patch: the classifier's input ``(C, P, P)`` (normalised HU; the centre channel is shown).
        cam: the Grad-CAM map ``(P, P)`` (scaled by its maximum for display).
        path: where to write the PNG.
        title: one line above the picture (lesion, predicted type, probability).
        outline: the segmented lesion on the patch, drawn as a contour.
        pixel_mm: patch pixel size, for a 5 mm scale bar.
        share: the share of the map inside the lesion outline widened by 2 mm, stated under it.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    centre = patch[len(patch) // 2]
    hu = (np.clip(centre, -1, 1) + 1) / 2 * 1400 - 1000  # the network's window is -1000..400 HU
    grey = np.clip((hu + 1350) / 1500, 0, 1)  # lung window (level -600, width 1500)
    peak = float(cam.max())
    heat = cam / peak if peak > 0 else np.zeros_like(cam)
    # Radiological display: anterior up, the patient's right on the left of the picture.
    flip = (slice(None, None, -1), slice(None, None, -1))
    fig, ax = plt.subplots(figsize=(4.6, 5.0), dpi=110)
    ax.imshow(grey[flip], cmap="gray", vmin=0, vmax=1, interpolation="bilinear")
    from matplotlib import colormaps

    # Where the map is zero the CT shows through untinted; weak contributions are faint.
    rgba = colormaps["jet"](heat)
    rgba[..., 3] = 0.6 * np.clip(heat / 0.2, 0, 1)
    ax.imshow(rgba[flip], interpolation="bilinear")
    if outline is not None and outline.any():
        ax.contour(outline[flip].astype(float), levels=[0.5], colors="white", linewidths=0.8)
    if pixel_mm:
        n = 5.0 / pixel_mm
        ax.plot([2, 2 + n], [cam.shape[0] - 3] * 2, color="yellow", lw=2)
        ax.text(2, cam.shape[0] - 5, "5 mm", color="yellow", fontsize=7)
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    # The bar shows the colour scale itself (opaque), not the blended overlay.
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap="jet"), ax=ax, fraction=0.046, pad=0.03)
    bar.set_label("Grad-CAM contribution (0 = none, uncoloured; 1 = strongest)", fontsize=7)
    bar.ax.tick_params(labelsize=6)
    words = MEANING
    if peak <= 0:
        words = EMPTY + " " + words
    elif share is not None and np.isfinite(share):
        words = f"{share:.0%} of the map lies within 2 mm of the outlined lesion. " + words
    fig.text(0.03, 0.01, _wrap(words, 78), fontsize=6, va="bottom", ha="left")
    fig.subplots_adjust(left=0.02, right=0.9, top=0.93, bottom=0.2)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def attribution_on_phantoms(net: Any, params: dict[str, Any], seeds: range, phantom=None,
                            dilate_mm: float = 2.0) -> dict[str, Any]:
    """Share of Grad-CAM inside each planted lesion (widened by ``dilate_mm``) on phantoms, for the predicted type.

    Patches are centred as the pipeline centres them (the lesion's slice of largest extent, its
    in-plane centroid, its long axis), from the exact phantom masks.

    Args:
        net, params: the classifier and its bundle parameters.
        seeds: phantom seeds.
        phantom: ``seed -> Phantom``; the classifier's test phantoms when None.
    """
    from specialists.imaging.classify import extract_patch, predict_logits
    from specialists.imaging.measure import axial_diameters

    if phantom is None:
        from specialists.imaging.phantom_sets import cls_phantom as phantom
    layer = str(params.get("gradcam_layer", "features.3"))
    n_types = len(params["type_labels"])
    shares, sizes, kinds = [], [], []
    for s in seeds:
        ph = phantom(s)
        for nod in ph.nodules:
            comp = ph.mask == nod.label
            zk = int(np.argmax(comp.sum(axis=(1, 2))))
            long_mm, _ = axial_diameters(comp[zk], ph.spacing[1:])
            _, cy, cx = ndimage.center_of_mass(comp)
            c = (float(zk), float(cy), float(cx))
            patch = extract_patch(ph.image, ph.spacing, c, long_mm, params)
            cls = int(np.argmax(predict_logits(net, patch[None])[0, :n_types]))
            cam = gradcam(net, patch, cls, layer)
            region = lesion_on_patch(comp, c, long_mm, params, ph.spacing, dilate_mm)
            shares.append(share_inside(cam, region))
            sizes.append(nod.diameter_mm)
            kinds.append(nod.kind)
    sh, sz = np.asarray(shares), np.asarray(sizes)
    ok = np.isfinite(sh)
    empty_by_type = {k: int((~ok & (np.asarray(kinds) == k)).sum()) for k in sorted(set(kinds))}
    by_kind = {k: round(float(np.nanmean(sh[np.asarray(kinds) == k])), 3) for k in sorted(set(kinds))}
    return {"n_lesions": int(len(sh)), "share_mean": round(float(np.nanmean(sh)), 3),
            "share_median": round(float(np.nanmedian(sh)), 3),
            "share_ge_6mm_mean": round(float(np.nanmean(sh[sz >= 6])), 3) if (sz >= 6).any() else None,
            "share_lt_6mm_mean": round(float(np.nanmean(sh[sz < 6])), 3) if (sz < 6).any() else None,
            "share_mean_empty_as_zero": round(float(np.where(ok, sh, 0.0).mean()), 3),
            "share_by_type": by_kind, "empty_maps": int((~ok).sum()), "empty_maps_by_true_type": empty_by_type,
            "empty_note": "an empty map (no positive contribution anywhere) has no share; share_mean leaves it out, "
                          "share_mean_empty_as_zero counts it as 0",
            "dilate_mm": dilate_mm, "layer": layer,
            "seeds": [seeds.start, seeds.stop]}
