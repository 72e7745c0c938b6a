"""One clip of sound: its waveform over its log spectrogram (time in s, frequency in kHz), with Play and
Export WAV…. Scroll on either plot to zoom in time, drag to pan; "Full length" shows the whole clip again.
Clips can share their time axis (``link_time``), so zooming one zooms the clips it is compared with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ganstudio.audio import SAMPLE_RATE, log_spectrogram, write_wav
from ganstudio.gui import playback

FLOOR_DB = -80.0  # the spectrogram's black
TOP_KHZ = SAMPLE_RATE / 2000
AXIS_WIDTH = 38  # px: the same for the waveform and the spectrogram, so their time axes line up
BACKGROUND = (38, 38, 40)  # as the image views
WAVE_PEN = pg.mkPen("#9cc3e6", width=1)
COLOURS = pg.colormap.get("inferno")


def spectrogram_db(samples: np.ndarray) -> np.ndarray:
    """(L,) float -> (257, frames) float32 power in dB re full scale, low frequencies in row 0."""
    return log_spectrogram(torch.from_numpy(np.ascontiguousarray(samples, np.float32)), floor_db=FLOOR_DB).numpy()


def describe_level(samples: np.ndarray) -> str:
    """Duration and RMS level in words, e.g. "1.50 s, −23 dBFS"."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    level = f"{20 * np.log10(rms):.0f} dBFS" if rms > 0 else "silent"
    return f"{len(samples) / SAMPLE_RATE:.2f} s, {level}".replace("-", "−")


class AudioClip(QWidget):
    """``set_clip(samples, spectrogram=None, name)`` shows a clip; ``play()``, ``export_to(path)``.
    ``message(str)`` says what Play and Export did."""

    message = Signal(str)

    def __init__(self, title: str, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.samples: np.ndarray | None = None
        self.name = title
        self.export_folder = Path.home()
        self.title = QLabel(f"<b>{title}</b>")
        self.info = QLabel()
        self.info.setStyleSheet("color: gray")
        self.info.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.play_button = QPushButton("▶ Play")
        self.play_button.setToolTip(playback.how_it_plays())
        self.export_button = QPushButton("Export WAV…")
        self.export_button.setToolTip("Save this clip as a 16-bit 16 kHz WAV file")
        self.reset_button = QPushButton("Full length")
        self.reset_button.setToolTip("Show the whole clip again (scroll on the plots to zoom in time, drag to pan)")
        self.placeholder = QLabel(placeholder)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet(f"background: rgb{BACKGROUND}; color: rgb(170, 170, 175); padding: 8px")

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(BACKGROUND)
        self.plots.setToolTip("Scroll to zoom in time, drag to pan; 'Full length' shows the whole clip")
        self.plots.ci.setContentsMargins(2, 2, 6, 2)
        self.plots.ci.setSpacing(0)
        self.wave = self.plots.addPlot(row=0, col=0)
        self.spectrum = self.plots.addPlot(row=1, col=0)
        self.plots.ci.layout.setRowStretchFactor(0, 1)
        self.plots.ci.layout.setRowStretchFactor(1, 2)
        for plot in (self.wave, self.spectrum):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=True, y=False)
            plot.getAxis("left").setWidth(AXIS_WIDTH)
        self.wave.hideAxis("bottom")
        self.wave.setYRange(-1, 1, padding=0.02)
        self.wave.getAxis("left").setTicks([[(-0.5, "−.5"), (0, "0"), (0.5, ".5")]])  # none at the edges: no overlap
        self.spectrum.setXLink(self.wave)
        self.spectrum.setLabel("left", "kHz")
        self.spectrum.setLabel("bottom", "time (s)")
        self.spectrum.getAxis("bottom").enableAutoSIPrefix(False)  # seconds, never "(x0.001)"
        self.spectrum.getAxis("left").setTicks([[(k, str(k)) for k in range(0, int(TOP_KHZ), 2)],
                                               [(k, "") for k in range(1, int(TOP_KHZ), 2)]])
        self.spectrum.setYRange(0, TOP_KHZ, padding=0)
        self.plots.ci.layout.setRowSpacing(0, 4)
        self.curve = self.wave.plot(pen=WAVE_PEN)
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(COLOURS)
        self.spectrum.addItem(self.image)

        self.body = QStackedWidget()
        self.body.addWidget(self.placeholder)
        self.body.addWidget(self.plots)
        self.body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.body.setMinimumHeight(150)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.info, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(header)
        layout.addWidget(self.body, 1)
        layout.addLayout(buttons)
        self.play_button.clicked.connect(self.play)
        self.export_button.clicked.connect(self._export)
        self.reset_button.clicked.connect(self.reset_zoom)
        self.set_clip(None)

    # -- the clip ---------------------------------------------------------------------------------

    def set_title(self, title: str) -> None:
        self.title.setText(f"<b>{title}</b>")

    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)

    def set_clip(self, samples: np.ndarray | None, spectrogram: np.ndarray | None = None, name: str = "") -> None:
        """Show (L,) float samples at 16 kHz (None: the placeholder); ``spectrogram`` is their
        ``spectrogram_db`` where it was made off the GUI thread. The time zoom stays while the length does."""
        previous = self.samples
        self.samples = None if samples is None else np.asarray(samples, np.float32)
        self.name = name or self.name
        for button in (self.play_button, self.export_button, self.reset_button):
            button.setEnabled(self.samples is not None)
        if self.samples is None:
            self.info.setText("")
            self.body.setCurrentWidget(self.placeholder)
            return
        self.body.setCurrentWidget(self.plots)
        duration = len(self.samples) / SAMPLE_RATE
        self.info.setText(describe_level(self.samples))
        self.curve.setData(np.arange(len(self.samples), dtype=np.float64) / SAMPLE_RATE, self.samples)
        db = spectrogram_db(self.samples) if spectrogram is None else spectrogram
        self.image.setImage(db, levels=(FLOOR_DB, 0.0), autoLevels=False)
        self.image.setRect(QRectF(0.0, 0.0, duration, TOP_KHZ))
        for plot in (self.wave, self.spectrum):
            plot.setLimits(xMin=0.0, xMax=duration, minXRange=min(0.01, duration))
        self.spectrum.setLimits(yMin=0.0, yMax=TOP_KHZ)
        if previous is None or len(previous) != len(self.samples):
            self.reset_zoom()

    def time_range(self) -> tuple[float, float]:
        """The seconds shown."""
        low, high = self.wave.getViewBox().viewRange()[0]
        return float(low), float(high)

    def link_time(self, other: AudioClip) -> None:
        """Zoom and pan together with ``other`` (clips of the same length)."""
        self.wave.setXLink(other.wave)

    @Slot()
    def reset_zoom(self) -> None:
        if self.samples is not None:
            self.wave.setXRange(0.0, len(self.samples) / SAMPLE_RATE, padding=0)

    # -- play and export --------------------------------------------------------------------------

    @Slot()
    def play(self) -> None:
        if self.samples is not None:
            self.message.emit(playback.play(self.samples, self.name))

    @Slot()
    def _export(self) -> None:
        if self.samples is None:
            return
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.name).strip("_") or "clip"
        path, _ = QFileDialog.getSaveFileName(self, "Export WAV", str(self.export_folder / f"{name}.wav"),
                                              "WAV audio (*.wav)")
        if path:
            self.export_to(path)

    def export_to(self, path: str | Path) -> Path:
        """Write the clip as a 16-bit mono 16 kHz WAV file."""
        path = Path(path).with_suffix(".wav")
        write_wav(path, self.samples)
        self.message.emit(f"Saved {path.name} ({describe_level(self.samples)})")
        return path
