"""Sound in and out: mono WAV files at 16 kHz (the standard library's ``wave``), resampling, the paper's
pre-emphasis (SEGAN, arXiv 1703.09452) and log spectrograms. Waveforms are float32 in [-1, 1]; a neutral
module that data, families, metrics, the CLI and the GUI may all import."""

from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.errors import DataError
from ganstudio.fileio import atomic_write_bytes

SAMPLE_RATE = 16_000
PRE_EMPHASIS = 0.95  # SEGAN section 4: "a pre-emphasis filter of coefficient 0.95"


@dataclass(frozen=True)
class Sound:
    """samples: float32 (L,) at ``SAMPLE_RATE``; notes: what reading had to change ("stereo, mixed to mono")."""

    samples: np.ndarray
    notes: tuple[str, ...] = ()


def read_wav(path: str | Path, rate: int = SAMPLE_RATE) -> Sound:
    """A PCM WAV file (8, 16, 24 or 32 bit, any channels and rate) as mono float32 at ``rate``.

    Raises DataError for a file that is not PCM WAV or holds no samples; a file cut short keeps the
    samples it has (noted)."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, source_rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(frames)
    except (wave.Error, EOFError, OSError) as e:
        raise DataError(f"{Path(path).name} is not a PCM WAV file that can be read ({e})") from None
    notes = []
    usable = len(raw) // (channels * width) * channels * width
    if usable < frames * channels * width:
        notes.append("cut short")
    if usable == 0:
        raise DataError(f"{Path(path).name} holds no samples")
    samples = _pcm_to_float(raw[:usable], width).reshape(-1, channels)
    if channels > 1:
        notes.append(f"{channels} channels mixed to mono")
    if width != 2:
        notes.append(f"{8 * width}-bit")
    mono = samples.mean(axis=1, dtype=np.float32)
    if source_rate != rate:
        notes.append(f"{source_rate / 1000:g} kHz resampled")
        mono = resample(torch.from_numpy(mono), source_rate, rate).numpy()
    return Sound(np.ascontiguousarray(mono, dtype=np.float32), tuple(notes))


def _pcm_to_float(raw: bytes, width: int) -> np.ndarray:
    if width == 1:  # unsigned
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
    if width == 2:
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    if width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return (np.where(value >= 1 << 23, value - (1 << 24), value) / float(1 << 23)).astype(np.float32)
    if width == 4:
        return (np.frombuffer(raw, "<i4").astype(np.float64) / 2**31).astype(np.float32)
    raise DataError(f"{8 * width}-bit samples are not PCM this app reads")


def wav_bytes(samples: np.ndarray | torch.Tensor, rate: int = SAMPLE_RATE) -> bytes:
    """(L,) float in [-1, 1] -> a 16-bit mono PCM WAV file's bytes (clipped)."""
    x = torch.as_tensor(samples).detach().float().cpu().flatten().numpy()
    pcm = np.round(np.clip(x, -1, 1 - 1 / 32768) * 32768).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def write_wav(path: str | Path, samples: np.ndarray | torch.Tensor, rate: int = SAMPLE_RATE) -> None:
    """Write (L,) float in [-1, 1] as 16-bit mono PCM, atomically (a kill mid-write leaves no half file)."""
    atomic_write_bytes(path, wav_bytes(samples, rate))


def resample(x: torch.Tensor, source_rate: int, rate: int, zero_crossings: int = 16) -> torch.Tensor:
    """(..., L) at ``source_rate`` -> (..., ⌈L·rate/source_rate⌉) at ``rate``: band-limited (windowed-sinc)
    interpolation, the low-pass at 0.95 of the lower Nyquist, a Hann window over ``zero_crossings``."""
    if source_rate == rate:
        return x
    g = math.gcd(source_rate, rate)
    up, down = rate // g, source_rate // g  # output phases per block, input samples per block
    cutoff = 0.95 * min(up, down)  # in units of the block's sample spacing
    half = math.ceil(zero_crossings * down / cutoff)
    # For output phase j, the input taps sit at offsets k - j·down/up, k = -half .. half + down.
    taps = torch.arange(-half, half + down, dtype=torch.float64)[None, :] - torch.arange(up)[:, None] * down / up
    t = taps * cutoff / down
    window = torch.where(t.abs() <= zero_crossings, torch.cos(t * math.pi / zero_crossings / 2) ** 2, 0.0)
    kernel = (torch.sinc(t) * window * cutoff / down).float()  # (up, taps)
    shape, length = x.shape[:-1], x.shape[-1]
    flat = F.pad(x.reshape(-1, 1, length).float(), (half, half + down))
    out = F.conv1d(flat, kernel[:, None, :], stride=down)  # (B, up, blocks)
    out = out.transpose(1, 2).reshape(len(flat), -1)
    return out[:, : math.ceil(length * up / down)].reshape(*shape, -1)


def pre_emphasis(x: torch.Tensor, coefficient: float = PRE_EMPHASIS) -> torch.Tensor:
    """y[n] = x[n] − a·x[n−1] over the last axis (x[−1] = 0)."""
    return torch.cat([x[..., :1], x[..., 1:] - coefficient * x[..., :-1]], dim=-1)


def de_emphasis(y: torch.Tensor, coefficient: float = PRE_EMPHASIS) -> torch.Tensor:
    """The inverse of ``pre_emphasis``: x[n] = y[n] + a·x[n−1], as a convolution with a^k (k < 512; a^512
    is below 1e-11 for a = 0.95)."""
    length = min(512, y.shape[-1])
    kernel = coefficient ** torch.arange(length - 1, -1, -1, dtype=torch.float64)
    flat = F.pad(y.reshape(-1, 1, y.shape[-1]).float(), (length - 1, 0))
    return F.conv1d(flat, kernel.float().view(1, 1, -1)).reshape(y.shape)


def log_spectrogram(x: torch.Tensor, n_fft: int = 512, hop: int = 128, floor_db: float = -80.0) -> torch.Tensor:
    """(..., L) -> (..., n_fft/2 + 1, frames) power in dB re full scale, floored at ``floor_db``
    (Hann window; frequency rises with the row)."""
    shape = x.shape[:-1]
    spec = torch.stft(x.reshape(-1, x.shape[-1]).float(), n_fft, hop, window=torch.hann_window(n_fft, device=x.device),
                      return_complex=True, center=True)
    power = spec.abs().square() / (torch.hann_window(n_fft).sum() / 2) ** 2
    return (10 * torch.log10(power.clamp_min(10 ** (floor_db / 10)))).reshape(*shape, *spec.shape[1:])


def spectrogram_images(clips: torch.Tensor, size: int, channels: int = 1, floor_db: float = -80.0) -> torch.Tensor:
    """(N, 1, L) float waveforms -> (N, channels, size, size) uint8 pictures of their log spectrograms,
    ``floor_db``..0 dB from black to white, low frequencies at the bottom."""
    pictures = []
    for chunk in clips.split(256):
        db = log_spectrogram(chunk[:, 0], floor_db=floor_db).flip(1)[:, None]
        shade = F.interpolate((db - floor_db) * (255 / -floor_db), size=(size, size), mode="area")
        pictures.append(shade.round().clamp(0, 255).to(torch.uint8).expand(-1, channels, -1, -1))
    return torch.cat(pictures).contiguous()
