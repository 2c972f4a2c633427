"""Measuring segmented lesions: diameters, volume, density, position.

Diameters follow the Fleischner convention (MacMahon et al., Radiology 2017): long and short
axial diameters on the axial slice where the lesion is largest, and their mean. They are
computed from the lesion's second moments on that slice (the equivalent ellipse's axes, with
the pixel-size correction), which is robust to single stray pixels at the boundary.

Attenuation is read from the lesion's core, not from the whole mask: the edge voxels of a
small nodule are partial-volume mixtures with the surrounding lung (about -850 HU), so the mean
over the whole mask of a 6 mm solid nodule of +35 HU can read -60 HU, which looks subsolid. The
core is the mask eroded away from its edge (:func:`core_attenuation`); for small nodules, whose
every voxel is near an edge, it is the central sphere around the lesion's deepest point. The
method used is reported with the numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class Lesion:
    """One measured lesion (coordinates are voxel indices of the working volume unless named)."""

    id: int
    centroid: tuple[float, float, float]  # voxel (z, y, x) in the working volume
    centroid_mm: tuple[float, float, float]
    long_axis_mm: float
    short_axis_mm: float
    mean_diameter_mm: float
    volume_mm3: float
    mean_hu: float  # over the whole mask (edges included); see core_mean_hu
    upper_lobe: bool | None
    slice_index: int  # axial slice of largest extent, in the input volume's own slices
    working_slice: int  # the same slice in the working volume
    core_mean_hu: float = float("nan")
    core_median_hu: float = float("nan")
    core_method: str = ""
    core_voxels: int = 0
    category: str = "nodule"  # "nodule" (<= 30 mm) or "mass" (> 30 mm, in the lung)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["centroid"] = [round(float(v), 1) for v in self.centroid]
        d["centroid_mm"] = [round(float(v), 1) for v in self.centroid_mm]
        for k in ("long_axis_mm", "short_axis_mm", "mean_diameter_mm"):
            d[k] = round(float(d[k]), 1)
        d["volume_mm3"] = round(float(self.volume_mm3), 0)
        d["mean_hu"] = round(float(self.mean_hu), 0)
        d["core_mean_hu"] = round(float(self.core_mean_hu), 0)
        d["core_median_hu"] = round(float(self.core_median_hu), 0)
        return d


#: Core of a lesion at least SMALL_DEPTH_MM deep: voxels deeper than half the lesion's depth and
#: deeper than its depth minus CORE_SHELL_MM (at most CORE_DEPTH_MM): the scanner's blur reaches about
#: 1.5 mm into a lesion along z, so a thin shell is not enough for a small lesion, and the middle of a
#: large one is purer than any fixed shell.
CORE_DEPTH_MM, CORE_SHELL_MM, CORE_FRACTION = 2.5, 0.8, 0.5
#: Shallower lesions (about 5 mm and less), or a core of fewer voxels: the central sphere instead.
SMALL_DEPTH_MM, MIN_CORE_VOXELS, CENTRAL_RADIUS_MM = 3.0, 8, 0.9


def core_attenuation(comp: np.ndarray, image: np.ndarray, spacing: tuple[float, float, float]) -> tuple[float, float, str, int]:
    """Mean and median HU of a lesion's core, the method in words, and the number of core voxels.

    Args:
        comp: the lesion's boolean mask (any box that holds it).
        image: HU on the same box.
        spacing: voxel size ``(z, y, x)`` in mm.
    """
    depth = ndimage.distance_transform_edt(np.pad(comp, 1), sampling=spacing)[1:-1, 1:-1, 1:-1]
    deepest = float(depth.max())
    cut = max(CORE_FRACTION * deepest, min(CORE_DEPTH_MM, deepest - CORE_SHELL_MM))
    core = depth >= cut
    method = f"core: voxels at least {cut:.1f} mm inside the lesion edge"
    if deepest < SMALL_DEPTH_MM or core.sum() < MIN_CORE_VOXELS:
        # The deepest voxel and its in-plane neighbours (a sphere thinner than one slice when slices are thick).
        radius = max(CENTRAL_RADIUS_MM, 1.01 * float(min(spacing[1], spacing[2])))
        centre = np.unravel_index(int(np.argmax(depth)), depth.shape)
        grid = np.ogrid[tuple(slice(0, n) for n in comp.shape)]
        d2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grid, centre, spacing, strict=True))
        core = comp & (d2 <= radius**2)
        method = f"central sphere of radius {radius:.1f} mm around the lesion's deepest point"
    vals = image[core]
    return float(vals.mean()), float(np.median(vals)), method, int(core.sum())


def axial_diameters(mask2d: np.ndarray, spacing_yx: tuple[float, float]) -> tuple[float, float]:
    """Long and short axial diameters (mm) of a 2-D region from its second moments.

    For a filled ellipse the variance along an axis of half-length ``a`` is ``a²/4``, so the full
    axis is ``4·sqrt(variance)``; each pixel adds ``s²/12`` of its own extent.
    """
    ys, xs = np.nonzero(mask2d)
    if len(ys) == 0:
        return 0.0, 0.0
    if len(ys) == 1:
        return float(max(spacing_yx)), float(min(spacing_yx))
    pts = np.stack([ys * spacing_yx[0], xs * spacing_yx[1]], 1)
    cov = np.cov(pts, rowvar=False, bias=True) + np.diag([spacing_yx[0] ** 2 / 12, spacing_yx[1] ** 2 / 12])
    ev = np.sort(np.linalg.eigvalsh(cov))[::-1]
    return float(4 * np.sqrt(max(ev[0], 0))), float(4 * np.sqrt(max(ev[1], 0)))


def find_lungs(image: np.ndarray, spacing: tuple[float, float, float] = (1.25, 0.8, 0.8)) -> np.ndarray | None:
    """The lung mask (:func:`specialists.imaging.lungs.lung_mask`), or None when the lungs fill under 1 % of the volume."""
    from specialists.imaging.lungs import lung_mask

    lungs = lung_mask(image, spacing)
    if lungs.sum() < 0.01 * image.size:
        return None
    return lungs


def measure_lesions(mask: np.ndarray, image: np.ndarray, spacing: tuple[float, float, float],
                    min_volume_mm3: float = 0.0, z_scale: float = 1.0,
                    lungs: np.ndarray | None = None, mass_above_mm: float = 30.0) -> tuple[list[Lesion], np.ndarray]:
    """Connected components of ``mask`` measured on ``image``.

    Args:
        mask: binary (or label) mask ``(z, y, x)`` at ``spacing``.
        image: HU image on the same grid.
        spacing: voxel size ``(z, y, x)`` in mm.
        min_volume_mm3: smaller components are dropped (noise).
        z_scale: working-slice → input-slice factor (working z spacing / input z spacing).
        lungs: lung mask for the upper-lobe call; found from the image when None.
        mass_above_mm: a lesion whose mean diameter exceeds this is a mass, not a nodule (the
            Fleischner glossary's 3 cm).

    Returns:
        The lesions, largest first, and the relabelled mask (label ``i`` = lesion ``i``).
    """
    structure = ndimage.generate_binary_structure(3, 2)
    labels, n = ndimage.label(mask > 0, structure=structure)
    voxel_mm3 = float(np.prod(spacing))
    if lungs is None:
        lungs = find_lungs(image)
    z_lo = z_hi = None
    if lungs is not None:
        zs = np.nonzero(lungs.any(axis=(1, 2)))[0]
        z_lo, z_hi = zs.min(), zs.max()
    found = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        comp = labels[sl] == i
        vol = comp.sum() * voxel_mm3
        if vol < min_volume_mm3:
            continue
        areas = comp.sum(axis=(1, 2))
        zk = int(np.argmax(areas))
        long_mm, short_mm = axial_diameters(comp[zk], (spacing[1], spacing[2]))
        cz, cy, cx = (np.array(ndimage.center_of_mass(comp)) + [s.start for s in sl])
        upper = None if z_lo is None or z_hi == z_lo else bool(cz > (z_lo + z_hi) / 2)
        wz = zk + sl[0].start
        core_mean, core_median, core_method, core_n = core_attenuation(comp, image[sl], spacing)
        found.append((vol, i, dict(
            centroid=(float(cz), float(cy), float(cx)),
            centroid_mm=(float(cz * spacing[0]), float(cy * spacing[1]), float(cx * spacing[2])),
            long_axis_mm=long_mm, short_axis_mm=short_mm, mean_diameter_mm=(long_mm + short_mm) / 2,
            volume_mm3=float(vol), mean_hu=float(image[sl][comp].mean()), upper_lobe=upper,
            slice_index=int(round(wz * z_scale)), working_slice=int(wz), core_mean_hu=core_mean,
            core_median_hu=core_median, core_method=core_method, core_voxels=core_n,
            category="mass" if (long_mm + short_mm) / 2 > mass_above_mm else "nodule")))
    found.sort(key=lambda t: -t[0])
    out = np.zeros(mask.shape, np.uint8)
    lesions = []
    for new_id, (_, old, fields) in enumerate(found[:255], start=1):
        out[labels == old] = new_id
        lesions.append(Lesion(id=new_id, **fields))
    return lesions, out
