"""Small networks of the imaging bundles (instantiated from their ``configs/inference.json``)."""

from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int, pool: bool) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=False),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=False),
    ]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class LesionClassifier(nn.Module):
    """A four-block CNN over a lesion patch with two heads in one output vector.

    The output is ``(batch, n_types + 1)``: ``n_types`` nodule-type logits (softmax) followed by
    one spiculation logit (sigmoid). ``features.3`` is the last convolutional block, the layer
    Grad-CAM explains.
    """

    def __init__(self, in_channels: int = 3, n_types: int = 3, width: int = 16) -> None:
        super().__init__()
        self.n_types = n_types
        w = width
        self.features = nn.Sequential(_block(in_channels, w, True), _block(w, 2 * w, True),
                                      _block(2 * w, 4 * w, True), _block(4 * w, 4 * w, False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(4 * w, n_types + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.pool(self.features(x)).flatten(1)))
