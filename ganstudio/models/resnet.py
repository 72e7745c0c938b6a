"""The residual image-to-image generator of CycleGAN (Zhu et al., arXiv 1703.10593, appendix 7.2, after
Johnson et al. 2016), also StarGAN's (arXiv 1711.09020, appendix, which adapts it):

    c7s1-w, d2w, d4w, R4w × blocks, u2w, uw, c7s1-C_out

c7s1-k: 7×7 conv, stride 1, k filters (reflection padding); dk: 3×3 conv, stride 2; Rk: a residual block
of two 3×3 convs; uk: 3×3 transposed conv, stride ½. Instance norm and ReLU after every conv but the
last, which ends in tanh. The paper: w = 64, 6 blocks at 128 px, 9 at 256 px.
"""

from __future__ import annotations

import torch
from torch import nn


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels)  # no affine, no running statistics (the reference code's default)


class ResidualBlock(nn.Module):
    """x + conv-norm-ReLU-conv-norm(x), 3×3 convs with reflection padding; (N, C, H, W) -> same."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """(N, C_in, S, S) in [-1, 1] -> (N, C_out, S, S) in [-1, 1]; S divisible by 4."""

    def __init__(self, in_channels: int, out_channels: int, width: int, blocks: int):
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), _norm(width), nn.ReLU(True)]
        channels = width
        for _ in range(2):
            layers += [nn.Conv2d(channels, 2 * channels, 3, 2, 1), _norm(2 * channels), nn.ReLU(True)]
            channels *= 2
        layers += [ResidualBlock(channels) for _ in range(blocks)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(channels, channels // 2, 3, 2, 1, output_padding=1), _norm(channels // 2),
                       nn.ReLU(True)]
            channels //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(channels, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
