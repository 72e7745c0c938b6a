"""The Explore tab's body for image-to-image models (pix2pix): a sketch pad whose output follows the pen,
the run's held-out inputs to start from, sliders over the faces' factors that draw a fresh input (turn
the head, then sketch on it) with a strip of outputs along one factor (and its GIF), fresh dropout noise,
and export of input and output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ganstudio.data.base import SOURCE
from ganstudio.data.faces import FACTOR_NAMES, FACTOR_RANGES, render_faces, render_outlines
from ganstudio.data.pairs import make_sources
from ganstudio.gui.render_service import RenderService
from ganstudio.gui.widgets.candidate_grid import CandidateGrid
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.gui.widgets.sketch_pad import SketchPad
from ganstudio.images import image_grid, save_gif, save_png, to_uint8
from ganstudio.snapshot import GeneratorSnapshot

SLIDER_STEPS = 100
STRIP_STEPS, GIF_FRAMES = 7, 24  # outputs in the factor strip; frames of its GIF (there and back)


class SketchPanel(QWidget):
    """``set_snapshot(snapshot)`` with a translating snapshot; ``output_shown`` after each new output."""

    output_shown = Signal()
    message = Signal(str)

    def __init__(self, renderer: RenderService, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.snapshot: GeneratorSnapshot | None = None
        self.noise_seed = 0
        self.output: np.ndarray | None = None
        self.has_factors = False  # faces data: sliders over its factors draw inputs
        self.pad = SketchPad()
        self.view = ImageView("The model's output for the drawing appears here.")
        self.view.setMinimumSize(240, 240)
        self.held_out = CandidateGrid(columns=8)
        self.held_out.setToolTip("Inputs the run kept out of training: click one to start from it")
        self.clear = QPushButton("Clear")
        self.load = QPushButton("Load image…")
        self.resample = QPushButton("Resample noise")
        self.resample.setToolTip("pix2pix keeps its dropout on when it renders (as in the paper): new noise "
                                 "shows what the noise varies")
        self.export = QPushButton("Export…")
        self.noise_label = QLabel()
        self.factors = QGroupBox("Draw a face to start from (faces' factors)")
        self.sliders: dict[str, QSlider] = {}
        form = QFormLayout(self.factors)
        for name in FACTOR_NAMES:
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, SLIDER_STEPS)
            slider.setValue(SLIDER_STEPS // 2)
            slider.valueChanged.connect(self._draw_face)
            self.sliders[name] = slider
            form.addRow(name.replace("_", " "), slider)
        self.strip_factor = QComboBox()
        for name in FACTOR_NAMES:
            self.strip_factor.addItem(name.replace("_", " "), name)
        self.strip = ImageView("Outputs along the factor")
        self.strip.setMinimumHeight(60)
        self.strip.setMaximumHeight(110)
        self.export_gif = QPushButton("Export GIF…")
        self.export_gif.setToolTip("The outputs as the factor goes from one end to the other and back")
        form.addRow("Strip along", self.strip_factor)
        form.addRow(self.strip)
        form.addRow(self.export_gif)
        self._gif_path: Path | None = None

        pads = QSplitter(Qt.Orientation.Horizontal)
        for title, widget in (("<b>Input</b> — draw (left button), erase (right button)", self.pad),
                              ("<b>Output</b>", self.view)):
            box = QWidget()
            layout = QVBoxLayout(box)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(QLabel(title))
            layout.addWidget(widget, 1)
            pads.addWidget(box)
        buttons = QHBoxLayout()
        for w in (self.clear, self.load, self.resample, self.noise_label):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.export)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(pads, 3)
        left_layout.addLayout(buttons)
        left_layout.addWidget(QLabel("<b>Held-out inputs</b> — click one to start from it"))
        left_layout.addWidget(self.held_out, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.factors)
        splitter.setSizes([760, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.pad.drawn.connect(self._render)
        self.clear.clicked.connect(self.pad.clear)
        self.load.clicked.connect(self._load)
        self.resample.clicked.connect(self._resample)
        self.export.clicked.connect(self._export)
        self.held_out.clicked.connect(self._pick_held_out)
        self.strip_factor.currentIndexChanged.connect(self._render_strip)
        self.export_gif.clicked.connect(self._ask_gif)
        self.renderer.ready.connect(self._on_rendered)
        self._show_noise()

    def set_snapshot(self, snapshot: GeneratorSnapshot) -> None:
        """Render from ``snapshot``; the drawing stays when the input shape is the same."""
        first = self.snapshot is None or self._shape(self.snapshot) != self._shape(snapshot)
        self.snapshot = snapshot
        self.renderer.set_snapshot(snapshot)
        self.pad.set_model_shape(snapshot.image_shape[1], snapshot.source_channels)
        sources = snapshot.fixed.get(SOURCE)
        self.held_out.set_images(to_uint8(sources) if sources is not None else np.zeros((0, 1, 1, 1), np.uint8))
        self.has_factors = snapshot.config.data.dataset == "faces" and snapshot.config.data.pair_from is not None
        self.factors.setVisible(self.has_factors)
        if first and sources is not None and len(sources):
            self._pick_held_out(0)
        else:
            self._render()
        self._render_strip()

    @staticmethod
    def _shape(snapshot: GeneratorSnapshot) -> tuple[int, int]:
        return snapshot.image_shape[1], snapshot.source_channels

    # -- inputs -----------------------------------------------------------------------------------

    @Slot(int)
    def _pick_held_out(self, index: int) -> None:
        self.pad.set_array(to_uint8(self.snapshot.fixed[SOURCE][index:index + 1])[0])

    @Slot()
    def _draw_face(self) -> None:
        """A face drawn from the sliders' factors, as the model's input."""
        if self.snapshot is None or not self.has_factors:
            return
        self.pad.set_array(self._face_inputs()[0])
        self._render_strip()

    def _face_inputs(self, along: str | None = None, steps: int = 1) -> np.ndarray:
        """(steps, H, W, C') uint8 inputs of faces with the sliders' factors (no nuisances: centred, plain
        background), turned into inputs by the run's pairing; ``along`` sweeps that factor end to end."""
        factors = {}
        for name, slider in self.sliders.items():
            low, high = FACTOR_RANGES[name]
            value = low + (high - low) * slider.value() / SLIDER_STEPS
            factors[name] = np.linspace(low, high, steps, dtype=np.float32) if name == along else np.full(
                steps, value, np.float32)
        data = self.snapshot.config.data
        if data.pair_from == "edges":
            sources = torch.from_numpy(render_outlines(factors, data.image_size, rng=None))
        else:
            sources = make_sources(torch.from_numpy(render_faces(factors, data.image_size, data.channels, rng=None)),
                                   data.pair_from)
        return sources.permute(0, 2, 3, 1).numpy()

    @Slot()
    def _render_strip(self) -> None:
        if self.snapshot is not None and self.has_factors:
            inputs = self._face_inputs(self.strip_factor.currentData(), STRIP_STEPS)
            self.renderer.request("sketch-strip", inputs, noise_seed=self.noise_seed)

    @Slot()
    def _ask_gif(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export a GIF along the factor",
                                              f"{self.strip_factor.currentData()}.gif", "GIF (*.gif)")
        if path:
            self.export_gif_to(path)

    def export_gif_to(self, path: str | Path) -> None:
        """Render the GIF's frames (latest-wins, off the GUI thread); written when they arrive."""
        self._gif_path = Path(path).with_suffix(".gif")
        inputs = self._face_inputs(self.strip_factor.currentData(), GIF_FRAMES // 2 + 1)
        self.renderer.request("sketch-gif", np.concatenate([inputs, inputs[-2:0:-1]]), noise_seed=self.noise_seed)

    @Slot()
    def _load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load an input image", "",
                                              "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.load_file(path)

    def load_file(self, path: str | Path) -> None:
        from ganstudio.latent.encoding import image_from_file

        size = self.snapshot.image_shape[1] if self.snapshot else self.pad.size
        try:
            self.pad.set_array(image_from_file(path, (self.pad.channels, size, size)))
        except Exception as e:  # noqa: BLE001  a file that is not an image: say so
            self.message.emit(str(e))

    # -- rendering --------------------------------------------------------------------------------

    @Slot()
    def _render(self) -> None:
        if self.snapshot is not None:
            self.renderer.request("sketch", self.pad.array()[None], noise_seed=self.noise_seed)

    @Slot(str, object)
    def _on_rendered(self, channel: str, images: np.ndarray) -> None:
        if channel == "sketch":
            self.output = images[0]
            self.view.set_array(self.output)
            self.output_shown.emit()
        elif channel == "sketch-strip":
            self.strip.set_array(image_grid(images, columns=len(images), padding=1))
        elif channel == "sketch-gif" and self._gif_path is not None:
            save_gif(list(images), self._gif_path, frame_ms=80, scale=max(1, 192 // images.shape[1]))
            self.message.emit(f"Saved {self._gif_path.name}")
            self._gif_path = None

    @Slot()
    def _resample(self) -> None:
        self.noise_seed += 1
        self._show_noise()
        self._render()
        self._render_strip()

    def _show_noise(self) -> None:
        self.noise_label.setText(f"noise {self.noise_seed}")

    @Slot()
    def _export(self) -> None:
        if self.output is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the output (the input is saved beside it)",
                                              "output.png", "PNG (*.png)")
        if path:
            self.export_to(path)

    def export_to(self, path: str | Path) -> tuple[Path, Path]:
        """Write the output to ``path`` and the input beside it (``<name>-input.png``)."""
        path = Path(path).with_suffix(".png")
        source = path.with_name(f"{path.stem}-input.png")
        save_png(self.output, path)
        save_png(self.pad.array(), source)
        self.message.emit(f"Saved {path.name} and {source.name}")
        return path, source
