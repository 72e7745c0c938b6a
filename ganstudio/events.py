"""What the engine tells its listeners. Plain, frozen data: numbers, strings and fresh numpy arrays
(never tensors the training loop will reuse), so events may cross threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class RunStarted:
    run_dir: Path
    device: str  # in words, e.g. "CUDA: NVIDIA H100, bf16" or "CPU (2 threads)"
    start_step: int
    total_steps: int
    steps_per_epoch: int
    metric_keys: tuple[str, ...]
    resumed: str | None = None  # a resumed run: what the resume changed, in words ("" for nothing)


@dataclass(frozen=True)
class StepReport:
    """Means over the steps since the last report."""

    step: int  # completed optimisation steps
    epoch: float  # fractional epochs done, e.g. 2.5
    total_steps: int
    metrics: dict[str, float]
    images_per_s: float
    elapsed_s: float  # this session's wall time
    eta_s: float | None


@dataclass(frozen=True)
class SamplesReport:
    step: int
    images: np.ndarray = field(repr=False)  # (N, H, W, C) uint8, generated from the run's fixed z
    path: Path | None = None  # the grid PNG in the run folder
    sefa: dict[str, float] = field(default_factory=dict)  # SefaTracker's record at this step, if any
    # Audio families: named (N, L) float32 waveforms at 16 kHz, e.g. {"noisy", "enhanced", "clean"}; else None.
    sounds: dict[str, np.ndarray] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class QualityReport:
    """One quality evaluation (ganstudio.metrics.evaluate) of the generator as it was at ``step``."""

    step: int
    values: dict[str, float]  # fid_<features>, kid_<features>, precision_..., recall_..., coverage_...
    features: str  # which feature network, in words
    seconds: float  # how long the evaluation took


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: Path


@dataclass(frozen=True)
class StatusMessage:
    """What the run is busy with when it is not training, e.g. preparing the quality measures."""

    step: int
    message: str


@dataclass(frozen=True)
class TrainingWarning:
    step: int
    kind: str  # short id, e.g. "batch_clamped", "data"
    message: str  # a plain sentence: what happened and what to try


@dataclass(frozen=True)
class RunEnded:
    step: int
    reason: str  # "finished" | "stopped" | "time_limit" | "no_improvement" | "diverged" | "failed"
    message: str = ""
    checkpoint: Path | None = None


def format_duration(seconds: float | None) -> str:
    """"mm:ss", or "h:mm:ss" from an hour on; "--:--" when unknown."""
    if seconds is None or seconds != seconds:
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"
