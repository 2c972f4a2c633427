"""Grad-CAM: an exact map on a tiny fixed network, its share inside the lesion, and a picture with a colour bar."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage
from torch import nn

from specialists.imaging.explain import MEANING, gradcam, lesion_on_patch, save_png, share_inside

PARAMS = {"patch_size": 48, "patch_scale": 2.5, "min_patch_mm": 20.0, "slice_offsets": [-2, 0, 2],
          "hu_window": [-1000, 400]}


class BrightSpot(nn.Module):
    """Fires where the input is brighter than air; one class whose score is the mean firing."""

    def __init__(self) -> None:
        super().__init__()
        conv = nn.Conv2d(3, 2, 3, padding=1, padding_mode="replicate")
        with torch.no_grad():
            conv.weight.fill_(1 / 27)
            conv.bias.fill_(1.0)  # air (-1) maps to 0
            conv.weight[1].fill_(-1 / 27)  # a second map that fires on air only
            conv.bias[1] = 0.0
        self.features = nn.Sequential(conv, nn.ReLU())
        self.head = nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def _patch(radius_px: int = 6) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:48, :48]
    disc = (yy - 24) ** 2 + (xx - 24) ** 2 <= radius_px**2
    patch = np.where(disc, 0.6, -1.0).astype(np.float32)
    return np.stack([patch] * 3), disc


def test_gradcam_of_a_bright_spot_lies_on_it():
    patch, disc = _patch()
    net = BrightSpot()
    cam = gradcam(net, patch, 0, "features")
    assert cam.shape == (48, 48) and cam.min() >= 0 and cam.max() > 0
    near = ndimage.binary_dilation(disc, iterations=2)  # the lesion widened, as the 2 mm margin does
    assert share_inside(cam, near) > 0.95
    # The map is not normalised by its minimum: the class that fires on air has its mass outside.
    assert share_inside(gradcam(net, patch, 1, "features"), disc) < 0.1
    with pytest.raises(KeyError):
        gradcam(net, patch, 0, "no.such.layer")


def test_lesion_on_the_patch_grid_and_its_2mm_margin():
    spacing = (1.25, 0.8, 0.8)
    mask = np.zeros((9, 64, 64), bool)
    zz, yy, xx = np.mgrid[:9, :64, :64]
    mask[((zz - 4) * 1.25) ** 2 + ((yy - 32) * 0.8) ** 2 + ((xx - 32) * 0.8) ** 2 <= 4.0**2] = True
    inner = lesion_on_patch(mask, (4.0, 32.0, 32.0), 8.0, PARAMS, spacing, dilate_mm=0.0)
    wide = lesion_on_patch(mask, (4.0, 32.0, 32.0), 8.0, PARAMS, spacing, dilate_mm=2.0)
    pixel_mm = 20.0 / 48
    assert inner.sum() * pixel_mm**2 == pytest.approx(np.pi * 4.0**2, rel=0.1)
    assert wide.sum() * pixel_mm**2 == pytest.approx(np.pi * 6.0**2, rel=0.15) and (wide >= inner).all()


def test_picture_has_a_colour_bar(tmp_path):
    patch, disc = _patch()
    cam = gradcam(BrightSpot(), patch, 0, "features")
    path = save_png(patch, cam, tmp_path / "cam.png", "lesion 1: solid, p = 0.90", outline=disc, pixel_mm=0.4,
                    share=share_inside(cam, disc))
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    right = rgb[:, int(rgb.shape[1] * 0.75):]
    red = (right[..., 0] > 150) & (right[..., 1] < 90) & (right[..., 2] < 90)
    blue = (right[..., 2] > 150) & (right[..., 0] < 90) & (right[..., 1] < 90)
    cols = np.nonzero((red.sum(0) >= 8) & (blue.sum(0) >= 8))[0]
    assert len(cols) >= 3  # a vertical strip running from dark blue to dark red: the jet colour bar
    top_red = np.nonzero(red[:, cols[0]])[0].mean()
    bottom_blue = np.nonzero(blue[:, cols[0]])[0].mean()
    assert top_red < bottom_blue  # 1 (strongest) at the top
    assert "does not prove" in MEANING and "not why" in MEANING
