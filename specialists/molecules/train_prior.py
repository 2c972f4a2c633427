"""Train the SMILES GRU prior on a random subset of MOSES train and write its model card.

Run: ``python -m specialists.molecules.train_prior [--minutes 13] [--n-train 300000] [--seed 7]``
(``galen train prior``). Training stops at the wall-clock budget; the card reports MOSES
metrics of samples from the saved model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import platform
import random
import sys
import time
from pathlib import Path

import torch

from specialists.molecules.generation_metrics import generation_metrics, moses_file, moses_train_set, read_moses
from specialists.molecules.prior import PRIOR_PATH, Prior, SmilesGRU, Vocabulary

log = logging.getLogger("galen.train_prior")
CARD_PATH = PRIOR_PATH.with_name("PRIOR_CARD.md")
METRICS_PATH = PRIOR_PATH.with_name("prior_metrics.json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _batches(encoded: list[list[int]], batch: int, rng: random.Random):
    order = list(range(len(encoded)))
    while True:
        rng.shuffle(order)
        for i in range(0, len(order) - batch + 1, batch):
            rows = [encoded[j] for j in order[i : i + batch]]
            width = max(len(r) for r in rows)
            yield torch.tensor([r + [0] * (width - len(r)) for r in rows], dtype=torch.long)


def train(
    n_train: int, minutes: float, seed: int, hidden: int, layers: int, batch: int, threads: int, language: str
) -> tuple[Prior, dict]:
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    all_smiles = read_moses("train.csv.gz")
    subset = rng.sample(all_smiles, min(n_train, len(all_smiles)))
    texts = subset
    if language == "selfies":
        import selfies as sf

        texts = []
        for s in subset:
            try:
                texts.append(sf.encoder(s))
            except sf.EncoderError:
                continue
    vocab = Vocabulary.build(texts)
    encoded = [e for e in (vocab.encode(s) for s in texts) if e is not None and len(e) <= 100]
    log.info("encoded %d training strings, vocabulary %d tokens", len(encoded), len(vocab.tokens))
    model = SmilesGRU(len(vocab.tokens), hidden=hidden, layers=layers)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched_steps = 0
    start = time.monotonic()
    deadline = start + minutes * 60
    loss_ema = None
    model.train()
    for step, x in enumerate(_batches(encoded, batch, rng)):
        if time.monotonic() > deadline:
            break
        logits, _ = model(x[:, :-1])
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), ignore_index=0
        )
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched_steps = step + 1
        # Decay the learning rate over the second half of the budget for a calmer final model.
        frac = (time.monotonic() - start) / (minutes * 60)
        for g in opt.param_groups:
            g["lr"] = 2e-3 if frac < 0.5 else 2e-3 * max(0.1, 2 * (1 - frac))
        loss_ema = loss.item() if loss_ema is None else 0.98 * loss_ema + 0.02 * loss.item()
        if step % 200 == 0:
            log.info("step %d loss %.3f (%.0f s)", step, loss_ema, time.monotonic() - start)
    info = {
        "steps": sched_steps, "batch": batch, "molecules_seen": sched_steps * batch, "n_train_subset": len(encoded),
        "final_loss_ema": round(loss_ema or 0.0, 4), "train_seconds": round(time.monotonic() - start, 1),
    }
    return Prior(model, vocab, version=f"{language}-gru-h{hidden}l{layers}-s{seed}", language=language), info


def evaluate(prior: Prior, n: int, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    samples: list[str] = []
    while len(samples) < n:
        s, _, _ = prior.sample(min(500, n - len(samples)), generator=gen)
        samples.extend(s)
    metrics = generation_metrics(samples, moses_train_set(), k=n)
    metrics.update(_drug_likeness(samples[:1000]))
    return metrics


def _drug_likeness(samples: list[str]) -> dict:
    """Mean QED and SA score of valid samples next to the same number of MOSES test molecules."""
    import numpy as np

    from specialists.molecules.generation_metrics import canonical_or_none
    from specialists.molecules.properties import compute_properties

    gen = [compute_properties(c) for c in (canonical_or_none(s) for s in samples) if c]
    ref = [compute_properties(s) for s in read_moses("test.csv.gz")[: len(samples)]]
    return {
        "mean_qed": float(np.mean([p.qed for p in gen])), "mean_qed_moses_test": float(np.mean([p.qed for p in ref])),
        "mean_sa": float(np.mean([p.sa_score for p in gen])), "mean_sa_moses_test": float(np.mean([p.sa_score for p in ref])),
        "mean_mw": float(np.mean([p.mw for p in gen])), "mean_mw_moses_test": float(np.mean([p.mw for p in ref])),
    }


def write_card(metrics: dict, info: dict, argv_text: str, prior: Prior) -> None:
    k = next(key for key in metrics if key.startswith("unique@"))
    size_mb = PRIOR_PATH.stat().st_size / 1e6
    CARD_PATH.write_text(
        f"""# Model card: chemical language model prior (`{prior.version}`)

