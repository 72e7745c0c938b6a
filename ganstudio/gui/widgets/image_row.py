"""A row of small images, each with a caption under it (e.g. a cycle: input | translation | back again)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from ganstudio.gui.widgets.image_view import ImageView

CELL_MIN = 72  # pixels per side of each image at the least


class ImageRow(QWidget):
    """``set_images((N, H, W, C) uint8)`` fills the cells left to right; ``set_captions`` names them."""

    def __init__(self, captions: list[str], placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # square cells (resizeEvent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(2)
        self.views: list[ImageView] = []
        self.captions: list[QLabel] = []
        for column, caption in enumerate(captions):
            view = ImageView(placeholder if column == 0 else "")
            view.setMinimumSize(CELL_MIN, CELL_MIN)
            label = QLabel(caption)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            label.setWordWrap(True)
            self._grid.addWidget(view, 0, column)
            self._grid.addWidget(label, 1, column)
            self._grid.setColumnStretch(column, 1)
            self.views.append(view)
            self.captions.append(label)
        self._grid.setRowStretch(0, 1)

    def set_images(self, images: np.ndarray | None) -> None:
        for i, view in enumerate(self.views):
            view.set_array(None if images is None or i >= len(images) else images[i])

    def set_captions(self, captions: list[str]) -> None:
        for label, text in zip(self.captions, captions):
            label.setText(text)

    def shown(self) -> int:
        """How many cells show an image."""
        return sum(view.image() is not None for view in self.views)

    def _height_for(self, width: int) -> int:
        """Square images plus the captions' line."""
        spacing = self._grid.horizontalSpacing() * (len(self.views) - 1)
        side = max(CELL_MIN, (width - spacing) // max(1, len(self.views)))
        caption = max(label.heightForWidth(side) for label in self.captions)
        return side + self._grid.verticalSpacing() + max(caption, self.captions[0].sizeHint().height())

    def resizeEvent(self, event) -> None:
        """As tall as square cells at this width need (layouts in group boxes ignore height-for-width)."""
        super().resizeEvent(event)
        height = self._height_for(event.size().width())
        if height != self.height():
            self.setFixedHeight(height)

    def sizeHint(self) -> QSize:
        return QSize(3 * 110, self._height_for(3 * 110))
