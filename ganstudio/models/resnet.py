"""The residual image-to-image generator of CycleGAN (Zhu et al., arXiv 1703.10593, appendix 7.2, after
Johnson et al. 2016), also StarGAN's (arXiv 1711.09020, appendix, which adapts it):

    c7s1-w, d2w, d4w, R4w × blocks, u2w, uw, c7s1-C_out

c7s1-k: 7×7 conv, stride 1, k filters (reflection padding); dk: 3×3 conv, stride 2; Rk: a residual block
of two 3×3 convs; uk: 3×3 transposed conv, stride ½. Instance norm and ReLU after every conv but the
last, which ends in tanh. The paper: w = 64, 6 blocks at 128 px, 9 at 256 px.

Departures, each an option of the families that use it, measured on the drawn faces:

- ``edits_input``: the output is the input plus what the network draws, clipped to [-1, 1]
  (residual learning, as in super-resolution's VDSR). The paper's generator re-draws the whole image
  through an 8×8 bottleneck (at 32 px); on faces it was still 0.10 from its input (L1, pixels in
  [-1, 1]) after 1,600 steps learning nothing but the identity, this one 0.002 — and translation
  between domains is mostly leaving the picture alone.
- ``masked`` (with ``edits_input``): G also draws a mask m in (0, 1) (sigmoid, starting near 0.02) and the
  output is the input + m · what it draws, so most pixels can be left exactly alone (the attention masks of
  GANimation, Pumarola et al., arXiv 1807.09251, and Mejjati et al., arXiv 1806.02311).
- ``codes`` > 0 (StarGAN): every instance norm takes its scale and shift from the target code
  (conditional instance norm, Dumoulin et al. 2017). The paper tiles the code into the input only; the
  first instance norm subtracts anything spatially constant, so with reflection padding the code never
  reached the output (moving it changed the output by ≤ 1 grey level).
"""

from __future__ import annotations

import torch
from torch import nn

from ganstudio.models.base import FamilyOption

EDITS_INPUT = FamilyOption("edits_input", "G edits its input", 1, 0, 1,
                           "1: the output is the input plus what G draws (faster to learn); 0: G re-draws the whole "
                           "picture (the paper)", integer=True)


MASK_OFFSET = 4.0  # a masked generator's mask starts near sigmoid(-4) ≈ 0.02: G starts as the identity



class ConditionalInstanceNorm(nn.Module):
    """(1 + γ(c))·IN(x) + β(c) with γ, β linear in the code c (N, K), zero at the start; ``code`` is
    set by the generator before each forward."""

    def __init__(self, channels: int, codes: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels)
        self.affine = nn.Linear(codes, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)
        self.code: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.affine(self.code.to(x.dtype)).chunk(2, dim=1)
        return self.norm(x) * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]


def _norm(channels: int, codes: int) -> nn.Module:
    # No affine, no running statistics (the reference code's default); conditioned when there is a code.
    return ConditionalInstanceNorm(channels, codes) if codes else nn.InstanceNorm2d(channels)


class ResidualBlock(nn.Module):
    """x + conv-norm-ReLU-conv-norm(x), 3×3 convs with reflection padding; (N, C, H, W) -> same."""

    def __init__(self, channels: int, codes: int = 0):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels, codes), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels, codes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """(N, C_in, S, S) in [-1, 1] (and a code (N, K) when ``codes``) -> (N, C_out, S, S) in [-1, 1]; S
    divisible by 4. With ``edits_input`` the first C_out input channels are the picture being edited."""

    def __init__(self, in_channels: int, out_channels: int, width: int, blocks: int, codes: int = 0,
                 edits_input: bool = False, masked: bool = False):
        super().__init__()
        if masked and not edits_input:
            raise ValueError("a masked generator edits its input")
        self.out_channels, self.edits_input = out_channels, edits_input
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), _norm(width, codes),
                                   nn.ReLU(True)]
        channels = width
        for _ in range(2):
            layers += [nn.Conv2d(channels, 2 * channels, 3, 2, 1), _norm(2 * channels, codes), nn.ReLU(True)]
            channels *= 2
        layers += [ResidualBlock(channels, codes) for _ in range(blocks)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(channels, channels // 2, 3, 2, 1, output_padding=1),
                       _norm(channels // 2, codes), nn.ReLU(True)]
            channels //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(channels, out_channels, 7)]
        self.net = nn.Sequential(*layers)
        self.mask = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(channels, 1, 7)) if masked else None
        self.conditioned = [m for m in self.modules() if isinstance(m, ConditionalInstanceNorm)]

    def forward(self, x: torch.Tensor, code: torch.Tensor | None = None) -> torch.Tensor:
        for norm in self.conditioned:
            norm.code = code
        if self.mask is not None:  # input + mask · drawn
            features = self.net[:-2](x)
            mask = torch.sigmoid(self.mask(features) - MASK_OFFSET)
            return (x[:, :self.out_channels] + mask * torch.tanh(self.net[-2:](features))).clamp(-1, 1)
        out = torch.tanh(self.net(x))
        if self.edits_input:
            out = (x[:, :self.out_channels] + out).clamp(-1, 1)
        return out
