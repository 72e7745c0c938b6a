"""Cooperative pause / resume / stop, safe to call from any thread (plain ``threading.Event``s).

The training loop checks between steps, so each call takes effect within one step.
"""

from __future__ import annotations

import threading


class TrainingControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._checkpoint = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can end

    def request_checkpoint(self) -> None:
        """Ask for a checkpoint after the current step."""
        self._checkpoint.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def take_checkpoint_request(self) -> bool:
        requested = self._checkpoint.is_set()
        self._checkpoint.clear()
        return requested

    def wait_while_paused(self) -> None:
        self._running.wait()
