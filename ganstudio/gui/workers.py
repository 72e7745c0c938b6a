"""Objects that live in worker threads and talk to the GUI only through signals of plain data."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from ganstudio.errors import UserError
from ganstudio.training.control import TrainingControl
from ganstudio.training.engine import Trainer, TrainerCallback


def describe_error(error: BaseException) -> str:
    """A person's sentence for a user error; type and message (traceback on stderr) for a bug."""
    if isinstance(error, UserError):
        return str(error)
    traceback.print_exception(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


class _SignalRelay(TrainerCallback):
    """Engine callbacks -> the worker's signals (queued to the GUI thread by Qt)."""

    def __init__(self, worker: TrainingWorker):
        self.worker = worker

    def on_start(self, event):
        self.worker.started.emit(event)

    def on_step(self, event):
        self.worker.step.emit(event)

    def on_samples(self, event):
        self.worker.samples.emit(event)

    def on_checkpoint(self, event):
        self.worker.checkpoint.emit(event)

    def on_warning(self, event):
        self.worker.warning.emit(event)

    def on_quality(self, event):
        self.worker.quality.emit(event)

    def on_end(self, event):
        self.worker.ended.emit(event)

    def on_snapshot(self, snapshot):
        self.worker.snapshot.emit(snapshot)

    def on_status(self, event):
        self.worker.status.emit(event)


class TrainingWorker(QObject):
    """Runs ``make_trainer().run(control)`` in its thread; events arrive as frozen dataclasses."""

    started = Signal(object)  # RunStarted
    step = Signal(object)  # StepReport
    samples = Signal(object)  # SamplesReport
    checkpoint = Signal(object)  # CheckpointSaved
    warning = Signal(object)  # TrainingWarning
    quality = Signal(object)  # QualityReport
    ended = Signal(object)  # RunEnded
    snapshot = Signal(object)  # GeneratorSnapshot (a copy the worker never touches again)
    status = Signal(object)  # StatusMessage
    failed = Signal(str)
    done = Signal()

    def __init__(self, make_trainer: Callable[[], Trainer], control: TrainingControl):
        super().__init__()
        self.make_trainer = make_trainer
        self.control = control

    @Slot()
    def run(self) -> None:
        try:
            self.make_trainer().run(self.control, [_SignalRelay(self)])
        except Exception as e:  # noqa: BLE001 - every error must reach the GUI, not vanish in the thread
            self.failed.emit(describe_error(e))
        finally:
            self.done.emit()


class FunctionWorker(QObject):
    """Runs one function in a worker thread: ``result(value)`` or ``failed(message)``, then ``done``."""

    result = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, function: Callable[[], Any]):
        super().__init__()
        self.function = function

    @Slot()
    def run(self) -> None:
        try:
            self.result.emit(self.function())
        except Exception as e:  # noqa: BLE001
            self.failed.emit(describe_error(e))
        finally:
            self.done.emit()
