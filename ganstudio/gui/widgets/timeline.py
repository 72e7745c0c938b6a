"""The sample history of a run: a slider that scrubs back through earlier grids."""

from __future__ import annotations

import bisect
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from ganstudio.images import read_png

_read_png = lru_cache(maxsize=64)(read_png)  # scrubbing back and forth re-reads nothing


class SampleTimeline(QWidget):
    """Grid PNGs by step. ``frame_changed(step, image)`` fires when the shown grid changes;
    following the newest grid is on until the person drags the slider back."""

    frame_changed = Signal(int, object)  # step, (H, W, C) uint8

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._steps: list[int] = []
        self._paths: list[Path] = []
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timelineSlider")
        self.slider.setEnabled(False)
        self.slider.setToolTip("Scrub through the sample grids of this run")
        self.label = QLabel("no samples yet")
        self.label.setMinimumWidth(110)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Timeline"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._on_value_changed)

    @property
    def steps(self) -> list[int]:
        return list(self._steps)

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    def clear(self) -> None:
        self._steps, self._paths = [], []
        self.slider.setEnabled(False)
        self.slider.setRange(0, 0)
        self.label.setText("no samples yet")

    def set_history(self, frames: list[tuple[int, Path]]) -> None:
        """Replace the history with (step, PNG path) pairs and show the newest."""
        self.clear()
        for step, path in frames:
            self.add_frame(step, path)

    def add_frame(self, step: int, path: Path) -> None:
        """Append (or replace) the grid of ``step``; follows it if the slider was at the end."""
        following = self.slider.value() >= len(self._steps) - 1
        i = bisect.bisect_left(self._steps, step)
        if i < len(self._steps) and self._steps[i] == step:
            self._paths[i] = path
            _read_png.cache_clear()
        else:
            self._steps.insert(i, step)
            self._paths.insert(i, path)
        self.slider.setEnabled(True)
        self.slider.setRange(0, len(self._steps) - 1)
        if following:
            self.slider.setValue(len(self._steps) - 1)
        self._on_value_changed(self.slider.value())

    def seek_to_step(self, step: int) -> None:
        """Show the grid nearest to ``step``."""
        if not self._steps:
            return
        i = bisect.bisect_left(self._steps, step)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(self._steps)]
        self.slider.setValue(min(candidates, key=lambda j: abs(self._steps[j] - step)))

    def current_step(self) -> int | None:
        return self._steps[self.slider.value()] if self._steps else None

    @Slot(int)
    def _on_value_changed(self, index: int) -> None:
        if not self._steps:
            return
        self.label.setText(f"step {self._steps[index]:,}  ({index + 1}/{len(self._steps)})")
        try:
            image = _read_png(self._paths[index])
        except OSError:
            return
        self.frame_changed.emit(self._steps[index], image)
