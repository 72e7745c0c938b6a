"""What each direction does, measured off the GUI thread (``latent.probes``) and shown as a heatmap:
directions × probes, each cell the change of the probe per unit of strength in standard deviations
of the probe over random images (red: up, blue: down; coloured only where the change is consistent,
|r| ≥ 0.5 between strength and probe). Entanglement shows as rows with several coloured cells; select one and "Remove this
effect" makes the direction orthogonal to that effect's direction in z."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.latent.directions import Direction
from ganstudio.latent.probes import (
    CLEAR,
    DirectionEffects,
    measure_directions,
    probe_direction,
    probes_for,
    propose_name,
    without_effect,
)
from ganstudio.snapshot import GeneratorSnapshot


def heat(value: float) -> QColor:
    """White at 0, red towards +1, blue towards -1 (saturated beyond)."""
    t = min(abs(value), 1.0)
    fade = round(255 * (1 - t))
    return QColor(255, fade, fade) if value > 0 else QColor(fade, fade, 255)


class EffectsPane(QWidget):
    """``measure(snapshot, directions)`` fills the table and emits ``named({direction: words})``;
    ``describe_requested()`` asks the owner to call it; "Remove this effect" emits ``direction_made``
    with the selected direction made orthogonal to the selected effect."""

    describe_requested = Signal()
    named = Signal(object)
    direction_made = Signal(object)
    message = Signal(str)

    def __init__(self, tasks: BackgroundTasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self._probe_cache: dict[object, tuple] = {}  # (data configuration, image shape) -> (probes, words)
        self._measured_on: tuple[GeneratorSnapshot, list[Direction]] | None = None
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.describe = QPushButton("Measure effects")
        self.describe.setToolTip("Move random codes along every listed direction and measure what changes")
        self.remove = QPushButton("Remove this effect")
        self.remove.setToolTip("Add the selected direction made orthogonal to the selected effect's direction "
                               "in z (InterFaceGAN's conditional editing)")
        self.status = QLabel("Directions name themselves after what they do to the image: measure their effects.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: gray")
        buttons = QHBoxLayout()
        buttons.addWidget(self.describe)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        self.probes: list[str] = []
        self.measured: list[DirectionEffects] = []
        self.describe.clicked.connect(self.describe_requested)
        self.remove.clicked.connect(self._on_remove)
        self.table.itemSelectionChanged.connect(self._update_remove)
        self._update_remove()

    def measure(self, snapshot: GeneratorSnapshot, directions: list[Direction]) -> None:
        """Measure what each direction does (the probes are made once per data set: the attribute model
        may train) and show it."""
        if not directions:
            return
        self.status.setText("Measuring what each direction does…")

        def work():
            probes, words = self._probes(snapshot)
            measured = measure_directions(snapshot, directions, probes)
            return snapshot, directions, measured, {e.direction: propose_name(e, words) for e in measured}

        self.tasks.run(work, self._on_measured, self.message)

    def _probes(self, snapshot: GeneratorSnapshot) -> tuple[dict, dict]:
        key = (snapshot.config.data, snapshot.image_shape)
        if key not in self._probe_cache:
            self._probe_cache[key] = probes_for(snapshot)
        return self._probe_cache[key]

    @Slot(object)
    def _on_measured(self, outcome) -> None:
        snapshot, directions, measured, names = outcome
        self._measured_on = (snapshot, directions)
        self.set_effects(measured)
        self.named.emit(names)

    def set_effects(self, effects: list[DirectionEffects]) -> None:
        self.measured = list(effects)
        self.probes = list(effects[0].r) if effects else []
        self.table.clear()
        self.table.setRowCount(len(effects))
        self.table.setColumnCount(len(self.probes))
        self.table.setHorizontalHeaderLabels(self.probes)
        self.table.setVerticalHeaderLabels([e.direction for e in effects])
        for row, measured in enumerate(effects):
            for column, probe in enumerate(self.probes):
                r, effect = measured.r[probe], measured.effect[probe]
                item = QTableWidgetItem(f"{effect:+.2f}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(heat(effect if abs(r) >= CLEAR else 0.0))
                item.setForeground(QColor("black"))
                item.setToolTip(f"{measured.direction}: {probe} {effect:+.2f} sd per unit of strength, "
                                f"r {r:+.2f}")
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.status.setText("Change of each measure per unit of strength, in standard deviations over random "
                            "images (red: up, blue: down; white where it is not consistent). Select a cell to "
                            "remove that effect from that direction.")
        self._update_remove()

    @Slot()
    def _update_remove(self) -> None:
        self.remove.setEnabled(bool(self.table.selectedItems()))

    @Slot()
    def _on_remove(self) -> None:
        item = self.table.currentItem()
        if item is None or self._measured_on is None:
            return
        snapshot, directions = self._measured_on
        direction, probe = directions[item.row()], self.probes[item.column()]
        self.status.setText(f"Finding the direction of {probe} in z…")

        def work():
            probes, _ = self._probes(snapshot)
            return without_effect(direction, [probe_direction(snapshot, probes[probe], probe)])

        self.tasks.run(work, self.direction_made, self.message)
