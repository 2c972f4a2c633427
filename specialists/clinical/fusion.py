"""A gated multimodal Cox network: one encoder per modality, attention over those present.

Modalities: ``clinical`` (age, ER, grade), ``size`` (tumour size, from the record or measured
by the imaging specialist) and ``genes`` (76 expression probes). Each encoder maps its input to
a small embedding; a learned score per embedding, soft-maxed over the modalities present for
that patient, weights them into one vector; a linear head gives the log-hazard. Training drops
whole modalities at random (modality dropout), so a patient without expression data or without
a size still gets a prediction from what is there. Loss: the negative Cox partial likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

MODALITIES = ("clinical", "size", "genes")


class GatedFusionCox(nn.Module):
    """Per-modality encoders, attention-gated fusion, linear log-hazard head."""

    def __init__(self, dims: dict[str, int], emb: int = 8, hidden: int = 16, dropout: float = 0.3) -> None:
        super().__init__()
        self.dims = dict(dims)
        self.encoders = nn.ModuleDict({
            m: nn.Sequential(nn.Dropout(dropout if d > 8 else 0.0), nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, emb))
            for m, d in dims.items()
        })
        self.score = nn.Linear(emb, 1)
        self.head = nn.Linear(emb, 1, bias=False)

    def forward(self, inputs: dict[str, torch.Tensor], present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-hazard (n,) and attention weights (n, modalities) for inputs with a presence mask (n, modalities)."""
        embs = torch.stack([torch.tanh(self.encoders[m](inputs[m])) for m in self.dims], dim=1)  # n, M, emb
        scores = self.score(embs).squeeze(-1).masked_fill(~present, -1e9)
        weights = torch.softmax(scores, dim=1)
        fused = (weights.unsqueeze(-1) * embs).sum(dim=1)
        return self.head(fused).squeeze(-1), weights


def cox_partial_nll(risk: torch.Tensor, time: torch.Tensor, event: torch.Tensor) -> torch.Tensor:
    """Negative Breslow partial log-likelihood, averaged over events."""
    order = torch.argsort(time, descending=True)
    r, e = risk[order], event[order]
    log_cum = torch.logcumsumexp(r, dim=0)  # log sum over subjects with time >= t_i
    return -((r - log_cum) * e).sum() / e.sum().clamp(min=1.0)


@dataclass
class FusionConfig:
    # chosen among three settings on the first CV repeat (see the model card): small and heavily
    # regularised, because 198 patients with 76 probes overfit anything larger
    emb: int = 4
    hidden: int = 8
    dropout: float = 0.5
    epochs: int = 150
    lr: float = 3e-3
    weight_decay: float = 0.1
    modality_dropout: float = 0.3
    seed: int = 0


def _standardise(arrays: dict[str, np.ndarray], stats: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, torch.Tensor]:
    return {m: torch.as_tensor((np.nan_to_num(a) - stats[m][0]) / stats[m][1], dtype=torch.float32) for m, a in arrays.items()}


def fit_fusion(arrays: dict[str, np.ndarray], time: np.ndarray, event: np.ndarray, cfg: FusionConfig) -> dict:
    """Train the network; returns a checkpoint dict (state, standardisation stats, config)."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    stats = {}
    for m, a in arrays.items():
        sd = a.std(axis=0)
        stats[m] = (a.mean(axis=0), np.where(sd == 0, 1.0, sd))
    x = _standardise(arrays, stats)
    n = len(time)
    model = GatedFusionCox({m: a.shape[1] for m, a in arrays.items()}, cfg.emb, cfg.hidden, cfg.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    t, e = torch.as_tensor(time, dtype=torch.float32), torch.as_tensor(event, dtype=torch.float32)
    model.train()
    for _ in range(cfg.epochs):
        present = rng.random((n, len(arrays))) > cfg.modality_dropout
        present[present.sum(axis=1) == 0, rng.integers(len(arrays))] = True  # keep at least one modality
        risk, _ = model(x, torch.as_tensor(present))
        loss = cox_partial_nll(risk, t, e)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"state": model.state_dict(), "stats": {m: (s[0].tolist(), s[1].tolist()) for m, s in stats.items()},
            "dims": {m: a.shape[1] for m, a in arrays.items()}, "config": cfg.__dict__}


class FusionPredictor:
    """A trained network ready to predict; missing modalities are passed as ``None``."""

    def __init__(self, ckpt: dict) -> None:
        cfg = ckpt["config"]
        self.model = GatedFusionCox(ckpt["dims"], cfg["emb"], cfg["hidden"], cfg["dropout"])
        self.model.load_state_dict(ckpt["state"])
        self.model.eval()
        self.stats = {m: (np.asarray(a), np.asarray(b)) for m, (a, b) in ckpt["stats"].items()}
        self.dims = ckpt["dims"]

    def predict(self, arrays: dict[str, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
        """Log-hazards (n,) and attention weights (n, modalities); absent modalities get weight 0."""
        n = next(len(a) for a in arrays.values() if a is not None)
        filled = {m: (arrays.get(m) if arrays.get(m) is not None else np.tile(self.stats[m][0], (n, 1)))
                  for m in self.dims}
        present = np.column_stack([np.full(n, arrays.get(m) is not None) for m in self.dims])
        with torch.no_grad():
            risk, w = self.model(_standardise(filled, self.stats), torch.as_tensor(present))
        return risk.numpy().astype(float), w.numpy().astype(float)
