"""The interface every GAN family implements, so the engine, CLI and GUI need no per-family code.

A family owns its networks and optimisers and knows how one training step runs. It declares what it
reports (``metrics``), whether it needs class labels, and its default hyper-parameters.
"""

from __future__ import annotations

import contextlib
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ganstudio.config import DataConfig, ModelConfig, TrainConfig
from ganstudio.errors import ConfigError


@dataclass(frozen=True)
class MetricInfo:
    """One number a family reports each step, and how the GUI groups it into plots."""

    key: str
    label: str
    plot: str  # metrics with the same plot name share a plot, e.g. "losses", "discriminator"


@dataclass(frozen=True)
class FamilyOption:
    """A setting of one family (``ModelConfig.options[key]``), e.g. WGAN's ``n_critic``."""

    key: str
    label: str
    default: float
    minimum: float
    maximum: float
    help: str
    integer: bool = False


@dataclass(frozen=True)
class SampleGrid:
    """How the fixed samples are laid out: ``count`` images in rows of ``columns``; conditional
    families give each row one class (``labels`` (count,) int64), others None."""

    count: int
    columns: int
    labels: torch.Tensor | None = None


# TrainConfig fields a family may set its own defaults for (``Family.train_defaults``).
FAMILY_TRAIN_FIELDS = ("batch_size", "lr_g", "lr_d", "beta1", "beta2")


class Family(ABC):
    """A GAN family bound to one image shape and device.

    Images are (N, C, H, W) float32 in [-1, 1]; latents are (N, latent_dim) float32 from N(0, I).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    metrics: ClassVar[tuple[MetricInfo, ...]]
    options: ClassVar[tuple[FamilyOption, ...]] = ()
    train_overrides: ClassVar[dict[str, float]] = {}  # the paper's optimiser settings, e.g. {"lr_g": 1e-4}
    takes_labels: ClassVar[bool] = False
    can_encode: ClassVar[bool] = False  # has an encoder: real image -> z
    channels_last: ClassVar[bool] = False  # conv families: NHWC batches are faster on CPUs and GPUs
    # The health monitor's "discriminator is winning" alarm: D's loss ("loss_d") below this for a while.
    # Only meaningful for the BCE objective; None turns the alarm off.
    winning_loss_floor: ClassVar[float | None] = None

    def __init__(self, data: DataConfig, model: ModelConfig, train: TrainConfig, device: torch.device | str):
        self.data_cfg, self.model_cfg, self.train_cfg = data, model, train
        self.device = torch.device(device)
        self.image_shape = (data.channels, data.image_size, data.image_size)
        self.latent_dim = model.latent_dim
        default_width = self.default_width()
        self.width = (model.width or default_width) if default_width is not None else None
        self.settings = self.resolve_options(model.options)
        self.class_names = model.class_names
        if self.takes_labels and len(self.class_names) < 2:
            raise ConfigError(f"{self.name} is conditional and needs a data set with at least two classes: "
                              "MNIST, Fashion-MNIST, faces, or an image folder with one sub-folder per class")

    # -- helpers for subclasses ------------------------------------------------------------------------

    def place(self, module: nn.Module) -> nn.Module:
        """``module`` on the family's device (channels-last for conv families)."""
        memory_format = torch.channels_last if self.channels_last else torch.preserve_format
        return module.to(self.device, memory_format=memory_format)

    def adam(self, parameters: Iterable[nn.Parameter], lr: float) -> torch.optim.Adam:
        """Adam with the run's betas, fused where PyTorch has a fused kernel."""
        t = self.train_cfg
        return torch.optim.Adam(parameters, lr=lr, betas=(t.beta1, t.beta2),
                                fused=self.device.type in ("cuda", "cpu"))

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast on CUDA when the run asks for mixed precision; a no-op elsewhere."""
        if self.train_cfg.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @classmethod
    def resolve_options(cls, given: dict[str, float]) -> dict[str, float]:
        """The family's options with ``given`` values applied; ConfigError for unknown or bad ones."""
        known = {o.key: o for o in cls.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            names = ", ".join(known) or "none"
            raise ConfigError(f"{cls.name} has no option {', '.join(unknown)} (its options: {names})")
        values = {}
        for key, option in known.items():
            value = float(given.get(key, option.default))
            if not option.minimum <= value <= option.maximum:
                raise ConfigError(f"{option.label} must be in [{option.minimum:g}, {option.maximum:g}], not {value:g}")
            values[key] = round(value) if option.integer else value
        return values

    @classmethod
    def train_defaults(cls) -> dict[str, float]:
        """Every field of FAMILY_TRAIN_FIELDS: TrainConfig's default unless the family overrides it."""
        base = TrainConfig()
        return {key: cls.train_overrides.get(key, getattr(base, key)) for key in FAMILY_TRAIN_FIELDS}

    def default_width(self) -> int | None:
        """The family's base channel count when the config leaves it open (None: the family has no
        width setting and ignores the config's)."""
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

    @property
    def encoder(self) -> nn.Module | None:
        """Families with ``can_encode``: images (N, C, H, W) in [-1, 1] -> z (N, latent_dim)."""
        return None

    def architecture(self) -> dict[str, object]:
        """What a checkpoint must match to be loaded into this family (written to its JSON)."""
        channels, size, _ = self.image_shape
        return {"family": self.name, "image_size": size, "channels": channels,
                "latent_dim": self.latent_dim, "width": self.width}

    def training_state(self) -> dict[str, float]:
        """Numbers besides weights and optimisers that training depends on (e.g. BEGAN's k_t);
        checkpoints keep them as JSON."""
        return {}

    def load_training_state(self, state: dict[str, float]) -> None:
        """Restore what :meth:`training_state` returned."""

    def sample_grid(self, num_samples: int) -> SampleGrid:
        """The layout of the fixed samples: about ``num_samples`` images in a square grid."""
        columns = max(1, math.isqrt(num_samples))
        return SampleGrid(num_samples, columns)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I): (n, latent_dim) float32 on the CPU (move it where it is needed)."""
        return torch.randn(n, self.latent_dim, generator=generator)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 256) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1] on the CPU for z (N, latent_dim) (and labels (N,) for
        conditional families), in eval mode."""
        g = self.generator
        was_training = g.training
        g.eval()
        try:
            out = []
            for start in range(0, len(z), batch_size):
                chunk = z[start:start + batch_size].to(self.device)
                if self.takes_labels:
                    chunk_labels = labels[start:start + batch_size].to(self.device)
                    out.append(g(chunk, chunk_labels).float().cpu())
                else:
                    out.append(g(chunk).float().cpu())
        finally:
            g.train(was_training)
        return torch.cat(out)
