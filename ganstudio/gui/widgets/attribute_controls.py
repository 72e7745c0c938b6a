"""StarGAN in the explorer: one slider per attribute from −1 to 2 (0 … 1 is what the model was trained on;
beyond it the model extrapolates: marked on the groove and by a note), starting at the input's attributes;
beside each slider, what the model's own classifier (D's attribute head) reads on the output, after every
render; and a strip along one attribute from 0 to 1 with the others held (the one last moved)."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ganstudio.data.base import ATTRIBUTES
from ganstudio.data.faces import ATTRIBUTES as FACE_ATTRIBUTES
from ganstudio.data.faces import face_attributes
from ganstudio.gui.render_service import RenderService
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.gui.widgets.target_control import Factors, TargetControl
from ganstudio.gui.widgets.trained_range_slider import EXTRAPOLATED, TrainedRangeSlider
from ganstudio.images import image_grid
from ganstudio.snapshot import GeneratorSnapshot

READOUT, INPUT_READ, STRIP = "attributes-readout", "attributes-input", "attributes-strip"
STRIP_STEPS = 7
LOW, HIGH = -1.0, 2.0  # the sliders' range; the model was trained on 0 … 1


def read_output(source: np.ndarray, target: np.ndarray, snapshot: GeneratorSnapshot) -> np.ndarray:
    """(1, H, W, C) source, (K,) target -> (K,) probabilities D's classifier reads on the translation."""
    return snapshot.read_attributes(snapshot.translate(source, target=target))[0]


def read_input(image: np.ndarray, snapshot: GeneratorSnapshot) -> np.ndarray:
    """(1, H, W, C) image -> (K,) probabilities D's classifier reads on it."""
    return snapshot.read_attributes(image)[0]


def attribute_strip(source: np.ndarray, target: np.ndarray, index: int, steps: int,
                    snapshot: GeneratorSnapshot) -> np.ndarray:
    """(steps, H, W, C): ``source`` translated with attribute ``index`` from 0 to 1, the others at ``target``."""
    codes = np.repeat(target[None], steps, axis=0)
    codes[:, index] = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    return snapshot.translate(np.repeat(source, steps, axis=0), target=codes)


def words(name: str) -> str:
    return name.replace("_", " ")


