"""DCGAN (Radford et al., arXiv 1511.06434): transposed-conv generator, strided-conv discriminator,
BatchNorm, ReLU in G, LeakyReLU(0.2) in D, weights from N(0, 0.02).

One builder covers the tutorial's 28 px model and the standard 32/64 px stacks. G starts from a
``s0``×``s0`` map (7 for 28 px, 4 for 32/64 px) and doubles it ``k`` times; the channel count starts
at ``width·2^(k-1)`` and halves each time:

    28 px, width 112 (the tutorial): z -> 224@7x7 -> 112@14x14 -> C@28x28
    64 px, width 64  (the paper):    z -> 512@4x4 -> 256@8x8 -> 128@16x16 -> 64@32x32 -> C@64x64

D mirrors G. Pass a smaller ``width`` (e.g. 32) for faster training on a CPU.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganstudio.models import register_family
from ganstudio.models.adversarial import AdversarialFamily


def dcgan_geometry(image_size: int) -> tuple[int, int]:
    """(start size s0, number of doublings k) with s0 · 2^k == image_size."""
    start = 7 if image_size % 7 == 0 else 4
    doublings = round(math.log2(image_size / start))
    if start * 2**doublings != image_size:
        raise ValueError(f"DCGAN needs an image size of 7·2^k or 4·2^k, not {image_size}")
    return start, doublings


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int):
        super().__init__()
        start, doublings = dcgan_geometry(image_size)
        ch = width * 2 ** (doublings - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, ch, start, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)
        ]
        for _ in range(doublings - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    def __init__(self, channels: int, image_size: int, width: int):
        super().__init__()
        start, doublings = dcgan_geometry(image_size)
        ch = width
        layers: list[nn.Module] = [nn.Conv2d(channels, ch, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for _ in range(doublings - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers += [nn.Conv2d(ch, 1, start, 1, 0, bias=False), nn.Flatten()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def dcgan_init_(module: nn.Module) -> None:
    """The paper's initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


@register_family("dcgan")
class DCGAN(AdversarialFamily):
    description = "deep convolutional GAN (the tutorial's at 28 px; the paper's stack at 32/64 px)"
    channels_last = True

    def default_width(self) -> int:
        return 112 if self.image_shape[1] == 28 else 64

    def build_generator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        g = DCGANGenerator(self.latent_dim, channels, size, self.width)
        dcgan_init_(g)
        return g

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        d = DCGANDiscriminator(channels, size, self.width)
        dcgan_init_(d)
        return d
