"""Quality of a speech enhancer on held-out (noisy, clean) clips, measured against the clean speech:

    snr            10·log10(Σ clean² / Σ (clean − enhanced)²), dB, the mean over clips
    segsnr         segmental SNR (Hansen & Pellom 1998, as in Loizou's composite measures that SEGAN reports):
                   the SNR of each 30 ms frame (75 % overlap, Hann window), clipped to [−10, 35] dB, averaged
    snr_noisy, segsnr_noisy      the same for the noisy input (what enhancement starts from)
    snr_gain, segsnr_gain        enhanced − noisy: the improvement (target of the SEGAN issue: segsnr_gain ≥ 5 dB)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ganstudio.audio import SAMPLE_RATE
from ganstudio.data.base import ImageSet
from ganstudio.enhance import enhance_clips
from ganstudio.snapshot import GeneratorSnapshot

FRAME_S = 0.030
SEGMENT_RANGE_DB = (-10.0, 35.0)
BATCH = 64


def snr(clean: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """(N,) dB for (N, L) clips."""
    signal = np.sum(np.square(clean, dtype=np.float64), axis=-1)
    error = np.sum(np.square(clean - estimate.astype(np.float64)), axis=-1)
    return 10 * np.log10(np.maximum(signal, 1e-20) / np.maximum(error, 1e-20))


def segmental_snr(clean: np.ndarray, estimate: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """(N,) dB for (N, L) clips: per-frame SNRs clipped to [-10, 35] dB, their mean (see the module's note)."""
    frame = round(FRAME_S * rate)
    window = torch.hann_window(frame, periodic=False, dtype=torch.float64)
    framed = lambda x: torch.from_numpy(np.asarray(x, np.float64)).unfold(-1, frame, frame // 4) * window
    c, e = framed(clean), framed(estimate)
    signal = c.square().sum(-1)
    error = (c - e).square().sum(-1)
    per_frame = 10 * torch.log10(signal / (error + 1e-20) + 1e-20)
    return per_frame.clamp(*SEGMENT_RANGE_DB).mean(-1).numpy()


def speech_quality(snapshot: GeneratorSnapshot, held: ImageSet, samples: int,
                   check: Callable[[], None] = lambda: None) -> dict[str, float]:
    """The record above on up to ``samples`` held-out clips."""
    noisy = held.noisy[:samples, 0].float().numpy() / 32768
    clean = held.clean[:samples, 0].float().numpy() / 32768
    enhanced = np.concatenate([enhance_clips(snapshot, noisy[i:i + BATCH]) for i in range(0, len(noisy), BATCH)
                               if check() is None])
    record = {}
    for name, measure in (("snr", snr), ("segsnr", segmental_snr)):
        before, after = measure(clean, noisy).mean(), measure(clean, enhanced).mean()
        record |= {name: float(after), f"{name}_noisy": float(before), f"{name}_gain": float(after - before)}
    return record
