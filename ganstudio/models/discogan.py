"""DiscoGAN (Kim et al., arXiv 1703.05192): unpaired translation between two domains A and B, as in the
authors' code (github.com/SKTBrain/DiscoGAN, ``discogan/model.py`` and ``image_translation.py``).

- **G: A -> B and F: B -> A**, encoder–decoders without skip connections: 4×4 stride-2 convs with batch
  norm (none on the first) and LeakyReLU 0.2 down to a 4×4 map, 4×4 stride-2 transposed convs with
  batch norm and ReLU back up, tanh; no biases. 64 px, width 64: 3 -> 64 -> 128 -> 256 -> 512@4×4 and
  back (four levels each way, as the code; one level fewer or more at 32 or 128 px, channels capped at
  8·width).
- **D_A, D_B**: DCGAN discriminators (4×4 stride-2 convs down to 4×4, batch norm on all but the first,
  LeakyReLU 0.2, a final 4×4 conv to one logit) that also return their batch-normed feature maps.
- **Objective** (the code's): BCE GAN losses (D: ½[BCE(D(real), 1) + BCE(D(fake), 0)] per domain);
  feature matching Σ_layers mean_{c,h,w}(E_batch f(real) − E_batch f(fake))² (their ``get_fm_loss``);
  reconstruction MSE of A -> B -> A and B -> A -> B. G minimises, for each direction,
  (0.1·GAN + 0.9·FM)·(1 − rate) + rate·recon, where rate = 0.01 for the first 10,000 iterations (the
  "GAN curriculum") and 0.5 afterwards.
- **Training** (the code's): one iteration in ``update_interval`` (3) updates both discriminators (the
  first of each three), the others both generators; Adam 2e-4, β = (0.5, 0.999), weight decay 1e-5;
  batches of 64; PyTorch's default initialisation. The curriculum keeps the code's 10,000 iterations:
  a shorter CPU run is the beginning of theirs (``--option gan_curriculum=N`` shortens it).

The paper itself states only GAN + reconstruction losses summed with equal weights; feature matching,
the 0.1/0.9 weights, the curriculum and the 1-in-3 D schedule come from the authors' code, which is
what this family follows. Departures, and why:

- Images are in [-1, 1] with a tanh output (the code: [0, 1], sigmoid; tanh(x) = 2·sigmoid(2x) − 1, the
  same family of networks). The reconstruction MSE is measured on the [0, 1] scale (a quarter of the MSE
  in [-1, 1]) so that its balance with the GAN and feature-matching terms is the code's.
- Without a width: 16 filters at 32 px, 32 at 64 px, 64 above (the paper: 64 at 64 px) for the CPU;
  ``--width 64`` at 64 px is the code's network.
- Discriminators score logits with BCE-with-logits (the code: sigmoid then BCELoss, the same maths
  without its clamp of log at −100).
- On discriminator iterations the generators run without gradients (the code backpropagates D's loss
  into them too, then discards those gradients); every iteration still reports every loss, as the
  code computes them all.
- Rendering (the grid, the explorer, the CLI) uses batch norm's running statistics, as every family here
  does; the code translates its test images in training mode, with the test batch's own statistics.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.data.base import DOMAIN_A, DOMAIN_B
from ganstudio.models import register_family
from ganstudio.models.base import FamilyOption, MetricInfo, Tensors
from ganstudio.models.unpaired import UnpairedFamily

WEIGHT_DECAY = 1e-5  # both optimisers' (the code's)
BOTTLENECK = 4  # the generators' narrowest map and the discriminators' last: 4×4, as at 64 px in the code
GAN_WEIGHT, FM_WEIGHT = 0.1, 0.9  # the adversarial objective: 0.1·GAN + 0.9·feature matching (the code's)


def _levels(image_size: int) -> int:
    """Stride-2 convs from ``image_size`` down to 4×4: 3 at 32 px, 4 at 64 px, 5 at 128 px."""
    levels = round(math.log2(image_size / BOTTLENECK))
    if levels < 1 or BOTTLENECK * 2**levels != image_size:
        raise ValueError(f"DiscoGAN's networks need an image size of 4·2^k, not {image_size}")
    return levels


def _channels(width: int, levels: int) -> list[int]:
    """Channels after each stride-2 conv: width, 2·width, ... capped at 8·width (the code's widest)."""
    return [width * min(2**i, 8) for i in range(levels)]


class DiscoGenerator(nn.Module):
    """image (N, C, H, W) in [-1, 1] -> image (N, C, H, W) in [-1, 1]: the encoder–decoder of the code's
    ``Generator`` (without its ``extra_layers``), no skip connections."""

    def __init__(self, channels: int, image_size: int, width: int):
        super().__init__()
        widths = _channels(width, _levels(image_size))
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for low, high in itertools.pairwise(widths):
            layers += [nn.Conv2d(low, high, 4, 2, 1, bias=False), nn.BatchNorm2d(high), nn.LeakyReLU(0.2, True)]
        for high, low in itertools.pairwise(widths[::-1]):
            layers += [nn.ConvTranspose2d(high, low, 4, 2, 1, bias=False), nn.BatchNorm2d(low), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[0], channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DiscoDiscriminator(nn.Module):
    """image (N, C, H, W) -> (logits (N,), feature maps): the code's ``Discriminator``. The feature maps
    are the LeakyReLU outputs of every batch-normed conv (all but the first), the ones its feature
    matching compares: (N, 2·width, H/4, W/4), ... down to 4×4."""

    def __init__(self, channels: int, image_size: int, width: int):
        super().__init__()
        widths = _channels(width, _levels(image_size))
        blocks = [nn.Sequential(nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True))]
        for low, high in itertools.pairwise(widths):
            blocks.append(nn.Sequential(nn.Conv2d(low, high, 4, 2, 1, bias=False), nn.BatchNorm2d(high),
                                        nn.LeakyReLU(0.2, True)))
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(widths[-1], 1, BOTTLENECK, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i > 0:
                features.append(x)
        return self.head(x).flatten(), features


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def feature_matching(real: list[torch.Tensor], fake: list[torch.Tensor]) -> torch.Tensor:
    """Σ over layers of mean over (C, H, W) of (batch mean of real − batch mean of fake)²: the code's
    ``get_fm_loss`` (a HingeEmbeddingLoss against ones, which is the plain mean)."""
    return sum((r.float().mean(0) - f.float().mean(0)).square().mean() for r, f in zip(real, fake))


def reconstruction(back: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """MSE on the [0, 1] scale of the code's images: a quarter of the MSE of images in [-1, 1]."""
    return 0.25 * F.mse_loss(back.float(), real.float())


@register_family("discogan")
class DiscoGAN(UnpairedFamily):
    description = "DiscoGAN: unpaired translation A <-> B by reconstruction and feature matching"
    image_sizes = (32, 64, 128)
    metrics = (
        MetricInfo("loss_d_a", "D_A", "discriminators"),
        MetricInfo("loss_d_b", "D_B", "discriminators"),
        MetricInfo("loss_g_ab", "G A→B (GAN)", "generators (GAN)"),
        MetricInfo("loss_g_ba", "F B→A (GAN)", "generators (GAN)"),
        MetricInfo("fm_ab", "G A→B against D_B", "feature matching"),
        MetricInfo("fm_ba", "F B→A against D_A", "feature matching"),
        MetricInfo("recon_a", "A→B→A", "reconstruction (MSE)"),
        MetricInfo("recon_b", "B→A→B", "reconstruction (MSE)"),
        MetricInfo("recon_rate", "reconstruction weight (rate)", "curriculum"),
    )
    options = (
        FamilyOption("starting_rate", "Starting rate", 0.01, 0.0, 1.0,
                     "the reconstruction loss's weight during the GAN curriculum (the code: 0.01)"),
        FamilyOption("default_rate", "Rate after", 0.5, 0.0, 1.0,
                     "the reconstruction loss's weight after the GAN curriculum (the code: 0.5)"),
        FamilyOption("gan_curriculum", "GAN curriculum", 10000, 0, 10**7,
                     "iterations at the starting rate before the rate after (the code: 10,000; shorter for "
                     "short runs)", integer=True),
        FamilyOption("update_interval", "D every", 3, 2, 100,
                     "the discriminators learn on one iteration in this many, the generators on the others "
                     "(the code: 3)", integer=True),
    )
    train_overrides = {"batch_size": 64}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.iteration = 0  # the code's ``iters``: it sets the D/G schedule and the curriculum

    def default_width(self) -> int:
        return self.translator_width()

    def adam(self, parameters, lr: float) -> torch.optim.Adam:
        """The run's Adam with the code's weight decay 1e-5 (both optimisers)."""
        t = self.train_cfg
        return torch.optim.Adam(parameters, lr=lr, betas=(t.beta1, t.beta2), weight_decay=WEIGHT_DECAY,
                                fused=self.device.type in ("cuda", "cpu"))

    def build_generator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        return DiscoGenerator(channels, size, self.width)

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        return DiscoDiscriminator(channels, size, self.width)

    def training_state(self) -> dict[str, float]:
        return {"iteration": self.iteration}

    def load_training_state(self, state: dict[str, float]) -> None:
        self.iteration = int(state.get("iteration", 0))

    def begin(self, step: int, total_steps: int) -> None:
        self.iteration = step

    def rate(self, iteration: int) -> float:
        """The reconstruction loss's weight at ``iteration`` (0-based): the curriculum."""
        s = self.settings
        return s["starting_rate"] if iteration < s["gan_curriculum"] else s["default_rate"]

    def updates_discriminators(self, iteration: int) -> bool:
        """Whether ``iteration`` (0-based) updates the discriminators (else the generators): 0, 3, 6, ..."""
        return iteration % self.settings["update_interval"] == 0

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        real_a, real_b = batch[DOMAIN_A], batch[DOMAIN_B]
        rate = self.rate(self.iteration)
        update_d = self.updates_discriminators(self.iteration)
        self.iteration += 1
        # Both iterations run every network forward in the code's order (batch norm's running statistics
        # move as there); gradients flow only into the networks this iteration updates.
        self.D_a.requires_grad_(update_d)
        self.D_b.requires_grad_(update_d)
        (self.opt_d if update_d else self.opt_g).zero_grad(set_to_none=True)
        with torch.set_grad_enabled(not update_d), self.autocast():
            fake_b, fake_a = self.G_ab(real_a), self.G_ba(real_b)
            back_a, back_b = self.G_ba(fake_b), self.G_ab(fake_a)
        with self.autocast():
            real_logit_a, real_feats_a = self.D_a(real_a)
            fake_logit_a, fake_feats_a = self.D_a(fake_a)
            real_logit_b, real_feats_b = self.D_b(real_b)
            fake_logit_b, fake_feats_b = self.D_b(fake_b)
        recon_a, recon_b = reconstruction(back_a, real_a), reconstruction(back_b, real_b)
        loss_d_a = 0.5 * (_bce(real_logit_a, 1.0) + _bce(fake_logit_a, 0.0))
        loss_d_b = 0.5 * (_bce(real_logit_b, 1.0) + _bce(fake_logit_b, 0.0))
        loss_g_ab, loss_g_ba = _bce(fake_logit_b, 1.0), _bce(fake_logit_a, 1.0)
        fm_ab, fm_ba = feature_matching(real_feats_b, fake_feats_b), feature_matching(real_feats_a, fake_feats_a)

        if update_d:
            # D step: each discriminator tells its domain's real images from the other generator's fakes.
            (loss_d_a + loss_d_b).backward()
            self.opt_d.step()
        else:
            # G step: fool (and match the features of) the other domain's D, and come back around.
            adversarial = GAN_WEIGHT * (loss_g_ab + loss_g_ba) + FM_WEIGHT * (fm_ab + fm_ba)
            loss_g = adversarial * (1.0 - rate) + rate * (recon_a + recon_b)
            loss_g.backward()
            self.opt_g.step()
        self.D_a.requires_grad_(True)
        self.D_b.requires_grad_(True)
        return {"loss_d_a": loss_d_a.detach(), "loss_d_b": loss_d_b.detach(), "loss_g_ab": loss_g_ab.detach(),
                "loss_g_ba": loss_g_ba.detach(), "fm_ab": fm_ab.detach(), "fm_ba": fm_ba.detach(),
                "recon_a": recon_a.detach(), "recon_b": recon_b.detach(),
                "recon_rate": torch.tensor(rate, device=self.device)}
