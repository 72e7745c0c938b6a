"""A frozen copy of a generator to render from: of the live training run or of a checkpoint.

The explorer never runs the module being trained (its weights change under it); it renders from a
snapshot the training loop hands out between steps, or from a checkpoint. z families render from z
(:meth:`GeneratorSnapshot.render`); translation families from a source image (:meth:`~GeneratorSnapshot.translate`).

A snapshot of a run training on a CUDA GPU stays on that GPU (a 64 px generator is a few MB there), so the
explorer and the quality evaluator render on it; their work runs on a side stream (:meth:`GeneratorSnapshot.on_device`),
beside the training stream rather than queued in it. Inputs and outputs are CPU arrays either way. Checkpoints
load on the CPU, and so do runs on Apple's MPS (one command queue: renders would wait in the training's).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganstudio.checkpoint import load_generator
from ganstudio.config import RunConfig
from ganstudio.data.base import LABEL, NOISY, SOURCE
from ganstudio.data.pairs import source_channels
from ganstudio.images import to_uint8
from ganstudio.models.base import TARGET, Family, Tensors, Z
from ganstudio.models.noise import seeded_noise


class ClassConditioned(nn.Module):
    """z (N, latent_dim) -> images: a conditional generator ``G(z, labels)`` with its class fixed, so
    the explorer's maths (which only knows z) works on it unchanged."""

    def __init__(self, generator: nn.Module, label: int):
        super().__init__()
        self.generator, self.label = generator, label

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z, torch.full((z.shape[0],), self.label, dtype=torch.long, device=z.device))


def render_device(training: torch.device) -> torch.device:
    """Where a live snapshot of a run training on ``training`` renders: that GPU for CUDA, else the CPU."""
    return training if training.type == "cuda" else torch.device("cpu")


def _frozen(module: nn.Module, device: torch.device) -> nn.Module:
    module = module.float().to(device).eval().requires_grad_(False)
    for p in module.parameters():
        p.grad = None
    return module


