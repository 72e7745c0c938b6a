"""Convolutional building blocks shared by the conv families: the DCGAN stacks (Radford et al., arXiv
1511.06434) with a choice of normalisation and activation, and an auto-encoder made of the two.

A decoder starts from an ``s0``×``s0`` map (7 for 28 px, 4 for 16-256 px) and doubles it ``k`` times;
the map next to the image has ``width`` channels and each level further from it twice as many, up to
8·width (the paper's 512 at 64 px, so 128 and 256 px add levels at the top, not channels at the bottom):

    28 px, width 112 (the tutorial): z -> 224@7x7 -> 112@14x14 -> C@28x28
    64 px, width 64  (the paper):    z -> 512@4x4 -> 256@8x8 -> 128@16x16 -> 64@32x32 -> C@64x64
    128 px, width 64:                z -> 512@4x4 -> 512@8x8 -> 256@16x16 -> 128@32x32 -> 64@64x64 -> C@128x128

An encoder mirrors it: C@HxW -> width@H/2 -> ... -> (width·2^(k-1))@s0×s0 -> a conv over the whole
map to ``out_features``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

Norm = Literal["batch", "layer", "none"]
Activation = Callable[[], nn.Module]


def relu() -> nn.Module:
    return nn.ReLU(True)


def leaky_relu() -> nn.Module:
    return nn.LeakyReLU(0.2, True)


def elu() -> nn.Module:
    return nn.ELU(inplace=True)


# The sizes the conv stacks build for: 7·2^k (the tutorial's 28) and 4·2^k from 16 to 256.
CONV_IMAGE_SIZES = (16, 28, 32, 64, 128, 256)
MAX_CHANNELS_FACTOR = 8  # the widest level has at most 8·width channels


def level_channels(width: int, levels: int) -> list[int]:
    """Channels of the ``levels`` feature maps, from the one next to the image (``width``) outwards."""
    return [min(width * 2**i, MAX_CHANNELS_FACTOR * width) for i in range(levels)]


def conv_geometry(image_size: int) -> tuple[int, int]:
    """(start size s0, number of doublings k) with s0 · 2^k == image_size."""
    start = 7 if image_size % 7 == 0 else 4
    doublings = round(math.log2(image_size / start))
    if start * 2**doublings != image_size:
        raise ValueError(f"a conv stack needs an image size of 7·2^k or 4·2^k, not {image_size}")
    return start, doublings


def norm_layer(norm: Norm, channels: int) -> list[nn.Module]:
    """BatchNorm, layer norm over (C, H, W) per image (GroupNorm with one group), or nothing."""
    if norm == "batch":
        return [nn.BatchNorm2d(channels)]
    if norm == "layer":
        return [nn.GroupNorm(1, channels)]
    return []


class ConvDecoder(nn.Module):
    """(N, in_features) -> (N, C, H, W) in [-1, 1]: the DCGAN generator."""

    def __init__(self, in_features: int, channels: int, image_size: int, width: int, norm: Norm = "batch",
                 activation: Activation = relu):
        super().__init__()
        start, doublings = conv_geometry(image_size)
        bias = norm == "none"
        chs = level_channels(width, doublings)[::-1]  # from the start map to the one next to the image
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_features, chs[0], start, 1, 0, bias=bias),
                                   *norm_layer(norm, chs[0]), activation()]
        for ch_in, ch_out in zip(chs, chs[1:]):
            layers += [nn.ConvTranspose2d(ch_in, ch_out, 4, 2, 1, bias=bias), *norm_layer(norm, ch_out), activation()]
        layers += [nn.ConvTranspose2d(chs[-1], channels, 4, 2, 1, bias=bias), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class ConvEncoder(nn.Module):
    """(N, C, H, W) -> (N, out_features): the DCGAN discriminator (no norm after the first conv).

    ``features(x)`` is the last hidden map (N, feature_channels, s0, s0), for heads that need it
    (projection discriminators, the pulling-away term).
    """

    def __init__(self, channels: int, image_size: int, width: int, out_features: int = 1, norm: Norm = "batch",
                 activation: Activation = leaky_relu, head_bias: bool = False):
        super().__init__()
        start, doublings = conv_geometry(image_size)
        bias = norm == "none"
        chs = level_channels(width, doublings)
        layers: list[nn.Module] = [nn.Conv2d(channels, chs[0], 4, 2, 1, bias=bias), activation()]
        for ch_in, ch_out in zip(chs, chs[1:]):
            layers += [nn.Conv2d(ch_in, ch_out, 4, 2, 1, bias=bias), *norm_layer(norm, ch_out), activation()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Conv2d(chs[-1], out_features, start, 1, 0, bias=head_bias), nn.Flatten())
        self.feature_channels = chs[-1]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class AutoEncoder(nn.Module):
    """x (N, C, H, W) -> (reconstruction (N, C, H, W), code (N, code_dim)): a ConvEncoder to a code
    and a ConvDecoder back, as the discriminators of EBGAN and BEGAN."""

    def __init__(self, channels: int, image_size: int, width: int, code_dim: int, norm: Norm,
                 encoder_activation: Activation, decoder_activation: Activation):
        super().__init__()
        self.encoder = ConvEncoder(channels, image_size, width, code_dim, norm, encoder_activation, head_bias=True)
        self.decoder = ConvDecoder(code_dim, channels, image_size, width, norm, decoder_activation)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encoder(x)
        return self.decoder(code), code


def dcgan_init_(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
