"""CycleGAN and DiscoGAN in the explorer: which way to translate, A → B or B → A (the buttons name the
domains, e.g. "serious → smiling"), and the cycle input | translation | back again, the translation
translated with the opposite target (G then F, or F then G)."""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QButtonGroup, QGroupBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ganstudio.data.faces import DOMAINS
from ganstudio.gui.render_service import RenderService
from ganstudio.gui.widgets.image_row import ImageRow
from ganstudio.gui.widgets.target_control import Factors, TargetControl
from ganstudio.models.base import TARGET
from ganstudio.snapshot import GeneratorSnapshot

CYCLE = "cycle"


def cycle_images(source: np.ndarray, target: np.ndarray, snapshot: GeneratorSnapshot) -> tuple[np.ndarray, float]:
    """(1, H, W, C') uint8 source -> ((3, H, W, C) uint8: the source, its translation into ``target`` (1,) and
    that translated back with the opposite target; the target). Runs in the render thread."""
    out = snapshot.translate(source, target=target)
    back = snapshot.translate(out, target=1.0 - target)
    if source.shape[-1] != out.shape[-1]:
        source = np.repeat(source, out.shape[-1], axis=-1)
    return np.concatenate([source, out, back]), float(target[0])


class DirectionControls(TargetControl):
    """Two exclusive buttons, A → B and B → A, and the cycle strip of the current input."""

    channels = (CYCLE,)

    def __init__(self, renderer: RenderService, parent: QWidget | None = None):
        super().__init__(renderer, parent)
        self.names = ("A", "B")
        self.to_b, self.to_a = QPushButton("A → B"), QPushButton("B → A")
        self.group = QButtonGroup(self)
        for button, name in ((self.to_b, "toB"), (self.to_a, "toA")):
            button.setCheckable(True)
            button.setObjectName(name)
            self.group.addButton(button)
        self.to_b.setChecked(True)
        self.cycle = ImageRow(["input", "translation", "back again"], "…")
        self.cycle.setToolTip("The input, its translation, and the translation translated back (the cycle the "
                              "model is trained to close)")
        direction = QGroupBox("Translate")
        row = QHBoxLayout(direction)
        row.addWidget(self.to_b)
        row.addWidget(self.to_a)
        cycle = QGroupBox("Cycle — input | translation | back again")
        QVBoxLayout(cycle).addWidget(self.cycle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(direction)
        layout.addWidget(cycle)
        self._quiet = False
        self.to_b.toggled.connect(self._on_toggled)
        self._show_checked()

    @staticmethod
    def serves(snapshot: GeneratorSnapshot) -> bool:
        return snapshot.takes_target and snapshot.target_size == 1 and len(snapshot.domain_names) != 1

    def set_snapshot(self, snapshot: GeneratorSnapshot) -> None:
        super().set_snapshot(snapshot)
        self.names = tuple(snapshot.domain_names) if len(snapshot.domain_names) == 2 else ("A", "B")
        a, b = self.names
        self.to_b.setText(f"{a} → {b}")
        self.to_a.setText(f"{b} → {a}")
        self.to_b.setToolTip(f"Translate into {b} (A → B)")
        self.to_a.setToolTip(f"Translate into {a} (B → A)")

    @property
    def into_b(self) -> bool:
        return self.to_b.isChecked()

    def set_direction(self, into_b: bool, quiet: bool = False) -> None:
        """Translate into B (else into A); ``quiet``: without emitting ``changed``."""
        self._quiet = quiet
        try:
            (self.to_b if into_b else self.to_a).setChecked(True)
        finally:
            self._quiet = False

    @Slot(bool)
    def _on_toggled(self, _checked: bool) -> None:
        self._show_checked()
        if not self._quiet:
            self.changed.emit()

    def _show_checked(self) -> None:
        """The chosen direction in bold (a checked button alone is easy to miss)."""
        for button in (self.to_b, self.to_a):
            font = button.font()
            font.setBold(button.isChecked())
            button.setFont(font)

    def target(self) -> np.ndarray:
        return np.array([1.0 if self.into_b else 0.0], np.float32)

    def describe_target(self) -> str:
        return f"as {self.names[1] if self.into_b else self.names[0]}"

    def describe_fixed(self) -> str:
        targets = self.snapshot.fixed.get(TARGET) if self.snapshot is not None else None
        if targets is None or not len(targets):
            return ""
        from_a = int((targets[:, 0] > 0.5).sum())  # A's inputs are translated into B
        return f"{from_a} {self.names[0]} (A), then {len(targets) - from_a} {self.names[1]} (B)"

    def start_from(self, fixed_index: int | None = None, factors: Factors | None = None,
                   image: np.ndarray | None = None) -> None:
        """Into the other domain: a held-out input's own target, or the other side of a drawn face's
        domain factor; a loaded image keeps the direction."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        if fixed_index is not None and TARGET in snapshot.fixed:
            self.set_direction(bool(snapshot.fixed[TARGET][fixed_index, 0] > 0.5), quiet=True)
        elif factors is not None and snapshot.config.data.domains in DOMAINS:
            factor = snapshot.config.data.domains
            threshold = DOMAINS[factor][0]
            self.set_direction(bool(float(np.asarray(factors[factor]).reshape(-1)[0]) <= threshold), quiet=True)

    def render_extras(self, source: np.ndarray) -> None:
        self.renderer.submit(CYCLE, partial(cycle_images, np.array(source[None], np.uint8), self.target()))

    def on_rendered(self, channel: str, result: object) -> None:
        images, target = result
        a, b = self.names
        into, back = (b, a) if target > 0.5 else (a, b)
        self.cycle.set_images(images)
        self.cycle.set_captions(["input", f"→ {into}", f"back → {back}"])
