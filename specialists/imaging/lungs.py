"""The lung mask of a chest CT and the region a lung-nodule search needs to look at.

Lungs are the large air-filled spaces inside the body: voxels below -400 HU, grouped in 3-D,
that are not connected to the air around the patient (which touches the field of view's sides). Two kinds of air inside the
body are not lung and are left out: the trachea (a tube whose cross-section never exceeds a few
square centimetres) and gas in the stomach or bowel (pure air, about -1000 HU, where aerated lung
holds tissue and reads about -850 HU). What the lungs enclose in 3-D (vessels, nodules, masses)
is filled in, and small concavities at the pleura are closed, so a nodule lies inside the mask;
the dome of the liver, which a basal slice's ring of lung surrounds, is not enclosed in 3-D and
stays out. The rules are geometric and need no model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: A lung is a 3-D air component whose largest axial cross-section is at least this (mm²); the
#: trachea (about 2–3 cm²) and main bronchi are smaller.
MIN_LUNG_SECTION_MM2 = 1000.0
#: Air below this median density is gas (stomach, bowel, outside air), not aerated lung.
GAS_MEDIAN_HU = -970.0
AIR_HU = -400.0
#: Concavities of the lung outline closed on each slice (mm): juxtapleural nodules up to about this deep.
CLOSE_MM = 5.0


def lung_mask(image: np.ndarray, spacing: tuple[float, float, float], step: int = 2) -> np.ndarray:
    """Boolean lung mask ``(z, y, x)`` of a HU volume, with what lies inside the lungs (vessels, nodules).

    Computed on every ``step``-th row and column (the mask needs no finer detail) and brought
    back to the full grid. Empty when the volume holds no lung (a neck or abdomen-only scan, a
    non-CT image).
    """
    step = max(int(step), 1)
    small = image[:, ::step, ::step]
    m = _lung_mask(small, (spacing[0], spacing[1] * step, spacing[2] * step))
    if step == 1:
        return m
    full = np.repeat(np.repeat(m, step, axis=1), step, axis=2)
    return np.ascontiguousarray(full[:, : image.shape[1], : image.shape[2]])


def _lung_mask(image: np.ndarray, spacing: tuple[float, float, float]) -> np.ndarray:
    air = image < AIR_HU
    labels, n = ndimage.label(air)  # 6-connected in 3-D
    if n == 0:
        return np.zeros(image.shape, bool)
    # Air touching the in-plane border is the room around the patient.
    border = np.unique(np.concatenate([labels[:, 0].ravel(), labels[:, -1].ravel(), labels[:, :, 0].ravel(),
                                       labels[:, :, -1].ravel()]))
    pixel_mm2 = float(spacing[1] * spacing[2])
    keep = np.zeros(n + 1, bool)
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None or i in border:
            continue
        comp = labels[sl] == i
        if comp.sum(axis=(1, 2)).max() * pixel_mm2 < MIN_LUNG_SECTION_MM2:
            continue
        if float(np.median(image[sl][comp])) < GAS_MEDIAN_HU:
            continue
        keep[i] = True
    keep[border] = False
    lungs = keep[labels]
    if not lungs.any():
        return lungs
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in
                (np.nonzero(lungs.any(axis=(1, 2)))[0], np.nonzero(lungs.any(axis=(0, 2)))[0],
                 np.nonzero(lungs.any(axis=(0, 1)))[0]))
    inner = lungs[box]
    # Gas touching a lung (a stomach bubble under the dome in a phantom without a diaphragm) is not lung:
    # aerated lung holds tissue, and smoothed it never reads as pure air.
    inner &= ndimage.uniform_filter(image[box], 3) > GAS_MEDIAN_HU
    # What the lungs enclose in 3-D is in the lung (vessels, nodules, masses); anything enclosed lies
    # inside their bounding box, so the holes are found there. Concavities up to about CLOSE_MM deep at
    # the pleura (where juxtapleural nodules sit) are closed slice by slice.
    inner = ndimage.binary_fill_holes(inner)
    r = max(int(round(CLOSE_MM / min(spacing[1], spacing[2]))), 1)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = yy**2 + xx**2 <= r * r
    padded = np.pad(inner, ((0, 0), (r, r), (r, r)))
    inner |= ndimage.binary_closing(padded, disc[None])[:, r:-r, r:-r]
    lungs[:] = False
    lungs[box] = inner
    return lungs


@dataclass(frozen=True)
class LungRegion:
    """Where to look for lung nodules: the lungs' bounding box plus a margin, as array slices."""

    z: slice
    y: slice
    x: slice

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        return self.z, self.y, self.x

    def fraction_of(self, shape: tuple[int, ...]) -> float:
        n = (self.z.stop - self.z.start) * (self.y.stop - self.y.start) * (self.x.stop - self.x.start)
        return n / float(np.prod(shape))


def lung_region(lungs: np.ndarray, spacing: tuple[float, float, float], margin_mm: float = 10.0,
                multiple: int = 16) -> LungRegion | None:
    """Bounding box of the lungs widened by ``margin_mm``; in-plane sides rounded up to ``multiple``.

    Returns None when there is no lung. Rounding keeps the crop a size the segmentation network
    takes without padding (its strides halve the slice three times).
    """
    if not lungs.any():
        return None
    out = []
    for axis, sp in enumerate(spacing):
        other = tuple(a for a in range(3) if a != axis)
        idx = np.nonzero(lungs.any(axis=other))[0]
        pad = int(np.ceil(margin_mm / sp))
        lo, hi = max(int(idx[0]) - pad, 0), min(int(idx[-1]) + pad + 1, lungs.shape[axis])
        if axis > 0 and multiple > 1:
            want = int(np.ceil((hi - lo) / multiple) * multiple)
            if want <= lungs.shape[axis]:
                grow = want - (hi - lo)
                lo = max(0, lo - grow // 2)
                hi = lo + want
                if hi > lungs.shape[axis]:
                    hi, lo = lungs.shape[axis], lungs.shape[axis] - want
        out.append(slice(lo, hi))
    return LungRegion(*out)
