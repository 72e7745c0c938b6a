"""CycleGAN (Zhu et al., arXiv 1703.10593): unpaired translation between two domains A and B.

- **G: A -> B and F: B -> A**, residual generators with instance norm (``models/resnet.py``).
- **D_A, D_B**: 70×70 PatchGANs with instance norm (pix2pix's, on the image alone).
- **Objective** (section 3, eq. 3 and 5.2): least-squares GAN losses (section 4: D minimises
  ½[(D(y) − 1)² + D(G(x))²], G minimises (D(G(x)) − 1)²), cycle consistency λ·(‖F(G(a)) − a‖₁ +
  ‖G(F(b)) − b‖₁) with λ = 10; the identity loss 0.5·λ·(‖G(b) − b‖₁ + ‖F(a) − a‖₁) that section 5.2
  adds for photos from paintings (and the reference code by default) is one option away
  (``identity_weight=0.5``): on serious -> smiling faces it held F back (smiles removed: 7 % of faces
  with it, 10 min of CPU; both ways together 43 % flipped against 86 % without).
- **Training** (section 4): D learns from a pool of the last 50 fakes; Adam 2e-4, β = (0.5, 0.999);
  the rate is kept for the first half of the run and decays linearly to zero over the second.

Departs from the paper in four places (tests/benchmarks/bench_unpaired.py): the generators edit their
input (output = input + what they draw, ``models/resnet.py``; ``--option edits_input=0`` is the paper's
generator, which on the drawn faces re-draws the whole picture too slowly to be useful in minutes);
the discriminators learn at 5× the generators' rate (1e-3, the two time-scale rule of Heusel et al.
2017; ``--lr-d 2e-4`` is the paper's): G can only learn the difference between the domains once D
sees it, and on serious <-> smiling faces D at 2e-4 saw nothing for ~3,500 steps, at 6e-4 ~1,800, at
1e-3 ~1,500 (10 CPU minutes: 86 %, 89 %, 92 % of the held-out faces flipped); batches of 8 (the paper's
1; instance norm keeps each image's output independent of its batch); and, without a width, 16 filters
and 3 residual blocks at 32 px; ``--width 64 --option blocks=9`` is the paper's 256 px network.

Two options leave the rest of the picture exactly alone (not defaults: they trade the edit's own accuracy).
By default G's translations change a third of the pixels a smile leaves alone (by ≥ 1 grey level; 8 % by
> 4), so the whole-image L1 to the counterfactual is 1.96× the identity mapping's although on the pixels
that change it is 0.46×. ``edit_weight`` w adds w·mean(max(|G(x) − x| − ½ grey level, 0)) for each
direction (changes that round away in 8 bits are free); ``mask=1`` lets G change its input only under a
mask it draws (``models/resnet.py``). 10 CPU minutes, serious <-> smiling, seed 0 (flipped / whole-image
ratio / on the changed pixels / FID): default 0.89 / 1.96 / 0.46 / 0.73; mask, w 1: 0.905 / 0.72 / 0.63 /
1.0 (99.4 % of the pixels the smile leaves alone left exactly); mask, w 0.3: 0.89 / 0.67 / 0.57 / 0.81 (seed 1:
0.77 / 0.71 / 0.65 / 1.07, 5,156 steps, against the default's 0.85 / 2.34 / 0.51 / 1.14: not made the
default); mask,
w 0.1 (4,610 steps): 0.825 / 0.70 / 0.63 / 0.86; no mask, w 0.3: 0.87 / 1.71 / 0.46 / 0.78 — the mask is what
leaves pixels exactly alone, the cost what closes it. A mask penalised by its mean instead (GANimation's)
closed within the first steps, before D could see smiles (Adam moves the mask's weights at its rate whatever
the penalty's weight): G stayed the identity, 7 % flipped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.data.base import DOMAIN_A, DOMAIN_B
from ganstudio.errors import ConfigError
from ganstudio.models import register_family
from ganstudio.models.base import FamilyOption, MetricInfo, Tensors
from ganstudio.models.conv import dcgan_init_
from ganstudio.models.image_pool import ImagePool
from ganstudio.models.pix2pix import PatchDiscriminator
from ganstudio.models.resnet import EDITS_INPUT, ResnetGenerator
from ganstudio.models.schedule import LinearDecay
from ganstudio.models.unpaired import UnpairedFamily

HALF_GREY = 1 / 255  # half a grey level in [-1, 1]: a change that rounds away in an 8-bit image


def _least_squares(scores: torch.Tensor, target: float) -> torch.Tensor:
    return (scores.float() - target).square().mean()


@register_family("cyclegan")
class CycleGAN(UnpairedFamily):
    description = "CycleGAN: unpaired translation A <-> B with cycle consistency, e.g. serious <-> smiling faces"
    image_sizes = (32, 64, 128, 256)
    metrics = (
        MetricInfo("loss_d_a", "D_A", "discriminators"),
        MetricInfo("loss_d_b", "D_B", "discriminators"),
        MetricInfo("loss_g_ab", "G A→B (adversarial)", "generators"),
        MetricInfo("loss_g_ba", "F B→A (adversarial)", "generators"),
        MetricInfo("cycle_a", "cycle A→B→A", "cycle and identity (L1)"),
        MetricInfo("cycle_b", "cycle B→A→B", "cycle and identity (L1)"),
        MetricInfo("identity_a", "identity F(A)", "cycle and identity (L1)"),
        MetricInfo("identity_b", "identity G(B)", "cycle and identity (L1)"),
        MetricInfo("lr_scale", "learning-rate factor", "learning-rate schedule"),
    )
    options = (
        FamilyOption("cycle_weight", "Cycle weight λ", 10.0, 0.0, 1000.0,
                     "weight of the cycle-consistency L1 in the generators' loss (the paper: 10)"),
        FamilyOption("identity_weight", "Identity weight", 0.0, 0.0, 10.0,
                     "the identity loss's weight as a share of λ (0: the paper's objective; 0.5: its photo <- "
                     "painting runs and the reference code's default)"),
        FamilyOption("pool_size", "Fake pool", 50, 0, 1000, "generated images D learns from (the paper: 50)",
                     integer=True),
        FamilyOption("blocks", "Residual blocks", 0, 0, 20,
                     "residual blocks in each generator; 0: 3 up to 32 px, 6 up to 128 px, 9 above (the paper)",
                     integer=True, zero_means="default"),
        FamilyOption("decay_from", "Decay from", 0.5, 0.0, 1.0,
                     "share of the run after which the learning rates decay linearly to 0 (the paper: 0.5)"),
        EDITS_INPUT,
        FamilyOption("mask", "G paints through a mask", 0, 0, 1,
                     "1: each generator also draws a mask and changes its input only under it (needs edits_input)",
                     integer=True),
        FamilyOption("edit_weight", "Edit weight", 0.0, 0.0, 100.0,
                     "weight of how far the translations change their inputs (L1, beyond half a grey level); "
                     "0: the paper's objective"),
    )
    train_overrides = {"batch_size": 8, "lr_d": 1e-3}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shape = self.image_shape
        self.pool_a, self.pool_b = (self.place(ImagePool(int(self.settings["pool_size"]), shape)) for _ in range(2))
        self.schedule = LinearDecay([self.opt_g, self.opt_d], 0, 1, self.settings["decay_from"])

    def default_width(self) -> int:
        return self.translator_width()

    @property
    def blocks(self) -> int:
        size = self.image_shape[1]
        return int(self.settings["blocks"]) or (3 if size <= 32 else 6 if size <= 128 else 9)

    def architecture(self) -> dict[str, object]:
        return {**super().architecture(), "blocks": self.blocks}

    def build_generator(self) -> nn.Module:
        channels = self.image_shape[0]
        if self.settings["mask"] and not self.settings["edits_input"]:
            raise ConfigError("a generator that paints through a mask edits its input: mask=1 needs edits_input=1")
        g = ResnetGenerator(channels, channels, self.width, self.blocks, edits_input=bool(self.settings["edits_input"]),
                            masked=bool(self.settings["mask"]))
        dcgan_init_(g)  # N(0, 0.02), the reference code's initialisation
        return g

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        d = PatchDiscriminator(channels, size, self.width)
        dcgan_init_(d)
        return d

    def networks(self) -> dict[str, nn.Module]:
        return {**super().networks(), "pool_a": self.pool_a, "pool_b": self.pool_b}

    def begin(self, step: int, total_steps: int) -> None:
        self.schedule = LinearDecay([self.opt_g, self.opt_d], step, total_steps, self.settings["decay_from"])

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        real_a, real_b = batch[DOMAIN_A], batch[DOMAIN_B]
        lr_scale = self.schedule.advance()
        cycle_weight = self.settings["cycle_weight"]
        identity_weight = self.settings["identity_weight"] * cycle_weight

        # G step: fool both discriminators, come back around the cycle, leave the target domain alone.
        self.D_a.requires_grad_(False)
        self.D_b.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            fake_b, fake_a = self.G_ab(real_a), self.G_ba(real_b)
            back_a, back_b = self.G_ba(fake_b), self.G_ab(fake_a)
            loss_g_ab = _least_squares(self.D_b(fake_b), 1.0)
            loss_g_ba = _least_squares(self.D_a(fake_a), 1.0)
        cycle_a, cycle_b = F.l1_loss(back_a.float(), real_a), F.l1_loss(back_b.float(), real_b)
        loss_g = loss_g_ab + loss_g_ba + cycle_weight * (cycle_a + cycle_b)
        if self.settings["edit_weight"]:
            edits = sum(F.relu((fake.float() - real).abs() - HALF_GREY).mean()
                        for fake, real in ((fake_b, real_a), (fake_a, real_b)))
            loss_g = loss_g + self.settings["edit_weight"] * edits
        if identity_weight > 0:
            with self.autocast():
                same_b, same_a = self.G_ab(real_b), self.G_ba(real_a)
            identity_a, identity_b = F.l1_loss(same_a.float(), real_a), F.l1_loss(same_b.float(), real_b)
            loss_g = loss_g + identity_weight * (identity_a + identity_b)
        else:
            identity_a = identity_b = torch.zeros((), device=self.device)
        loss_g.backward()
        self.opt_g.step()

        # D step: each judges its domain's real images against fakes from the pool; the objective halved.
        self.D_a.requires_grad_(True)
        self.D_b.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        pooled_a, pooled_b = self.pool_a.query(fake_a.detach()), self.pool_b.query(fake_b.detach())
        with self.autocast():
            loss_d_a = 0.5 * (_least_squares(self.D_a(real_a), 1.0) + _least_squares(self.D_a(pooled_a), 0.0))
            loss_d_b = 0.5 * (_least_squares(self.D_b(real_b), 1.0) + _least_squares(self.D_b(pooled_b), 0.0))
        (loss_d_a + loss_d_b).backward()
        self.opt_d.step()
        return {"loss_d_a": loss_d_a.detach(), "loss_d_b": loss_d_b.detach(), "loss_g_ab": loss_g_ab.detach(),
                "loss_g_ba": loss_g_ba.detach(), "cycle_a": cycle_a.detach(), "cycle_b": cycle_b.detach(),
                "identity_a": identity_a.detach(), "identity_b": identity_b.detach(),
                "lr_scale": torch.tensor(lr_scale, device=self.device)}
