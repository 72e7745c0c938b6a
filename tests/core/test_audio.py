"""WAV in and out, resampling, pre-emphasis, the synthesised voices and noise mixing (ganstudio/audio.py,
data/voices.py, data/noise.py)."""

from __future__ import annotations

import wave

import numpy as np
import pytest
import torch

from ganstudio.audio import SAMPLE_RATE, de_emphasis, pre_emphasis, read_wav, resample, write_wav
from ganstudio.data.noise import NOISES, make_noise, mix_at_snr
from ganstudio.data.voices import VOICES, utterance
from ganstudio.errors import DataError


def write_pcm(path, frames: np.ndarray, rate: int = SAMPLE_RATE, width: int = 2, channels: int = 1,
              cut: int = 0) -> None:
    """frames (L, channels) float in [-1, 1] as PCM of ``width`` bytes; ``cut`` bytes dropped from the end
    (a file cut short: the header still promises them)."""
    x = np.asarray(frames, np.float64).reshape(-1, channels)
    if width == 1:
        raw = np.round(x * 127 + 128).astype(np.uint8).tobytes()
    elif width == 2:
        raw = np.round(x * 32767).astype("<i2").tobytes()
    else:
        v = np.round(x * (2**23 - 1)).astype(np.int32).ravel()
        raw = np.stack([v & 255, (v >> 8) & 255, (v >> 16) & 255], 1).astype(np.uint8).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    if cut:
        data = path.read_bytes()
        path.write_bytes(data[:-cut])


def tone(seconds: float, hz: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_wav_round_trip_is_exact_to_16_bits(tmp_path):
    x = tone(0.25, 440)
    write_wav(tmp_path / "a.wav", x)
    back = read_wav(tmp_path / "a.wav")
    assert back.notes == ()
    assert np.abs(back.samples - x).max() <= 1 / 32768
    with wave.open(str(tmp_path / "a.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE)


@pytest.mark.parametrize("width", [1, 2, 3])
def test_other_bit_depths_and_stereo_are_converted_and_noted(tmp_path, width):
    x = tone(0.1, 300)
    write_pcm(tmp_path / "s.wav", np.stack([x, -x * 0.5], 1), width=width, channels=2)
    sound = read_wav(tmp_path / "s.wav")
    assert "2 channels mixed to mono" in sound.notes
    assert (f"{8 * width}-bit" in sound.notes) == (width != 2)
    assert np.abs(sound.samples - 0.25 * x).max() < (2 / 127 if width == 1 else 1e-3)


def test_44k1_is_resampled_to_16k_keeping_a_tone(tmp_path):
    write_pcm(tmp_path / "cd.wav", tone(0.5, 1000, 44_100), rate=44_100)
    sound = read_wav(tmp_path / "cd.wav")
    assert "44.1 kHz resampled" in sound.notes
    assert len(sound.samples) == 8000
    expected = tone(0.5, 1000)
    middle = slice(500, -500)  # away from the edges, where the filter sees zeros
    assert np.abs(sound.samples[middle] - expected[middle]).max() < 0.01


def test_resampling_removes_what_the_new_rate_cannot_hold():
    high = torch.from_numpy(tone(0.5, 12_000, 48_000))  # above 8 kHz, 16 kHz's Nyquist
    assert resample(high, 48_000, 16_000)[200:-200].abs().max() < 0.01


def test_empty_truncated_and_non_wav_files(tmp_path):
    write_pcm(tmp_path / "empty.wav", np.zeros(0))
    with pytest.raises(DataError, match="no samples"):
        read_wav(tmp_path / "empty.wav")
    write_pcm(tmp_path / "cut.wav", tone(0.1, 200), cut=1001)
    sound = read_wav(tmp_path / "cut.wav")
    assert "cut short" in sound.notes and len(sound.samples) == 1600 - 501
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(DataError, match="text.wav is not a PCM WAV"):
        read_wav(tmp_path / "text.wav")


def test_de_emphasis_inverts_pre_emphasis():
    x = torch.randn(3, 5000) * 0.1
    assert torch.allclose(de_emphasis(pre_emphasis(x)), x, atol=1e-5)
    y = pre_emphasis(x)
    assert torch.allclose(y[:, 1:], x[:, 1:] - 0.95 * x[:, :-1])


@pytest.mark.parametrize("kind", NOISES)
@pytest.mark.parametrize("snr_db", [0.0, 5.0, 17.5])
def test_mixing_hits_the_requested_snr(kind, snr_db):
    rng = np.random.default_rng(1)
    clean = utterance(4096, rng)
    noisy, scaled = mix_at_snr(clean, make_noise(kind, 4096, rng), snr_db)
    measured = 10 * np.log10(np.sum(scaled.astype(np.float64) ** 2) / np.sum((noisy - scaled.astype(np.float64)) ** 2))
    assert abs(measured - snr_db) < 0.1
    assert np.abs(noisy).max() < 1.0


def test_a_mix_that_would_clip_scales_speech_and_noise_together():
    clean = np.full(1000, 0.9, np.float32)
    noisy, scaled = mix_at_snr(clean, np.ones(1000), 0.0)
    assert np.abs(noisy).max() <= 0.99 and scaled.max() < 0.9
    assert np.allclose(noisy / scaled, 2.0, atol=1e-3)


def test_noises_have_their_colour():
    rng = np.random.default_rng(0)
    power = {k: np.abs(np.fft.rfft(make_noise(k, 16_000, rng))) ** 2 for k in ("white", "pink", "brown")}
    low_over_high = {k: p[100:500].mean() / p[4000:8000].mean() for k, p in power.items()}  # 100-500 Hz vs 4-8 kHz
    assert low_over_high["white"] < 2 < low_over_high["pink"] < low_over_high["brown"]


def test_voices_are_deterministic_voiced_and_distinct():
    a = utterance(8000, np.random.default_rng(3), VOICES[0])
    assert np.array_equal(a, utterance(8000, np.random.default_rng(3), VOICES[0]))
    pitches = []
    for voice in (VOICES[0], VOICES[-1]):
        x = np.concatenate([utterance(16_000, np.random.default_rng(s), voice) for s in range(3)])
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
        band = (f > 60) & (f < 400)
        pitches.append(f[band][np.argmax(spectrum[band])])
        rms = np.sqrt(np.mean(x**2))
        assert 10 ** (-30 / 20) < rms < 10 ** (-10 / 20)
    assert pitches[1] > 1.8 * pitches[0]  # the child speaks far higher than the low male voice
