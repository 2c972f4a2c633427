"""Lesion segmentation: a 2.5-D MONAI UNet run slice-wise, then candidates screened and measured.

Each axial slice is predicted from itself and neighbouring slices (``slice_offsets`` of the
bundle, in working-volume slices) stacked as channels, which gives the 2-D network enough
through-plane context to tell round nodules from tubular vessels at a fraction of a 3-D
network's CPU cost. Connected components of the thresholded probability are the candidates.

Two paths compute the probability. The reference path (:func:`predict_probability` without a
region) runs PyTorch with sliding windows over every slice, as version 0.1 did. The fast path
runs only the lungs' bounding box plus a margin (:func:`specialists.imaging.lungs.lung_region`;
nothing outside it can be a nodule) through the bundle's engine (ONNX Runtime by default): an
instance-normalised network runs the reference's own windows that meet the box
(:class:`WindowGrid`), so its probabilities there are the reference's; a network without
instance normalisation runs whole cropped slices. Tests check that both paths give the same
lesions. Candidates are then screened by :mod:`specialists.imaging.plausibility`, filtered by
:mod:`specialists.imaging.fpr` and measured by :mod:`specialists.imaging.measure`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from specialists.imaging.lungs import LungRegion
from specialists.imaging.measure import Lesion, measure_lesions
from specialists.imaging.plausibility import SetAside
from specialists.imaging.progress import Stages


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
                        chunk: int = 16, region: LungRegion | None = None, engine: Any = None,
                        whole: bool = False, stages: Stages | None = None, lungs: np.ndarray | None = None,
                        margin_px: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Lesion probability for every voxel of a working-spacing HU volume ``(z, y, x)``.

    With a region and sliding windows, only the reference path's windows (the grid over whole
    slices) that meet the region (and, given ``lungs``, each batch's lung box widened by
    ``margin_px``) are run, and blended as the reference blends them. A network with instance
    normalisation normalises each window by its own content, so windows laid over a crop instead
    would see other statistics and give other probabilities; on the reference grid every voxel
    inside the box gets exactly the windows, weights and logits of the reference path.

    Args:
        net: the bundle's PyTorch network (the reference path, and the engine's fallback).
        image: HU volume at the bundle's working spacing.
        params: the bundle's ``galen`` parameters.
        device: ``cpu`` or ``cuda``.
        chunk: slices per batch, so memory stays bounded for large volumes.
        region: only this box is predicted (probability 0 elsewhere); the whole volume when None.
        engine: ``x (n, C, H, W) -> logits`` (see :mod:`specialists.imaging.engines`); the network
            itself when None.
        whole: run each (cropped) slice in one piece instead of sliding windows; only for
            networks without instance normalisation (:func:`~specialists.imaging.engines.whole_slices`).
        stages: reports progress through the slices.
        lungs: with a region, each batch of slices is cut further to the lungs' in-plane box on
            those slices, widened by ``margin_px`` (apex and base slices hold little lung).
    """
    import torch

    nz, ny, nx = image.shape
    offsets = list(params["slice_offsets"])
    zr, yr, xr = region.slices if region is not None else (slice(0, nz), slice(0, ny), slice(0, nx))
    out = np.zeros(image.shape, np.float32)
    if zr.stop <= zr.start:
        return out
    overlap = float(params.get("overlap", 0.25))
    # The reference's window size, from the whole slice (a crop would change it).
    roi = tuple(min(int(r), int(np.ceil(d / 16) * 16)) for r, d in zip(params["roi_size"], (ny, nx), strict=True))
    grid = None
    if region is not None and not whole:
        if ny >= roi[0] and nx >= roi[1]:
            grid = WindowGrid((ny, nx), roi, overlap)
            yr_in, xr_in = grid.cover(yr, xr)  # the windows meeting the region reach this far
        else:  # a slice smaller than a window is padded by the reference: run it whole, keep the region
            yr_in, xr_in = slice(0, ny), slice(0, nx)
    else:
        yr_in, xr_in = yr, xr
    # Normalise only the slab the region's slices and their neighbours need.
    zlo, zhi = max(zr.start + min(offsets), 0), min(zr.stop + max(offsets), nz)
    norm = normalise_hu(image[zlo:zhi, yr_in, xr_in], tuple(params["hu_window"]))
    run = engine

    def infer(x: np.ndarray) -> np.ndarray:
        if run is not None:
            return run(x)
        with torch.no_grad():
            return net(torch.from_numpy(np.ascontiguousarray(x)).to(device)).cpu().numpy()

    def windows(t: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(infer(t.cpu().numpy())).to(t.device)

    total = zr.stop - zr.start
    with torch.no_grad():
        for start in range(zr.start, zr.stop, chunk):
            z = np.arange(start, min(start + chunk, zr.stop))
            idx = np.clip(z[:, None] + np.asarray(offsets)[None, :], 0, nz - 1) - zlo
            x = norm[idx]
            dst = out[z[0]:z[-1] + 1]
            if grid is not None:
                by, bx = yr, xr
                if lungs is not None and lungs[z[0]:z[-1] + 1, yr, xr].any():
                    cy, cx = _chunk_box(lungs[z[0]:z[-1] + 1, yr, xr], margin_px, multiple=1)
                    by = slice(yr.start + cy.start, yr.start + cy.stop)
                    bx = slice(xr.start + cx.start, xr.start + cx.stop)
                dst[:, by, bx] = grid.predict(x, (yr_in.start, xr_in.start), by, bx, infer)
            elif whole:
                by, bx = slice(0, x.shape[2]), slice(0, x.shape[3])
                if lungs is not None:
                    by, bx = _chunk_box(lungs[z[0]:z[-1] + 1, yr, xr], margin_px)
                    x = x[:, :, by, bx]
                # The network halves the slice three times: pad to a multiple of 16 with air.
                h, w = x.shape[-2:]
                ph, pw = (-h) % 16, (-w) % 16
                xin = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), constant_values=-1.0) if ph or pw else x
                prob = expit(infer(xin)[:, 0, :h, :w]).astype(np.float32)
                dst[:, yr, xr][:, by, bx] = prob
            else:
                from monai.inferers import sliding_window_inference

                logits_t = sliding_window_inference(torch.from_numpy(x).to(device), roi, int(params.get("sw_batch_size", 8)),
                                                    windows, overlap=overlap, mode="gaussian")
                prob = torch.sigmoid(logits_t[:, 0]).cpu().numpy()
                oy, ox = yr_in.start, xr_in.start
                dst[:, yr, xr] = prob[:, yr.start - oy:yr.stop - oy, xr.start - ox:xr.stop - ox]
            if stages is not None:
                stages.within((z[-1] + 1 - zr.start) / total)
    return out


