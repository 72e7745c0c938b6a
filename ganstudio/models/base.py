"""The interface every GAN family implements, so the engine, CLI and GUI need no per-family code.

A family owns its networks and optimisers and knows how one training step runs. It declares what a
batch must hold (``needs``: named tensors, see ``ganstudio.data.base``), what its generator reads
(``generator_inputs``: a latent z, a class, a source image), the run's fixed inputs and how its sample
grid is laid out, what it reports (``metrics``), and its default hyper-parameters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ganstudio.config import DataConfig, ModelConfig, TrainConfig
from ganstudio.data.base import IMAGE, LABEL, ImageSet
from ganstudio.distributed import batch_randn
from ganstudio.errors import ConfigError

Z = "z"  # a generator input: (N, latent_dim) float32 from N(0, I)
# A generator input: (N, K) float32, the domain code the output should have: StarGAN's target attributes;
# K = 1 for the two-domain families (1: translate into domain B, 0: into domain A).
TARGET = "target"
Tensors = Mapping[str, torch.Tensor]  # named tensors: a batch, a generator's inputs
NEEDS_CLASSES = ("{name} is conditional and needs a data set with at least two classes: MNIST, Fashion-MNIST, "
                 "faces, or an image folder with one sub-folder per class")


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
    zero_means: str = ""  # a word for what 0 stands for, where it is not a value but "choose for me"
    # The value of runs saved before the option or its present default existed (None: ``default``): their
    # configs lack the key, and they must load, render and resume as they trained (``saved_config``).
    earlier: float | None = None


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX): there oneDNN's bf16 convolutions are
    ~1.5x faster than fp32 (SEGAN's step on a 2-core Zen 4: 235 against 345 ms)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu has no public probe yet
    return torch.backends.mkldnn.is_available() and any(getattr(torch.cpu, name, lambda: False)() for name in probes)


# TrainConfig fields a family may set its own defaults for (``Family.train_defaults``): the paper's
# optimiser, and how often a family with slow steps shows and measures itself.
FAMILY_TRAIN_FIELDS = ("batch_size", "lr_g", "lr_d", "beta1", "beta2", "sample_every", "eval_every")


class Family(ABC):
    """A GAN family bound to one image shape and device.

    Images are (N, C, H, W) float32 in [-1, 1]; latents are (N, latent_dim) float32 from N(0, I).
    A batch holds the names in ``needs``; the generator's forward takes ``generator_inputs`` in order.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    metrics: ClassVar[tuple[MetricInfo, ...]]
    options: ClassVar[tuple[FamilyOption, ...]] = ()
    train_overrides: ClassVar[dict[str, float]] = {}  # the paper's optimiser settings, e.g. {"lr_g": 1e-4}
    needs: ClassVar[frozenset[str]] = frozenset({IMAGE})
    # Also train in bf16 on CPUs with bf16 arithmetic (``cpu_has_bf16``): set where measured to learn as well in
    # the same time (elsewhere bf16's 8-bit mantissa is an untested risk, and emulated bf16 is slower than fp32).
    cpu_bf16: ClassVar[bool] = False
    generator_inputs: ClassVar[tuple[str, ...]] = (Z,)
    image_sizes: ClassVar[tuple[int, ...]] = (28, 32, 64)  # the sizes its networks are built for
    can_encode: ClassVar[bool] = False  # has an encoder: real image -> z
    channels_last: ClassVar[bool] = False  # conv families: NHWC batches are faster on CPUs and GPUs
    # The health monitor's "discriminator is winning" alarm: D's loss ("loss_d") below this for a while.
    # Only meaningful for the BCE objective; None turns the alarm off.
    winning_loss_floor: ClassVar[float | None] = None
    # Trains on random square crops of the data's images at their own sizes (super-resolution), not on
    # the images resized to image_size (data/photos.py).
    trains_on_crops: ClassVar[bool] = False
    default_dataset: ClassVar[str] = "faces"  # the built-in data it trains on when none is chosen

    def __init__(self, data: DataConfig, model: ModelConfig, train: TrainConfig, device: torch.device | str):
        self.data_cfg, self.model_cfg, self.train_cfg = data, model, train
        self.device = torch.device(device)
        if data.image_size not in self.image_sizes:
            raise ConfigError(f"{self.name} is built for images of {', '.join(map(str, self.image_sizes))} px, "
                              f"not {data.image_size}")
        self.image_shape = (data.channels, data.image_size, data.image_size)
        self.latent_dim = model.latent_dim
        default_width = self.default_width()
        self.width = (model.width or default_width) if default_width is not None else None
        self.settings = self.resolve_options(model.options)
        self.class_names = model.class_names
        if self.takes(LABEL) and len(self.class_names) < 2:
            raise ConfigError(NEEDS_CLASSES.format(name=self.name))

    @classmethod
    def data_settings(cls, data: DataConfig) -> DataConfig:
        """The data settings this family trains on: image folders at their own size for one that crops."""
        if cls.trains_on_crops and data.dataset == "folder" and not data.full_size:
            return dataclasses.replace(data, full_size=True)
        return data

    @classmethod
    def takes(cls, name: str) -> bool:
        """Does the generator read input ``name`` (``Z``, ``LABEL``, ``SOURCE``)?"""
        return name in cls.generator_inputs

    @classmethod
    def missing_data(cls, provided: Iterable[str]) -> str | None:
        """What a data set providing ``provided`` lacks for this family, in words; None when it fits."""
        missing = cls.needs - set(provided)
        if not missing:
            return None
        if missing == {LABEL}:
            return NEEDS_CLASSES.format(name=cls.name)
        return f"{cls.name} needs data with {', '.join(sorted(missing))}, which this data set does not provide"

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
        """bf16 autocast when the run asks for mixed precision: on CUDA with bf16 (Ampere and later), and on
        CPUs with bf16 arithmetic for families that set ``cpu_bf16``; a no-op elsewhere."""
        if not self.train_cfg.amp:
            return contextlib.nullcontext()
        if self.device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.autocast("cuda", dtype=torch.bfloat16)
        if self.device.type == "cpu" and self.cpu_bf16 and cpu_has_bf16():
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def precision(self) -> str:
        """What ``autocast`` trains in here: 'bf16' or 'fp32'."""
        with self.autocast():
            return "bf16" if torch.is_autocast_enabled(self.device.type) else "fp32"

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
    def saved_options(cls, options: dict[str, float]) -> dict[str, float]:
        """A saved run's options, with ``earlier`` values for the keys it lacks: runs record every option
        (``Trainer``), so a missing key means the run was saved before that option or its default."""
        return {**{o.key: o.earlier for o in cls.options if o.earlier is not None}, **options}

    @classmethod
    def train_defaults(cls) -> dict[str, float]:
        """Every field of FAMILY_TRAIN_FIELDS: TrainConfig's default unless the family overrides it."""
        base = TrainConfig()
        return {key: cls.train_overrides.get(key, getattr(base, key)) for key in FAMILY_TRAIN_FIELDS}

    @classmethod
    def start_width(cls) -> int | None:
        """The width the app and the CLI start this family with when none is chosen: the app's CPU-friendly
        32 (ModelConfig's default), or None for the family's own default where that is the fast one."""
        return ModelConfig().width

    def default_width(self) -> int | None:
        """The family's base channel count when the config leaves it open (None: the family has no
        width setting and ignores the config's)."""
        return None

    def translator_width(self) -> int:
        """The CPU-friendly width of the image translators: 16 filters up to 32 px, 32 at 64 px, 64 above
        (the papers' 64 is ``--width 64``)."""
        size = self.image_shape[1]
        return 16 if size <= 32 else 32 if size <= 64 else 64

    # -- what the engine and checkpoints see -------------------------------------------------------

    @abstractmethod
    def networks(self) -> dict[str, nn.Module]:
        """Named modules whose weights a checkpoint holds, e.g. {"generator": G, "discriminator": D}."""

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Named optimisers whose state a checkpoint holds."""

    @abstractmethod
    def train_step(self, batch: Tensors) -> dict[str, torch.Tensor]:
        """One optimisation step on a batch (the names in ``needs``, on the device); returns detached
        0-dim metric tensors keyed like ``metrics`` (left on the device: the engine syncs only when it
        reports)."""

    @property
    @abstractmethod
    def generator(self) -> nn.Module:
        """The module that maps ``generator_inputs`` (e.g. z (N, latent_dim)) to images (N, C, H, W)
        in [-1, 1]."""

    @property
    def target_size(self) -> int:
        """K of the (N, K) target domain code the generator reads (families that take ``TARGET``)."""
        return len(self.model_cfg.domain_names)

    @property
    def attribute_reader(self) -> nn.Module | None:
        """A module of the family that reads images' attributes: (N, C, H, W) in [-1, 1] -> (N, K) logits
        (StarGAN's discriminator head), or None."""
        return None

    @property
    def output_scale(self) -> int:
        """How many times larger than its source image the generator's output is (super-resolution: 2 or 4)."""
        return 1

    @property
    def portable_generator(self) -> nn.Module:
        """The generator as ONNX and TorchScript write it (same inputs, same outputs): ``generator``, or an
        equivalent without branches on its inputs' values, which a graph cannot hold."""
        return self.generator

    def upgrade_tensors(self, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A checkpoint's tensors (``net/<network>/<key>``, ...) with what checkpoints of earlier versions lack
        filled in, so that they load and render as they did (e.g. SRGAN's averaged G: G itself)."""
        return tensors

    def interpolation_base(self, step: int) -> nn.Module | None:
        """A second set of generator weights to blend the generator's with (SRGAN's MSE-phase G), or None."""
        return None

    def rendering_networks(self, step: int) -> set[str]:
        """The names in ``networks()`` that rendering reads at ``step`` (the generator, the encoder, the
        interpolation base, the attribute reader, and networks inside them or holding them): what a checkpoint
        must fit to be explored. A discriminator that only trains is not among them."""
        used = [m for m in (self.generator, self.encoder, self.interpolation_base(step), self.attribute_reader)
                if m is not None]
        inside = {id(sub) for module in used for sub in module.modules()}
        roots = {id(module) for module in used}
        return {name for name, net in self.networks().items()
                if id(net) in inside or any(id(sub) in roots for sub in net.modules())}

    def wants_feature_network(self) -> bool:
        """Does its loss read a feature network of images, which the engine then hands over?"""
        return False

    def use_feature_network(self, provide: Callable[[int], nn.Module]) -> None:
        """Families with ``wants_feature_network``: ``provide(step)`` gives the network their loss reads ((N, C, H,
        W) in [-1, 1] -> features); call it when the loss first needs it (it may take a while: it can train one)."""

    @classmethod
    def plot_marks(cls, options: dict[str, float]) -> tuple[tuple[int, str], ...]:
        """(step, label) pairs the plots mark for a run with these options, e.g. where a training phase begins."""
        return ()

    @property
    def encoder(self) -> nn.Module | None:
        """Families with ``can_encode``: images (N, C, H, W) in [-1, 1] -> z (N, latent_dim)."""
        return None

    def health_options(self) -> dict[str, object]:
        """Keyword arguments for the health monitor beyond ``winning_loss_floor`` (e.g. a translation
        family's loss weights and its advice when D wins)."""
        return {}

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

    def replicated_state(self) -> list[torch.Tensor]:
        """Tensors besides the weights that a step updates from its own batch and that the processes of a
        distributed run must agree on (BEGAN's k_t): the engine averages them over the processes after
        each step."""
        return []

    def begin(self, step: int, total_steps: int) -> None:
        """Called before a session's first step: it starts at ``step`` of a run of ``total_steps``
        (families with a learning-rate schedule plan it here, from the optimisers' current rates)."""

    # -- fixed inputs, rendering and the sample grid ----------------------------------------------

    @classmethod
    def held_out_size(cls, data_size: int, num_samples: int) -> int:
        """How many items of the data to keep out of training for the fixed inputs and evaluations
        (0: z families train on everything)."""
        return 0

    @classmethod
    def split_data(cls, data: ImageSet, num_samples: int, seed: int) -> tuple[ImageSet, ImageSet | None]:
        """(training data, held-out data or None): the same split for a run, its CLI and its explorer."""
        count = cls.held_out_size(len(data), num_samples)
        return data.split(count, seed) if count else (data, None)

    def fixed_inputs(self, num_samples: int, generator: torch.Generator, held_out: Tensors) -> dict[str, torch.Tensor]:
        """The run's fixed generator inputs for its sample grid (about ``num_samples`` items, CPU),
        stored in every checkpoint. z families draw z with ``generator``; families that translate an
        input pick from ``held_out`` (data kept out of training, as a batch: images in [-1, 1])."""
        return self.fixed_inputs_from_z(self.sample_latent(num_samples, generator))

    def fixed_inputs_from_z(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """The fixed inputs around the fixed z (also how a checkpoint from before named inputs,
        which stored only z, is read)."""
        return {Z: z}

    def draw_latent(self, n: int) -> torch.Tensor:
        """A training step's z: (n, latent_dim) float32 on the device (in a distributed run, this process's
        rows of the global batch's z: ``ganstudio.distributed.batch_randn``)."""
        return batch_randn(n, self.latent_dim, device=self.device)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I): (n, latent_dim) float32 on the CPU (move it where it is needed)."""
        return torch.randn(n, self.latent_dim, generator=generator)

    def rendering(self) -> contextlib.AbstractContextManager:
        """The generator's mode while it renders: eval mode (restored afterwards)."""
        return _eval_mode(self.generator)

    @torch.no_grad()
    def render(self, inputs: Tensors, batch_size: int = 256) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1] on the CPU for the generator's inputs (each (N, ...); extra
        names are ignored), in :meth:`rendering` mode."""
        n = len(inputs[self.generator_inputs[0]])
        with self.rendering():
            return torch.cat([
                self.generator(*(inputs[name][start:start + batch_size].to(self.device)
                                 for name in self.generator_inputs)).float().cpu()
                for start in range(0, n, batch_size)])

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z families: images (N, C, H, W) in [-1, 1] on the CPU for z (N, latent_dim) (and labels (N,)
        for conditional ones)."""
        return self.render({Z: z} if labels is None else {Z: z, LABEL: labels})

    def pictures(self, outputs: torch.Tensor) -> torch.Tensor:
        """The rendered outputs as images (N, C, H, W) in [-1, 1]: themselves, or pictures of them (speech:
        spectrograms)."""
        return outputs

    def sounds(self, inputs: Tensors, outputs: torch.Tensor) -> dict[str, np.ndarray] | None:
        """Audio families: the sample grid's clips by name, (N, L) float32 at 16 kHz; None for images."""
        return None

    def sample_tiles(self, inputs: Tensors, outputs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """The sample grid's tiles (M, C, H, W) in [-1, 1], row-major, and its number of columns:
        by default the outputs in a square grid."""
        return outputs, max(1, math.isqrt(len(outputs)))


@contextlib.contextmanager
def _eval_mode(module: nn.Module):
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)
