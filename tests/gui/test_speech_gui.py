"""Speech enhancement (SEGAN) in the app: the audio clip widget (play, export, time zoom), the live held-out
clips of a run and its quality curves, the Explore tab's speech pane (a WAV file of any length, a voice with a
noise at an SNR, new z, A/B listening), and the setup form's speech settings."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ganstudio.audio import SAMPLE_RATE, read_wav, write_wav
from ganstudio.config import RunConfig
from ganstudio.data.base import CLEAN, NOISY
from ganstudio.data.noise import make_noise, mix_at_snr
from ganstudio.data.voices import utterance
from ganstudio.enhance import enhance, window_starts
from ganstudio.errors import ConfigError
from ganstudio.gui import playback
from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.main_window import MainWindow
from ganstudio.gui.widgets.audio_clip import AudioClip
from ganstudio.gui.widgets.explore_panel import ExplorePanel
from ganstudio.gui.widgets.setup_form import SetupForm
from ganstudio.gui.widgets.speech_pane import FILE, VOICE
from ganstudio.gui.widgets.speech_samples import ENHANCED
from ganstudio.models import build_family, family_class
from ganstudio.snapshot import GeneratorSnapshot

pytestmark = pytest.mark.gui
WAIT_MS = 30_000
PCM_STEP = 1 / 32768  # 16-bit WAV resolution


def tiny_config(**data) -> RunConfig:
    """A SEGAN that trains in about a second: 40 clips of 2,048 samples, width 4, batch 8, one thread."""
    return RunConfig().replace(
        data={"dataset": "speech", "num_images": 40, "window": 2048, "noises": ("white", "pink"),
              "image_size": family_class("segan").image_sizes[0], **data},
        model={"family": "segan", "width": 4},
        train={**family_class("segan").train_defaults(), "batch_size": 8, "max_steps": 6, "epochs": 10**4,
               "device": "cpu", "sample_every": 3, "eval_every": 3, "eval_samples": 10, "checkpoint_every": 1000,
               "threads": 1})


def fresh_snapshot() -> GeneratorSnapshot:
    """A freshly built (untrained) SEGAN with four held-out clips of synthesised speech in white noise."""
    config = tiny_config()
    torch.manual_seed(0)
    family = build_family(config.data, config.model, config.train, torch.device("cpu"))
    rng = np.random.default_rng(0)
    pairs = [mix_at_snr(utterance(2048 * 4, rng)[4096:6144], make_noise("white", 2048, rng), 5.0) for _ in range(4)]
    fixed = {NOISY: torch.from_numpy(np.stack([n for n, _ in pairs]))[:, None],
             CLEAN: torch.from_numpy(np.stack([c for _, c in pairs]))[:, None]}
    return GeneratorSnapshot.of_family(family, 0, config, fixed)


def tone(seconds: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.fixture
def played(monkeypatch):
    """What Play hands to the player: the samples read back from the WAV file it was given."""
    heard = []

    def play_wav(path):
        heard.append(read_wav(path).samples)
        return f"Played {path.name}"

    monkeypatch.setattr(playback, "play_wav", play_wav)
    return heard


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return shown


def click(qtbot, button) -> None:
    from PySide6.QtCore import Qt

    assert button.isEnabled() and button.isVisible(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# -- the clip widget ------------------------------------------------------------------------------------


def test_a_clip_plays_and_exports_a_wav_that_round_trips_and_zooms_in_time(qtbot, played, tmp_path, monkeypatch):
    clip = AudioClip("A tone", "nothing yet")
    qtbot.addWidget(clip)
    clip.resize(500, 300)
    clip.show()
    assert not clip.play_button.isEnabled() and clip.body.currentWidget() is clip.placeholder
    samples = tone()
    clip.set_clip(samples, name="tone")
    assert "0.50 s" in clip.info.text()

    click(qtbot, clip.play_button)
    assert len(played) == 1 and np.allclose(played[0], samples, atol=PCM_STEP)

    spectrogram = clip.image.image
    assert spectrogram.shape[0] == 257 and abs(spectrogram.mean(axis=1).argmax() - 440 / (SAMPLE_RATE / 512)) <= 1
    clip.wave.setXRange(0.1, 0.2, padding=0)
    low, high = clip.time_range()
    assert abs(low - 0.1) < 1e-3 and abs(high - 0.2) < 1e-3
    assert np.allclose(clip.spectrum.getViewBox().viewRange()[0], (0.1, 0.2), atol=1e-3)  # one time axis
    clip.set_clip(samples * 0.5)  # a new clip of the same length keeps the zoom
    assert abs(clip.time_range()[0] - 0.1) < 1e-3
    click(qtbot, clip.reset_button)
    assert np.allclose(clip.time_range(), (0.0, 0.5), atol=1e-3)

    target = tmp_path / "tone.wav"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    messages = []
    clip.message.connect(messages.append)
    click(qtbot, clip.export_button)
    assert np.allclose(read_wav(target).samples, samples * 0.5, atol=PCM_STEP) and messages[-1].startswith("Saved")


def test_without_qtmultimedia_the_clip_goes_to_the_system_player(monkeypatch):
    opened = []
    monkeypatch.setattr(playback, "QMediaPlayer", None)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(QUrl(url)) or True)
    message = playback.play(tone(0.1), "a tone")
    assert len(opened) == 1 and opened[0].isLocalFile() and "system" in message
    assert np.allclose(read_wav(opened[0].toLocalFile()).samples, tone(0.1), atol=PCM_STEP)


# -- a run in the app --------------------------------------------------------------------------------------


def test_a_segan_run_shows_its_held_out_clips_and_quality_and_reopens(qtbot, tmp_path, errors, played, monkeypatch):
    window = MainWindow(runs_dir=tmp_path / "runs", settings=QSettings(str(tmp_path / "s.ini"),
                                                                       QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        form = window.setup
        form.set_config(tiny_config())
        form_config = form.config
        monkeypatch.setattr(form, "config", lambda: form_config().replace(  # the few clips and steps of a test
            data={"num_images": 40}, train={"max_steps": 6, "eval_samples": 10, "threads": 1}))
        window.start_action.trigger()
        qtbot.waitUntil(lambda: not window.controller.running, timeout=WAIT_MS)
        assert errors == []

        samples = window.samples
        assert samples.body.currentWidget() is samples.speech_tabs and "noisy input | enhanced | clean" in \
            samples.title.text()
        speech = samples.speech
        assert speech.step == 6 and speech.chooser.count() == 4 and speech.chooser.isEnabled()
        speech.chooser.setCurrentIndex(2)
        for name, clip in speech.clips.items():
            assert np.array_equal(clip.samples, speech.sounds[name][2]) and len(clip.samples) == 2048
        assert "Step 6: SNR" in speech.gain.text()
        click(qtbot, speech.clips[ENHANCED].play_button)
        assert np.allclose(played[-1], speech.sounds[ENHANCED][2], atol=PCM_STEP)

        quality = window.quality
        assert quality.evaluations == 2 and "against the clean speech" in quality.label.text()
        assert list(quality.plots.metrics)[:2] == ["snr_gain", "segsnr_gain"]
        assert quality.plots.metrics["snr_noisy"].info.label == "noisy input"

        window.tabs.setCurrentWidget(window.explore)
        window.explore.source.setCurrentIndex(0)
        window.explore.source.activated.emit(0)  # the run's checkpoint
        pane = window.explore.speech
        qtbot.waitUntil(lambda: pane.result is not None, timeout=WAIT_MS)
        assert window.explore.body.currentWidget() is pane and not window.explore.conditioning.isVisible()
        assert "held-out clip 1" in pane.title.text()

        run = window.run_folder.path
        window.new_run()
        assert not samples.has_sounds()
        assert window.open_run(run)  # an opened run: its clips rendered from the last checkpoint, its curves
        qtbot.waitUntil(samples.has_sounds, timeout=WAIT_MS)
        assert samples.speech.step == 6 and quality.evaluations == 2
    finally:
        window.controller.shutdown()
        window.tasks.shutdown()
        window.explore.shutdown()


# -- the Explore tab's speech pane ------------------------------------------------------------------------


@pytest.fixture
def pane(qtbot, errors):
    tasks = BackgroundTasks()
    panel = ExplorePanel(tasks)
    qtbot.addWidget(panel)
    panel.resize(1300, 800)
    panel.show()
    messages = []
    panel.message.connect(messages.append)
    snapshot = fresh_snapshot()
    panel.set_snapshot(snapshot)
    speech = panel.speech
    assert panel.body.currentWidget() is speech
    qtbot.waitUntil(lambda: speech.result is not None, timeout=WAIT_MS)  # the first held-out clip, at once
    speech.messages = messages
    yield speech
    panel.shutdown()
    tasks.shutdown()
    assert [m for m in messages if not m.startswith(("Saved", "Played"))] == []


def shown_after(qtbot, pane, action) -> object:
    with qtbot.waitSignal(pane.result_shown, timeout=WAIT_MS):
        action()
    qtbot.waitUntil(lambda: pane.result.generation == pane.progress.latest, timeout=WAIT_MS)
    return pane.result


def test_the_speech_pane_enhances_a_wav_file_of_any_length(qtbot, pane, played, tmp_path, monkeypatch):
    snapshot = pane.snapshot
    first = pane.result
    assert first.clean is not None and np.array_equal(first.noisy, snapshot.fixed[NOISY][0, 0].numpy())

    rng = np.random.default_rng(3)
    speech = utterance(3 * SAMPLE_RATE, rng)
    noisy, _ = mix_at_snr(speech, make_noise("pink", len(speech), rng), 5.0)
    path = tmp_path / "noisy speech.wav"
    write_wav(path, noisy)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    result = shown_after(qtbot, pane, lambda: click(qtbot, pane.open_button))
    assert pane.source.currentData() == FILE and result.name == path.name
    written = read_wav(path).samples
    assert len(result.enhanced) == len(written) == 3 * SAMPLE_RATE
    assert np.allclose(result.enhanced, enhance(snapshot, written, 0), atol=1e-5)  # z seed 0
    assert pane.progress.bar.maximum() == len(window_starts(len(written), 2048)) and pane.progress.bar.isHidden()
    assert result.clean is None and not pane.clips[CLEAN].isVisible() and "no clean reference" in pane.title.text()
    assert pane.clips[ENHANCED].image.image.shape[0] == 257

    click(qtbot, pane.play_a)
    click(qtbot, pane.play_b)
    assert np.allclose(played[0], result.noisy, atol=PCM_STEP)
    assert np.allclose(played[1], result.enhanced, atol=PCM_STEP)

    again = shown_after(qtbot, pane, lambda: click(qtbot, pane.new_z))
    assert again.z_seed == 1 and "z seed 1" in pane.z_label.text() and not np.allclose(again.enhanced, result.enhanced)

    white = pane.noise.findData("white")
    mixed = shown_after(qtbot, pane, lambda: pane.noise.setCurrentIndex(white))  # the file as clean speech + noise
    assert mixed.clean is not None and pane.clips[CLEAN].isVisible() and "SNR" in pane.title.text()

    target = tmp_path / "enhanced.wav"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    click(qtbot, pane.clips[ENHANCED].export_button)
    assert np.allclose(read_wav(target).samples, mixed.enhanced, atol=PCM_STEP)


def test_the_speech_pane_mixes_a_voice_with_a_noise_at_an_snr(qtbot, pane):
    assert "white (trained)" in [pane.noise.itemText(i) for i in range(pane.noise.count())]
    result = shown_after(qtbot, pane, lambda: pane.source.setCurrentIndex(pane.source.findData(VOICE)))
    assert result.name.endswith("voice") and pane.noise.currentData() == "white"  # the first noise it trained on
    assert len(result.noisy) == 2 * SAMPLE_RATE and result.clean is not None
    measured = 10 * np.log10(np.sum(result.clean**2) / np.sum((result.noisy - result.clean) ** 2))
    assert abs(measured - 5.0) < 0.2

    pane.snr.setValue(15.0)  # typing: one render after a pause
    quieter = shown_after(qtbot, pane, lambda: None)
    assert abs(10 * np.log10(np.sum(quieter.clean**2) / np.sum((quieter.noisy - quieter.clean) ** 2)) - 15) < 0.2
    other = shown_after(qtbot, pane, lambda: click(qtbot, pane.new_utterance))
    assert not np.allclose(other.clean, quieter.clean)


# -- the setup form --------------------------------------------------------------------------------------


def choose(box, value) -> None:
    """What picking an entry of a combo box does (family: its `activated` brings its defaults)."""
    index = box.findData(value)
    box.setCurrentIndex(index)
    box.activated.emit(index)


def test_the_setup_form_maps_speech_settings_into_the_config(qtbot):
    form = SetupForm()
    qtbot.addWidget(form)
    form.show()
    assert not form.speech.isVisible()
    choose(form.family, "segan")
    config = form.config()
    assert (config.data.dataset, config.model.family, config.train.batch_size) == ("speech", "segan", 32)
    assert (config.data.window, config.data.noises, config.data.snrs) == (4096, ("babble", "white"), (0, 5, 10, 15))
    data_form = form._forms["Data"]
    assert form.speech.isVisible() and not data_form.isRowVisible(form.channels)
    assert data_form.labelForField(form.image_size).text() == "Spectrogram size"
    faces = form.dataset.findData("faces")
    assert not form.dataset.model().item(faces).isEnabled()  # greyed, its tooltip says why
    assert "enhances speech" in form.dataset.itemData(faces, 3)

    box = form.speech
    box.window.setCurrentIndex(box.window.findData(8192))
    box.noise_boxes["white"].setChecked(False)
    box.noise_boxes["hum"].setChecked(True)
    box.snrs.setText("-5, 0, 7.5")
    assert not box.form.isRowVisible(box.root_row)
    box.noise_boxes["folder"].setChecked(True)
    assert box.form.isRowVisible(box.root_row)
    with pytest.raises(ConfigError, match="folder of noise"):
        form.config()
    box.noise_root.setText("/data/noises")
    data = form.config().data
    assert (data.window, data.noises, data.snrs, data.noise_root) == (8192, ("babble", "hum", "folder"),
                                                                       (-5, 0, 7.5), "/data/noises")
    box.snrs.setText("0, loud")
    with pytest.raises(ConfigError, match="'loud'"):
        form.config()
    box.snrs.setText("0")

    restored = SetupForm()
    qtbot.addWidget(restored)
    restored.set_config(form.config())
    assert restored.config() == form.config()

    form.dataset.setCurrentIndex(form.dataset.findData("speech-pairs"))  # already mixed: window only
    assert box.isVisible() and not box.form.isRowVisible(box.snrs) and box.form.isRowVisible(box.mixed_note)
    assert "noisy/" in form.root.placeholderText() and form.root.isEnabled()
    form.dataset.setCurrentIndex(faces)  # as a restored setting could: refused with words, before any run
    with pytest.raises(ConfigError, match="segan enhances speech"):
        form.config()
    choose(form.family, "dcgan")  # an image family takes back its images
    assert form.config().data.dataset == "faces" and not box.isVisible()
    assert form.dataset.model().item(form.dataset.findData("speech")).isEnabled()
