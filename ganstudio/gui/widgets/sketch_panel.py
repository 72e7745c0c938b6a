"""The Explore tab's body for image-to-image models (pix2pix, CycleGAN, DiscoGAN, StarGAN): a sketch pad
whose output follows the pen, the run's held-out inputs to start from, fresh dropout noise (pix2pix) and
export of input and output; beside it, sliders over the faces' factors that draw a fresh input (turn the
head, then sketch on it) with a strip of outputs along one factor, and an interpolation between two inputs
(through the factors when both ends were drawn by the sliders, else a crossfade of the pictures), both
exported as GIF or MP4. Models that also read a target domain get its control above those tools
(``TargetControl``: the direction and cycle of the two-domain families, StarGAN's attribute sliders); every
output is rendered into the control's target, and picking an input lets the control set the target to
suit it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ganstudio.data.base import SOURCE
from ganstudio.data.faces import EXACT_PAIRS, render_faces, render_sources
from ganstudio.data.pairs import make_sources
from ganstudio.errors import UserError
from ganstudio.gui.render_service import RenderService
from ganstudio.gui.widgets.attribute_controls import AttributeControls
from ganstudio.gui.widgets.candidate_grid import CandidateGrid
from ganstudio.gui.widgets.direction_controls import DirectionControls
from ganstudio.gui.widgets.face_factors import FaceFactorsBox
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.gui.widgets.interpolation_pane import InterpolationPane
from ganstudio.gui.widgets.sketch_pad import SketchPad
from ganstudio.gui.widgets.target_control import TargetControl
from ganstudio.images import image_grid, mp4_encoder, save_gif, save_mp4, save_png, to_uint8
from ganstudio.models.noise import NoiseDropout
from ganstudio.snapshot import GeneratorSnapshot

STRIP_STEPS = 7  # outputs in the factor strip
ANIMATION_STEPS = 13  # inputs from one end to the other in an exported animation (played there and back)
Factors = dict[str, np.ndarray]


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
        self.pad_factors: Factors | None = None  # the factors of the face on the pad, until it is drawn upon
        self.ends: dict[str, tuple[np.ndarray, Factors | None]] = {}  # interpolation: "a"/"b" -> (input, factors)
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
        self.has_noise = True  # pix2pix renders with dropout noise; others have none to resample
        # The target domain's controls; the one that serves the snapshot's model shows (None: pix2pix).
        self.controls: list[TargetControl] = [DirectionControls(renderer), AttributeControls(renderer)]
        self.control: TargetControl | None = None
        self.face = FaceFactorsBox()
        self.face.setToolTip("Draw a face to start from: the faces' factors")
        self.interpolation = InterpolationPane(methods=("lerp",), what="inputs")
        self.interpolation.set_a.setText("A ← input")
        self.interpolation.set_b.setText("B ← input")
        self.tools = QTabWidget()
        self.tools.addTab(self.face, "Faces' factors")
        self.tools.addTab(self.interpolation, "Interpolate")
        self._animation_path: Path | None = None

        self.input_title = QLabel("<b>Input</b> — draw (left button), erase (right button)")
        self.output_title = QLabel("<b>Output</b>")
        self.held_out_title = QLabel()
        self.held_out_title.setWordWrap(True)
        pads = QSplitter(Qt.Orientation.Horizontal)
        for title, widget in ((self.input_title, self.pad), (self.output_title, self.view)):
            box = QWidget()
            layout = QVBoxLayout(box)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(title)
            layout.addWidget(widget, 1)
            pads.addWidget(box)
        pads.setSizes([1_000, 1_000])  # input and output the same size, side by side
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
        left_layout.addWidget(self.held_out_title)
        left_layout.addWidget(self.held_out, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        for control in self.controls:
            control.hide()
            right_layout.addWidget(control)
            control.changed.connect(self._on_target_changed)
            control.message.connect(self.message)
        right_layout.addWidget(self.tools, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([700, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.pad.drawn.connect(self._on_drawn)
        self.clear.clicked.connect(self.pad.clear)
        self.load.clicked.connect(self._load)
        self.resample.clicked.connect(self._resample)
        self.export.clicked.connect(self._export)
        self.held_out.clicked.connect(self._pick_held_out)
        self.face.face_changed.connect(self._draw_face)
        self.face.strip_changed.connect(self._render_strip)
        self.face.export_requested.connect(lambda: self._ask_animation("strip", f"{self.face.along}.gif"))
        self.interpolation.set_a.clicked.connect(lambda: self._set_end("a"))
        self.interpolation.set_b.clicked.connect(lambda: self._set_end("b"))
        self.interpolation.position_changed.connect(self._show_between)
        self.interpolation.export_requested.connect(lambda: self._ask_animation("interpolation", "interpolation.gif"))
        self.renderer.ready.connect(self._on_rendered)
        self._show_noise()

    def set_snapshot(self, snapshot: GeneratorSnapshot) -> None:
        """Render from ``snapshot``; the drawing stays when the input shape is the same."""
        control = next((c for c in self.controls if c.serves(snapshot)), None)
        first = (self.snapshot is None or self._shape(self.snapshot) != self._shape(snapshot)
                 or control is not self.control or self.snapshot.domain_names != snapshot.domain_names)
        self.snapshot = snapshot
        self.renderer.set_snapshot(snapshot)
        for c in self.controls:
            c.setVisible(c is control)
        self.control = control
        if control is not None:
            control.set_snapshot(snapshot)
        self.pad.set_model_shape(snapshot.image_shape[1], snapshot.source_channels)
        sources = snapshot.fixed.get(SOURCE)
        self.held_out.set_images(to_uint8(sources) if sources is not None else np.zeros((0, 1, 1, 1), np.uint8))
        about = control.describe_fixed() if control is not None else ""
        self.held_out_title.setText("<b>Held-out inputs</b> — click one to start from it"
                                    + (f": {about}" if about else ""))
        self.has_noise = any(isinstance(m, NoiseDropout) and m.at_inference for m in snapshot.generator.modules())
        self.resample.setVisible(self.has_noise)
        self.noise_label.setVisible(self.has_noise)
        self.has_factors = snapshot.config.data.dataset == "faces"
        self.tools.setTabVisible(self.tools.indexOf(self.face), self.has_factors)
        if first:
            self.ends.clear()
            self.interpolation.clear_ends()
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
        if self.control is not None:
            self.control.start_from(fixed_index=index)  # e.g. a held-out B is translated into A
        self.pad.set_array(to_uint8(self.snapshot.fixed[SOURCE][index:index + 1])[0])

    @Slot()
    def _draw_face(self) -> None:
        """A face drawn from the sliders' factors, as the model's input."""
        if self.snapshot is None or not self.has_factors:
            return
        factors = self.face.factors()
        if self.control is not None:
            self.control.start_from(factors=factors)
        self.pad.set_array(self._face_inputs(factors)[0])
        self.pad_factors = factors
        self._render_strip()

    def _face_inputs(self, factors: Factors) -> np.ndarray:
        """(N, H, W, C') uint8 inputs of the faces with these factors (name -> (N,); no nuisances:
        centred, plain background), turned into inputs by the run's pairing."""
        data = self.snapshot.config.data
        if data.pair_from is None:  # the faces themselves (CycleGAN's domains, StarGAN's attributes)
            sources = torch.from_numpy(render_faces(factors, data.image_size, data.channels, rng=None))
        elif data.pair_from in EXACT_PAIRS:
            sources = torch.from_numpy(render_sources(factors, data.image_size, data.channels, None, data.pair_from))
        else:
            sources = make_sources(torch.from_numpy(render_faces(factors, data.image_size, data.channels, rng=None)),
                                   data.pair_from)
        return sources.permute(0, 2, 3, 1).numpy()

    @Slot()
    def _render_strip(self) -> None:
        if self.snapshot is not None and self.has_factors:
            inputs = self._face_inputs(self.face.factors(self.face.along, STRIP_STEPS))
            self._request("sketch-strip", inputs)

    # -- interpolation between two inputs ---------------------------------------------------------

    def _set_end(self, which: str) -> None:
        """Keep the pad's input (and its factors, if the sliders drew it) as end A or B."""
        image = self.pad.array().copy()
        self.ends[which] = (image, self.pad_factors)
        self.interpolation.set_end(which, image)

    def inputs_between(self, ts: np.ndarray) -> tuple[np.ndarray, Factors | None]:
        """The inputs at positions ``ts`` (T,) from A (0) to B (1): faces with interpolated factors when
        the sliders drew both ends, else a crossfade of the two pictures. Returns ((T, H, W, C') uint8,
        the factors or None)."""
        (a, a_factors), (b, b_factors) = self.ends["a"], self.ends["b"]
        t = np.asarray(ts, np.float32)
        if a_factors is not None and b_factors is not None and self.has_factors:
            factors = {name: a_factors[name][0] + t * (b_factors[name][0] - a_factors[name][0]) for name in a_factors}
            return self._face_inputs(factors), factors
        t = t.reshape(-1, 1, 1, 1)
        return np.rint((1 - t) * a + t * b).astype(np.uint8), None

    @Slot(float)
    def _show_between(self, t: float) -> None:
        inputs, factors = self.inputs_between(np.array([t]))
        self.pad.set_array(inputs[0])
        self.pad_factors = factors

    # -- animations (GIF or MP4) ------------------------------------------------------------------

    def _ask_animation(self, what: str, name: str) -> None:
        kinds = "GIF animation (*.gif)" + (";;MP4 video (*.mp4)" if mp4_encoder() else "")
        path, _ = QFileDialog.getSaveFileName(self, f"Export the {what}", name, kinds)
        if path:
            self.export_animation_to(what, path)

    def export_animation_to(self, what: str, path: str | Path) -> None:
        """Render the outputs along the factor strip (``what="strip"``) or from A to B
        (``"interpolation"``) there and back (latest-wins, off the GUI thread); the file (GIF, or MP4 by
        its suffix) is written when they arrive."""
        ts = np.linspace(0, 1, ANIMATION_STEPS, dtype=np.float32)
        if what == "strip":
            inputs = self._face_inputs(self.face.factors(self.face.along, ANIMATION_STEPS))
        else:
            inputs, _ = self.inputs_between(ts)
        path = Path(path)
        self._animation_path = path if path.suffix.lower() in (".gif", ".mp4") else path.with_suffix(".gif")
        self._request("sketch-animation", np.concatenate([inputs, inputs[-2:0:-1]]))

    def _write_animation(self, frames: np.ndarray) -> None:
        path, self._animation_path = self._animation_path, None
        scale = max(1, 192 // frames.shape[1])
        try:
            if path.suffix.lower() == ".mp4":
                save_mp4(list(frames), path, fps=12, scale=scale)
            else:
                save_gif(list(frames), path, frame_ms=80, scale=scale)
        except (UserError, OSError) as e:
            self.message.emit(f"Could not save {path.name}: {e}")
            return
        self.message.emit(f"Saved {path.name}")

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
            return
        if self.control is not None:
            self.control.start_from(image=self.pad.array())  # StarGAN: the attributes D reads on it

    # -- rendering --------------------------------------------------------------------------------

    @Slot()
    def _on_drawn(self) -> None:
        """The pad changed (a stroke, a load, a pick): the factors no longer describe it."""
        self.pad_factors = None
        self._render()

    @Slot()
    def _on_target_changed(self) -> None:
        self._render()
        self._render_strip()

    def _request(self, channel: str, inputs: np.ndarray) -> None:
        """Render ``inputs`` (N, H, W, C') on ``channel`` with the noise seed and the control's target."""
        if self.control is None:
            self.renderer.request(channel, inputs, noise_seed=self.noise_seed)
        else:
            self.renderer.request(channel, inputs, noise_seed=self.noise_seed, target=self.control.target())

    @Slot()
    def _render(self) -> None:
        if self.snapshot is not None:
            source = self.pad.array()
            self._request("sketch", source[None])
            if self.control is not None:
                about = self.control.describe_target()
                self.output_title.setText("<b>Output</b>" + (f" — {about}" if about else ""))
                self.control.render_extras(source)
            else:
                self.output_title.setText("<b>Output</b>")

    @Slot(str, object)
    def _on_rendered(self, channel: str, images: np.ndarray) -> None:
        if channel == "sketch":
            self.output = images[0]
            self.view.set_array(self.output)
            self.output_shown.emit()
        elif channel == "sketch-strip":
            self.face.strip.set_array(image_grid(images, columns=len(images), padding=1))
        elif channel == "sketch-animation" and self._animation_path is not None:
            self._write_animation(images)

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
