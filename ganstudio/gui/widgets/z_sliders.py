"""One compact slider per latent dimension (range ±3, value shown), in a scrollable list."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QSlider, QWidget

from ganstudio.gui.widgets.focus_slider import FocusSlider

SCALE = 100  # slider ticks per unit of z
EXTENT = 3.0


class ZSliders(QScrollArea):
    """``component_changed(index, value)`` while a slider moves; ``set_code`` shows a code silently."""

    component_changed = Signal(int, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.sliders: list[QSlider] = []
        self._values: list[QLabel] = []
        self.set_dimensions(0)

    def set_dimensions(self, latent_dim: int) -> None:
        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setVerticalSpacing(0)
        self.sliders, self._values = [], []
        for i in range(latent_dim):
            slider = FocusSlider()
            slider.setRange(int(-EXTENT * SCALE), int(EXTENT * SCALE))
            slider.setObjectName(f"z{i}")
            slider.valueChanged.connect(self._on_slider)
            value = QLabel("0.00")
            value.setMinimumWidth(40)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(QLabel(f"z{i}"), i, 0)
            grid.addWidget(slider, i, 1)
            grid.addWidget(value, i, 2)
            self.sliders.append(slider)
            self._values.append(value)
        self.setWidget(inner)

    def set_code(self, z: np.ndarray) -> None:
        for slider, label, v in zip(self.sliders, self._values, z):
            slider.blockSignals(True)
            slider.setValue(int(round(float(np.clip(v, -EXTENT, EXTENT)) * SCALE)))
            slider.blockSignals(False)
            label.setText(f"{v:+.2f}")

    @Slot(int)
    def _on_slider(self, ticks: int) -> None:
        index = self.sliders.index(self.sender())
        value = ticks / SCALE
        self._values[index].setText(f"{value:+.2f}")
        self.component_changed.emit(index, value)
