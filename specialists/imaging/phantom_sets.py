"""The phantom data sets of the imaging models: one recipe per model, each drawn from a seed.

A phantom is a pure function of its seed, so a recipe plus a seed range of
:data:`specialists.splits.PHANTOM_SEEDS` *is* a data set (training, validation or test). Training
and evaluation both take their phantoms from here, so evaluation never imports training code.
"""

from __future__ import annotations

import numpy as np

from specialists.imaging.phantom import WORKING_SPACING, draw_coverage, make_phantom

#: Nodule sizes of the small-nodule training phantoms (small solid nodules look like vessel
#: cross-sections on one slice: they were the misses of a model trained without them).
SMALL_RANGE_MM = (3.0, 8.0)


def training_phantom(seed: int, shape=(40, 160, 160), size_range_mm=(3.0, 30.0)):
    """One segmentation phantom: 2–5 nodules, 10–30 HU noise, 6–15 vessel trees, all drawn from ``seed``.

    Chest anatomy: a window of a chest CT's height that often holds the lung bases and upper
    abdomen or the apices and neck (:func:`~specialists.imaging.phantom.draw_coverage`), so the
    network learns that the liver, the stomach's gas bubble or the trachea are not nodules.
    """
    rng = np.random.default_rng(seed)
    n, noise, vessels = int(rng.integers(2, 6)), float(rng.uniform(10, 30)), int(rng.integers(6, 16))
    return make_phantom(seed, shape=shape, spacing=WORKING_SPACING, n_nodules=n, noise_hu=noise, n_vessels=vessels,
                        size_range_mm=size_range_mm, anatomy="chest", coverage=draw_coverage(rng))


def cls_phantom(seed: int):
    """A classifier phantom: four nodules, 10–30 HU noise, a window of a chest CT's height, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    noise = float(rng.uniform(10, 30))
    return make_phantom(seed, shape=(40, 160, 160), spacing=WORKING_SPACING, n_nodules=4, noise_hu=noise,
                        anatomy="chest", coverage=draw_coverage(rng, weights=(0.3, 0.2, 0.5)))


#: Nodule sizes and gap to the lung floor of the basal phantoms.
BASAL_RANGE_MM = (4.0, 12.0)
BASAL_GAP_MM = (1.0, 4.0)


def basal_phantom(seed: int, shape=(48, 160, 160)):
    """Juxta-diaphragmatic nodules: 2–4 nodules 4–12 mm just above a diaphragm dome or the lung base.

    The window holds the lung bases and upper abdomen; each nodule's lowest point is 1–4 mm of lung
    above the floor (:data:`BASAL_GAP_MM`), so the slices just beneath it show the dome. The
    network trained on nodules anywhere in the lungs under-segmented these and the false-positive
    filter then dropped them (a 6 mm one in a 512 × 512 × 300 series).
    """
    rng = np.random.default_rng(seed)
    n, noise, vessels = int(rng.integers(2, 5)), float(rng.uniform(10, 30)), int(rng.integers(6, 16))
    return make_phantom(seed, shape=shape, spacing=WORKING_SPACING, n_nodules=n, noise_hu=noise, n_vessels=vessels,
                        size_range_mm=BASAL_RANGE_MM, anatomy="chest",
                        coverage=draw_coverage(rng, width=(0.2, 0.45), weights=(1.0, 0.0, 0.0)),
                        floor_gap_mm=BASAL_GAP_MM)
