"""Inference engines for the segmentation network: PyTorch, ONNX Runtime, and ONNX Runtime int8.

An engine maps a batch of 2.5-D slices ``(n, C, H, W)`` (float32) to logits ``(n, 1, H, W)``.
PyTorch runs the bundle's network as loaded; the ONNX engines run ``models/model.onnx`` (or its
int8 quantisation ``models/model_int8.onnx``) exported from the same weights by the training
script. An ONNX file is used only when the hash recorded beside it matches ``models/model.pt``,
so stale exports are never run; otherwise the engine falls back to PyTorch and says why.

A network with instance normalisation depends on the extent of what it sees (its statistics
are taken per input), so it is run in the bundle's sliding windows; a batch-normalised network
is fully convolutional and runs whole (cropped) slices at once, which avoids the windows'
overlap. :func:`whole_slices` tells which.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Literal

import numpy as np

EngineName = Literal["torch", "onnx", "onnx-int8"]
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model_int8.onnx"}
_lock = threading.Lock()
_sessions: dict[tuple[str, int], Any] = {}


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def whole_slices(net: Any) -> bool:
    """True when the network has no instance normalisation (its output on a crop equals the windows')."""
    from torch import nn

    return not any(isinstance(m, nn.modules.instancenorm._InstanceNorm) for m in net.modules())


def weights_digest(bundle: Path) -> str:
    return hashlib.sha256((Path(bundle) / "models" / "model.pt").read_bytes()).hexdigest()


class TorchEngine:
    """The bundle's PyTorch network."""

    name = "torch"

    def __init__(self, net: Any, device: str = "cpu") -> None:
        self.net, self.device = net, device

    def __call__(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.net(torch.from_numpy(np.ascontiguousarray(x)).to(self.device)).cpu().numpy()


class OrtEngine:
    """An ONNX Runtime session on the CPU."""

    def __init__(self, session: Any, name: str) -> None:
        self.session, self.name = session, name
        self.input = session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input: np.ascontiguousarray(x, dtype=np.float32)})[0]


def onnx_status(bundle: Path, name: EngineName) -> tuple[Path | None, str]:
    """The ONNX file of ``name`` when it exists and matches the bundle's weights, or None and why not."""
    if name == "torch":
        return None, "PyTorch requested"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None, "onnxruntime is not installed"
    path = Path(bundle) / "models" / ONNX_FILES[name]
    side = path.with_name(path.name + ".json")
    if not path.is_file() or not side.is_file():
        return None, f"the bundle has no {path.name}"
    try:
        recorded = json.loads(side.read_text()).get("weights_sha256")
    except json.JSONDecodeError:
        recorded = None
    if recorded != weights_digest(bundle):
        return None, f"{path.name} was exported from other weights than models/model.pt"
    return path, "ok"


def make_engine(bundle: Path, net: Any, name: EngineName, device: str = "cpu", threads: int | None = None) -> tuple[Any, str]:
    """The engine ``name`` for a loaded bundle, or PyTorch with the reason it could not be used.

    Returns:
        (engine, note): ``note`` is empty when the requested engine is the one returned.
    """
    if name == "torch" or device != "cpu":
        return TorchEngine(net, device), ""
    path, why = onnx_status(bundle, name)
    if path is None:
        return TorchEngine(net, device), f"the {name} engine is unavailable ({why}); PyTorch was used"
    import onnxruntime as ort

    n = int(threads or usable_cores())
    key = (str(path.resolve()), n)
    with _lock:
        if key not in _sessions:
            so = ort.SessionOptions()
            so.intra_op_num_threads = n
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            _sessions[key] = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return OrtEngine(_sessions[key], name), ""


def export_onnx(bundle: Path, net: Any, in_channels: int, calibration: list[np.ndarray] | None = None) -> dict[str, Any]:
    """Export the bundle's network to ``models/model.onnx`` and, given calibration batches, ``model_int8.onnx``.

    Int8 is static quantisation (QDQ, per-channel int8 weights, uint8 activations) calibrated on
    ``calibration`` (batches of 2.5-D slices from training phantoms). Each file gets a sidecar
    ``.json`` with the SHA-256 of ``model.pt`` it was made from.
    """
    import torch

    models = Path(bundle) / "models"
    digest = weights_digest(bundle)
    out: dict[str, Any] = {}
    fp32 = models / ONNX_FILES["onnx"]
    net = net.cpu().eval()
    with torch.no_grad():
        torch.onnx.export(net, torch.zeros(1, in_channels, 128, 128), str(fp32), input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "logits": {0: "n", 2: "h", 3: "w"}},
                          opset_version=17, dynamo=False)
    _sidecar(fp32, digest, "fp32 export (torch.onnx, opset 17)")
    out["onnx"] = fp32.name
    if calibration:
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.items = list(calibration)

            def get_next(self) -> dict[str, np.ndarray] | None:
                return {"x": self.items.pop().astype(np.float32)} if self.items else None

        pre = models / "model_pre.onnx"
        int8 = models / ONNX_FILES["onnx-int8"]
        try:
            quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
            quantize_static(str(pre), str(int8), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
        finally:
            pre.unlink(missing_ok=True)
        _sidecar(int8, digest, f"static int8 (QDQ, per-channel) calibrated on {len(calibration)} batches")
        out["onnx-int8"] = int8.name
    return out


def _sidecar(path: Path, digest: str, how: str) -> None:
    path.with_name(path.name + ".json").write_text(json.dumps({"weights_sha256": digest, "how": how}, indent=2) + "\n")


def clear_sessions() -> None:
    with _lock:
        _sessions.clear()