@dataclass(frozen=True)
class GeneratorSnapshot:
    """``generator`` maps z to images (``inputs`` == ("z",)); for a conditional family it is bound to
    class ``label`` (change it with :meth:`with_label`). ``encoder`` maps images to z where the family
    has one (the VAE). A translation family's generator maps a source image to an image (``inputs`` ==
    ("source",)); ``fixed`` holds the run's fixed inputs (held-out sources and their targets)."""

    generator: nn.Module  # on ``device``, float32, eval mode, no gradients
    latent_dim: int  # 0 without a z
    image_shape: tuple[int, int, int]  # (C, H, W)
    step: int
    source: str  # in words: "live training, step 1,300" or a checkpoint file name
    config: RunConfig
    checkpoint: Path | None = None
    class_names: tuple[str, ...] = ()  # conditional families' classes
    label: int | None = None  # the class the generator is bound to
    encoder: nn.Module | None = None
    inputs: tuple[str, ...] = (Z,)  # what the generator reads
    fixed: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)  # CPU, images in [-1, 1]
    target_size: int = 0  # K of the target domain code (N, K) the generator reads; 0 without one
    reader: nn.Module | None = None  # images in [-1, 1] -> (N, K) attribute logits (StarGAN's D classifier)
    scale: int = 1  # outputs are this many times larger than the sources (super-resolution)
    # (the α = 0 weights, the α = 1 weights) of a generator whose weights can be blended (SRGAN: the MSE
    # phase's G and the GAN's), or None; ``alpha`` is the blend ``generator`` has.
    blend_ends: tuple[nn.Module, nn.Module] | None = None
    alpha: float = 1.0
    differentiable: bool = True  # False for a generator run outside torch (ONNX): no projection of real images
    device: torch.device = torch.device("cpu")  # where the modules are (a CUDA GPU for live CUDA runs)
    ready: object | None = field(default=None, repr=False, compare=False)  # CUDA: an event after the copy

    @classmethod
    def of_family(cls, family: Family, step: int, config: RunConfig, fixed: Tensors | None = None) -> GeneratorSnapshot:
        """Copy ``family``'s generator now (call between training steps, on the training thread)."""
        return cls._of(family, copy.deepcopy, step, f"live training, step {step:,}", config, None, fixed or {})

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> GeneratorSnapshot:
        """Load a checkpoint's generator (run folder = its latest checkpoint; .json or .safetensors)."""
        family, info, fixed = load_generator(path, torch.device("cpu"))
        return cls._of(family, lambda module: module, info.step, f"{info.json_path.stem} (step {info.step:,})",
                       RunConfig.from_dict(info.config), info.json_path, fixed)

    @classmethod
    def _of(cls, family: Family, take, step: int, source: str, config: RunConfig,
            checkpoint: Path | None, fixed: Tensors) -> GeneratorSnapshot:
        device = render_device(family.device)
        generator = _frozen(take(family.generator), device)
        label = 0 if family.takes(LABEL) else None
        if label is not None:
            generator = ClassConditioned(generator, label)
        encoder = _frozen(take(family.encoder), device) if family.can_encode else None
        base = family.interpolation_base(step)
        blend_ends = (_frozen(take(base), device), generator) if base is not None else None
        reader = _frozen(take(family.attribute_reader), device) if family.attribute_reader is not None else None
        ready = None
        if device.type == "cuda":  # the copies were queued on the training thread's stream
            ready = torch.cuda.Event()
            ready.record()
        return cls(generator, family.latent_dim if family.takes(Z) else 0, family.image_shape, step, source, config,
                   checkpoint, family.class_names if family.takes(LABEL) else (), label, encoder,
                   family.generator_inputs, {name: t.detach().cpu() for name, t in fixed.items()},
                   family.target_size if family.takes(TARGET) else 0, reader, family.output_scale, blend_ends,
                   device=device, ready=ready)

    @contextlib.contextmanager
    def on_device(self):
        """Run the block's work for this snapshot's modules: on the CPU as it is; on a GPU on a side stream
        that first waits for the snapshot's copy, and is finished when the block ends. Feed the modules
        tensors ``.to(snapshot.device)``."""
        if self.device.type != "cuda":
            yield
            return
        stream = torch.cuda.Stream(self.device)
        if self.ready is not None:
            stream.wait_event(self.ready)
        with torch.cuda.stream(stream):
            yield
        stream.synchronize()

    def on_cpu(self) -> GeneratorSnapshot:
        """This snapshot with its modules copied to the CPU (itself when they are there), for work that mixes
        them with CPU networks (projection through a feature network, direction discovery)."""
        if self.device.type == "cpu":
            return self

        def cpu(module: nn.Module | None) -> nn.Module | None:
            return None if module is None else copy.deepcopy(module).cpu()

        with self.on_device():
            generator = cpu(self.generator)
            base = cpu(self.blend_ends[0]) if self.blend_ends is not None else None
        return dataclasses.replace(self, generator=generator, encoder=cpu(self.encoder), reader=cpu(self.reader),
                                   blend_ends=(base, generator) if base is not None else None,
                                   device=torch.device("cpu"), ready=None)

    @property
    def translates(self) -> bool:
        """Does the generator translate a source image (rather than draw from z)?"""
        return SOURCE in self.inputs

    @property
    def enhances(self) -> bool:
        """Does the generator enhance noisy speech (SEGAN; ganstudio/enhance.py renders with it)?"""
        return NOISY in self.inputs

    @property
    def source_channels(self) -> int:
        """Channels of the source images a translation generator reads."""
        return source_channels(self.config.data)

    def with_label(self, label: int) -> GeneratorSnapshot:
        """The same weights bound to another class (conditional families only)."""
        if self.label is None:
            raise ValueError("this generator takes no class")
        if not 0 <= label < len(self.class_names):
            raise ValueError(f"class {label} is out of range (0..{len(self.class_names) - 1})")
        return dataclasses.replace(self, generator=ClassConditioned(self.generator.generator, label), label=label)

    @torch.no_grad()
    def with_alpha(self, alpha: float) -> GeneratorSnapshot:
        """The generator with weights (1 − α)·θ₀ + α·θ₁ between ``blend_ends`` (network interpolation, Wang
        et al., arXiv 1809.00219, section 3.4; BatchNorm statistics blend alike); α = 1 is the trained G."""
        if self.blend_ends is None:
            raise ValueError("this generator has no second set of weights to blend with")
        start, end = self.blend_ends
        if alpha == 1.0:
            return dataclasses.replace(self, generator=end, alpha=1.0)
        with self.on_device():
            blended = copy.deepcopy(end)
            ends = zip(start.state_dict().values(), end.state_dict().values(), blended.state_dict().values())
            for a, b, out in ends:
                if out.is_floating_point():
                    out.copy_(torch.lerp(a, b, float(alpha)))
        return dataclasses.replace(self, generator=blended, alpha=float(alpha))

    @torch.no_grad()
    def read_attributes(self, images: np.ndarray) -> np.ndarray:
        """(N, H, W, C) uint8 -> (N, K) probabilities that each attribute is present, as the model's own
        classifier reads them (StarGAN's discriminator)."""
        if self.reader is None:
            raise ValueError("this model has no attribute classifier")
        x = torch.from_numpy(np.array(images, np.float32)).permute(0, 3, 1, 2) / 127.5 - 1.0
        with self.on_device():
            return torch.sigmoid(self.reader(x.to(self.device))).cpu().numpy()

    @torch.no_grad()
    def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, H, W, C) uint8 images of the model's shape -> z (N, latent_dim) float32 (the posterior mean)."""
        if self.encoder is None:
            raise ValueError("this model has no encoder")
        x = torch.from_numpy(np.array(images, np.float32)).permute(0, 3, 1, 2) / 127.5 - 1.0
        with self.on_device():
            return self.encoder(x.to(self.device)).cpu().numpy().astype(np.float32)

    @property
    def takes_target(self) -> bool:
        """Does the generator also read a target domain code (CycleGAN's direction, StarGAN's attributes)?"""
        return TARGET in self.inputs

    @property
    def domain_names(self) -> tuple[str, ...]:
        """The two domains (A, B) of a two-domain family, or StarGAN's attributes: one per target column."""
        return self.config.model.domain_names

    @torch.no_grad()
    def translate(self, sources: np.ndarray, noise_seed: int = 0, batch_size: int = 64,
                  target: np.ndarray | float | None = None) -> np.ndarray:
        """(N, H, W, C') uint8 sources of the model's size -> (N, H, W, C) uint8 outputs. Dropout noise
        (pix2pix renders with it, as in the paper) comes from ``noise_seed``: the same seed, the same
        output. Families with a target domain need ``target``: (N, K) or (K,) codes, or one number for
        all (two-domain families: 1 translates into B, 0 into A). Not thread-safe: one renderer per
        snapshot."""
        if not self.translates:
            raise ValueError("this model draws from z; it does not translate images")
        x = torch.from_numpy(np.ascontiguousarray(sources, np.float32)).permute(0, 3, 1, 2) / 127.5 - 1.0
        inputs = [x]
        if self.takes_target:
            if target is None:
                raise ValueError(f"this model translates into a domain ({', '.join(self.domain_names)}): give a target")
            codes = torch.as_tensor(np.asarray(target, np.float32))
            inputs.append(codes.reshape(-1, self.target_size).expand(len(x), -1) if codes.ndim < 2 else codes)
        with self.on_device(), seeded_noise(self.generator, noise_seed):
            return to_uint8(torch.cat([self.generator(*(t.to(self.device) for t in chunks)).float().cpu()
                                       for chunks in zip(*(t.split(batch_size) for t in inputs))]))

    @torch.no_grad()
    def images(self, z: np.ndarray | torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """(N, C, H, W) float32 in [-1, 1] for z (N, latent_dim)."""
        if self.translates:
            raise ValueError("this model translates images; it has no z")
        z = torch.as_tensor(np.asarray(z, np.float32)).reshape(-1, self.latent_dim)
        with self.on_device():
            return torch.cat([self.generator(chunk.to(self.device)).float().cpu() for chunk in z.split(batch_size)])

    def render(self, z: np.ndarray | torch.Tensor) -> np.ndarray:
        """(N, H, W, C) uint8 for z (N, latent_dim)."""
        return to_uint8(self.images(z))
