"""Super-resolution with a GAN: SRGAN (Ledig et al., arXiv 1609.04802). G turns a low-resolution image
into one ``scale`` times larger; it trains on high-resolution patches cropped at random from the data
(``data/photos.py``), each paired on the fly with its downsampled copy.

- **G, SRResNet** (figure 4): a 9×9 conv and PReLU, B residual blocks (conv 3×3, BN, PReLU, conv, BN,
  + input), a conv and BN added to the first features, log2(scale) stages of conv to 4× the width,
  PixelShuffle ×2 and PReLU, and a 9×9 conv to the image's channels.
- **D** (figure 4): eight 3×3 convs (width, width·2, ·4, ·8; every second with stride 2), BN and
  LeakyReLU 0.2, a dense layer of 16·width (1024 at the paper's 64), LeakyReLU, one logit.
- **Training in the paper's two phases** (section 3.2): SRResNet on the pixel MSE first (``mse_steps``;
  D rests), then the GAN: the content loss + 10⁻³ · the adversarial loss (eq. 3, non-saturating BCE).
  The content loss (eq. 5) is the MSE between features of a network (``content=1``: VGG19's
  conv5_4 after its ReLU, scaled by 1/12.75, when its weights are present or download; else the app's
  domain feature network, and the run says which) or the pixel MSE (``content=0``, SRGAN-MSE). The paper
  scales VGG's distance "to be comparable to the MSE loss"; the domain network's distances are ~10× smaller
  than the pixel MSE, so its scale is the ratio of the two at the first GAN step (without it the 10⁻³
  adversarial term outweighed the content 7:1 and the pixel MSE rose 5× in 500 steps).
  Adam, β = (0.9, 0.999), batches of 16; the paper's rate 1e-4 for G and D (here 1e-3 and 3e-4, below).
- **Network interpolation** (Wang et al., ESRGAN, arXiv 1809.00219, section 3.4): the weights at the end of
  the MSE phase are kept (``generator_mse``), so the explorer can blend θ = (1 − α)·θ_MSE + α·θ_GAN and
  trade PSNR for sharpness.

Departs from the paper in six places, measured in tests/benchmarks/bench_srgan.py:

- with ``residual=1`` (the default) G adds its output to the bicubic upscaling of its input, so it learns
  only the detail bicubic misses (as VDSR, Kim et al. 2016); the paper's G (``residual=0``) must first
  learn to copy the image, which on a CPU takes most of a short run;
- D pays the R1 penalty γ/2·E|∇D(HR)|² (Mescheder et al., arXiv 1801.04406) with γ = ``r1`` = 1. Without
  it D separates HR from SR within tens of steps and its gradient with respect to the image is noise:
  G, following 10⁻³ of it, paints that noise over the faces. Measured on 16 -> 64 px faces, 2 CPU minutes
  of GAN phase after the same 600-step MSE phase (PSNR 27.5 dB, domain FID 0.195), pixel content: without
  R1 the PSNR fell to 26.3 dB and the FID rose to 0.24; with γ = 1 the PSNR rises (28.4 dB) and the FID
  halves (0.088); γ = 10 sharpens less, γ = 0.2 keeps less of the PSNR. ``--option r1=0`` is the paper's D.
  The penalty is lazy (Karras et al., StyleGAN2, arXiv 1912.04958, section 3.1): every ``R1_EVERY``-th GAN
  step, times ``R1_EVERY``; its double backward made each GAN step 1.5× slower (the figures above are
  with the lazy penalty; every step: 28.0 dB, FID 0.098).

- G learns at 1e-3 and D at 3e-4 (``--lr-g 1e-4 --lr-d 1e-4``: the paper's, for its 10⁶ GPU steps). On
  16 -> 64 px faces in 5 CPU minutes (1,000 MSE steps, then ~500 GAN steps) the MSE phase ends at 31.0 dB
  instead of 28.6 (FID 0.024 against 0.069) and the GAN at 31.9 dB, FID 0.018, power above half Nyquist
  0.69 of the real faces' (both at 1e-4: 29.4 dB, 0.073, 0.42; G 3e-4: 31.1 dB, 0.017, 0.56; G 1e-3 with D at
  1e-4: 32.2 dB, 0.020, 0.64, with D at 1e-3: 32.1 dB, 0.040, 0.62).
- The content loss is the pixel MSE unless ``content=1`` (the paper's VGG19 features). Without VGG19's
  weights (offline) that is the domain network, which reads faces at 32 px: its GAN phase drew a texture over
  the faces, 24.2 dB and FID 0.068 against the MSE phase's 31.0 dB and 0.024 (at G's rate 1e-4: 26.8 dB,
  0.077). VGG19 itself could not be measured here (no download).

- D has half G's width (``d_width``; the paper: the same 64). D's three passes are most of a GAN step's cost:
  at 16 filters (G 32) a GAN step takes half the time, and 5 CPU minutes hold ~950 GAN steps instead of ~500.
  Two seeds: PSNR 32.4 / 33.0 dB, power above half Nyquist 0.74 / 0.71 of the real faces', FID 0.024 / 0.015
  (the MSE phase's: 0.024 / 0.064); with D as wide as G (seed 0): 31.9 dB, 0.69, FID 0.018. ESRGAN's relativistic D
  (Jolicoeur-Martineau, arXiv 1807.00734) measured worse here: 0.66, FID 0.027.
- What renders (the grid, the explorer, exports, the measures) is an exponential moving average of G's weights
  (``generator_average``; Yazıcı et al., arXiv 1806.04498), β = ``average`` = 0.99 (~100 steps), over both
  phases; the MSE phase's end is the average's. The GAN phase swings from one checkpoint to the next: in one
  5-minute run the power moved between 0.61 and 0.75 and the FID between 0.015 and 0.032 every 50 steps, and
  the mean of the last four checkpoints' weights beat each of them (32.8 dB, FID 0.012). With the average,
  seeds 0 and 1: 33.0 / 33.3 dB, power 0.69 / 0.74, FID 0.012 / 0.009 (G itself: 32.4-32.5 / 33.0 dB, 0.63-0.74
  / 0.71, FID 0.024-0.055 / 0.015), and the MSE phase ends at 31.2 / 31.8 dB, FID 0.020 / 0.016 (G itself:
  31.0 dB, 0.024 / 0.064). ``--option average=0`` renders G itself (the paper).

On CPUs with bf16 arithmetic the steps run in bf16 (``cpu_bf16``; ``--no-amp``: fp32), 1.45× as many: 5 CPU
minutes hold ~1,600 GAN steps instead of ~900. Seeds 0 / 1: PSNR 33.5 / 34.0 dB, SSIM 0.952 / 0.956, power above
half Nyquist 0.79 / 0.84 of the real faces', FID 0.012 / 0.007 (fp32: 33.0 / 33.3 dB, 0.946 / 0.950, 0.69 / 0.74,
0.012 / 0.009); the MSE phase ends where it did in fp32 (31.2 / 31.8 dB, FID 0.018 / 0.017).

Widths: the paper's 64 filters and 16 blocks are ``--width 64 --option blocks=16 --option d_width=64``;
without a width 32 filters for G, 16 for D, and 6 blocks.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.data.base import IMAGE, SOURCE, DataError
from ganstudio.errors import ConfigError
from ganstudio.models import register_family
from ganstudio.models.averaging import update_average, with_average
from ganstudio.models.base import FamilyOption, MetricInfo, Tensors
from ganstudio.models.two_networks import TwoNetworkFamily

ADVERSARIAL_WEIGHT = 1e-3  # eq. 3
R1_GAMMA = 1.0  # not the paper's: see the docstring
R1_EVERY = 8  # GAN steps between R1 penalties, each R1_EVERY times as strong
AVERAGE_BETA = 0.99  # not the paper's: see the docstring
MIN_IMAGES = 2


def low_resolution(images: torch.Tensor, scale: int, bicubic: bool = True) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, C, H/scale, W/scale): bicubic with antialiasing (as MATLAB's imresize,
    the paper's) or the area average; clamped to [-1, 1]."""
    size = (images.shape[-2] // scale, images.shape[-1] // scale)
    if bicubic:
        return F.interpolate(images, size=size, mode="bicubic", antialias=True, align_corners=False).clamp(-1, 1)
    return F.avg_pool2d(images, scale)


def bicubic_upscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """(N, C, h, w) -> (N, C, h·scale, w·scale), bicubic, unclamped: the baseline SR is compared with."""
    return F.interpolate(images, scale_factor=scale, mode="bicubic", align_corners=False)


class ResidualBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width), nn.PReLU(width),
                                  nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """(N, C, h, w) in [-1, 1] -> (N, C, h·scale, w·scale), roughly in [-1, 1] (unclamped); any h, w.

    Fully convolutional: each output pixel sees ``receptive_radius`` input pixels around its own."""

    def __init__(self, channels: int, width: int, blocks: int, scale: int, residual: bool):
        super().__init__()
        self.scale, self.residual = scale, residual
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, 1, 4), nn.PReLU(width))
        self.body = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)),
                                  nn.Conv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width))
        stages = []
        for _ in range(round(math.log2(scale))):
            stages += [nn.Conv2d(width, 4 * width, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(width)]
        self.upsample = nn.Sequential(*stages)
        self.tail = nn.Conv2d(width, channels, 9, 1, 4)
        # In input pixels: the 9×9 head, two 3×3 per block and the body's last, the first upsampling conv,
        # then the later convs and the 9×9 tail at finer scales (rounded up); bicubic reads 2.
        self.receptive_radius = 4 + 2 * blocks + 1 + 1 + math.ceil((round(math.log2(scale)) - 1 + 4) / 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(x)
        out = self.tail(self.upsample(features + self.body(features)))
        return out + bicubic_upscale(x, self.scale) if self.residual else out


class SRDiscriminator(nn.Module):
    """images (N, C, S, S), S a multiple of 16 -> logits (N,)."""

    def __init__(self, channels: int, size: int, width: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, True)]
        previous = width
        for i, out in enumerate((width, 2 * width, 2 * width, 4 * width, 4 * width, 8 * width, 8 * width)):
            layers += [nn.Conv2d(previous, out, 3, 2 if i % 2 == 0 else 1, 1), nn.BatchNorm2d(out),
                       nn.LeakyReLU(0.2, True)]
            previous = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(previous * (size // 16) ** 2, 16 * width),
                                  nn.LeakyReLU(0.2, True), nn.Linear(16 * width, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images)).flatten()


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits.float(), target))


