"""A chemical language model (GRU over SELFIES or SMILES tokens): the generative prior of design.

The model reads a molecule string one token at a time (SELFIES symbols, or SMILES bracket atoms,
two-letter halogens and ring-bond numbers) and predicts the next. The shipped prior uses SELFIES
(Krenn et al., Mach. Learn.: Sci. Technol. 2020), whose every string decodes to a valid
molecule: a model trained for minutes on CPU cannot learn SMILES syntax well enough. Sampling it gives drug-like molecules in the
style of its training set (MOSES); its log-likelihood is the prior term of REINVENT-style
reinforcement learning (see :mod:`specialists.molecules.search`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from galen.errors import ModelUnavailable
from specialists.molecules.assets import PRIOR_PATH

PAD, BOS, EOS = "<pad>", "^", "$"

_TOKEN = re.compile(r"(\[[^\]]+\]|Br|Cl|%\d\d|.)")


def tokenize(smiles: str) -> list[str]:
    """Split a SMILES into tokens (bracket atoms, Cl/Br and %NN ring bonds stay whole)."""
    return _TOKEN.findall(smiles)


@dataclass
class Vocabulary:
    tokens: list[str]

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, smiles: list[str]) -> Vocabulary:
        seen: set[str] = set()
        for s in smiles:
            seen.update(tokenize(s))
        return cls([PAD, BOS, EOS, *sorted(seen)])

    def encode(self, smiles: str) -> list[int] | None:
        """Token ids framed by BOS/EOS, or None when a token is outside the vocabulary."""
        try:
            return [self.index[BOS], *(self.index[t] for t in tokenize(smiles)), self.index[EOS]]
        except KeyError:
            return None

    def decode(self, ids: list[int]) -> str:
        out = []
        for i in ids:
            t = self.tokens[i]
            if t == EOS:
                break
            if t not in (PAD, BOS):
                out.append(t)
        return "".join(out)


class SmilesGRU(nn.Module):
    """Embedding → stacked GRU → next-token logits."""

    def __init__(self, vocab_size: int, emb: int = 64, hidden: int = 256, layers: int = 3, dropout: float = 0.0):
        super().__init__()
        self.config = {"vocab_size": vocab_size, "emb": emb, "hidden": hidden, "layers": layers, "dropout": dropout}
        self.embed = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.gru = nn.GRU(emb, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        out, h = self.gru(self.embed(x), h)
        return self.head(out), h


class Prior:
    """A trained SMILES GRU with its vocabulary: sampling and sequence log-likelihoods."""

    def __init__(
        self, model: SmilesGRU, vocab: Vocabulary, version: str = "untrained", max_len: int = 100,
        language: str = "selfies",
    ):
        self.model = model
        self.vocab = vocab
        self.version = version
        self.max_len = max_len
        self.language = language  # "selfies" (every string decodes to a molecule) or "smiles"

    def to_text(self, smiles: str) -> str | None:
        """The model's string form of a molecule (SELFIES or SMILES), None if it cannot be encoded."""
        if self.language == "smiles":
            return smiles
        import selfies as sf

        try:
            return sf.encoder(smiles)
        except sf.EncoderError:
            return None

    def to_smiles(self, text: str) -> str:
        """SMILES of a generated string ('' when it cannot be decoded)."""
        if self.language == "smiles":
            return text
        import selfies as sf

        try:
            return sf.decoder(text) or ""
        except sf.DecoderError:
            return ""

    def clone(self) -> Prior:
        """An independent copy (the RL agent starts as a copy of the prior)."""
        model = SmilesGRU(**self.model.config)
        model.load_state_dict(self.model.state_dict())
        return Prior(model, self.vocab, self.version, self.max_len, self.language)

    @staticmethod
    def _mask(logits: torch.Tensor) -> torch.Tensor:
        """PAD (0) and BOS (1) are never a next token: exclude them from the distribution."""
        return logits.index_fill(-1, torch.tensor([0, 1]), float("-inf"))

    def sample(
        self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0, with_grad: bool = False
    ) -> tuple[list[str], torch.Tensor, torch.Tensor]:
        """Sample ``n`` SMILES.

        Returns:
            (smiles, token ids [n, L] including BOS, summed log-likelihood [n]) — the
            log-likelihood carries gradients when ``with_grad``.
        """
        self.model.train(False)
        bos, eos = self.vocab.index[BOS], self.vocab.index[EOS]
        x = torch.full((n, 1), bos, dtype=torch.long)
        h = None
        seqs = [x]
        logp = torch.zeros(n)
        done = torch.zeros(n, dtype=torch.bool)
        ctx = torch.enable_grad() if with_grad else torch.no_grad()
        with ctx:
            for _ in range(self.max_len):
                logits, h = self.model(x, h)
                lp = torch.log_softmax(self._mask(logits[:, -1]) / temperature, dim=-1)
                nxt = torch.multinomial(lp.detach().exp(), 1, generator=generator).squeeze(1)
                step = lp.gather(1, nxt[:, None]).squeeze(1)
                logp = logp + torch.where(done, torch.zeros_like(step), step)
                nxt = torch.where(done, torch.zeros_like(nxt), nxt)
                seqs.append(nxt[:, None])
                done = done | (nxt == eos)
                x = nxt[:, None]
                if bool(done.all()):
                    break
        ids = torch.cat(seqs, dim=1)
        smiles = [self.to_smiles(self.vocab.decode(row.tolist())) for row in ids[:, 1:]]
        return smiles, ids, logp

    def log_likelihood(self, ids: torch.Tensor) -> torch.Tensor:
        """Summed log-likelihood of token sequences ``ids`` [n, L] (BOS first, PAD after EOS)."""
        logits, _ = self.model(ids[:, :-1])
        lp = torch.log_softmax(self._mask(logits), dim=-1).gather(2, ids[:, 1:, None]).squeeze(2)
        return torch.where(ids[:, 1:] != 0, lp, torch.zeros_like(lp)).sum(1)

    def save(self, path: Path, extra: dict | None = None) -> None:
        torch.save(
            {"config": self.model.config, "state": self.model.state_dict(), "tokens": self.vocab.tokens,
             "version": self.version, "max_len": self.max_len, "language": self.language, **(extra or {})},
            path,
        )

    @classmethod
    def load(cls, path: Path) -> Prior:
        """Load a saved prior.

        Raises:
            ModelUnavailable: the weights file is missing or unreadable.
        """
        if not Path(path).is_file():
            raise ModelUnavailable(
                f"The molecule generator's weights are missing ({path}).",
                hint="Train them with `galen train prior` (python -m specialists.molecules.train_prior).",
            )
        try:
            ck = torch.load(path, map_location="cpu", weights_only=True)
        except (RuntimeError, OSError, EOFError) as e:
            raise ModelUnavailable(f"The molecule generator's weights at {path} cannot be read: {e}.") from e
        model = SmilesGRU(**ck["config"])
        model.load_state_dict(ck["state"])
        return cls(
            model, Vocabulary(ck["tokens"]), ck.get("version", "unknown"), ck.get("max_len", 100),
            ck.get("language", "smiles"),
        )


@lru_cache(maxsize=1)
def load_prior() -> Prior:
    """The shipped prior, loaded once per process (callers clone it before changing it)."""
    return Prior.load(PRIOR_PATH)
