"""The segmentation's inference paths side by side, and the choice of the default one.

Each variant is an :class:`~specialists.imaging.segment.InferenceOptions`: the reference path
(PyTorch, sliding windows, every slice: version 0.1's), the same network inside the lungs'
bounding box on whole slices, ONNX Runtime fp32 and ONNX Runtime int8 there. A faster variant
may become the default only if its Dice and diameter error stay within :data:`DICE_TOLERANCE`
and :data:`DIAMETER_TOLERANCE_MM` of the reference on validation phantoms and it loses no
nodule the reference finds; the test phantoms only report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from specialists.imaging.segment import InferenceOptions

DICE_TOLERANCE = 0.01
DIAMETER_TOLERANCE_MM = 0.1
VARIANTS: dict[str, InferenceOptions] = {
    "reference_torch_all_slices": InferenceOptions.reference(),
    "torch_lung_crop": InferenceOptions(engine="torch"),
    "onnx_lung_crop": InferenceOptions(engine="onnx"),
    "onnx_int8_lung_crop": InferenceOptions(engine="onnx-int8"),
}
KEYS = ("dice", "dice_pooled", "mean_diameter_abs_error_mm_median", "mean_diameter_abs_error_mm_mean",
        "missed_nodules_ge_6mm", "missed_nodules_lt_6mm", "false_positives_per_volume", "segment_seconds_per_volume")


def compare(bundle: Path, n_volumes: int, start_seed: int, shape: tuple[int, int, int],
            variants: dict[str, InferenceOptions] | None = None) -> dict[str, Any]:
    """Each variant's accuracy and time on the same phantoms, and its differences from the reference."""
    from specialists.imaging.evaluate import evaluate_segmentation

    variants = variants or VARIANTS
    out: dict[str, Any] = {}
    per: dict[str, list[dict[str, Any]]] = {}
    for name, opts in variants.items():
        m = evaluate_segmentation(bundle, n_volumes, start_seed, shape, options=opts, per_nodule=True)
        per[name] = m.pop("per_nodule")
        out[name] = {k: m[k] for k in KEYS}
    ref_name = next(iter(variants))
    ref = out[ref_name]
    found_ref = {(r["seed"], r["label"]) for r in per[ref_name] if r["found"]}
    for name in variants:
        row = out[name]
        found = {(r["seed"], r["label"]) for r in per[name] if r["found"]}
        row["dice_minus_reference"] = round(row["dice"] - ref["dice"], 4)
        a, b = ref["mean_diameter_abs_error_mm_mean"], row["mean_diameter_abs_error_mm_mean"]
        row["diameter_error_minus_reference_mm"] = round(b - a, 3) if a is not None and b is not None else None
        row["nodules_lost_vs_reference"] = len(found_ref - found)
        row["time_ratio_to_reference"] = round(row["segment_seconds_per_volume"] / max(ref["segment_seconds_per_volume"], 1e-9), 3)
        row["within_tolerance"] = bool(abs(row["dice_minus_reference"]) <= DICE_TOLERANCE
                                       and row["diameter_error_minus_reference_mm"] is not None
                                       and abs(row["diameter_error_minus_reference_mm"]) <= DIAMETER_TOLERANCE_MM
                                       and row["nodules_lost_vs_reference"] == 0)
    return {"phantoms": {"n_volumes": n_volumes, "seeds": [start_seed, start_seed + n_volumes], "shape": list(shape)},
            "variants": out, "tolerance": {"dice": DICE_TOLERANCE, "diameter_mm": DIAMETER_TOLERANCE_MM}}


def choose(validation: dict[str, Any]) -> str:
    """The engine of the fastest lung-crop variant within tolerance on validation phantoms (``torch`` if none)."""
    names = {"torch_lung_crop": "torch", "onnx_lung_crop": "onnx", "onnx_int8_lung_crop": "onnx-int8"}
    ok = [(v["segment_seconds_per_volume"], names[k]) for k, v in validation["variants"].items()
          if k in names and v["within_tolerance"]]
    return min(ok)[1] if ok else "torch"
