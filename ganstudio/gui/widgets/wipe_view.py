"""Two images of one size in one view, split by a vertical wipe: left of the line the first image, right of
it the second, each labelled; the mouse drags the line. A zoom lens follows the mouse and shows the pixels
under it enlarged (nearest), the same spot of both images side by side."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ganstudio.gui.widgets.image_view import BACKGROUND, PLACEHOLDER, qimage_from_array

LENS_SIDE = 180  # screen pixels of each of the lens's two panels, at the most
LENS_MIN_ZOOM = 4  # screen pixels per image pixel in the lens, at the least ...
LENS_VIEW_ZOOM = 2  # ... and at least this many times the view's own enlargement
LENS_GAP = 24  # between the pointer and the lens
HANDLE_RADIUS = 14
GRAB_DISTANCE = 8  # screen pixels from the line within which the pointer shows it can be dragged
LABEL_BACK = QColor(0, 0, 0, 170)
MARKER = QColor("#ffd54a")


class WipeView(QWidget):
    """``set_images(left, right)`` with two (H, W, C) uint8 arrays of one shape; ``split`` (0..1, the line's
    place across the image) follows the mouse while a button is held; ``split_changed(split)``."""

    split_changed = Signal(float)

    def __init__(self, captions: tuple[str, str] = ("left", "right"), placeholder: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.captions = captions
        self.split = 0.5
        self.lens_enabled = True
        self._placeholder = placeholder
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None
        self._images: tuple[QImage, QImage] | None = None
        self._scaled: tuple[QSize, QPixmap, QPixmap] | None = None  # both images at the view's size
        self._pointer: QPoint | None = None  # over the image
        self._dragging = False
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 240)

    # -- contents ---------------------------------------------------------------------------------

    def set_images(self, left: np.ndarray | None, right: np.ndarray | None) -> None:
        if left is None or right is None:
            self._arrays = self._images = None
        else:
            if left.shape != right.shape:
                raise ValueError(f"the two images differ in shape: {left.shape} and {right.shape}")
            self._arrays = (left, right)
            self._images = (qimage_from_array(left), qimage_from_array(right))
        self._scaled = None
        self.update()

    def set_captions(self, left: str, right: str) -> None:
        self.captions = (left, right)
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.set_images(None, None)

    def images(self) -> tuple[np.ndarray, np.ndarray] | None:
        return self._arrays

    def set_split(self, split: float) -> None:
        split = min(max(float(split), 0.0), 1.0)
        if split != self.split:
            self.split = split
            self.update()
            self.split_changed.emit(split)

    def set_lens_enabled(self, enabled: bool) -> None:
        self.lens_enabled = enabled
        self.update()

    # -- geometry ---------------------------------------------------------------------------------

    def image_rect(self) -> QRect:
        """Where the images are drawn: scaled to fit, centred."""
        if self._images is None:
            return QRect()
        size = self._images[0].size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        rect = QRect(0, 0, max(1, size.width()), max(1, size.height()))
        rect.moveCenter(self.rect().center())
        return rect

    def split_x(self) -> int:
        """The line's x in the widget."""
        rect = self.image_rect()
        return rect.left() + round(self.split * rect.width())

    def image_point(self, pos: QPoint) -> tuple[int, int] | None:
        """The image pixel (x, y) under ``pos``, or None off the image."""
        rect = self.image_rect()
        if self._images is None or not rect.contains(pos):
            return None
        w, h = self._images[0].width(), self._images[0].height()
        x = (pos.x() - rect.left()) * w // rect.width()
        y = (pos.y() - rect.top()) * h // rect.height()
        return min(max(x, 0), w - 1), min(max(y, 0), h - 1)

    def lens_zoom(self) -> int:
        """Screen pixels per image pixel in the lens."""
        if self._images is None:
            return LENS_MIN_ZOOM
        view_zoom = self.image_rect().width() / self._images[0].width()
        return max(LENS_MIN_ZOOM, math.ceil(LENS_VIEW_ZOOM * view_zoom))

    def lens_box(self) -> tuple[int, int, int, int] | None:
        """(x, y, side, zoom): the square of image pixels the lens shows (left, top, side) and its
        enlargement; None while no lens shows."""
        if not self.lens_enabled or self._dragging or self._pointer is None or self._images is None:
            return None
        point = self.image_point(self._pointer)
        if point is None:
            return None
        w, h = self._images[0].width(), self._images[0].height()
        zoom = self.lens_zoom()
        side = max(1, min(LENS_SIDE // zoom, w, h))
        x = min(max(point[0] - side // 2, 0), w - side)
        y = min(max(point[1] - side // 2, 0), h - side)
        return x, y, side, zoom

    def lens_crops(self) -> tuple[np.ndarray, np.ndarray] | None:
        """What the lens shows: the pixels under it of both images, each enlarged (nearest)."""
        box = self.lens_box()
        if box is None or self._arrays is None:
            return None
        x, y, side, zoom = box
        return tuple(np.repeat(np.repeat(a[y:y + side, x:x + side], zoom, 0), zoom, 1) for a in self._arrays)

    def lens_rects(self) -> tuple[QRect, QRect] | None:
        """Where the lens's two panels are drawn: beside the pointer, inside the widget."""
        box = self.lens_box()
        if box is None:
            return None
        panel = box[2] * box[3]
        width = 2 * panel + 4
        p = self._pointer
        left = p.x() + LENS_GAP if p.x() + LENS_GAP + width <= self.width() else p.x() - LENS_GAP - width
        top = p.y() + LENS_GAP if p.y() + LENS_GAP + panel <= self.height() else p.y() - LENS_GAP - panel
        left, top = max(0, left), max(0, top)
        return QRect(left, top, panel, panel), QRect(left + panel + 4, top, panel, panel)

    def sizeHint(self) -> QSize:
        return QSize(560, 560)

    # -- painting ---------------------------------------------------------------------------------

    def _pixmaps(self, size: QSize) -> tuple[QPixmap, QPixmap]:
        """Both images at the view's size (smooth when shrunk, nearest when enlarged), cached."""
        if self._scaled is None or self._scaled[0] != size:
            shrink = size.width() < self._images[0].width()
            mode = Qt.TransformationMode.SmoothTransformation if shrink else Qt.TransformationMode.FastTransformation
            left, right = (QPixmap.fromImage(image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, mode))
                           for image in self._images)
            self._scaled = (size, left, right)
        return self._scaled[1], self._scaled[2]

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._images is None:
            painter.setPen(PLACEHOLDER)
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        rect = self.image_rect()
        left, right = self._pixmaps(rect.size())
        cut = self.split_x() - rect.left()
        painter.drawPixmap(rect.topLeft(), left, QRect(0, 0, cut, rect.height()))
        painter.drawPixmap(QPoint(rect.left() + cut, rect.top()), right, QRect(cut, 0, rect.width() - cut, rect.height()))
        self._paint_line(painter, rect)
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        self._label(painter, rect.topLeft() + QPoint(8, 8), self.captions[0], Qt.AlignmentFlag.AlignLeft)
        self._label(painter, rect.topRight() + QPoint(-8, 8), self.captions[1], Qt.AlignmentFlag.AlignRight)
        self._paint_lens(painter, rect)

    def _paint_line(self, painter: QPainter, rect: QRect) -> None:
        x, y = self.split_x(), rect.center().y()
        painter.setPen(QPen(QColor(0, 0, 0, 150), 4))
        painter.drawLine(x, rect.top(), x, rect.bottom())
        painter.setPen(QPen(Qt.GlobalColor.white, 2))
        painter.drawLine(x, rect.top(), x, rect.bottom())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QColor(30, 30, 30, 200))
        painter.drawEllipse(QPoint(x, y), HANDLE_RADIUS, HANDLE_RADIUS)
        painter.setBrush(Qt.GlobalColor.white)
        painter.setPen(Qt.PenStyle.NoPen)
        for sign in (-1, 1):  # ◀ ▶: it moves sideways
            tip = x + sign * (HANDLE_RADIUS - 4)
            base = x + sign * 3
            painter.drawPolygon(QPolygonF([QPointF(tip, y), QPointF(base, y - 5), QPointF(base, y + 5)]))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _label(self, painter: QPainter, anchor: QPoint, text: str, align: Qt.AlignmentFlag) -> None:
        """``text`` in a dark box whose top-left (or top-right) corner is ``anchor``."""
        metrics = painter.fontMetrics()
        box = QRect(0, 0, metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
        box.moveTop(anchor.y())
        if align == Qt.AlignmentFlag.AlignRight:
            box.moveRight(anchor.x())
        else:
            box.moveLeft(anchor.x())
        painter.fillRect(box, LABEL_BACK)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_lens(self, painter: QPainter, rect: QRect) -> None:
        box, panels = self.lens_box(), self.lens_rects()
        if box is None or panels is None:
            return
        x, y, side, zoom = box
        scale = rect.width() / self._images[0].width()
        marker = QRect(rect.left() + round(x * scale), rect.top() + round(y * scale),
                       max(2, round(side * scale)), max(2, round(side * scale)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(MARKER, 1))
        painter.drawRect(marker)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        source = QRect(x, y, side, side)
        for panel, image, caption in zip(panels, self._images, self.captions):
            painter.fillRect(panel.adjusted(-2, -2, 2, 2), QColor(0, 0, 0, 200))
            painter.drawImage(panel, image, source)
            painter.setPen(QPen(MARKER, 1))
            painter.drawRect(panel.adjusted(-1, -1, 0, 0))
            self._label(painter, panel.topLeft() + QPoint(3, 3), caption, Qt.AlignmentFlag.AlignLeft)
        self._label(painter, panels[1].bottomRight() + QPoint(-3, -painter.fontMetrics().height() - 9),
                    f"×{zoom}", Qt.AlignmentFlag.AlignRight)

    # -- mouse ------------------------------------------------------------------------------------

    def _near_line(self, pos: QPoint) -> bool:
        return self._images is not None and abs(pos.x() - self.split_x()) <= GRAB_DISTANCE

    def _split_at(self, pos: QPoint) -> None:
        rect = self.image_rect()
        self.set_split((pos.x() - rect.left()) / rect.width())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if event.button() == Qt.MouseButton.LeftButton and self.image_point(pos) is not None:
            self._dragging = True
            self._split_at(pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if self._dragging:
            self._split_at(pos)
        self._pointer = pos if self.image_point(pos) is not None else None
        near = self._dragging or self._near_line(pos)
        self.setCursor(Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.CrossCursor)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging:
            self._split_at(event.position().toPoint())
            self._dragging = False
            self.update()

    def leaveEvent(self, event) -> None:
        self._pointer = None
        self.update()
