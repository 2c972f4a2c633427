"""The body outside the lungs for chest-CT phantoms: neck, shoulders, chest wall and upper abdomen.

A real chest CT runs from the lower neck to the upper abdomen: its first and last slices hold
no lung at all (trachea, thyroid, vertebrae; liver, stomach with its gas bubble, spleen, bowel
gas), and the lung bases sit on the domes of the diaphragm. A model that only ever saw slices
through the lungs takes those slices for something it knows (a 150 mm "nodule" in the liver), so
the phantoms of :mod:`specialists.imaging.phantom` can be built along the whole craniocaudal range
with the anatomy here.

Positions along the body are a height ``u`` in [0, 1] (0 = lowest upper-abdomen slice, 1 = top of
the neck); a phantom covers ``coverage = (lo, hi)`` of it. In-plane sizes are fractions of the
field of view, as in the lungs-only phantoms. Densities are typical unenhanced CT values (HU).
"""

from __future__ import annotations

import numpy as np

#: Heights (fractions of the body range) where the lungs begin (costophrenic recesses), where the
#: trachea divides (carina), and where the lung apices end.
U_BASE, U_CARINA, U_APEX = 0.18, 0.62, 0.86
#: Height of the diaphragm domes above U_BASE (the right dome, over the liver, is higher).
DOME_RIGHT, DOME_LEFT = 0.08, 0.06
HU = {"air": -1000.0, "lung": -860.0, "fat": -95.0, "soft": 40.0, "bone": 450.0, "liver": 58.0, "spleen": 48.0,
      "fluid": 12.0, "thyroid": 85.0, "cortex": 700.0}


def _ellipse(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ay: float, ax: float) -> np.ndarray:
    return ((yy - cy) / ay) ** 2 + ((xx - cx) / ax) ** 2 <= 1.0


def _radius(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ay: float, ax: float) -> np.ndarray:
    """Normalised elliptical radius (0 at the centre, 1 on the outline)."""
    return np.sqrt(((yy - cy) / ay) ** 2 + ((xx - cx) / ax) ** 2)


def lung_profile(u: float) -> float:
    """In-plane scale of the lung outline at height ``u`` (1 over most of the chest, a dome at the apex)."""
    if u <= U_BASE or u >= U_APEX:
        return 0.0
    knee = U_APEX - 0.22
    if u <= knee:
        return 1.0 - 0.15 * (u - U_BASE) / (knee - U_BASE)
    t = (u - knee) / (U_APEX - knee)
    return 0.85 * float(np.sqrt(max(1.0 - t**2, 0.0)))


