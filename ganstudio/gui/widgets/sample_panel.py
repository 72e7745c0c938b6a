"""The live sample grid from the run's fixed inputs (z, or held-out inputs for a translation model),
with the timeline to scrub through its history."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ganstudio.data.base import SOURCE
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.gui.widgets.timeline import SampleTimeline
from ganstudio.models.base import Family

CAPTIONS = {  # (title, placeholder) for z models and for models that translate an input
    False: ("<b>Samples</b> from a fixed set of z", "Samples appear here once training starts.\nThe same 64 latent "
            "vectors are drawn every time, so you can watch each one evolve."),
    True: ("<b>Held-out inputs</b> | outputs | targets", "Translations appear here once training starts: rows of "
           "input | output | target\nfor the same held-out inputs every time, so you can watch each one evolve."),
}


class SamplePanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("sampleTitle")
        self.view = ImageView()
        self._caption = CAPTIONS[False]
        self.view.set_placeholder(self._caption[1])
        self.view.setObjectName("sampleGrid")
        self.timeline = SampleTimeline()
        self._image: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.timeline)
        self.timeline.frame_changed.connect(self._show_frame)
        self._set_title(None)

    def clear(self) -> None:
        self.timeline.clear()
        self._image = None
        self.view.set_array(None)
        self._set_title(None)

    def show_family(self, family: type[Family]) -> None:
        """Word the grid for ``family``: samples from z, or held-out inputs with outputs and targets."""
        self._caption = CAPTIONS[SOURCE in family.needs]
        self.view.set_placeholder(self._caption[1])
        self._set_title(None)

    def current_image(self) -> np.ndarray | None:
        return self._image

    def _set_title(self, step: int | None) -> None:
        self.title.setText(self._caption[0] + (f" — step {step:,}" if step is not None else ""))

    @Slot(int, object)
    def _show_frame(self, step: int, image: np.ndarray) -> None:
        self._image = image
        self.view.set_array(image)
        self._set_title(step)
