"""A frozen copy of a generator to render from: of the live training run or of a checkpoint.

The explorer never runs the module being trained (its weights change under it); it renders from a
snapshot the training loop hands out between steps, or from a checkpoint.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganstudio.config import RunConfig
from ganstudio.images import to_uint8
from ganstudio.models.base import Family
from ganstudio.checkpoint import load_generator


class ClassConditioned(nn.Module):
    """z (N, latent_dim) -> images: a conditional generator ``G(z, labels)`` with its class fixed, so
    the explorer's maths (which only knows z) works on it unchanged."""

    def __init__(self, generator: nn.Module, label: int):
        super().__init__()
        self.generator, self.label = generator, label

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z, torch.full((z.shape[0],), self.label, dtype=torch.long, device=z.device))


def _frozen(module: nn.Module) -> nn.Module:
    module = module.float().cpu().eval().requires_grad_(False)
    for p in module.parameters():
        p.grad = None
    return module


@dataclass(frozen=True)
class GeneratorSnapshot:
    """``generator`` maps z to images; for a conditional family it is bound to class ``label`` (change
    it with :meth:`with_label`). ``encoder`` maps images to z where the family has one (the VAE)."""

    generator: nn.Module  # CPU, float32, eval mode, no gradients
    latent_dim: int
    image_shape: tuple[int, int, int]  # (C, H, W)
    step: int
    source: str  # in words: "live training, step 1,300" or a checkpoint file name
    config: RunConfig
    checkpoint: Path | None = None
    class_names: tuple[str, ...] = ()  # conditional families' classes
    label: int | None = None  # the class the generator is bound to
    encoder: nn.Module | None = None

    @classmethod
    def of_family(cls, family: Family, step: int, config: RunConfig) -> GeneratorSnapshot:
        """Copy ``family``'s generator now (call between training steps, on the training thread)."""
        return cls._of(family, copy.deepcopy, step, f"live training, step {step:,}", config, None)

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> GeneratorSnapshot:
        """Load a checkpoint's generator (run folder = its latest checkpoint; .json or .safetensors)."""
        family, info, _ = load_generator(path, torch.device("cpu"))
        return cls._of(family, lambda module: module, info.step, f"{info.json_path.stem} (step {info.step:,})",
                       RunConfig.from_dict(info.config), info.json_path)

    @classmethod
    def _of(cls, family: Family, take, step: int, source: str, config: RunConfig,
            checkpoint: Path | None) -> GeneratorSnapshot:
        generator = _frozen(take(family.generator))
        label = 0 if family.takes_labels else None
        if label is not None:
            generator = ClassConditioned(generator, label)
        encoder = _frozen(take(family.encoder)) if family.can_encode else None
        return cls(generator, family.latent_dim, family.image_shape, step, source, config, checkpoint,
                   family.class_names if family.takes_labels else (), label, encoder)

    def with_label(self, label: int) -> GeneratorSnapshot:
        """The same weights bound to another class (conditional families only)."""
        if self.label is None:
            raise ValueError("this generator takes no class")
        if not 0 <= label < len(self.class_names):
            raise ValueError(f"class {label} is out of range (0..{len(self.class_names) - 1})")
        return dataclasses.replace(self, generator=ClassConditioned(self.generator.generator, label), label=label)

    @torch.no_grad()
    def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, H, W, C) uint8 images of the model's shape -> z (N, latent_dim) float32 (the posterior mean)."""
        if self.encoder is None:
            raise ValueError("this model has no encoder")
        x = torch.from_numpy(np.array(images, np.float32)).permute(0, 3, 1, 2) / 127.5 - 1.0
        return self.encoder(x).numpy().astype(np.float32)

    @torch.no_grad()
    def images(self, z: np.ndarray | torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """(N, C, H, W) float32 in [-1, 1] for z (N, latent_dim)."""
        z = torch.as_tensor(np.asarray(z, np.float32)).reshape(-1, self.latent_dim)
        return torch.cat([self.generator(chunk).float() for chunk in z.split(batch_size)])

    def render(self, z: np.ndarray | torch.Tensor) -> np.ndarray:
        """(N, H, W, C) uint8 for z (N, latent_dim)."""
        return to_uint8(self.images(z))
