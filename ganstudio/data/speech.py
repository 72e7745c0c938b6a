"""Speech for SEGAN: clean clips of ``cfg.window`` samples at 16 kHz and the same clips with noise mixed in.

- ``speech``: built in — synthesised voiced speech (data/voices.py), drawn once and cached.
- ``speech-folder``: any folder of WAV files (clean speech), cut into windows.
- ``speech-pairs``: ``noisy/`` and ``clean/`` folders whose WAVs match by name (already mixed).

The first two are mixed with ``cfg.noises`` (data/noise.py, or "folder": the WAVs of ``cfg.noise_root``) at
one of ``cfg.snrs`` per clip, the noise type taking turns. Odd WAVs (stereo, 8/24/32-bit, other rates) are
converted, unreadable or empty ones skipped, and one warning names them. ``images`` holds each clean clip's
log spectrogram (what the data look like in the app; low frequencies at the bottom).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganstudio.audio import read_wav, spectrogram_images
from ganstudio.config import DataConfig
from ganstudio.data import register_dataset
from ganstudio.data.base import DataError, ImageSet
from ganstudio.data.cache import cache_key, load_arrays, save_arrays
from ganstudio.data.noise import NOISES, make_noise, mix_at_snr
from ganstudio.data.voices import speaking

SPEECH_DATASETS = ("speech", "speech-folder", "speech-pairs")  # the data sets below (SEGAN's)
SYNTH_VERSION = 4  # bump whenever the synthesis changes: cached speech is then made again
DEFAULT_CLIPS = 2000
SILENCE_RMS = 10 ** (-60 / 20)  # windows quieter than -60 dBFS carry no speech to enhance
NAMED = 5  # files named in a warning before "and N more"


@register_dataset("speech", "built-in synthesised voiced speech (6 voices) mixed with noise; no download",
                  version=SYNTH_VERSION)
def load_speech(cfg: DataConfig) -> ImageSet:
    """``cfg.num_images`` clips (default 2,000), synthesised and mixed once and cached."""
    n = cfg.num_images or DEFAULT_CLIPS
    _check_noises(cfg)
    key = cache_key(version=SYNTH_VERSION, n=n, window=cfg.window, seed=cfg.seed, noises=cfg.noises, snrs=cfg.snrs)
    arrays = None if "folder" in cfg.noises else load_arrays("speech", key)
    if arrays is None or set(arrays) != {"clean", "noisy", "snr", "noise"} or arrays["clean"].shape != (n, cfg.window):
        rng = np.random.default_rng(cfg.seed)
        clean = np.stack([speaking(cfg.window, rng) for _ in range(n)])
        arrays = _mixed(clean, cfg, rng)
        if "folder" not in cfg.noises:
            save_arrays("speech", key, arrays)
    return speech_set(arrays, cfg, "synthesised speech")


@register_dataset("speech-folder", "a folder of WAV files of clean speech, mixed with noise")
def load_speech_folder(cfg: DataConfig) -> ImageSet:
    """Every WAV under ``cfg.root`` (sorted by path), cut into windows; silent windows left out."""
    root = _root(cfg)
    _check_noises(cfg)
    clips, notes = _read_all(sorted(p for p in root.rglob("*") if p.suffix.lower() == ".wav"), root)
    if not clips:
        raise DataError(f"no readable WAV files in {root}" + (f" ({notes[0]})" if notes else ""))
    clean = np.concatenate([_windows(c, cfg.window) for c in clips.values()])
    clean = clean[np.sqrt(np.mean(clean**2, axis=1)) >= SILENCE_RMS][: cfg.num_images]
    if not len(clean):
        raise DataError(f"the WAV files in {root} are silent (below -60 dBFS) or shorter than half a window")
    arrays = _mixed(clean, cfg, np.random.default_rng(cfg.seed))
    return speech_set(arrays, cfg, root.name, notes)


@register_dataset("speech-pairs", "folders noisy/ and clean/ of WAV files that match by name")
def load_speech_pairs(cfg: DataConfig) -> ImageSet:
    """Clips of ``noisy/x.wav`` with ``clean/x.wav`` (the same relative path, any case of the folder names),
    cut into the same windows; files without a partner and pairs of different lengths are named."""
    root = _root(cfg)
    folders = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    if "noisy" not in folders or "clean" not in folders:
        raise DataError(f"{root} needs two folders, noisy/ and clean/, of WAV files that match by name")
    names = {side: {p.relative_to(folders[side]).as_posix(): p for p in folders[side].rglob("*")
                    if p.suffix.lower() == ".wav"} for side in ("noisy", "clean")}
    common = sorted(names["noisy"].keys() & names["clean"].keys())
    notes = [f"{name} (only in {side}/)" for side, other in (("noisy", "clean"), ("clean", "noisy"))
             for name in sorted(names[side].keys() - names[other].keys())]
    noisy, n_notes = _read_all([names["noisy"][n] for n in common], folders["noisy"])
    clean, c_notes = _read_all([names["clean"][n] for n in common], folders["clean"])
    notes += n_notes + c_notes
    pairs = []
    for name in common:
        if name in noisy and name in clean:
            a, b = noisy[name], clean[name]
            if abs(len(a) - len(b)) > 0.01 * max(len(a), len(b)):
                notes.append(f"{name} (noisy and clean differ in length: {len(a)} vs {len(b)} samples; skipped)")
                continue
            length = min(len(a), len(b))
            pairs.append((_windows(a[:length], cfg.window), _windows(b[:length], cfg.window)))
    if not pairs:
        raise DataError(f"no pair of readable WAV files with the same name in {root}/noisy and {root}/clean")
    noisy_w, clean_w = (np.concatenate(side) for side in zip(*pairs))
    keep = np.sqrt(np.mean(clean_w**2, axis=1)) >= SILENCE_RMS
    noisy_w, clean_w = noisy_w[keep][: cfg.num_images], clean_w[keep][: cfg.num_images]
    if not len(clean_w):
        raise DataError(f"the clean WAV files in {root}/clean are silent or shorter than half a window")
    snr = 10 * np.log10(np.mean(clean_w**2, 1) / np.maximum(np.mean((noisy_w - clean_w) ** 2, 1), 1e-20))
    arrays = {"clean": clean_w, "noisy": noisy_w, "snr": snr.astype(np.float32),
              "noise": np.full(len(clean_w), -1, np.int64)}
    return speech_set(arrays, cfg, root.name, notes)


def speech_set(arrays: dict[str, np.ndarray], cfg: DataConfig, name: str, notes: list[str] = ()) -> ImageSet:
    """The ImageSet of clips (N, L) float in [-1, 1]: int16 waveforms (N, 1, L), spectrogram images, and the
    factors ``snr`` (dB) and ``noise`` (index into cfg.noises; -1 for recorded pairs)."""
    clean = torch.from_numpy(np.round(np.clip(arrays["clean"], -1, 1 - 2**-15) * 32768).astype(np.int16))[:, None]
    noisy = torch.from_numpy(np.round(np.clip(arrays["noisy"], -1, 1 - 2**-15) * 32768).astype(np.int16))[:, None]
    images = spectrogram_images(clean.float() / 32768, cfg.image_size, cfg.channels)
    factors = {"snr": arrays["snr"].astype(np.float32), "noise": arrays["noise"].astype(np.float32)}
    warnings = (_warning(notes),) if notes else ()
    return ImageSet(images, factors=factors, warnings=warnings, name=name, clean=clean, noisy=noisy)


def _mixed(clean: np.ndarray, cfg: DataConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each clean clip (N, L) mixed with a noise (taking turns through cfg.noises) at an SNR drawn from
    cfg.snrs; the clips scaled with their mixes where a mix would clip."""
    recorded = _noise_recordings(cfg) if "folder" in cfg.noises else None
    noisy, scaled = np.empty_like(clean), np.empty_like(clean)
    kinds = np.arange(len(clean)) % len(cfg.noises)
    snr = np.asarray(cfg.snrs, np.float32)[rng.integers(len(cfg.snrs), size=len(clean))]
    for i, clip in enumerate(clean):
        kind = cfg.noises[kinds[i]]
        noise = _segment(recorded, len(clip), rng) if kind == "folder" else make_noise(kind, len(clip), rng)
        noisy[i], scaled[i] = mix_at_snr(clip, noise, float(snr[i]))
    return {"clean": scaled, "noisy": noisy, "snr": snr, "noise": kinds}


