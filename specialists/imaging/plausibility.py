"""Rules that keep implausible candidates from being called nodules, applied before any is reported.

A lung nodule is, by definition, in the lung and denser than the aerated lung around it; above
3 cm it is called a mass (Hansell DM et al., Fleischner Society: glossary of terms for thoracic
imaging, Radiology 2008;246:697-722: "nodule ... up to 3 cm in diameter"; "mass ... greater than
3 cm"). The segmentation network has no notion of either, so each candidate it finds is checked:

- ``outside the lungs``: less than ``min_lung_fraction`` of its voxels lie in the lung mask
  (:mod:`specialists.imaging.lungs`, widened by ``lung_margin_mm``) and less than that share of
  the 2 mm shell around it is lung: soft tissue of the neck, the mediastinum or the upper abdomen.
  Its parts inside the lung mask, cut from the rest, are checked again as candidates of their own
  (a nodule the network joined to the diaphragm beyond the pleura is not lost with it).
- ``at aerated-lung density``: its core (see :func:`specialists.imaging.measure.core_attenuation`)
  has a median at or below ``max_air_core_hu``: parenchyma or air, not an opacity. The cut lies
  between aerated lung (about -850 HU in the phantoms and at full inspiration in adults) and the
  faintest ground-glass the phantoms plant (-660 HU before noise).

Candidates over 3 cm that pass both are kept and reported as masses
(:attr:`specialists.imaging.measure.Lesion.category`). The numbers are the segmentation bundle's
``galen.plausibility`` section; :data:`DEFAULT_RULES` applies to bundles without one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage

#: A part cut free from tissue outside the lung counts only when at most this share of its surface
#: touched that tissue: a nodule joined by a bridge touches it at the bridge, a rim along the pleura
#: all along its length.
MAX_JOINED_SHARE = 0.15
#: ... or, for a part thick enough to hold a sphere of ``THICK_PART_MM`` (the size from which
#: Fleischner 2017 recommends follow-up), at most this share: a rim along the pleura is thin, while
#: a nodule on the pleura touches it with about a third of its surface (a hemisphere on a wall).
THICK_PART_MM = 6.0
MAX_JOINED_SHARE_THICK = 0.5
#: Thickness (mm) of the shell around a candidate whose share of lung also counts as "in the lung".
SHELL_MM = 2.0
DEFAULT_RULES: dict[str, Any] = {"min_lung_fraction": 0.5, "lung_margin_mm": 3.0, "max_air_core_hu": -780.0,
                                 "mass_above_mm": 30.0}


@dataclass(frozen=True)
class SetAside:
    """A candidate that was not called a nodule, and why."""

    reason: str  # "outside the lungs" | "at aerated-lung density"
    centroid: tuple[float, float, float]  # working-volume voxel (z, y, x)
    volume_mm3: float
    core_median_hu: float  # NaN when not measured (outside the lungs)
    lung_fraction: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["centroid"] = [round(float(v), 1) for v in self.centroid]
        d["volume_mm3"] = round(self.volume_mm3, 0)
        d["core_median_hu"] = None if np.isnan(self.core_median_hu) else round(self.core_median_hu, 0)
        d["lung_fraction"] = round(self.lung_fraction, 2)
        return d


def rules_of(params: dict[str, Any]) -> dict[str, Any]:
    return DEFAULT_RULES | dict(params.get("plausibility") or {})


def screen(labels: np.ndarray, ids: list[int], image: np.ndarray, spacing: tuple[float, float, float],
           lungs: np.ndarray | None, rules: dict[str, Any]) -> tuple[list[int], list[SetAside]]:
    """Split candidate components into those that may be nodules and those set aside (with reasons).

    Args:
        labels: component labels ``(z, y, x)``.
        ids: the candidate labels to check.
        image: HU on the same grid.
        spacing: voxel size in mm.
        lungs: the lung mask (None or empty: every candidate is outside the lungs).
        rules: see :data:`DEFAULT_RULES`.
    """
    from specialists.imaging.measure import core_attenuation

    if not ids:
        return [], []
    sp = np.asarray(spacing, float)
    margin = float(rules["lung_margin_mm"])
    pad = np.ceil(margin / sp).astype(int) + 1
    objects = ndimage.find_objects(labels)
    kept, aside = [], []
    voxel = float(np.prod(sp))
    for i in ids:
        sl = objects[i - 1]
        comp = labels[sl] == i
        centroid = tuple(float(c + s.start) for c, s in zip(ndimage.center_of_mass(comp), sl, strict=True))
        volume = float(comp.sum() * voxel)
        extent = max((s.stop - s.start) * d for s, d in zip(sl[1:], sp[1:], strict=True))
        frac = _lung_fraction(comp, sl, lungs, spacing, margin, pad, labels.shape, float(rules["min_lung_fraction"]),
                              mass=extent > float(rules["mass_above_mm"]))
        if frac < float(rules["min_lung_fraction"]):
            aside.append(SetAside("outside the lungs", centroid, volume, float("nan"), frac))
            pieces = _in_lung_pieces(labels, i, sl, lungs, voxel, float(rules.get("min_piece_mm3", 10.0)), spacing) \
                if frac > 0 and rules.get("split", True) else []
            if pieces:  # a nodule the network joined to soft tissue outside the lung is still a candidate
                more, more_aside = screen(labels, pieces, image, spacing, lungs, rules | {"split": False})
                kept += more
                aside += more_aside
            continue
        _, median, _, _ = core_attenuation(comp, image[sl], spacing)
        if median <= float(rules["max_air_core_hu"]):
            aside.append(SetAside("at aerated-lung density", centroid, volume, median, frac))
            continue
        kept.append(i)
    return kept, aside


def _in_lung_pieces(labels: np.ndarray, i: int, sl: tuple[slice, ...], lungs: np.ndarray | None, voxel: float,
                    min_mm3: float, spacing: tuple[float, float, float]) -> list[int]:
    """The parts of component ``i`` inside the lung mask, cut from the rest, as new labels (in place).

    The network sometimes joins a nodule to soft tissue beyond the pleura (the diaphragm, the
    mediastinum) in one component that is mostly outside the lungs. The lung mask encloses
    nodules, so the component's voxels in the mask, opened by one voxel to cut thin bridges, are
    the candidates it hid when little of their surface touched that tissue (or, for a part that
    holds a ``THICK_PART_MM`` sphere, less than half of it: a juxtapleural nodule); the rest stays
    set aside.
    """
    if lungs is None:
        return []
    view = labels[sl]
    inside = (view == i) & lungs[sl]
    if not inside.any():
        return []
    inside = ndimage.binary_opening(inside, structure=ndimage.generate_binary_structure(3, 1))
    parts, n = ndimage.label(inside)
    rest = (view == i) & ~inside
    touching = ndimage.binary_dilation(rest, structure=ndimage.generate_binary_structure(3, 1))
    out: list[int] = []
    nxt = int(labels.max()) + 1
    for j in range(1, n + 1):
        piece = parts == j
        if piece.sum() * voxel < min_mm3:
            continue
        surface = piece & ~ndimage.binary_erosion(piece)
        share = (surface & touching).sum() / max(surface.sum(), 1)
        if share > MAX_JOINED_SHARE and not (share <= MAX_JOINED_SHARE_THICK and _holds_sphere(piece, spacing)):
            continue  # a rim of the outside tissue along the pleura, not a nodule joined by a bridge
        view[piece] = nxt
        out.append(nxt)
        nxt += 1
    return out


def _holds_sphere(piece: np.ndarray, spacing: tuple[float, float, float]) -> bool:
    """True when a sphere of ``THICK_PART_MM`` fits inside ``piece``."""
    inner = ndimage.distance_transform_edt(np.pad(piece, 1), sampling=spacing)
    return bool(inner.max() >= THICK_PART_MM / 2)


def _lung_fraction(comp: np.ndarray, sl: tuple[slice, ...], lungs: np.ndarray | None, spacing: tuple[float, float, float],
                   margin: float, pad: np.ndarray, shape: tuple[int, ...], need: float, mass: bool = False) -> float:
    """How much a candidate is in the lung: the larger of two shares (0 without lungs).

    The share of its voxels within ``margin`` mm of the lung mask, and the share of its
    surroundings (a shell ``SHELL_MM`` thick) that is lung. The second keeps a large nodule whose
    spicules reach the pleura: the lung mask has no hole for it there, yet lung surrounds it.
    Soft tissue of the neck, mediastinum or abdomen has neither.

    A candidate wider than a nodule (``mass``: over ``mass_above_mm`` across in the axial plane)
    counts only its voxels in the mask: the mask holds what the lungs enclose in 3-D, so a mass in
    the lung lies in it, while a slab of soft tissue with lung above and below it (the top of the
    liver dome or the heart seen in a short field of view) is surrounded by lung and is not in it.
    """
    if lungs is None or not lungs.any():
        return 0.0
    plain = float(lungs[sl][comp].mean())
    if plain >= need or mass:
        return plain
    grow = np.maximum(pad, np.ceil(SHELL_MM / np.asarray(spacing)).astype(int) + 1)
    box = tuple(slice(max(s.start - p, 0), min(s.stop + p, n)) for s, p, n in zip(sl, grow, shape, strict=True))
    near = lungs[box]
    if not near.any():
        return 0.0
    inner = tuple(slice(s.start - b.start, s.stop - b.start) for s, b in zip(sl, box, strict=True))
    full = np.zeros(near.shape, bool)
    full[inner] = comp
    around = ndimage.distance_transform_edt(~full, sampling=spacing)
    shell = (around > 0) & (around <= SHELL_MM)
    surrounded = float(near[shell].mean()) if shell.any() else 0.0
    within = plain
    if margin > 0 and comp.sum() * float(np.prod(spacing)) <= 5000.0:
        within = float((ndimage.distance_transform_edt(~near, sampling=spacing) <= margin)[inner][comp].mean())
    return max(within, surrounded)


def describe(aside: list[SetAside]) -> str | None:
    """One sentence on the candidates set aside, or None when there are none."""
    if not aside:
        return None
    counts: dict[str, int] = {}
    for a in aside:
        counts[a.reason] = counts.get(a.reason, 0) + 1
    parts = [f"{n} {reason}" for reason, n in counts.items()]
    total = len(aside)
    return (f"{total} further candidate{'s' if total != 1 else ''} ({', '.join(parts)}) "
            f"{'were' if total != 1 else 'was'} not called {'nodules' if total != 1 else 'a nodule'}: "
            "a nodule lies in the lung and is denser than aerated lung.")
