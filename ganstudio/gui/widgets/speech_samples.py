"""The live view of a speech-enhancement run (SEGAN): for the run's fixed held-out clips, noisy input |
enhanced | clean, each a waveform over its spectrogram with Play and Export, updated at every sample report;
a chooser picks the clip, and a line says how much the enhancement raised its SNR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ganstudio.data.base import CLEAN, NOISY
from ganstudio.enhance import enhance_clips
from ganstudio.gui.widgets.audio_clip import AudioClip
from ganstudio.metrics.speech import segmental_snr, snr
from ganstudio.snapshot import GeneratorSnapshot

ENHANCED = "enhanced"
TITLES = {NOISY: "Noisy input", ENHANCED: "Enhanced (G)", CLEAN: "Clean (the target)"}
PLACEHOLDER = ("The held-out clips appear here with the run's first samples: the noisy input, G's enhancement "
               "and the clean speech, the same clips every time, so you can hear G learn.")


@dataclass(frozen=True)
class HeldOutSounds:
    """The run's held-out clips as a generator renders them: (N, L) float32 by name."""

    step: int
    sounds: dict[str, np.ndarray]


def held_out_sounds(snapshot: GeneratorSnapshot) -> HeldOutSounds:
    """noisy, enhanced, clean clips of a snapshot's fixed inputs (z seed 0, as the run's samples); runs in a
    worker thread."""
    noisy = snapshot.fixed[NOISY][:, 0].float().numpy()
    return HeldOutSounds(snapshot.step, {NOISY: noisy, ENHANCED: enhance_clips(snapshot, noisy, 0),
                                         CLEAN: snapshot.fixed[CLEAN][:, 0].float().numpy()})


def describe_gain(noisy: np.ndarray, enhanced: np.ndarray, clean: np.ndarray) -> str:
    """"SNR 5.0 → 8.3 dB (+3.3), segmental 1.2 → 4.0 dB (+2.8)" for (L,) clips."""
    parts = []
    for name, measure in (("SNR", snr), ("segmental SNR", segmental_snr)):
        before, after = float(measure(clean[None], noisy[None])[0]), float(measure(clean[None], enhanced[None])[0])
        parts.append(f"{name} {before:.1f} → {after:.1f} dB ({after - before:+.1f})")
    return ", ".join(parts).replace("-", "−")


class SpeechSamples(QWidget):
    """``show_sounds(step, sounds)`` with {"noisy", "enhanced", "clean"}: (N, L) float32."""

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.sounds: dict[str, np.ndarray] = {}
        self.step: int | None = None
        self.chooser = QComboBox()
        self.chooser.setToolTip("Which of the run's held-out clips to show and play")
        self.chooser.setMinimumContentsLength(22)
        self.gain = QLabel()
        self.gain.setWordWrap(True)
        self.gain.setToolTip("How far each is from the clean speech: the SNR over the whole clip and the mean of "
                             "30 ms frames' SNRs (segmental); + is an improvement over the noisy input")
        placeholders = {NOISY: PLACEHOLDER, ENHANCED: "G's enhancement of the noisy input appears here.",
                        CLEAN: "The clean speech it should get back to appears here."}
        self.clips = {name: AudioClip(title, placeholders[name]) for name, title in TITLES.items()}
        first = self.clips[NOISY]
        for clip in self.clips.values():
            clip.message.connect(self.message)
            if clip is not first:
                clip.link_time(first)
        top = QHBoxLayout()
        top.addWidget(QLabel("Held-out clip"))
        top.addWidget(self.chooser)
        top.addWidget(self.gain, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        for clip in self.clips.values():
            layout.addWidget(clip, 1)
        self.chooser.currentIndexChanged.connect(self._show_clip)
        self.clear()

    def clear(self) -> None:
        self.sounds, self.step = {}, None
        self.chooser.blockSignals(True)
        self.chooser.clear()
        self.chooser.blockSignals(False)
        self.chooser.setEnabled(False)
        self.gain.setText("")
        for clip in self.clips.values():
            clip.set_clip(None)

    def show_sounds(self, step: int, sounds: dict[str, np.ndarray]) -> None:
        """The clips at ``step``; the chosen clip (and the time zoom) stays."""
        self.sounds, self.step = {name: np.asarray(clips, np.float32) for name, clips in sounds.items()}, step
        count = min(len(clips) for clips in self.sounds.values())
        noisy, clean = self.sounds.get(NOISY), self.sounds.get(CLEAN)
        labels = [f"{i + 1} of {count}" + (f" — noisy at {float(snr(clean[i:i + 1], noisy[i:i + 1])[0]):.0f} dB SNR"
                                           if noisy is not None and clean is not None else "") for i in range(count)]
        if labels != [self.chooser.itemText(i) for i in range(self.chooser.count())]:
            index = self.chooser.currentIndex()
            self.chooser.blockSignals(True)
            self.chooser.clear()
            self.chooser.addItems(labels)
            self.chooser.setCurrentIndex(min(max(index, 0), count - 1))
            self.chooser.blockSignals(False)
        self.chooser.setEnabled(count > 1)
        self._show_clip(self.chooser.currentIndex())

    def current_index(self) -> int:
        return self.chooser.currentIndex()

    @Slot(int)
    def _show_clip(self, index: int) -> None:
        if index < 0 or not self.sounds:
            return
        for name, clip in self.clips.items():
            clips = self.sounds.get(name)
            clip.set_clip(clips[index] if clips is not None else None, name=f"clip{index + 1}_{name}_step{self.step}")
        noisy, enhanced, clean = (self.sounds.get(name) for name in (NOISY, ENHANCED, CLEAN))
        if noisy is not None and enhanced is not None and clean is not None:
            self.gain.setText(f"Step {self.step:,}: {describe_gain(noisy[index], enhanced[index], clean[index])}")
