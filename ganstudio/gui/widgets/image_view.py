"""An image scaled to fit, crisp: nearest-neighbour so 28 px samples stay sharp when enlarged."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor(38, 38, 40)  # dark and neutral: samples of any palette stand out
PLACEHOLDER = QColor(170, 170, 175)


def qimage_from_array(image: np.ndarray) -> QImage:
    """(H, W, C) uint8 with C in {1, 3} -> a QImage that owns a copy of the pixels."""
    image = np.ascontiguousarray(image)
    h, w, c = image.shape
    fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
    return QImage(image.data, w, h, w * c, fmt).copy()


class ImageView(QWidget):
    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self._placeholder = placeholder
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)

    def set_array(self, image: np.ndarray | None) -> None:
        self._image = None if image is None else qimage_from_array(image)
        self.update()

    def set_placeholder(self, text: str) -> None:
        """Show ``text`` instead of an image."""
        self._placeholder = text
        self.set_array(None)

    def image(self) -> QImage | None:
        return self._image

    def sizeHint(self) -> QSize:
        return QSize(480, 480)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is None:
            painter.setPen(PLACEHOLDER)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(self.rect().center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, self._image)
