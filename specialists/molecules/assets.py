"""Where the molecule specialist's shipped weights live (importable without torch)."""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from galen.errors import ModelUnavailable

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


@dataclass(frozen=True)
class EnsembleFiles:
    """What a property-ensemble checkpoint says about itself, read without loading it."""

    task: str
    version: str
    forest_file: Path | None  # the forest member's file, when the ensemble has one


class _HeaderReader(pickle.Unpickler):
    """Unpickles a torch checkpoint's plain values (strings, numbers, dicts, lists) and nothing else:
    every tensor, storage or other class comes back as ``None``, and no foreign code is ever run."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        return _nothing

    def persistent_load(self, pid: Any) -> None:
        return None


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def missing_weights(path: Path) -> ModelUnavailable:
    """The error for a property-ensemble checkpoint that is not there."""
    return ModelUnavailable(
        f"The learned property model {path.name} is missing.",
        hint="Train it with `galen train properties` (python -m specialists.molecules.train_properties).",
    )


def missing_forest(forest_file: Path, path: Path) -> ModelUnavailable:
    """The error for an ensemble whose forest member's file is not there."""
    return ModelUnavailable(
        f"The forest member {forest_file.name} of {path.name} is missing.",
        hint="Retrain with `galen train properties` (python -m specialists.molecules.train_properties).",
    )


def ensemble_files(path: Path) -> EnsembleFiles:
    """Task, version and forest file of the ensemble checkpoint at ``path``, in milliseconds and without
    torch: the screen's coordinating process checks the files and reports versions, only its workers
    load the models.

    Raises:
        ModelUnavailable: the checkpoint, or the forest member it names, is missing.
    """
    if not path.is_file():
        raise missing_weights(path)
    with zipfile.ZipFile(path) as archive:  # torch.save's format: <name>/data.pkl holds the object tree
        pkl = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        header = _HeaderReader(io.BytesIO(archive.read(pkl))).load()
    forest = path.with_name(header["forest_file"]) if header.get("forest_file") else None
    if forest is not None and not forest.is_file():
        raise missing_forest(forest, path)
    return EnsembleFiles(header["task"], header["version"], forest)
