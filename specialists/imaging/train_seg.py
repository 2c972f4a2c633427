"""Train the shipped lung-nodule segmentation bundle on synthetic chest-CT phantoms.

Usage::

    python -m specialists.imaging.train_seg [--stages voxel:2000:3e-3,mixed:1200:1e-3] [--init W] [--out DIR]

Writes ``models/model.pt`` into the bundle folder, evaluates on held-out phantoms made with
other seeds and writes the numbers into ``metadata.json`` (the model card).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from specialists.imaging.bundle import SEG_BUNDLE, read_config
from specialists.imaging.phantom_sets import SMALL_RANGE_MM, basal_phantom, training_phantom  # noqa: F401  (re-exported)
from specialists.imaging.segment import normalise_hu, stack_slices
from specialists.splits import PHANTOM_SEEDS

log = logging.getLogger("galen.train.imaging-seg")
TRAIN_SEEDS = PHANTOM_SEEDS.seg_train
#: Extra phantoms whose nodules are all small (3–8 mm): small solid nodules, which look like vessel
#: cross-sections on one slice, were the misses of a model trained on TRAIN_SEEDS alone.
SMALL_SEEDS = PHANTOM_SEEDS.seg_train_small
#: Phantoms whose nodules sit just above a diaphragm dome (:func:`basal_phantom`): a model trained
#: without them under-segmented such nodules and lost 4 of the 6 mm or larger ones on validation.
BASAL_SEEDS = PHANTOM_SEEDS.seg_train_basal
VAL_SEEDS = PHANTOM_SEEDS.seg_train_val
CROP = 64
#: Stage 1 learns nodules (crops near nodule voxels); stage 2 adds hard negatives, stage 3 small
#: nodules, stage 4 thin vessels (which partial volume makes ground-glass-dense, about -600 HU),
#: stage 5 nodules just above a diaphragm dome.
DEFAULT_STAGES = "voxel:2000:3e-3,mixed:1500:1e-3,small:2000:1e-3,vessels:1500:5e-4,basal:1500:5e-4"
CACHE = Path(tempfile.gettempdir()) / "galen-imaging-seg-train-chest.npz"


def make_training_set(seeds: range, shape=(40, 160, 160), size_range_mm=(3.0, 30.0), basal: bool = False) -> list[dict]:
    """Phantoms for training: HU image and binary mask (``basal``: :func:`basal_phantom` ones)."""
    out = []
    for s in seeds:
        ph = basal_phantom(s, shape) if basal else training_phantom(s, shape, size_range_mm)
        out.append({"image": ph.image, "mask": (ph.mask > 0).astype(np.float32), "seed": s, "basal": basal})
    return out


def data_hash(items: list[dict]) -> str:
    h = hashlib.sha256()
    for it in items:
        h.update(it["image"].tobytes())
        h.update(it["mask"].tobytes())
    return h.hexdigest()[:16]


def _cached_training_set() -> list[dict]:
    """The training phantoms, reused from a temp-folder cache when they were made before (same seeds)."""
    key = (f"chest:{TRAIN_SEEDS.start}-{TRAIN_SEEDS.stop}+{SMALL_SEEDS.start}-{SMALL_SEEDS.stop}@{SMALL_RANGE_MM}"
           f"+basal:{BASAL_SEEDS.start}-{BASAL_SEEDS.stop}")
    if CACHE.is_file():
        with np.load(CACHE) as z:
            if str(z["key"]) == key:
                # Read each member once: indexing z[...] repeatedly would re-read the whole array.
                images, masks, seeds, basal = z["images"], z["masks"], z["seeds"], z["basal"]
                return [{"image": images[i].copy(), "mask": masks[i].astype(np.float32), "seed": int(seeds[i]),
                         "basal": bool(basal[i])} for i in range(len(seeds))]
    items = (make_training_set(TRAIN_SEEDS) + make_training_set(SMALL_SEEDS, size_range_mm=SMALL_RANGE_MM)
             + make_training_set(BASAL_SEEDS, basal=True))
    np.savez(CACHE, key=key, images=np.stack([it["image"] for it in items]),
             masks=np.stack([it["mask"] for it in items]).astype(np.uint8), seeds=[it["seed"] for it in items],
             basal=[it["basal"] for it in items])
    return items


#: Crop-centre mix of each sampling scheme: (near a nodule voxel, near a nodule chosen uniformly,
#: on a hard negative — a bright voxel in dark surroundings such as a vessel or the pleura —, anywhere).
SAMPLING = {"voxel": (0.67, 0.0, 0.0, 0.33), "nodule": (0.0, 0.67, 0.0, 0.33), "mixed": (0.3, 0.3, 0.25, 0.15),
            "small": (0.15, 0.45, 0.25, 0.15), "vessels": (0.2, 0.3, 0.4, 0.1), "basal": (0.15, 0.45, 0.25, 0.15)}
#: In the ``small``, ``vessels`` and ``basal`` schemes a nodule is chosen with weight ∝ 1/d² (small ones, the misses, most often).
_SMALL_FIRST = {"small", "vessels", "basal"}
#: In the ``basal`` scheme half the crops come from the basal phantoms (the rest from all, so the
#: network keeps what it learned elsewhere); other schemes draw from the phantoms that are not basal.
BASAL_SHARE = 0.5
#: In the ``vessels`` scheme the hard negatives are thin vessels and faint lung structure instead.
_THIN_NEGATIVES = {"vessels"}


def _hard_negatives(it: dict) -> np.ndarray:
    """Voxels that look like a small nodule on one slice but are not one: vessels and lung borders."""
    if "_neg" not in it:
        img = ndimage.gaussian_filter(it["image"], 1.0)
        dark = ndimage.minimum_filter(img, size=(1, 9, 9)) < -700
        it["_neg"] = np.argwhere((img > -450) & dark & (it["mask"] == 0))
    return it["_neg"]


def _thin_negatives(it: dict) -> np.ndarray:
    """Voxels of thin vessels and faint structures in the lung: denser than aerated lung, not a nodule.

    Partial volume makes a vessel under 1 mm read -500 to -700 HU, the density of ground glass; these
    were most of the false positives of a network trained without them.
    """
    if "_thin" not in it:
        img = ndimage.gaussian_filter(it["image"], 0.7)
        dark = ndimage.minimum_filter(img, size=(1, 9, 9)) < -780
        it["_thin"] = np.argwhere((img > -720) & (img < -300) & dark & (it["mask"] == 0))
    return it["_thin"]


def sample_batch(items: list[dict], params: dict, rng: np.random.Generator, n: int,
                 sampling: str = "voxel") -> tuple[np.ndarray, np.ndarray]:
    """Random 2.5-D crops centred as the ``sampling`` scheme says (see :data:`SAMPLING`).

    ``voxel`` favours large nodules (volume ~ d³); ``nodule`` picks a nodule first so small ones
    are seen as often as large ones; ``mixed`` adds hard negatives so that the extra attention to
    small bright blobs does not turn vessels into false positives.
    """
    weights = np.array(SAMPLING[sampling])
    basal = [it for it in items if it.get("basal")]
    others = [it for it in items if not it.get("basal")] or items
    xs, ys = [], []
    for _ in range(n):
        if sampling == "basal" and basal and rng.random() < BASAL_SHARE:
            it = basal[int(rng.integers(len(basal)))]
        else:
            pool = items if sampling == "basal" else others
            it = pool[int(rng.integers(len(pool)))]
        m = it["mask"]
        zdim, ydim, xdim = m.shape
        kind = int(rng.choice(4, p=weights / weights.sum()))
        pts = None
        if kind == 0 and m.any():
            pts = it.setdefault("_pts", np.argwhere(m > 0))
        elif kind == 1 and m.any():
            if "_comps" not in it:
                lab, k = ndimage.label(m > 0)
                it["_comps"] = [np.argwhere(lab == i) for i in range(1, k + 1)]
                w = np.array([len(c) ** (-2 / 3) for c in it["_comps"]])
                it["_small_w"] = w / w.sum()
            comps = it["_comps"]
            pick = rng.choice(len(comps), p=it["_small_w"]) if sampling in _SMALL_FIRST else rng.integers(len(comps))
            pts = comps[int(pick)]
        elif kind == 2 and sampling in _THIN_NEGATIVES and len(_thin_negatives(it)):
            pts = it["_thin"]
        elif kind == 2 and sampling not in _THIN_NEGATIVES and len(_hard_negatives(it)):
            pts = it["_neg"]
        if pts is not None:
            z, cy, cx = pts[int(rng.integers(len(pts)))]
            cy += int(rng.integers(-CROP // 3, CROP // 3))
            cx += int(rng.integers(-CROP // 3, CROP // 3))
        else:
            z, cy, cx = int(rng.integers(zdim)), int(rng.integers(ydim)), int(rng.integers(xdim))
        y0 = int(np.clip(cy - CROP // 2, 0, ydim - CROP))
        x0 = int(np.clip(cx - CROP // 2, 0, xdim - CROP))
        norm = it.setdefault("_norm", normalise_hu(it["image"], tuple(params["hu_window"])))
        x = stack_slices(norm, params["slice_offsets"], np.array([z]))[0, :, y0:y0 + CROP, x0:x0 + CROP]
        y = m[z, y0:y0 + CROP, x0:x0 + CROP][None]
        k = int(rng.integers(4))
        x, y = np.rot90(x, k, axes=(1, 2)), np.rot90(y, k, axes=(1, 2))
        if rng.random() < 0.5:
            x, y = x[:, :, ::-1], y[:, :, ::-1]
        xs.append(np.ascontiguousarray(x))
        ys.append(np.ascontiguousarray(y))
    return np.stack(xs), np.stack(ys)


def parse_stages(text: str) -> list[tuple[str, int, float]]:
    """``"voxel:2000:3e-3,mixed:1200:1e-3"`` → [(sampling, iterations, peak learning rate), …]."""
    stages = []
    for part in text.split(","):
        name, iters, lr = (part.split(":") + ["3e-3"])[:3]
        if name not in SAMPLING:
            raise SystemExit(f"unknown sampling '{name}' in --stages; use one of {sorted(SAMPLING)}")
        stages.append((name, int(iters), float(lr)))
    return stages


def main(argv: list[str] | None = None) -> int:
    """Train (unless ``--eval-only``), save the weights and write the model card."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=SEG_BUNDLE, help="bundle folder to write")
    ap.add_argument("--stages", default=DEFAULT_STAGES,
                    help="training stages 'sampling:iterations:peak_lr,…' (batch 16, cosine schedule each)")
    ap.add_argument("--init", type=Path, help="start from these weights (e.g. to run only a later stage)")
    ap.add_argument("--minutes", type=float, default=60.0, help="wall-clock safety cap on training")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-only", action="store_true", help="only evaluate the existing weights")
    ap.add_argument("--train-only", action="store_true",
                    help="stop after saving the weights (run --eval-only later for post-processing and the card)")
    ap.add_argument("--eval-volumes", type=int, default=20)
    ap.add_argument("--full-volumes", type=int, default=6, help="whole-chest test phantoms (240 x 448 x 448)")
    ap.add_argument("--basal-volumes", type=int, default=24, help="basal test phantoms (nodules above a dome)")
    ap.add_argument("--no-fp-filter", action="store_true", help="do not fit the false-positive filter")
    ap.add_argument("--keep-postprocessing", action="store_true",
                    help="keep the config's threshold and smallest volume instead of choosing them on validation phantoms")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import monai
    import torch
    from monai.bundle import ConfigParser
    from monai.losses import DiceCELoss

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    monai.utils.set_determinism(seed=args.seed)
    cfg = read_config(args.out)
    params = cfg["galen"]
    weights = args.out / "models" / "model.pt"
    provenance: dict = {"torch": torch.__version__, "monai": monai.__version__, "numpy": np.__version__,
                        "seed": args.seed, "train_seeds": [TRAIN_SEEDS.start, TRAIN_SEEDS.stop],
                        "small_nodule_seeds": [SMALL_SEEDS.start, SMALL_SEEDS.stop], "small_range_mm": SMALL_RANGE_MM,
                        "basal_seeds": [BASAL_SEEDS.start, BASAL_SEEDS.stop],
                        "anatomy": "chest phantoms: windows of a chest CT's height (draw_coverage), neck and upper "
                                   "abdomen included"}
    if not args.eval_only:
        t0 = time.time()
        items = _cached_training_set()
        provenance["data_sha256_16"] = data_hash(items)
        log.info("generated %d phantoms in %.0f s (hash %s)", len(items), time.time() - t0, provenance["data_sha256_16"])
        net = ConfigParser(cfg).get_parsed_content("network_def")
        if args.init:
            net.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True))
            provenance["init"] = f"{args.init.name} sha256 {hashlib.sha256(args.init.read_bytes()).hexdigest()[:16]}"
            earlier = args.init.with_name("training_log.json")
            if earlier.is_file():  # the run that made the starting weights, so the card shows every stage
                provenance["previous"] = json.loads(earlier.read_text())
        loss_fn = DiceCELoss(sigmoid=True, batch=True)
        rng = np.random.default_rng(args.seed)
        t0, it, losses = time.time(), 0, []
        budget = args.minutes * 60
        stages = parse_stages(args.stages)
        provenance["stages"] = args.stages
        for sampling, n_iters, peak in stages:
            opt = torch.optim.AdamW(net.parameters(), lr=peak, weight_decay=1e-4)
            for i in range(n_iters):
                if time.time() - t0 >= budget:
                    log.warning("time cap reached in stage %s after %d iterations", sampling, i)
                    break
                for g in opt.param_groups:
                    g["lr"] = max(peak * 0.5 * (1 + np.cos(np.pi * i / n_iters)), 1e-4)
                x, y = sample_batch(items, params, rng, 16, sampling)
                net.train()
                loss = loss_fn(net(torch.from_numpy(x)), torch.from_numpy(y))
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(float(loss.detach()))
                it += 1
                if it % 250 == 0:  # checkpoint, so an interrupted run still leaves usable weights
                    weights.parent.mkdir(parents=True, exist_ok=True)
                    torch.save(net.state_dict(), weights)
                if it % 100 == 0:
                    log.info("%s iter %d loss %.4f (%.0f s)", sampling, it, float(np.mean(losses[-100:])), time.time() - t0)
        weights.parent.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), weights)
        provenance.update(iterations=it, train_seconds=round(time.time() - t0), final_loss=float(np.mean(losses[-100:])))
        log.info("saved %s after %d iterations", weights, it)
        (args.out / "models" / "training_log.json").write_text(json.dumps(provenance, indent=2))
        if args.train_only:
            return 0
    else:
        log_path = args.out / "models" / "training_log.json"
        if log_path.is_file():
            provenance.update(json.loads(log_path.read_text()))

    from specialists.imaging.bundle import clear_cache

    clear_cache()
    cfg_path = args.out / "configs" / "inference.json"
    if not args.keep_postprocessing:
        _postprocess(args, cfg_path, provenance)
    metrics = _held_out(args, cfg_path, provenance)
    from specialists.imaging.evaluate import write_seg_card

    write_seg_card(args.out, metrics, provenance)
    log.info("held-out metrics: %s", json.dumps(metrics, indent=1))
    return 0


