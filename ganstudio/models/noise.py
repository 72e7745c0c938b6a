"""Noise layers inside a generator (pix2pix's dropout at inference), and drawing their noise from a
private generator while rendering, so that rendering — in the training thread for the sample grid, or
beside it for quality and the explorer — never moves torch's global random stream (exact resume)."""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn


class NoiseDropout(nn.Module):
    """Dropout that stays on at inference when ``at_inference`` (pix2pix's noise). In training it draws
    from torch's global generator (saved in checkpoints: exact resume); while ``generator`` is set (see
    :func:`seeded_noise`) it draws from that one, so rendering never moves the global stream."""

    def __init__(self, p: float, at_inference: bool):
        super().__init__()
        self.p, self.at_inference = p, at_inference
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training or self.at_inference):
            return x
        if self.generator is None:
            return F.dropout(x, self.p, training=True)
        keep = torch.rand(x.shape, generator=self.generator, device=x.device) >= self.p
        return x * keep.to(x.dtype) / (1 - self.p)


class LatentNoise(nn.Module):
    """features (N, C, ...) -> (N, C + channels, ...): z ~ N(0, I) of the features' other dimensions
    concatenated on (SEGAN's z at the bottleneck), drawn from ``generator`` while it is set, as above."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (x.shape[0], self.channels, *x.shape[2:])
        z = x.new_empty(shape).normal_(generator=self.generator)  # randn's numbers; exports with a free batch size
        return torch.cat([x, z], dim=1)


@contextlib.contextmanager
def seeded_noise(module: nn.Module, seed: int):
    """Within the block, ``module``'s noise layers (NoiseDropout, LatentNoise) draw from a private generator
    seeded ``seed``."""
    layers = [m for m in module.modules() if isinstance(m, (NoiseDropout, LatentNoise))]
    if not layers:
        yield
        return
    device = next(module.parameters()).device
    generator = torch.Generator(device).manual_seed(seed)
    for layer in layers:
        layer.generator = generator
    try:
        yield
    finally:
        for layer in layers:
            layer.generator = None
