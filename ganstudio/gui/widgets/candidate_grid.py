"""A row-major grid of candidate images to click on; marked ones get a coloured frame (A or B)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QSize, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ganstudio.gui.widgets.image_view import BACKGROUND, qimage_from_array

MARK_COLOURS = {"A": QColor("#f28e2b"), "B": QColor("#4e79a7")}
SELECTED = QColor("#e8e8e8")


class CandidateGrid(QWidget):
    """``clicked(index)`` when a candidate is clicked."""

    clicked = Signal(int)

    def __init__(self, columns: int = 8, parent: QWidget | None = None):
        super().__init__(parent)
        self.columns = columns
        self._images = []
        self.marks: dict[int, str] = {}
        self.selected: int | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(90)

    def set_images(self, images: np.ndarray) -> None:
        """(N, H, W, C) uint8."""
        self._images = [qimage_from_array(image) for image in images]
        self.update()

    def clear_marks(self) -> None:
        self.marks, self.selected = {}, None
        self.update()

    def cell_rect(self, index: int) -> QRect:
        size = self.width() // self.columns
        row, col = divmod(index, self.columns)
        return QRect(col * size, row * size, size, size)

    def sizeHint(self) -> QSize:
        rows = max(1, math.ceil(len(self._images) / self.columns))
        return QSize(480, rows * 60)

    def heightForWidth(self, width: int) -> int:
        return max(1, math.ceil(len(self._images) / self.columns)) * (width // self.columns)

    def hasHeightForWidth(self) -> bool:
        return True

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for i, image in enumerate(self._images):
            cell = self.cell_rect(i)
            painter.drawImage(cell.adjusted(3, 3, -3, -3), image)
            colour = MARK_COLOURS.get(self.marks.get(i)) or (SELECTED if i == self.selected else None)
            if colour is not None:
                painter.setPen(QPen(colour, 3))
                painter.drawRect(cell.adjusted(1, 1, -2, -2))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for i in range(len(self._images)):
            if self.cell_rect(i).contains(event.position().toPoint()):
                self.selected = i
                self.update()
                self.clicked.emit(i)
                return
