"""Held-out evaluation of the segmentation bundle on chest phantoms of unseen seeds.

Three phantom sizes: the 48-slice test phantoms (a window of a chest's height, often with neck or
upper abdomen), ``LARGE_SHAPE`` and ``FULL_SHAPE`` (a whole chest CT, neck to upper abdomen, the
size of a 512 × 512 × 300 series at the working spacing). Seeds: validation 5000+ (post-processing
and the false-positive filter's cut are chosen there), test 9000+ (only measured). The
classifier's evaluation is :func:`classification_metrics`; model cards are :mod:`specialists.imaging.cards`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from specialists.imaging.cards import CLS_TARGETS, SEG_TARGETS, write_cls_card, write_seg_card  # noqa: F401
from specialists.imaging.measure import axial_diameters
from specialists.imaging.phantom import WORKING_SPACING, draw_coverage, make_phantom
from specialists.splits import PHANTOM_SEEDS

SEG_TEST_SEEDS_START = PHANTOM_SEEDS.seg_test_start
SEG_VAL_SEEDS_START = PHANTOM_SEEDS.seg_val_start  # post-processing is chosen on these, never on the test seeds
LARGE_SHAPE = (112, 256, 256)  # closer to a real chest CT than the 48-slice phantoms
FULL_SHAPE = (240, 448, 448)  # a 512 x 512 x 300 series (0.7 x 0.7 x 1.0 mm) at the working spacing
FULL_VAL_SEEDS_START, FULL_TEST_SEEDS_START = PHANTOM_SEEDS.full_val_start, PHANTOM_SEEDS.full_test_start
BASAL_VAL_SEEDS_START, BASAL_TEST_SEEDS_START = PHANTOM_SEEDS.basal_val_start, PHANTOM_SEEDS.basal_test_start
DICE_SLACK = 0.01


def _gt_diameter(comp: np.ndarray, spacing: tuple[float, float, float]) -> float:
    zk = int(np.argmax(comp.sum(axis=(1, 2))))
    long_mm, short_mm = axial_diameters(comp[zk], spacing[1:])
    return (long_mm + short_mm) / 2


def eval_phantom(seed: int, shape: tuple[int, int, int]):
    """An evaluation phantom: 2–4 nodules (3–5 for a whole chest), 10–30 HU noise, chest anatomy.

    Shorter than a whole chest, it covers a window of the body's height (often the lung bases and
    upper abdomen, or the apices and neck); ``FULL_SHAPE`` covers neck to upper abdomen.
    """
    rng = np.random.default_rng(seed)
    full = tuple(shape) == FULL_SHAPE
    n = int(rng.integers(3, 6)) if full else int(rng.integers(2, 5))
    noise = float(rng.uniform(10, 30))
    coverage = (0.0, 1.0) if full else draw_coverage(rng, width=(0.2, 0.45) if shape[0] <= 64 else (0.4, 0.7))
    return make_phantom(seed, shape=shape, spacing=WORKING_SPACING, n_nodules=n, noise_hu=noise, anatomy="chest",
                        coverage=coverage)


def candidates(b: Any, ph: Any, params: dict[str, Any] | None = None, options: Any = None):
    """The pipeline's candidates before the false-positive filter: ``(labels, ids, prob, lungs, set_aside)``.

    Probability from the bundle's inference path (``options``), components at the bundle's
    threshold and smallest volume, then the plausibility rules.
    """
    from specialists.imaging import fpr, plausibility
    from specialists.imaging.engines import make_engine, whole_slices
    from specialists.imaging.lungs import lung_mask, lung_region
    from specialists.imaging.segment import InferenceOptions, predict_probability

    params = params or b.params
    opts = options or InferenceOptions.from_params(params)
    lungs = lung_mask(ph.image, ph.spacing)
    region = lung_region(lungs, ph.spacing, opts.margin_mm) if opts.crop_to_lungs else None
    engine, _ = make_engine(b.path, b.network, opts.engine, threads=opts.threads) if opts.engine != "torch" else (None, "")
    if engine is not None and engine.name == "torch":
        engine = None
    if opts.crop_to_lungs and region is None:
        prob = np.zeros(ph.image.shape, np.float32)
    else:
        margin = (int(np.ceil(opts.margin_mm / ph.spacing[1])), int(np.ceil(opts.margin_mm / ph.spacing[2])))
        prob = predict_probability(b.network, ph.image, params, region=region, engine=engine,
                                   whole=opts.crop_to_lungs and whole_slices(b.network), lungs=lungs, margin_px=margin)
    labels, ids = fpr.components(prob, float(params.get("threshold", 0.5)), float(params.get("min_volume_mm3", 0.0)),
                                 ph.spacing)
    ids, aside = plausibility.screen(labels, ids, ph.image, ph.spacing, lungs, plausibility.rules_of(params))
    return labels, ids, prob, lungs, aside


def select_postprocessing(bundle: Path, n_volumes: int = 40, start_seed: int = SEG_VAL_SEEDS_START,
                          shape: tuple[int, int, int] = (48, 160, 160),
                          thresholds: tuple[float, ...] = (0.4, 0.5, 0.6),
                          min_volumes: tuple[float, ...] = (10.0, 15.0, 20.0)) -> dict[str, Any]:
    """Choose the probability threshold and smallest lesion volume on validation phantoms.

    Among pairs that miss no nodule ≥ 6 mm and whose mean per-volume Dice is within
    ``DICE_SLACK`` of the best, the one missing the fewest smaller nodules wins (then the higher Dice).
    Candidates are screened by the plausibility rules first, as in the pipeline.
    Returns the choice and the whole grid (for the model card).
    """
    from specialists.imaging.bundle import SEG_BUNDLE, load_bundle

    b = load_bundle(bundle, SEG_BUNDLE)
    vols = []
    for s in range(start_seed, start_seed + n_volumes):
        ph = eval_phantom(s, shape)
        # Everything above the lowest threshold, screened once; higher thresholds re-cut it.
        params = dict(b.params, threshold=min(thresholds), min_volume_mm3=0.0)
        labels, ids, prob, _, _ = candidates(b, ph, params)
        vols.append((ph, np.where(np.isin(labels, ids), prob, 0.0)))
    from scipy import ndimage

    structure = ndimage.generate_binary_structure(3, 2)
    voxel = float(np.prod(WORKING_SPACING))
    grid = []
    for t in thresholds:
        for mv in min_volumes:
            dices, missed_big, missed_small = [], 0, 0
            for ph, prob in vols:
                lab, _ = ndimage.label(prob >= t, structure=structure)
                sizes = np.bincount(lab.ravel())
                keep = sizes * voxel >= mv
                keep[0] = False
                pred, gt = keep[lab], ph.mask > 0
                denom = pred.sum() + gt.sum()
                dices.append(1.0 if denom == 0 else 2 * (pred & gt).sum() / denom)
                for nod in ph.nodules:
                    if not pred[ph.mask == nod.label].any():
                        missed_big += nod.diameter_mm >= 6
                        missed_small += nod.diameter_mm < 6
            grid.append({"threshold": t, "min_volume_mm3": mv, "dice": round(float(np.mean(dices)), 4),
                         "missed_ge_6mm": int(missed_big), "missed_lt_6mm": int(missed_small)})
    ok = [g for g in grid if g["missed_ge_6mm"] == 0] or grid
    top = max(g["dice"] for g in ok)
    # Sensitivity first: a missed nodule matters more than a small false positive, which costs Dice.
    near = [g for g in ok if g["dice"] >= top - DICE_SLACK]
    best = min(near, key=lambda g: (g["missed_lt_6mm"], -g["dice"]))
    return {"chosen": {"threshold": best["threshold"], "min_volume_mm3": best["min_volume_mm3"]},
            "validation_seeds": [start_seed, start_seed + n_volumes], "grid": grid}


FPR_TRAIN_SEEDS = PHANTOM_SEEDS.fpr_train  # subsets of the segmentation's training phantoms
FPR_MAX_LOST = 0.02  # share of validation nodules (all < 6 mm) the filter may lose for fewer false positives
FPR_MAX_FULL_FP = 1.5  # the filter's cut must bring whole-chest validation volumes to at most this
FPR_MAX_LOST_HARD = 0.10  # ... but never by losing more than this share of the nodules found (all < 6 mm)


def fit_fp_filter(bundle: Path, n_val: int = 40, n_val_large: int = 8, n_val_full: int = 4, n_val_basal: int = 24,
                  shape: tuple[int, int, int] = (48, 160, 160)) -> dict[str, Any]:
    """Fit the false-positive filter (:mod:`specialists.imaging.fpr`) and choose its cut.

    Fitted on the candidates under 6 mm (after the plausibility rules; larger ones are exempt, see
    :data:`specialists.imaging.fpr.EXEMPT_FROM_MM`) the bundle's network finds in training phantoms. The cut is chosen on validation phantoms of three sizes (false positives grow with
    the lung volume) and on basal phantoms (nodules just above a diaphragm dome): the lowest cut that brings whole-chest volumes to at most
    ``FPR_MAX_FULL_FP`` false positives, raised while it loses no nodule ≥ 6 mm and at most
    ``FPR_MAX_LOST`` of the nodules found without the filter. Returns the ``fp_filter`` config
    and its numbers.
    """
    from specialists.imaging import fpr
    from specialists.imaging.bundle import SEG_BUNDLE, load_bundle
    from specialists.imaging.phantom_sets import SMALL_RANGE_MM, basal_phantom, training_phantom

    b = load_bundle(bundle, SEG_BUNDLE)
    params = {k: v for k, v in b.params.items() if k != "fp_filter"}

    def found(ph: Any) -> tuple[np.ndarray, list[int], np.ndarray, list[int]]:
        """Candidates the filter judges (under 6 mm), their features, and the exempt ones."""
        labels, ids, prob, _, _ = candidates(b, ph, params)
        small = fpr.judged(labels, ids, ph.spacing)
        exempt = [i for i in ids if i not in small]
        return labels, small, fpr.component_features(labels, small, prob, ph.image, ph.spacing), exempt

    xs, ys = [], []
    recipes = [lambda s: training_phantom(s, shape), lambda s: training_phantom(s, shape, SMALL_RANGE_MM),
               lambda s: basal_phantom(s, shape)]
    for seeds, recipe in zip(FPR_TRAIN_SEEDS, recipes, strict=True):
        for s in seeds:
            ph = recipe(s)
            labels, ids, feats, _ = found(ph)
            xs.append(feats)
            ys += [bool((ph.mask[labels == i] > 0).any()) for i in ids]
    model = fpr.fit(np.concatenate(xs), np.array(ys))
    val = []
    large_start = SEG_VAL_SEEDS_START + 100
    plan = [(s, shape) for s in range(SEG_VAL_SEEDS_START, SEG_VAL_SEEDS_START + n_val)] + \
           [(s, LARGE_SHAPE) for s in range(large_start, large_start + n_val_large)] + \
           [(s, FULL_SHAPE) for s in range(FULL_VAL_SEEDS_START, FULL_VAL_SEEDS_START + n_val_full)]
    basal = set(range(BASAL_VAL_SEEDS_START, BASAL_VAL_SEEDS_START + n_val_basal))
    plan += [(s, shape) for s in sorted(basal)]
    for s, shp in plan:
        ph = basal_phantom(s, shp) if s in basal else eval_phantom(s, shp)
        labels, ids, feats, exempt = found(ph)
        # Keep only what the cut search needs: which candidate hits which nodule. Exempt candidates
        # (6 mm or more) are always kept: probability 1.
        hit = {i: set(np.unique(ph.mask[labels == i]).tolist()) - {0} for i in ids + exempt}
        q = fpr.lesion_probability(feats, model) if ids else np.zeros(0)
        val.append((ph.nodules, hit, ids + exempt, np.concatenate([q, np.ones(len(exempt))]),
                    tuple(shp) == FULL_SHAPE))
        del ph, labels

    def outcome(cut: float) -> tuple[set, set, int, int]:
        hits, big_hits, fps, full_fps = set(), set(), 0, 0
        for k, (nodules, hit, ids, q, full) in enumerate(val):
            kept = [i for i, x in zip(ids, q, strict=True) if x >= cut]
            covered = set().union(*(hit[i] for i in kept)) if kept else set()
            for n in nodules:
                if n.label in covered:
                    (big_hits if n.diameter_mm >= 6 else hits).add((k, n.label))
            n_fp = sum(1 for i in kept if not hit[i])
            fps += n_fp
            full_fps += n_fp if full else 0
        return hits, big_hits, fps, full_fps

    base_small, base_big, base_fp, base_full = outcome(0.0)
    allowed = int(FPR_MAX_LOST * (len(base_small) + len(base_big)))
    hard_cap = int(FPR_MAX_LOST_HARD * (len(base_small) + len(base_big)))
    n_full = max(sum(1 for v in val if v[4]), 1)
    cut, small, fp, full_fp = 0.0, base_small, base_fp, base_full
    for c in np.round(np.arange(0.01, 0.9, 0.01), 2):
        s_hits, b_hits, n_fp, n_full_fp = outcome(float(c))
        if b_hits != base_big or len(base_small - s_hits) > hard_cap:
            break
        if len(base_small - s_hits) > allowed and full_fp / n_full <= FPR_MAX_FULL_FP:
            break  # the full-size target is met; do not lose more small nodules
        cut, small, fp, full_fp = float(c), s_hits, n_fp, n_full_fp
    n_vols = len(val)
    return {"fp_filter": model | {"cut": cut},
            "numbers": {"train_components": len(ys), "train_true": int(sum(ys)),
                        "validation": f"seeds {SEG_VAL_SEEDS_START}-{SEG_VAL_SEEDS_START + n_val - 1} at {list(shape)}, "
                                      f"{large_start}-{large_start + n_val_large - 1} at {list(LARGE_SHAPE)} and "
                                      f"{FULL_VAL_SEEDS_START}-{FULL_VAL_SEEDS_START + n_val_full - 1} at "
                                      f"{list(FULL_SHAPE)}, and basal phantoms {BASAL_VAL_SEEDS_START}-"
                                      f"{BASAL_VAL_SEEDS_START + n_val_basal - 1} at {list(shape)}",
                        "cut": cut, "rule": f"highest cut losing no nodule >= 6 mm and at most {FPR_MAX_LOST:.0%} of "
                                            "the nodules found without the filter (more, up to "
                                            f"{FPR_MAX_LOST_HARD:.0%}, only while whole-chest volumes have over "
                                            f"{FPR_MAX_FULL_FP} false positives); candidates of 6 mm or more are "
                                            "exempt from the filter",
                        "validation_fp_per_volume_before": round(base_fp / n_vols, 2),
                        "validation_fp_per_volume_after": round(fp / n_vols, 2),
                        "validation_full_size_fp_per_volume_before": round(base_full / n_full, 2),
                        "validation_full_size_fp_per_volume_after": round(full_fp / n_full, 2),
                        "validation_nodules_found_before": len(base_small) + len(base_big),
                        "validation_nodules_lost": len(base_small - small)}}


def evaluate_segmentation(bundle: Path, n_volumes: int = 12, start_seed: int = SEG_TEST_SEEDS_START,
                          shape: tuple[int, int, int] = (48, 160, 160), options: Any = None,
                          per_nodule: bool = False, recipe: Any = None) -> dict[str, Any]:
    """Dice, diameter and volume errors, core density, misses and false positives on fresh phantoms.

    Diameter errors compare the Fleischner mean diameter measured on the predicted lesion with the
    same measurement on the exact phantom mask, so they isolate segmentation error. Core density is
    compared with the density planted in solid and ground-glass nodules (part-solid ones hold two).

    Args:
        options: the inference path (:class:`~specialists.imaging.segment.InferenceOptions`); the
            bundle's own when None.
        per_nodule: also return each nodule's measurement (for comparing inference paths).
        recipe: ``recipe(seed, shape) -> Phantom``; :func:`eval_phantom` when None.
    """
    from specialists.imaging.bundle import SEG_BUNDLE, load_bundle
    from specialists.imaging.segment import segment_array

    b = load_bundle(bundle, SEG_BUNDLE)
    dices, diam_err, vol_err, missed, missed_small, fps, n_nod, nominal_err = [], [], [], [], 0, 0, 0, []
    inter = total = filtered = aside = 0
    nodule_dice: list[float] = []
    core_err: list[tuple[float, float, float]] = []  # (diameter, core mean - planted, whole-mask mean - planted)
    rows: list[dict[str, Any]] = []
    seconds = 0.0
    for s in range(start_seed, start_seed + n_volumes):
        ph = (recipe or eval_phantom)(s, shape)
        t = time.perf_counter()
        seg = segment_array(b.network, ph.image, ph.spacing, b.params, options=options, bundle_path=b.path)
        seconds += time.perf_counter() - t
        filtered += seg.filtered
        aside += len(seg.set_aside)
        pred, gt = seg.labels > 0, ph.mask > 0
        denom = pred.sum() + gt.sum()
        dices.append(1.0 if denom == 0 else 2 * (pred & gt).sum() / denom)
        inter, total = inter + (pred & gt).sum(), total + denom
        vox = float(np.prod(ph.spacing))
        for nod in ph.nodules:
            n_nod += 1
            comp = ph.mask == nod.label
            hit = seg.labels[comp]
            hit = hit[hit > 0]
            if len(hit) == 0:
                if nod.diameter_mm >= 6:
                    missed.append(nod.to_dict())
                else:
                    missed_small += 1
                rows.append({"seed": s, "label": nod.label, "found": False})
                continue
            p_nod = np.isin(seg.labels, np.unique(hit))
            nodule_dice.append(2 * (p_nod & comp).sum() / (p_nod.sum() + comp.sum()))
            lid = int(np.bincount(hit).argmax())
            les = seg.lesions[lid - 1]
            gt_d = _gt_diameter(comp, ph.spacing)
            diam_err.append(abs(les.mean_diameter_mm - gt_d))
            vol_err.append(abs(les.volume_mm3 - comp.sum() * vox) / (comp.sum() * vox))
            if nod.shape == "round":
                nominal_err.append(abs(gt_d - nod.diameter_mm))
            if nod.kind in ("solid", "ground-glass"):
                core_err.append((nod.diameter_mm, les.core_mean_hu - nod.hu, les.mean_hu - nod.hu))
            rows.append({"seed": s, "label": nod.label, "found": True, "diameter_mm": round(les.mean_diameter_mm, 3),
                         "dice": round(float(nodule_dice[-1]), 4)})
        fps += sum(1 for les in seg.lesions if not (ph.mask[seg.labels == les.id] > 0).any())
    de, ve = np.array(diam_err), np.array(vol_err)
    out = {
        "n_volumes": n_volumes, "n_nodules": n_nod, "test_seeds": [start_seed, start_seed + n_volumes],
        "shape": list(shape),
        "dice": round(float(np.mean(dices)), 3), "dice_min": round(float(np.min(dices)), 3),
        "dice_median": round(float(np.median(dices)), 3),
        "dice_pooled": round(float(2 * inter / max(total, 1)), 3),
        "dice_per_detected_nodule_median": round(float(np.median(nodule_dice)), 3) if nodule_dice else None,
        "dice_note": "dice = mean over volumes of whole-volume Dice; a volume whose only nodules are small "
                     "and missed, or with false positives, scores low",
        "mean_diameter_abs_error_mm_median": round(float(np.median(de)), 2) if len(de) else None,
        "mean_diameter_abs_error_mm_mean": round(float(np.mean(de)), 3) if len(de) else None,
        "mean_diameter_abs_error_mm_p95": round(float(np.percentile(de, 95)), 2) if len(de) else None,
        "volume_rel_error_median": round(float(np.median(ve)), 3) if len(ve) else None,
        "missed_nodules_ge_6mm": len(missed), "missed_nodules_lt_6mm": missed_small,
        "false_positives_per_volume": round(fps / n_volumes, 2),
        "candidates_removed_by_fp_filter_per_volume": round(filtered / n_volumes, 2),
        "candidates_set_aside_by_plausibility_per_volume": round(aside / n_volumes, 2),
        "measurement_vs_nominal_round_mm_median": round(float(np.median(nominal_err)), 2) if nominal_err else None,
        "segment_seconds_per_volume": round(seconds / n_volumes, 2),
        "missed_detail": missed,
    }
    out |= core_hu_summary(core_err)
    if per_nodule:
        out["per_nodule"] = rows
    return out


def core_hu_summary(errors: list[tuple[float, float, float]]) -> dict[str, Any]:
    """Core-density errors (measured minus planted HU) of solid and ground-glass nodules, by size."""
    if not errors:
        return {}
    e = np.asarray(errors, float)
    big = e[:, 0] >= 6

    def block(sel: np.ndarray) -> dict[str, Any]:
        if not sel.any():
            return {"n": 0}
        return {"n": int(sel.sum()), "core_abs_error_hu_median": round(float(np.median(np.abs(e[sel, 1]))), 1),
                "core_within_15_hu_share": round(float(np.mean(np.abs(e[sel, 1]) <= 15)), 3),
                "whole_mask_abs_error_hu_median": round(float(np.median(np.abs(e[sel, 2]))), 1),
                "whole_mask_within_15_hu_share": round(float(np.mean(np.abs(e[sel, 2]) <= 15)), 3)}

    return {"core_hu": {"ge_6mm": block(big), "lt_6mm": block(~big), "all": block(np.ones(len(e), bool)),
                        "note": "solid and ground-glass nodules found; planted density before blur and noise"}}


def classification_metrics(logits: np.ndarray, types: np.ndarray, spic: np.ndarray, diam: np.ndarray,
                           params: dict[str, Any]) -> dict[str, Any]:
    """Accuracy, spiculation ROC-AUC and ECE (calibrated) overall and for nodules ≥ 6 mm."""
    from sklearn.metrics import roc_auc_score

    from specialists.imaging.classify import calibrated, ece

    p_type, p_spic = calibrated(logits, params)
    pred = p_type.argmax(1)

    def block(sel: np.ndarray) -> dict[str, Any]:
        ok = pred[sel] == types[sel]
        spic_ok = (p_spic[sel] >= 0.5) == (spic[sel] > 0.5)
        auc = roc_auc_score(spic[sel], p_spic[sel]) if len(set(spic[sel].tolist())) == 2 else None
        conf_spic = np.where(p_spic[sel] >= 0.5, p_spic[sel], 1 - p_spic[sel])
        return {"n": int(sel.sum()), "type_accuracy": round(float(ok.mean()), 3),
                "spiculation_auc": None if auc is None else round(float(auc), 3),
                "spiculation_accuracy": round(float(spic_ok.mean()), 3),
                "type_ece": round(ece(p_type[sel].max(1), ok), 3),
                "spiculation_ece": round(ece(conf_spic, spic_ok), 3)}

    labels = list(params["type_labels"])
    confusion = np.zeros((len(labels), len(labels)), int)
    for t, p in zip(types, pred, strict=False):
        confusion[t, p] += 1
    return {"all": block(np.ones(len(types), bool)), "ge_6mm": block(diam >= 6),
            "confusion_rows_true_cols_pred": {"labels": labels, "matrix": confusion.tolist()},
            "type_temperature": params.get("type_temperature"),
            "spiculation_temperature": params.get("spiculation_temperature")}
