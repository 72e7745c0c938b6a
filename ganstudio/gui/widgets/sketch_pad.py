"""A drawing surface for image-to-image models: draw with the left button, erase with the right, or load
an image. It paints on a canvas of ``CANVAS`` pixels and hands out the drawing at the model's size, so
pen strokes stay smooth at any model resolution."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ganstudio.gui.widgets.image_view import qimage_from_array

CANVAS = 256  # the drawing's own resolution, pixels per side
PEN_MODEL_PIXELS = 1.5  # the pen's width in the model's pixels (the data's edges are 1-2 pixels wide)


class SketchPad(QWidget):
    """``drawn`` is emitted at every pen move; ``array()`` is the drawing as (size, size, channels) uint8."""

    drawn = Signal()

    def __init__(self, size: int = 32, channels: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        self.size, self.channels = size, channels
        self.pen_width = PEN_MODEL_PIXELS * CANVAS / size  # canvas pixels
        self.canvas = QImage(CANVAS, CANVAS, QImage.Format.Format_RGB32)
        self.canvas.fill(Qt.GlobalColor.white)
        self._last: QPointF | None = None
        self._exact: np.ndarray | None = None  # an image set at the model's shape, until drawn upon
        self._colour = QColor(Qt.GlobalColor.black)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the left mouse button, erase with the right")

    def set_model_shape(self, size: int, channels: int) -> None:
        """The size and channels ``array()`` returns (the model's source images)."""
        if (size, channels) != (self.size, self.channels):
            self._exact = None
        self.size, self.channels = size, channels
        self.pen_width = PEN_MODEL_PIXELS * CANVAS / size

    def clear(self) -> None:
        self._exact = None
        self.canvas.fill(Qt.GlobalColor.white)
        self.update()
        self.drawn.emit()

    def set_array(self, image: np.ndarray) -> None:
        """Show an (H, W, C) uint8 image (e.g. a held-out input) as the drawing to start from, enlarged
        pixel by pixel (so the first stroke does not soften it); until it is drawn upon, ``array()``
        returns it exactly when it has the model's shape."""
        fits = image.shape == (self.size, self.size, self.channels)
        self._exact = np.array(image, np.uint8) if fits else None
        self.canvas = qimage_from_array(image).convertToFormat(QImage.Format.Format_RGB32).scaled(
            CANVAS, CANVAS, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)
        self.update()
        self.drawn.emit()

    def array(self) -> np.ndarray:
        """(size, size, channels) uint8: the drawing scaled to the model's size (area-averaged)."""
        if self._exact is not None:
            return self._exact.copy()
        small = self.canvas.scaled(self.size, self.size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
        small = small.convertToFormat(QImage.Format.Format_RGB888)
        rgb = np.frombuffer(small.constBits(), np.uint8).reshape(self.size, small.bytesPerLine())
        rgb = rgb[:, :self.size * 3].reshape(self.size, self.size, 3)
        if self.channels == 3:
            return rgb.copy()
        return np.rint(rgb @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)[..., None]

    # -- drawing ----------------------------------------------------------------------------------

    def _to_canvas(self, point: QPointF) -> QPointF:
        side = self._side()
        x0, y0 = (self.width() - side) / 2, (self.height() - side) / 2
        return QPointF((point.x() - x0) * CANVAS / side, (point.y() - y0) * CANVAS / side)

    def _side(self) -> float:
        return max(1.0, min(self.width(), self.height()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        erase = event.button() == Qt.MouseButton.RightButton
        self._colour = QColor(Qt.GlobalColor.white if erase else Qt.GlobalColor.black)
        self._last = self._to_canvas(event.position())
        self._stroke(self._last)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None:
            self._stroke(self._to_canvas(event.position()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._last = None

    def _stroke(self, to: QPointF) -> None:
        self._exact = None
        painter = QPainter(self.canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = self.pen_width * (3 if self._colour == Qt.GlobalColor.white else 1)
        painter.setPen(QPen(self._colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(self._last, to)
        painter.end()
        self._last = to
        self.update()
        self.drawn.emit()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        side = self._side()
        target = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        painter.drawImage(target, self.canvas)
        painter.setPen(QColor(160, 160, 160))
        painter.drawRect(target.adjusted(0, 0, -1, -1))

    def sizeHint(self) -> QSize:
        return QSize(320, 320)
