"""Wasserstein GANs on the DCGAN stacks: a critic without sigmoid estimates the Wasserstein-1 distance
E[D(x)] − E[D(G(z))], and G minimises −E[D(G(z))].

- ``wgan`` (Arjovsky et al., arXiv 1701.07875, Algorithm 1): weights clipped to [−c, c] with c = 0.01,
  RMSProp with lr 5e-5, n_critic = 5, batch 64. (The authors' code also gives the first 25 generator
  iterations 100 critic iterations; Algorithm 1 does not, and neither do we.)
- ``wgan-gp`` (Gulrajani et al., arXiv 1704.00028, Algorithm 1): instead of clipping, the penalty
  λ·E[(‖∇D(x̂)‖₂ − 1)²] at random points x̂ between real and fake, λ = 10; Adam lr 1e-4, betas (0, 0.9),
  n_critic = 5, batch 64; layer norm instead of BatchNorm in the critic (the penalty is per image).

One engine step is one critic iteration on one batch; every ``n_critic``-th step also updates G.
"""

from __future__ import annotations

import torch
from torch import nn

from ganstudio.data.base import IMAGE
from ganstudio.models import register_family
from ganstudio.models.base import FamilyOption, MetricInfo, Tensors
from ganstudio.models.conv import CONV_IMAGE_SIZES, ConvEncoder, Norm, dcgan_init_
from ganstudio.models.dcgan import DCGANGenerator
from ganstudio.models.two_networks import TwoNetworkFamily

N_CRITIC = FamilyOption("n_critic", "Critic steps per G step", 5, 1, 100,
                        "critic iterations for each generator update (n_critic)", integer=True)
WASSERSTEIN_METRICS = (
    MetricInfo("wasserstein", "W estimate", "Wasserstein estimate E[D(x)] − E[D(G(z))]"),
    MetricInfo("loss_d", "critic loss", "losses"),
    MetricInfo("loss_g", "G loss", "losses"),
)


class CriticFamily(DCGANGenerator, TwoNetworkFamily):
    """G and a critic trained on the Wasserstein objective. Subclasses choose the critic's
    normalisation, its optimisers and what keeps it Lipschitz."""
    image_sizes = CONV_IMAGE_SIZES

    channels_last = True
    discriminator_name = "critic"
    critic_norm: Norm = "batch"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.critic_steps = 0  # since the last G update

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        d = ConvEncoder(channels, size, self.width, norm=self.critic_norm)
        dcgan_init_(d)
        return d

    def lipschitz_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """A term added to the critic's loss, or None."""
        return None

    def after_critic_step(self) -> None:
        """Runs after each critic update (weight clipping)."""

    def training_state(self) -> dict[str, float]:
        return {"critic_steps": self.critic_steps}

    def load_training_state(self, state: dict[str, float]) -> None:
        self.critic_steps = int(state.get("critic_steps", 0))

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        real = batch[IMAGE]
        n = real.shape[0]
        with torch.no_grad(), self.autocast():
            fake = self.G(self.draw_latent(n))

        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            real_score = self.D(real).float().mean()
            fake_score = self.D(fake).float().mean()
        wasserstein = real_score - fake_score
        loss_d = -wasserstein
        penalty = self.lipschitz_penalty(real, fake)
        if penalty is not None:
            loss_d = loss_d + self.settings["gp_weight"] * penalty
        loss_d.backward()
        self.opt_d.step()
        self.after_critic_step()

        self.critic_steps += 1
        if self.critic_steps >= self.settings["n_critic"]:
            self.critic_steps = 0
            self.D.requires_grad_(False)
            self.opt_g.zero_grad(set_to_none=True)
            with self.autocast():
                loss_g = -self.D(self.G(self.draw_latent(n))).float().mean()
            loss_g.backward()
            self.opt_g.step()

        metrics = {"wasserstein": wasserstein.detach(), "loss_d": loss_d.detach(), "loss_g": -fake_score.detach()}
        if penalty is not None:
            metrics["gp"] = penalty.detach()
        return metrics


@register_family("wgan")
class WGAN(CriticFamily):
    description = "Wasserstein GAN: critic with clipped weights, RMSProp (Arjovsky et al. 2017)"
    metrics = WASSERSTEIN_METRICS
    options = (N_CRITIC, FamilyOption("clip", "Weight clipping c", 0.01, 1e-4, 1.0,
                                      "critic weights are clipped to [-c, c] after each update"))
    train_overrides = {"lr_g": 5e-5, "lr_d": 5e-5, "batch_size": 64}

    def build_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        t = self.train_cfg
        return torch.optim.RMSprop(self.G.parameters(), lr=t.lr_g), torch.optim.RMSprop(self.D.parameters(), lr=t.lr_d)

    @torch.no_grad()
    def after_critic_step(self) -> None:
        c = self.settings["clip"]
        for p in self.D.parameters():
            p.clamp_(-c, c)


@register_family("wgan-gp")
class WGANGP(CriticFamily):
    description = "Wasserstein GAN with gradient penalty: stable without clipping (Gulrajani et al. 2017)"
    metrics = WASSERSTEIN_METRICS + (MetricInfo("gp", "gradient penalty", "gradient penalty"),)
    options = (N_CRITIC, FamilyOption("gp_weight", "Penalty weight λ", 10.0, 0.0, 1000.0,
                                      "weight of the gradient penalty in the critic's loss"))
    train_overrides = {"lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.0, "beta2": 0.9, "batch_size": 64}
    critic_norm = "layer"

    def lipschitz_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """E[(‖∇D(x̂)‖₂ − 1)²], x̂ = εx + (1 − ε)G(z), ε ~ U[0, 1] per image; in float32."""
        eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
        mixed = (eps * real + (1 - eps) * fake.float()).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.D(mixed).sum(), mixed, create_graph=True)
        return (grad.flatten(1).norm(dim=1) - 1).square().mean()
