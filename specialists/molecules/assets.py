"""Where the molecule specialist's shipped weights live (importable without torch)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WEIGHTS_DIR = Path(__file__).parent / "weights"
PRIOR_PATH = WEIGHTS_DIR / "prior_gru.pt"
MODEL_PATHS = {"logs": WEIGHTS_DIR / "logs_gnn.pt", "bbb": WEIGHTS_DIR / "bbb_gnn.pt"}


@contextmanager
def torch_single_thread() -> Iterator[None]:
    """Run small sequential models on one thread, restoring the setting after.

    Measured here: a GRU sampling step on a busy 2-core machine ran 30× slower with two intra-op
    threads than with one (threads spin waiting for each other on tiny matrices).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
