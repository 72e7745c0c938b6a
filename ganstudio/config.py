"""Run configuration: three frozen dataclasses with a JSON round-trip.

A run is fully described by a :class:`RunConfig`; it is written to ``config.json`` in the run folder
and read back on resume, so every field is a plain JSON value.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganstudio.errors import ConfigError

IMAGE_SIZES = (16, 28, 32, 64, 128, 256)  # each family says which of these it builds for
# How unpaired images get inputs (source -> image pairs): transforms of any image (ganstudio.data.pairs),
# and "relight", which only the drawn faces can make (the same face lit from the other side).
PAIR_TRANSFORMS = ("edges", "grey", "blur", "downscale", "relight")
DRAWN_PAIRS = {"relight": "faces"}  # pairings one data set draws itself -> that data set
PAIRED_DATASETS = ("pairs",)  # data sets whose items come with their inputs
# Factors that split the drawn faces into two unpaired domains (``--domains``), e.g. serious | smiling.
DOMAIN_FACTORS = ("smile", "hair_color", "yaw", "light")
# Feature networks of the quality measures (ganstudio.metrics.features): a net trained on the run's data,
# torchvision's ImageNet Inception-v3, and the TF Inception-v3 of published FIDs (torch-fidelity).
FEATURE_KINDS = ("domain", "inception", "inception_standard")


def _whole_numbers(config: Any) -> None:
    """Turn the integer settings given as whole floats (1.0, as JSON or a NAME=VALUE option may) or numpy
    integers into ints; any other value in them is a ConfigError naming the setting."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.type not in ("int", "int | None") or value is None or type(value) is int:
            continue
        whole = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise ConfigError(f"{f.name.replace('_', ' ')} must be a whole number, not {value!r}")
        object.__setattr__(config, f.name, int(value))


@dataclass(frozen=True)
class DataConfig:
    """Which images to train on, at which size."""

    dataset: str = "faces"
    image_size: int = 28
    channels: int = 1
    root: str | None = None  # torchvision root or image folder; None: the data set's default
    num_images: int | None = None  # None: the data set's default (faces: 60k up to 32 px, else 20k)
    labels: bool = False  # image folders: sub-folders are class labels
    seed: int = 0  # procedural data sets are drawn from this seed
    pair_from: str | None = None  # paired data: each image's input made by this transform (data/pairs.py)
    domains: str | None = None  # faces: two unpaired domains split by this factor (DOMAIN_FACTORS)
    attributes_file: str | None = None  # image folders: a file of binary attributes per image (CelebA's layout)
    # Image folders: keep each image at its own size (super-resolution crops image_size patches from them);
    # the engine sets it for families that train on crops.
    full_size: bool = False
    # Speech (SEGAN): examples of this many samples at 16 kHz (the paper: 16,384, about 1 s), the noises
    # mixed into the clean speech (data/noise.py NOISES, or "folder" with noise_root) at these SNRs in dB.
    window: int = 4096
    noises: tuple[str, ...] = ("babble", "white")
    snrs: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0)
    noise_root: str | None = None  # a folder of noise WAVs (the "folder" noise)

    def __post_init__(self) -> None:
        _whole_numbers(self)
        object.__setattr__(self, "noises", tuple(self.noises))
        object.__setattr__(self, "snrs", tuple(float(s) for s in self.snrs))
        if self.window < 1024 or self.window & (self.window - 1):
            raise ConfigError(f"the audio window must be a power of two of at least 1,024 samples, not {self.window}")
        if not self.noises or not self.snrs:
            raise ConfigError("speech needs at least one noise and one SNR")
        if "folder" in self.noises and self.noise_root is None:
            raise ConfigError("the folder noise needs a folder of noise WAVs (--noise-root)")
        if self.image_size not in IMAGE_SIZES:
            raise ConfigError(f"image size must be one of {', '.join(map(str, IMAGE_SIZES))}, not {self.image_size}")
        if self.pair_from is not None and self.pair_from not in PAIR_TRANSFORMS:
            raise ConfigError(f"--pair-from must be one of {', '.join(PAIR_TRANSFORMS)}, not '{self.pair_from}'")
        if self.pair_from is not None and self.dataset in PAIRED_DATASETS:
            raise ConfigError(f"the {self.dataset} data set brings its own inputs; --pair-from makes inputs for "
                              "unpaired data")
        if self.pair_from in DRAWN_PAIRS and self.dataset != DRAWN_PAIRS[self.pair_from]:
            raise ConfigError(f"--pair-from {self.pair_from} needs --dataset {DRAWN_PAIRS[self.pair_from]}, which "
                              "draws those pairs; other images pair by edges, grey, blur or downscale")
        if self.domains is not None and (self.dataset != "faces" or self.domains not in DOMAIN_FACTORS):
            raise ConfigError(f"--domains splits the drawn faces by one of {', '.join(DOMAIN_FACTORS)} (not "
                              f"'{self.domains}' on {self.dataset}); two folders of images are --dataset unpaired")
        if self.dataset == "unpaired" and self.pair_from is not None:
            raise ConfigError("--pair-from makes paired data; the unpaired data set is two collections of images")
        if self.domains is not None and self.pair_from is not None:
            raise ConfigError("--domains makes two unpaired collections; it does not go with --pair-from")
        if self.attributes_file is not None and self.dataset != "folder":
            raise ConfigError("--attributes reads a file of attributes for the images of --dataset folder")
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 (grey) or 3 (RGB), not {self.channels}")
        if self.num_images is not None and self.num_images < 1:
            raise ConfigError("the number of images must be at least 1")


