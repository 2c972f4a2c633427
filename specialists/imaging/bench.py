"""Benchmarks of the imaging specialist: segmentation of a 256×256×128 CT, Grad-CAM per lesion.

Run ``python -m specialists.imaging.bench`` (prints JSON); ``make bench`` calls :func:`run_benchmarks`.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_benchmarks(seed: int = 7, threads: int | None = None) -> dict[str, float]:
    """Seconds and peak memory to segment a 256×256×128 phantom CT (0.7×0.7×1.25 mm), Grad-CAM s/lesion.

    The timing covers resampling to the working spacing, inference and measurement (not file
    reading). Peak memory is the process's peak resident set size (run it in a fresh process for a
    clean number).
    """
    import numpy as np
    import torch

    from specialists.imaging.classify import extract_patch, gradcam
    from specialists.imaging.intake import to_working_spacing
    from specialists.imaging.phantom import make_phantom, phantom_to_volume
    from specialists.imaging.pipeline import cls_bundle, seg_bundle
    from specialists.imaging.segment import segment_array

    if threads:
        torch.set_num_threads(threads)
    ph = make_phantom(seed, shape=(128, 256, 256), spacing=(1.25, 0.7, 0.7), n_nodules=4)
    vol = phantom_to_volume(ph)
    sb, cb = seg_bundle(), cls_bundle()
    rss0 = _peak_rss_mb()
    t0 = time.perf_counter()
    image, spacing, z_scale = to_working_spacing(vol, tuple(sb.params["working_spacing_mm"]))
    seg = segment_array(sb.network, image, spacing, sb.params, z_scale=z_scale)
    seg_s = time.perf_counter() - t0
    rss1 = _peak_rss_mb()
    n = 0
    t1 = time.perf_counter()
    for les in seg.lesions[:4]:
        patch = extract_patch(image, spacing, (les.working_slice,) + les.centroid[1:], les.long_axis_mm, cb.params)
        gradcam(cb.network, patch, 0, cb.params["gradcam_layer"])
        n += 1
    cam_s = (time.perf_counter() - t1) / max(n, 1)
    return {"imaging_seg_seconds_256x256x128": round(seg_s, 2), "imaging_seg_peak_rss_mb": round(rss1, 0),
            "imaging_seg_rss_increase_mb": round(rss1 - rss0, 0), "imaging_gradcam_seconds_per_lesion": round(cam_s, 3),
            "imaging_lesions_found": len(seg.lesions), "torch_threads": torch.get_num_threads(),
            "planted_nodules": len(ph.nodules), "voxels": int(np.prod(ph.image.shape))}


if __name__ == "__main__":
    print(json.dumps(run_benchmarks(threads=int(sys.argv[1]) if len(sys.argv) > 1 else None), indent=2))