class AttributeControls(TargetControl):
    """The attribute sliders, D's readout of the output, the extrapolation note and the strip."""

    channels = (READOUT, INPUT_READ, STRIP)

    def __init__(self, renderer: RenderService, parent: QWidget | None = None):
        super().__init__(renderer, parent)
        self.names: tuple[str, ...] = ()
        self.sliders: list[TrainedRangeSlider] = []
        self.value_labels: list[QLabel] = []
        self.readout: list[QProgressBar] = []  # D's reading of the output, a bar and a percentage per attribute
        self.readout_labels: list[QLabel] = []
        self.reading: np.ndarray | None = None  # (K,): what D read on the last output shown
        self.input_attributes: np.ndarray | None = None  # (K,): the input's, where the sliders started
        self.last_moved = 0
        self._source: np.ndarray | None = None  # (H, W, C): the input of the last render
        self._quiet = False

        self.box = QGroupBox("Attributes — translate into")
        self.rows = QWidget()
        self.box_layout = QVBoxLayout(self.box)
        self.box_layout.addWidget(self.rows)
        self.legend = QLabel(f"<span style='color:#59a14f'>■</span> 0 … 1 trained  "
                             f"<span style='color:{EXTRAPOLATED.name()}'>■</span> beyond: extrapolation")
        self.legend.setStyleSheet("color: gray")
        self.note = QLabel()
        self.note.setObjectName("extrapolationNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {EXTRAPOLATED.name()}; font-weight: bold")
        self.note.hide()
        self.reset = QPushButton("Back to the input's attributes")
        self.reset.setToolTip("Set every slider to the attributes of the input (what the model should leave as is)")
        footer = QHBoxLayout()
        footer.addWidget(self.legend, 1)
        footer.addWidget(self.reset)
        self.box_layout.addLayout(footer)
        self.box_layout.addWidget(self.note)

        self.strip_attribute = QComboBox()
        self.strip_attribute.setToolTip("The attribute the strip sweeps from 0 to 1 (the last slider moved)")
        self.strip = ImageView("The strip appears here.")
        self.strip.setMinimumSize(120, 48)
        self.strip.setMaximumHeight(100)
        strip_box = QGroupBox("Strip — one attribute from 0 to 1, the others held")
        strip_layout = QVBoxLayout(strip_box)
        along = QHBoxLayout()
        along.addWidget(QLabel("along"))
        along.addWidget(self.strip_attribute, 1)
        strip_layout.addLayout(along)
        strip_layout.addWidget(self.strip)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(strip_box)
        self.reset.clicked.connect(self._reset)
        self.strip_attribute.currentIndexChanged.connect(self._render_strip)

    @staticmethod
    def serves(snapshot: GeneratorSnapshot) -> bool:
        return snapshot.takes_target and (snapshot.target_size > 1 or len(snapshot.domain_names) == 1)

    # -- building the rows ------------------------------------------------------------------------

    def set_snapshot(self, snapshot: GeneratorSnapshot) -> None:
        super().set_snapshot(snapshot)
        names = tuple(snapshot.domain_names) or tuple(f"attribute {i + 1}" for i in range(snapshot.target_size))
        if names != self.names:
            self._build_rows(names)
        for widget in (self.readout_header, *self.readout, *self.readout_labels):  # an ONNX export has no D
            widget.setVisible(snapshot.reader is not None)

    def _build_rows(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.box_layout.removeWidget(self.rows)
        self.rows.deleteLater()
        self.rows = QWidget()
        grid = QGridLayout(self.rows)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        header = self.readout_header = QLabel("D reads the output")
        header.setToolTip("The model's own attribute classifier (its discriminator's second head) on the output")
        header.setStyleSheet("color: gray")
        grid.addWidget(header, 0, 3, 1, 2, Qt.AlignmentFlag.AlignRight)
        self.sliders, self.value_labels, self.readout, self.readout_labels = [], [], [], []
        for i, name in enumerate(names):
            label = QLabel(words(name))
            slider = TrainedRangeSlider(LOW, HIGH)
            slider.setObjectName(f"attribute_{name}")
            slider.setMinimumWidth(110)
            value = QLabel("0.00")
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("−0.00") + 4)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setValue(0)
            bar.setTextVisible(False)
            bar.setFixedSize(64, 10)
            bar.setToolTip(f"How sure D's classifier is that the output shows {words(name)}")
            percent = QLabel("–")
            percent.setMinimumWidth(percent.fontMetrics().horizontalAdvance("100%") + 2)
            percent.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            percent.setToolTip(bar.toolTip())
            for column, widget in enumerate((label, slider, value, bar, percent)):
                grid.addWidget(widget, i + 1, column)
            self.readout_labels.append(percent)
            slider.value_changed.connect(partial(self._on_slider, i))
            self.sliders.append(slider)
            self.value_labels.append(value)
            self.readout.append(bar)
        grid.setColumnStretch(1, 1)
        self.box_layout.insertWidget(0, self.rows)
        self.strip_attribute.blockSignals(True)
        self.strip_attribute.clear()
        self.strip_attribute.addItems([words(name) for name in names])
        self.strip_attribute.blockSignals(False)
        self.last_moved, self.reading, self.input_attributes = 0, None, None
        self._show_values()

    # -- the target -------------------------------------------------------------------------------

    def target(self) -> np.ndarray:
        return np.array([slider.number() for slider in self.sliders], np.float32)

    def set_target(self, values: np.ndarray, quiet: bool = False) -> None:
        """Set the sliders (values outside −1 … 2 are clipped); ``quiet``: without emitting ``changed``."""
        self._quiet = True
        try:
            for slider, value in zip(self.sliders, np.asarray(values, np.float32).reshape(-1)):
                slider.set_number(float(value))
        finally:
            self._quiet = False
        self._show_values()
        if not quiet:
            self.changed.emit()

    def describe_target(self) -> str:
        on = [words(name) for name, value in zip(self.names, self.target()) if value >= 0.5]
        return ("with " + ", ".join(on) if on else "with none of the attributes") + (
            " (extrapolating)" if self.extrapolating() else "")

    def describe_fixed(self) -> str:
        count = len(self.snapshot.fixed.get(ATTRIBUTES, ())) if self.snapshot is not None else 0
        return f"{count} faces, each with its own attributes (the sliders start at them)" if count else ""

    def extrapolating(self) -> list[str]:
        """The attributes set outside the trained range 0 … 1."""
        return [name for name, slider in zip(self.names, self.sliders) if slider.extrapolates()]

    def _on_slider(self, index: int, _value: float) -> None:
        if self._quiet:
            return
        self.last_moved = index
        self._show_values()
        if self.strip_attribute.currentIndex() != index:
            self.strip_attribute.blockSignals(True)  # the render below draws the strip along it
            self.strip_attribute.setCurrentIndex(index)
            self.strip_attribute.blockSignals(False)
        self.changed.emit()

    def _show_values(self) -> None:
        for slider, label in zip(self.sliders, self.value_labels):
            label.setText(f"{slider.number():.2f}".replace("-", "−"))
            label.setStyleSheet(f"color: {EXTRAPOLATED.name()}; font-weight: bold" if slider.extrapolates() else "")
        outside = self.extrapolating()
        self.note.setText(f"Extrapolating: {', '.join(words(n) for n in outside)} outside 0 … 1, where the model "
                          "was never trained; expect anything." if outside else "")
        self.note.setVisible(bool(outside))

    @Slot()
    def _reset(self) -> None:
        if self.input_attributes is not None:
            self.set_target(self.input_attributes)

    def start_from(self, fixed_index: int | None = None, factors: Factors | None = None,
                   image: np.ndarray | None = None) -> None:
        """The sliders start at the input's attributes: a held-out input's own, a drawn face's (exact, from
        its factors), or for a loaded image what D's classifier reads on it (when the answer comes)."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        if fixed_index is not None and ATTRIBUTES in snapshot.fixed:
            self._start_at(snapshot.fixed[ATTRIBUTES][fixed_index].numpy())
        elif factors is not None and self.names == tuple(FACE_ATTRIBUTES):
            self._start_at(face_attributes(factors)[0])
        elif image is not None and snapshot.reader is not None:
            self.renderer.submit(INPUT_READ, partial(read_input, np.array(image[None], np.uint8)))

    def _start_at(self, attributes: np.ndarray, quiet: bool = True) -> None:
        self.input_attributes = np.array(attributes, np.float32)
        self.set_target(self.input_attributes, quiet=quiet)

    # -- rendering --------------------------------------------------------------------------------

    def render_extras(self, source: np.ndarray) -> None:
        self._source = np.array(source, np.uint8)
        if self.snapshot is not None and self.snapshot.reader is not None:
            self.renderer.submit(READOUT, partial(read_output, self._source[None], self.target()))
        self._render_strip()

    @Slot()
    def _render_strip(self) -> None:
        if self._source is not None and self.sliders:
            index = max(0, self.strip_attribute.currentIndex())
            self.renderer.submit(STRIP, partial(attribute_strip, self._source[None], self.target(), index,
                                                STRIP_STEPS))

    def on_rendered(self, channel: str, result: object) -> None:
        if channel == READOUT and len(result) == len(self.readout):
            self.reading = np.array(result)
            for bar, label, p in zip(self.readout, self.readout_labels, self.reading):
                bar.setValue(round(100 * float(p)))
                label.setText(f"{100 * float(p):.0f}%")
        elif channel == INPUT_READ and len(result) == len(self.sliders):
            self._start_at(np.array(result), quiet=False)
        elif channel == STRIP:
            self.strip.set_array(image_grid(result, columns=len(result), padding=1))
