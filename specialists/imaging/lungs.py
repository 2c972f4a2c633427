"""The lung mask of a chest CT and the region a lung-nodule search needs to look at.

Lungs are the large air-filled spaces inside the body: voxels below -400 HU, grouped in 3-D,
that are not connected to the air around the patient (which touches the field of view's sides). Two kinds of air inside the
body are not lung and are left out: the trachea (a tube whose cross-section never exceeds a few
square centimetres) and gas in the stomach or bowel (pure air, about -1000 HU, where aerated lung
holds tissue and reads about -850 HU). What the lungs enclose in 3-D (vessels, nodules, masses)
is filled in, counting tissue thinner than a vessel as no way out (a vessel joins many a nodule
to the pleura or the hilum), and small concavities at the pleura are closed, so a nodule lies
inside the mask; the dome of the liver, which a basal slice's ring of lung surrounds, joins the
abdomen broadly and stays out. The rules are geometric and need no model.
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
#: Radius (mm) of the disc that closes each lung's outline on each slice: a juxtapleural nodule up to
#: about twice this wide, which indents the lung from the pleura, is closed over.
CLOSE_MM = 5.0
#: Non-lung tissue thinner than twice this (mm) does not connect what the lungs enclose to the outside:
#: vessels (up to about 5 mm thick) reach from a nodule to the pleura or the hilum.
BRIDGE_MM = 2.5
#: A hole of a slice's lung outline is lung when its largest cross-section is at most this (mm², a
#: 3 cm disc: nodules, not masses or the mediastinum between two lungs that touch) ...
MAX_SLICE_HOLE_MM2 = 707.0
#: ... and at most this share of its upper and lower faces borders non-lung (a nodule is capped
#: by lung above and below; the liver dome opens downwards into the abdomen).
MAX_OPEN_FACE_SHARE = 0.25


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
    inner = fill_enclosed(inner, spacing)
    inner = fill_slice_holes(inner, spacing)
    inner = close_each_lung(inner, spacing)
    lungs[:] = False
    lungs[box] = inner
    return lungs


def _ball(spacing: tuple[float, ...], radius_mm: float) -> np.ndarray:
    """An ellipsoidal structuring element of ``radius_mm`` on a grid of ``spacing``."""
    half = [max(int(np.floor(radius_mm / s)), 0) for s in spacing]
    grids = np.ogrid[tuple(slice(-h, h + 1) for h in half)]
    return sum((g * s / radius_mm) ** 2 for g, s in zip(grids, spacing, strict=True)) <= 1.0


def fill_enclosed(lungs: np.ndarray, spacing: tuple[float, float, float]) -> np.ndarray:
    """The lungs with what they enclose in 3-D: vessels, nodules, masses.

    What is not lung and is not connected to the volume's faces lies inside the lungs. Thin
    non-lung tissue (thinner than ``2 * BRIDGE_MM``: vessels) does not count as a connection, so a
    nodule joined by a vessel to the pleura or the hilum is still enclosed; the liver dome, which a
    basal ring of lung surrounds, joins the abdomen broadly and stays out.
    """
    outside = ~lungs
    if BRIDGE_MM > 0:
        ball = _ball(spacing, BRIDGE_MM)
        outside = ndimage.binary_dilation(ndimage.binary_erosion(outside, ball, border_value=1), ball) & outside
    labels, _ = ndimage.label(outside)
    faces = np.unique(np.concatenate([labels[0].ravel(), labels[-1].ravel(), labels[:, 0].ravel(),
                                      labels[:, -1].ravel(), labels[:, :, 0].ravel(), labels[:, :, -1].ravel()]))
    connected = np.isin(labels, faces[faces > 0])
    return ~connected


def fill_slice_holes(lungs: np.ndarray, spacing: tuple[float, float, float]) -> np.ndarray:
    """The lungs with the holes of their axial outlines that are capped by lung above and below.

    A nodule surrounded by lung on its slices is not always enclosed in 3-D (a vessel thicker than
    ``2 * BRIDGE_MM`` or a spicule leads out of it above or below), so :func:`fill_enclosed` leaves it
    out. Stacked in 3-D, the holes of each slice's outline no larger than ``MAX_SLICE_HOLE_MM2``
    form pieces; a piece whose upper and lower faces border lung (at most ``MAX_OPEN_FACE_SHARE``
    of them non-lung, the volume's first and last slices counting as non-lung) is lung.
    """
    pixel_mm2 = float(spacing[1] * spacing[2])
    holes = np.zeros_like(lungs)
    for z in range(lungs.shape[0]):
        if lungs[z].any():
            flat, _ = ndimage.label(ndimage.binary_fill_holes(lungs[z]) & ~lungs[z])
            area = np.bincount(flat.ravel()) * pixel_mm2
            area[0] = np.inf
            holes[z] = (area <= MAX_SLICE_HOLE_MM2)[flat]
    labels, n = ndimage.label(holes)
    if n == 0:
        return lungs
    out = lungs.copy()
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        comp = labels[sl] == i
        # Lung on the slice above and below each voxel of the piece (nothing beyond the volume's ends).
        z0, z1 = sl[0].start, sl[0].stop
        lo, hi = max(z0 - 1, 0), min(z1 + 1, lungs.shape[0])
        nb = np.zeros((z1 - z0 + 2,) + comp.shape[1:], bool)
        nb[lo - z0 + 1:hi - z0 + 1] = lungs[lo:hi, sl[1], sl[2]]
        stacked = np.pad(comp, ((1, 1), (0, 0), (0, 0)))
        up, down = comp & ~stacked[2:], comp & ~stacked[:-2]  # the piece's upper and lower faces
        faces = int(up.sum() + down.sum())
        open_faces = int((up & ~nb[2:]).sum() + (down & ~nb[:-2]).sum())
        if faces and open_faces <= MAX_OPEN_FACE_SHARE * faces:
            out[sl] |= comp
    return out


def close_each_lung(lungs: np.ndarray, spacing: tuple[float, float, float]) -> np.ndarray:
    """Each lung's outline closed slice by slice with a disc of ``CLOSE_MM``: concavities at the pleura.

    The lungs are closed one at a time (3-D components) so that the tissue between them (the
    mediastinum where they come close) is not bridged.
    """
    r = max(int(round(CLOSE_MM / min(spacing[1], spacing[2]))), 1)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = (yy**2 + xx**2 <= r * r)[None]
    labels, n = ndimage.label(lungs)
    out = lungs.copy()
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        box = (sl[0], slice(max(sl[1].start - r, 0), min(sl[1].stop + r, lungs.shape[1])),
               slice(max(sl[2].start - r, 0), min(sl[2].stop + r, lungs.shape[2])))
        comp = np.pad(labels[box] == i, ((0, 0), (r, r), (r, r)))
        out[box] |= ndimage.binary_closing(comp, disc)[:, r:-r, r:-r]
    return out


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
