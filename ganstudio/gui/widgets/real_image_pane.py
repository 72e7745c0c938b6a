"""A person's own image in the explorer: projected into the generator's z off the GUI thread (progress,
cancel, latest-wins), then shown beside its reconstruction with the reconstruction error."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ganstudio.gui.controllers import BackgroundTasks
from ganstudio.gui.widgets.image_view import ImageView
from ganstudio.latent.encoding import image_from_file, random_data_image
from ganstudio.latent.projection import Projection, project
from ganstudio.metrics.features import domain_features
from ganstudio.snapshot import GeneratorSnapshot


class Cancelled(Exception):
    """A projection that a newer one (or Cancel) replaced."""


class RealImagePane(QWidget):
    """``projected(Projection)`` when a projection finishes; ``message(str)`` for the status line."""

    projected = Signal(object)
    message = Signal(str)

    def __init__(self, tasks: BackgroundTasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.view = ImageView("your image | its reconstruction")
        self.view.setMinimumHeight(90)
        self.view.setMaximumHeight(140)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setFormat("projecting… %p %")
        self.cancel = QPushButton("Cancel")
        self.close_button = QPushButton("Hide")
        text = QVBoxLayout()
        text.addWidget(QLabel("<b>Your image</b> | its reconstruction G(z)"))
        text.addWidget(self.caption, 1)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel)
        row.addWidget(self.close_button)
        text.addLayout(row)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 2)
        layout.addLayout(text, 3)
        self._job = 0  # the newest projection; older ones cancel themselves
        self._done = [0, 1]  # steps done, total: written by the worker, read by the timer
        self._features: dict[object, object] = {}  # data configuration -> feature net (built once)
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._show_progress)
        self.cancel.clicked.connect(self.cancel_projection)
        self.close_button.clicked.connect(self.hide)
        self._set_running(False)
        self.hide()

    def start(self, snapshot: GeneratorSnapshot, path: str, seed: int) -> None:
        """Project the image file at ``path`` (or, for "", a training image chosen by ``seed``)."""
        self._job += 1
        job, done = self._job, [0, 1]
        self._done = done
        self.show()
        self.view.set_placeholder("loading…")
        self.caption.setText("Finding the z whose image is closest to yours (pixels, the run's domain features "
                             "and a prior that keeps z where training put it).")
        self._set_running(True)

        def check() -> None:
            if job != self._job:
                raise Cancelled

        def report(steps: int, total: int) -> None:
            done[:] = [steps, total]

        def work():
            try:
                image = (image_from_file(path, snapshot.image_shape) if path
                         else random_data_image(snapshot.config.data, seed))
                features = self._feature_net(snapshot, check)
                return job, image, project(snapshot, image, features, check=check, progress=report)
            except Cancelled:
                return job, None, None

        self.tasks.run(work, self._on_finished, self._on_failed)

    def _feature_net(self, snapshot: GeneratorSnapshot, check):
        """The run's domain feature network (trained once per data configuration, then cached on disk)."""
        key = snapshot.config.data
        with self._lock:
            net = self._features.get(key)
        if net is None:
            net = domain_features(snapshot.config.data, check=check).net
            with self._lock:
                self._features[key] = net
        return net

    @Slot()
    def cancel_projection(self) -> None:
        self._job += 1
        self._set_running(False)
        self.caption.setText("Cancelled.")

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel.setVisible(running)
        self.progress.setValue(0)
        self._timer.start() if running else self._timer.stop()

    @Slot()
    def _show_progress(self) -> None:
        steps, total = self._done
        self.progress.setValue(round(100 * steps / max(total, 1)))

    @Slot(object)
    def _on_finished(self, outcome: tuple[int, np.ndarray | None, Projection | None]) -> None:
        job, image, found = outcome
        if job != self._job or found is None:
            return
        self._set_running(False)
        self.view.set_array(np.concatenate([image, found.reconstruction], axis=1))
        self.caption.setText(f"Reconstruction PSNR {found.psnr:.1f} dB ({found.seconds:.1f} s). Its z is now the "
                             "current code: directions, interpolation and exports work on it.")
        self.projected.emit(found)

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        self._set_running(False)
        self.caption.setText("")
        self.message.emit(text)