def _noise_recordings(cfg: DataConfig) -> np.ndarray:
    root = Path(cfg.noise_root)
    if not root.is_dir():
        raise DataError(f"the noise folder {root} does not exist")
    clips, _ = _read_all(sorted(p for p in root.rglob("*") if p.suffix.lower() == ".wav"), root)
    sound = np.concatenate(list(clips.values())) if clips else np.zeros(0, np.float32)
    if not len(sound) or np.sqrt(np.mean(sound**2)) < SILENCE_RMS:
        raise DataError(f"no readable, audible noise WAV files in {root}")
    return sound


def _segment(sound: np.ndarray, length: int, rng: np.random.Generator, tries: int = 20) -> np.ndarray:
    """A random audible stretch of ``length`` samples of a recording (looped when shorter)."""
    looped = np.tile(sound, -(-length // len(sound)) + 1)
    for _ in range(tries):
        start = rng.integers(len(sound))
        piece = looped[start: start + length].astype(np.float64)
        if np.sqrt(np.mean(piece**2)) >= SILENCE_RMS:
            break
    return piece


def _check_noises(cfg: DataConfig) -> None:
    unknown = [n for n in cfg.noises if n not in (*NOISES, "folder")]
    if unknown:
        raise DataError(f"unknown noise {', '.join(unknown)}; choose from {', '.join(NOISES)} or folder")


def _root(cfg: DataConfig) -> Path:
    if cfg.root is None or not Path(cfg.root).is_dir():
        raise DataError(f"{cfg.dataset} needs a folder (--data-root); {cfg.root!r} is not one")
    return Path(cfg.root)


def _read_all(paths: list[Path], root: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """name (relative to root) -> samples, and notes on the files that were converted or skipped."""
    clips, notes = {}, []
    for path in paths:
        name = path.relative_to(root).as_posix()
        try:
            sound = read_wav(path)
        except DataError as e:
            notes.append(f"{name} (skipped: {str(e).removeprefix(path.name + ' ')})")
            continue
        clips[name] = sound.samples
        if sound.notes:
            notes.append(f"{name} ({', '.join(sound.notes)})")
    return clips, notes


def _windows(samples: np.ndarray, window: int) -> np.ndarray:
    """(L,) -> (⌊L/window⌋ (+1), window): non-overlapping windows; a last part of at least half a window is
    zero-padded, a shorter one dropped."""
    count = len(samples) // window + (len(samples) % window >= window // 2)
    padded = np.zeros(count * window, np.float32)
    padded[: min(len(samples), len(padded))] = samples[: len(padded)]
    return padded.reshape(count, window)


def _warning(notes: list[str]) -> str:
    more = f", and {len(notes) - NAMED} more" if len(notes) > NAMED else ""
    return f"Some WAV files were converted or skipped: {'; '.join(notes[:NAMED])}{more}."
