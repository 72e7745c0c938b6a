"""Boundary Equilibrium GAN (Berthelot, Schumm & Metz, arXiv 1703.10717).

D is an auto-encoder with ELUs; L(v) = ‖v − D(v)‖₁, the L1 norm of an image's reconstruction error.
A proportional controller keeps the equilibrium E[L(G(z))] = γ·E[L(x)]:

    L_D = L(x) − k_t · L(G(z))        L_G = L(G(z))
    k_{t+1} = clip(k_t + λ_k (γ L(x) − L(G(z))), 0, 1),   k_0 = 0

γ (the diversity ratio: lower gives sharper, less varied images) defaults to 0.5, λ_k to 0.001. The
convergence measure M_global = L(x) + |γ L(x) − L(G(z))| falls as the samples improve (reported,
like the losses, per pixel so that numbers compare across resolutions). Adam with
lr 1e-4, batch 16, as in the paper (its lr decay on stalls is left to the person). G has the same
architecture as D's decoder. One deviation, measured: the paper uses no normalisation, but then in
short CPU runs G settles on flat grey images the auto-encoder reconstructs easily (pixel FD to the
data 1.1 -> 1.8 in 1,000-4,000 steps on faces); with BatchNorm in G and D (separate real and fake
batches, as in DCGAN) blurry faces appear within 1,000 steps (1.1 -> 0.24).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganstudio.data.base import IMAGE
from ganstudio.models import register_family
from ganstudio.models.base import FamilyOption, MetricInfo, Tensors
from ganstudio.models.conv import CONV_IMAGE_SIZES, AutoEncoder, ConvDecoder, elu
from ganstudio.models.two_networks import TwoNetworkFamily


def reconstruction_l1(images: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """The L1 norm of each image's reconstruction error, averaged over the batch (a 0-dim tensor)."""
    return (reconstruction.float() - images.float()).abs().flatten(1).sum(dim=1).mean()


@register_family("began")
class BEGAN(TwoNetworkFamily):
    image_sizes = CONV_IMAGE_SIZES
    description = "boundary equilibrium GAN: auto-encoder D balanced by k_t; M_global tracks quality"
    channels_last = True
    metrics = (
        MetricInfo("m_global", "M_global", "convergence M_global per pixel (lower is better)"),
        MetricInfo("k_t", "k_t", "equilibrium control k_t"),
        MetricInfo("loss_real", "L(x)", "auto-encoder L1 error per pixel"),
        MetricInfo("loss_fake", "L(G(z))", "auto-encoder L1 error per pixel"),
    )
    options = (
        FamilyOption("gamma", "Diversity ratio γ", 0.5, 0.01, 1.0,
                     "the equilibrium L(G(z)) = γ·L(x): lower gives sharper but less varied images"),
        FamilyOption("lambda_k", "k_t learning rate λ_k", 0.001, 0.0, 1.0, "how fast k_t follows the equilibrium"),
    )
    train_overrides = {"lr_g": 1e-4, "lr_d": 1e-4, "batch_size": 16}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.k = torch.zeros((), device=self.device)

    def default_width(self) -> int:
        return 64

    def build_generator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        return ConvDecoder(self.latent_dim, channels, size, self.width, "batch", elu)

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        return AutoEncoder(channels, size, self.width, self.latent_dim, "batch", elu, elu)

    def training_state(self) -> dict[str, float]:
        return {"k_t": float(self.k)}

    def load_training_state(self, state: dict[str, float]) -> None:
        self.k = torch.tensor(float(state.get("k_t", 0.0)), device=self.device)

    def replicated_state(self) -> list[torch.Tensor]:
        return [self.k]

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        real = batch[IMAGE]
        gamma, lambda_k = self.settings["gamma"], self.settings["lambda_k"]
        with self.autocast():
            fake = self.G(self.draw_latent(real.shape[0]))

        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            loss_real = reconstruction_l1(real, self.D(real)[0])
            detached = fake.detach()
            loss_fake_d = reconstruction_l1(detached, self.D(detached)[0])
        (loss_real - self.k * loss_fake_d).backward()
        self.opt_d.step()

        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            loss_fake = reconstruction_l1(fake, self.D(fake)[0])
        loss_fake.backward()
        self.opt_g.step()

        balance = (gamma * loss_real - loss_fake).detach()
        self.k = (self.k + lambda_k * balance).clamp(0.0, 1.0)
        per_pixel = 1.0 / math.prod(self.image_shape)
        return {"m_global": (loss_real.detach() + balance.abs()) * per_pixel, "k_t": self.k.clone(),
                "loss_real": loss_real.detach() * per_pixel, "loss_fake": loss_fake.detach() * per_pixel}
