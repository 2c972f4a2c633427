"""The phantom generator's masks and labels are exact and its densities realistic."""

from __future__ import annotations

import numpy as np
import pytest

from specialists.imaging.measure import axial_diameters
from specialists.imaging.phantom import KINDS, SHAPES, make_phantom


@pytest.mark.parametrize("diameter, spacing", [(12.0, (0.5, 0.5, 0.5)), (20.0, (1.25, 0.8, 0.8))])
def test_sphere_volume_matches_formula(diameter, spacing):
    ph = make_phantom(3, shape=(int(36 / spacing[0]), int(100 / spacing[1]), int(100 / spacing[2])), spacing=spacing,
                      diameters_mm=[diameter], kinds=["solid"], shapes=["round"], n_vessels=0)
    assert len(ph.nodules) == 1 and ph.nodules[0].diameter_mm == pytest.approx(diameter)
    volume = (ph.mask == 1).sum() * np.prod(spacing)
    exact = 4 / 3 * np.pi * (diameter / 2) ** 3
    # Voxelisation error: about one voxel layer over the surface, far less on average.
    assert abs(volume - exact) / exact < 0.04
    zk = int(np.argmax((ph.mask == 1).sum(axis=(1, 2))))
    long_mm, short_mm = axial_diameters(ph.mask[zk] == 1, spacing[1:])
    assert long_mm == pytest.approx(diameter, abs=max(spacing)) and short_mm == pytest.approx(diameter, abs=max(spacing))


def test_seeded_and_labelled():
    a = make_phantom(5, shape=(32, 128, 128), n_nodules=3)
    b = make_phantom(5, shape=(32, 128, 128), n_nodules=3)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, make_phantom(6, shape=(32, 128, 128), n_nodules=3).image)
    assert sorted(np.unique(a.mask[a.mask > 0]).tolist()) == [n.label for n in a.nodules]
    for n in a.nodules:
        assert n.kind in KINDS and n.shape in SHAPES and 1.5 <= n.diameter_mm / 2
        assert a.mask[tuple(int(round(c)) for c in n.center)] in (0, n.label)  # spiculated centres may sit on a spike gap
        assert a.lung_mask[a.mask == n.label].all()  # nodules lie inside the lungs


def test_realistic_densities():
    ph = make_phantom(8, shape=(40, 160, 160), diameters_mm=[14.0, 14.0, 14.0],
                      kinds=["solid", "ground-glass", "part-solid"], shapes=["round"] * 3, noise_hu=0.0, n_vessels=0)
    lung_only = ph.lung_mask & (ph.mask == 0)
    assert -920 < np.median(ph.image[lung_only]) < -800
    by_kind = {n.kind: np.median(ph.image[ph.mask == n.label]) for n in ph.nodules}
    assert by_kind["solid"] > -50 and -720 < by_kind["ground-glass"] < -450
    assert by_kind["ground-glass"] < by_kind["part-solid"] < by_kind["solid"]
    assert ph.image.min() >= -1100 and np.median(ph.image[0, :4, :4]) < -950  # air outside the body