def _update_config(cfg_path: Path, **galen) -> None:
    written = json.loads(cfg_path.read_text())
    written["galen"].update(galen)
    tmp = cfg_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(written, indent=2) + "\n")
    tmp.replace(cfg_path)


def calibration_batches(n: int = 24, seed: int = 0) -> list[np.ndarray]:
    """Batches of 2.5-D lung-region slices from training phantoms, for int8 calibration."""
    from specialists.imaging.lungs import lung_mask, lung_region

    params = read_config(SEG_BUNDLE)["galen"]
    rng = np.random.default_rng(seed)
    out = []
    for s in TRAIN_SEEDS[:n]:
        ph = training_phantom(s)
        region = lung_region(lung_mask(ph.image, ph.spacing), ph.spacing)
        if region is None:
            continue
        z = int(rng.integers(region.z.start, region.z.stop))
        norm = normalise_hu(ph.image, tuple(params["hu_window"]))
        out.append(stack_slices(norm, params["slice_offsets"], np.array([z]))[:, :, region.y, region.x])
    return out


def _postprocess(args: argparse.Namespace, cfg_path: Path, provenance: dict) -> None:
    """Export ONNX, choose post-processing, fit the false-positive filter, choose the engine (validation only)."""
    from specialists.imaging import variants
    from specialists.imaging.bundle import SEG_BUNDLE as shipped
    from specialists.imaging.bundle import clear_cache, load_bundle
    from specialists.imaging.engines import clear_sessions, export_onnx
    from specialists.imaging.evaluate import LARGE_SHAPE, SEG_VAL_SEEDS_START, fit_fp_filter, select_postprocessing
    from specialists.imaging.plausibility import DEFAULT_RULES

    written = json.loads(cfg_path.read_text())["galen"]
    _update_config(cfg_path, plausibility=written.get("plausibility", DEFAULT_RULES),
                   inference=written.get("inference", {"engine": "onnx", "crop_to_lungs": True, "margin_mm": 10.0}))
    b = load_bundle(args.out, shipped)
    provenance["onnx"] = export_onnx(args.out, b.network, len(b.params["slice_offsets"]), calibration_batches())
    clear_sessions()
    clear_cache()
    selection = select_postprocessing(args.out)
    _update_config(cfg_path, **selection["chosen"])
    provenance["postprocessing_selection"] = selection
    log.info("post-processing chosen on validation phantoms: %s", selection["chosen"])
    clear_cache()
    if not args.no_fp_filter:
        fitted = fit_fp_filter(args.out)
        _update_config(cfg_path, fp_filter=fitted["fp_filter"])
        provenance["fp_filter"] = fitted["numbers"]
        log.info("false-positive filter: %s", fitted["numbers"])
        clear_cache()
    # Timed on phantoms closer to a real chest CT's size: on small volumes per-call overheads decide.
    val = variants.compare(args.out, 4, SEG_VAL_SEEDS_START + 300, LARGE_SHAPE)
    engine = variants.choose(val)
    inference = json.loads(cfg_path.read_text())["galen"]["inference"] | {"engine": engine}
    _update_config(cfg_path, inference=inference)
    provenance["engine_selection"] = {"chosen": engine, "rule": "fastest lung-crop variant within tolerance of the "
                                      "reference on validation phantoms", "validation": val}
    log.info("engine chosen on validation phantoms: %s", engine)
    clear_cache()