@register_family("srgan")
class SRGAN(TwoNetworkFamily):
    description = "super-resolution (SRGAN): upscales an image ×4 or ×2; trains on patches of your photos"
    generator_inputs = (SOURCE,)
    image_sizes = (32, 64, 128, 256)
    trains_on_crops = True
    metrics = (
        MetricInfo("mse", "pixel MSE of SR", "pixel MSE (SR vs the real patch)"),
        MetricInfo("content", "content loss", "G's content loss"),
        MetricInfo("loss_d", "D loss", "adversarial losses (GAN phase)"),
        MetricInfo("loss_g_adv", "G adversarial", "adversarial losses (GAN phase)"),
        MetricInfo("d_real", "D(HR)", "discriminator (GAN phase)"),
        MetricInfo("d_fake", "D(SR)", "discriminator (GAN phase)"),
    )
    options = (
        FamilyOption("scale", "Scale", 4, 2, 4, "upscaling factor: 4 (the paper) or 2", integer=True),
        FamilyOption("mse_steps", "MSE phase (steps)", 1000, 0, 10_000_000,
                     "steps of the first phase, SRResNet on the pixel MSE alone, before the GAN starts "
                     "(1,000: ~2 minutes of a 2-core CPU at 64 px, +5.8 dB over bicubic on faces)",
                     integer=True),
        FamilyOption("content", "Content loss", 0, 0, 1,
                     "the GAN phase's content loss: 0 the pixel MSE (SRGAN-MSE), 1 features (VGG19 when "
                     "available, else the domain network; the paper's)", integer=True),
        FamilyOption("adversarial", "Adversarial weight", ADVERSARIAL_WEIGHT, 0.0, 1.0,
                     "weight of the adversarial loss beside the content loss in the GAN phase (the paper: 0.001)"),
        FamilyOption("r1", "R1 penalty γ", R1_GAMMA, 0.0, 100.0,
                     "γ of the R1 penalty γ/2·|∇D(HR)|² on D (Mescheder et al. 2018); 0: none (the paper; "
                     "see the family's docstring)"),
        FamilyOption("d_width", "D's width", 0, 0, 512,
                     "D's first filters; 0: half of G's width (the paper: G's, 64)", integer=True,
                     zero_means="default"),
        FamilyOption("blocks", "Residual blocks", 0, 0, 32, "G's residual blocks; 0: 6 (the paper: 16)",
                     integer=True, zero_means="default"),
        FamilyOption("residual", "Learn the residual", 1, 0, 1,
                     "1: G adds its output to the bicubic upscaling; 0: the paper's G", integer=True),
        FamilyOption("average", "Weight average β", AVERAGE_BETA, 0.0, 0.9999,
                     "β of the moving average of G's weights that renders (Yazıcı et al. 2019; ~1/(1 − β) "
                     "steps); 0: G itself (the paper)"),
        FamilyOption("bicubic_lr", "Bicubic downsampling", 1, 0, 1,
                     "how the low-resolution inputs are made: 1 bicubic (the paper), 0 area average",
                     integer=True),
    )
    train_overrides = {"batch_size": 16, "lr_g": 1e-3, "lr_d": 3e-4, "beta1": 0.9}  # the rates: see the docstring
    channels_last = True
    cpu_bf16 = True  # 1.45x the steps in the same minutes (the docstring)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.scale not in (2, 4):
            raise ConfigError(f"SRGAN upscales ×2 or ×4, not ×{self.scale}")
        self.G_average = self.place(copy.deepcopy(self.G)).requires_grad_(False)
        self.G_mse = self.place(copy.deepcopy(self.G)).requires_grad_(False)
        self.content_network: nn.Module | None = None
        self.content_scale: torch.Tensor | None = None  # 0-dim: what the feature distance is multiplied by
        self._provide_content_network: Callable[[int], nn.Module] | None = None
        self.step = 0

    @property
    def scale(self) -> int:
        return int(self.settings["scale"])

    @classmethod
    def start_width(cls) -> None:
        return None

    def default_width(self) -> int:
        return 32

    @classmethod
    def held_out_size(cls, data_size: int, num_samples: int) -> int:
        """A tenth of the images (at least one, at most 1,000): the grid's patches and the evaluations."""
        if data_size < MIN_IMAGES:
            raise DataError(f"SRGAN needs at least {MIN_IMAGES} images (one is held out to show and measure)")
        return min(max(1, data_size // 10), 1000)

    @classmethod
    def plot_marks(cls, options: dict[str, float]) -> tuple[tuple[int, str], ...]:
        """The GAN phase's start, marked on the plots."""
        steps = int(cls.resolve_options(options)["mse_steps"])
        return ((steps, "GAN phase"),) if steps else ()

    def architecture(self) -> dict[str, object]:
        return {**super().architecture(), "latent_dim": None}

    def build_generator(self) -> nn.Module:
        blocks = int(self.settings["blocks"]) or 6
        return SRResNet(self.image_shape[0], self.width, blocks, self.scale, bool(self.settings["residual"]))

    def build_discriminator(self) -> nn.Module:
        channels, size, _ = self.image_shape
        return SRDiscriminator(channels, size, self.discriminator_width)

    @property
    def discriminator_width(self) -> int:
        """D's first filters: ``d_width``, or half of G's (not the paper's: see the docstring)."""
        return int(self.settings["d_width"]) or max(8, self.width // 2)

    @property
    def generator(self) -> nn.Module:
        """The moving average of G's weights (``average``): what renders, exports and is measured."""
        return self.G_average

    def networks(self) -> dict[str, nn.Module]:
        return {**super().networks(), "generator_average": self.G_average, "generator_mse": self.G_mse}

    def upgrade_tensors(self, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Checkpoints from before the average render with G itself."""
        return with_average(tensors)

    def interpolation_base(self, step: int) -> nn.Module | None:
        """G as the MSE phase left it, once the GAN phase has begun by ``step`` (the α = 0 end of the blend)."""
        return self.G_mse if step > self.settings["mse_steps"] else None

    @property
    def output_scale(self) -> int:
        return self.scale

    def wants_feature_network(self) -> bool:
        return bool(self.settings["content"])

    def use_feature_network(self, provide: Callable[[int], nn.Module]) -> None:
        """The content loss's feature network, built when the GAN phase first needs it."""
        self._provide_content_network = provide

    def begin(self, step: int, total_steps: int) -> None:
        self.step = step

    def low_resolution(self, images: torch.Tensor) -> torch.Tensor:
        return low_resolution(images, self.scale, bool(self.settings["bicubic_lr"]))

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        hr = batch[IMAGE]
        lr = self.low_resolution(hr)
        step, self.step = self.step, self.step + 1
        gan_phase = step >= self.settings["mse_steps"]
        if step == self.settings["mse_steps"]:
            self.G_mse.load_state_dict(self.G_average.state_dict())
        with self.autocast():
            sr = self.G(lr)
        mse = (sr.float() - hr).square().mean()
        if not gan_phase:
            self.opt_g.zero_grad(set_to_none=True)
            mse.backward()
            self.opt_g.step()
            self._update_average(step)
            return {"mse": mse.detach(), "content": mse.detach()}

        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        lazy = (step - self.settings["mse_steps"]) % R1_EVERY == 0
        gamma = float(self.settings["r1"]) * R1_EVERY if lazy else 0.0
        real = hr.detach().requires_grad_(True) if gamma else hr
        with self.autocast():
            real_logits, fake_logits = self.D(real), self.D(sr.detach())
        loss_d = _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)
        if gamma:
            slope, = torch.autograd.grad(real_logits.float().sum(), real, create_graph=True)
            loss_d = loss_d + gamma / 2 * slope.square().sum((1, 2, 3)).mean()
        loss_d.backward()
        self.opt_d.step()

        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            loss_adv = _bce(self.D(sr), 1.0)
        content = self._content(sr, hr, mse, step)
        (content + self.settings["adversarial"] * loss_adv).backward()
        self.opt_g.step()
        self._update_average(step)
        return {"mse": mse.detach(), "content": content.detach(), "loss_d": loss_d.detach(),
                "loss_g_adv": loss_adv.detach(), "d_real": torch.sigmoid(real_logits.detach().float()).mean(),
                "d_fake": torch.sigmoid(fake_logits.detach().float()).mean()}

    def _update_average(self, step: int) -> None:
        update_average(self.G_average, self.G, float(self.settings["average"]), step)

    def _content(self, sr: torch.Tensor, hr: torch.Tensor, mse: torch.Tensor, step: int) -> torch.Tensor:
        """Eq. 5: the MSE between features of SR and HR, scaled to be comparable to the pixel MSE (the paper's
        1/12.75 for VGG19; for another network the ratio of the two at the first GAN step, kept for the run)."""
        if not self.settings["content"] or self._provide_content_network is None:
            return mse
        if self.content_network is None:
            self.content_network = self.place(self._provide_content_network(step)).eval().requires_grad_(False)
        with torch.no_grad():
            target = self.content_network(hr).float()
        distance = (self.content_network(sr).float() - target).square().mean()
        if self.content_scale is None:
            fixed = getattr(self.content_network, "loss_scale", None)
            self.content_scale = (torch.tensor(float(fixed), device=self.device) if fixed else
                                  mse.detach() / distance.detach().clamp_min(1e-12))
        return self.content_scale * distance

    def training_state(self) -> dict[str, float]:
        return {} if self.content_scale is None else {"content_scale": float(self.content_scale)}

    def load_training_state(self, state: dict[str, float]) -> None:
        scale = state.get("content_scale")
        self.content_scale = None if scale is None else torch.tensor(float(scale), device=self.device)

    def replicated_state(self) -> list[torch.Tensor]:
        """The content scale, measured on each process's first GAN-phase batch, then their mean."""
        return [] if self.content_scale is None else [self.content_scale]

    # -- fixed inputs, rendering, the grid --------------------------------------------------------

    def fixed_inputs(self, num_samples, generator, held_out):
        """The first held-out patches (up to 16): their low-resolution copies, and the patches for the grid."""
        hr = held_out[IMAGE][:min(num_samples, 16)].clone()
        return {SOURCE: self.low_resolution(hr), IMAGE: hr}

    def fixed_inputs_from_z(self, z):
        raise NotImplementedError("SRGAN has no z")

    def sample_tiles(self, inputs, outputs):
        """Rows of LR (nearest) | bicubic | SR | HR, two quadruples to a row (one for an odd count)."""
        lr = inputs[SOURCE].float()
        nearest = F.interpolate(lr, scale_factor=self.scale, mode="nearest")
        bicubic = bicubic_upscale(lr, self.scale).clamp(-1, 1)
        quads = torch.stack([nearest, bicubic, outputs.clamp(-1, 1), inputs[IMAGE].float()], dim=1).flatten(0, 1)
        return quads, 8 if len(outputs) % 2 == 0 else 4
