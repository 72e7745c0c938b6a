"""Image-to-image translation with a conditional GAN: pix2pix (Isola et al., arXiv 1611.07004), the
tutorial's cGAN. G translates a source image (edges, grey, blurred, …) into an image; D judges
(source, image) pairs patch by patch.

- **G, a U-Net** (section 3.2.1, appendix 6.1.1): an encoder of 4×4 stride-2 convs down to 1×1
  (C64-C128-C256-C512-C512-…; LeakyReLU 0.2, no norm on the first and innermost layers), a decoder of
  4×4 stride-2 transposed convs back up (ReLU), each decoder block reading the previous block's output
  concatenated with the encoder map of its size (the skip connections), then a transposed conv to the
  image's channels and tanh. The first three decoder blocks apply dropout 0.5: the paper's only noise,
  also at inference.
- **D, a PatchGAN** (section 3.2.2): C64-C128-…-C512 convs on (source, image) concatenated, then a 1-channel
  map of logits, each judging one patch (70×70 at 256 px; as many stride-2 layers as the image allows).
- **Objective** (eq. 4): BCE(D(x, G(x)), real) + λ·‖y − G(x)‖₁, λ = 100; D's loss halved (section 3.3).
  Adam 2e-4, β = (0.5, 0.999).

Departs from the paper in one place: **instance norm instead of batch norm**. The paper trains with batch 1
and normalises with the statistics of the test batch at inference; batch norm over one image is instance
norm, which keeps that behaviour at any batch size (the CPU needs batches of 16+ to be fast) and makes an
output independent of what else is in its batch (a sketch drawn alone renders as in the grid).
``--option noise_at_inference=0`` switches the dropout off at inference (deterministic outputs).

Widths: 64 in the paper (``--width 64``); without a width the family takes 16 at 32 px (on a 2-core CPU
it beats the same U-Net on L1 alone by domain FID 5.2 vs 11.4 in 5 minutes; width 32 needs ~8), 32 at
64 px and 64 above (tests/benchmarks/bench_pix2pix.py).
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.data.base import IMAGE, SOURCE, DataError
from ganstudio.data.pairs import source_channels
from ganstudio.models import register_family
from ganstudio.models.base import FamilyOption, MetricInfo, Tensors
from ganstudio.models.conv import dcgan_init_
from ganstudio.models.noise import NoiseDropout, seeded_noise
from ganstudio.models.two_networks import TwoNetworkFamily

MIN_PAIRS = 5
DROPOUT_BLOCKS = 3  # decoder blocks with dropout 0.5 (the paper's CD512-CD1024-CD1024)


def instance_norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels)  # no affine, no running statistics: the same in train and eval


class UNetGenerator(nn.Module):
    """source (N, C_in, S, S) in [-1, 1] -> image (N, C_out, S, S) in [-1, 1]; S a power of two ≥ 32.

    Level i of log2(S) has width·min(2^i, 8) channels at S/2^(i+1) pixels."""

    def __init__(self, in_channels: int, out_channels: int, image_size: int, width: int,
                 noise_at_inference: bool = True):
        super().__init__()
        depth = round(math.log2(image_size))
        widths = [width * min(2**i, 8) for i in range(depth)]
        self.down = nn.ModuleList()
        for i, out in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2, True)]
            layers.append(nn.Conv2d(in_channels if i == 0 else widths[i - 1], out, 4, 2, 1))
            if 0 < i < depth - 1:
                layers.append(instance_norm(out))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):  # block i goes from level i to the size of level i - 1
            inner = widths[i] if i == depth - 1 else 2 * widths[i]  # the skip doubles what it reads
            if i == 0:
                self.up.append(nn.Sequential(nn.ReLU(True), nn.ConvTranspose2d(inner, out_channels, 4, 2, 1),
                                             nn.Tanh()))
                continue
            layers = [nn.ReLU(True), nn.ConvTranspose2d(inner, widths[i - 1], 4, 2, 1), instance_norm(widths[i - 1])]
            if depth - 1 - i < DROPOUT_BLOCKS:
                layers.append(NoiseDropout(0.5, noise_at_inference))
            self.up.append(nn.Sequential(*layers))

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        skips = []
        x = source
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.up[0](skips.pop())
        for block in self.up[1:]:
            x = block(torch.cat([x, skips.pop()], dim=1))
        return x


class PatchDiscriminator(nn.Module):
    """images (N, C_i, S, S), concatenated along channels (pix2pix: source and image; CycleGAN: the
    image alone), C_i summing to ``in_channels`` -> patch logits (N, 1, P, P).

    C64-C128-C256 with stride 2 (three at 64 px and up, as in the paper; two at 32 px), a stride-1 C512
    and a stride-1 conv to one channel: 30×30 patches of 70×70 pixels at 256 px, 6×6 of 34×34 at 32 px."""

    def __init__(self, in_channels: int, image_size: int, width: int):
        super().__init__()
        strided = 3 if image_size >= 64 else 2
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        channels = width
        for i in range(1, strided + 1):
            out = width * min(2**i, 8)
            layers += [nn.Conv2d(channels, out, 4, 2 if i < strided else 1, 1), instance_norm(out),
                       nn.LeakyReLU(0.2, True)]
            channels = out
        layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, *images: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat(images, dim=1) if len(images) > 1 else images[0])


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


@register_family("pix2pix")
class Pix2Pix(TwoNetworkFamily):
    description = "image-to-image cGAN (pix2pix): translates a source image, e.g. edges -> face (needs paired data)"
    needs = frozenset({IMAGE, SOURCE})
    generator_inputs = (SOURCE,)
    image_sizes = (32, 64, 128, 256)
    channels_last = True
    metrics = (
        MetricInfo("loss_d", "D loss", "losses"),
        MetricInfo("loss_g_adv", "G adversarial", "losses"),
        MetricInfo("l1", "L1 to the target", "l1"),
        MetricInfo("d_real", "D(x, y)", "discriminator"),
        MetricInfo("d_fake", "D(x, G(x))", "discriminator"),
    )
    options = (
        FamilyOption("l1_weight", "L1 weight λ", 100.0, 0.0, 10_000.0,
                     "weight of the L1 distance to the target in G's loss (the paper: 100)"),
        FamilyOption("adversarial_weight", "Adversarial weight", 1.0, 0.0, 100.0,
                     "weight of D's judgement in G's loss; 0 trains the same U-Net on L1 alone"),
        FamilyOption("noise_at_inference", "Dropout at inference", 1, 0, 1,
                     "1: dropout stays on when rendering (the paper); 0: deterministic outputs", integer=True),
    )
    train_overrides = {"batch_size": 16}
    winning_loss_floor = 0.025  # D's loss is halved: the BCE families' 0.05

    @classmethod
    def missing_data(cls, provided):
        if SOURCE in cls.needs - set(provided):
            return ("pix2pix needs paired data: choose faces with --pair-from edges (or grey, blur, downscale), "
                    "or a folder with A/ and B/ sub-folders (--dataset pairs)")
        return super().missing_data(provided)

    @classmethod
    def held_out_size(cls, data_size: int, num_samples: int) -> int:
        """A tenth of the data (at least 16 pairs, or a fifth of a small set; at most 1,000), for the
        grid and the evaluations."""
        if data_size < MIN_PAIRS:
            raise DataError(f"pix2pix needs at least {MIN_PAIRS} pairs (some are held out to show and measure), "
                            f"not {data_size}")
        return min(max(min(16, data_size // 5), data_size // 10), 1000)

    def health_options(self) -> dict[str, object]:
        return {"loss_weights": (self.settings["adversarial_weight"], self.settings["l1_weight"]),
                "winning_advice": "Try a lower discriminator learning rate or a higher L1 weight λ, so that G's "
                                  "outputs stay close enough to the targets for D to be fooled."}

    @classmethod
    def start_width(cls) -> None:
        return None  # its own default (16 at 32 px) is the CPU-friendly one

    def default_width(self) -> int:
        return {32: 16, 64: 32}.get(self.image_shape[1], 64)

    @property
    def source_channels(self) -> int:
        return source_channels(self.data_cfg)

    def architecture(self) -> dict[str, object]:
        return {**super().architecture(), "latent_dim": None, "source_channels": self.source_channels}

    def build_generator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        g = UNetGenerator(self.source_channels, channels, size, self.width, bool(self.settings["noise_at_inference"]))
        dcgan_init_(g)
        return g

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        d = PatchDiscriminator(self.source_channels + channels, size, self.width)
        dcgan_init_(d)
        return d

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        source, target = batch[SOURCE], batch[IMAGE]
        with self.autocast():
            fake = self.G(source)

        # D step: (source, target) -> real, (source, G(source)) -> fake; the objective halved (section 3.3).
        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            real_logits = self.D(source, target).float()
            fake_logits = self.D(source, fake.detach()).float()
        loss_d = 0.5 * (_bce(real_logits, 1.0) + _bce(fake_logits, 0.0))
        loss_d.backward()
        self.opt_d.step()

        # G step: fool D (non-saturating) and stay near the target in L1; D frozen.
        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            loss_adv = _bce(self.D(source, fake).float(), 1.0)
        l1 = (fake.float() - target).abs().mean()
        (self.settings["adversarial_weight"] * loss_adv + self.settings["l1_weight"] * l1).backward()
        self.opt_g.step()
        return {"loss_d": loss_d.detach(), "loss_g_adv": loss_adv.detach(), "l1": l1.detach(),
                "d_real": torch.sigmoid(real_logits.detach()).mean(),
                "d_fake": torch.sigmoid(fake_logits.detach()).mean()}

    # -- fixed inputs, rendering, the grid --------------------------------------------------------

    def fixed_inputs(self, num_samples, generator, held_out):
        """The first held-out pairs (up to 16): their sources, and their targets for the grid."""
        count = min(num_samples, 16, len(held_out[SOURCE]))
        return {SOURCE: held_out[SOURCE][:count].clone(), IMAGE: held_out[IMAGE][:count].clone()}

    def fixed_inputs_from_z(self, z):
        raise NotImplementedError("pix2pix has no z")

    @contextlib.contextmanager
    def rendering(self):
        """Eval mode, dropout noise (when on at inference) from a private generator with seed 0."""
        with super().rendering(), seeded_noise(self.G, 0):
            yield

    def sample_tiles(self, inputs, outputs):
        """Rows of source | output | target, four triples to a row."""
        sources = inputs[SOURCE]
        if sources.shape[1] != outputs.shape[1]:
            sources = sources.expand(-1, outputs.shape[1], -1, -1)
        triples = torch.stack([sources.float(), outputs, inputs[IMAGE].float()], dim=1).flatten(0, 1)
        return triples, 3 * min(4, len(outputs))
