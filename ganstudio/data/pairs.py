"""Paired data from any image data set: each image gets an input ("source") made from it by a transform,
for the image-to-image families (pix2pix learns source -> image). ``--pair-from``:

    edges      a line drawing: dark lines on white where the luminance changes (Sobel magnitude,
               scaled by each image's 95th percentile), 1 channel — the "edges -> photo" task
    grey       the luminance, 1 channel — colourisation
    blur       a Gaussian blur with σ = size / 32 — deblurring
    downscale  4× smaller (area average) and back up (bicubic) — super-resolution's input

The transforms are deterministic and run once over the whole uint8 data set, in chunks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganstudio.config import DataConfig

CHUNK = 2048  # images per chunk: bounds the float32 working memory
_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).view(1, 1, 3, 3) / 8


def source_channels(cfg: DataConfig) -> int:
    """Channels of the sources ``cfg`` pairs its images with (1 for edges and grey)."""
    return 1 if cfg.pair_from in ("edges", "grey") else cfg.channels


def make_sources(images: torch.Tensor, transform: str) -> torch.Tensor:
    """uint8 (N, C, H, W) images -> uint8 (N, C', H, W) sources made by ``transform`` (see above)."""
    make = {"edges": _edges, "grey": _luminance, "blur": _blur, "downscale": _downscale}[transform]
    out = [make(chunk.float() / 255) for chunk in images.split(CHUNK)]
    return (torch.cat(out) * 255).round_().clamp_(0, 255).to(torch.uint8)


def _luminance(x: torch.Tensor) -> torch.Tensor:
    return (x * _LUMA).sum(1, keepdim=True) if x.shape[1] == 3 else x


def _edges(x: torch.Tensor) -> torch.Tensor:
    lum = F.pad(_luminance(x), (1, 1, 1, 1), mode="replicate")
    gx, gy = F.conv2d(lum, _SOBEL_X), F.conv2d(lum, _SOBEL_X.transpose(2, 3))
    magnitude = (gx.square() + gy.square()).sqrt()
    scale = magnitude.flatten(1).quantile(0.95, dim=1).clamp_min(1e-3).view(-1, 1, 1, 1)
    return 1 - (magnitude / scale).clamp(0, 1)


def _blur(x: torch.Tensor) -> torch.Tensor:
    sigma = x.shape[-1] / 32
    radius = max(1, round(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (t / sigma).square())
    kernel = (kernel / kernel.sum()).view(1, 1, 1, -1).expand(x.shape[1], 1, 1, -1)
    padded = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    rows = F.conv2d(padded, kernel, groups=x.shape[1])
    return F.conv2d(rows, kernel.transpose(2, 3), groups=x.shape[1])


def _downscale(x: torch.Tensor) -> torch.Tensor:
    size = x.shape[-1]
    small = F.interpolate(x, size=(size // 4, size // 4), mode="area")
    return F.interpolate(small, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