def _chunk_box(lungs: np.ndarray, margin_px: tuple[int, int], multiple: int = 16) -> tuple[slice, slice]:
    """In-plane box of the lungs on a batch of slices, widened by ``margin_px`` and to a multiple of 16."""
    out = []
    for axis, pad in ((1, margin_px[0]), (2, margin_px[1])):
        n = lungs.shape[axis]
        idx = np.nonzero(lungs.any(axis=tuple(a for a in (0, 1, 2) if a != axis)))[0]
        if len(idx) == 0:
            out.append(slice(0, min(n, multiple)))
            continue
        lo, hi = max(int(idx[0]) - pad, 0), min(int(idx[-1]) + pad + 1, n)
        want = min(int(np.ceil((hi - lo) / multiple) * multiple), n)
        lo = max(0, min(lo - (want - (hi - lo)) // 2, n - want))
        out.append(slice(lo, lo + want))
    return out[0], out[1]


class WindowGrid:
    """The reference path's sliding windows over whole slices (MONAI's grid and Gaussian weights).

    :func:`monai.inferers.sliding_window_inference` lays windows of ``roi`` every
    ``int(roi * (1 - overlap))`` pixels from the slice's corner (the last one flush with the far
    edge) and blends their outputs with a Gaussian importance map (sigma 0.125 of the window).
    :meth:`predict` runs only the windows that meet a box and blends them the same way, so inside
    the box the result is the reference's.
    """

    def __init__(self, size: tuple[int, int], roi: tuple[int, int], overlap: float) -> None:
        from monai.data.utils import compute_importance_map, dense_patch_slices

        self.size, self.roi = size, roi
        step = tuple(r if r == s else max(int(r * (1 - overlap)), 1) for r, s in zip(roi, size, strict=True))
        self.windows = [(w[0].start, w[1].start) for w in dense_patch_slices(size, roi, step)]
        self.weight = compute_importance_map(roi, mode="gaussian", sigma_scale=0.125).cpu().numpy().astype(np.float32)

    def meeting(self, ys: slice, xs: slice) -> list[tuple[int, int]]:
        """Top-left corners of the windows that overlap the box ``(ys, xs)``."""
        h, w = self.roi
        return [(y, x) for y, x in self.windows if y < ys.stop and y + h > ys.start and x < xs.stop and x + w > xs.start]

    def cover(self, ys: slice, xs: slice) -> tuple[slice, slice]:
        """The box the windows meeting ``(ys, xs)`` cover together."""
        wins = self.meeting(ys, xs)
        h, w = self.roi
        return (slice(min(y for y, _ in wins), max(y for y, _ in wins) + h),
                slice(min(x for _, x in wins), max(x for _, x in wins) + w))

    def predict(self, x: np.ndarray, origin: tuple[int, int], ys: slice, xs: slice,
                infer: Any) -> np.ndarray:
        """Probability ``(n, len(ys), len(xs))`` in the box ``(ys, xs)`` of whole-slice coordinates.

        Args:
            x: normalised 2.5-D slices ``(n, C, H, W)`` whose pixel (0, 0) is ``origin`` of the
                whole slice; they cover every window meeting the box.
            infer: ``x (n, C, h, w) -> logits (n, 1, h, w)``.
        """
        wins = self.meeting(ys, xs)
        cy, cx = self.cover(ys, xs)
        y0, x0 = cy.start, cx.start
        acc = np.zeros((x.shape[0], cy.stop - y0, cx.stop - x0), np.float32)
        cnt = np.zeros(acc.shape[1:], np.float32)
        h, w = self.roi
        oy, ox = origin
        for wy, wx in wins:
            logits = infer(np.ascontiguousarray(x[:, :, wy - oy:wy - oy + h, wx - ox:wx - ox + w]))
            acc[:, wy - y0:wy - y0 + h, wx - x0:wx - x0 + w] += logits[:, 0] * self.weight
            cnt[wy - y0:wy - y0 + h, wx - x0:wx - x0 + w] += self.weight
        inner = (slice(None), slice(ys.start - y0, ys.stop - y0), slice(xs.start - x0, xs.stop - x0))
        return expit(acc[inner] / cnt[inner[1:]]).astype(np.float32)


@dataclass
class Segmentation:
    """Lesions found in one working volume, with the label mask and probability map."""

    lesions: list[Lesion]
    labels: np.ndarray  # uint8 (z, y, x), lesion i = label i
    probability: np.ndarray
    warnings: list[str] = field(default_factory=list)
    filtered: int = 0  # candidates the false-positive filter removed
    set_aside: list[SetAside] = field(default_factory=list)  # implausible candidates, with reasons
    lungs: np.ndarray | None = None
    region: LungRegion | None = None
    engine: str = "torch"


@dataclass(frozen=True)
class InferenceOptions:
    """How to run the segmentation network: the fast path by default, the reference path on request."""

    engine: str = "onnx"  # torch | onnx | onnx-int8 (falls back to torch when unavailable)
    crop_to_lungs: bool = True
    margin_mm: float = 10.0
    threads: int | None = None

    @classmethod
    def reference(cls) -> InferenceOptions:
        """Version 0.1's path: PyTorch, sliding windows, every slice."""
        return cls(engine="torch", crop_to_lungs=False)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> InferenceOptions:
        inf = dict(params.get("inference") or {})
        return cls(engine=str(inf.get("engine", "onnx")), crop_to_lungs=bool(inf.get("crop_to_lungs", True)),
                   margin_mm=float(inf.get("margin_mm", 10.0)), threads=inf.get("threads"))


def segment_array(net: Any, image: np.ndarray, spacing: tuple[float, float, float], params: dict[str, Any],
                  device: str = "cpu", z_scale: float = 1.0, options: InferenceOptions | None = None,
                  bundle_path: Any = None, stages: Stages | None = None) -> Segmentation:
    """Segment, screen and measure lesions in a working-spacing HU volume.

    Args:
        net: the segmentation network (from the bundle).
        image: HU volume ``(z, y, x)`` resampled to the bundle's working spacing.
        spacing: its voxel size in mm.
        params: the bundle's ``galen`` parameters.
        device: ``cpu`` or ``cuda``.
        z_scale: working-slice → input-slice factor, to report slice numbers of the input.
        options: engine and cropping; the bundle's ``galen.inference`` (fast path) when None.
        bundle_path: the bundle folder (where the ONNX files are); PyTorch without it.
        stages: stage timer / progress reporter.
    """
    from specialists.imaging import plausibility
    from specialists.imaging.engines import make_engine, whole_slices
    from specialists.imaging.fpr import apply_filter, components
    from specialists.imaging.lungs import lung_mask, lung_region

    st = stages or Stages()
    opts = options or InferenceOptions.from_params(params)
    warnings: list[str] = []
    with st.stage("lungs"):
        lungs = lung_mask(image, spacing)
        region = lung_region(lungs, spacing, opts.margin_mm) if opts.crop_to_lungs else None
    engine, note = (None, "")
    engine_name = "torch"
    if opts.engine != "torch" and bundle_path is not None:
        engine, note = make_engine(bundle_path, net, opts.engine, device, opts.threads)  # type: ignore[arg-type]
        engine_name = getattr(engine, "name", "torch")
        if engine_name == "torch":
            engine = None
    if note:
        warnings.append(note)
    with st.stage("segment"):
        if opts.crop_to_lungs and region is None:
            prob = np.zeros(image.shape, np.float32)  # no lung, so nothing can be a lung nodule
            warnings.append("No lungs were found in the image, so no lung nodule was searched for.")
        else:
            whole = opts.crop_to_lungs and whole_slices(net)
            margin = (int(np.ceil(opts.margin_mm / spacing[1])), int(np.ceil(opts.margin_mm / spacing[2])))
            prob = predict_probability(net, image, params, device, region=region, engine=engine, whole=whole, stages=st,
                                       lungs=lungs, margin_px=margin)
    with st.stage("filter"):
        labels, ids = components(prob, float(params.get("threshold", 0.5)), float(params.get("min_volume_mm3", 0.0)),
                                 spacing)
        rules = plausibility.rules_of(params)
        ids, aside = plausibility.screen(labels, ids, image, spacing, lungs, rules)
        ids, removed = apply_filter(labels, ids, prob, image, spacing, params)
        mask = np.isin(labels, ids) if ids else np.zeros(prob.shape, bool)
    with st.stage("measure"):
        lesions, out = measure_lesions(mask, image, spacing, 0.0, z_scale, lungs=lungs if lungs.any() else None,
                                       mass_above_mm=float(rules["mass_above_mm"]))
    return Segmentation(lesions=lesions, labels=out, probability=prob, warnings=warnings, filtered=removed,
                        set_aside=aside, lungs=lungs, region=region, engine=engine_name)
