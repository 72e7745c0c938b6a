"""The Explore tab's body for super-resolution models (SRGAN): the upscaled image beside bicubic upscaling in
one view with a wipe to drag and a zoom lens, from the run's held-out patches or any image file at its own
size; the network-interpolation slider α between the MSE phase's generator (0) and the GAN's (1); export of
the result as PNG.

Every input goes through ``upscale`` (tile by tile, any size) in the explorer's render thread, latest-wins:
a newer request (another patch, another α, a new snapshot) cancels the running one between two tiles, and
the tiles done so far show in a progress bar."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from torch import nn

from ganstudio.data.base import IMAGE, SOURCE
from ganstudio.data.folder import read_full_size
from ganstudio.errors import DataError, UserError
from ganstudio.gui.render_service import RenderService
from ganstudio.gui.widgets.candidate_grid import CandidateGrid
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.gui.widgets.render_progress import Cancelled, RenderProgress
from ganstudio.gui.widgets.wipe_view import WipeView
from ganstudio.images import save_png, to_uint8
from ganstudio.models import family_class
from ganstudio.models.srgan import bicubic_upscale
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.upscale import TILE, tiles, upscale

CHANNEL = "superres"
MAX_OUTPUT_PIXELS = 32_000_000  # larger results would need GiBs to hold and show: crop the image first
ALPHA_STEPS = 100  # slider positions from α = 0 to 1


class _Bicubic(nn.Module):
    """Bicubic upscaling as a generator, so ``upscale`` tiles it (bounded memory, the same pixels)."""

    receptive_radius = 2

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bicubic_upscale(x, self.scale)


@dataclass(frozen=True)
class SuperResult:
    """One input (named ``name``) upscaled ×``scale`` both ways: (H·s, W·s, C) uint8 each."""

    generation: int
    name: str
    scale: int
    bicubic: np.ndarray
    sr: np.ndarray
    alpha: float


def super_resolve(image: np.ndarray, name: str, alpha: float, generation: int, progress: RenderProgress,
                  snapshot: GeneratorSnapshot) -> SuperResult | None:
    """(H, W, C) uint8 -> bicubic and SR; runs in the render thread (no Qt object touched but the signal).
    None when a newer request cancelled it."""
    try:
        with progress.working(generation):
            if alpha != 1.0 and snapshot.blend_ends is not None:
                snapshot = snapshot.with_alpha(alpha)
            check = partial(progress.check, generation)
            bicubic = upscale(dataclasses.replace(snapshot, generator=_Bicubic(snapshot.scale)), image, check=check)
            sr = upscale(snapshot, image, progress=progress.report(generation), check=check)
    except Cancelled:
        return None
    return SuperResult(generation, name, snapshot.scale, bicubic, sr, alpha)


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]:,} × {image.shape[0]:,}"


class SuperResPane(QWidget):
    """``set_snapshot(snapshot)`` with a snapshot whose ``scale`` > 1; ``result_shown`` after each result."""

    result_shown = Signal()
    message = Signal(str)

    def __init__(self, renderer: RenderService, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.snapshot: GeneratorSnapshot | None = None
        self.source: np.ndarray | None = None  # the low-resolution input, (h, w, C) uint8
        self.source_name = ""
        self.held_out_index: int | None = None
        self.result: SuperResult | None = None
        self._redo = False  # a newer snapshot came while the input was being upscaled: again once it is done
        self.progress = RenderProgress()
        self._build()
        self.renderer.ready.connect(self._on_rendered)

    def _build(self) -> None:
        self.title = QLabel("Pick a held-out patch, or open an image.")
        self.title.setWordWrap(True)
        self.wipe = WipeView(("bicubic", "SR"), "The upscaled image appears here.")
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Upscale any image file at its own size (large ones tile by tile); or drop "
                                    "an image file on the tab")
        self.lens = QCheckBox("Zoom lens")
        self.lens.setChecked(True)
        self.lens.setToolTip("Show the pixels under the pointer enlarged, bicubic beside SR")
        hint = QLabel("drag the line to compare · point to magnify")
        hint.setStyleSheet("color: gray")
        self.size_label = QLabel()
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("Save the SR result at its full size")
        self.export_button.setEnabled(False)
        buttons = QHBoxLayout()
        for w in (self.open_button, self.lens, hint):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.size_label)
        buttons.addWidget(self.export_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.title)
        left_layout.addWidget(self.wipe, 1)
        left_layout.addWidget(self.progress.bar)
        left_layout.addLayout(buttons)

        self.alpha = QSlider(Qt.Orientation.Horizontal)
        self.alpha.setRange(0, ALPHA_STEPS)
        self.alpha.setValue(ALPHA_STEPS)
        self.alpha.setToolTip("Network interpolation: the generator's weights blended, (1 − α)·MSE phase + α·GAN")
        self.alpha_value = QLabel()
        self.alpha_note = QLabel()
        self.alpha_note.setWordWrap(True)
        self.alpha_note.setStyleSheet("color: gray")
        ends = QHBoxLayout()
        ends.addWidget(QLabel("0: MSE phase"))
        ends.addStretch(1)
        ends.addWidget(self.alpha_value)
        ends.addStretch(1)
        ends.addWidget(QLabel("1: GAN"))
        self.alpha_box = QGroupBox("MSE ↔ GAN (α)")
        alpha_layout = QVBoxLayout(self.alpha_box)
        alpha_layout.addWidget(self.alpha)
        alpha_layout.addLayout(ends)
        alpha_layout.addWidget(self.alpha_note)

        self.input_view = ImageView()
        self.input_title = QLabel("<b>Input</b> (low resolution)")
        self.original_view = ImageView()
        self.original_title = QLabel("<b>Original</b> (held-out, full resolution)")
        pair = QHBoxLayout()
        for title, view in ((self.input_title, self.input_view), (self.original_title, self.original_view)):
            view.setMinimumSize(110, 110)
            view.setMaximumHeight(160)
            column = QVBoxLayout()
            title.setWordWrap(True)
            title.setAlignment(Qt.AlignmentFlag.AlignTop)
            column.addWidget(title)
            column.addWidget(view, 1)
            pair.addLayout(column, 1)
        self.held_out = CandidateGrid(columns=6)
        self.held_out.setToolTip("Low-resolution copies of patches the run kept out of training: click one")
        held_out_title = QLabel("<b>Held-out patches</b> — inputs the run never trained on; click one")
        held_out_title.setWordWrap(True)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.alpha_box)
        right_layout.addLayout(pair)
        right_layout.addWidget(held_out_title)
        right_layout.addWidget(self.held_out, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([800, 340])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.held_out.clicked.connect(self.pick_held_out)
        self.open_button.clicked.connect(self._open)
        self.lens.toggled.connect(self.wipe.set_lens_enabled)
        self.export_button.clicked.connect(self._export)
        self.alpha.valueChanged.connect(self._on_alpha)
        self._show_alpha()

    # -- the snapshot -----------------------------------------------------------------------------

    def set_snapshot(self, snapshot: GeneratorSnapshot) -> None:
        """Upscale with ``snapshot`` from now on; the input stays when the model reads the same images."""
        old = self.snapshot
        same_model = old is not None and (old.scale, old.image_shape) == (snapshot.scale, snapshot.image_shape)
        self.snapshot = snapshot
        self.renderer.set_snapshot(snapshot)
        s = snapshot.scale
        self.wipe.set_captions("bicubic", f"SR ×{s}")
        sources = snapshot.fixed.get(SOURCE)
        self.held_out.set_images(to_uint8(sources) if sources is not None else np.zeros((0, 1, 1, 1), np.uint8))
        self._show_alpha()
        if same_model and self.source is not None:
            if self.progress.busy_with_latest():
                self._redo = True  # let the running upscale finish (a live run sends snapshots every few seconds)
            elif self.held_out_index is not None and sources is not None and self.held_out_index < len(sources):
                self.pick_held_out(self.held_out_index)  # the live snapshot's fixed inputs are the run's
            else:
                self._render()
        elif sources is not None and len(sources):
            self.pick_held_out(0)
        else:
            self.source, self.held_out_index = None, None
            self.wipe.set_placeholder("This run has no held-out patches: open an image to upscale it.")

    def _show_alpha(self) -> None:
        """α is live once the GAN phase has begun (there are two sets of weights to blend)."""
        snapshot = self.snapshot
        blends = snapshot is not None and snapshot.blend_ends is not None
        self.alpha.setEnabled(blends)
        self.alpha_value.setText(f"α = {self._alpha():.2f}" if blends else "α = 1")
        phase = self._mse_steps()
        after = f" (step {phase:,})" if phase is not None else ""
        if blends:
            self.alpha_note.setText(f"Blends the generator's weights: 0 is G as its MSE phase left it{after}, "
                                    "1 the GAN's. Lower α: smoother, higher PSNR; higher: sharper detail.")
        else:
            self.alpha_note.setText(f"Available once the GAN phase has begun{after}: until then G has one set "
                                    "of weights (trained on the pixel MSE), nothing to blend.")

    def _mse_steps(self) -> int | None:
        if self.snapshot is None:
            return None
        try:
            options = family_class(self.snapshot.config.model.family).resolve_options(self.snapshot.config.model.options)
        except UserError:  # words only: leave the step out
            return None
        return int(options["mse_steps"]) if "mse_steps" in options else None

    def _alpha(self) -> float:
        return self.alpha.value() / ALPHA_STEPS

    @Slot(int)
    def _on_alpha(self, value: int) -> None:
        self._show_alpha()
        self._render()

    # -- inputs -----------------------------------------------------------------------------------

    @Slot(int)
    def pick_held_out(self, index: int) -> None:
        """Upscale held-out patch ``index`` (its low-resolution copy); its original shows beside."""
        fixed = self.snapshot.fixed
        self.held_out_index = index
        self.held_out.selected = index
        self.held_out.update()
        self.source = to_uint8(fixed[SOURCE][index:index + 1])[0]
        self.source_name = f"held-out patch {index + 1}"
        original = fixed.get(IMAGE)
        self.original_view.set_array(to_uint8(original[index:index + 1])[0] if original is not None else None)
        self._new_input()

    @Slot()
    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image to upscale", "",
                                              "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        """Upscale an image file at its own size; False (and a message) when it cannot be read or its
        result would be too large."""
        if self.snapshot is None:
            return False
        try:
            image = read_full_size(path, self.snapshot.image_shape[0])
        except DataError as e:
            self.message.emit(f"{str(e)[0].upper()}{str(e)[1:]}.")
            return False
        s = self.snapshot.scale
        if image.shape[0] * image.shape[1] * s * s > MAX_OUTPUT_PIXELS:
            most = int((MAX_OUTPUT_PIXELS / s**2) ** 0.5)
            self.message.emit(f"{Path(path).name} is {_size(image)} px: ×{s} would make {image.shape[1] * s:,} × "
                              f"{image.shape[0] * s:,} px, more than this view holds. Crop it to about "
                              f"{most:,} × {most:,} px or less first.")
            return False
        self.source, self.source_name, self.held_out_index = image, Path(path).name, None
        self.held_out.selected = None
        self.held_out.update()
        self.original_view.set_array(None)
        self._new_input()
        return True

    def _new_input(self) -> None:
        self.input_view.set_array(self.source)
        self.original_title.setVisible(self.held_out_index is not None)
        self.original_view.setVisible(self.held_out_index is not None)
        self._render()

    # -- rendering --------------------------------------------------------------------------------

    def _render(self) -> None:
        if self.snapshot is None or self.source is None:
            return
        self._redo = False
        alpha = self._alpha() if self.snapshot.blend_ends is not None else 1.0
        count = len(tiles(*self.source.shape[:2], TILE))
        generation = self.progress.start(count, f"Upscaling {self.source_name}: tile", shown=count > 1)
        self.renderer.submit(CHANNEL, partial(super_resolve, self.source.copy(), self.source_name, alpha,
                                              generation, self.progress))

    @Slot(str, object)
    def _on_rendered(self, channel: str, result: object) -> None:
        if channel != CHANNEL or result is None:
            return
        self.result = result
        self.wipe.set_images(result.bicubic, result.sr)
        s, (h, w) = result.scale, result.sr.shape[:2]
        blend = f", α = {result.alpha:.2f}" if result.alpha != 1.0 else ""
        self.title.setText(f"<b>Bicubic</b> (left) | <b>SR</b> (right) — {result.name}: {w // s:,} × {h // s:,} → "
                           f"{w:,} × {h:,} px (×{s}{blend})")
        if self.progress.is_latest(result.generation) and self._redo:
            self._render()
        self.size_label.setText(f"SR result: {_size(result.sr)} px")
        self.export_button.setEnabled(True)
        self.result_shown.emit()

    # -- export -----------------------------------------------------------------------------------

    @Slot()
    def _export(self) -> None:
        if self.result is None:
            return
        snapshot, result = self.snapshot, self.result
        folder = snapshot.checkpoint.parent.parent if snapshot is not None and snapshot.checkpoint else Path.home()
        name = f"{Path(result.name).stem.replace(' ', '_')}_sr_x{result.scale}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Export the SR result", str(folder / name), "PNG image (*.png)")
        if path:
            self.export_to(path)

    def export_to(self, path: str | Path) -> Path:
        """Write the SR result (at its full size) as a PNG."""
        path = Path(path).with_suffix(".png")
        save_png(self.result.sr, path)
        self.message.emit(f"Saved {path.name} ({_size(self.result.sr)} px)")
        return path
