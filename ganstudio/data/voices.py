"""Synthesised voiced speech, offline and deterministic: the source-filter model of speech (Fant 1960).

A glottal pulse train (Rosenberg's pulse, differentiated for the lips' radiation) with a pitch contour
(declination, a rise on stressed syllables, slow drift, jitter) and breath noise excites a cascade of
four formant resonances that glide from vowel to vowel (Peterson & Barney's formants); consonants are
noise bursts shaped around a place of articulation; syllables group into words with pauses. The filter
varies every 8 ms, applied in the short-time Fourier domain. Several voices differ in pitch, vocal-tract
length (formant scale), breathiness and speaking rate. Not intelligible speech — but harmonics, formants,
syllable rhythm and silences are where a speech enhancer must find the voice under noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganstudio.audio import SAMPLE_RATE

N_FFT, HOP = 512, 128  # the filter's frames: 32 ms windows every 8 ms
# Formants F1-F4 in Hz for an adult male vocal tract (Peterson & Barney 1952): a, e, i, o, u, schwa.
VOWELS = np.array([[730, 1090, 2440, 3400], [530, 1840, 2480, 3500], [270, 2290, 3010, 3700],
                   [570, 840, 2410, 3400], [300, 870, 2240, 3400], [640, 1190, 2390, 3400]], dtype=np.float64)
BANDWIDTHS = np.array([80.0, 100.0, 140.0, 200.0])
# Consonants: noise centred here (Hz) with this bandwidth; s, sh, f, a plosive burst, h.
CONSONANTS = np.array([[5500, 2500], [3000, 1500], [4500, 5000], [1500, 1500], [1200, 2500]], dtype=np.float64)


@dataclass(frozen=True)
class Voice:
    name: str
    pitch_hz: float
    formant_scale: float  # shorter vocal tracts raise every formant
    breathiness: float  # share of aspiration noise in the source
    syllables_per_s: float


VOICES = (
    Voice("low male", 98, 1.0, 0.03, 4.0), Voice("male", 120, 1.03, 0.05, 4.8),
    Voice("high male", 145, 1.07, 0.04, 5.2), Voice("low female", 185, 1.14, 0.08, 4.4),
    Voice("female", 215, 1.18, 0.10, 5.0), Voice("child", 270, 1.3, 0.07, 4.2),
)


def utterance(length: int, rng: np.random.Generator, voice: Voice | None = None) -> np.ndarray:
    """``length`` samples (float32, at SAMPLE_RATE) of one voice speaking syllables with pauses; RMS over the
    voiced part near −20 dBFS (± 4 dB)."""
    voice = voice or VOICES[rng.integers(len(VOICES))]
    frames = length // HOP + 2
    tracks = _articulation(frames, rng, voice)
    t = np.arange(frames) * HOP
    per_sample = {k: np.interp(np.arange(length), t, v) for k, v in tracks.items() if k in ("pitch", "voicing", "noise")}
    voiced = _glottal_source(per_sample["pitch"], rng) * per_sample["voicing"]
    breath = rng.standard_normal(length) * per_sample["voicing"] * voice.breathiness * 0.3
    frication = rng.standard_normal(length) * per_sample["noise"] * 0.08
    freqs = np.fft.rfftfreq(N_FFT, 1 / SAMPLE_RATE)
    vocal_tract = _formant_gain(freqs, tracks["formants"])  # (frames, bins)
    place = _band_gain(freqs, tracks["noise_centre"], tracks["noise_band"])
    speech = _filter(voiced + breath, vocal_tract, length) + _filter(frication, place, length)
    active = np.abs(speech) > 1e-4
    rms = np.sqrt(np.mean(speech[active] ** 2)) if active.any() else 1.0
    level = 10 ** ((-20 + rng.uniform(-4, 4)) / 20)
    return np.clip(speech * level / rms, -0.99, 0.99).astype(np.float32)


def speaking(window: int, rng: np.random.Generator, voice: Voice | None = None) -> np.ndarray:
    """``window`` samples in which someone speaks: cut at random from a longer utterance (at least 1 s)
    among the stretches with at least a third of the loudest one's RMS."""
    speech = utterance(max(window, SAMPLE_RATE), rng, voice)
    starts = np.arange(0, len(speech) - window + 1, max(1, window // 4))
    rms = np.array([np.sqrt(np.mean(speech[s:s + window] ** 2)) for s in starts])
    start = rng.choice(starts[rms >= rms.max() / 3])
    return speech[start:start + window]


def _articulation(frames: int, rng: np.random.Generator, voice: Voice) -> dict[str, np.ndarray]:
    """Per-frame control tracks: pitch (Hz), voicing and noise amplitude, formants (frames, 4), the noise's
    centre and bandwidth; syllables of (consonant?) + vowel, words of 1-4 syllables, pauses between."""
    fps = SAMPLE_RATE / HOP
    voicing, noise = np.zeros(frames), np.zeros(frames)
    formants = np.tile(VOWELS[5], (frames, 1))
    centre, band = np.full(frames, 3000.0), np.full(frames, 2000.0)
    stress = np.zeros(frames)
    i = int(rng.uniform(0, 0.25) * fps)  # may start mid-silence
    while i < frames:
        for _ in range(rng.integers(1, 5)):  # a word
            if rng.random() < 0.6:  # a consonant first
                c = rng.integers(len(CONSONANTS))
                n = int(rng.uniform(0.03, 0.09) * fps)
                noise[i:i + n] = rng.uniform(0.4, 1.0)
                centre[i:i + n], band[i:i + n] = CONSONANTS[c] * rng.uniform(0.85, 1.15)
                i += n
            n = int(rng.uniform(0.6, 1.4) * fps / voice.syllables_per_s)
            ramp = np.minimum(1, np.minimum(np.arange(n) + 1, n - np.arange(n)) / (0.02 * fps))
            voicing[i:i + n] = (ramp * rng.uniform(0.6, 1.0))[: max(0, min(n, frames - i))]
            formants[i:i + n] = VOWELS[rng.integers(len(VOWELS))] * rng.uniform(0.93, 1.07, 4)
            stress[i:i + n] = rng.random() < 0.3
            i += n
        i += int(rng.uniform(0.04, 0.35) * fps)  # a pause between words
    kernel = np.hanning(int(0.04 * fps) | 1)  # 40 ms of coarticulation
    smooth = lambda x: np.convolve(np.pad(x, len(kernel) // 2, mode="edge"), kernel / kernel.sum(), "valid")
    formants = np.stack([smooth(f) for f in formants.T], 1) * voice.formant_scale
    seconds = np.arange(frames) / fps
    drift = np.cumsum(rng.standard_normal(frames)) * 0.004
    pitch = voice.pitch_hz * rng.uniform(0.92, 1.08) * (1 - 0.12 * seconds / max(seconds[-1], 1e-9)) * (
        1 + 0.15 * smooth(stress) + np.clip(drift, -0.1, 0.1))
    return {"pitch": pitch, "voicing": smooth(voicing), "noise": smooth(noise), "formants": formants,
            "noise_centre": smooth(centre), "noise_band": smooth(band)}


def _glottal_source(pitch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rosenberg's glottal flow pulse (opening 40 % of the period, closing 16 %), differentiated; pitch in Hz
    per sample with 1 % jitter."""
    jitter = 1 + 0.01 * np.repeat(rng.standard_normal(len(pitch) // 64 + 1), 64)[: len(pitch)]
    phase = np.cumsum(pitch * jitter / SAMPLE_RATE) % 1.0
    opening, closing = 0.4, 0.16
    flow = np.where(phase < opening, 0.5 * (1 - np.cos(np.pi * phase / opening)),
                    np.where(phase < opening + closing, np.cos(0.5 * np.pi * (phase - opening) / closing), 0.0))
    return np.diff(flow, prepend=0.0) * 20


def _formant_gain(freqs: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """|H(f)| of four second-order resonators in cascade, unit gain at 0 Hz: (frames, 4) -> (frames, bins)."""
    f = freqs[None, None, :]
    fk = formants[:, :, None]
    bk = BANDWIDTHS[None, :, None] * (fk / VOWELS[5][None, :, None]) ** 0.5
    return np.prod(fk**2 / np.sqrt((fk**2 - f**2) ** 2 + (bk * f) ** 2), axis=1)


def _band_gain(freqs: np.ndarray, centre: np.ndarray, band: np.ndarray) -> np.ndarray:
    """A Gaussian band around each frame's centre: (frames,) -> (frames, bins)."""
    return np.exp(-0.5 * ((freqs[None, :] - centre[:, None]) / (band[:, None] / 2)) ** 2)


def _filter(source: np.ndarray, gain: np.ndarray, length: int) -> np.ndarray:
    """The source filtered by a per-frame magnitude response (frames, bins): Hann-windowed frames every HOP
    samples, scaled in the Fourier domain, overlap-added (weighted overlap-add, numpy: no thread start-up)."""
    window = np.hanning(N_FFT + 1)[:N_FFT]
    padded = np.pad(source, (N_FFT // 2, N_FFT // 2 + HOP))
    count = min((len(padded) - N_FFT) // HOP + 1, len(gain))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count] * window
    shaped = np.fft.irfft(np.fft.rfft(frames, axis=1) * gain[:count], N_FFT, axis=1) * window
    out, norm = np.zeros(len(padded)), np.zeros(len(padded))
    for i in range(N_FFT // HOP):  # add the frames in N_FFT/HOP interleaved groups that do not overlap
        starts = np.arange(i, count, N_FFT // HOP) * HOP
        index = (starts[:, None] + np.arange(N_FFT)).ravel()
        out[index] += shaped[i::N_FFT // HOP].ravel()
        norm[index] += np.tile(window**2, len(starts))
    return (out / np.maximum(norm, 1e-3))[N_FFT // 2: N_FFT // 2 + length]
