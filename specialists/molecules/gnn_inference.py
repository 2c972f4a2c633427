"""Inference for the property GNNs in plain torch: :class:`InferenceGNN` and :func:`gine_infer`.

A trained ``PropertyGNN`` (:mod:`specialists.molecules.learned`) loads into :class:`InferenceGNN`
strictly (the same parameter names and shapes) and is evaluated by :func:`gine_infer`, which gives
``PropertyGNN.forward``'s numbers in eval mode with less work and without importing torch-geometric
(tests compare them).
"""

from __future__ import annotations

import torch
from torch import nn

X_SIZES = [119, 9, 11, 12, 9, 5, 8, 2, 2]  # torch_geometric.utils.smiles.x_map column sizes
E_SIZES = [22, 6, 2]  # e_map's
_EDGE_BLOCK = 512  # edges whose messages gine_infer computes at once (256 KB a tensor: fits in L2; measured fastest)


class InferenceGNN(nn.Module):
    """A trained :class:`PropertyGNN` for inference only, in plain torch.

    The same parameter names and shapes (so the same state dict loads, strictly), evaluated by
    :func:`gine_infer`; nothing of torch-geometric is imported, which saves every process that
    predicts (each screen worker, the app) seconds of import time.
    """

    def __init__(self, hidden: int = 128, layers: int = 3, n_desc: int = 12, dropout: float = 0.1):
        super().__init__()
        self.config = {"hidden": hidden, "layers": layers, "n_desc": n_desc, "dropout": dropout}
        self.atom_emb = nn.ModuleList(nn.Embedding(n, hidden) for n in X_SIZES)
        self.bond_emb = nn.ModuleList(nn.Embedding(n, hidden) for n in E_SIZES)
        self.convs = nn.ModuleList(_GINELayer(hidden) for _ in range(layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
        self.head = nn.Sequential(
            nn.Linear(2 * hidden + n_desc, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1)
        )
        self.register_buffer("desc_mean", torch.zeros(n_desc))
        self.register_buffer("desc_std", torch.ones(n_desc))

    def infer(self, data) -> torch.Tensor:
        return gine_infer(self, data)


class _GINELayer(nn.Module):
    """The parameters of one ``GINEConv(nn, edge_dim=hidden)``: ``nn``, the edge projection ``lin``, ``eps``."""

    def __init__(self, hidden: int):
        super().__init__()
        self.nn = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.lin = nn.Linear(hidden, hidden)
        self.register_buffer("eps", torch.zeros(1))


def _scatter_sum(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Rows of ``src`` summed by ``index``, as ``torch_geometric.utils.scatter(reduce="sum")`` does on CPU."""
    return src.new_zeros((size, src.size(1))).scatter_add_(0, index.view(-1, 1).expand_as(src), src)


def gine_infer(model: nn.Module, data) -> torch.Tensor:
    """:meth:`PropertyGNN.forward` in eval mode, with less work and the same numbers (tests compare them).

    A batch holds a few hundred distinct atom-code rows and a dozen distinct bond-code rows, so the
    embedding sums, and each layer's edge projection (as costly as the node MLP), are computed once
    per distinct row and gathered. Message passing is ``GINEConv``'s — ``relu(x_j + lin(e))`` summed
    at the target node, then ``nn(sum + (1 + eps) x)`` — and pooling ``global_add_pool`` /
    ``global_mean_pool``'s, written with the same torch operations. ``data`` needs ``x``,
    ``edge_index``, ``edge_attr``, ``batch`` and ``desc`` (a PyG batch or a :class:`GraphBatch`).
    """
    x = _embed_distinct(model.atom_emb, data.x)
    e_rows, e_of_edge = _distinct_rows(data.edge_attr, model.bond_emb)
    e_rows = sum(emb(e_rows[:, i]) for i, emb in enumerate(model.bond_emb))
    src, dst = data.edge_index[0], data.edge_index[1]
    for conv, norm in zip(model.convs, model.norms, strict=True):
        agg = _messages(x, conv.lin(e_rows), src, dst, e_of_edge)
        x = x + torch.relu(norm(conv.nn(agg + (1 + conv.eps) * x)))
    graphs = int(data.batch.max()) + 1 if data.batch.numel() else 0
    total = _scatter_sum(x, data.batch, graphs)
    count = x.new_zeros(graphs).scatter_add_(0, data.batch, x.new_ones(x.size(0))).clamp(min=1)
    pooled = torch.cat([total / 10.0, total / count.view(-1, 1)], dim=1)
    desc = (data.desc - model.desc_mean) / model.desc_std
    return model.head(torch.cat([pooled, desc], dim=1)).squeeze(1)


def _messages(x: torch.Tensor, edge_rows: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
              e_of_edge: torch.Tensor) -> torch.Tensor:
    """``_scatter_sum((x[src] + edge_rows[e_of_edge]).relu(), dst, len(x))``, a block of edges at a time.

    The same additions in the same order (``scatter_add_`` adds an edge's message after those of every
    edge before it, block or not), so the same bits; each block's messages stay in the CPU cache
    instead of a whole batch's (tens of MB) going to memory and back four times.
    """
    agg = x.new_zeros(x.shape)
    n = src.numel()
    msg = x.new_empty((min(_EDGE_BLOCK, n), x.size(1)))
    edge = torch.empty_like(msg)
    for a in range(0, n, _EDGE_BLOCK):
        b = min(a + _EDGE_BLOCK, n)
        m, e = msg[: b - a], edge[: b - a]
        torch.index_select(x, 0, src[a:b], out=m)
        torch.index_select(edge_rows, 0, e_of_edge[a:b], out=e)
        m.add_(e).relu_()
        agg.scatter_add_(0, dst[a:b].view(-1, 1).expand_as(m), m)
    return agg


def _distinct_rows(codes: torch.Tensor, embeddings: nn.ModuleList) -> tuple[torch.Tensor, torch.Tensor]:
    """(distinct rows of ``codes`` clamped to each embedding's size, index of each row's distinct row)."""
    clamped = torch.stack([codes[:, i].clamp(max=emb.num_embeddings - 1) for i, emb in enumerate(embeddings)], dim=1)
    key = torch.zeros(len(clamped), dtype=torch.int64)
    for i, emb in enumerate(embeddings):  # mixed radix: one integer per row (the sizes' product fits int64)
        key = key * emb.num_embeddings + clamped[:, i]
    _, first, inverse = _unique_first(key)
    return clamped[first], inverse


def _unique_first(key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(distinct keys, the position of one row holding each, each row's distinct index)."""
    distinct, inverse = torch.unique(key, return_inverse=True)
    first = torch.empty(len(distinct), dtype=torch.int64).scatter_(0, inverse, torch.arange(len(key)))
    return distinct, first, inverse


def _embed_distinct(embeddings: nn.ModuleList, codes: torch.Tensor) -> torch.Tensor:
    """``sum(emb(codes[:, i].clamp(...)))`` as in :meth:`PropertyGNN.forward`, once per distinct row."""
    rows, of_row = _distinct_rows(codes, embeddings)
    return sum(emb(rows[:, i]) for i, emb in enumerate(embeddings)).index_select(0, of_row)
