"""Projecting a real image into a generator's z (GAN inversion), so that every direction, interpolation
and export works on a person's own picture.

The optimisation follows the StyleGAN2 projector (Karras et al., arXiv 1912.04958, appendix D) in z
instead of W: Adam on z with a learning rate that ramps up over the first 5 % of the steps and down
(cosine) over the last 25 %, and noise added to z that fades out over the first 75 %. The loss per start

    mean (G(z) - x)²  +  perceptual · mean (F(G(z)) - F(x))² / mean F(x)²  +  prior · (‖z‖ / √d - 1)²

has a pixel term, a perceptual term in a feature network F passed in (the run's domain features, e.g.
the attribute model's penultimate layer; StyleGAN2 uses LPIPS-VGG, which needs downloaded weights and
sees 224 px natural photos), and a prior that keeps z on the shell where N(0, I) puts its mass (the
generator was only trained there). ``starts`` random codes are optimised together in one batch and the
best is kept; a conditional generator searches its classes too (the starts are shared among them), and
an encoder (the VAE's) gives the first start, which the optimisation refines.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ganstudio.images import to_uint8
from ganstudio.snapshot import ClassConditioned, GeneratorSnapshot

STEPS, STARTS = 250, 12
LEARNING_RATE = 0.2  # StyleGAN2 uses 0.1 in W; measured on a 64 px DCGAN: 0.08 -> 31.3 dB, 0.2 -> 33.8 dB
RAMP_UP, RAMP_DOWN, NOISE_FADE = 0.05, 0.25, 0.75  # fractions of the steps
NOISE = 0.3  # initial std of the noise on z (StyleGAN2: 0.05 of W's spread); 0.1-0.5 measured within 1 dB
PERCEPTUAL, PRIOR = 0.05, 0.05


@dataclass(frozen=True)
class Projection:
    z: np.ndarray  # (latent_dim,) float32
    label: int | None  # the class found, for a conditional generator
    reconstruction: np.ndarray  # (H, W, C) uint8: G(z)
    psnr: float  # of the reconstruction against the image, dB
    seconds: float


def prior_shell(latent_dim: int, probability: float = 0.99) -> tuple[float, float]:
    """The radii between which ‖z‖ of z ~ N(0, I_d) falls with ``probability`` (two-sided; the chi-square
    quantiles by the Wilson-Hilferty approximation, within 0.1 % for d ≥ 10)."""
    z = abs(torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor((1 - probability) / 2)).item())
    h = 2 / (9 * latent_dim)
    return tuple(math.sqrt(latent_dim * (1 - h + sign * z * math.sqrt(h)) ** 3) for sign in (-1, 1))


def _learning_rate(t: float) -> float:
    """StyleGAN2's schedule at progress t in [0, 1]: linear ramp up, cosine ramp down."""
    down = min(1.0, (1.0 - t) / RAMP_DOWN)
    return LEARNING_RATE * min(1.0, t / RAMP_UP) * (0.5 - 0.5 * math.cos(math.pi * down))


def project(snapshot: GeneratorSnapshot, image: np.ndarray, features: nn.Module | None = None,
            starts: int = STARTS, steps: int = STEPS, seed: int = 0, check: Callable[[], None] = lambda: None,
            progress: Callable[[int, int], None] = lambda done, total: None) -> Projection:
    """The z (and class) whose image is closest to ``image`` ((H, W, C) uint8 of the model's shape).

    ``features``: (N, C, H, W) in [-1, 1] -> (N, D), for the perceptual term (None: pixels and prior
    only). ``check()`` runs before every step and may raise to cancel; ``progress(done, total)`` after."""
    if snapshot.translates:
        raise ValueError("this model translates images; it has no z to project into")
    snapshot = snapshot.on_cpu()  # beside the CPU feature network
    began = time.perf_counter()
    target = torch.from_numpy(np.array(image, np.float32)).permute(2, 0, 1)[None] / 127.5 - 1.0
    if tuple(target.shape[1:]) != snapshot.image_shape:
        raise ValueError(f"the image is {tuple(target.shape[1:])}, the model makes {snapshot.image_shape}")
    generator, labels = _generator_and_labels(snapshot, starts)
    count, dim = len(labels) if labels is not None else starts, snapshot.latent_dim
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(count, dim, generator=rng)
    if snapshot.encoder is not None:
        with torch.no_grad():
            z[0] = snapshot.encoder(target)[0]
    z.requires_grad_(True)
    target_features = features(target).detach() if features is not None else None

    def losses(z: torch.Tensor) -> torch.Tensor:
        """(count,) the loss of each start."""
        out = generator(z) if labels is None else generator(z, labels)
        loss = (out - target).square().flatten(1).mean(1)
        if target_features is not None:
            loss = loss + PERCEPTUAL * (features(out) - target_features).square().mean(1) / target_features.square().mean()
        return loss + PRIOR * (z.norm(dim=1) / math.sqrt(dim) - 1).square()

    optimiser = torch.optim.Adam([z], lr=LEARNING_RATE)
    for step in range(steps):
        check()
        t = step / steps
        for group in optimiser.param_groups:
            group["lr"] = _learning_rate(t)
        noise = NOISE * max(0.0, 1 - t / NOISE_FADE) ** 2
        optimiser.zero_grad(set_to_none=True)
        losses(z + noise * torch.randn(z.shape, generator=rng)).sum().backward()
        optimiser.step()
        progress(step + 1, steps)
    with torch.no_grad():
        best = int(losses(z).argmin())
        z_best = z[best:best + 1].detach()
        out = generator(z_best) if labels is None else generator(z_best, labels[best:best + 1])
    mse = float(((out - target) / 2).square().mean())
    return Projection(z_best[0].numpy().astype(np.float32), None if labels is None else int(labels[best]),
                      to_uint8(out)[0], 10 * math.log10(1 / max(mse, 1e-12)), time.perf_counter() - began)


def _generator_and_labels(snapshot: GeneratorSnapshot, starts: int) -> tuple[nn.Module, torch.Tensor | None]:
    """The generator to optimise through, and for a conditional one the class of each start (every
    class gets ``ceil(starts / classes)`` starts, at least 2)."""
    if not isinstance(snapshot.generator, ClassConditioned):
        return snapshot.generator, None
    classes = len(snapshot.class_names)
    per_class = max(2, math.ceil(starts / classes))
    return snapshot.generator.generator, torch.arange(classes).repeat_interleave(per_class)
