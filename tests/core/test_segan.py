"""SEGAN: the speech data sets and their bad input, the family, windowed enhancement, quality, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganstudio.audio import read_wav, write_wav
from ganstudio.cli import main as cli
from ganstudio.config import DataConfig, RunConfig
from ganstudio.data import load_dataset
from ganstudio.data.base import CLEAN, NOISY
from ganstudio.data.voices import utterance
from ganstudio.enhance import enhance, enhance_clips, window_starts
from ganstudio.errors import ConfigError, DataError
from ganstudio.metrics.speech import segmental_snr, snr
from ganstudio.models import family_class
from ganstudio.models.noise import seeded_noise
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer

WINDOW = 1024
LEARNING_MARGIN_DB = 3.0  # measured: +4.7 dB (150 steps, kernel 15, bf16; kernel 31: +5.3, fp32 +5.4); the
#                           untrained G is far below the input


def speech(**data) -> DataConfig:
    return DataConfig(**{"dataset": "speech", "num_images": 40, "window": WINDOW, **data})


def voice_files(folder, count: int = 3, seconds: float = 0.5, seed: int = 0) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        paths.append(folder / f"u{i}.wav")
        write_wav(paths[-1], utterance(round(16_000 * seconds), rng))
    return paths


# -- data ------------------------------------------------------------------------------------------

def test_built_in_speech_is_deterministic_and_mixed_as_asked():
    data = load_dataset(speech(noises=("white", "hum"), snrs=(5.0, 10.0)))
    assert data.tensors().keys() == {"image", CLEAN, NOISY}
    assert data.clean.shape == data.noisy.shape == (40, 1, WINDOW) and data.clean.dtype == torch.int16
    assert data.images.shape == (40, 1, 28, 28)
    clean, noisy = (t[:, 0].double().numpy() / 32768 for t in (data.clean, data.noisy))
    assert np.allclose(snr(clean, noisy), data.factors["snr"], atol=0.05)
    assert set(data.factors["snr"]) == {5.0, 10.0}
    assert list(data.factors["noise"][:4]) == [0, 1, 0, 1]  # the noises take turns
    again = load_dataset(speech(noises=("white", "hum"), snrs=(5.0, 10.0), seed=0))
    assert torch.equal(again.noisy, data.noisy)
    assert not torch.equal(load_dataset(speech(noises=("white", "hum"), snrs=(5.0, 10.0), seed=1)).clean, data.clean)


def test_speech_settings_are_checked():
    with pytest.raises(ConfigError, match="power of two"):
        DataConfig(window=3000)
    with pytest.raises(ConfigError, match="noise-root"):
        DataConfig(noises=("folder",))
    with pytest.raises(DataError, match="unknown noise rain"):
        load_dataset(speech(noises=("rain",)))
    config = RunConfig().replace(data=speech(image_size=64).__dict__,
                                 model={"family": "segan", "options": {"kernel": 16}})
    with pytest.raises(ConfigError, match="kernel must be odd"):
        family_class("segan")(config.data, config.model, config.train, "cpu")


def test_speech_folder_converts_and_skips_odd_files_with_one_warning(tmp_path):
    import wave

    voice_files(tmp_path / "speech", count=2)
    with wave.open(str(tmp_path / "speech" / "stereo.wav"), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(44_100)
        w.writeframes((np.random.default_rng(0).standard_normal((22_050, 2)) * 3000).astype("<i2").tobytes())
    (tmp_path / "speech" / "broken.wav").write_bytes(b"RIFF\x00\x00")
    write_wav(tmp_path / "speech" / "empty.wav", np.zeros(0))
    data = load_dataset(DataConfig(dataset="speech-folder", root=str(tmp_path / "speech"), window=WINDOW))
    assert len(data) >= 2 * 7 and data.noisy is not None
    (warning,) = data.warnings
    assert "stereo.wav (2 channels mixed to mono, 44.1 kHz resampled)" in warning
    assert "broken.wav (skipped" in warning and "empty.wav (skipped: holds no samples)" in warning


def test_speech_folder_errors_name_the_problem(tmp_path):
    (tmp_path / "none").mkdir()
    with pytest.raises(DataError, match="no readable WAV files"):
        load_dataset(DataConfig(dataset="speech-folder", root=str(tmp_path / "none")))
    (tmp_path / "quiet").mkdir()
    write_wav(tmp_path / "quiet" / "q.wav", np.zeros(5000))
    with pytest.raises(DataError, match="silent"):
        load_dataset(DataConfig(dataset="speech-folder", root=str(tmp_path / "quiet"), window=WINDOW))
    with pytest.raises(DataError, match="needs a folder"):
        load_dataset(DataConfig(dataset="speech-folder", root=str(tmp_path / "missing")))


def test_noise_from_a_folder_of_recordings(tmp_path):
    from ganstudio.data.noise import make_noise

    (tmp_path / "noise").mkdir()
    write_wav(tmp_path / "noise" / "fan.wav", 0.1 * make_noise("pink", 3000, np.random.default_rng(0)))
    write_wav(tmp_path / "noise" / "silence.wav", np.zeros(20_000))
    data = load_dataset(speech(noises=("folder",), noise_root=str(tmp_path / "noise"), snrs=(0.0,)))
    clean, noisy = (t[:, 0].double().numpy() / 32768 for t in (data.clean, data.noisy))
    assert np.allclose(snr(clean, noisy), 0.0, atol=0.05)


def test_speech_pairs_match_by_name_and_name_what_does_not(tmp_path):
    clean = voice_files(tmp_path / "pairs" / "clean", count=3)
    (tmp_path / "pairs" / "noisy").mkdir()
    rng = np.random.default_rng(1)
    for path in clean[:2]:
        x = read_wav(path).samples
        write_wav(tmp_path / "pairs" / "noisy" / path.name, x + 0.01 * rng.standard_normal(len(x)))
    write_wav(tmp_path / "pairs" / "noisy" / "extra.wav", np.zeros(100))
    write_wav(tmp_path / "pairs" / "noisy" / clean[2].name, np.zeros(900))  # far shorter than its partner
    data = load_dataset(DataConfig(dataset="speech-pairs", root=str(tmp_path / "pairs"), window=WINDOW))
    assert 8 <= len(data) <= 2 * 8  # two pairs of 0.5 s in windows of 1,024 samples, less the silent ones
    assert (data.noisy - data.clean).abs().max() < 0.06 * 32768  # the same windows of both
    (warning,) = data.warnings
    assert "extra.wav (only in noisy/)" in warning and "u2.wav (noisy and clean differ in length" in warning
    assert np.median(data.factors["snr"]) > 10  # speech near -20 dBFS over noise at -40
    (tmp_path / "lonely").mkdir()
    with pytest.raises(DataError, match="noisy/ and clean/"):
        load_dataset(DataConfig(dataset="speech-pairs", root=str(tmp_path / "lonely")))


# -- enhancement of any length ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """A SEGAN trained for a few steps on 1,024-sample windows."""
    config = RunConfig().replace(data={"dataset": "speech", "num_images": 64, "window": WINDOW},
                                 model={"family": "segan", "width": None},
                                 train={"max_steps": 3, "batch_size": 8, "device": "cpu", "eval_every": 0,
                                        "sample_every": 10**6})
    ended = Trainer(config, out=tmp_path_factory.mktemp("runs")).run()
    return GeneratorSnapshot.from_checkpoint(ended.checkpoint)


def test_a_long_clip_is_the_crossfade_of_its_windows(snapshot):
    """enhance() equals the overlap-add of the per-window outputs under a periodic Hann window, keeps the
    length, and its joins jump no more than the per-window outputs do inside."""
    x = utterance(5000, np.random.default_rng(2))
    out = enhance(snapshot, x, seed=3)
    assert out.shape == x.shape
    hop = WINDOW // 2
    padded = np.pad(x, (hop, WINDOW * 12))
    starts = window_starts(len(x), WINDOW)
    frames = np.stack([padded[s:s + WINDOW] for s in starts])
    with seeded_noise(snapshot.generator, 3):
        per_window = snapshot.generator(torch.from_numpy(frames)[:, None]).float()[:, 0].numpy()
    expected = np.zeros(len(padded))
    for s, piece in zip(starts, per_window * torch.hann_window(WINDOW, periodic=True).numpy()):
        expected[s:s + WINDOW] += piece
    assert np.allclose(out, np.clip(expected[hop:hop + len(x)], -1, 1), atol=1e-5)
    steps = np.abs(np.diff(out))
    joins = np.array([s - hop for s in starts[1:] if 0 < s - hop < len(x) - 1])
    assert steps[joins - 1].max() <= np.abs(np.diff(per_window, axis=1)).max()


def test_z_comes_from_the_seed(snapshot):
    noisy = load_dataset(speech()).noisy[:4, 0].float().numpy() / 32768
    assert np.array_equal(enhance_clips(snapshot, noisy, seed=1), enhance_clips(snapshot, noisy, seed=1))
    assert not np.array_equal(enhance_clips(snapshot, noisy, seed=1), enhance_clips(snapshot, noisy, seed=2))


def test_enhance_cli_on_a_file_and_a_folder(snapshot, tmp_path, capsys):
    paths = voice_files(tmp_path / "in", count=2, seconds=0.3)
    (tmp_path / "in" / "bad.wav").write_text("no")
    run = str(snapshot.checkpoint)
    assert cli(["enhance", run, str(paths[0]), "-o", str(tmp_path / "one.wav")]) == 0
    assert len(read_wav(tmp_path / "one.wav").samples) == len(read_wav(paths[0]).samples)
    assert cli(["enhance", run, str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["u0.wav", "u1.wav"]
    assert "skipped" in capsys.readouterr().out
    assert cli(["enhance", run, str(paths[0]), "-o", str(tmp_path / "x.mp3")]) == 2
    assert "ending in .wav" in capsys.readouterr().err


def test_segmental_snr_follows_its_definition():
    rng = np.random.default_rng(0)
    clean = rng.standard_normal((2, 4800))
    assert np.allclose(segmental_snr(clean, clean), 35.0)  # clipped at 35 dB
    assert np.allclose(segmental_snr(clean, clean + clean * 10 ** (-10 / 20)), 10.0, atol=0.01)
    assert np.allclose(segmental_snr(clean, np.zeros_like(clean)), 0.0, atol=1e-6)


# -- learning --------------------------------------------------------------------------------------

def test_a_short_run_lifts_the_segmental_snr_of_held_out_speech(tmp_path):
    """150 steps on 1,024-sample clips in white noise at 5 dB: the held-out clips' segmental SNR rises well
    above the noisy input's, which the untrained G is far below (measured: see LEARNING_MARGIN_DB)."""
    config = RunConfig().replace(
        data={"dataset": "speech", "num_images": 400, "window": WINDOW, "noises": ("white",), "snrs": (5.0,)},
        model={"family": "segan", "width": None},
        train={"max_steps": 150, "epochs": 1000, "batch_size": 16, "device": "cpu", "eval_every": 150,
               "sample_every": 10**6})
    trainer = Trainer(config, out=tmp_path)
    trainer.run()
    (record,) = [r for r in trainer.run_folder.read_metrics() if "segsnr" in r]
    print({k: round(v, 2) for k, v in record.items() if "snr" in k})
    assert record["segsnr_gain"] > LEARNING_MARGIN_DB
