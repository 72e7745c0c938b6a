"""A long render in the explorer's render thread, latest-wins, and the bar that shows how far it is: every
request is numbered (its generation), the render thread gives up on one between two parts once a newer one
is asked for, and only the newest request's progress shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QProgressBar


class Cancelled(Exception):
    """A newer request came while this one ran."""


class RenderProgress(QObject):
    """GUI thread: ``start`` a request (its generation; the bar reset), ``is_latest`` when its result comes.
    Render thread: ``working(generation)`` around the work, ``check(generation)`` and ``report(generation)``
    between parts (the report reaches the bar through a queued signal)."""

    advanced = Signal(int, int, int)  # generation, parts done, parts in all

    def __init__(self) -> None:
        super().__init__()
        self.latest = 0  # the newest request's generation
        self.running = 0  # the generation the render thread works on (0: none)
        self.cancelled = 0  # requests given up so far
        self.bar = QProgressBar()
        self.bar.hide()
        self.advanced.connect(self._on_advanced)

    def start(self, parts: int, label: str, shown: bool) -> int:
        """A new request of ``parts`` parts: its generation; the bar reads "label %v of %m" if ``shown``."""
        self.latest += 1
        self.bar.setVisible(shown)
        self.bar.setRange(0, parts)
        self.bar.setValue(0)
        self.bar.setFormat(f"{label} %v of %m")
        return self.latest

    def is_latest(self, generation: int) -> bool:
        """Is ``generation`` the newest request? Then it is done with, and the bar hides."""
        if generation != self.latest:
            return False
        self.bar.hide()
        return True

    def busy_with_latest(self) -> bool:
        return self.running != 0 and self.running == self.latest

    @contextmanager
    def working(self, generation: int) -> Iterator[None]:
        """Render thread: around a request's work; counts it as cancelled if ``check`` gave up on it."""
        self.running = generation
        try:
            yield
        except Cancelled:
            self.cancelled += 1
            raise
        finally:
            self.running = 0

    def check(self, generation: int) -> None:
        if generation != self.latest:
            raise Cancelled

    def report(self, generation: int) -> Callable[[int, int], None]:
        return lambda done, total: self.advanced.emit(generation, done, total)

    @Slot(int, int, int)
    def _on_advanced(self, generation: int, done: int, total: int) -> None:
        if generation == self.latest:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
