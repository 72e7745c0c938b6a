"""Sliders over the built-in faces' factors, for models trained on faces: they draw a fresh face (turn
the head, then sketch on it), and a strip shows the model's outputs along one factor."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QPushButton, QSlider, QWidget

from ganstudio.data.faces import FACTOR_NAMES, FACTOR_RANGES
from ganstudio.gui.widgets.image_view import ImageView

SLIDER_STEPS = 100


class FaceFactorsBox(QWidget):
    """``face_changed`` when a slider moves, ``strip_changed`` when the strip's factor changes,
    ``export_requested`` for the strip's animation; ``factors()`` reads the sliders."""

    face_changed = Signal()
    strip_changed = Signal()
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.sliders: dict[str, QSlider] = {}
        form = QFormLayout(self)
        for name in FACTOR_NAMES:
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, SLIDER_STEPS)
            slider.setValue(SLIDER_STEPS // 2)
            slider.valueChanged.connect(self.face_changed)
            self.sliders[name] = slider
            form.addRow(name.replace("_", " "), slider)
        self.strip_factor = QComboBox()
        for name in FACTOR_NAMES:
            self.strip_factor.addItem(name.replace("_", " "), name)
        self.strip = ImageView("Outputs along the factor")
        self.strip.setMinimumHeight(60)
        self.strip.setMaximumHeight(110)
        self.export = QPushButton("Export GIF/MP4…")
        self.export.setToolTip("The outputs as the factor goes from one end to the other and back")
        form.addRow("Strip along", self.strip_factor)
        form.addRow(self.strip)
        form.addRow(self.export)
        self.strip_factor.currentIndexChanged.connect(self.strip_changed)
        self.export.clicked.connect(self.export_requested)

    @property
    def along(self) -> str:
        """The factor the strip sweeps."""
        return self.strip_factor.currentData()

    def factors(self, along: str | None = None, steps: int = 1) -> dict[str, np.ndarray]:
        """name -> (steps,) float32 factors at the sliders; ``along`` sweeps that one end to end."""
        factors = {}
        for name, slider in self.sliders.items():
            low, high = FACTOR_RANGES[name]
            value = low + (high - low) * slider.value() / SLIDER_STEPS
            factors[name] = (np.linspace(low, high, steps, dtype=np.float32) if name == along
                             else np.full(steps, value, np.float32))
        return factors
