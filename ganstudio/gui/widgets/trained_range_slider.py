"""A horizontal slider whose groove shows where the model was trained: a green band over the trained range
(StarGAN's binary attributes: 0 … 1) and an orange one over the extrapolation on either side, with ticks
at the whole numbers."""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

TRAINED = QColor("#59a14f")
EXTRAPOLATED = QColor("#f28e2b")
BAND = 4  # pixels: the bands' height, under the groove


class TrainedRangeSlider(QSlider):
    """Values from ``low`` to ``high`` in steps of 1/``resolution``; ``value_changed(float)``."""

    value_changed = Signal(float)

    def __init__(self, low: float = -1.0, high: float = 2.0, trained: tuple[float, float] = (0.0, 1.0),
                 resolution: int = 100, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.low, self.high, self.trained, self.resolution = low, high, trained, resolution
        self.setRange(round(low * resolution), round(high * resolution))
        self.setSingleStep(max(1, resolution // 20))
        self.setPageStep(resolution // 2)
        self.setTickPosition(QSlider.TickPosition.TicksAbove)
        self.setTickInterval(resolution)
        self.setToolTip(f"{trained[0]:g} … {trained[1]:g} (green) is what the model was trained on; beyond it "
                        "(orange) the model extrapolates")
        self.valueChanged.connect(self._on_value)

    def number(self) -> float:
        return self.value() / self.resolution

    def set_number(self, value: float) -> None:
        self.setValue(round(min(max(value, self.low), self.high) * self.resolution))

    def extrapolates(self) -> bool:
        """Is the value outside the trained range?"""
        return not self.trained[0] <= self.number() <= self.trained[1]

    @Slot(int)
    def _on_value(self, value: int) -> None:
        self.value_changed.emit(value / self.resolution)

    def _x(self, value: float, option: QStyleOptionSlider, groove: QRect, handle: QRect) -> int:
        """The x of the handle's centre at ``value``."""
        span = groove.width() - handle.width()
        position = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), round(value * self.resolution),
                                                  span, option.upsideDown)
        return groove.x() + position + handle.width() // 2

    def paintEvent(self, event) -> None:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self)
        painter = QPainter(self)
        y = min(groove.bottom() + 2, self.height() - BAND)
        edges = [self._x(v, option, groove, handle) for v in (self.low, *self.trained, self.high)]
        for (start, end), colour in zip(pairwise(edges), (EXTRAPOLATED, TRAINED, EXTRAPOLATED)):
            painter.fillRect(QRect(start, y, end - start, BAND), colour)
        painter.end()
        super().paintEvent(event)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), 140), hint.height() + BAND)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width(), hint.height() + BAND)
