"""Train the shipped lung-nodule segmentation bundle on synthetic chest-CT phantoms.

Usage::

    python -m specialists.imaging.train_seg [--minutes 12] [--out DIR] [--seed 0]

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
from specialists.imaging.phantom import WORKING_SPACING, make_phantom
from specialists.imaging.segment import normalise_hu, stack_slices

log = logging.getLogger("galen.train.imaging-seg")
TRAIN_SEEDS = range(1000, 1090)
VAL_SEEDS = range(5000, 5004)
CROP = 64
CACHE = Path(tempfile.gettempdir()) / "galen-imaging-seg-train.npz"


def make_training_set(seeds: range, shape=(40, 160, 160)) -> list[dict]:
    """Phantoms for training: normalised image, binary mask, and the slices holding nodules."""
    out = []
    for s in seeds:
        rng = np.random.default_rng(s)
        ph = make_phantom(s, shape=shape, spacing=WORKING_SPACING, n_nodules=int(rng.integers(2, 6)),
                          noise_hu=float(rng.uniform(10, 30)),
                          n_vessels=int(rng.integers(6, 16)))
        out.append({"image": ph.image, "mask": (ph.mask > 0).astype(np.float32), "seed": s})
    return out


def data_hash(items: list[dict]) -> str:
    h = hashlib.sha256()
    for it in items:
        h.update(it["image"].tobytes())
        h.update(it["mask"].tobytes())
    return h.hexdigest()[:16]


def _cached_training_set() -> list[dict]:
    """The training phantoms, reused from a temp-folder cache when they were made before (same seeds)."""
    key = f"{TRAIN_SEEDS.start}-{TRAIN_SEEDS.stop}"
    if CACHE.is_file():
        with np.load(CACHE) as z:
            if str(z["key"]) == key:
                # Read each member once: indexing z[...] repeatedly would re-read the whole array.
                images, masks, seeds = z["images"], z["masks"], z["seeds"]
                return [{"image": images[i].copy(), "mask": masks[i].astype(np.float32), "seed": int(seeds[i])}
                        for i in range(len(seeds))]
    items = make_training_set(TRAIN_SEEDS)
    np.savez(CACHE, key=key, images=np.stack([it["image"] for it in items]),
             masks=np.stack([it["mask"] for it in items]).astype(np.uint8), seeds=[it["seed"] for it in items])
    return items


def sample_batch(items: list[dict], params: dict, rng: np.random.Generator, n: int,
                 balanced: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Random 2.5-D crops: two thirds near a nodule voxel (or nodule, if ``balanced``), one third anywhere."""
    xs, ys = [], []
    for _ in range(n):
        it = items[int(rng.integers(len(items)))]
        m = it["mask"]
        zdim, ydim, xdim = m.shape
        if rng.random() < 0.67 and m.any():
            if balanced:
                # A nodule first, then a voxel in it, so large nodules (volume ~ d³) do not crowd out
                # small ones. Tried: fewer small misses but more false positives (see the model card).
                if "_comps" not in it:
                    lab, n = ndimage.label(m > 0)
                    it["_comps"] = [np.argwhere(lab == i) for i in range(1, n + 1)]
                pts = it["_comps"][int(rng.integers(len(it["_comps"])))]
            else:
                pts = it.setdefault("_pts", np.argwhere(m > 0))
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


def main(argv: list[str] | None = None) -> int:
    """Train (unless ``--eval-only``), save the weights and write the model card."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=SEG_BUNDLE, help="bundle folder to write")
    ap.add_argument("--iters", type=int, default=2000, help="training iterations (batch 16)")
    ap.add_argument("--minutes", type=float, default=40.0, help="wall-clock safety cap on training")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-only", action="store_true", help="only evaluate the existing weights")
    ap.add_argument("--eval-volumes", type=int, default=20)
    ap.add_argument("--balanced", action="store_true", help="sample crops per nodule rather than per voxel")
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
                        "seed": args.seed, "train_seeds": [TRAIN_SEEDS.start, TRAIN_SEEDS.stop]}
    if not args.eval_only:
        t0 = time.time()
        items = _cached_training_set()
        provenance["data_sha256_16"] = data_hash(items)
        log.info("generated %d phantoms in %.0f s (hash %s)", len(items), time.time() - t0, provenance["data_sha256_16"])
        net = ConfigParser(cfg).get_parsed_content("network_def")
        opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
        loss_fn = DiceCELoss(sigmoid=True, batch=True)
        rng = np.random.default_rng(args.seed)
        t0, it, losses = time.time(), 0, []
        budget = args.minutes * 60
        while it < args.iters and time.time() - t0 < budget:
            lr = 3e-3 * 0.5 * (1 + np.cos(np.pi * it / args.iters))
            for g in opt.param_groups:
                g["lr"] = max(lr, 1e-4)
            x, y = sample_batch(items, params, rng, 16, args.balanced)
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
                log.info("iter %d loss %.4f (%.0f s)", it, float(np.mean(losses[-100:])), time.time() - t0)
        weights.parent.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), weights)
        provenance.update(iterations=it, train_seconds=round(time.time() - t0), final_loss=float(np.mean(losses[-100:])))
        log.info("saved %s after %d iterations", weights, it)
        (args.out / "models" / "training_log.json").write_text(json.dumps(provenance, indent=2))
    else:
        log_path = args.out / "models" / "training_log.json"
        if log_path.is_file():
            provenance.update(json.loads(log_path.read_text()))

    from specialists.imaging.bundle import clear_cache
    from specialists.imaging.evaluate import evaluate_segmentation, write_seg_card

    clear_cache()
    metrics = evaluate_segmentation(args.out, n_volumes=args.eval_volumes)
    write_seg_card(args.out, metrics, provenance)
    log.info("held-out metrics: %s", json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
