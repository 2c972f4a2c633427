"""Loading MONAI bundles (the shipped ones or a user's own folder) offline, once per process.

A bundle folder holds ``configs/inference.json`` (with a ``network_def`` MONAI can instantiate),
``models/model.pt`` (a state dict) and ``metadata.json`` (the model card). Galen reads its own
pre/post-processing parameters from the config's ``galen`` section; a user bundle without one
gets the shipped bundle's parameters and a warning saying so.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from galen.errors import ConfigError, ModelUnavailable

BUNDLES_DIR = Path(__file__).resolve().parent / "bundles"
SEG_BUNDLE = BUNDLES_DIR / "lung_nodule_seg"
CLS_BUNDLE = BUNDLES_DIR / "lung_nodule_cls"

_lock = threading.Lock()
_cache: dict[tuple[str, str], LoadedBundle] = {}


@dataclass
class LoadedBundle:
    """A network ready for inference with its bundle's parameters and model card."""

    path: Path
    network: Any
    params: dict[str, Any]
    metadata: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return f"{self.metadata.get('name', self.path.name)} {self.metadata.get('version', '?')}"

    @property
    def synthetic(self) -> bool:
        """True when the model card says it was trained on synthetic data (the shipped bundles are)."""
        shipped = self.path.resolve() in (SEG_BUNDLE.resolve(), CLS_BUNDLE.resolve())
        return bool(self.metadata.get("trained_on_synthetic_data", shipped))


def read_config(bundle: Path) -> dict[str, Any]:
    """The parsed ``configs/inference.json`` of a bundle folder.

    Raises:
        ConfigError: the folder or its config is missing or not valid JSON.
    """
    cfg = Path(bundle) / "configs" / "inference.json"
    if not cfg.is_file():
        raise ConfigError(f"The MONAI bundle folder {bundle} has no configs/inference.json.",
                          hint="Point the imaging bundle setting at a bundle folder (configs/, models/).")
    try:
        return json.loads(cfg.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"{cfg} is not valid JSON ({e.msg} at line {e.lineno}).") from e


def load_bundle(bundle: Path, default: Path, device: str = "cpu") -> LoadedBundle:
    """Instantiate a bundle's network, load its weights and cache the result.

    Args:
        bundle: the bundle folder to load.
        default: the shipped bundle whose ``galen`` parameters fill in what ``bundle`` lacks.
        device: ``cpu`` or ``cuda``.

    Raises:
        ConfigError: the config cannot be parsed or instantiated.
        ModelUnavailable: the weights file is missing or does not fit the network.
    """
    key = (str(Path(bundle).resolve()), device)
    with _lock:
        if key in _cache:
            return _cache[key]
        import torch
        from monai.bundle import ConfigParser

        raw = read_config(bundle)
        warnings: list[str] = []
        params = dict(read_config(default).get("galen", {})) if Path(bundle) != Path(default) else {}
        # The false-positive filter is fitted to the shipped network's outputs: never lent to another one.
        params.pop("fp_filter", None)
        if "galen" in raw:
            params.update(raw["galen"])
        else:
            warnings.append(f"The bundle {bundle} has no 'galen' section; the shipped pre-processing was assumed.")
        parser = ConfigParser(raw)
        try:
            net = parser.get_parsed_content("network_def")
        except Exception as e:  # MONAI raises several types while instantiating a user's config
            raise ConfigError(f"Could not build the network of bundle {bundle}: {e}") from e
        weights = Path(bundle) / "models" / "model.pt"
        if not weights.is_file():
            raise ModelUnavailable(f"The bundle {bundle} has no weights at models/model.pt.",
                                   hint="Train it (galen train imaging-seg / imaging-cls) or point at another bundle.")
        state = torch.load(weights, map_location=device, weights_only=True)
        if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
            state = state["model"]
        try:
            net.load_state_dict(state)
        except RuntimeError as e:
            raise ModelUnavailable(f"The weights in {weights} do not fit the bundle's network_def.") from e
        net.to(device).eval()
        meta_path = Path(bundle) / "metadata.json"
        metadata = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        loaded = LoadedBundle(path=Path(bundle), network=net, params=params, metadata=metadata, warnings=warnings)
        _cache[key] = loaded
        return loaded


def clear_cache() -> None:
    """Forget loaded bundles (after retraining in the same process)."""
    with _lock:
        _cache.clear()
