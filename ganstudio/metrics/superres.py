"""Quality of a super-resolution generator on held-out high-resolution patches, beside bicubic upscaling
of the same low-resolution inputs (the baseline every SR paper reports):

    psnr, psnr_bicubic   dB over the patch (``translation.psnr``)
    ssim, ssim_bicubic   ``translation.ssim``
    sharpness, sharpness_bicubic
                         the mean gradient magnitude of the luminance over the real patches' (1 = as sharp
                         as the real images)
    high_frequency, high_frequency_bicubic
                         the power of the luminance's spectrum above half the Nyquist frequency over the real
                         patches' (1 = as much fine detail as the real images): MSE-trained SR and bicubic
                         fall short (they average the plausible details away), a GAN should not
    fid_<net>            Fréchet distance between the features of the SR outputs and of the real patches
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ganstudio.data.base import ImageSet
from ganstudio.images import to_uint8
from ganstudio.metrics.features import FeatureNetwork
from ganstudio.metrics.frechet import frechet_distance
from ganstudio.metrics.translation import psnr, ssim, translate_all
from ganstudio.models import family_class
from ganstudio.models.srgan import bicubic_upscale, low_resolution
from ganstudio.snapshot import GeneratorSnapshot


def mean_gradient(images: np.ndarray) -> float:
    """The mean gradient magnitude of the luminance of (N, H, W, C) uint8 images, grey levels per pixel."""
    x = images.astype(np.float64)
    luma = x @ np.array([0.299, 0.587, 0.114]) if x.shape[-1] == 3 else x[..., 0]
    dy, dx = np.diff(luma, axis=1)[:, :, :-1], np.diff(luma, axis=2)[:, :-1, :]
    return float(np.sqrt(dx**2 + dy**2).mean())


def high_frequency_power(images: np.ndarray) -> float:
    """The mean power of the luminance spectrum of (N, H, W, C) uint8 images at radial frequencies above
    half the Nyquist frequency (> 0.25 cycles per pixel), each image Hann-windowed."""
    x = images.astype(np.float64)
    luma = x @ np.array([0.299, 0.587, 0.114]) if x.shape[-1] == 3 else x[..., 0]
    h, w = luma.shape[1:]
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2((luma - luma.mean(axis=(1, 2), keepdims=True)) * window)) ** 2
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij"))
    return float(power[:, radius > 0.25].mean())


def low_resolution_inputs(snapshot: GeneratorSnapshot, images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) uint8 real patches -> (N, C, H/s, W/s) float32 in [-1, 1], made as the run made its inputs."""
    options = family_class(snapshot.config.model.family).resolve_options(snapshot.config.model.options)
    return low_resolution(images.float() / 127.5 - 1, snapshot.scale, bool(options.get("bicubic_lr", 1)))


def super_resolution_quality(snapshot: GeneratorSnapshot, held: ImageSet, features: FeatureNetwork, samples: int,
                             check: Callable[[], None] = lambda: None) -> dict[str, float]:
    """The record above for up to ``samples`` held-out patches."""
    real_t = held.images[:samples]
    lr = low_resolution_inputs(snapshot, real_t)
    real = real_t.permute(0, 2, 3, 1).numpy()
    outputs = translate_all(snapshot, to_uint8(lr), check)
    bicubic = to_uint8(bicubic_upscale(lr, snapshot.scale))
    sharpness, detail = mean_gradient(real), high_frequency_power(real)
    fid = frechet_distance(features.features(real, check=check), features.features(outputs, check=check))
    return {"psnr": float(psnr(outputs, real).mean()), "psnr_bicubic": float(psnr(bicubic, real).mean()),
            "ssim": float(ssim(outputs, real).mean()), "ssim_bicubic": float(ssim(bicubic, real).mean()),
            "sharpness": mean_gradient(outputs) / sharpness, "sharpness_bicubic": mean_gradient(bicubic) / sharpness,
            "high_frequency": high_frequency_power(outputs) / detail,
            "high_frequency_bicubic": high_frequency_power(bicubic) / detail,
            f"fid_{features.name}": fid}
