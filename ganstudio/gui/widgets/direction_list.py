"""Direction sliders: one row per direction with an editable name, the method's rank and score, a
strength slider (±5) and a traversal strip (7 images from -3 to +3)."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ganstudio.gui.widgets.focus_slider import FocusSlider
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.latent.directions import Direction

SCALE = 100
EXTENT = 5.0
METHOD_NAMES = {"sefa": "SeFa", "pca": "PCA", "supervised": "named", "marked": "from marks"}


def describe(d: Direction) -> str:
    score = {"sefa": "eigenvalue", "pca": "variance", "supervised": "R²", "marked": "R²"}.get(d.method, "score")
    rank = f" #{d.rank}" if d.rank else ""
    value = f"{d.score:.1%}" if d.method == "pca" else f"{d.score:.3g}"
    effect = f" — {d.effect}" if d.effect else ""
    return f"{METHOD_NAMES.get(d.method, d.method)}{rank} · {score} {value}{effect}"


class DirectionRow(QFrame):
    def __init__(self, direction: Direction, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = QLineEdit(direction.name)
        self.name.setToolTip(f"{direction.method}, layer {direction.layer or '-'}, from {direction.source or '?'}")
        self.info = QLabel(describe(direction))
        self.info.setStyleSheet("color: gray")
        self.info.setWordWrap(True)
        self.slider = FocusSlider()
        self.slider.setRange(int(-EXTENT * SCALE), int(EXTENT * SCALE))
        self.value = QLabel("+0.00")
        self.value.setMinimumWidth(40)
        self.export = QPushButton("PNG")
        self.export.setToolTip("Export this traversal strip as PNG")
        self.strip = ImageView("…")
        self.strip.setMinimumSize(200, 36)
        self.strip.setMaximumHeight(56)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.name, 0, 0)
        grid.addWidget(self.info, 0, 1, 1, 3)
        grid.addWidget(self.slider, 1, 0, 1, 2)
        grid.addWidget(self.value, 1, 2)
        grid.addWidget(self.export, 1, 3)
        grid.addWidget(self.strip, 2, 0, 1, 4)


class DirectionList(QScrollArea):
    """Rows for the directions of a LatentState; signals carry the row index."""

    strength_changed = Signal(int, float)
    renamed = Signal(int, str)
    export_strip = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.rows: list[DirectionRow] = []
        self.set_directions([])

    def set_directions(self, directions: list[Direction]) -> None:
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(2, 2, 2, 2)
        self.rows = []
        for i, d in enumerate(directions):
            row = DirectionRow(d)
            row.slider.valueChanged.connect(self._on_slider)
            row.name.editingFinished.connect(self._on_renamed)
            row.export.clicked.connect(self._on_export)
            layout.addWidget(row)
            self.rows.append(row)
        if not directions:
            hint = QLabel("No directions yet. Find some with SeFa, PCA or named directions, load a saved "
                          "set, or mark candidates A and B and fit the direction between them.")
            hint.setWordWrap(True)
            hint.setStyleSheet("color: gray")
            layout.addWidget(hint)
        layout.addStretch(1)
        self.setWidget(inner)

    def scroll_to(self, index: int) -> None:
        """Scroll row ``index`` to the top (the rows after it below, as many as fit)."""
        self.verticalScrollBar().setValue(self.rows[index].y())

    def set_strengths(self, strengths: list[float]) -> None:
        for row, s in zip(self.rows, strengths):
            row.slider.blockSignals(True)
            row.slider.setValue(int(round(s * SCALE)))
            row.slider.blockSignals(False)
            row.value.setText(f"{s:+.2f}")

    def _index_of(self, widget) -> int:
        return next(i for i, row in enumerate(self.rows) if widget in (row.slider, row.name, row.export))

    @Slot(int)
    def _on_slider(self, ticks: int) -> None:
        i = self._index_of(self.sender())
        self.rows[i].value.setText(f"{ticks / SCALE:+.2f}")
        self.strength_changed.emit(i, ticks / SCALE)

    @Slot()
    def _on_renamed(self) -> None:
        i = self._index_of(self.sender())
        self.renamed.emit(i, self.rows[i].name.text().strip() or f"direction {i + 1}")

    @Slot()
    def _on_export(self) -> None:
        self.export_strip.emit(self._index_of(self.sender()))
