"""The explorer's Directions tab: find directions (SeFa, PCA, named), load and save sets, clear them or
zero their strengths, and the list of direction sliders. SeFa and PCA directions are followed to every
new snapshot (``latent.tracking``), so each keeps its name, place and strength while the model trains."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.widgets.direction_list import DirectionList
from ganstudio.latent.directions import Direction, load_directions, save_directions
from ganstudio.latent.discover import DISCOVERY_METHODS, discover_directions
from ganstudio.latent.explorer import LatentState
from ganstudio.latent.tracking import DirectionTracker
from ganstudio.snapshot import GeneratorSnapshot

METHOD_LABELS = {"sefa": "SeFa", "pca": "PCA (GANSpace)", "supervised": "Named (from the data's labels)"}
TRACKED_PREFIXES = {"sefa": "SeFa", "pca": "PCA"}  # methods whose directions are followed to new snapshots


class DirectionsTab(QWidget):
    """Works on the ``LatentState`` given by ``set_state``; ``found`` after each Find (the owner then
    measures what the directions do); ``message`` for the status line."""

    found = Signal()
    message = Signal(str)

    def __init__(self, tasks: BackgroundTasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.state = LatentState(0)
        self.snapshot: GeneratorSnapshot | None = None
        self.trackers: dict[str, DirectionTracker] = {}
        self._finding: str | None = None  # the discovery method running, if any
        self.method = QComboBox()
        for key in DISCOVERY_METHODS:
            self.method.addItem(METHOD_LABELS[key], key)
            self.method.setItemData(self.method.count() - 1, DISCOVERY_METHODS[key], Qt.ItemDataRole.ToolTipRole)
        self.k = QSpinBox()
        self.k.setRange(1, 50)
        self.k.setValue(8)
        self.k.setPrefix("top ")
        self.find = QPushButton("Find")
        self.keep_found = QCheckBox("Keep previous")
        self.keep_found.setToolTip("Add the directions found to the earlier ones of the same method "
                                   "instead of replacing them")
        self.find_status = QLabel()
        self.find_status.setStyleSheet("color: gray")
        self.load_button, self.save_button = QPushButton("Load…"), QPushButton("Save…")
        self.clear_button, self.zero_button = QPushButton("Clear"), QPushButton("All to 0")
        self.list = DirectionList()
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        for w in (self.method, self.k, self.find, self.keep_found):
            row.addWidget(w)
        layout.addLayout(row)
        layout.addWidget(self.find_status)
        row = QHBoxLayout()
        for w in (self.load_button, self.save_button, self.zero_button, self.clear_button):
            row.addWidget(w)
        layout.addLayout(row)
        layout.addWidget(self.list, 1)
        self.find.clicked.connect(self.find_directions)
        self.load_button.clicked.connect(self._ask_load)
        self.save_button.clicked.connect(self._ask_save)
        self.clear_button.clicked.connect(self._clear)
        self.zero_button.clicked.connect(lambda: self.state.reset_strengths())
        self.list.strength_changed.connect(lambda index, value: self.state.set_strength(index, value))
        self.list.renamed.connect(self._rename)

    def set_state(self, state: LatentState) -> None:
        """A new code space (another latent size): earlier directions and their followers are gone."""
        self.state = state
        self.trackers.clear()
        self.list.set_directions([])

    def set_snapshot(self, snapshot: GeneratorSnapshot, moved_on: bool) -> None:
        """Render from ``snapshot``; when it is another step or checkpoint, follow the listed SeFa/PCA
        directions to it (PCA off the GUI thread)."""
        self.snapshot = snapshot
        if not moved_on:
            return
        for method, tracker in self.trackers.items():
            k = len(tracker.current)
            if method == "sefa":
                self._apply_followed(method, snapshot.step, discover_directions(snapshot, method, k))
            else:
                self.tasks.run(lambda m=method, k=k: (m, snapshot.step, discover_directions(snapshot, m, k,
                                                                                          n_samples=5000)),
                               lambda found: self._apply_followed(*found), self.message)

    def _apply_followed(self, method: str, step: int, found: list[Direction]) -> None:
        if method in self.trackers and self.snapshot is not None and self.snapshot.step == step:
            self.state.replace_method(method, self.trackers[method].update(step, found))

    def setEnabled(self, enabled: bool) -> None:
        super().setEnabled(enabled)
        self.find.setEnabled(enabled and self._finding is None)

    # -- finding ----------------------------------------------------------------------------------------

    @Slot()
    def find_directions(self) -> None:
        method, k, snapshot = self.method.currentData(), self.k.value(), self.snapshot
        self._show_finding(method)
        self.find_status.setText(f"Finding {METHOD_LABELS[method]} directions…")
        self.tasks.run(lambda: discover_directions(snapshot, method, k), self._on_found, self._on_find_failed)

    def _show_finding(self, method: str | None) -> None:
        """The Find button is busy while ``method`` runs, free again for None."""
        self._finding = method
        self.find.setEnabled(method is None)
        self.find.setText("Find" if method is None else "Finding…")

    @Slot(object)
    def _on_found(self, directions: list[Direction]) -> None:
        """Show the new directions in place of the earlier ones of their method (unless kept), scrolled to."""
        method = self._finding
        self._show_finding(None)
        replaced = 0
        keep = self.keep_found.isChecked()
        if not keep:
            kept = [i for i, d in enumerate(self.state.directions) if d.method != method]
            replaced = len(self.state.directions) - len(kept)
            self.state.directions = [self.state.directions[i] for i in kept]
            self.state.strengths = [self.state.strengths[i] for i in kept]
        if method in TRACKED_PREFIXES and not keep:
            self.trackers[method] = DirectionTracker(TRACKED_PREFIXES[method])
            directions = self.trackers[method].update(self.snapshot.step, directions)
        else:
            self.trackers.pop(method, None)  # kept beside earlier ones: not followed
        first = len(self.state.directions)
        self.state.add_directions(directions)  # one "directions" change for the removal and the addition
        if directions:
            self.list.scroll_to(first)
        where = f", below the earlier {first}" if first else ""
        if replaced:
            where = f", in place of the previous {replaced}"
        self.find_status.setText(f"Found {len(directions)} {METHOD_LABELS[method]} directions{where}.")
        self.found.emit()

    @Slot(str)
    def _on_find_failed(self, message: str) -> None:
        self._show_finding(None)
        self.find_status.setText("")
        QMessageBox.critical(self, "ganstudio", message)

    # -- editing the list ---------------------------------------------------------------------------------

    def add(self, direction: Direction) -> None:
        """Add one direction at the end of the list, scrolled to."""
        self.state.add_directions([direction])
        self.list.scroll_to(len(self.state.directions) - 1)

    @Slot(int, str)
    def _rename(self, index: int, name: str) -> None:
        direction = self.state.directions[index]
        if direction.method in self.trackers:
            self.trackers[direction.method].rename(direction.name, name)
        self.state.rename(index, name)

    @Slot()
    def _clear(self) -> None:
        self.trackers.clear()
        self.state.clear_directions()

    # -- files ------------------------------------------------------------------------------------------

    def _ask_path(self, title: str, name: str, save: bool) -> str:
        ask = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        folder = self.snapshot.checkpoint.parent.parent if self.snapshot and self.snapshot.checkpoint else Path.home()
        path, _ = ask(self, title, str(folder / name), "Directions (*.json)")
        return path

    @Slot()
    def _ask_load(self) -> None:
        path = self._ask_path("Load directions", "", save=False)
        if path:
            self.load(path)

    def load(self, path: str | Path) -> bool:
        """Add the directions of a saved set; a bad file is shown, never fatal."""
        try:
            self.state.add_directions(load_directions(path, self.state.latent_dim))
        except Exception as e:  # noqa: BLE001 - shown, never fatal
            QMessageBox.critical(self, "ganstudio", str(e))
            return False
        return True

    @Slot()
    def _ask_save(self) -> None:
        if not self.state.directions:
            self.message.emit("There are no directions to save yet.")
            return
        path = self._ask_path("Save directions", "directions.json", save=True)
        if path:
            save_directions(self.state.directions, path, self.state.latent_dim)
            self.message.emit(f"Saved {len(self.state.directions)} directions to {path}")
