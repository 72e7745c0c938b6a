"""The main window: composes the setup form, sample panel, plots, progress and warnings, and wires
them to a TrainingController. It holds no training logic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ganstudio.audio import spectrogram_images
from ganstudio.config import RunConfig
from ganstudio.data import load_dataset
from ganstudio.data.base import NOISY
from ganstudio.errors import UserError
from ganstudio.events import (
    CheckpointSaved,
    RunEnded,
    RunStarted,
    SamplesReport,
    StatusMessage,
    StepReport,
    TrainingWarning,
)
from ganstudio.gui.controllers import BackgroundTasks, TrainingController
from ganstudio.gui.widgets.explore_panel import ExplorePanel
from ganstudio.gui.widgets.loss_plot import MetricPlots
from ganstudio.gui.widgets.progress_panel import ProgressPanel
from ganstudio.gui.widgets.quality_panel import QualityPanel
from ganstudio.gui.widgets.rollback_dialog import RollbackDialog
from ganstudio.gui.widgets.sample_panel import SamplePanel
from ganstudio.gui.widgets.setup_form import SetupForm
from ganstudio.gui.widgets.speech_samples import held_out_sounds
from ganstudio.gui.widgets.warnings_panel import WarningsPanel
from ganstudio.images import image_grid, read_png, save_gif, save_png
from ganstudio.interop.onnx_generator import onnx_available
from ganstudio.models import family_class
from ganstudio.snapshot import GeneratorSnapshot
from ganstudio.training.engine import Trainer
from ganstudio.training.runs import RESUME, RunFolder

SETTINGS_CONFIG_KEY = "setup/config"


def default_runs_dir() -> Path:
    return Path.home() / "ganstudio-runs"


def branch_label(record: dict) -> str | None:
    """The plot label of a resume record that changed something (a rollback), else None."""
    changes = [f"lr ×{record['lr_scale']:g}"] if record.get("lr_scale", 1) != 1 else []
    changes += ["new noise"] if record.get("seed") is not None else []
    if changes:
        return f" rolled back: {', '.join(changes)}"
    return " rolled back" if "set_aside" in record else None


def preview_grid(data_config) -> np.ndarray:
    """Up to 16 real images of a data set as one 2-row grid; paired data: 8 inputs above their images;
    two domains: 8 of A above 8 of B; speech: the spectrograms of 8 noisy clips above their clean ones
    (runs in a worker thread)."""
    data = load_dataset(data_config)
    images = data.images[:16]
    if data.noisy is not None:
        noisy = spectrogram_images(data.noisy[:8].float() / 32768, data_config.image_size, data_config.channels)
        return image_grid(torch.cat([noisy, images[:8]]).permute(0, 2, 3, 1).numpy(), columns=8, padding=1)
    if data.domains is not None:  # two unpaired domains: A's above B's
        images = torch.cat([data.images[data.domains == 0][:8], data.images[data.domains == 1][:8]])
    if data.sources is not None:
        images = torch.cat([data.sources[:8].expand(-1, images.shape[1], -1, -1), images[:8]])
    return image_grid(images.permute(0, 2, 3, 1).numpy(), columns=8, padding=1)


class MainWindow(QMainWindow):
    def __init__(self, runs_dir: Path | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("ganstudio")
        self.runs_dir = runs_dir or default_runs_dir()
        self.settings = settings or QSettings("ganstudio", "ganstudio")
        self.run_folder: RunFolder | None = None
        self.run_config: RunConfig | None = None

        self.controller = TrainingController(self)
        self.tasks = BackgroundTasks(self)
        self.setup = SetupForm()
        self.samples = SamplePanel()
        self.plots = MetricPlots()
        self.progress = ProgressPanel()
        self.warnings = WarningsPanel()
        self.explore = ExplorePanel(self.tasks)
        self.quality = QualityPanel()

        self._build_layout()
        self._build_actions()
        self._connect()
        self._restore_settings()
        self._update_actions()

    # -- construction -------------------------------------------------------------------------------

    def _build_layout(self) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.samples)
        splitter.addWidget(self.plots)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 560])
        train = QWidget()
        layout = QVBoxLayout(train)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.progress)
        self.tabs = QTabWidget()
        self.tabs.addTab(train, "Train")
        self.tabs.addTab(self.explore, "Explore")
        self.tabs.addTab(self.quality, "Quality")
        self.setCentralWidget(self.tabs)

        scroll = QScrollArea()
        scroll.setWidget(self.setup)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)
        scroll.setMaximumWidth(420)
        setup_dock = QDockWidget("Run setup")
        setup_dock.setObjectName("setupDock")
        setup_dock.setWidget(scroll)
        setup_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, setup_dock)

        warnings_dock = QDockWidget("Messages")
        warnings_dock.setObjectName("warningsDock")
        warnings_dock.setWidget(self.warnings)
        warnings_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, warnings_dock)
        self.resizeDocks([warnings_dock], [110], Qt.Orientation.Vertical)

        self.device_label = QLabel()
        self.run_label = QLabel("no run")
        self.statusBar().addWidget(self.device_label)
        self.statusBar().addPermanentWidget(self.run_label)
        self.resize(1400, 860)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip or text} ({QKeySequence(shortcut).toString()})" if shortcut else tip or text)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.start_action = self._action("Start", self.start_training, "Ctrl+Return", "Start a new run with these settings")
        self.pause_action = self._action("Pause", self.pause_training, "Ctrl+P", "Pause training")
        self.resume_action = self._action("Resume", self.resume_training, "Ctrl+R",
                                          "Resume paused training, or continue the opened run")
        self.best_action = self._action("Resume from best", self.resume_from_best, tip=(
            "Roll back to the checkpoint with the best FID and continue training from there"))
        self.stop_action = self._action("Stop", self.controller.stop, "Ctrl+.", "Stop after this step, saving a checkpoint")
        self.new_action = self._action("New run", self.new_run, QKeySequence.StandardKey.New)
        self.open_action = self._action("Open run…", self.choose_run, QKeySequence.StandardKey.Open)
        self.open_onnx_action = self._action("Open ONNX generator…", self.choose_onnx, tip=(
            "Explore a generator saved as ONNX (by `ganstudio export` or any other tool)" if onnx_available() else
            'Opening ONNX generators needs the onnx extra: pip install "ganstudio[onnx]"'))
        self.open_onnx_action.setEnabled(onnx_available())
        self.save_action = self._action("Save checkpoint", self.controller.request_checkpoint, QKeySequence.StandardKey.Save)
        self.export_action = self._action("Export sample grid…", self.export_grid, "Ctrl+E")
        self.gif_action = self._action("Export GIF of the timeline…", self.export_gif, "Ctrl+G")
        self.quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        for action, name in ((self.start_action, "start"), (self.pause_action, "pause"),
                             (self.resume_action, "resume"), (self.stop_action, "stop")):
            action.setObjectName(f"{name}Action")

        file_menu = self.menuBar().addMenu("&File")
        for action in (self.new_action, self.open_action, self.open_onnx_action, None, self.save_action, self.export_action,
                       self.gif_action, None, self.quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        run_menu = self.menuBar().addMenu("&Run")
        for action in (self.start_action, self.pause_action, self.resume_action, self.best_action, self.stop_action):
            run_menu.addAction(action)

        toolbar = QToolBar("Training")
        toolbar.setObjectName("trainingToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.start_action, self.pause_action, self.resume_action, self.stop_action, None,
                       self.export_action, self.gif_action):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.addToolBar(toolbar)

    def _connect(self) -> None:
        c = self.controller
        c.started.connect(self._on_started)
        c.step.connect(self._on_step)
        c.samples.connect(self._on_samples)
        c.checkpoint.connect(self._on_checkpoint)
        c.warning.connect(self._on_warning)
        c.quality.connect(self.quality.add_report)
        c.ended.connect(self._on_ended)
        c.failed.connect(self._on_failed)
        c.status.connect(self._on_status)
        c.snapshot.connect(self.explore.set_snapshot)
        c.running_changed.connect(self._update_actions)
        c.running_changed.connect(self.explore.set_training)
        self.explore.snapshot_requested.connect(c.request_snapshot)
        self.explore.message.connect(self._show_status)
        self.samples.message.connect(self._show_status)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.plots.step_clicked.connect(self.samples.timeline.seek_to_step)
        self.setup.preview_requested.connect(self._load_preview)
        self.setup.family.currentIndexChanged.connect(self._on_family_chosen)

    # -- settings -----------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        text = self.settings.value(SETTINGS_CONFIG_KEY)
        if text:
            try:
                self.setup.set_config(RunConfig.from_json(str(text)))
            except (UserError, ValueError, TypeError):
                pass  # settings from an older version: keep the defaults
        self.device_label.setText(f"Device: {self.setup.device.currentText()}")
        self._on_family_chosen()

    @Slot()
    def _on_family_chosen(self) -> None:
        """Before any run is shown, the empty grid says what the chosen family's grid will hold."""
        if self.run_folder is not None:
            return
        try:
            config = self.setup.config()
        except UserError:
            config = None
        self.samples.show_family(family_class(self.setup.family.currentData()), config)

    def _save_settings(self) -> None:
        try:
            self.settings.setValue(SETTINGS_CONFIG_KEY, self.setup.config().to_json())
        except UserError:
            pass

    # -- commands -----------------------------------------------------------------------------------

    @Slot()
    def start_training(self) -> None:
        if self.controller.running:
            return
        try:
            config = self.setup.config()
            family_class(config.model.family)
        except UserError as e:
            self._show_error(str(e))
            return
        self._save_settings()
        self._begin(config, None)
        self.progress.show_starting()
        runs_dir = self.runs_dir
        self.controller.start(lambda: Trainer(config, out=runs_dir))

    @Slot()
    def resume_training(self) -> None:
        if self.controller.paused:
            self.controller.resume()
            self._update_actions()
            return
        if self.controller.running or self.run_folder is None:
            return
        path = self.run_folder.path
        self.warnings.add_message(f"Resuming {path.name}…")
        self.controller.start(lambda: Trainer.resume(path))

    @Slot()
    def resume_from_best(self) -> None:
        if self.controller.running or self.run_folder is None:
            return
        best = self.run_folder.best_checkpoint()
        if best is None:
            self._show_error("This run has no checkpoint with a quality evaluation yet (they are taken every "
                             "'Quality every' steps).")
            return
        step, checkpoint, fid = best
        dialog = RollbackDialog(step, fid, self)
        if dialog.exec() != RollbackDialog.DialogCode.Accepted:
            return
        change = dialog.change()
        path = self.run_folder.path
        how = f" with {change.describe()}" if change.describe() else ""
        self.warnings.add_message(f"Rolling back to step {step:,} (FID {fid:.3g}){how} and continuing from there…")
        self.controller.start(lambda: Trainer.resume(path, checkpoint, change=change))

    @Slot()
    def new_run(self) -> None:
        if self.controller.running:
            self._show_error("Stop the current run before starting a new one.")
            return
        self.run_folder, self.run_config = None, None
        self.samples.clear()
        self.plots.set_metrics(())
        self.progress.reset()
        self.warnings.clear()
        self.run_label.setText("no run")
        self._update_actions()

    @Slot()
    def choose_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a run folder", str(self.runs_dir))
        if folder:
            self.open_run(Path(folder))

    @Slot()
    def choose_onnx(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an ONNX generator", str(self.runs_dir),
                                              "ONNX generators (*.onnx)")
        if path:
            self.tabs.setCurrentWidget(self.explore)
            self.explore.open_onnx(path)

    def open_run(self, path: Path) -> bool:
        """Show a run folder (from the GUI or `ganstudio train`): curves, sample history, settings."""
        if self.controller.running:
            self._show_error("Stop the current run before opening another.")
            return False
        try:
            run = RunFolder.open(path)
            config = run.read_config()
            family_class(config.model.family)
        except UserError as e:
            self._show_error(str(e))
            return False
        self._begin(config, run)
        self.setup.set_config(config)
        records, steps_per_epoch = self._show_history(run)
        checkpoints = run.list_checkpoints()
        self.explore.set_checkpoints(checkpoints)
        self.explore.set_sefa_history(run.read_sefa())
        if checkpoints:
            self._explore_checkpoint(checkpoints[-1][1])
        step = checkpoints[-1][0] if checkpoints else 0
        total = config.train.epochs * steps_per_epoch if steps_per_epoch else step
        if config.train.max_steps:
            total = min(total, config.train.max_steps) if total else config.train.max_steps
        self.progress.reset(step, total)
        self.warnings.add_message(
            f"Opened {run.path.name}: {len(records)} reports, {len(checkpoints)} checkpoint(s), last at step "
            f"{step:,}." + (" Press Resume to continue training." if checkpoints else ""))
        self._update_actions()
        return True

    def _show_history(self, run: RunFolder, up_to_step: int | None = None) -> tuple[list[dict], int]:
        """Curves, quality, rollback marks and grids of a run's current history (up to a step);
        returns (records, steps per epoch)."""
        records = [r for r in run.read_metrics() if up_to_step is None or r.get("step", 0) <= up_to_step]
        last = next((r for r in reversed(records) if r.get("epoch")), {})
        steps_per_epoch = round(last["step"] / last["epoch"]) if last else 0
        self.plots.set_metrics(family_class(self.run_config.model.family).metrics, steps_per_epoch)
        marks = [(r["step"], label) for r in records if r.get("event") == RESUME and (label := branch_label(r))]
        for record in records:
            if record.get("event") is None:
                self.plots.add_report(record["step"], record)
        self.quality.set_history(records)
        self._mark_phases(self.run_config)
        for step, label in marks:
            self.plots.mark_event(step, label)
            self.quality.mark_event(step, label)
        self.samples.timeline.set_history([(s, p) for s, p in run.list_samples() if up_to_step is None or s <= up_to_step])
        return records, steps_per_epoch

    @Slot()
    def export_grid(self) -> None:
        image = self.samples.current_image()
        if image is None:
            self._show_error("There is no sample grid to export yet.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export sample grid", str(self._export_dir() / "samples.png"),
                                              "PNG image (*.png)")
        if path:
            save_png(image, path)
            self.statusBar().showMessage(f"Saved {path}", 5000)

    @Slot()
    def export_gif(self) -> None:
        paths = self.samples.timeline.paths
        if not paths:
            self._show_error("There are no sample grids to animate yet.")
            return
        target, _ = QFileDialog.getSaveFileName(self, "Export GIF", str(self._export_dir() / "evolution.gif"),
                                                "GIF animation (*.gif)")
        if not target:
            return
        self.tasks.run(lambda: save_gif([read_png(p) for p in paths], target, scale=2) or target,
                       self._on_exported, self._show_error)

    def _export_dir(self) -> Path:
        return self.run_folder.path if self.run_folder and self.run_folder.path.is_dir() else Path.home()

    # -- controller events --------------------------------------------------------------------------

    def _begin(self, config: RunConfig, run: RunFolder | None) -> None:
        self.run_config, self.run_folder = config, run
        self.samples.clear()
        self.samples.show_family(family_class(config.model.family), config)
        self.plots.set_metrics(family_class(config.model.family).metrics)
        self.quality.clear(speech=family_class(config.model.family).takes(NOISY))
        self._mark_phases(config)
        self.explore.set_sefa_history([])
        self.progress.reset()
        self.run_label.setText(f"Run: {run.path}" if run else "starting a new run…")

    def _mark_phases(self, config: RunConfig) -> None:
        """The family's marks (e.g. where SRGAN's GAN phase begins) on the training and quality plots."""
        for step, label in family_class(config.model.family).plot_marks(config.model.options):
            self.plots.mark_event(step, label)
            self.quality.mark_event(step, label)

    @Slot(object)
    def _on_started(self, event: RunStarted) -> None:
        self.run_folder = RunFolder(event.run_dir)
        self.run_label.setText(f"Run: {event.run_dir}")
        if self.run_config is not None:  # the run's config names the data's domains or attributes by now
            try:
                config = self.run_folder.read_config()
                self.samples.show_family(family_class(config.model.family), config)
            except UserError:
                pass
        self.device_label.setText(f"Device: {event.device}")
        if event.resumed is not None and self.run_config is not None:  # the run's history as the resume left it
            self._show_history(self.run_folder, up_to_step=event.start_step)
        self.plots.set_steps_per_epoch(event.steps_per_epoch)
        self.progress.reset(event.start_step, event.total_steps)
        resumed = f" (resumed with {event.resumed})" if event.resumed else ""
        self.warnings.add_message(f"Training on {event.device}, steps {event.start_step:,} → {event.total_steps:,}"
                                  f"{resumed}.")
        self._update_actions()

    @Slot(object)
    def _on_step(self, event: StepReport) -> None:
        self.plots.add_report(event.step, event.metrics)
        self.progress.update_report(event)

    @Slot(object)
    def _on_samples(self, event: SamplesReport) -> None:
        if event.path is not None:
            self.samples.timeline.add_frame(event.step, event.path)
        if event.sounds:
            self.samples.show_sounds(event.step, event.sounds)
        self.explore.add_sefa(event.step, event.sefa)
        if self.tabs.currentWidget() is self.explore and self.explore.snapshot is None:
            self.controller.request_snapshot()

    @Slot(object)
    def _on_checkpoint(self, event: CheckpointSaved) -> None:
        self.statusBar().showMessage(f"Checkpoint saved at step {event.step:,}: {event.path.name}", 5000)
        if self.run_folder is not None:
            self.explore.set_checkpoints(self.run_folder.list_checkpoints())

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        """Opening the explorer during training shows the generator as it is now."""
        if self.tabs.widget(index) is self.explore and self.explore.snapshot is None:
            self.controller.request_snapshot()

    def _explore_checkpoint(self, path: Path) -> None:
        self.tasks.run(lambda: GeneratorSnapshot.from_checkpoint(path), self._on_checkpoint_loaded, self._show_status)

    @Slot(object)
    def _on_checkpoint_loaded(self, snapshot: GeneratorSnapshot) -> None:
        """An opened run's last checkpoint: in the explorer, and a speech model's held-out clips to listen to
        (the run folder keeps only their spectrograms)."""
        self.explore.set_snapshot(snapshot)
        if snapshot.enhances and not self.samples.has_sounds():
            self.tasks.run(lambda: held_out_sounds(snapshot), self.samples.show_held_out, self._show_status)

    @Slot(str)
    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    @Slot(object)
    def _on_status(self, event: StatusMessage) -> None:
        self.warnings.add_message(event.message)
        self.statusBar().showMessage(event.message, 10_000)

    @Slot(object)
    def _on_warning(self, event: TrainingWarning) -> None:
        self.warnings.add_warning(event)

    @Slot(object)
    def _on_ended(self, event: RunEnded) -> None:
        if self.run_folder is not None:
            self.explore.set_checkpoints(self.run_folder.list_checkpoints())
        self.warnings.add_message(event.message, "error" if event.reason == "diverged" else "info")
        if event.reason == "diverged":
            self._show_error(event.message)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.warnings.add_message(message, "error")
        self._show_error(message)

    @Slot(object)
    def _on_exported(self, path: str) -> None:
        self.statusBar().showMessage(f"Saved {path}", 5000)

    @Slot(object)
    def _load_preview(self, data_config) -> None:
        self.tasks.run(lambda: preview_grid(data_config), self.setup.show_preview, self.setup.show_preview_error)

    @Slot()
    def _update_actions(self) -> None:
        running, paused = self.controller.running, self.controller.paused
        can_continue = not running and self.run_folder is not None and self.run_folder.latest_checkpoint() is not None
        self.start_action.setEnabled(not running)
        self.pause_action.setEnabled(running and not paused)
        self.resume_action.setEnabled(paused or can_continue)
        self.best_action.setEnabled(can_continue)
        self.stop_action.setEnabled(running)
        self.save_action.setEnabled(running)
        self.setup.setEnabled(not running)
        self.open_action.setEnabled(not running)
        self.new_action.setEnabled(not running)

    def pause_training(self) -> None:
        self.controller.pause()
        self._update_actions()

    @Slot(str)
    def _show_error(self, message: str) -> None:
        QMessageBox.critical(self, "ganstudio", message)

    # -- closing ------------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.controller.running:
            answer = QMessageBox.question(self, "ganstudio", "Training is running. Stop it (saving a checkpoint) "
                                          "and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self._save_settings()
        if not self.controller.shutdown(timeout_ms=10_000):
            # Never destroy a running thread (Qt aborts the process): close once training has ended.
            self.statusBar().showMessage("Stopping training… the window closes when it has ended.")
            self.controller.running_changed.connect(self._close_when_stopped)
            event.ignore()
            return
        self.tasks.shutdown()
        self.explore.shutdown()
        event.accept()

    @Slot(bool)
    def _close_when_stopped(self, running: bool) -> None:
        if not running:
            self.close()
