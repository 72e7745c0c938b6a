"""What a translation model translates into, beside the sketch panel's input: the base of the controls for
models that read a target domain code as well as the source image (CycleGAN/DiscoGAN's direction,
StarGAN's attributes). The sketch panel owns the input; a control owns the target and its own views
(strips, readouts), which it renders through the shared latest-wins RenderService."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QWidget

from ganstudio.gui.render_service import RenderService
from ganstudio.snapshot import GeneratorSnapshot

Factors = dict[str, np.ndarray]


class TargetControl(QWidget):
    """``changed`` when the target changes (the panel renders its output again). Subclasses say which
    models they serve (``serves``) and implement ``target``, ``start_from`` and ``render_extras``."""

    changed = Signal()
    message = Signal(str)

    def __init__(self, renderer: RenderService, parent: QWidget | None = None):
        super().__init__(parent)
        self.renderer = renderer
        self.snapshot: GeneratorSnapshot | None = None
        renderer.ready.connect(self._on_ready)

    @staticmethod
    def serves(snapshot: GeneratorSnapshot) -> bool:
        raise NotImplementedError

    def set_snapshot(self, snapshot: GeneratorSnapshot) -> None:
        self.snapshot = snapshot

    def target(self) -> np.ndarray:
        """(K,) float32: the code the output is translated into."""
        raise NotImplementedError

    def describe_target(self) -> str:
        """A few words for the output's title ("" for none)."""
        return ""

    def describe_fixed(self) -> str:
        """A few words on the run's held-out inputs ("" for none)."""
        return ""

    def start_from(self, fixed_index: int | None = None, factors: Factors | None = None,
                   image: np.ndarray | None = None) -> None:
        """A new input was picked: held-out input ``fixed_index``, a face drawn from ``factors`` (name ->
        (1,)), or a loaded ``image`` (H, W, C) uint8. Set the target to suit it without emitting ``changed``
        (the panel renders next) unless the answer comes later."""

    def render_extras(self, source: np.ndarray) -> None:
        """Request the control's own views for the input ``source`` (H, W, C) uint8 and the current target."""

    def on_rendered(self, channel: str, result: object) -> None:
        """A result on one of the control's channels (``channels``)."""

    channels: tuple[str, ...] = ()  # the render channels the control requests on (unique to it)

    @Slot(str, object)
    def _on_ready(self, channel: str, result: object) -> None:
        if channel in self.channels and self.snapshot is not None:
            self.on_rendered(channel, result)
