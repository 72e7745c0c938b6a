"""The classic minimax GAN objective (Goodfellow et al., arXiv 1406.2661) with the non-saturating
generator loss, shared by the MLP GAN and DCGAN families.

Maths as in the tutorial (sigmoid + BCE), computed stably from logits with BCEWithLogits. The G step
reuses the D step's fakes, as the PyTorch DCGAN example does: one generator forward per step.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod

import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.models.base import Family, MetricInfo

ADVERSARIAL_METRICS = (
    MetricInfo("loss_d", "D loss", "losses"),
    MetricInfo("loss_g", "G loss", "losses"),
    MetricInfo("d_real", "D(x)", "discriminator"),
    MetricInfo("d_fake", "D(G(z))", "discriminator"),
)


def bce_with_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class AdversarialFamily(Family):
    """G and D trained with Adam on the BCE objective. Subclasses build the two networks.

    ``joint_discriminator_pass``: run D once over real and fake concatenated (exactly the same maths
    when D has no batch statistics; DCGAN's BatchNorm needs separate passes).
    """

    metrics = ADVERSARIAL_METRICS
    joint_discriminator_pass = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        memory_format = torch.channels_last if self.channels_last else torch.preserve_format
        self.G = self.build_generator().to(self.device, memory_format=memory_format)
        self.D = self.build_discriminator().to(self.device, memory_format=memory_format)
        t = self.train_cfg
        fused = self.device.type in ("cuda", "cpu")
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=t.lr_g, betas=(t.beta1, t.beta2), fused=fused)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=t.lr_d, betas=(t.beta1, t.beta2), fused=fused)
        use_amp = t.amp and self.device.type == "cuda"
        self._autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else contextlib.nullcontext

    @abstractmethod
    def build_generator(self) -> nn.Module:
        """z (N, latent_dim) -> image (N, C, H, W) in [-1, 1]."""

    @abstractmethod
    def build_discriminator(self) -> nn.Module:
        """image (N, C, H, W) -> logit (N, 1)."""

    @property
    def generator(self) -> nn.Module:
        return self.G

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.G, "discriminator": self.D}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        n = real.shape[0]
        z = torch.randn(n, self.latent_dim, device=self.device)
        with self._autocast():
            fake = self.G(z)

        # D step: real -> 1, fake -> 0, fakes detached so G gets no gradient.
        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        with self._autocast():
            if self.joint_discriminator_pass:
                real_logits, fake_logits = self.D(torch.cat([real, fake.detach()])).float().split(n)
            else:
                real_logits = self.D(real).float()
                fake_logits = self.D(fake.detach()).float()
        loss_d = bce_with_logits(real_logits, 1.0) + bce_with_logits(fake_logits, 0.0)
        loss_d.backward()
        self.opt_d.step()

        # G step: non-saturating loss, D frozen so its weight gradients are not computed.
        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self._autocast():
            loss_g = bce_with_logits(self.D(fake).float(), 1.0)
        loss_g.backward()
        self.opt_g.step()

        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "d_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean(),
        }
