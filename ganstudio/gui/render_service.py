"""Latest-wins rendering off the GUI thread (the pattern of stylegan3's AsyncRenderer).

Each ``request(channel, inputs)`` gets a stamp: z codes for a z model, source images (a sketch) for a
translation model, with the target domain code of a model that translates into domains. ``submit(channel,
work)`` runs any other computation on the snapshot the same way (a cycle there and back, the attributes a
model's classifier reads). The render thread keeps only the newest request per channel (a slider drag sends
many; only the last matters) and renders the main view's channel ("image", "sketch") first, so the
main view stays quick while strips and grids catch up. The service drops results older than the
newest one already shown on their channel and emits ``ready(channel, images)``.

The thread renders with one intra-op thread: it must leave the cores to training, and a second
OpenMP team would make libgomp spin less in the training thread's team (measured: -15-30 %).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from ganstudio.gui.workers import describe_error
from ganstudio.snapshot import GeneratorSnapshot

PRIORITY_CHANNELS = ("image", "sketch")  # what the person is looking at: before strips and grids
Work = Callable[[GeneratorSnapshot], object]  # runs in the render thread: numpy and torch only, never Qt


def render_inputs(inputs: np.ndarray, noise_seed: int, target: np.ndarray | None,
                  snapshot: GeneratorSnapshot) -> np.ndarray:
    """The images of ``inputs``: z codes, or source images (translated into ``target`` where the model
    takes one). (N, H, W, C) uint8."""
    if not snapshot.translates:
        return snapshot.render(inputs)
    if target is None:
        return snapshot.translate(inputs, noise_seed)
    return snapshot.translate(inputs, noise_seed, target=target)


class _RenderThread(QThread):
    rendered = Signal(str, int, object)  # channel, stamp, what the work returned
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("explorer-render")
        self._lock = threading.Condition()
        self._pending: dict[str, tuple[int, Work]] = {}
        self._snapshot: GeneratorSnapshot | None = None
        self._stopping = False

    def submit(self, channel: str, stamp: int, work: Work) -> None:
        with self._lock:
            self._pending[channel] = (stamp, work)  # replaces an older request of this channel
            self._lock.notify()

    def set_snapshot(self, snapshot: GeneratorSnapshot | None) -> None:
        with self._lock:
            self._snapshot = snapshot
            self._pending.clear()  # requests made for the previous generator's inputs

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify()

    def run(self) -> None:
        torch.set_num_threads(1)  # this thread only (OpenMP settings are per thread)
        while True:
            with self._lock:
                while not self._pending and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                channel = next((c for c in PRIORITY_CHANNELS if c in self._pending), next(iter(self._pending)))
                stamp, work = self._pending.pop(channel)
                snapshot = self._snapshot
            if snapshot is None:
                continue
            try:
                self.rendered.emit(channel, stamp, work(snapshot))
            except Exception as e:  # noqa: BLE001 - e.g. codes of another latent size mid-switch
                self.failed.emit(describe_error(e))


class RenderService(QObject):
    """``request(channel, inputs)`` -> later ``ready(channel, images)`` with the newest result only."""

    ready = Signal(str, object)  # channel, (N, H, W, C) uint8 (or what a submitted work returned)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._stamp = 0
        self._shown: dict[str, int] = {}
        self.snapshot: GeneratorSnapshot | None = None
        self._thread = _RenderThread()
        self._closed = False  # after shutdown, a late snapshot (e.g. from a background load) starts nothing
        self._thread.rendered.connect(self._on_rendered)
        self._thread.failed.connect(self.failed)

    def set_snapshot(self, snapshot: GeneratorSnapshot | None) -> None:
        """Render from now on with ``snapshot``; the render thread starts with the first one."""
        self.snapshot = snapshot
        self._thread.set_snapshot(snapshot)
        if snapshot is not None and not self._thread.isRunning() and not self._closed:
            self._thread.start()

    def request(self, channel: str, inputs: np.ndarray, noise_seed: int = 0, target: np.ndarray | None = None) -> int:
        """Render on ``channel``: z codes (N, latent_dim), or (N, H, W, C) uint8 source images for a
        translation model (with its dropout noise from ``noise_seed``, translated into ``target``, (K,) or
        (N, K), where the model takes a target domain). Returns the request's stamp."""
        inputs = np.asarray(inputs)
        inputs = inputs.copy() if inputs.dtype == np.uint8 else np.array(inputs, np.float32, ndmin=2)
        if target is not None:
            target = np.array(target, np.float32)
        return self.submit(channel, partial(render_inputs, inputs, noise_seed, target))

    def submit(self, channel: str, work: Work) -> int:
        """Run ``work(snapshot)`` in the render thread, latest-wins on ``channel`` like ``request``; its
        result comes back as ``ready(channel, result)``. ``work`` must own its inputs (copies) and touch no
        Qt object. Returns the request's stamp."""
        self._stamp += 1
        self._thread.submit(channel, self._stamp, work)
        return self._stamp

    @Slot(str, int, object)
    def _on_rendered(self, channel: str, stamp: int, result: object) -> None:
        if stamp > self._shown.get(channel, 0):
            self._shown[channel] = stamp
            self.ready.emit(channel, result)

    def shutdown(self) -> None:
        self._closed = True
        if self._thread.isRunning():
            self._thread.stop()
            self._thread.wait()
