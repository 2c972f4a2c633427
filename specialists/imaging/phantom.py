"""Seeded procedural chest-CT phantoms with exactly known nodules.

No labelled real CT exists offline, so these phantoms are both the training data of the
imaging models and their test fixture. A phantom is an axial CT volume in Hounsfield units,
arrays ordered ``(z, y, x)`` with z toward the head (superior), y toward the front (anterior)
and x toward the patient's right (RAS), plus an integer label mask (0 background, ``i`` nodule
``i``), a lung mask and one :class:`NoduleSpec` per nodule.

The masks are exact by construction: a voxel belongs to a nodule when its centre lies inside the
nodule's analytic surface; the image is then blurred (partial volume) and noise is added, the
mask is not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from scipy import ndimage

NoduleKind = Literal["solid", "part-solid", "ground-glass"]
Anatomy = Literal["lungs", "chest"]
NoduleShape = Literal["round", "lobulated", "spiculated"]
KINDS: tuple[NoduleKind, ...] = ("solid", "part-solid", "ground-glass")
SHAPES: tuple[NoduleShape, ...] = ("round", "lobulated", "spiculated")

#: Working spacing (z, y, x) in mm that the shipped models were trained at.
WORKING_SPACING: tuple[float, float, float] = (1.25, 0.8, 0.8)

_HU_AIR, _HU_LUNG, _HU_FAT, _HU_SOFT, _HU_BONE = -1000.0, -860.0, -95.0, 40.0, 450.0
_HU_SOLID, _HU_GGO = 25.0, -600.0


@dataclass(frozen=True)
class NoduleSpec:
    """One planted nodule: what it is and where (centre in voxel indices ``(z, y, x)``)."""

    label: int
    kind: NoduleKind
    shape: NoduleShape
    diameter_mm: float
    center: tuple[float, float, float]
    upper_lobe: bool
    #: Planted density (HU) before blur and noise: the whole nodule (solid, ground-glass) or its
    #: ground-glass part (part-solid, whose solid core is ``solid_hu``).
    hu: float = float("nan")
    solid_hu: float | None = None

    @property
    def spiculated(self) -> bool:
        return self.shape == "spiculated"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Phantom:
    """A generated volume with its exact masks and labels."""

    image: np.ndarray  # float32 HU, (z, y, x)
    mask: np.ndarray  # uint8 nodule labels, (z, y, x)
    lung_mask: np.ndarray  # bool, (z, y, x)
    spacing: tuple[float, float, float]  # mm, (z, y, x)
    nodules: list[NoduleSpec] = field(default_factory=list)
    seed: int = 0

    @property
    def affine(self) -> np.ndarray:
        """RAS affine of the ``(x, y, z)``-ordered array (origin at voxel 0)."""
        return np.diag([self.spacing[2], self.spacing[1], self.spacing[0], 1.0])


def draw_coverage(rng: np.random.Generator, width: tuple[float, float] = (0.15, 0.45),
                  weights: tuple[float, float, float] = (0.35, 0.25, 0.4)) -> tuple[float, float]:
    """A window of a chest CT's height for a ``chest`` phantom that is shorter than a whole chest.

    With probabilities ``weights`` the window holds the lung bases and upper abdomen, the apices
    and neck, or only lung; its width (a share of the body's height) is drawn from ``width``.
    """
    from specialists.imaging.phantom_anatomy import U_APEX, U_BASE

    w = float(rng.uniform(*width))
    kind = int(rng.choice(3, p=np.asarray(weights) / sum(weights)))
    if kind == 0:
        lo = float(rng.uniform(max(0.0, U_BASE - w + 0.04), U_BASE - 0.01))
    elif kind == 1:
        lo = float(rng.uniform(U_APEX + 0.02, min(1.0, U_APEX + w - 0.04))) - w
    else:
        lo = float(rng.uniform(U_BASE, max(U_BASE, U_APEX - w)))
    lo = min(max(lo, 0.0), 1.0 - w)
    return lo, lo + w


def nodule_radius_function(shape: NoduleShape, rng: np.random.Generator):
    """A function ``f(u) -> scale`` on unit direction vectors ``u`` (…, 3) giving the surface.

    Round: 1. Lobulated: a few smooth bumps. Spiculated: a round core with thin tapering spikes.
    """
    if shape == "round":
        return lambda u: np.ones(u.shape[:-1])
    if shape == "lobulated":
        dirs = rng.normal(size=(int(rng.integers(3, 6)), 3))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        amps = rng.uniform(0.15, 0.3, size=len(dirs))

        def lob(u: np.ndarray) -> np.ndarray:
            bumps = np.clip(u @ dirs.T, 0, None) ** 3 * amps
            return 0.85 + bumps.sum(-1)

        return lob
    n = int(rng.integers(8, 16))
    dirs = rng.normal(size=(n, 3))
    dirs[:, 0] *= 0.6  # spicules mostly radiate in-plane, where they are read
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    lengths = rng.uniform(0.6, 1.2, size=n)
    cos_w = np.cos(np.deg2rad(rng.uniform(7, 11, size=n)))

    def spic(u: np.ndarray) -> np.ndarray:
        c = u @ dirs.T
        spike = np.clip((c - cos_w) / (1 - cos_w), 0, None) ** 1.5 * lengths
        return 1.0 + spike.max(-1)

    return spic


def _ellipse(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ay: float, ax: float) -> np.ndarray:
    return ((yy - cy) / ay) ** 2 + ((xx - cx) / ax) ** 2 <= 1.0


def _stamp_vessels(occ: np.ndarray, lung: np.ndarray, spacing: np.ndarray, rng: np.random.Generator,
                   n: int) -> None:
    """Draw tapering, branching tubes (pulmonary vessels) into ``occ`` (float occupancy)."""
    zs, ys, xs = np.nonzero(lung)
    if len(zs) == 0:
        return
    shape = np.array(occ.shape)
    for _ in range(n):
        i = rng.integers(len(zs))
        p = np.array([zs[i], ys[i], xs[i]], float) * spacing
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        r = rng.uniform(1.0, 2.2)
        for _step in range(int(rng.integers(30, 90))):
            lo = np.maximum(((p - r - 1) / spacing).astype(int), 0)
            hi = np.minimum(((p + r + 1) / spacing).astype(int) + 1, shape)
            if np.any(hi <= lo):
                break
            g = np.mgrid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32)
            dist = np.sqrt(sum(((g[k] * spacing[k]) - p[k]) ** 2 for k in range(3)))
            sl = tuple(slice(lo[k], hi[k]) for k in range(3))
            occ[sl] = np.maximum(occ[sl], np.clip(r + 0.5 - dist, 0, 1))
            d = d + rng.normal(scale=0.15, size=3)
            d /= np.linalg.norm(d)
            p = p + d * min(spacing.min(), 1.0)
            r = max(0.5, r * 0.985)


def make_phantom(
    seed: int,
    shape: tuple[int, int, int] = (48, 160, 160),
    spacing: tuple[float, float, float] = WORKING_SPACING,
    n_nodules: int = 3,
    diameters_mm: list[float] | None = None,
    kinds: list[NoduleKind] | None = None,
    shapes: list[NoduleShape] | None = None,
    noise_hu: float = 18.0,
    n_vessels: int | None = None,
    size_range_mm: tuple[float, float] = (3.0, 30.0),
    anatomy: Anatomy = "lungs",
    coverage: tuple[float, float] = (0.0, 1.0),
    floor_gap_mm: tuple[float, float] | None = None,
) -> Phantom:
    """Generate one chest-CT phantom.

    Args:
        seed: random seed; the same seed and arguments give the same phantom.
        shape: array shape ``(z, y, x)``.
        spacing: voxel size ``(z, y, x)`` in mm.
        n_nodules: how many nodules to plant (ignored when ``diameters_mm`` is given).
        diameters_mm: nominal diameters to plant; random (log-uniform in ``size_range_mm``) if None.
        kinds: nodule types, random if None.
        shapes: nodule shapes, random if None.
        noise_hu: standard deviation of the image noise (HU).
        n_vessels: number of vessel trees; scaled to the volume if None.
        size_range_mm: range for random diameters.
        anatomy: ``lungs`` (every slice through the lungs, the original phantoms) or ``chest``: the
            body along a real chest CT's range, neck and upper abdomen included
            (:mod:`specialists.imaging.phantom_anatomy`).
        coverage: for ``chest``, the part of the body's height (0 = upper abdomen, 1 = neck) the
            volume's slices span, inferior to superior.
        floor_gap_mm: when given, each nodule is planted just above the lung's floor (a diaphragm
            dome or the costophrenic base): the lung below its lowest point is between these many
            mm thick. Nodules there sit over bright tissue that the slices beneath them show, which
            a 2.5-D network must tell apart from the nodule. Where no such place is free, a nodule
            is planted anywhere in the lungs.

    Returns:
        The phantom. Nodules that do not fit in the lungs are shrunk to fit (their spec says so).
    """
    rng = np.random.default_rng(seed)
    sp = np.asarray(spacing, float)
    nz, ny, nx = shape
    fov_y, fov_x = ny * sp[1], nx * sp[2]
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float32)
    yy, xx = yy * sp[1] - fov_y / 2, xx * sp[2] - fov_x / 2

    image = np.full(shape, _HU_AIR, np.float32)
    lung = np.zeros(shape, bool)
    if anatomy == "chest":
        from specialists.imaging.phantom_anatomy import ChestBody

        body = ChestBody(yy, xx, (fov_y, fov_x), rng)
        lo_u, hi_u = coverage
        for z in range(nz):
            u = lo_u + (hi_u - lo_u) * z / max(nz - 1, 1)
            lung2d = body.lungs(u)
            image[z] = body.slice(u, lung2d)
            lung[z] = lung2d & (image[z] == _HU_LUNG)  # the spine and trachea are not lung
    else:
        body2d = _ellipse(yy, xx, 0, 0, 0.40 * fov_y, 0.47 * fov_x)
        soft2d = _ellipse(yy, xx, 0, 0, 0.36 * fov_y, 0.43 * fov_x)
        spine2d = _ellipse(yy, xx, -0.25 * fov_y, 0, 0.06 * fov_y, 0.05 * fov_x)
        jitter = rng.uniform(0.9, 1.05, size=2)
        for z in range(nz):
            t = z / max(nz - 1, 1)  # 0 = inferior, 1 = superior (apex narrower)
            s = 1.0 - 0.3 * t
            sl = np.where(body2d, _HU_FAT, _HU_AIR)
            sl[soft2d] = _HU_SOFT
            for side, j in ((-1, jitter[0]), (1, jitter[1])):
                lung2d = _ellipse(yy, xx, 0.02 * fov_y, side * 0.2 * fov_x, 0.27 * fov_y * s * j, 0.16 * fov_x * s * j)
                lung[z] |= lung2d
            sl[lung[z]] = _HU_LUNG
            sl[spine2d] = _HU_BONE
            image[z] = sl
        lung &= ~np.broadcast_to(spine2d, shape)

    # Smooth parenchymal texture, then vessels (soft-tissue density) inside the lungs.
    texture = ndimage.gaussian_filter(rng.normal(size=shape).astype(np.float32), 2.0) * 60
    image = np.where(lung, image + texture, image)
    occ = np.zeros(shape, np.float32)
    if n_vessels is None:
        n_vessels = max(4, int(lung.sum() * float(np.prod(sp)) / 25_000))
    _stamp_vessels(occ, lung, sp, rng, n_vessels)
    occ *= lung
    image = image * (1 - occ) + _HU_SOFT * occ

    mask = np.zeros(shape, np.uint8)
    # Distance inside the lungs, counting the volume's edges as walls so nodules are never cut off.
    dist_in = ndimage.distance_transform_edt(np.pad(lung, 1), sampling=sp)[1:-1, 1:-1, 1:-1]
    z_lung = np.nonzero(lung.any(axis=(1, 2)))[0]
    z_mid = (z_lung.min() + z_lung.max()) / 2 if len(z_lung) else nz / 2
    if diameters_mm is None:
        lo, hi = np.log(size_range_mm[0]), np.log(size_range_mm[1])
        diameters_mm = list(np.exp(rng.uniform(lo, hi, size=n_nodules)))
    floor = None if floor_gap_mm is None else (_height_above_floor(lung, sp[0]), floor_gap_mm)
    nodules: list[NoduleSpec] = []
    for i, diam in enumerate(diameters_mm):
        kind = kinds[i] if kinds else KINDS[int(rng.integers(3))]
        nshape = shapes[i] if shapes else SHAPES[int(rng.integers(3))]
        spec = _plant(image, mask, dist_in, sp, rng, len(nodules) + 1, float(diam), kind, nshape, z_mid, nodules,
                      floor)
        if spec is not None:
            nodules.append(spec)

    image = ndimage.gaussian_filter(image, sigma=0.6)  # scanner point-spread: partial volume
    image += rng.normal(scale=noise_hu, size=shape).astype(np.float32)
    return Phantom(image=image.astype(np.float32), mask=mask, lung_mask=lung, spacing=tuple(sp), nodules=nodules,
                   seed=seed)


def _height_above_floor(lung: np.ndarray, dz: float) -> np.ndarray:
    """Per voxel, the mm of lung between its centre and the non-lung tissue below it in its column.

    Infinite outside the lungs and where the lung runs down to the volume's lowest slice (no floor seen).
    """
    run = np.zeros(lung.shape, np.int32)
    run[0] = 0  # a column's lung that starts at the lowest slice has no floor in the volume
    for z in range(1, lung.shape[0]):
        run[z] = np.where(lung[z], np.where(run[z - 1] > 0, run[z - 1] + 1, np.where(lung[z - 1], 0, 1)), 0)
    out = (run - 0.5) * dz
    out[run == 0] = np.inf
    return out


def _plant(image: np.ndarray, mask: np.ndarray, dist_in: np.ndarray, sp: np.ndarray, rng: np.random.Generator,
           label: int, diam: float, kind: NoduleKind, nshape: NoduleShape, z_mid: float,
           placed: list[NoduleSpec], floor: tuple[np.ndarray, tuple[float, float]] | None = None) -> NoduleSpec | None:
    """Plant one nodule fully inside the lungs, apart from ``placed``; shrink to fit; None if no room.

    ``floor`` (height above the lung floor, gap range in mm): plant it that far above the floor when there is room.
    """
    r = diam / 2
    extent = 2.2 if nshape == "spiculated" else 1.3
    room = dist_in.max()
    if room < 2.0:
        return None
    if room < r + 1.0:
        r = max(1.5, room - 1.0)
    cand = np.argwhere(dist_in >= min(r + 1.0, room - 0.01))
    if placed:
        # Keep nodules apart: their (spiculated) extents plus a margin must not touch.
        cpos = cand * sp
        ok = np.ones(len(cand), bool)
        for o in placed:
            gap = np.linalg.norm(cpos - np.asarray(o.center) * sp, axis=1)
            ok &= gap > r * extent + o.diameter_mm / 2 * 2.2 + 3.0
        cand = cand[ok]
        if len(cand) == 0:
            return None
    if floor is not None:
        gap = floor[0][tuple(cand.T)] - r
        near = cand[(gap >= floor[1][0]) & (gap <= floor[1][1])]
        cand = near if len(near) else cand
    c = cand[rng.integers(len(cand))].astype(float) + rng.uniform(-0.4, 0.4, size=3)
    f = nodule_radius_function(nshape, rng)
    half = np.ceil(r * extent / sp).astype(int) + 1
    lo = np.maximum(np.floor(c).astype(int) - half, 0)
    hi = np.minimum(np.floor(c).astype(int) + half + 1, mask.shape)
    g = np.mgrid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32)
    v = np.stack([(g[k] - c[k]) * sp[k] for k in range(3)], -1)
    dist = np.linalg.norm(v, axis=-1)
    u = v / np.maximum(dist, 1e-6)[..., None]
    inside = dist <= r * f(u)
    sl = tuple(slice(lo[k], hi[k]) for k in range(3))
    inside &= mask[sl] == 0
    if not inside.any():
        return None
    mask[sl][inside] = label
    hu_solid = _HU_SOLID + rng.normal(scale=8)
    hu_ggo = _HU_GGO + rng.uniform(-60, 60)
    if kind == "solid":
        vals = np.full(inside.shape, hu_solid, np.float32)
    else:
        vals = np.full(inside.shape, hu_ggo, np.float32)
        if kind == "part-solid":
            core = dist <= r * rng.uniform(0.35, 0.55)
            vals[core] = hu_solid
    image[sl][inside] = vals[inside]
    return NoduleSpec(label=label, kind=kind, shape=nshape, diameter_mm=round(2 * r, 2),
                      center=(float(c[0]), float(c[1]), float(c[2])), upper_lobe=bool(c[0] > z_mid),
                      hu=float(hu_solid if kind == "solid" else hu_ggo),
                      solid_hu=float(hu_solid) if kind == "part-solid" else None)


def phantom_to_volume(ph: Phantom):
    """The phantom as an intake :class:`~specialists.imaging.intake.Volume` (CT, RAS)."""
    from specialists.imaging.intake import Volume

    return Volume(array=ph.image.copy(), spacing=ph.spacing, affine=ph.affine, modality="CT",
                  source="phantom", is_2d=False, description=f"phantom seed {ph.seed}")


def write_phantom_nifti(ph: Phantom, path, with_mask: bool = False):
    """Write the phantom image (int16 HU) as NIfTI, and its label mask next to it if asked.

    Returns:
        The image path (and the mask path as ``<name>_mask.nii.gz`` when ``with_mask``).
    """
    from pathlib import Path

    import nibabel as nib

    path = Path(path)
    img = np.clip(np.round(ph.image), -32768, 32767).astype(np.int16).transpose(2, 1, 0)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(img), ph.affine), str(path))
    if with_mask:
        stem = path.name.split(".")[0]
        mask_path = path.with_name(f"{stem}_mask.nii.gz")
        nib.save(nib.Nifti1Image(np.ascontiguousarray(ph.mask.transpose(2, 1, 0)), ph.affine), str(mask_path))
        return path, mask_path
    return path


def write_phantom_dicom(ph: Phantom, folder, **kw):
    """Write the phantom as an axial DICOM series folder (fake identifiers; see ``dicom_io.write_series``)."""
    from pathlib import Path

    from specialists.imaging.dicom_io import write_series

    return write_series(ph.image, ph.spacing, Path(folder), **kw)


def write_phantom_zip(ph: Phantom, zip_path, **kw):
    """Write the phantom as a zip of an axial DICOM series."""
    from pathlib import Path

    from specialists.imaging.dicom_io import write_series_zip

    return write_series_zip(ph.image, ph.spacing, Path(zip_path), **kw)
