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
        self._snapshot = threading.Event()

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

    def request_snapshot(self) -> None:
        """Ask for a copy of the generator (``on_snapshot``) after the current step, or while paused."""
        self._snapshot.set()

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

    def take_snapshot_request(self) -> bool:
        requested = self._snapshot.is_set()
        self._snapshot.clear()
        return requested

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused, at most ``timeout`` seconds; True once running (or stopping)."""
        return self._running.wait(timeout)
