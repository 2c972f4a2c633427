"""Train the shipped lesion-characterisation bundle (type + spiculation) on synthetic phantoms.

Usage::

    python -m specialists.imaging.train_cls [--minutes 6] [--out DIR] [--seed 0]

Fits temperatures on validation phantoms (written into the bundle's ``configs/inference.json``),
evaluates accuracy, ROC-AUC and ECE on held-out phantoms of other seeds, and writes the model
card ``metadata.json``.
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

from specialists.imaging.bundle import CLS_BUNDLE, read_config
from specialists.imaging.classify import extract_patch
from specialists.imaging.measure import axial_diameters
from specialists.imaging.phantom import KINDS, WORKING_SPACING
from specialists.imaging.phantom_sets import cls_phantom  # noqa: F401  (re-exported)
from specialists.splits import PHANTOM_SEEDS

log = logging.getLogger("galen.train.imaging-cls")
TRAIN_SEEDS = PHANTOM_SEEDS.cls_train
VAL_SEEDS = PHANTOM_SEEDS.cls_val
TEST_SEEDS = PHANTOM_SEEDS.cls_test


def lesion_patches(seeds: range, params: dict, n_aug: int, rng: np.random.Generator,
                   jitter: bool, with_regions: bool = False) -> tuple[np.ndarray, ...]:
    """Patches, type labels, spiculation labels and nominal diameters of every nodule in the phantoms.

    With ``with_regions``, also each patch's lesion region (the exact mask widened by 2 mm, on the
    patch grid), which the attribution term of the training loss uses.
    """
    from specialists.imaging.explain import lesion_on_patch

    xs, types, spic, diam, regions = [], [], [], [], []
    for s in seeds:
        ph = cls_phantom(s)
        for nod in ph.nodules:
            comp = ph.mask == nod.label
            zk = int(np.argmax(comp.sum(axis=(1, 2))))
            long_mm, _ = axial_diameters(comp[zk], WORKING_SPACING[1:])
            cz, cy, cx = ndimage.center_of_mass(comp)
            for _ in range(n_aug):
                c = np.array([zk, cy, cx], float)
                scale = 1.0
                if jitter:  # mimic the segmentation's error in centre and size
                    c[0] += rng.integers(-1, 2)
                    c[1:] += rng.normal(scale=0.1 * long_mm / WORKING_SPACING[1], size=2)
                    scale = float(rng.uniform(0.85, 1.2))
                xs.append(extract_patch(ph.image, WORKING_SPACING, tuple(c), long_mm, params, scale))
                types.append(KINDS.index(nod.kind))
                spic.append(float(nod.spiculated))
                diam.append(nod.diameter_mm)
                if with_regions:
                    regions.append(lesion_on_patch(comp, tuple(c), long_mm, params, WORKING_SPACING, 2.0, scale))
    out = (np.stack(xs), np.array(types), np.array(spic, np.float32), np.array(diam))
    return out + (np.stack(regions),) if with_regions else out


def main(argv: list[str] | None = None) -> int:
    """Train, calibrate, evaluate and write the classifier bundle."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=CLS_BUNDLE, help="bundle folder to write")
    ap.add_argument("--iters", type=int, default=1200, help="training iterations (batch 64)")
    ap.add_argument("--minutes", type=float, default=40.0, help="wall-clock safety cap on training")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--attribution-weight", type=float, default=1.0,
                    help="weight of the loss term on class activation outside the lesion (0: none, as in 0.1.0)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import monai
    import torch
    from monai.bundle import ConfigParser
    from torch.nn import functional as F

    from specialists.imaging.evaluate import classification_metrics, write_cls_card

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    monai.utils.set_determinism(seed=args.seed)
    cfg_path = args.out / "configs" / "inference.json"
    cfg = read_config(args.out)
    params = cfg["galen"]
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    cache = Path(tempfile.gettempdir()) / f"galen-imaging-cls-chest-{args.seed}.npz"
    key = json.dumps(["chest", TRAIN_SEEDS.start, TRAIN_SEEDS.stop, VAL_SEEDS.start, TEST_SEEDS.start,
                      {k: params[k] for k in ("patch_size", "patch_scale", "min_patch_mm", "slice_offsets")}])
    if cache.is_file() and str(np.load(cache)["key"]) == key:  # same seeds and patch geometry: reuse
        with np.load(cache) as z:
            xtr, ttr, str_, rtr, xva, tva, sva, xte, tte, ste, dte = (z[k] for k in (
                "xtr", "ttr", "str", "rtr", "xva", "tva", "sva", "xte", "tte", "ste", "dte"))
    else:
        xtr, ttr, str_, _, rtr = lesion_patches(TRAIN_SEEDS, params, 4, rng, jitter=True, with_regions=True)
        xva, tva, sva, _ = lesion_patches(VAL_SEEDS, params, 1, rng, jitter=True)
        xte, tte, ste, dte = lesion_patches(TEST_SEEDS, params, 1, rng, jitter=True)
        np.savez(cache, key=key, xtr=xtr, ttr=ttr, str=str_, rtr=rtr, xva=xva, tva=tva, sva=sva, xte=xte, tte=tte,
                 ste=ste, dte=dte)
    digest = hashlib.sha256(xtr.tobytes() + ttr.tobytes() + str_.tobytes()).hexdigest()[:16]
    log.info("patches: train %d, val %d, test %d in %.0f s (hash %s)", len(xtr), len(xva), len(xte),
             time.time() - t0, digest)

    net = ConfigParser(cfg).get_parsed_content("network_def")
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    n_types = len(params["type_labels"])
    xt, yt, ys = torch.from_numpy(xtr), torch.from_numpy(ttr), torch.from_numpy(str_)
    rt = torch.from_numpy(rtr.astype(np.float32))[:, None]
    t0, it = time.time(), 0
    budget = args.minutes * 60
    while it < args.iters and time.time() - t0 < budget:
        for g in opt.param_groups:
            g["lr"] = max(2e-3 * 0.5 * (1 + np.cos(np.pi * it / args.iters)), 5e-5)
        idx = torch.from_numpy(rng.integers(0, len(xt), 64))
        x, r = xt[idx], rt[idx]
        k = int(rng.integers(4))
        x, r = torch.rot90(x, k, dims=(2, 3)), torch.rot90(r, k, dims=(2, 3))
        if rng.random() < 0.5:
            x, r = torch.flip(x, dims=(3,)), torch.flip(r, dims=(3,))
        net.train()
        out, feats = net.forward_with_features(x)
        loss = F.cross_entropy(out[:, :n_types], yt[idx]) + F.binary_cross_entropy_with_logits(out[:, n_types], ys[idx])
        if args.attribution_weight > 0:
            # Right for the right reasons (Ross et al., IJCAI 2017): the true type's positive class
            # activation (= Grad-CAM at features.3) should lie on the lesion, not on the background.
            cam = net.class_activation(feats, yt[idx])
            inside = F.adaptive_avg_pool2d(r, cam.shape[-2:])[:, 0]
            outside = (cam * (1 - inside)).sum((1, 2)) / (cam.sum((1, 2)) + 1e-6)
            loss = loss + args.attribution_weight * outside.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        it += 1
        if it % 200 == 0:
            log.info("iter %d loss %.4f (%.0f s)", it, float(loss.detach()), time.time() - t0)
    net.eval()
    weights = args.out / "models" / "model.pt"
    weights.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), weights)

    from specialists.imaging.classify import fit_temperature, predict_logits

    lv = predict_logits(net, xva)
    params["type_temperature"] = round(fit_temperature(lv[:, :n_types], tva, binary=False), 4)
    params["spiculation_temperature"] = round(fit_temperature(lv[:, n_types], sva, binary=True), 4)
    cfg["galen"] = params
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    metrics = classification_metrics(predict_logits(net, xte), tte, ste, dte, params)
    from specialists.imaging.explain import attribution_on_phantoms

    metrics["attribution_in_lesion"] = attribution_on_phantoms(net, params, TEST_SEEDS)
    metrics["attribution_in_lesion_validation"] = attribution_on_phantoms(net, params, VAL_SEEDS)
    provenance = {"torch": torch.__version__, "monai": monai.__version__, "numpy": np.__version__,
                  "seed": args.seed, "iterations": it, "train_seconds": round(time.time() - t0),
                  "data_sha256_16": digest, "train_seeds": [TRAIN_SEEDS.start, TRAIN_SEEDS.stop],
                  "val_seeds": [VAL_SEEDS.start, VAL_SEEDS.stop], "test_seeds": [TEST_SEEDS.start, TEST_SEEDS.stop],
                  "attribution_weight": args.attribution_weight, "anatomy": "chest phantoms (draw_coverage)"}
    (args.out / "models" / "training_log.json").write_text(json.dumps(provenance, indent=2))
    write_cls_card(args.out, metrics, provenance)
    log.info("held-out metrics: %s", json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
