"""Choosing the device: ``auto`` takes CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import torch

from ganstudio.errors import ConfigError

# torch's intra-op thread count for a new thread is a process-wide value that any thread's
# set_num_threads changes (the explorer's render thread asks for 1); training sets its own from this.
DEFAULT_CPU_THREADS = torch.get_num_threads()


def select_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device '{name}'; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"CUDA was asked for, but this torch ({torch.__version__}) sees no CUDA device; "
                          f"use --device auto or cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(f"there is no {device}: {torch.cuda.device_count()} CUDA device(s) found")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("Apple MPS was asked for, but it is not available here; use --device auto or cpu")
    return device


def describe_device(device: torch.device) -> str:
    """In words, e.g. "CUDA: NVIDIA H100 80GB HBM3", "Apple MPS", "CPU (2 threads)"."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads > 1 else ''})"


def tune_for(device: torch.device) -> None:
    """Process-wide settings for training on ``device``. CUDA: cuDNN picks the fastest convolution algorithms
    for the run's fixed batch shapes once (``cudnn.benchmark``), and float32 matmuls and convolutions use
    TF32 tensor cores (10-bit mantissa products, float32 accumulation: the precision GAN training needs,
    at several times the speed on Ampere and later)."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
