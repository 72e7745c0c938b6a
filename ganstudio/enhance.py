"""Enhancing speech of any length with a speech-enhancement generator (SEGAN), window by window.

The generator maps windows of the length it was trained on (waveform to waveform; SEGAN's pre- and
de-emphasis are inside it). A longer clip is cut into windows that overlap by half, each window is
enhanced, and the results are overlap-added under a periodic Hann window — the weights of two neighbours
sum to one at every sample, so each join is a crossfade between two estimates of the same stretch, never
a jump. :func:`enhance_files` does it for WAV files and folders
(the CLI's ``ganstudio enhance``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ganstudio.audio import read_wav, write_wav
from ganstudio.data.base import NOISY
from ganstudio.errors import DataError
from ganstudio.models.noise import seeded_noise
from ganstudio.snapshot import GeneratorSnapshot

BATCH = 16


def window_length(snapshot: GeneratorSnapshot) -> int:
    if NOISY not in snapshot.inputs:
        raise ValueError("this model does not enhance speech")
    return snapshot.config.data.window


@torch.no_grad()
def enhance_clips(snapshot: GeneratorSnapshot, noisy: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, L) float noisy clips of the model's window -> (N, L) float32 enhanced; z from ``seed``."""
    x = torch.from_numpy(np.asarray(noisy, np.float32))[:, None]
    with snapshot.on_device(), seeded_noise(snapshot.generator, seed):
        return torch.cat([snapshot.generator(chunk.to(snapshot.device)).float().cpu()
                          for chunk in x.split(BATCH)])[:, 0].numpy()


def window_starts(length: int, window: int) -> list[int]:
    """Starts of the half-overlapping windows over a clip padded by half a window on the left."""
    hop = window // 2
    return list(range(0, length + hop, hop))


@torch.no_grad()
def enhance(snapshot: GeneratorSnapshot, samples: np.ndarray, seed: int = 0,
            progress: Callable[[int, int], None] = lambda done, total: None,
            check: Callable[[], None] = lambda: None) -> np.ndarray:
    """(L,) float noisy speech of any length -> (L,) float32 enhanced, by overlap-add of half-overlapping
    windows (see the module's note). ``progress(done, total)`` after each batch of windows; ``check()``
    before each (it may raise to cancel). z from ``seed``."""
    window = window_length(snapshot)
    hop = window // 2
    x = torch.from_numpy(np.asarray(samples, np.float32))
    length = len(x)
    starts = window_starts(length, window)
    padded = torch.nn.functional.pad(x, (hop, starts[-1] + window - hop - length))
    frames = torch.stack([padded[s: s + window] for s in starts])[:, None]
    taper = torch.hann_window(window, periodic=True)
    out = torch.zeros(len(padded))
    done = 0
    with snapshot.on_device(), seeded_noise(snapshot.generator, seed):
        for chunk, first in ((frames[i:i + BATCH], i) for i in range(0, len(frames), BATCH)):
            check()
            enhanced = snapshot.generator(chunk.to(snapshot.device)).float()[:, 0].cpu() * taper
            for k, piece in enumerate(enhanced):
                s = starts[first + k]
                out[s: s + window] += piece
            done += len(chunk)
            progress(done, len(frames))
    return out[hop: hop + length].clamp(-1, 1).numpy()


def enhance_file(snapshot: GeneratorSnapshot, source: Path, target: Path, seed: int = 0,
                 progress: Callable[[int, int], None] = lambda done, total: None) -> tuple[str, ...]:
    """Enhance one WAV file into ``target`` (16-bit mono, 16 kHz); the notes on what reading converted."""
    sound = read_wav(source)
    write_wav(target, enhance(snapshot, sound.samples, seed, progress))
    return sound.notes


def enhance_files(snapshot: GeneratorSnapshot, source: Path, target: Path, seed: int = 0,
                  report: Callable[[str], None] = print) -> int:
    """A WAV file into a file, or every WAV under a folder into a folder of the same layout. Damaged files are
    named and skipped; returns how many were written. Raises DataError when none could be."""
    if source.is_dir():
        pairs = [(p, target / p.relative_to(source)) for p in sorted(source.rglob("*")) if p.suffix.lower() == ".wav"]
        if not pairs:
            raise DataError(f"no WAV files in {source}")
    else:
        pairs = [(source, target)]
    written = 0
    for src, dst in pairs:
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            notes = enhance_file(snapshot, src, dst, seed)
        except DataError as e:
            report(f"skipped {src}: {e}")
            continue
        written += 1
        report(f"{src} -> {dst}" + (f" ({', '.join(notes)})" if notes else ""))
    if not written:
        raise DataError("no file could be enhanced")
    return written
