"""Speech enhancement with a GAN on the raw waveform: SEGAN (Pascual et al., arXiv 1703.09452).

- **G** (figure 2): an encoder of 1-D convolutions (kernel 31, here 15: below; stride 2, PReLU) down to L/2^k samples,
  z ~ N(0, I) of the same shape concatenated to the thought vector, and a mirrored decoder of transposed
  convolutions whose inputs also take the homologous encoder layer's output (skip connections), ending
  in tanh. The paper's encoder widths are 16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 1024 for 16,384
  samples down to 8; here ``width`` scales that list (the paper: 16) and a window of 2^n samples takes its
  first n − 3 layers, so the bottleneck always has 8 samples.
- **D**: the encoder's layout on the (noisy, clean-or-enhanced) pair as two channels, LeakyReLU 0.3, a
  1×1 convolution to one channel and a dense layer to one score.
- **Objective** (eq. 6-7): least-squares GAN, D: ½(D(x, x̃) − 1)² + ½D(G(z, x̃), x̃)²; G: ½(D(G(z, x̃), x̃) − 1)²
  + λ‖G(z, x̃) − x‖₁ with λ = 100. RMSprop at 2e-4 (the paper; here for D, G: below).

Departs from the paper:
- No pre-emphasis by default (``--option pre_emphasis=0.95``: the paper's, section 4; the filter then sits
  inside ``Emphasised`` so that G still maps waveforms to waveforms). Pre-emphasis weights the L1 by
  |1 − 0.95·e^{−iω}|, 0.05 at 0 Hz and ~0.2 at 500 Hz against 1.95 at 8 kHz, so G learns the speech band
  last, and de-emphasis multiplies its low-frequency errors back by up to 20: after 3 CPU minutes the
  enhanced clips were 2.7 dB (segmental SNR) worse than the noisy input at 5 dB of white noise, against
  4.2 dB better without it (tests/benchmarks/bench_segan.py).
- For the CPU: batches of 32 (the paper: 400), windows of 4,096 samples (16,384 one option away:
  ``--window 16384``), ``width`` 8 (16: the paper); D normalises with batch norm rather than the paper's
  virtual batch norm (which runs a fixed reference batch through D at every step).
- D has half G's channel counts (``d_scale`` 0.5; the paper: 1): its three passes were most of a step's
  cost. 10 CPU minutes: 1,681 steps instead of 1,172; segmental SNR gain at 5 dB babble +2.68 dB (+2.27 with
  the paper's D), white +6.91 (+6.3); at 15 dB babble +0.03 (−0.76: the full D's run still harmed clean speech).
- G learns with Adam at 1e-3, β = (0.9, 0.99) (``adam``; 0: RMSprop, the paper's, at ``--lr-g 2e-4``). Adam
  at 1e-3 learns three times faster than RMSprop at 2e-4; with GAN-usual β (0.5, 0.999) it blew up after 300-550
  steps (G's tanh saturated within 10 steps, also on the L1 alone and with gradient clipping). After quiet
  steps, one large gradient moves every weight by up to (1 − β₁)/√(1 − β₂) times the rate: 16 with (0.5,
  0.999), 1 with (0.9, 0.99). Adam (0.9, 0.99) for 5 CPU minutes: 780 steps, no blow-up, gain at 5 dB babble /
  white +2.79 / +7.73 (RMSprop after 10 minutes: +2.68 / +6.91).
- Trains in bf16 on CPUs with bf16 arithmetic (``cpu_bf16``; ``--no-amp``: fp32): 235 against 345 ms a step on
  a 2-core Zen 4; in 5 minutes with Adam 1,274 steps, +2.91 / +7.15 (fp32: 780, +2.79 / +7.73). 10 minutes with both
  (tests/benchmarks/bench_segan.py): 2,451 steps; segmental SNR gain at 0 / 5 / 10 / 15 dB babble +3.43 / +3.54
  / +2.85 / +1.34, white +9.13 / +8.32 / +6.38 / +3.39 (RMSprop in fp32, 1,681 steps: babble +2.59 / +2.68 /
  +1.96 / +0.03, white +7.96 / +6.91 / +4.59 / +1.33); 20 minutes, 4,887 steps, no blow-up: babble +4.89 / +5.41
  / +4.45 / +2.66, white +10.71 / +9.66 / +7.69 / +4.80. Adam at 2e-3 with β (0.9, 0.99) blew up after ~950 steps.
  (These figures are with the paper's kernel of 31.)
- Kernels of 15 samples (``kernel``; the paper: 31): the convolutions are the step, 131 against 215-230 ms in bf16.
  5 CPU minutes: 2,416 steps, gain at 5 dB babble / white +4.25 / +8.73 (kernel 31: 1,274 steps, +2.91 / +7.15;
  kernel 11: 3,092 steps, +3.87 / +8.40). 10 minutes (tests/benchmarks/bench_segan.py): 5,029 steps, babble at
  0 / 5 / 10 / 15 dB +4.20 / +4.52 / +3.55 / +1.89, white +9.87 / +8.84 / +7.24 / +4.77. Per step the paper's
  kernel learns more (its 4,887 steps of 20 minutes: babble +5.41 at 5 dB): the longer context tells babble from
  speech.
- What renders (the grid, the explorer, exports, the measures, ``enhance``) is a moving average of G's weights
  (``generator_average``, β = ``average`` = 0.999, ~1,000 steps; Yazıcı et al., arXiv 1806.04498), as SRGAN's: Adam
  at 1e-3 leaves G's weights swinging from step to step. 5 CPU minutes: G itself +4.15 / +8.62 at 5 dB babble /
  white, its average +4.55 / +9.15. 10 minutes, 5,026 steps: babble at 0 / 5 / 10 / 15 dB +4.68 / +5.07 / +4.12 /
  +2.64, white +10.45 / +9.46 / +7.95 / +5.56; seed 1 (5,039 steps): babble +4.17 / +4.59 / +3.86 / +2.53, white
  +9.87 / +9.10 / +7.60 / +5.22 (β 0.9995, seed 1: +4.50 / +8.95 at 5 dB, no better). ``--option average=0``
  renders G itself (the paper).

Tried, not kept (3 CPU minutes, segmental SNR gain at 5 dB babble / white; the paper's setting: +0.69 / +4.69):
RMSprop at 1e-3 and Adam at 2e-3 blew up; Adam (0.5, 0.999) at 5e-4 learned no faster than the paper's RMSprop
(+0.70 / +5.03); Demucs' weight rescaling (Défossez et al. 2020) or weight normalisation only delayed the blow-up
of Adam (0.5, 0.999) at 1e-3. Batches of 16 (Adam, bf16, 5 minutes) took twice the steps (2,478) but gained less:
+1.43 / +6.79 against batches of 32's +2.91 / +7.15. The model is not over-fitting its 1,800 clips' fixed mixes: after 10 minutes its
gain on them equals its gain on the same clips mixed afresh and on held-out clips.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from ganstudio.audio import de_emphasis, pre_emphasis, spectrogram_images
from ganstudio.config import DataConfig
from ganstudio.data.base import CLEAN, NOISY, DataError
from ganstudio.errors import ConfigError
from ganstudio.models import register_family
from ganstudio.models.averaging import update_average, with_average
from ganstudio.models.base import Family, FamilyOption, MetricInfo, Tensors
from ganstudio.models.noise import LatentNoise, seeded_noise

ENCODER_WIDTHS = (1, 2, 2, 4, 4, 8, 8, 16, 16, 32, 64)  # × width: the paper's at width 16
PAPER_KERNEL = 31
BOTTLENECK = 8  # samples at the thought vector
MIN_CLIPS = 10
GRID_CLIPS = 4


def encoder_widths(window: int, width: int) -> list[int]:
    """The encoder's channel counts for a window of 2^n samples: the paper's first n − 3, scaled."""
    layers = round(math.log2(window // BOTTLENECK))
    if layers > len(ENCODER_WIDTHS):
        raise DataError(f"SEGAN's encoder reaches windows of up to {BOTTLENECK << len(ENCODER_WIDTHS):,} samples")
    return [width * w for w in ENCODER_WIDTHS[:layers]]


def _down(c_in: int, c_out: int, kernel: int) -> nn.Conv1d:
    return nn.Conv1d(c_in, c_out, kernel, stride=2, padding=kernel // 2)


class SEGANGenerator(nn.Module):
    """noisy (N, 1, L) pre-emphasised -> enhanced (N, 1, L) pre-emphasised, in (-1, 1); z drawn inside
    (``LatentNoise``: seed it with ``seeded_noise`` for repeatable outputs)."""

    def __init__(self, widths: list[int], kernel: int = PAPER_KERNEL):
        super().__init__()
        ins = [1, *widths[:-1]]
        self.encoder = nn.ModuleList(nn.Sequential(_down(a, b, kernel), nn.PReLU(b)) for a, b in zip(ins, widths))
        self.z = LatentNoise(widths[-1])
        # Decoder layer i undoes encoder layer i (from the last): input its features (+ z, or + the skip).
        self.decoder = nn.ModuleList()
        for i, (c_out, c_skip) in enumerate(zip(reversed(ins), reversed(widths))):
            c_in = 2 * c_skip
            up = nn.ConvTranspose1d(c_in, c_out, kernel, stride=2, padding=kernel // 2, output_padding=1)
            last = i == len(widths) - 1
            self.decoder.append(nn.Sequential(up, nn.Tanh() if last else nn.PReLU(c_out)))

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        skips = []
        h = noisy
        for layer in self.encoder:
            h = layer(h)
            skips.append(h)
        h = self.z(skips.pop())
        for layer in self.decoder:
            h = layer(h)
            if skips:
                h = torch.cat([h, skips.pop()], dim=1)
        return h


class Emphasised(nn.Module):
    """noisy (N, 1, L) -> enhanced (N, 1, L): ``net`` between pre-emphasis and de-emphasis by ``coefficient``
    (0: neither), so that the module maps waveforms to waveforms (what snapshots and the explorer run)."""

    def __init__(self, net: nn.Module, coefficient: float):
        super().__init__()
        self.net, self.coefficient = net, coefficient

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        if not self.coefficient:
            return self.net(noisy)
        return de_emphasis(self.net(pre_emphasis(noisy, self.coefficient)), self.coefficient).clamp(-1, 1)


class SEGANDiscriminator(nn.Module):
    """(noisy, clean-or-enhanced) (N, 1, L) each -> least-squares scores (N,)."""

    def __init__(self, widths: list[int], window: int, kernel: int = PAPER_KERNEL):
        super().__init__()
        layers: list[nn.Module] = []
        for a, b in zip([2, *widths[:-1]], widths):
            layers += [_down(a, b, kernel), nn.BatchNorm1d(b), nn.LeakyReLU(0.3, True)]
        self.features = nn.Sequential(*layers)
        self.squeeze = nn.Conv1d(widths[-1], 1, 1)
        self.score = nn.Linear(window >> len(widths), 1)

    def forward(self, noisy: torch.Tensor, speech: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.squeeze(self.features(torch.cat([noisy, speech], dim=1))), 0.3)
        return self.score(h.flatten(1)).flatten()


@register_family("segan")
class SEGAN(Family):
    description = "speech enhancement (SEGAN): removes noise from speech, on the raw waveform"
    needs = frozenset({CLEAN, NOISY})
    generator_inputs = (NOISY,)
    image_sizes = (64, 128)  # of the spectrogram pictures only (the data settings make them 64 px)
    default_dataset = "speech"
    metrics = (
        MetricInfo("l1", "‖G(z, x̃) − x‖₁", "G's L1 to the clean speech"),
        MetricInfo("loss_d", "D loss", "least-squares losses"),
        MetricInfo("loss_g_adv", "G adversarial", "least-squares losses"),
        MetricInfo("d_real", "D(noisy, clean)", "discriminator scores"),
        MetricInfo("d_fake", "D(noisy, enhanced)", "discriminator scores"),
    )
    options = (
        FamilyOption("l1_weight", "L1 weight λ", 100.0, 0.0, 10_000.0, "weight of the L1 to the clean speech "
                     "(the paper: 100)"),
        FamilyOption("pre_emphasis", "Pre-emphasis", 0.0, 0.0, 0.99,
                     "the networks see and the L1 compares waveforms filtered by 1 − a·z⁻¹ (the paper: 0.95; "
                     "0: the raw waveform, measured better in minutes of training)"),
        FamilyOption("d_scale", "D's width / G's", 0.5, 0.125, 1.0,
                     "D's channel counts as a share of G's (the paper: 1)", earlier=1.0),
        FamilyOption("kernel", "Kernel size", 15, 3, 63,
                     "length of the convolutions' kernels, odd (the paper: 31; 15 takes 0.6x the time a step)",
                     integer=True, earlier=PAPER_KERNEL),
        FamilyOption("average", "Weight average β", 0.999, 0.0, 0.9999,
                     "β of the moving average of G's weights that renders (Yazıcı et al. 2019; ~1/(1 − β) "
                     "steps); 0: G itself (the paper)", earlier=0.0),
        FamilyOption("adam", "G learns with Adam", 1, 0, 1,
                     "1: Adam at the run's rate and β (1e-3, (0.9, 0.99)); 0: RMSprop, the paper's (at its 2e-4: "
                     "--lr-g 2e-4)", integer=True, earlier=0),
    )
    # ~8 steps/s on a 2-core CPU in bf16 (~4 with the paper's kernel): the first clips after ~7 s and the first SNR
    # point after ~30 s (the app's 200 and 1,000 steps would take 25 s and 2 minutes); 200 clips' SNR take ~1 s.
    train_overrides = {"batch_size": 32, "lr_g": 1e-3, "lr_d": 2e-4, "beta1": 0.9, "beta2": 0.99,
                       "sample_every": 50, "eval_every": 250}
    cpu_bf16 = True  # 1.6x the steps in the same minutes, as good per step (the docstring)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.window = self.data_cfg.window
        widths = encoder_widths(self.window, self.width)
        self.emphasis = self.settings["pre_emphasis"]
        kernel = int(self.settings["kernel"])
        if kernel % 2 == 0:
            raise ConfigError(f"SEGAN's kernel must be odd (the paper's is {PAPER_KERNEL}), not {kernel}")
        self.G = self.place(Emphasised(SEGANGenerator(widths, kernel), self.emphasis))
        self.D = self.place(SEGANDiscriminator([max(1, round(w * self.settings["d_scale"])) for w in widths],
                                               self.window, kernel))
        t = self.train_cfg
        self.opt_g = (self.adam(self.G.parameters(), t.lr_g) if self.settings["adam"]
                      else torch.optim.RMSprop(self.G.parameters(), lr=t.lr_g))
        self.opt_d = torch.optim.RMSprop(self.D.parameters(), lr=t.lr_d)
        self.G_average = self.place(copy.deepcopy(self.G)).requires_grad_(False)
        self.step = 0

    @classmethod
    def data_settings(cls, data: DataConfig) -> DataConfig:
        """Spectrogram pictures of 64 px unless 128 is asked for (an image size means nothing else here)."""
        return data if data.image_size in cls.image_sizes else dataclasses.replace(data, image_size=64)

    @classmethod
    def missing_data(cls, provided):
        if cls.needs - set(provided):
            return ("segan needs speech: the built-in synthesised speech (--dataset speech), a folder of WAVs "
                    "(--dataset speech-folder) or noisy/ and clean/ folders (--dataset speech-pairs)")
        return None

    @classmethod
    def held_out_size(cls, data_size: int, num_samples: int) -> int:
        """A tenth of the clips (at least 4, or a fifth of a small set; at most 500)."""
        if data_size < MIN_CLIPS:
            raise DataError(f"segan needs at least {MIN_CLIPS} clips of speech (some are held out), not {data_size}")
        return min(max(min(GRID_CLIPS, data_size // 5), data_size // 10), 500)

    def health_options(self) -> dict[str, object]:
        """Watch whether λ·L1 leaves D nothing to do (as pix2pix); no sample-diversity rule: the grid's clips
        differ by their inputs, and pictures of them alike would not mean a collapse of modes."""
        return {"loss_weights": (1.0, self.settings["l1_weight"]), "collapse_ratio": 0.0}

    @classmethod
    def start_width(cls) -> None:
        return None

    def default_width(self) -> int:
        return 8

    def architecture(self) -> dict[str, object]:
        return {**super().architecture(), "latent_dim": None, "window": self.window}

    @property
    def generator(self) -> nn.Module:
        """The moving average of G's weights (``average``): what renders, exports and is measured."""
        return self.G_average

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.G, "discriminator": self.D, "generator_average": self.G_average}

    def upgrade_tensors(self, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Checkpoints from before the average render with G itself."""
        return with_average(tensors)

    def begin(self, step: int, total_steps: int) -> None:
        self.step = step

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        noisy, clean = (pre_emphasis(batch[name], self.emphasis) for name in (NOISY, CLEAN))
        with self.autocast():
            enhanced = self.G.net(noisy)

        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            real, fake = self.D(noisy, clean).float(), self.D(noisy, enhanced.detach()).float()
        loss_d = 0.5 * (real - 1).square().mean() + 0.5 * fake.square().mean()
        loss_d.backward()
        self.opt_d.step()

        self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        with self.autocast():
            fooled = self.D(noisy, enhanced).float()
        loss_adv = 0.5 * (fooled - 1).square().mean()
        l1 = (enhanced.float() - clean).abs().mean()
        (loss_adv + self.settings["l1_weight"] * l1).backward()
        self.opt_g.step()
        update_average(self.G_average, self.G, float(self.settings["average"]), self.step)
        self.step += 1
        return {"l1": l1.detach(), "loss_d": loss_d.detach(), "loss_g_adv": loss_adv.detach(),
                "d_real": real.detach().mean(), "d_fake": fake.detach().mean()}

    # -- fixed inputs, rendering, the grid --------------------------------------------------------

    def fixed_inputs(self, num_samples, generator, held_out):
        """The first held-out clips (up to 4): noisy and clean, waveforms in [-1, 1)."""
        count = min(num_samples, GRID_CLIPS, len(held_out[NOISY]))
        return {NOISY: held_out[NOISY][:count].clone(), CLEAN: held_out[CLEAN][:count].clone()}

    def fixed_inputs_from_z(self, z):
        raise NotImplementedError("segan's z is drawn inside its generator")

    @contextlib.contextmanager
    def rendering(self):
        """Eval mode, z from a private generator with seed 0 (the same outputs for the same inputs)."""
        with super().rendering(), seeded_noise(self.generator, 0):
            yield

    def pictures(self, outputs: torch.Tensor) -> torch.Tensor:
        """Waveforms (N, 1, L) -> their log spectrograms (N, C, S, S) in [-1, 1]."""
        channels, size, _ = self.image_shape
        return spectrogram_images(outputs.float(), size, channels).float() / 127.5 - 1

    def sounds(self, inputs, outputs):
        """The grid's clips: noisy, enhanced and clean, (N, L) float32."""
        return {"noisy": inputs[NOISY][:, 0].float().numpy(), "enhanced": outputs[:, 0].numpy(),
                "clean": inputs[CLEAN][:, 0].float().numpy()}

    def sample_tiles(self, inputs, outputs):
        """Log spectrograms, a row per clip: noisy | enhanced | clean."""
        clips = torch.stack([inputs[NOISY].float(), outputs, inputs[CLEAN].float()], dim=1).flatten(0, 1)
        return self.pictures(clips), 3