@dataclass(frozen=True)
class ModelConfig:
    """Which GAN family, and its size. ``width`` None means the family's (tutorial) default.

    The app starts with a DCGAN of width 32: on a CPU it trains as fast as the tutorial's MLP GAN and
    learns clean faces with a turnable head within minutes (tests/benchmarks/face_directions.py).
    """

    family: str = "dcgan"
    latent_dim: int = 100
    width: int | None = 32
    options: dict[str, float] = field(default_factory=dict)  # the family's own settings, e.g. n_critic
    class_names: tuple[str, ...] = ()  # label-taking families: the data's classes, set when a run starts
    # Families that translate into domains: the data's two domains (A, B) or its attributes (StarGAN),
    # set when a run starts.
    domain_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _whole_numbers(self)
        object.__setattr__(self, "options", dict(self.options))
        object.__setattr__(self, "class_names", tuple(self.class_names))
        object.__setattr__(self, "domain_names", tuple(self.domain_names))
        if self.latent_dim < 1:
            raise ConfigError("the latent size must be at least 1")
        if self.width is not None and self.width < 1:
            raise ConfigError("the width must be at least 1")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. Defaults are the tutorial's: batch 60, Adam 2e-4, betas (0.5, 0.999)."""

    epochs: int = 5
    max_steps: int | None = None  # stop after this many steps in total (overrides epochs if smaller)
    max_minutes: float | None = None  # wall-clock limit for this session of the run
    batch_size: int = 60
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    order_seed: int | None = None  # seed of the data order; None: seed (a rollback with new noise sets it)
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    amp: bool = True  # bf16 autocast on CUDA, and on CPUs with bf16 for families that measured it (Family.cpu_bf16)
    threads: int | None = None  # torch intra-op threads on the CPU; None: torch's default
    sample_every: int = 200  # steps between sample grids
    num_samples: int = 64  # fixed z for the sample grid (8x8)
    checkpoint_every: int = 1000  # steps between checkpoints (one is always saved at the end)
    eval_every: int = 1000  # steps between quality evaluations (FID, KID, precision/recall); 0: off
    eval_samples: int = 1000  # generated and real images per evaluation
    eval_features: str = "domain"  # one of FEATURE_KINDS (the Inceptions fall back to domain when unavailable)
    stop_after_no_improvement: int = 0  # stop when the FID has not improved for this many evaluations; 0: never
    keep_checkpoints: int = 3
    tensorboard: bool = True  # also TensorBoard event files under RUN/tb/, when the tensorboard extra is installed
    world_size: int = 1  # processes sharing each batch (torchrun); recorded by the engine, not chosen

    def __post_init__(self) -> None:
        _whole_numbers(self)
        positive = ("epochs", "batch_size", "sample_every", "num_samples", "checkpoint_every",
                    "keep_checkpoints")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', ' ')} must be at least 1")
        if self.eval_every < 0 or self.stop_after_no_improvement < 0:
            raise ConfigError("eval every and stop after no improvement must be 0 (off) or more")
        if self.eval_samples < 10:
            raise ConfigError("eval samples must be at least 10")
        if self.eval_features not in FEATURE_KINDS:
            raise ConfigError(f"eval features must be one of {', '.join(FEATURE_KINDS)}, not {self.eval_features}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError("max steps must be at least 1")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise ConfigError("max minutes must be positive")
        for name in ("lr_g", "lr_d"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1)")


@dataclass(frozen=True)
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        """Build from a dict, rejecting unknown keys (a typo must not pass silently)."""
        parts = {}
        for name, part_cls in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
            values = dict(d.get(name, {}))
            known = {f.name for f in dataclasses.fields(part_cls)}
            unknown = sorted(set(values) - known)
            if unknown:
                raise ConfigError(f"unknown {name} settings: {', '.join(unknown)}")
            parts[name] = part_cls(**values)
        return cls(**parts)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        try:
            return cls.from_json(Path(path).read_text())
        except (OSError, json.JSONDecodeError, TypeError) as e:
            raise ConfigError(f"cannot read the run configuration {path}: {e}") from None

    def replace(self, **parts: Any) -> RunConfig:
        """``cfg.replace(train=cfg.train.__class__(...))`` or per-part field dicts:
        ``cfg.replace(train={"epochs": 3})``."""
        updated = {}
        for name, value in parts.items():
            current = getattr(self, name)
            updated[name] = dataclasses.replace(current, **value) if isinstance(value, dict) else value
        return dataclasses.replace(self, **updated)
