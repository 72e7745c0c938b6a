"""Interpolation between two ends A and B (latent codes, or a translation model's inputs): lerp or slerp,
a scrub slider and an animated play."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QSlider, QWidget

from ganstudio.latent.walks import INTERPOLATIONS, interpolation_path

TICKS = 100


class InterpolationPane(QWidget):
    """``position_changed(t)`` while scrubbing or playing (t in [0, 1]); A and B are set from outside."""

    position_changed = Signal(float)
    export_requested = Signal()

    def __init__(self, methods: tuple[str, ...] = tuple(INTERPOLATIONS), what: str = "codes",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.a: np.ndarray | None = None
        self.b: np.ndarray | None = None
        self.set_a = QPushButton("A ← current")
        self.set_b = QPushButton("B ← current")
        self.method = QComboBox()
        self.method.addItems(list(methods))
        self.method.setCurrentText("slerp" if "slerp" in methods else methods[0])
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setObjectName("interpolationScrub")
        self.scrub.setRange(0, TICKS)
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.export = QPushButton("Export GIF/MP4…")
        self._hint = f"Set A and B from the {what} you like."
        self.status = QLabel(self._hint)
        self.status.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(self.set_a, 0, 0)
        grid.addWidget(self.set_b, 0, 1)
        if len(methods) > 1:
            grid.addWidget(QLabel("path"), 1, 0)
            grid.addWidget(self.method, 1, 1)
        else:
            self.method.hide()
        grid.addWidget(self.scrub, 2, 0, 1, 2)
        grid.addWidget(self.play, 3, 0)
        grid.addWidget(self.export, 3, 1)
        grid.addWidget(self.status, 4, 0, 1, 2)
        grid.setRowStretch(5, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._advance)
        self._direction = 1
        self.scrub.valueChanged.connect(self._on_scrub)
        self.play.toggled.connect(self._on_play)
        self.export.clicked.connect(self.export_requested)
        self._update_enabled()

    def set_end(self, which: str, z: np.ndarray) -> None:
        setattr(self, which, np.array(z, np.float32))
        self.status.setText(f"A {'set' if self.a is not None else '—'},  B {'set' if self.b is not None else '—'}."
                            + ("  Scrub or play." if self.ready else ""))
        self._update_enabled()

    def clear_ends(self) -> None:
        """Forget A and B (e.g. for a model of another shape)."""
        self.a = self.b = None
        self.status.setText(self._hint)
        self._update_enabled()

    @property
    def ready(self) -> bool:
        return self.a is not None and self.b is not None and self.a.shape == self.b.shape

    def path(self, steps: int) -> np.ndarray:
        return interpolation_path(self.a, self.b, steps, self.method.currentText())

    def code_at(self, t: float) -> np.ndarray:
        return INTERPOLATIONS[self.method.currentText()](self.a, self.b, t)

    def _update_enabled(self) -> None:
        for widget in (self.scrub, self.play, self.export):
            widget.setEnabled(self.ready)

    @Slot(int)
    def _on_scrub(self, value: int) -> None:
        if self.ready:
            self.position_changed.emit(value / TICKS)

    @Slot(bool)
    def _on_play(self, playing: bool) -> None:
        self.play.setText("Pause" if playing else "Play")
        self._timer.start() if playing else self._timer.stop()

    @Slot()
    def _advance(self) -> None:
        value = self.scrub.value() + 2 * self._direction
        if not 0 <= value <= TICKS:
            self._direction *= -1
            value = min(max(value, 0), TICKS)
        self.scrub.setValue(value)
