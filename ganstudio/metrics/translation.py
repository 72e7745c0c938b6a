"""Quality of an image-to-image generator on held-out pairs (source, target):

    heldout_l1   mean |output − target| with pixels in [-1, 1] (the training curve's L1, on unseen pairs)
    psnr         peak signal-to-noise ratio, dB, the mean over images of 10·log10(255² / MSE)
    ssim         structural similarity (Wang et al. 2004: 11×11 Gaussian window, σ 1.5, K = 0.01, 0.03),
                 the mean over images and channels
    fid_<net>    Fréchet distance between the features of the outputs and of the targets: are the
                 outputs sharp and real-looking, which L1, PSNR and SSIM do not reward (pix2pix, section 4.2)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.data.base import ImageSet
from ganstudio.metrics.features import FeatureNetwork
from ganstudio.metrics.frechet import frechet_distance
from ganstudio.snapshot import GeneratorSnapshot

BATCH = 64


def translate_all(snapshot: GeneratorSnapshot, sources: np.ndarray, check: Callable[[], None] = lambda: None,
                  target: np.ndarray | float | None = None) -> np.ndarray:
    """(N, H, W, C') uint8 -> (N, H, W, C) uint8, batch by batch, ``check()`` between batches; ``target``
    (families with a target domain): one code for all, or (N, K) codes."""
    out = []
    for start in range(0, len(sources), BATCH):
        check()
        codes = target[start:start + BATCH] if isinstance(target, np.ndarray) and target.ndim == 2 else target
        out.append(snapshot.translate(sources[start:start + BATCH], target=codes))
    return np.concatenate(out)


def psnr(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N,) dB for (N, H, W, C) uint8 pairs (capped at 100 dB for identical images)."""
    mse = ((outputs.astype(np.float64) - targets) ** 2).reshape(len(outputs), -1).mean(1)
    return np.minimum(10 * np.log10(255.0**2 / np.maximum(mse, 1e-10)), 100.0)


def ssim(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N,) SSIM in [-1, 1] for (N, H, W, C) uint8 pairs: the mean SSIM map over pixels and channels
    (valid region of the 11×11 Gaussian window, σ 1.5; Wang et al. 2004)."""
    x, y = (torch.from_numpy(a).permute(0, 3, 1, 2).double() for a in (outputs, targets))
    channels = x.shape[1]
    t = torch.arange(11, dtype=torch.float64) - 5
    g = torch.exp(-t.square() / (2 * 1.5**2))
    window = (g[:, None] * g[None, :] / g.sum() ** 2).expand(channels, 1, 11, 11)
    blur = lambda a: F.conv2d(a, window, groups=channels)  # noqa: E731
    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y = blur(x * x) - mu_x**2, blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    score = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return score.mean(dim=(1, 2, 3)).numpy()


def translation_quality(snapshot: GeneratorSnapshot, sources: np.ndarray, targets: np.ndarray,
                        features: FeatureNetwork, check: Callable[[], None] = lambda: None) -> dict[str, float]:
    """The record above for held-out (N, H, W, C') uint8 sources and (N, H, W, C) uint8 targets."""
    outputs = translate_all(snapshot, sources, check)
    l1 = np.abs(outputs.astype(np.float32) - targets).mean() / 127.5
    fid = frechet_distance(features.features(targets, check=check), features.features(outputs, check=check))
    return {"heldout_l1": float(l1), "psnr": float(psnr(outputs, targets).mean()),
            "ssim": float(ssim(outputs, targets).mean()), f"fid_{features.name}": fid}


def held_out_quality(snapshot: GeneratorSnapshot, held: ImageSet, features: FeatureNetwork, samples: int,
                     check: Callable[[], None] = lambda: None) -> dict[str, float]:
    """The quality record of a translating family on the data it held out: pairs (pix2pix), two domains
    (CycleGAN, DiscoGAN), attributes (StarGAN), high-resolution patches (SRGAN) or speech (SEGAN); up to
    ``samples`` items."""
    from ganstudio.metrics.domains import attribute_quality, unpaired_quality
    from ganstudio.metrics.speech import speech_quality
    from ganstudio.metrics.superres import super_resolution_quality

    if snapshot.enhances:
        return speech_quality(snapshot, held, samples, check)
    if snapshot.scale > 1:
        return super_resolution_quality(snapshot, held, features, samples, check)
    if held.domains is not None and snapshot.takes_target:
        return unpaired_quality(snapshot, held, features, samples, check)
    if held.attributes is not None and snapshot.takes_target:
        return attribute_quality(snapshot, held, features, samples, check)
    hwc = lambda t: t[:samples].permute(0, 2, 3, 1).numpy()  # noqa: E731
    return translation_quality(snapshot, hwc(held.sources), hwc(held.images), features, check)