class ChestBody:
    """Draws one axial slice of the body at a given height; random details fixed at construction."""

    def __init__(self, yy: np.ndarray, xx: np.ndarray, fov: tuple[float, float], rng: np.random.Generator):
        self.yy, self.xx = yy, xx
        self.fy, self.fx = fov
        self.jitter = rng.uniform(0.9, 1.05, size=2)
        self.rib_phase = rng.uniform(0, 2 * np.pi, size=20)
        self.rib_angle = np.concatenate([np.linspace(0.25, 2.9, 10), -np.linspace(0.25, 2.9, 10)]) + rng.normal(0, 0.04, 20)
        self.gas = [(rng.uniform(-0.2, 0.15), rng.uniform(-0.3, 0.3), rng.uniform(4, 9), rng.uniform(0.0, U_BASE))
                    for _ in range(int(rng.integers(2, 6)))]
        self.bubble = rng.uniform(0.5, 1.0)  # size of the stomach's gas bubble

    def lungs(self, u: float) -> np.ndarray:
        """The lung mask of the slice at height ``u`` (both lungs; above the domes, below the apex)."""
        yy, xx, fy, fx = self.yy, self.xx, self.fy, self.fx
        out = np.zeros(yy.shape, bool)
        s = lung_profile(u)
        if s <= 0:
            return out
        for side, j, dome in ((-1, self.jitter[0], DOME_LEFT), (1, self.jitter[1], DOME_RIGHT)):
            cy, cx, ay, ax = 0.02 * fy, side * 0.2 * fx, 0.27 * fy * j, 0.16 * fx * j
            inside = _ellipse(yy, xx, cy, cx, ay * s, ax * s)
            # The dome of the diaphragm: the lung floor is highest under the centre of each lung.
            r = np.clip(_radius(yy, xx, cy, cx, ay, ax), 0, 1)
            out |= inside & (u >= U_BASE + dome * (1 - r**2))
        return out

    def slice(self, u: float, lung2d: np.ndarray) -> np.ndarray:
        """HU of the slice at height ``u`` without the lungs' contents (lung voxels get lung density)."""
        yy, xx, fy, fx = self.yy, self.xx, self.fy, self.fx
        neck = float(np.clip((u - (U_APEX - 0.02)) / 0.08, 0, 1))  # 0 = chest outline, 1 = neck outline
        ay, ax = 0.40 * fy * (1 - neck) + 0.24 * fy * neck, 0.47 * fx * (1 - neck) + 0.22 * fx * neck
        cy = -0.05 * fy * neck
        body = _ellipse(yy, xx, cy, 0, ay, ax)
        soft = _ellipse(yy, xx, cy, 0, ay - 0.04 * fy, ax - 0.04 * fx)
        sl = np.where(body, HU["fat"], HU["air"]).astype(np.float32)
        sl[soft] = HU["soft"]
        if u < U_BASE + DOME_RIGHT:  # upper abdomen and the organs under the domes
            self._abdomen(sl, u, soft)
        if U_BASE < u < U_APEX - 0.02:
            self._ribs(sl, u, ay, ax, cy)
        if u > U_APEX - 0.06:  # clavicles over the apices, then the thyroid in the neck
            if u < U_APEX + 0.05:
                for side in (-1, 1):
                    sl[_ellipse(yy, xx, 0.22 * fy, side * 0.2 * fx, 0.025 * fy, 0.06 * fx) & body] = HU["cortex"]
            if u > U_APEX + 0.02:
                for side in (-1, 1):
                    sl[_ellipse(yy, xx, 0.04 * fy, side * 0.05 * fx, 0.035 * fy, 0.03 * fx)] = HU["thyroid"]
        sl[lung2d] = HU["lung"]
        if u > U_CARINA:  # the trachea (air) in front of the oesophagus and spine
            sl[_ellipse(yy, xx, -0.06 * fy + cy * 0.5, 0, 0.035 * fy, 0.035 * fx)] = HU["air"]
        spine_y = -0.25 * fy * (1 - neck) + (-0.17 * fy) * neck
        sl[_ellipse(yy, xx, spine_y, 0, 0.06 * fy, 0.05 * fx)] = HU["bone"]
        ring = _ellipse(yy, xx, spine_y, 0, 0.06 * fy, 0.05 * fx) & ~_ellipse(yy, xx, spine_y, 0, 0.05 * fy, 0.04 * fx)
        sl[ring] = HU["cortex"]
        return sl

    def _abdomen(self, sl: np.ndarray, u: float, soft: np.ndarray) -> None:
        yy, xx, fy, fx = self.yy, self.xx, self.fy, self.fx
        sl[_ellipse(yy, xx, 0.0, 0.17 * fx, 0.3 * fy, 0.22 * fx) & soft] = HU["liver"]
        sl[_ellipse(yy, xx, -0.15 * fy, -0.25 * fx, 0.12 * fy, 0.07 * fx) & soft] = HU["spleen"]
        stomach = _ellipse(yy, xx, 0.08 * fy, -0.15 * fx, 0.16 * fy, 0.11 * fx) & soft
        sl[stomach] = HU["soft"]
        lumen = _ellipse(yy, xx, 0.08 * fy, -0.15 * fx, 0.13 * fy, 0.08 * fx)
        sl[lumen] = HU["fluid"]
        if u > U_BASE - 0.06:  # the gas bubble floats at the top (front) of the stomach, under the left dome
            sl[lumen & (yy > 0.08 * fy + 0.13 * fy * (1 - 0.8 * self.bubble))] = HU["air"]
        sl[_ellipse(yy, xx, -0.16 * fy, -0.04 * fx, 0.03 * fy, 0.03 * fx)] = HU["soft"]  # aorta
        for gy, gx, r_mm, u_lo in self.gas:  # bowel gas low in the upper abdomen
            if u < u_lo:
                sl[_ellipse(yy, xx, gy * fy, gx * fx, r_mm, r_mm * 1.3) & soft] = HU["air"]

    def _ribs(self, sl: np.ndarray, u: float, ay: float, ax: float, cy: float) -> None:
        """Rib cross-sections on a ring just inside the chest wall; each rib shows on some slices only."""
        yy, xx = self.yy, self.xx
        for ang, ph in zip(self.rib_angle, self.rib_phase, strict=True):
            if np.sin(2 * np.pi * u * 14 + ph) < -0.3:
                continue
            ry, rx = cy + (ay - 0.06 * self.fy) * np.cos(ang), (ax - 0.06 * self.fx) * np.sin(ang)
            rib = _ellipse(yy, xx, ry, rx, 0.012 * self.fy, 0.02 * self.fx)
            sl[rib] = HU["cortex"]
