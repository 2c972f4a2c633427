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


def test_the_lung_crop_runs_the_reference_windows():
    """Inside the region the crop path's probabilities are the reference's, for an instance-normalised network."""
    import torch
    from monai.networks.nets import UNet

    from specialists.imaging.lungs import LungRegion
    from specialists.imaging.segment import predict_probability

    torch.manual_seed(0)
    net = UNet(spatial_dims=2, in_channels=5, out_channels=1, channels=(4, 8), strides=(2,), num_res_units=1).eval()
    params = {"slice_offsets": [-4, -2, 0, 2, 4], "hu_window": [-1000, 400], "roi_size": [32, 32], "overlap": 0.25,
              "sw_batch_size": 4}
    image = np.random.default_rng(0).normal(-500, 400, (7, 80, 72)).astype(np.float32)
    ref = predict_probability(net, image, params)
    region = LungRegion(slice(1, 6), slice(17, 50), slice(30, 72))
    fast = predict_probability(net, image, params, region=region, chunk=3)
    np.testing.assert_allclose(fast[region.slices], ref[region.slices], atol=1e-5)
    outside = np.ones(image.shape, bool)
    outside[region.slices] = False
    assert not fast[outside].any()
    # Windows laid over the crop itself normalise other content: the probabilities would move.
    crop = predict_probability(net, image[:, region.y, region.x], params)
    assert np.abs(crop[region.z] - ref[region.slices]).max() > 1e-3


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 1.0 if not (a.any() or b.any()) else 2 * (a & b).sum() / (a.sum() + b.sum())


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
