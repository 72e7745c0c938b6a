"""The classic minimax GAN objective (Goodfellow et al., arXiv 1406.2661) with the non-saturating
generator loss, shared by the MLP GAN and DCGAN families.

Maths as in the tutorial (sigmoid + BCE), computed stably from logits with BCEWithLogits. The G step
reuses the D step's fakes, as the PyTorch DCGAN example does: one generator forward per step.
Conditional families give the fakes the real batch's labels.

The conv families (DCGAN, the conditional GAN) add instance noise to D's inputs for their first 2,000
steps by default (σ 0.1 falling to 0; ganstudio.models.dcgan says why and what was measured; the
conditional GAN on faces stalls the same way without it: FID 62 and sample std 0.013 at step 250, 9.1
and 0.41 with it). ``--option instance_noise=0`` gives the tutorial's maths; the MLP GAN has no noise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganstudio.data.base import IMAGE, LABEL
from ganstudio.models.base import FamilyOption, MetricInfo, Tensors
from ganstudio.models.two_networks import TwoNetworkFamily

ADVERSARIAL_METRICS = (
    MetricInfo("loss_d", "D loss", "losses"),
    MetricInfo("loss_g", "G loss", "losses"),
    MetricInfo("d_real", "D(x)", "discriminator"),
    MetricInfo("d_fake", "D(G(z))", "discriminator"),
)


def instance_noise_options(instance_noise: float = 0.0, instance_noise_steps: int = 2000) -> tuple[FamilyOption, ...]:
    """Instance noise for the BCE families, with the family's defaults (σ 0: the tutorial's maths)."""
    return (
        FamilyOption("instance_noise", "Instance noise σ", instance_noise, 0.0, 2.0,
                     "Gaussian noise of this σ added to D's real and fake inputs, annealed linearly to 0 "
                     "(Sønderby et al. 2016)"),
        FamilyOption("instance_noise_steps", "Instance noise steps", instance_noise_steps, 1, 10**7,
                     "steps over which the instance noise falls to 0", integer=True),
    )


def bce_with_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class AdversarialFamily(TwoNetworkFamily):
    """G and D trained with Adam on the BCE objective. Subclasses build the two networks.

    ``joint_discriminator_pass``: run D once over real and fake concatenated (exactly the same maths
    when D has no batch statistics; DCGAN's BatchNorm needs separate passes).
    """

    metrics = ADVERSARIAL_METRICS
    options = instance_noise_options(instance_noise=0.1, instance_noise_steps=2000)
    joint_discriminator_pass = False
    winning_loss_floor = 0.05

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps_done = 0  # for annealing the instance noise

    def training_state(self) -> dict[str, float]:
        return {**super().training_state(), "steps_done": self.steps_done}

    def load_training_state(self, state: dict[str, float]) -> None:
        """A checkpoint from before instance noise was trained without it: it goes on without."""
        super().load_training_state(state)
        self.steps_done = int(state.get("steps_done", 10**9))

    def instance_noise_sigma(self) -> float:
        """The σ of the noise added to D's inputs at this step (0 once annealed, or when off)."""
        sigma = self.settings.get("instance_noise", 0.0)
        if not sigma:
            return 0.0
        return sigma * max(0.0, 1.0 - self.steps_done / self.settings["instance_noise_steps"])

    def generate_batch(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """G's training forward; conditional families pass the labels on."""
        return self.G(z)

    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """D's logits (N, 1); conditional families pass the labels on."""
        return self.D(images)

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        real, labels = batch[IMAGE], batch.get(LABEL)
        n = real.shape[0]
        z = self.draw_latent(n)
        with self.autocast():
            fake = self.generate_batch(z, labels)

        # Instance noise: real and fake reach D with Gaussian noise of the same σ, so their distributions
        # overlap and D cannot saturate on details G has not learnt yet.
        sigma = self.instance_noise_sigma()
        if sigma:
            real = real + sigma * torch.randn_like(real)
            fake = fake + sigma * torch.randn_like(fake)
        self.steps_done += 1

        # D step: real -> 1, fake -> 0, fakes detached so G gets no gradient.
        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            if self.joint_discriminator_pass:
                both_labels = None if labels is None else torch.cat([labels, labels])
                real_logits, fake_logits = self.discriminate(torch.cat([real, fake.detach()]), both_labels).float().split(n)
            else:
                real_logits = self.discriminate(real, labels).float()
                fake_logits = self.discriminate(fake.detach(), labels).float()
        loss_d = bce_with_logits(real_logits, 1.0) + bce_with_logits(fake_logits, 0.0)
        loss_d.backward()
        self.opt_d.step()

        # G step: non-saturating loss, D frozen so its weight gradients are not computed.
        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            loss_g = bce_with_logits(self.discriminate(fake, labels).float(), 1.0)
        loss_g.backward()
        self.opt_g.step()

        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "d_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean(),
        }