def _held_out(args: argparse.Namespace, cfg_path: Path, provenance: dict) -> dict:
    """Test-phantom metrics: 48-slice, larger and whole-chest phantoms, and the inference variants side by side."""
    from specialists.imaging import variants
    from specialists.imaging.evaluate import (
        BASAL_TEST_SEEDS_START,
        FULL_SHAPE,
        FULL_TEST_SEEDS_START,
        LARGE_SHAPE,
        SEG_TEST_SEEDS_START,
        evaluate_segmentation,
    )

    keys = ("n_volumes", "n_nodules", "test_seeds", "shape", "dice", "dice_pooled", "mean_diameter_abs_error_mm_median",
            "volume_rel_error_median", "missed_nodules_ge_6mm", "missed_nodules_lt_6mm", "false_positives_per_volume",
            "candidates_removed_by_fp_filter_per_volume", "candidates_set_aside_by_plausibility_per_volume",
            "core_hu", "segment_seconds_per_volume", "missed_detail")
    metrics = evaluate_segmentation(args.out, n_volumes=args.eval_volumes)
    large = evaluate_segmentation(args.out, n_volumes=8, start_seed=9500, shape=LARGE_SHAPE)
    metrics["large_phantoms"] = {k: large.get(k) for k in keys}
    full = evaluate_segmentation(args.out, n_volumes=args.full_volumes, start_seed=FULL_TEST_SEEDS_START, shape=FULL_SHAPE)
    metrics["full_size_phantoms"] = {k: full.get(k) for k in keys}
    basal = evaluate_segmentation(args.out, n_volumes=args.basal_volumes, start_seed=BASAL_TEST_SEEDS_START,
                                  recipe=basal_phantom)
    metrics["basal_phantoms"] = {k: basal.get(k) for k in keys}
    metrics["inference_variants"] = variants.compare(args.out, args.eval_volumes, SEG_TEST_SEEDS_START, (48, 160, 160))
    metrics["engine"] = json.loads(cfg_path.read_text())["galen"].get("inference", {}).get("engine", "torch")
    return metrics


if __name__ == "__main__":
    raise SystemExit(main())
