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
    Grad-CAM explains; ``pooled_blocks`` of the four blocks halve the resolution, so with 2 the
    map of a 48-pixel patch is 12 × 12 (with 3, as in version 0.1.0, a coarse 6 × 6).
    """

    def __init__(self, in_channels: int = 3, n_types: int = 3, width: int = 16, pooled_blocks: int = 3) -> None:
        super().__init__()
        self.n_types = n_types
        w = width
        chans = [(in_channels, w), (w, 2 * w), (2 * w, 4 * w), (4 * w, 4 * w)]
        self.features = nn.Sequential(*(_block(a, b, i < pooled_blocks) for i, (a, b) in enumerate(chans)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(4 * w, n_types + 1)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the last block's feature maps (for an attribution term during training)."""
        a = self.features(x)
        return self.head(self.dropout(self.pool(a).flatten(1))), a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_features(x)[0]

    def class_activation(self, a: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """Positive class-activation maps ``(batch, h, w)`` of ``classes`` from feature maps ``a``.

        With global average pooling and one linear layer this equals Grad-CAM at ``features.3`` up
        to the constant ``1 / (h·w)``: the gradient of a logit with respect to each map is that
        map's weight in the head.
        """
        w = self.head.weight[classes]  # (batch, C)
        return torch.relu(torch.einsum("bchw,bc->bhw", a, w))
