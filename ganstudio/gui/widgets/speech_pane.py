"""The Explore tab's body for speech-enhancement models (SEGAN): make or load noisy speech and hear what the
generator makes of it.

The input is speech — a held-out clip of the run, a synthesised utterance in a chosen voice, or any WAV file
of any length — with a noise mixed in at an SNR (or as it is: the held-out clip's own mix, a recording).
Noisy input | enhanced | clean (where the clean speech is known) are shown side by side, each a waveform over
its spectrogram with Play (A/B listening) and Export WAV; their time axes zoom together. "New z" re-seeds
G's z. Everything is made and enhanced in the explorer's render thread (``enhance``: half-overlapping
windows, any length), latest-wins: a newer request cancels the running one between two batches of windows,
whose progress shows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ganstudio.audio import SAMPLE_RATE, read_wav
from ganstudio.data.base import CLEAN, NOISY
from ganstudio.data.noise import NOISES, make_noise, mix_at_snr
from ganstudio.data.voices import VOICES, utterance
from ganstudio.enhance import BATCH, enhance, window_length, window_starts
from ganstudio.errors import DataError
from ganstudio.gui.render_service import RenderService
from ganstudio.gui.widgets.audio_clip import AudioClip, spectrogram_db
from ganstudio.gui.widgets.render_progress import Cancelled, RenderProgress
from ganstudio.gui.widgets.speech_samples import ENHANCED, describe_gain
from ganstudio.snapshot import GeneratorSnapshot

CHANNEL = "speech"
HELD_OUT, VOICE, FILE = "held-out", "voice", "file"
AS_IT_IS = ""  # the noise entry that leaves the speech as it is (a held-out clip's own mix, a recording)
SILENT = "none"  # no noise: what does G do to clean speech?
MAX_SECONDS = 600  # longer files are cut (10 minutes: ~40 MB of samples per clip shown)


@dataclass(frozen=True)
class SpeechRecipe:
    """How to make the input, in the render thread: speech (given samples, or a voice's utterance), then a
    noise mixed in at ``snr_db`` (``noise`` AS_IT_IS: keep ``noisy`` as given)."""

    name: str
    speech: np.ndarray | None  # (L,) clean speech, or None: an utterance of ``voice``
    noisy: np.ndarray | None  # (L,) the speech's own noisy version (a held-out mix), for AS_IT_IS
    voice: int = 0
    seconds: float = 2.0
    utterance_seed: int = 0
    noise: str = AS_IT_IS
    snr_db: float = 5.0
    noise_seed: int = 0
    clean_known: bool = True  # is ``speech`` clean speech (a reference to measure against)?

    def make(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(noisy, clean or None), (L,) float32."""
        if self.speech is None:
            speech = utterance(round(self.seconds * SAMPLE_RATE), np.random.default_rng(self.utterance_seed),
                               VOICES[self.voice])
        else:
            speech = self.speech
        if self.noise == AS_IT_IS:
            noisy = self.noisy if self.noisy is not None else speech
            return noisy.astype(np.float32), speech.astype(np.float32) if self.clean_known else None
        if self.noise == SILENT:
            return speech.astype(np.float32), speech.astype(np.float32)
        noise = make_noise(self.noise, len(speech), np.random.default_rng(self.noise_seed))
        return mix_at_snr(speech, noise, self.snr_db)


@dataclass(frozen=True)
class SpeechResult:
    generation: int
    name: str
    z_seed: int
    noisy: np.ndarray
    enhanced: np.ndarray
    clean: np.ndarray | None
    spectrograms: dict[str, np.ndarray]  # by NOISY, ENHANCED, CLEAN: (257, frames) dB


def enhance_recipe(recipe: SpeechRecipe, z_seed: int, generation: int, progress: RenderProgress,
                   snapshot: GeneratorSnapshot) -> SpeechResult | None:
    """Make the input and enhance it; runs in the render thread (no Qt object touched but the signal). None
    when a newer request cancelled it."""
    try:
        with progress.working(generation):
            noisy, clean = recipe.make()
            enhanced = enhance(snapshot, noisy, z_seed, progress=progress.report(generation),
                               check=partial(progress.check, generation))
    except Cancelled:
        return None
    clips = {NOISY: noisy, ENHANCED: enhanced, CLEAN: clean}
    spectrograms = {name: spectrogram_db(clip) for name, clip in clips.items() if clip is not None}
    return SpeechResult(generation, recipe.name, z_seed, noisy, enhanced, clean, spectrograms)


def _form(*rows: tuple[str, QWidget]) -> QWidget:
    page = QWidget()
    form = QFormLayout(page)
    form.setContentsMargins(0, 0, 0, 0)
    for label, widget in rows:
        form.addRow(label, widget)
    return page


class SpeechPane(QWidget):
    """``set_snapshot(snapshot)`` with a snapshot that ``enhances``; ``result_shown`` after each result."""

    result_shown = Signal()
    message = Signal(str)

    def __init__(self, renderer: RenderService, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.snapshot: GeneratorSnapshot | None = None
        self.result: SpeechResult | None = None
        self.file_samples: np.ndarray | None = None
        self.file_name = ""
        self.z_seed = 0
        self._utterances = 0
        self._redo = False
        self.progress = RenderProgress()
        self._debounce = QTimer(self, singleShot=True, interval=150)  # spin-box typing renders once
        self._build()
        self.renderer.ready.connect(self._on_rendered)
        self._debounce.timeout.connect(self._render)

    # -- construction -----------------------------------------------------------------------------

    def _build(self) -> None:
        self.source = QComboBox()
        self.source.addItem("a held-out clip of the run", HELD_OUT)
        self.source.addItem("a synthesised voice", VOICE)
        self.source.addItem("a WAV file", FILE)
        self.source.setToolTip("Where the speech comes from")
        self.held_out = QComboBox()
        self.held_out.setToolTip("Clips the run kept out of training (the ones its sample reports show)")
        self.voice = QComboBox()
        for voice in VOICES:
            self.voice.addItem(voice.name)
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(0.5, 30.0)
        self.seconds.setSingleStep(0.5)
        self.seconds.setValue(2.0)
        self.seconds.setSuffix(" s")
        self.new_utterance = QPushButton("New utterance")
        self.new_utterance.setToolTip("Synthesise other words in this voice")
        utterance_row = QHBoxLayout()
        utterance_row.addWidget(self.seconds)
        utterance_row.addWidget(self.new_utterance)
        utterance_widget = QWidget()
        utterance_widget.setLayout(utterance_row)
        utterance_row.setContentsMargins(0, 0, 0, 0)
        self.open_button = QPushButton("Open WAV…")
        self.open_button.setToolTip("Enhance any WAV file, of any length (read as 16 kHz mono); or drop one on "
                                    "the tab")
        self.file_label = QLabel("no file yet")
        self.file_label.setWordWrap(True)
        self.file_label.setStyleSheet("color: gray")
        self.source_pages = QStackedWidget()
        self.source_pages.addWidget(_form(("Clip", self.held_out)))
        self.source_pages.addWidget(_form(("Voice", self.voice), ("Length", utterance_widget)))
        self.source_pages.addWidget(_form(("File", self.file_label)))
        speech_box = QGroupBox("Speech")
        speech_layout = QVBoxLayout(speech_box)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source, 1)
        source_row.addWidget(self.open_button)
        speech_layout.addLayout(source_row)
        speech_layout.addWidget(self.source_pages)
        speech_layout.addStretch(1)

        self.noise = QComboBox()
        self.noise.setToolTip("The noise mixed into the speech; '(trained)' marks those the run learned on")
        self.snr = QDoubleSpinBox()
        self.snr.setRange(-10.0, 40.0)
        self.snr.setSingleStep(2.5)
        self.snr.setDecimals(1)
        self.snr.setValue(5.0)
        self.snr.setSuffix(" dB")
        self.snr.setToolTip("Signal-to-noise ratio of the mix: the speech's power over the noise's (lower is "
                            "noisier)")
        self.new_noise = QPushButton("New noise")
        self.new_noise.setToolTip("Draw the noise again (same type and SNR)")
        noise_box = QGroupBox("Noise")
        noise_form = QFormLayout(noise_box)
        noise_form.addRow("Type", self.noise)
        noise_form.addRow("SNR", self.snr)
        noise_form.addRow("", self.new_noise)
        self._noise_form = noise_form

        self.new_z = QPushButton("New z")
        self.new_z.setToolTip("Re-seed G's z (SEGAN draws z inside its generator): how much does the output "
                              "depend on it?")
        self.z_label = QLabel()
        self.window_label = QLabel()
        self.window_label.setWordWrap(True)
        self.window_label.setStyleSheet("color: gray")
        model_box = QGroupBox("Generator")
        model_layout = QVBoxLayout(model_box)
        z_row = QHBoxLayout()
        z_row.addWidget(self.new_z)
        z_row.addWidget(self.z_label, 1)
        model_layout.addLayout(z_row)
        model_layout.addWidget(self.window_label)
        model_layout.addStretch(1)

        self.play_a = QPushButton("▶ A: noisy")
        self.play_b = QPushButton("▶ B: enhanced")
        self.play_a.setToolTip("Listen to the noisy input")
        self.play_b.setToolTip("Listen to G's enhancement of it")
        listen_box = QGroupBox("Listen")
        listen_layout = QVBoxLayout(listen_box)
        listen_layout.addWidget(self.play_a)
        listen_layout.addWidget(self.play_b)
        listen_layout.addStretch(1)

        controls = QHBoxLayout()
        controls.addWidget(speech_box, 3)
        controls.addWidget(noise_box, 2)
        controls.addWidget(model_box, 2)
        controls.addWidget(listen_box, 1)

        self.title = QLabel("Pick a held-out clip, a voice or a WAV file.")
        self.title.setWordWrap(True)
        self.clips = {NOISY: AudioClip("A: noisy input", "The noisy input appears here."),
                      ENHANCED: AudioClip("B: enhanced (G)", "G's enhancement appears here."),
                      CLEAN: AudioClip("Clean speech (reference)", "The clean speech appears here.")}
        clip_row = QHBoxLayout()
        for name, clip in self.clips.items():
            clip.message.connect(self.message)
            clip.body.setMinimumHeight(220)
            if name != NOISY:
                clip.link_time(self.clips[NOISY])
            clip_row.addWidget(clip, 1)
        hint = QLabel("Scroll on a plot to zoom in time, drag to pan — the clips zoom together; 'Full length' "
                      "resets. Spectrograms: 0 to 8 kHz, −80 to 0 dB.")
        hint.setStyleSheet("color: gray")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.title)
        layout.addWidget(self.progress.bar)
        layout.addLayout(clip_row, 1)
        layout.addWidget(hint)

        self.source.currentIndexChanged.connect(self._on_source)
        self.held_out.currentIndexChanged.connect(self._render_soon)
        self.voice.currentIndexChanged.connect(self._render_soon)
        self.seconds.valueChanged.connect(self._render_soon)
        self.new_utterance.clicked.connect(self._next_utterance)
        self.open_button.clicked.connect(self._open)
        self.noise.currentIndexChanged.connect(self._on_noise)
        self.snr.valueChanged.connect(self._render_soon)
        self.new_noise.clicked.connect(self._next_noise)
        self.new_z.clicked.connect(self.next_z)
        self.play_a.clicked.connect(self.clips[NOISY].play)
        self.play_b.clicked.connect(self.clips[ENHANCED].play)
        self._noise_seed = 0
        self._show_z()
        self._offer_noises()
        self._set_ready(False)

    def _set_ready(self, ready: bool) -> None:
        for w in (self.play_a, self.play_b):
            w.setEnabled(ready)

    # -- the snapshot -----------------------------------------------------------------------------

    def set_snapshot(self, snapshot: GeneratorSnapshot) -> None:
        """Enhance with ``snapshot`` from now on; the input stays."""
        first = self.snapshot is None
        self.snapshot = snapshot
        self.renderer.set_snapshot(snapshot)
        noisy = snapshot.fixed.get(NOISY)
        labels = [f"held-out clip {i + 1} of {len(noisy)}" for i in range(len(noisy))] if noisy is not None else []
        if labels != [self.held_out.itemText(i) for i in range(self.held_out.count())]:
            self.held_out.blockSignals(True)
            self.held_out.clear()
            self.held_out.addItems(labels)
            self.held_out.blockSignals(False)
        if not labels and self.source.currentData() == HELD_OUT:
            self.source.setCurrentIndex(self.source.findData(VOICE))
        window = window_length(snapshot)
        self.window_label.setText(f"G reads windows of {window:,} samples ({window / SAMPLE_RATE:.2f} s); longer "
                                  "speech is enhanced in windows that overlap by half.")
        self._offer_noises()
        for clip in self.clips.values():
            clip.export_folder = snapshot.checkpoint.parent.parent if snapshot.checkpoint else Path.home()
        if self.progress.busy_with_latest() and not first:
            self._redo = True  # a live run sends snapshots every few seconds: let the running one finish
        else:
            self._render()

    def _offer_noises(self) -> None:
        """Noise types for the chosen speech: as it is (a held-out clip's own mix; a file as recorded), none,
        then each noise, those the run trained on marked."""
        trained = set(self.snapshot.config.data.noises) if self.snapshot is not None else set()
        source = self.source.currentData()
        entries = []
        if source == HELD_OUT:
            entries.append(("its own noise (as held out)", AS_IT_IS))
        elif source == FILE:
            entries.append(("as recorded (no reference)", AS_IT_IS))
        entries.append(("none (clean speech)", SILENT))
        entries += [(f"{name} (trained)" if name in trained else name, name) for name in NOISES]
        current = self.noise.currentData()
        if [(self.noise.itemText(i), self.noise.itemData(i)) for i in range(self.noise.count())] == entries:
            return
        self.noise.blockSignals(True)
        self.noise.clear()
        for label, value in entries:
            self.noise.addItem(label, value)
        default = next((value for value in NOISES if value in trained), NOISES[0]) if source == VOICE else AS_IT_IS
        index = self.noise.findData(current)
        self.noise.setCurrentIndex(index if index >= 0 and current is not None else self.noise.findData(default))
        self.noise.blockSignals(False)
        self._show_snr()

    def _show_snr(self) -> None:
        mixes = self.noise.currentData() not in (AS_IT_IS, SILENT)
        self.snr.setEnabled(mixes)
        self.new_noise.setEnabled(mixes)

    # -- inputs -----------------------------------------------------------------------------------

    @Slot(int)
    def _on_source(self, index: int) -> None:
        self.source_pages.setCurrentIndex(index)
        self._offer_noises()
        self._render()

    @Slot(int)
    def _on_noise(self, index: int) -> None:
        self._show_snr()
        self._render()

    @Slot()
    def _render_soon(self) -> None:
        self._debounce.start()

    @Slot()
    def _next_utterance(self) -> None:
        self._utterances += 1
        self._render()

    @Slot()
    def _next_noise(self) -> None:
        self._noise_seed += 1
        self._render()

    @Slot()
    def next_z(self) -> None:
        """Re-seed G's z and enhance the same input again."""
        self.z_seed += 1
        self._show_z()
        self._render()

    def _show_z(self) -> None:
        self.z_label.setText(f"z seed {self.z_seed}")

    @Slot()
    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open speech to enhance", str(Path.home()),
                                              "WAV audio (*.wav *.wave);;All files (*)")
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        """Enhance a WAV file of any length; False (and a message) when it cannot be read."""
        try:
            sound = read_wav(path)
        except DataError as e:
            self.message.emit(f"{str(e)[0].upper()}{str(e)[1:]}.")
            return False
        samples, notes = sound.samples, list(sound.notes)
        if len(samples) > MAX_SECONDS * SAMPLE_RATE:
            samples = samples[:MAX_SECONDS * SAMPLE_RATE]
            notes.append(f"cut to its first {MAX_SECONDS // 60} minutes")
        self.file_samples, self.file_name = samples, Path(path).name
        self.file_label.setText(f"{self.file_name}: {len(samples) / SAMPLE_RATE:.1f} s"
                                + (f" ({', '.join(notes)})" if notes else ""))
        if self.source.currentData() != FILE:
            self.source.setCurrentIndex(self.source.findData(FILE))  # renders
        else:
            self._render()
        return True

    def recipe(self) -> SpeechRecipe | None:
        """What the controls ask for; None when there is nothing to enhance yet."""
        source, noise = self.source.currentData(), self.noise.currentData() or AS_IT_IS
        common = {"noise": noise, "snr_db": self.snr.value(), "noise_seed": self._noise_seed}
        if source == HELD_OUT:
            index = self.held_out.currentIndex()
            if self.snapshot is None or index < 0:
                return None
            fixed = self.snapshot.fixed
            return SpeechRecipe(f"held-out clip {index + 1}", fixed[CLEAN][index, 0].float().numpy(),
                                fixed[NOISY][index, 0].float().numpy(), **common)
        if source == VOICE:
            voice = self.voice.currentIndex()
            return SpeechRecipe(f"{VOICES[voice].name} voice", None, None, voice, self.seconds.value(),
                                1000 + self._utterances, **common)
        if self.file_samples is None:
            return None
        return SpeechRecipe(self.file_name, self.file_samples, None, clean_known=noise != AS_IT_IS, **common)

    # -- rendering --------------------------------------------------------------------------------

    def _render(self) -> None:
        self._debounce.stop()
        recipe = self.recipe() if self.snapshot is not None else None
        if recipe is None:
            if self.source.currentData() == FILE:
                self.title.setText("Open a WAV file (or drop one on the tab) to enhance it.")
            return
        self._redo = False
        length = len(recipe.speech) if recipe.speech is not None else round(recipe.seconds * SAMPLE_RATE)
        windows = len(window_starts(length, window_length(self.snapshot)))
        generation = self.progress.start(windows, f"Enhancing {recipe.name}: window", shown=windows > 2 * BATCH)
        self.renderer.submit(CHANNEL, partial(enhance_recipe, recipe, self.z_seed, generation, self.progress))

    @Slot(str, object)
    def _on_rendered(self, channel: str, result: object) -> None:
        if channel != CHANNEL or result is None:
            return
        self.result = result
        stem = Path(result.name).stem.replace(" ", "_")
        for name, samples in ((NOISY, result.noisy), (ENHANCED, result.enhanced), (CLEAN, result.clean)):
            self.clips[name].set_clip(samples, result.spectrograms.get(name), f"{stem}_{name}")
        self.clips[CLEAN].setVisible(result.clean is not None)
        self._set_ready(True)
        seconds = len(result.noisy) / SAMPLE_RATE
        text = f"<b>{result.name}</b>, {seconds:.2f} s, z seed {result.z_seed}"
        if result.clean is not None:
            text += f" — {describe_gain(result.noisy, result.enhanced, result.clean)}"
        else:
            text += " — no clean reference to measure against: listen, and compare the spectrograms"
        self.title.setText(text)
        if self.progress.is_latest(result.generation) and self._redo:
            self._render()
        self.result_shown.emit()