**What it is.** A token-level GRU language model over {prior.language.upper()} strings ({prior.model.config['layers']} layers,
hidden {prior.model.config['hidden']}, {sum(p.numel() for p in prior.model.parameters()):,} parameters,
{size_mb:.1f} MB). It is the generative prior of `design_molecules` (REINVENT-style RL starts from it).

**Data and licence.** A random subset ({info['n_train_subset']:,} molecules) of the MOSES training set
(`moses/dataset/data/train.csv.gz` in the `molsets==0.3.1` wheel; MOSES is MIT-licensed; the molecules come
from ZINC Clean Leads). sha256 of the file: `{info['data_sha256']}`.

**Training.** `{argv_text}` — Adam (lr 2e-3, decayed over the second half), batch {info['batch']},
{info['steps']:,} steps ({info['molecules_seen']:,} molecules seen, {info['train_seconds']:.0f} s wall clock on one
shared CPU core budget, `torch.set_num_threads({info['threads']})`), seed {info['seed']}. Final training loss (EMA)
{info['final_loss_ema']}. Libraries: {info['versions']}.

**Held-out metrics** ({metrics['n_samples']:,} samples, temperature 1.0, novelty against the full MOSES train set
of 1,584,663 SMILES as stored):

| metric | this prior | MOSES CharRNN (published) |
|---|---|---|
| validity | {metrics['validity']:.3f} | 0.975 |
| {k} | {metrics[k]:.3f} | 0.999 (unique@10k) |
| novelty | {metrics['novelty']:.3f} | 0.842 |
| IntDiv1 | {metrics['int_div1']:.3f} | 0.856 |

Drug-likeness of 1,000 samples against 1,000 MOSES test molecules: mean QED {metrics['mean_qed']:.2f} vs
{metrics['mean_qed_moses_test']:.2f}, mean SA score {metrics['mean_sa']:.2f} vs {metrics['mean_sa_moses_test']:.2f},
mean MW {metrics['mean_mw']:.0f} vs {metrics['mean_mw_moses_test']:.0f}.

**Reading these numbers honestly.** The model writes SELFIES, and every SELFIES string decodes to a valid
molecule, so validity is ~1.0 by construction (not a sign of a well-learned grammar); only empty strings count
as invalid. Uniqueness and novelty are high partly because a briefly trained model is spread more widely than
the data: its samples are less drug-like and harder to make than MOSES molecules (QED and SA above), and
include polyenes and unusual rings. FCD and fragment/scaffold similarity were not computed. Design therefore
never trusts a sample: every candidate is sanitised, re-scored, and must pass a `reasonable` structure check.

**Intended use.** A source of drug-like candidate structures for goal-directed design, always followed by
RDKit sanitisation and property re-checks. Not a property predictor.

**Limits.** Trained for minutes on CPU on a fraction of MOSES, so it is weaker than the published CharRNN
(3-layer LSTM, 768 hidden, full data, hours on GPU). It inherits MOSES's chemical space (ZINC lead-like:
MW 250–350, no charged atoms, limited element set C N O S F Cl Br H): molecules far outside it (peptides,
macrocycles, metal complexes) are out of its reach.
"""
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n-train", type=int, default=60_000)
    p.add_argument("--minutes", type=float, default=13.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--hidden", type=int, default=160)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--language", choices=["selfies", "smiles"], default="selfies")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-samples", type=int, default=10_000)
    p.add_argument("--out", type=Path, default=PRIOR_PATH)
    p.add_argument("--eval-only", action="store_true", help="re-evaluate saved weights and rewrite the card")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import rdkit

    info_extra = {
        "seed": a.seed, "threads": a.threads, "data_sha256": _sha256(moses_file("train.csv.gz")),
        "versions": f"python {platform.python_version()}, torch {torch.__version__}, rdkit {rdkit.__version__}",
    }
    log.info("provenance %s", info_extra)
    if a.eval_only:  # re-evaluate the saved weights and rewrite the card, without training
        ck = torch.load(a.out, map_location="cpu", weights_only=True)
        prior, info = Prior.load(a.out), ck["train_info"]
        info.setdefault("command_args", "")  # weights trained with the defaults
        torch.set_num_threads(a.threads)
    else:
        prior, info = train(a.n_train, a.minutes, a.seed, a.hidden, a.layers, a.batch, a.threads, a.language)
        info.update(info_extra)
        info["command_args"] = " ".join(argv if argv is not None else sys.argv[1:])
        a.out.parent.mkdir(parents=True, exist_ok=True)
        prior.save(a.out, {"train_info": info})
    metrics = evaluate(prior, a.eval_samples, a.seed + 1)
    log.info("metrics %s", metrics)
    if a.out == PRIOR_PATH:
        METRICS_PATH.write_text(json.dumps({"metrics": metrics, "train": info}, indent=2))
        args_text = info["command_args"]
        write_card(metrics, info, f"python -m specialists.molecules.train_prior {args_text}".strip(), prior)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
