"""A frozen copy of a generator to render from: of the live training run or of a checkpoint.

The explorer never runs the module being trained (its weights change under it); it renders from a
snapshot the training loop hands out between steps, or from a checkpoint.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganstudio.config import RunConfig
from ganstudio.latent.render import to_uint8
from ganstudio.models.base import Family
from ganstudio.training.checkpoint import load_generator


@dataclass(frozen=True)
class GeneratorSnapshot:
    generator: nn.Module  # CPU, float32, eval mode, no gradients
    latent_dim: int
    image_shape: tuple[int, int, int]  # (C, H, W)
    step: int
    source: str  # in words: "live training, step 1,300" or a checkpoint file name
    config: RunConfig
    checkpoint: Path | None = None

    @classmethod
    def of_family(cls, family: Family, step: int, config: RunConfig) -> GeneratorSnapshot:
        """Copy ``family``'s generator now (call between training steps, on the training thread)."""
        generator = copy.deepcopy(family.generator).float().cpu().eval().requires_grad_(False)
        for p in generator.parameters():
            p.grad = None
        return cls(generator, family.latent_dim, family.image_shape, step, f"live training, step {step:,}", config)

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> GeneratorSnapshot:
        """Load a checkpoint's generator (run folder = its latest checkpoint; .json or .safetensors)."""
        family, info, _ = load_generator(path, torch.device("cpu"))
        generator = family.generator.float().eval().requires_grad_(False)
        return cls(generator, family.latent_dim, family.image_shape, info.step,
                   f"{info.json_path.stem} (step {info.step:,})", RunConfig.from_dict(info.config), info.json_path)

    @torch.no_grad()
    def images(self, z: np.ndarray | torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """(N, C, H, W) float32 in [-1, 1] for z (N, latent_dim)."""
        z = torch.as_tensor(np.asarray(z, np.float32)).reshape(-1, self.latent_dim)
        return torch.cat([self.generator(chunk).float() for chunk in z.split(batch_size)])

    def render(self, z: np.ndarray | torch.Tensor) -> np.ndarray:
        """(N, H, W, C) uint8 for z (N, latent_dim)."""
        return to_uint8(self.images(z))
