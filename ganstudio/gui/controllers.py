"""Thread lifetimes: a worker QObject moved to a QThread, wired so that it ends cleanly.

thread.started -> worker.run; worker.done -> thread.quit (direct); "finished" is announced on
thread.finished. Thread and worker have no parent and belong to Python: the owner holds both until
the thread has finished, waits for it, then drops them. (A deleteLater as well would delete them
twice; a wrapper whose C++ object a deleteLater already deleted raises in closeEvent, which crashes
PySide.)
Pause/stop are plain calls on a TrainingControl (a queued signal would reach a busy worker only
after its loop ends).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from ganstudio.gui.workers import FunctionWorker, TrainingWorker
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import Trainer


def _start_in_thread(worker: QObject) -> QThread:
    thread = QThread()
    thread.setObjectName(type(worker).__name__)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct: QThread.quit is thread-safe, and a queued quit would wait for a GUI thread that may be
    # blocked in thread.wait() (closing the window).
    worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread


class TrainingController(QObject):
    """Starts, pauses, resumes and stops one training run at a time."""

    started = Signal(object)
    step = Signal(object)
    samples = Signal(object)
    checkpoint = Signal(object)
    warning = Signal(object)
    quality = Signal(object)
    ended = Signal(object)
    snapshot = Signal(object)
    status = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None  # a reference keeps the parentless worker alive
        self._control = TrainingControl()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self.running and self._control.paused

    def start(self, make_trainer: Callable[[], Trainer]) -> None:
        """Run ``make_trainer()`` (called in the worker thread: loading data may take a while)."""
        if self.running:
            raise RuntimeError("a training run is already going")
        self._control = TrainingControl()
        worker = TrainingWorker(make_trainer, self._control)
        for name in ("started", "step", "samples", "checkpoint", "warning", "quality", "ended", "snapshot", "status",
                     "failed"):
            getattr(worker, name).connect(getattr(self, name))  # signal -> signal, queued to this thread
        self._worker = worker
        self._thread = _start_in_thread(worker)
        self._thread.finished.connect(self._on_thread_finished)
        self.running_changed.emit(True)

    def pause(self) -> None:
        self._control.pause()

    def resume(self) -> None:
        self._control.resume()

    def stop(self) -> None:
        self._control.stop()

    def request_checkpoint(self) -> None:
        self._control.request_checkpoint()

    def request_snapshot(self) -> None:
        """Ask for a copy of the generator; it arrives as ``snapshot(GeneratorSnapshot)``."""
        if self.running:
            self._control.request_snapshot()

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop and wait for the thread (window closing, test teardown); True if it ended."""
        if self._thread is None:
            return True
        self._control.stop()
        ended = self._thread.wait(timeout_ms)
        if ended:
            self._on_thread_finished()
        return ended

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is None:  # already handled by shutdown()
            return
        self._thread.wait()  # "finished" comes just before the thread really ends
        self._thread = self._worker = None
        self.running_changed.emit(False)


class BackgroundTasks(QObject):
    """Runs short functions (data previews, exports) off the GUI thread; waits for them on close."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._threads: dict[QThread, FunctionWorker] = {}  # references keep parentless workers alive

    def run(self, function: Callable[[], Any], on_result: Callable[[Any], None],
            on_error: Callable[[str], None]) -> None:
        """``on_result``/``on_error`` must be slots of GUI-thread objects."""
        worker = FunctionWorker(function)
        worker.result.connect(on_result)
        worker.failed.connect(on_error)
        thread = _start_in_thread(worker)
        self._threads[thread] = worker
        thread.finished.connect(self._forget_finished)

    @Slot()
    def _forget_finished(self) -> None:
        for thread in [t for t in self._threads if t.isFinished()]:
            thread.wait()
            del self._threads[thread]

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        for thread in list(self._threads):
            thread.wait(timeout_ms)
        self._forget_finished()
