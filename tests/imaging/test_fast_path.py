"""The fast inference path (lung crop, ONNX Runtime, int8) gives the reference path's lesions; progress is reported."""

from __future__ import annotations

import numpy as np
import pytest

from specialists.imaging.phantom import WORKING_SPACING, make_phantom
from specialists.imaging.pipeline import seg_bundle
from specialists.imaging.segment import InferenceOptions, segment_array


@pytest.fixture(scope="module")
def chest_case():
    """A chest window from the lung bases into the upper abdomen with two solid nodules."""
    return make_phantom(31, shape=(40, 160, 160), spacing=WORKING_SPACING, anatomy="chest", coverage=(0.12, 0.42),
                        diameters_mm=[10.0, 6.0], kinds=["solid", "solid"], shapes=["round", "lobulated"])


@pytest.fixture(scope="module")
def reference(chest_case):
    b = seg_bundle()
    return segment_array(b.network, chest_case.image, chest_case.spacing, b.params, options=InferenceOptions.reference(),
                         bundle_path=b.path)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 1.0 if not (a.any() or b.any()) else 2 * (a & b).sum() / (a.sum() + b.sum())


# Known gap (issue 19, open): on this chest window the lung-crop path's mask differs from the reference path's
# (Dice 0.76), and the shipped network misses a planted nodule there; strict, so a fix shows up as a failure here.
KNOWN_GAP = pytest.mark.xfail(strict=True, reason="lung-crop fast path not yet equivalent to the reference path on "
                                                  "chest-anatomy phantoms (issue 19)")


@KNOWN_GAP
@pytest.mark.parametrize("engine", ["torch", "onnx", "onnx-int8"])
def test_fast_paths_find_the_reference_lesions(chest_case, reference, engine):
    b = seg_bundle()
    fast = segment_array(b.network, chest_case.image, chest_case.spacing, b.params,
                         options=InferenceOptions(engine=engine), bundle_path=b.path)
    assert fast.region is not None and fast.region.fraction_of(chest_case.image.shape) < 1.0
    assert len(fast.lesions) == len(reference.lesions)
    assert _dice(fast.labels > 0, reference.labels > 0) >= 0.97
    for a, r in zip(fast.lesions, reference.lesions, strict=True):
        assert abs(a.mean_diameter_mm - r.mean_diameter_mm) <= 0.3
        assert abs(a.core_mean_hu - r.core_mean_hu) <= 5
    # Inside the lung region the probabilities agree; outside it the fast path computes nothing.
    inside = np.zeros(chest_case.image.shape, bool)
    inside[fast.region.slices] = True
    assert np.abs(fast.probability - reference.probability)[inside & chest_case.lung_mask].mean() < 0.01
    assert not fast.probability[~inside].any()


@pytest.mark.xfail(strict=True, reason="the shipped network misses a planted nodule of this chest window (issue 15/19)")
def test_both_paths_find_the_planted_nodules(chest_case, reference):
    for n in chest_case.nodules:
        assert reference.labels[chest_case.mask == n.label].any()


def test_progress_is_reported_stage_by_stage(tmp_path, chest_case):
    from specialists.imaging.phantom import write_phantom_nifti
    from specialists.imaging.pipeline import segment_file

    path = write_phantom_nifti(chest_case, tmp_path / "chest.nii.gz")
    seen: list[tuple[str, float]] = []
    rep = segment_file(path, tmp_path / "out", progress=lambda stage, f: seen.append((stage, f)))
    stages = [s for s, _ in seen]
    for name in ("read", "resample", "lungs", "segment", "filter", "measure", "overlays", "save"):
        assert name in stages
    assert stages.index("read") < stages.index("segment") < stages.index("measure") < stages.index("overlays")
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0.0 <= fractions[0] < 0.1
    assert set(rep.seconds) >= {"read", "segment", "measure"} and rep.patches_path and rep.patches_path.is_file()
