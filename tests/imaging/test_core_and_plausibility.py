"""Core density, the lung mask and the plausibility rules on small exact scenes and chest phantoms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from specialists.imaging import plausibility
from specialists.imaging.lungs import lung_mask, lung_region
from specialists.imaging.measure import core_attenuation, measure_lesions
from specialists.imaging.phantom import WORKING_SPACING, make_phantom

SP = WORKING_SPACING


def _sphere_scene(diameter_mm: float, hu: float = 35.0, noise: float = 0.0):
    """Lung at -860 HU with one sphere of ``hu``, blurred like a scanner; the mask one voxel wider (a segmentation)."""
    shape = (32, 64, 64)
    z, y, x = np.mgrid[: shape[0], : shape[1], : shape[2]]
    d = np.sqrt(((z - 16) * SP[0]) ** 2 + ((y - 32) * SP[1]) ** 2 + ((x - 32) * SP[2]) ** 2)
    image = np.where(d <= diameter_mm / 2, hu, -860.0).astype(np.float32)
    image = ndimage.gaussian_filter(image, 0.6)  # the phantoms' point-spread
    image += np.random.default_rng(0).normal(scale=noise, size=shape).astype(np.float32) if noise else 0
    mask = d <= diameter_mm / 2 + 0.6  # segmentations include partial-volume edge voxels
    return image, mask


@pytest.mark.parametrize("diameter", [6.0, 12.0])
def test_core_density_is_the_planted_density_where_the_whole_mask_is_not(diameter):
    image, mask = _sphere_scene(diameter, 35.0, noise=10.0)
    mean, median, method, n = core_attenuation(mask, image, SP)
    assert abs(mean - 35.0) <= 15 and abs(median - 35.0) <= 15 and n >= 4
    whole = float(image[mask].mean())
    assert whole < 35.0 - 60  # partial volume drags the plain mean towards lung
    assert ("inside the lesion edge" in method) if diameter == 12.0 else method


def test_small_lesions_use_the_central_sphere():
    image, mask = _sphere_scene(3.2, 30.0)
    _, median, method, n = core_attenuation(mask, image, SP)
    assert method.startswith("central sphere of radius") and 1 <= n < 40
    assert median > -200  # the centre of a 3 mm solid nodule still reads as soft tissue


def test_lesion_carries_core_numbers_and_category():
    image, mask = _sphere_scene(12.0, 35.0)
    lesions, _ = measure_lesions(mask, image, SP)
    les = lesions[0]
    assert les.category == "nodule" and abs(les.core_mean_hu - 35) <= 15 and les.core_voxels > 0
    d = les.to_dict()
    assert {"core_mean_hu", "core_median_hu", "core_method", "category"} <= set(d)
    big, _ = measure_lesions(mask, image, SP, mass_above_mm=10.0)
    assert big[0].category == "mass"


@pytest.fixture(scope="module")
def chest():
    """A short chest phantom from the lung bases into the upper abdomen (stomach gas bubble, liver)."""
    return make_phantom(4, shape=(48, 160, 160), spacing=SP, anatomy="chest", coverage=(0.08, 0.4),
                        diameters_mm=[9.0], kinds=["solid"], shapes=["round"])


def test_lung_mask_matches_the_phantom_and_leaves_out_gas(chest):
    lungs = lung_mask(chest.image, chest.spacing)
    truth = chest.lung_mask
    dice = 2 * (lungs & truth).sum() / (lungs.sum() + truth.sum())
    assert dice > 0.95
    assert lungs[chest.mask > 0].all()  # nodules are inside the (hole-filled) lungs
    gas = (chest.image < -950) & ~truth & ndimage.binary_erosion(chest.image > -600, iterations=0)
    inner_gas = gas & (np.arange(chest.image.shape[0])[:, None, None] < 5)
    assert not (lungs & inner_gas).any()
    assert not lungs[:3].any()  # the lowest slices are abdomen only
    region = lung_region(lungs, chest.spacing)
    assert region is not None and region.y.stop - region.y.start <= chest.image.shape[1]
    assert (region.y.stop - region.y.start) % 16 == 0 and (region.x.stop - region.x.start) % 16 == 0


def test_no_lung_no_region():
    neck = make_phantom(2, shape=(20, 96, 96), spacing=SP, anatomy="chest", coverage=(0.92, 1.0), n_nodules=0)
    lungs = lung_mask(neck.image, neck.spacing)
    assert not lungs.any() and lung_region(lungs, neck.spacing) is None
    assert (neck.image < -900).any()  # the trachea is air inside the body, yet not lung


def test_candidates_outside_the_lungs_or_at_lung_density_are_set_aside(chest):
    lungs = lung_mask(chest.image, chest.spacing)
    labels = np.zeros(chest.image.shape, np.int32)
    labels[chest.mask == 1] = 1  # the real nodule
    zs, ys, xs = np.nonzero(~lungs & (chest.image > 30) & (chest.image < 80))  # liver
    k = len(zs) // 2
    labels[zs[k] - 1:zs[k] + 2, ys[k] - 3:ys[k] + 3, xs[k] - 3:xs[k] + 3] = 2
    zl, yl, xl = np.nonzero(ndimage.binary_erosion(lungs, iterations=6) & (chest.mask == 0))
    k = len(zl) // 3
    labels[zl[k] - 1:zl[k] + 2, yl[k] - 2:yl[k] + 2, xl[k] - 2:xl[k] + 2] = 3  # aerated lung
    kept, aside = plausibility.screen(labels, [1, 2, 3], chest.image, chest.spacing, lungs,
                                      plausibility.DEFAULT_RULES)
    assert kept == [1]
    assert sorted(a.reason for a in aside) == ["at aerated-lung density", "outside the lungs"]
    text = plausibility.describe(aside)
    assert text.startswith("2 further candidates (") and "not called nodules" in text
    assert plausibility.screen(labels, [1], chest.image, chest.spacing, None, plausibility.DEFAULT_RULES)[0] == []


def test_chest_phantom_records_planted_density_and_covers_neck_and_abdomen():
    ph = make_phantom(9, shape=(80, 128, 128), spacing=(3.0, 1.6, 1.6), anatomy="chest", n_nodules=3)
    z_lung = np.nonzero(ph.lung_mask.any(axis=(1, 2)))[0]
    assert z_lung.min() > 5 and z_lung.max() < 74  # slices below (abdomen) and above (neck) the lungs
    for n in ph.nodules:
        assert np.isfinite(n.hu) and ph.lung_mask[ph.mask == n.label].all()
        assert (n.solid_hu is not None) == (n.kind == "part-solid")


def test_a_large_nodule_reaching_the_pleura_is_still_in_the_lung():
    """The lung mask has no hole for a nodule that touches the chest wall; lung around it still counts."""
    shape = (48, 96, 96)
    z, y, x = np.mgrid[: shape[0], : shape[1], : shape[2]]
    image = np.full(shape, -1000.0, np.float32)  # room air
    body = ((y - 48) / 44.0) ** 2 + ((x - 48) / 44.0) ** 2 <= 1
    image[body] = 40.0
    lung = body & (((y - 48) / 34.0) ** 2 + ((x - 48) / 34.0) ** 2 <= 1) & (z > 4) & (z < 43)
    image[lung] = -860.0
    d = np.sqrt(((z - 24) * SP[0]) ** 2 + ((y - 48) * SP[1]) ** 2 + ((x - 78) * SP[2]) ** 2)
    nodule = d <= 10.0  # 20 mm, its edge on the lung's lateral wall
    image[nodule] = 30.0
    lungs = lung_mask(image, SP, step=1)
    assert lungs[nodule].mean() < 0.5  # not enclosed: the mask alone would call it outside
    labels = np.zeros(shape, np.int32)
    labels[nodule] = 1
    labels[(z > 20) & (z < 26) & (y > 2) & (y < 8) & (x > 44) & (x < 52)] = 2  # chest-wall soft tissue
    kept, aside = plausibility.screen(labels, [1, 2], image, SP, lungs, plausibility.DEFAULT_RULES)
    assert kept == [1] and [a.reason for a in aside] == ["outside the lungs"]


def test_a_volume_without_recorded_spacing_is_flagged_out_of_distribution() -> None:
    from specialists.imaging.intake import Volume
    from specialists.imaging.pipeline import ood_reasons

    ph = make_phantom(3, shape=(24, 96, 96))
    known = Volume(ph.image, (1.0, 1.0, 1.0), np.eye(4), "CT", "x.dcm")
    unknown = Volume(ph.image, (1.0, 1.0, 1.0), np.eye(4), "CT", "x.dcm", spacing_known=False)
    assert not any("spacing" in r for r in ood_reasons(known, ph.image))
    assert any("voxel spacing is not recorded" in r for r in ood_reasons(unknown, ph.image))


def test_a_nodule_joined_to_tissue_outside_the_lung_is_cut_free() -> None:
    """One component: a 12 mm nodule in the lung joined by a bridge to a large blob beyond the pleura."""
    lungs = np.zeros((40, 80, 80), bool)
    lungs[:, :, :40] = True
    z, y, x = np.mgrid[:40, :80, :80]
    image = np.where(lungs, -850.0, 40.0).astype(np.float32)
    nodule = (z - 20) ** 2 + (y - 40) ** 2 + (x - 30) ** 2 <= 7**2
    blob = (x >= 40) & (x < 75) & (y > 10) & (y < 70) & (z > 5) & (z < 35)
    bridge = (abs(z - 20) <= 0) & (abs(y - 40) <= 0) & (x >= 30) & (x < 40)
    image[nodule] = 30.0
    comp = nodule | blob | bridge
    labels, n = ndimage.label(comp)
    assert n == 1
    kept, aside = plausibility.screen(labels, [1], image, (1.0, 1.0, 1.0), lungs, plausibility.DEFAULT_RULES)
    assert aside[0].reason == "outside the lungs" and len(kept) == 1
    piece = labels == kept[0]
    assert (piece & nodule).sum() >= 0.9 * nodule.sum() and not (piece & blob).any()
    no_split = plausibility.DEFAULT_RULES | {"split": False}
    labels2, _ = ndimage.label(comp)
    assert plausibility.screen(labels2, [1], image, (1.0, 1.0, 1.0), lungs, no_split)[0] == []


def _chest_scene():
    """A round body (40 HU) with one lung (-860 HU) in room air; coordinates and the lung."""
    shape = (40, 96, 96)
    z, y, x = np.mgrid[: shape[0], : shape[1], : shape[2]]
    image = np.full(shape, -1000.0, np.float32)
    image[((y - 48) / 44.0) ** 2 + ((x - 48) / 44.0) ** 2 <= 1] = 40.0
    lung = (((y - 48) / 34.0) ** 2 + ((x - 48) / 34.0) ** 2 <= 1) & (z > 3) & (z < 36)
    image[lung] = -860.0
    return image, (z, y, x), lung


def test_a_nodule_joined_to_the_chest_wall_by_a_vessel_is_in_the_lung():
    image, (z, y, x), _ = _chest_scene()
    d = np.sqrt(((z - 20) * SP[0]) ** 2 + ((y - 48) * SP[1]) ** 2 + ((x - 48) * SP[2]) ** 2)
    nodule = d <= 6.0
    # A 3 mm vessel from the nodule to the lateral pleura: in 3-D the nodule is no longer enclosed.
    vessel = (np.sqrt(((z - 20) * SP[0]) ** 2 + ((y - 48) * SP[1]) ** 2) <= 1.5) & (x >= 48) & (x <= 84)
    image[nodule | vessel] = 40.0
    lungs = lung_mask(image, SP, step=1)
    assert lungs[nodule].all()
    assert not lungs[(x > 84) & (z == 20) & (y == 48)].any()  # the chest wall stays out


def test_a_juxtapleural_nodule_joined_to_the_chest_wall_is_cut_free_and_a_pleural_rim_is_not():
    image, (z, y, x), lung = _chest_scene()
    d = np.sqrt(((z - 20) * SP[0]) ** 2 + ((y - 48) * SP[1]) ** 2 + ((x - 76) * SP[2]) ** 2)
    nodule = lung & (d <= 7.0)  # 14 mm, on the lateral pleura (which lies 6.4 mm from its centre)
    image[nodule] = 40.0
    wall = ~lung & (((y - 48) / 44.0) ** 2 + ((x - 48) / 44.0) ** 2 <= 1)  # chest wall next to the lung
    labels = np.zeros(image.shape, np.int32)
    labels[(nodule | wall) & (np.abs(z - 20) <= 12) & (np.abs(y - 48) <= 24) & (x > 60)] = 1
    ring = ((y - 48) / 34.0) ** 2 + ((x - 48) / 34.0) ** 2
    rim = lung & (ring > 0.86) & (np.abs(z - 20) <= 6) & (x < 30)  # 2.5 mm of pleura-hugging lung
    labels[(rim | wall) & (np.abs(z - 20) <= 6) & (x < 30)] = 2
    kept, aside = plausibility.screen(labels, [1, 2], image, SP, lung, plausibility.DEFAULT_RULES)
    assert len(kept) == 1 and labels[nodule].mean() > 0 and np.isin(labels[nodule], kept).mean() > 0.8
    assert not np.isin(labels[rim], kept).any()
    assert sum(a.reason == "outside the lungs" for a in aside) == 2


def test_a_nodule_resting_on_the_diaphragm_is_in_the_lung_and_the_liver_is_not():
    image, (z, y, x), lung = _chest_scene()
    r_in = np.sqrt(((y - 48) * SP[1]) ** 2 + ((x - 48) * SP[2]) ** 2)
    liver = (r_in <= 20.0) & (z <= 10)  # a flat-topped dome under the lung base, ringed by lung
    image[liver] = 40.0
    d = np.sqrt(((z - 14.6) * SP[0]) ** 2 + ((y - 48) * SP[1]) ** 2 + ((x - 48) * SP[2]) ** 2)
    nodule = d <= 6.0  # 12 mm, resting on the dome over a 7 mm wide contact (no thin bridge)
    image[nodule] = 40.0
    lungs = lung_mask(image, SP, step=1)
    assert lungs[nodule].mean() > 0.95
    assert lungs[liver].mean() < 0.05  # only the dome's sharp rim is rounded off; the liver stays out


def test_a_slab_of_soft_tissue_wider_than_a_nodule_with_lung_around_it_is_not_a_mass():
    """Over 3 cm across, only voxels inside the lung mask count: lung above and below is not enough."""
    shape = (40, 96, 96)
    z, y, x = np.mgrid[: shape[0], : shape[1], : shape[2]]
    image = np.full(shape, -860.0, np.float32)
    lungs = np.ones(shape, bool)
    slab = (np.abs(z - 20) <= 4) & (np.abs(y - 48) <= 25) & (np.abs(x - 48) <= 25)  # 41 x 41 mm, 11 mm thick
    image[slab] = 50.0
    lungs[slab] = False  # outside the mask, lung above and below it (a short field of view's liver dome)
    enclosed = ((z - 20) * SP[0]) ** 2 + ((y - 48) * SP[1]) ** 2 + ((x - 48) * SP[2]) ** 2 <= 17.0 ** 2  # 34 mm
    for region, expect_kept in ((slab, False), (enclosed, True)):
        img = image.copy() if expect_kept is False else np.where(enclosed, 40.0, -860.0).astype(np.float32)
        mask = lungs if expect_kept is False else np.ones(shape, bool)
        labels = region.astype(np.int32)
        kept, aside = plausibility.screen(labels, [1], img, SP, mask, plausibility.DEFAULT_RULES)
        assert (kept == [1]) is expect_kept, (expect_kept, aside)
    # the same slab 2 cm across is a nodule candidate: lung surrounds it
    small = (np.abs(z - 20) <= 4) & (np.abs(y - 48) <= 12) & (np.abs(x - 48) <= 12)
    lungs2 = np.ones(shape, bool)
    lungs2[small] = False
    img = np.where(small, 50.0, -860.0).astype(np.float32)
    assert plausibility.screen(small.astype(np.int32), [1], img, SP, lungs2, plausibility.DEFAULT_RULES)[0] == [1]
