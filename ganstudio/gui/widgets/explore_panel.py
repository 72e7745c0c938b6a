"""The latent explorer: a big view of G(z), candidates to pick from, z sliders, direction sliders
with traversal strips, interpolation and exports. It renders from a generator snapshot (live
training or a checkpoint) through the latest-wins RenderService and observes a Qt-free LatentState.
Models that translate, upscale or enhance speech get their own pane instead of the z tools.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.render_service import RenderService
from ganstudio.gui.widgets.candidate_grid import CandidateGrid
from ganstudio.gui.widgets.conditioning_bar import ConditioningBar
from ganstudio.gui.widgets.directions_tab import DirectionsTab
from ganstudio.gui.widgets.effects_pane import EffectsPane
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.gui.widgets.interpolation_pane import InterpolationPane
from ganstudio.gui.widgets.loss_plot import MetricPlots
from ganstudio.gui.widgets.real_image_pane import RealImagePane
from ganstudio.gui.widgets.sketch_panel import SketchPanel
from ganstudio.gui.widgets.speech_pane import SpeechPane
from ganstudio.gui.widgets.superres_pane import SuperResPane
from ganstudio.gui.widgets.z_sliders import ZSliders
from ganstudio.images import mp4_encoder, save_gif, save_mp4, save_png
from ganstudio.latent.directions import Direction, fit_direction
from ganstudio.latent.discover import strip
from ganstudio.latent.explorer import LatentState, code_from_text, code_to_text
from ganstudio.latent.tracking import SEFA_METRICS, describe_lives
from ganstudio.latent.walks import traversal, traversal_strengths
from ganstudio.snapshot import GeneratorSnapshot

CANDIDATES = 16
LIVE = "live"


class ExplorePanel(QWidget):
    """``snapshot_requested`` asks the owner for a live snapshot; ``set_snapshot`` shows one."""

    snapshot_requested = Signal()
    checkpoint_chosen = Signal(str)
    message = Signal(str)

    def __init__(self, tasks: BackgroundTasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.renderer = RenderService(self)
        self.state = LatentState(0)
        self.snapshot: GeneratorSnapshot | None = None
        self.candidate_codes = np.zeros((0, 0), np.float32)
        self.chosen = np.zeros(0, np.float32)
        self.marked: dict[str, list[np.ndarray]] = {"A": [], "B": []}
        self.current_image: np.ndarray | None = None
        self.strips: dict[int, np.ndarray] = {}
        self._shuffles = 0
        self.label_choice = 0  # the class a conditional generator draws
        self._sefa_records: list[dict] = []  # the run's SeFa history, for the lives below its plot
        self._build()
        self._connect()
        self.setAcceptDrops(True)  # an image file dropped on the tab: projected into z, or upscaled (SR)
        self._set_enabled(False)
        self.set_training(False)

    # -- construction -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.source = QComboBox()
        self.source.setMinimumWidth(260)
        self.source.setToolTip("What to render from: the training run's generator, or a saved checkpoint")
        self.snapshot_button = QPushButton("Snapshot now")
        self.snapshot_button.setToolTip("Copy the generator being trained, as it is now")
        self.follow = QCheckBox("follow training every")
        self.follow_seconds = QSpinBox()
        self.follow_seconds.setRange(1, 600)
        self.follow_seconds.setValue(5)
        self.follow_seconds.setSuffix(" s")
        self.source_label = QLabel("No generator yet: start training or open a run.")
        self.source_label.setObjectName("exploreSource")
        self.source_label.setStyleSheet("font-weight: bold")
        self.conditioning = ConditioningBar()
        top = QHBoxLayout()
        for w in (QLabel("Generator:"), self.source, self.snapshot_button, self.follow, self.follow_seconds,
                  self.conditioning):
            top.addWidget(w)
        top.addSpacing(12)
        top.addWidget(self.source_label, 1)

        self.view = ImageView("The generator's image for the current z appears here.")
        self.real_image = RealImagePane(self.tasks)
        self.candidates = CandidateGrid(columns=8)
        self.shuffle = QPushButton("Shuffle")
        self.mark_a, self.mark_b = QPushButton("Mark A"), QPushButton("Mark B")
        self.mark_a.setToolTip("Mark the selected candidate as an example of A (e.g. looks left)")
        self.mark_b.setToolTip("Mark the selected candidate as an example of B (e.g. looks right)")
        self.fit_marks = QPushButton("Fit A → B")
        self.fit_marks.setToolTip("Fit the direction that separates the codes marked A from those marked B")
        self.clear_marks = QPushButton("Clear marks")
        self.export_image = QPushButton("Export image…")
        marks = QHBoxLayout()
        for w in (self.shuffle, self.mark_a, self.mark_b, self.fit_marks, self.clear_marks):
            marks.addWidget(w)
        marks.addStretch(1)
        marks.addWidget(self.export_image)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.view, 3)
        left_layout.addWidget(self.real_image)
        left_layout.addWidget(QLabel("<b>Candidates</b> — click one to explore it"))
        left_layout.addWidget(self.candidates, 1)
        left_layout.addLayout(marks)

        self.sliders = ZSliders()
        self.randomize, self.reset = QPushButton("Randomize"), QPushButton("Reset")
        self.reset.setToolTip("Back to the chosen candidate's code, directions at 0")
        self.copy, self.paste = QPushButton("Copy z"), QPushButton("Paste z")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setPrefix("seed ")
        self.use_seed = QPushButton("Go")
        z_tab = QWidget()
        z_layout = QVBoxLayout(z_tab)
        row = QHBoxLayout()
        for w in (self.randomize, self.reset, self.copy, self.paste, self.seed, self.use_seed):
            row.addWidget(w)
        z_layout.addLayout(row)
        z_layout.addWidget(self.sliders, 1)

        self.directions = DirectionsTab(self.tasks)
        self.interpolation = InterpolationPane()
        self.emergence = MetricPlots(smoothing=0.0)
        self.emergence.setToolTip("SeFa at every sample grid of the run: the share of the strongest directions "
                                  "in the first layer's response, and how much each still turns between grids")
        self.tools = QTabWidget()
        self.tools.addTab(self.directions, "Directions")
        self.tools.addTab(z_tab, "z")
        self.tools.addTab(self.interpolation, "Interpolate")
        self.effects = EffectsPane(self.tasks)
        self.tools.addTab(self.effects, "Effects")
        self.lives = QLabel()
        self.lives.setWordWrap(True)
        self.lives.setStyleSheet("color: gray")
        over_training = QWidget()
        over_layout = QVBoxLayout(over_training)
        over_layout.addWidget(self.emergence, 1)
        over_layout.addWidget(self.lives)
        self.tools.addTab(over_training, "Over training")

        self.latent_body = QSplitter(Qt.Orientation.Horizontal)
        self.latent_body.addWidget(left)
        self.latent_body.addWidget(self.tools)
        self.latent_body.setSizes([620, 520])
        self.sketch = SketchPanel(self.renderer)  # for models that translate an image (pix2pix)
        self.body = QStackedWidget()
        self.body.addWidget(self.latent_body)
        self.body.addWidget(self.sketch)
        self.superres = SuperResPane(self.renderer)  # for models that upscale an image (SRGAN)
        self.body.addWidget(self.superres)
        self.speech = SpeechPane(self.renderer)  # for models that enhance speech (SEGAN)
        self.body.addWidget(self.speech)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.body, 1)
        self._follow_timer = QTimer(self)

    def _connect(self) -> None:
        self.renderer.ready.connect(self._on_rendered)
        self.renderer.failed.connect(self.message)
        self.sketch.message.connect(self.message)
        self.superres.message.connect(self.message)
        self.speech.message.connect(self.message)
        self.source.activated.connect(self._on_source_chosen)
        self.conditioning.label_chosen.connect(self._choose_label)
        self.conditioning.encode_requested.connect(self.project_image)
        self.real_image.projected.connect(self._on_projected)
        self.real_image.message.connect(self.message)
        self.snapshot_button.clicked.connect(self.snapshot_requested)
        self.follow.toggled.connect(self._update_follow)
        self.follow_seconds.valueChanged.connect(self._update_follow)
        self._follow_timer.timeout.connect(self.snapshot_requested)
        self.candidates.clicked.connect(self._on_candidate)
        self.shuffle.clicked.connect(self.shuffle_candidates)
        self.mark_a.clicked.connect(lambda: self._mark("A"))
        self.mark_b.clicked.connect(lambda: self._mark("B"))
        self.fit_marks.clicked.connect(self.fit_from_marks)
        self.clear_marks.clicked.connect(self._clear_marks)
        self.export_image.clicked.connect(self._export_image)
        self.sliders.component_changed.connect(self._set_component)
        self.randomize.clicked.connect(self._randomize)
        self.reset.clicked.connect(self._reset)
        self.copy.clicked.connect(self._copy)
        self.paste.clicked.connect(self._paste)
        self.use_seed.clicked.connect(lambda: self.state.set_base(self._code_from_seed(self.seed.value())))
        self.directions.found.connect(self.describe_directions)
        self.directions.message.connect(self.message)
        self.directions.list.export_strip.connect(self._export_strip)
        self.interpolation.set_a.clicked.connect(lambda: self.interpolation.set_end("a", self.state.current()))
        self.interpolation.set_b.clicked.connect(lambda: self.interpolation.set_end("b", self.state.current()))
        self.interpolation.position_changed.connect(lambda t: self.state.set_base(self.interpolation.code_at(t)))
        self.interpolation.export_requested.connect(self._export_interpolation)
        self.effects.describe_requested.connect(self.describe_directions)
        self.effects.named.connect(lambda names: self.state.set_effects(names))
        self.effects.direction_made.connect(self._on_effect_removed)
        self.effects.message.connect(self.message)

    def _set_enabled(self, enabled: bool) -> None:
        for w in (self.sliders, self.directions, self.interpolation, self.randomize, self.reset, self.copy,
                  self.paste, self.use_seed, self.candidates, self.shuffle, self.mark_a, self.mark_b, self.fit_marks,
                  self.clear_marks, self.export_image):
            w.setEnabled(enabled)

    # -- sources --------------------------------------------------------------------------------------

    def set_training(self, running: bool) -> None:
        """Offer the live generator while a run trains."""
        index = self.source.findData(LIVE)
        if running and index < 0:
            self.source.insertItem(0, "Live training", LIVE)
        elif not running and index >= 0:
            self.source.removeItem(index)
            self.follow.setChecked(False)
        self.snapshot_button.setEnabled(running)
        self.follow.setEnabled(running)
        self._show_source()

    def set_checkpoints(self, checkpoints: list[tuple[int, Path]]) -> None:
        """The opened run's checkpoints, (step, path) in step order."""
        live = self.source.findData(LIVE) >= 0
        self.source.clear()
        if live:
            self.source.addItem("Live training", LIVE)
        for step, path in reversed(checkpoints):
            self.source.addItem(f"checkpoint, step {step:,}", str(path))
        self._show_source()

    def _show_source(self) -> None:
        """Select the source entry of the snapshot on screen (a live one from a run that has ended
        gets its own entry, so the selector never names another generator than the one shown)."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        data = str(snapshot.checkpoint) if snapshot.checkpoint else LIVE
        index = self.source.findData(data)
        if index < 0:
            self.source.insertItem(0, snapshot.source, "")
            index = 0
        self.source.setCurrentIndex(index)

    @Slot(int)
    def _on_source_chosen(self, index: int) -> None:
        data = self.source.itemData(index)
        if data == LIVE:
            self.snapshot_requested.emit()
        elif data:
            self.checkpoint_chosen.emit(data)
            self.tasks.run(lambda: GeneratorSnapshot.from_checkpoint(data), self.set_snapshot, self.message)

    @Slot()
    def _update_follow(self) -> None:
        self._follow_timer.setInterval(self.follow_seconds.value() * 1000)
        self._follow_timer.start() if self.follow.isChecked() else self._follow_timer.stop()

    def set_sefa_history(self, records: list[dict]) -> None:
        """SeFa records of a run (``RunFolder.read_sefa``), shown in the "Over training" tab."""
        self.emergence.set_metrics(SEFA_METRICS)
        self._sefa_records = list(records)
        for record in records:
            self.emergence.add_report(int(record["step"]), record)
        self.lives.setText("\n".join(describe_lives(self._sefa_records)))

    def add_sefa(self, step: int, record: dict) -> None:
        if record:
            self.emergence.add_report(step, record)
            self._sefa_records.append(record)
            self.lives.setText("\n".join(describe_lives(self._sefa_records)))

    @Slot(object)
    def set_snapshot(self, snapshot: GeneratorSnapshot) -> None:
        """Render from ``snapshot`` from now on; the codes and directions stay if the latent size fits.
        A model that translates images gets the sketch pad instead of the z tools; one that upscales
        them, the super-resolution pane; one that enhances speech, the speech pane."""
        if snapshot.translates or snapshot.enhances:
            self.snapshot = snapshot
            self.conditioning.show_for(snapshot)
            self.source_label.setText(f"Rendering from: {snapshot.source}")
            self._show_source()
            pane = self.speech if snapshot.enhances else self.superres if snapshot.scale > 1 else self.sketch
            self.body.setCurrentWidget(pane)
            pane.set_snapshot(snapshot)
            return
        self.body.setCurrentWidget(self.latent_body)
        fresh = self.snapshot is None or snapshot.latent_dim != self.state.latent_dim
        moved_on = self.snapshot is not None and (snapshot.step, snapshot.source) != (self.snapshot.step,
                                                                                      self.snapshot.source)
        if snapshot.label is not None and self.label_choice < len(snapshot.class_names):
            snapshot = snapshot.with_label(self.label_choice)
        self.snapshot = snapshot
        self.conditioning.show_for(snapshot)
        self.renderer.set_snapshot(snapshot)
        self.source_label.setText(f"Rendering from: {snapshot.source}")
        self._show_source()
        self._set_enabled(True)
        if fresh:
            self.state = LatentState(snapshot.latent_dim)
            self.directions.set_state(self.state)
            self.state.subscribe(self._on_state_changed)
            self.sliders.set_dimensions(snapshot.latent_dim)
            self.shuffle_candidates()
            self.chosen = self.candidate_codes[0].copy()
            self.state.set_base(self.chosen)
        else:
            self._render_candidates()
            self._render_current()
            self._render_strips()
        self.directions.set_snapshot(snapshot, moved_on)

    @Slot(int)
    def _choose_label(self, label: int) -> None:
        self.label_choice = label
        if self.snapshot is not None:
            self.set_snapshot(self.snapshot)

    @Slot(str)
    def project_image(self, path: str) -> None:
        """Find the z of an image file (or, for "", a random training image) and explore around it."""
        if self.snapshot is not None and self.snapshot.differentiable and not (self.snapshot.translates
                                                                             or self.snapshot.enhances):
            self._shuffles += 1
            self.real_image.start(self.snapshot, path, self.seed.value() + self._shuffles)

    @Slot(object)
    def _on_projected(self, found) -> None:
        if found.label is not None and found.label != self.label_choice:
            self._choose_label(found.label)
            self.conditioning.show_for(self.snapshot)
        self.chosen = found.z
        self.state.set_base(found.z)

    def open_onnx(self, path: str) -> None:
        """Explore an ONNX generator (``ganstudio export``'s, or one made elsewhere), rendered by onnxruntime."""
        from ganstudio.interop.onnx_generator import open_onnx_generator

        self.message.emit(f"Opening {Path(path).name}…")
        self.tasks.run(lambda: open_onnx_generator(path), self._on_onnx_opened, self.message)

    @Slot(object)
    def _on_onnx_opened(self, snapshot: GeneratorSnapshot) -> None:
        self.set_snapshot(snapshot)
        c, h, w = snapshot.image_shape
        reads = f"z of {snapshot.latent_dim}" if snapshot.latent_dim else ", ".join(snapshot.inputs)
        self.message.emit(f"Opened {snapshot.source}: reads {reads}, draws {c}×{h}×{w}; rendered by onnxruntime "
                          "(no gradients, so real images cannot be projected into it)")

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and self.body.currentWidget() in (self.latent_body, self.superres, self.speech):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files and files[0].lower().endswith(".onnx"):
            self.open_onnx(files[0])
        elif files and self.body.currentWidget() is self.superres:
            self.superres.open_file(files[0])  # upscaled at its own size
        elif files and self.body.currentWidget() is self.speech:
            self.speech.open_file(files[0])  # enhanced, any length
        elif files:
            self.project_image(files[0])

    @Slot(int, float)
    def _set_component(self, index: int, value: float) -> None:
        self.state.set_component(index, value)

    # -- rendering ------------------------------------------------------------------------------------

    def _on_state_changed(self, what: str) -> None:
        if what == "directions":
            self.directions.list.set_directions(self.state.directions)
            self.strips = {}
        if what == "base":
            self.sliders.set_code(self.state.base)
        if what in ("strengths", "directions"):
            self.directions.list.set_strengths(self.state.strengths)
        self._render_current()
        self._render_strips()

    def _renders_z(self) -> bool:
        """Is there a generator that draws from z (not one that translates images)?"""
        return self.snapshot is not None and not self.snapshot.translates and not self.snapshot.enhances

    def _render_current(self) -> None:
        if self._renders_z():
            self.renderer.request("image", self.state.current())

    def _render_strips(self) -> None:
        if not self._renders_z():
            return
        strengths = traversal_strengths(7, 3.0)
        for i, d in enumerate(self.state.directions):
            self.renderer.request(f"strip:{i}", traversal(self.state.without(i), d.step, strengths))

    def _render_candidates(self) -> None:
        if self._renders_z() and len(self.candidate_codes):
            self.renderer.request("candidates", self.candidate_codes)

    @Slot(str, object)
    def _on_rendered(self, channel: str, images: np.ndarray) -> None:
        if channel == "image":
            self.current_image = images[0]
            self.view.set_array(images[0])
        elif channel == "candidates":
            self.candidates.set_images(images)
        elif channel.startswith("strip:"):
            i = int(channel.split(":")[1])
            if i < len(self.directions.list.rows):
                self.strips[i] = images
                self.directions.list.rows[i].strip.set_array(strip(images, padding=1))

    # -- candidates and marks -------------------------------------------------------------------------

    def _code_from_seed(self, seed: int, n: int = 1) -> np.ndarray:
        rng = np.random.default_rng(seed)
        codes = rng.standard_normal((n, self.state.latent_dim)).astype(np.float32)
        return codes[0] if n == 1 else codes

    @Slot()
    def shuffle_candidates(self) -> None:
        self._shuffles += 1
        self.candidate_codes = self._code_from_seed(10_000 + self._shuffles, CANDIDATES)
        self.candidates.marks, self.candidates.selected = {}, None
        self._render_candidates()

    @Slot(int)
    def _on_candidate(self, index: int) -> None:
        self.chosen = self.candidate_codes[index].copy()
        self.state.set_base(self.chosen)

    def _mark(self, which: str) -> None:
        i = self.candidates.selected
        if i is None:
            self.message.emit("Click a candidate first, then mark it A or B.")
            return
        self.candidates.marks[i] = which
        self.marked[which].append(self.candidate_codes[i].copy())
        self.candidates.update()
        self.fit_marks.setText(f"Fit A → B ({len(self.marked['A'])} A, {len(self.marked['B'])} B)")

    @Slot()
    def _clear_marks(self) -> None:
        self.marked = {"A": [], "B": []}
        self.candidates.clear_marks()
        self.fit_marks.setText("Fit A → B")

    @Slot()
    def fit_from_marks(self) -> None:
        a, b = self.marked["A"], self.marked["B"]
        if not a or not b:
            self.message.emit("Mark at least one candidate A and one B (more of each give a better direction).")
            return
        direction = fit_direction(np.stack(a + b), [0.0] * len(a) + [1.0] * len(b), "A → B", method="marked",
                                  source=self.snapshot.source)
        self.directions.add(direction)
        self.tools.setCurrentWidget(self.directions)

    # -- z tools --------------------------------------------------------------------------------------

    @Slot()
    def _randomize(self) -> None:
        self.seed.setValue(self.seed.value() + 1)
        self.state.set_base(self._code_from_seed(self.seed.value()))

    @Slot()
    def _reset(self) -> None:
        self.state.strengths = [0.0] * len(self.state.directions)
        self.state.set_base(self.chosen)
        self.directions.list.set_strengths(self.state.strengths)

    @Slot()
    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(code_to_text(self.state.current()))
        self.message.emit("Copied z to the clipboard.")

    @Slot()
    def _paste(self) -> None:
        try:
            self.state.set_base(code_from_text(QGuiApplication.clipboard().text(), self.state.latent_dim))
        except ValueError as e:
            QMessageBox.warning(self, "ganstudio", f"Cannot paste z: {e}.")

    # -- directions -----------------------------------------------------------------------------------

    @Slot()
    def describe_directions(self) -> None:
        """Measure what every listed direction does and show it in words and as a heatmap."""
        if self.snapshot is not None:
            self.effects.measure(self.snapshot, list(self.state.directions))

    @Slot(object)
    def _on_effect_removed(self, direction: Direction) -> None:
        self.directions.add(direction)
        self.describe_directions()

    def _ask_path(self, title: str, name: str, kinds: str, save: bool = True) -> str:
        ask = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        folder = self.snapshot.checkpoint.parent.parent if self.snapshot and self.snapshot.checkpoint else Path.home()
        path, _ = ask(self, title, str(folder / name), kinds)
        return path

    # -- exports --------------------------------------------------------------------------------------

    @Slot()
    def _export_image(self) -> None:
        if self.current_image is None:
            return
        path = self._ask_path("Export image", "explore.png", "PNG image (*.png)")
        if path:
            save_png(self.current_image, path)
            self.message.emit(f"Saved {path}")

    @Slot(int)
    def _export_strip(self, index: int) -> None:
        if index not in self.strips:
            return
        name = self.state.directions[index].name.replace(" ", "_").replace("/", "_")
        path = self._ask_path("Export traversal strip", f"strip_{name}.png", "PNG image (*.png)")
        if path:
            save_png(strip(self.strips[index]), path)
            self.message.emit(f"Saved {path}")

    @Slot()
    def _export_interpolation(self) -> None:
        kinds = "GIF animation (*.gif)" + (";;MP4 video (*.mp4)" if mp4_encoder() else "")
        path = self._ask_path("Export interpolation", "interpolation.gif", kinds)
        if not path:
            return
        snapshot, codes = self.snapshot, self.interpolation.path(32)

        def write() -> str:
            frames = list(snapshot.render(codes))
            frames += frames[::-1][1:-1]  # there and back
            scale = max(1, 192 // frames[0].shape[0])
            if path.lower().endswith(".mp4"):
                save_mp4(frames, path, fps=16, scale=scale)
            else:
                save_gif(frames, path, frame_ms=60, scale=scale)
            return path

        self.tasks.run(write, self._on_saved, self.message)

    @Slot(object)
    def _on_saved(self, path: str) -> None:
        self.message.emit(f"Saved {path}")

    def shutdown(self) -> None:
        self._follow_timer.stop()
        self.interpolation.play.setChecked(False)
        self.renderer.shutdown()
