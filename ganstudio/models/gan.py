"""The tutorial's MLP GAN (Goodfellow et al., arXiv 1406.2661), generalised to any image shape.

G: z(100) -> 256 -> 512 -> 1024 -> C·H·W, LeakyReLU(0.2), Tanh.
D: C·H·W -> 1024 -> 512 -> 256 -> 1, LeakyReLU(0.2) and Dropout(0.5) after each hidden layer
(the tutorial's final Sigmoid lives in the loss: BCEWithLogits).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganstudio.models import register_family
from ganstudio.models.adversarial import AdversarialFamily
from ganstudio.models.base import FamilyOption


class MaskDropout(nn.Module):
    """Inverted dropout with the mask from ``rand_like`` (~2× cheaper than ``bernoulli_`` on CPUs);
    the same distribution as ``nn.Dropout``."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand_like(x).ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], hidden=(256, 512, 1024)):
        super().__init__()
        self.image_shape = image_shape
        layers: list[nn.Module] = []
        width_in = latent_dim
        for width in hidden:
            layers += [nn.Linear(width_in, width), nn.LeakyReLU(0.2)]
            width_in = width
        layers += [nn.Linear(width_in, math.prod(image_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.image_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], hidden=(1024, 512, 256), dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width_in = math.prod(image_shape)
        for width in hidden:
            layers += [nn.Linear(width_in, width), nn.LeakyReLU(0.2), MaskDropout(dropout)]
            width_in = width
        layers.append(nn.Linear(width_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@register_family("gan")
class MLPGAN(AdversarialFamily):
    description = "the tutorial's fully connected GAN (fast on a CPU)"
    joint_discriminator_pass = True  # no batch statistics in D: one pass over real+fake is exact
    # The tutorial's maths: no instance noise (it learns from the start without).
    options = (FamilyOption("dropout", "D's dropout", 0.5, 0.0, 0.9,
                            "the share of D's hidden units dropped in training (the tutorial's 0.5; 0: none)"),)

    def build_generator(self) -> nn.Module:
        return MLPGenerator(self.latent_dim, self.image_shape)

    def build_discriminator(self) -> nn.Module:
        return MLPDiscriminator(self.image_shape, dropout=self.settings["dropout"])
