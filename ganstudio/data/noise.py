"""Noises to bury speech in, and mixing at a signal-to-noise ratio.

white, pink (1/f power), brown (1/f²), hum (mains at 50 or 60 Hz with harmonics, slowly wavering) and
babble (8-16 other synthesised speakers talking at once); a folder of noise WAVs adds recorded ones."""

from __future__ import annotations

import numpy as np

from ganstudio.audio import SAMPLE_RATE
from ganstudio.data.voices import speaking

NOISES = ("white", "pink", "brown", "hum", "babble")
SNRS_DB = (0.0, 5.0, 10.0, 15.0)  # SEGAN section 4 (the test set: 2.5, 7.5, 12.5, 17.5)
# Babble is a crowd (NOISEX-92's: a canteen of ~100 people); with three to six talkers it is competing speech,
# which asks for separating voices rather than removing noise.
BABBLE_TALKERS = (8, 16)


def make_noise(kind: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """``length`` samples of one of ``NOISES``, float64 with unit RMS."""
    if kind == "white":
        x = rng.standard_normal(length)
    elif kind in ("pink", "brown"):
        spectrum = np.fft.rfft(rng.standard_normal(length))
        f = np.fft.rfftfreq(length, 1 / SAMPLE_RATE)
        slope = 0.5 if kind == "pink" else 1.0  # amplitude ∝ f^-slope: power 1/f or 1/f²
        spectrum *= np.maximum(f, 20.0) ** -slope
        x = np.fft.irfft(spectrum, length)
    elif kind == "hum":
        t = np.arange(length) / SAMPLE_RATE
        mains = rng.choice([50.0, 60.0]) * (1 + 0.002 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t))
        phase = 2 * np.pi * np.cumsum(mains) / SAMPLE_RATE
        x = sum(rng.uniform(0.2, 1) / k * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) for k in range(1, 8))
        x = x + 0.05 * rng.standard_normal(length)
    elif kind == "babble":
        talkers = rng.integers(BABBLE_TALKERS[0], BABBLE_TALKERS[1] + 1)
        x = sum(speaking(length, rng).astype(np.float64) for _ in range(talkers))
    else:
        raise ValueError(f"unknown noise '{kind}'; choose one of {', '.join(NOISES)}")
    return x / max(float(np.sqrt(np.mean(x**2))), 1e-12)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> tuple[np.ndarray, np.ndarray]:
    """(noisy, clean): clean + noise scaled so that 10·log10(P_clean / P_noise) = snr_db (powers over the
    whole clip); both scaled down together if the mix would clip, so clean stays the speech in noisy. float32."""
    p_clean = float(np.mean(np.square(clean, dtype=np.float64)))
    p_noise = max(float(np.mean(np.square(noise, dtype=np.float64))), 1e-20)
    mix = clean + noise * np.sqrt(p_clean / p_noise / 10 ** (snr_db / 10))
    peak = float(np.max(np.abs(mix))) if len(mix) else 0.0
    gain = 0.99 / peak if peak > 0.99 else 1.0
    return (mix * gain).astype(np.float32), (clean * gain).astype(np.float32)
