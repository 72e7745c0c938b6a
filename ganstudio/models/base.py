"""The interface every GAN family implements, so the engine, CLI and GUI need no per-family code.

A family owns its networks and optimisers and knows how one training step runs. It declares what it
reports (``metrics``), whether it needs class labels, and its default hyper-parameters.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ganstudio.config import DataConfig, ModelConfig, TrainConfig


@dataclass(frozen=True)
class MetricInfo:
    """One number a family reports each step, and how the GUI groups it into plots."""

    key: str
    label: str
    plot: str  # metrics with the same plot name share a plot, e.g. "losses", "discriminator"


class Family(ABC):
    """A GAN family bound to one image shape and device.

    Images are (N, C, H, W) float32 in [-1, 1]; latents are (N, latent_dim) float32 from N(0, I).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    metrics: ClassVar[tuple[MetricInfo, ...]]
    takes_labels: ClassVar[bool] = False
    channels_last: ClassVar[bool] = False  # conv families: NHWC batches are faster on CPUs and GPUs

    def __init__(self, data: DataConfig, model: ModelConfig, train: TrainConfig, device: torch.device | str):
        self.data_cfg, self.model_cfg, self.train_cfg = data, model, train
        self.device = torch.device(device)
        self.image_shape = (data.channels, data.image_size, data.image_size)
        self.latent_dim = model.latent_dim
        self.width = model.width or self.default_width()

    def default_width(self) -> int | None:
        """The family's base channel count when the config leaves it open (None: not adjustable)."""
        return None

    # -- what the engine and checkpoints see -------------------------------------------------------

    @abstractmethod
    def networks(self) -> dict[str, nn.Module]:
        """Named modules whose weights a checkpoint holds, e.g. {"generator": G, "discriminator": D}."""

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Named optimisers whose state a checkpoint holds."""

    @abstractmethod
    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """One optimisation step on a batch; returns detached 0-dim metric tensors keyed like
        ``metrics`` (left on the device: the engine syncs only when it reports)."""

    @property
    @abstractmethod
    def generator(self) -> nn.Module:
        """The module that maps z (N, latent_dim) to images (N, C, H, W) in [-1, 1]."""

    def architecture(self) -> dict[str, object]:
        """What a checkpoint must match to be loaded into this family (written to its JSON)."""
        channels, size, _ = self.image_shape
        return {"family": self.name, "image_size": size, "channels": channels,
                "latent_dim": self.latent_dim, "width": self.width}

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I): (n, latent_dim) float32 on the CPU (move it where it is needed)."""
        return torch.randn(n, self.latent_dim, generator=generator)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1] on the CPU for z (N, latent_dim), in eval mode."""
        g = self.generator
        was_training = g.training
        g.eval()
        try:
            out = [g(chunk.to(self.device)).float().cpu() for chunk in z.split(batch_size)]
        finally:
            g.train(was_training)
        return torch.cat(out)
